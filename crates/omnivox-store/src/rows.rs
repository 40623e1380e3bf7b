//! Row shapes shared by both backends, and their conversion to domain types.
//! Times are stored as Unix milliseconds.

use chrono::{DateTime, Utc};
use omnivox_core::ingest::{CallFacts, RecordingFacts, RecordingStatus};
use omnivox_core::store::{
    AuditEntry, CallRecordView, ImportProgress, ImportResult, ImportRun, ImportState, ItemOutcome, JobId, JobRow,
    JobState, RecordingView, User, UserId,
};
use omnivox_core::{Role, StoreError};
use sqlx::types::Json;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            username: r.username,
            display_name: r.display_name,
            role: r.role.parse::<Role>().map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: from_ms(r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: r.id,
            at: from_ms(r.at)?,
            user_id: r.user_id.map(UserId),
            username: r.username,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            client_addr: r.client_addr,
            detail: r.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClaimedRow {
    pub id: i64,
    pub kind: String,
    pub payload: Json<serde_json::Value>,
    pub attempts: i64,
    pub max_attempts: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub dedupe_key: Option<String>,
    pub payload: Json<serde_json::Value>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<JobRecord> for JobRow {
    type Error = StoreError;
    fn try_from(r: JobRecord) -> Result<Self, StoreError> {
        Ok(JobRow {
            id: JobId(r.id),
            kind: r.kind,
            state: JobState::parse(&r.state).ok_or_else(|| StoreError::Corrupt(format!("job state {:?}", r.state)))?,
            dedupe_key: r.dedupe_key,
            payload: r.payload.0,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: from_ms(r.run_at)?,
            last_error: r.last_error,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CallIngestRow {
    pub id: i64,
    pub campaign_id: i64,
    pub contact_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub facts: Json<CallFacts>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecordingIngestRow {
    pub id: i64,
    pub status: String,
    pub duration_seconds: Option<i64>,
    pub channels: Option<i64>,
    pub source: Option<String>,
    pub track: Option<String>,
    pub started_at: Option<i64>,
    pub error_code: Option<String>,
    pub sync_status: String,
    pub error: Option<String>,
}

impl RecordingIngestRow {
    pub fn facts(&self) -> Result<RecordingFacts, StoreError> {
        Ok(RecordingFacts {
            status: RecordingStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("recording status {:?}", self.status)))?,
            duration_seconds: self.duration_seconds,
            channels: self.channels,
            source: self.source.clone(),
            track: self.track.clone(),
            started_at: self.started_at.map(from_ms).transpose()?,
            error_code: self.error_code.clone(),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CallViewRow {
    pub id: i64,
    pub call_sid: String,
    pub campaign_code: String,
    pub campaign_name: String,
    pub contact_id: Option<i64>,
    pub contact_phone: Option<String>,
    pub contact_name: Option<String>,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub direction: Option<String>,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub status: Option<String>,
    pub outcome: Option<String>,
    pub answered_by: Option<String>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_seconds: Option<i64>,
    pub legal_hold: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const CALL_VIEW_SELECT: &str = "SELECT c.id, c.call_sid, p.code AS campaign_code, p.name AS campaign_name,
        c.contact_id, k.phone AS contact_phone, k.name AS contact_name, c.agent_id,
        COALESCE(u.display_name, u.username) AS agent_name, c.direction, c.from_number,
        c.to_number, c.status, c.outcome, c.answered_by, c.started_at, c.ended_at, c.duration_seconds,
        c.legal_hold, c.created_at, c.updated_at
    FROM call_records c
    JOIN campaigns p ON p.id = c.campaign_id
    LEFT JOIN contacts k ON k.id = c.contact_id
    LEFT JOIN users u ON u.id = c.agent_id";

impl CallViewRow {
    pub fn into_view(self, recordings: Vec<RecordingView>) -> Result<CallRecordView, StoreError> {
        Ok(CallRecordView {
            id: self.id,
            call_id: self.call_sid,
            campaign_id: self.campaign_code,
            campaign_name: self.campaign_name,
            contact_id: self.contact_id,
            contact_phone: self.contact_phone,
            contact_name: self.contact_name,
            agent_id: self.agent_id.map(UserId),
            agent_name: self.agent_name,
            direction: self.direction,
            from: self.from_number,
            to: self.to_number,
            status: self.status,
            outcome: self.outcome,
            answered_by: self.answered_by,
            started_at: self.started_at.map(from_ms).transpose()?,
            ended_at: self.ended_at.map(from_ms).transpose()?,
            duration_seconds: self.duration_seconds,
            legal_hold: self.legal_hold,
            created_at: from_ms(self.created_at)?,
            updated_at: from_ms(self.updated_at)?,
            recordings,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecordingViewRow {
    pub id: i64,
    pub recording_sid: String,
    pub call_record_id: i64,
    pub status: String,
    pub sync_status: String,
    pub duration_seconds: Option<i64>,
    pub channels: Option<i64>,
    pub source: Option<String>,
    pub track: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub storage_key: Option<String>,
    pub media_type: Option<String>,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub found_by: String,
    pub started_at: Option<i64>,
    pub stored_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const RECORDING_VIEW_SELECT: &str = "SELECT id, recording_sid, call_record_id, status, sync_status,
        duration_seconds, channels, source, track, error_code, error, storage_key, media_type, sha256, size_bytes,
        found_by, started_at, stored_at, created_at, updated_at
    FROM recordings";

impl TryFrom<RecordingViewRow> for RecordingView {
    type Error = StoreError;
    fn try_from(r: RecordingViewRow) -> Result<Self, StoreError> {
        Ok(RecordingView {
            id: r.id,
            recording_sid: r.recording_sid,
            call_record_id: r.call_record_id,
            status: r.status,
            sync_status: r.sync_status,
            duration_seconds: r.duration_seconds,
            channels: r.channels,
            source: r.source,
            track: r.track,
            error_code: r.error_code,
            error: r.error,
            storage_key: r.storage_key,
            media_type: r.media_type,
            sha256: r.sha256,
            size_bytes: r.size_bytes,
            found_by: r.found_by,
            started_at: r.started_at.map(from_ms).transpose()?,
            stored_at: r.stored_at.map(from_ms).transpose()?,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ImportRunRow {
    pub id: i64,
    pub state: String,
    pub date_created_after: Option<i64>,
    pub date_created_before: Option<i64>,
    pub dry_run: bool,
    pub next_page_uri: Option<String>,
    pub pages_read: i64,
    pub seen: i64,
    pub page_items: i64,
    pub total: Option<i64>,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl ImportRunRow {
    /// The run, with the counts of its items by outcome.
    pub(crate) fn into_run(self, counts: &[(String, i64)]) -> Result<ImportRun, StoreError> {
        let count =
            |outcome: ItemOutcome| counts.iter().filter(|(o, _)| o == outcome.as_str()).map(|(_, n)| *n).sum::<i64>();
        let result = ImportResult {
            imported: count(ItemOutcome::Imported),
            skipped: count(ItemOutcome::Skipped),
            errors: count(ItemOutcome::Error),
            total_twilio_recordings: self.total,
        };
        let state = ImportState::parse(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("import state {:?}", self.state)))?;
        Ok(ImportRun {
            id: self.id,
            state,
            date_created_after: self.date_created_after.map(from_ms).transpose()?,
            date_created_before: self.date_created_before.map(from_ms).transpose()?,
            dry_run: self.dry_run,
            progress: ImportProgress {
                pages_read: self.pages_read,
                recordings_seen: self.seen + self.page_items,
                processed: result.imported + result.skipped + result.errors,
            },
            result,
            error: self.error,
            next_page_uri: self.next_page_uri,
            created_by: self.created_by.map(UserId),
            created_at: from_ms(self.created_at)?,
            finished_at: self.finished_at.map(from_ms).transpose()?,
        })
    }
}

pub(crate) fn item_outcome(v: &str) -> Result<ItemOutcome, StoreError> {
    ItemOutcome::parse(v).ok_or_else(|| StoreError::Corrupt(format!("import item outcome {v:?}")))
}
