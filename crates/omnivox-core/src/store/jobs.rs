use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct JobId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a worker until its lease ends.
    Running,
    /// Failed permanently or too often; kept for an admin to read or retry.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "dead" => Some(JobState::Dead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// While a job with the same kind and key is queued or running, an
    /// enqueue with that key adds nothing.
    pub dedupe_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i64,
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// A job as listed for admins.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub state: JobState,
    pub dedupe_key: Option<String>,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The durable queue. Every state change names the worker that holds the
/// lease, so a worker whose lease expired (and whose job someone else took
/// over) can no longer change it.
#[async_trait]
pub trait JobStore {
    /// `None` when deduplicated against a queued or running job.
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Option<JobId>>;
    /// Takes the oldest due job of one of `kinds`, or one whose lease ran
    /// out, for `lease_until`. Kinds this worker cannot run stay queued for
    /// one that can (an older or newer version during a rolling deploy).
    async fn claim_job(
        &self,
        worker: &str,
        kinds: &[&str],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<ClaimedJob>>;
    /// False when the lease was lost.
    async fn extend_lease(&self, id: JobId, worker: &str, lease_until: DateTime<Utc>) -> StoreResult<bool>;
    async fn complete_job(&self, id: JobId, worker: &str) -> StoreResult<bool>;
    async fn retry_job_later(
        &self,
        id: JobId,
        worker: &str,
        run_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
    async fn bury_job(&self, id: JobId, worker: &str, error: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Gives a claimed job back untouched (graceful shutdown).
    async fn release_job(&self, id: JobId, worker: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Puts a dead job back in the queue with a fresh attempt budget.
    async fn requeue_dead_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn list_jobs(&self, state: JobState, limit: i64) -> StoreResult<Vec<JobRow>>;
    async fn get_job(&self, id: JobId) -> StoreResult<Option<JobRow>>;
    /// When the next queued job becomes due, to sleep until then.
    async fn next_job_due(&self, kinds: &[&str]) -> StoreResult<Option<DateTime<Utc>>>;
}
