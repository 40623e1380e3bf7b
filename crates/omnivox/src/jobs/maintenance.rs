//! Housekeeping that runs on a schedule.

use anyhow::Context as _;
use async_trait::async_trait;
use omnivox_jobs::{Job, JobError};
use serde::{Deserialize, Serialize};

use super::{schedule_next_slot, JobContext};

const HOUR_MS: i64 = 60 * 60 * 1000;

/// Deletes expired sessions, hourly. Each run is keyed by its hour, so any
/// number of instances scheduling it produce one run per hour.
#[derive(Debug, Serialize, Deserialize)]
pub struct PurgeExpiredSessions {
    /// Start of the hour this run belongs to, in Unix milliseconds.
    pub slot: i64,
}

impl PurgeExpiredSessions {
    pub async fn schedule_next(ctx: &JobContext) -> anyhow::Result<()> {
        schedule_next_slot(ctx, HOUR_MS, |slot| PurgeExpiredSessions { slot }).await
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
        Self::schedule_next(ctx).await?;
        let purged = ctx.store.delete_expired_sessions(ctx.clock.now()).await.context("deleting expired sessions")?;
        tracing::info!(purged, "expired sessions deleted");
        Ok(())
    }
}
