//! Walking `Recordings.json` page by page. An import checkpoints after each
//! page (every item of it recorded first), so a run resumed after a crash
//! starts again at the page it was on and skips the items it already
//! recorded; the sweep keeps no state and simply walks its window again.

mod item;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use omnivox_core::ingest::{FoundBy, Ingestor, HISTORICAL_CALLS, LIVE_CALLS};
use omnivox_core::store::{ImportRun, ImportState};
use omnivox_core::{Clock, Store, StoreError};
use omnivox_twilio::recordings::MAX_PAGE_SIZE;
use omnivox_twilio::{RecordingFilter, RecordingPage, TwilioClient, TwilioError};
use tokio::sync::Semaphore;

use crate::retry::RetryPolicy;
use item::Mode;

/// Everything a walk uses.
#[derive(Clone)]
pub struct Walker {
    pub store: Arc<dyn Store>,
    pub ingestor: Ingestor,
    pub twilio: TwilioClient,
    pub clock: Arc<dyn Clock>,
    /// Requests to Twilio in flight at once (call details).
    pub concurrency: usize,
    pub retry: RetryPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("reading the recordings list: {0}")]
    Twilio(#[from] TwilioError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("import #{0} does not exist")]
    UnknownRun(i64),
    #[error("the walk was stopped")]
    Closed,
}

impl WalkError {
    /// Another attempt cannot help (bad credentials, a page Twilio refuses).
    pub fn is_permanent(&self) -> bool {
        match self {
            WalkError::Twilio(e) => !e.is_transient(),
            WalkError::Store(_) => false,
            WalkError::UnknownRun(_) => true,
            WalkError::Closed => false,
        }
    }
}

/// What one sweep saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub pages: u64,
    pub seen: u64,
    /// Recordings no webhook had brought: the sync gaps healed.
    pub found: Vec<String>,
    /// Recordings too recent to judge; the next sweep looks again.
    pub deferred: u64,
}

impl Walker {
    async fn fetch_page(&self, uri: &str) -> Result<RecordingPage, WalkError> {
        Ok(self.retry.run(|| self.twilio.recordings_page(uri)).await?)
    }

    /// Runs (or resumes) an import until its last page is checkpointed.
    /// Returns the run as it ended.
    pub async fn run_import(&self, id: i64) -> Result<ImportRun, WalkError> {
        let slots = Semaphore::new(self.concurrency.max(1));
        // The next page, fetched while the current one is worked on.
        let mut prefetched: Option<(String, RecordingPage)> = None;
        loop {
            let run = self.store.import_run(id).await?.ok_or(WalkError::UnknownRun(id))?;
            if run.state != ImportState::Running {
                return Ok(run);
            }
            let Some(uri) = run.next_page_uri.clone() else {
                self.store.checkpoint_import_run(id, None, self.clock.now()).await?;
                continue;
            };
            let page = match prefetched.take() {
                Some((next, page)) if next == uri => page,
                _ => self.fetch_page(&uri).await?,
            };
            let listed = i64::try_from(page.recordings.len()).unwrap_or(i64::MAX);
            self.store.import_page_fetched(id, listed, self.clock.now()).await?;
            let mode = if run.dry_run {
                Mode::DryRun
            } else {
                Mode::Ingest { found_by: FoundBy::Import, campaign: HISTORICAL_CALLS }
            };
            let page_number = run.progress.pages_read + 1;
            let next = page.next_page_uri.clone();
            let prefetch = async {
                match &next {
                    Some(next) => Some(self.fetch_page(next).await),
                    None => None,
                }
            };
            let (worked, next_page) =
                tokio::join!(self.import_page(&run, page_number, &page.recordings, mode, &slots), prefetch);
            worked?;
            // A failed prefetch is no error: the page is simply fetched again.
            if let (Some(next), Some(Ok(next_page))) = (next, next_page) {
                prefetched = Some((next, next_page));
            }
            self.store.checkpoint_import_run(id, page.next_page_uri.as_deref(), self.clock.now()).await?;
            tracing::debug!(import_id = id, page = page_number, listed, "import page done");
        }
    }

    /// Lists the recordings created in the last `window` and ingests those
    /// Omnivox lacks. Recordings updated less than `grace` ago are left for
    /// the next sweep: their webhook may still be on its way.
    pub async fn sweep(&self, window: chrono::Duration, grace: chrono::Duration) -> Result<SweepReport, WalkError> {
        let now = self.clock.now();
        let filter = RecordingFilter {
            created_on_or_after: Some((now - window).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            created_on_or_before: None,
        };
        let mut next = Some(self.twilio.recordings_first_page(&filter, MAX_PAGE_SIZE));
        let mut report = SweepReport::default();
        let slots = Semaphore::new(self.concurrency.max(1));
        let settled_before: DateTime<Utc> = now - grace;
        while let Some(uri) = next {
            let page = self.fetch_page(&uri).await?;
            report.pages += 1;
            report.seen += page.recordings.len() as u64;
            let (found, deferred) =
                self.sweep_page(&page.recordings, settled_before, FoundBy::Sweep, LIVE_CALLS, &slots).await?;
            report.found.extend(found);
            report.deferred += deferred;
            next = page.next_page_uri;
        }
        Ok(report)
    }
}
