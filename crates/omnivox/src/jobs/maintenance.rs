//! Housekeeping that runs on a schedule.

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use omnivox_jobs::{Job, JobError, JobQueue};
use serde::{Deserialize, Serialize};

use super::JobContext;

const HOUR_MS: i64 = 60 * 60 * 1000;

/// Deletes expired sessions, hourly. Each run is keyed by its hour, so any
/// number of instances scheduling it produce one run per hour.
#[derive(Debug, Serialize, Deserialize)]
pub struct PurgeExpiredSessions {
    /// Start of the hour this run belongs to, in Unix milliseconds.
    pub slot: i64,
}

impl PurgeExpiredSessions {
    pub async fn schedule_next(jobs: &JobQueue, now: DateTime<Utc>) -> anyhow::Result<()> {
        let slot = (now.timestamp_millis() / HOUR_MS + 1) * HOUR_MS;
        let run_at = DateTime::from_timestamp_millis(slot).context("slot out of range")?;
        jobs.enqueue_at(&PurgeExpiredSessions { slot }, run_at).await?;
        Ok(())
    }
}

#[async_trait]
impl Job for PurgeExpiredSessions {
    const KIND: &'static str = "purge-expired-sessions";
    const MAX_ATTEMPTS: i64 = 3;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        let now = ctx.clock.now();
        let purged = ctx.store.delete_expired_sessions(now).await.context("deleting expired sessions")?;
        tracing::info!(purged, "expired sessions deleted");
        Self::schedule_next(&ctx.jobs, now).await?;
        Ok(())
    }
}
