//! Historical imports of a Twilio account's recordings: one `ImportRun` per
//! request, walked page by page by the `import-twilio-recordings` job, with
//! one `ImportItem` per recording Twilio listed (imported, skipped or an
//! error, with the reason). The counts are those of the items, so a run
//! resumed after a crash ends with the same totals.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{StoreResult, UserId};
use crate::domain::date_range::DateRange;
use crate::ingest::FoundBy;

/// The job kind that walks a run; the store enqueues it with the run.
pub const IMPORT_JOB_KIND: &str = "import-twilio-recordings";
/// Attempts of the import job before the run is marked failed; each
/// attempt resumes from the last checkpoint.
pub const IMPORT_JOB_MAX_ATTEMPTS: i64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImportState {
    Running,
    Completed,
    Failed,
}

impl ImportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Completed => "completed",
            ImportState::Failed => "failed",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "running" => Some(Self::Running),
            "completed" => Some(Self::Completed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ItemOutcome {
    Imported,
    Skipped,
    Error,
}

impl ItemOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemOutcome::Imported => "imported",
            ItemOutcome::Skipped => "skipped",
            ItemOutcome::Error => "error",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "imported" => Some(Self::Imported),
            "skipped" => Some(Self::Skipped),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewImportRun {
    pub range: DateRange,
    pub dry_run: bool,
    /// Where the walk starts: the first `Recordings.json` page, as a path.
    pub first_page_uri: String,
    pub created_by: Option<UserId>,
}

/// How far a run got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    pub pages_read: i64,
    /// Recordings listed on the pages read so far, including the one in hand.
    pub recordings_seen: i64,
    pub processed: i64,
}

/// What a run did: the counts of its items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub imported: i64,
    pub skipped: i64,
    pub errors: i64,
    /// Recordings Twilio listed in the range; known once the last page is read.
    pub total_twilio_recordings: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRun {
    pub id: i64,
    pub state: ImportState,
    pub date_created_after: Option<DateTime<Utc>>,
    pub date_created_before: Option<DateTime<Utc>>,
    pub dry_run: bool,
    pub progress: ImportProgress,
    pub result: ImportResult,
    /// Why the run failed.
    pub error: Option<String>,
    #[serde(skip)]
    pub next_page_uri: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportRun {
    pub fn range(&self) -> DateRange {
        DateRange { after: self.date_created_after, before: self.date_created_before }
    }
}

/// One recording's fate in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportItem {
    pub recording_sid: String,
    pub outcome: ItemOutcome,
    pub reason: Option<String>,
}

/// An item as listed, with its position for paging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportItemRow {
    pub id: i64,
    #[serde(flatten)]
    pub item: ImportItem,
}

/// How many items share an outcome and reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReasonCount {
    pub outcome: ItemOutcome,
    pub reason: Option<String>,
    pub count: i64,
}

/// A recording the reconciliation sweep found because its webhook never came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SyncGap {
    pub recording_id: i64,
    pub recording_sid: String,
    pub call_record_id: i64,
    pub found_at: DateTime<Utc>,
}

#[async_trait]
pub trait ImportStore {
    /// Creates a running run and its job in one transaction, unless a
    /// running run's range overlaps: then nothing is written and that run
    /// is returned as the error. Instances creating runs at once are
    /// serialized, so two overlapping runs can never both start.
    async fn start_import_run(
        &self,
        run: &NewImportRun,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<ImportRun, ImportRun>>;
    async fn import_run(&self, id: i64) -> StoreResult<Option<ImportRun>>;
    /// Newest first.
    async fn list_import_runs(&self, limit: i64) -> StoreResult<Vec<ImportRun>>;
    /// A page was fetched: it lists `items` recordings.
    async fn import_page_fetched(&self, id: i64, items: i64, now: DateTime<Utc>) -> StoreResult<()>;
    /// Every item of the page is recorded: move on to `next_page_uri`, or
    /// complete the run when there is none.
    async fn checkpoint_import_run(&self, id: i64, next_page_uri: Option<&str>, now: DateTime<Utc>) -> StoreResult<()>;
    async fn fail_import_run(&self, id: i64, reason: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records items; one already recorded for the run is kept as it was.
    async fn record_import_items(&self, id: i64, items: &[ImportItem]) -> StoreResult<()>;
    /// Which of `sids` the run has already recorded.
    async fn recorded_import_items(&self, id: i64, sids: &[String]) -> StoreResult<HashSet<String>>;
    /// Which of `sids` any run recorded as imported.
    async fn imported_by_any_run(&self, sids: &[String]) -> StoreResult<HashSet<String>>;
    /// Items in recording order of the run, after the `after` id.
    async fn list_import_items(
        &self,
        id: i64,
        outcome: Option<ItemOutcome>,
        after: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ImportItemRow>>;
    /// The run's items grouped by outcome and reason.
    async fn import_reasons(&self, id: i64) -> StoreResult<Vec<ReasonCount>>;
    /// Which of `sids` Omnivox has, and how each was found.
    async fn known_recordings(&self, sids: &[String]) -> StoreResult<HashMap<String, FoundBy>>;
    /// Which of these CallSids have a call record.
    async fn known_calls(&self, sids: &[String]) -> StoreResult<HashSet<String>>;
    /// Recordings found by the sweep, newest first, and how many there are.
    async fn sync_gaps(&self, limit: i64) -> StoreResult<(i64, Vec<SyncGap>)>;
}
