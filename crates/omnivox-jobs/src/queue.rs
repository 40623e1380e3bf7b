use std::sync::Arc;

use async_trait::async_trait;
use omnivox_core::store::{JobId, JobStore, NewJob, StoreResult};
use omnivox_core::Clock;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;

/// How a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (network, 5xx, 429, …).
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Will never succeed (404, invalid input): straight to the dead letter.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::Retry(e)
    }
}

/// A database error is worth another attempt.
impl From<omnivox_core::StoreError> for JobError {
    fn from(e: omnivox_core::StoreError) -> Self {
        JobError::Retry(e.into())
    }
}

/// A kind of background work. The value itself is the payload.
#[async_trait]
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with each job; never rename a kind in use.
    const KIND: &'static str;
    /// Attempts before the job goes to the dead letter.
    const MAX_ATTEMPTS: i64 = 8;
    /// What the job needs to run (clients, storage, the store, …).
    type Context: Send + Sync + 'static;

    /// Enqueues with the same key, while one is queued or running, are dropped.
    fn dedupe_key(&self) -> Option<String> {
        None
    }

    async fn run(self, ctx: &Self::Context) -> Result<(), JobError>;

    /// Called once when the job goes to the dead letter (a permanent error
    /// or its attempts spent), so the kind can show why where users look.
    /// An error here is logged; the job stays dead either way.
    async fn on_dead(self, _ctx: &Self::Context, _reason: &str) -> anyhow::Result<()> {
        Ok(())
    }
}

/// A job as a row to insert, for callers that enqueue inside their own
/// transaction.
pub fn new_job<J: Job>(job: &J, run_at: chrono::DateTime<chrono::Utc>) -> serde_json::Result<NewJob> {
    Ok(NewJob {
        kind: J::KIND.to_owned(),
        payload: serde_json::to_value(job)?,
        dedupe_key: job.dedupe_key(),
        run_at,
        max_attempts: J::MAX_ATTEMPTS,
    })
}

/// The handle used to enqueue jobs. Cheap to clone.
#[derive(Clone)]
pub struct JobQueue {
    store: Arc<dyn JobStore + Send + Sync>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl JobQueue {
    pub fn new(store: Arc<dyn JobStore + Send + Sync>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, wake: Arc::new(Notify::new()) }
    }

    /// Enqueues `job` to run now. `None` when it was deduplicated.
    pub async fn enqueue<J: Job>(&self, job: &J) -> StoreResult<Option<JobId>> {
        self.enqueue_at(job, self.clock.now()).await
    }

    pub async fn enqueue_at<J: Job>(
        &self,
        job: &J,
        run_at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<JobId>> {
        let new = new_job(job, run_at).map_err(|e| omnivox_core::StoreError::Corrupt(format!("job payload: {e}")))?;
        let id = self.store.enqueue_job(&new, self.clock.now()).await?;
        if id.is_some() {
            self.notify();
        }
        Ok(id)
    }

    /// Wakes one idle worker of this instance (after jobs were enqueued by
    /// other means, such as inside an ingest transaction), or the next to
    /// go idle if none is. One, not all: under a burst of callbacks each
    /// would otherwise send every worker to claim, and all but one would
    /// find nothing. A worker that claims a job wakes the next one
    /// (`Worker::run_one`), so a burst of jobs still spreads over them all.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    pub(crate) fn store(&self) -> &Arc<dyn JobStore + Send + Sync> {
        &self.store
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn wake(&self) -> &Arc<Notify> {
        &self.wake
    }
}
