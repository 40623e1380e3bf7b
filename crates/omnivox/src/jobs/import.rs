//! `import-twilio-recordings` walks one import run (see `omnivox-import`);
//! `sweep-recordings` runs the reconciliation sweep every interval.

use anyhow::anyhow;
use async_trait::async_trait;
use omnivox_core::store::{IMPORT_JOB_KIND, IMPORT_JOB_MAX_ATTEMPTS};
use omnivox_import::Walker;
use omnivox_jobs::{Job, JobError};
use serde::{Deserialize, Serialize};

use super::{schedule_next_slot, JobContext};

/// How the reconciliation sweep runs.
#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Zero turns the sweep off.
    pub interval: std::time::Duration,
    pub window: chrono::Duration,
    pub grace: chrono::Duration,
}

fn walker(ctx: &JobContext) -> Result<&Walker, JobError> {
    ctx.walker.as_ref().ok_or_else(|| {
        JobError::Permanent(anyhow!("Twilio is not configured (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"))
    })
}

fn job_error(e: omnivox_import::WalkError) -> JobError {
    if e.is_permanent() {
        JobError::Permanent(anyhow!(e))
    } else {
        JobError::Retry(anyhow!(e))
    }
}

/// Runs (or, after a crash, resumes) one import run. Enqueued by the store
/// together with the run; see `ImportStore::start_import_run`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportTwilioRecordings {
    pub import_id: i64,
}

#[async_trait]
impl Job for ImportTwilioRecordings {
    const KIND: &'static str = IMPORT_JOB_KIND;
    const MAX_ATTEMPTS: i64 = IMPORT_JOB_MAX_ATTEMPTS;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.import_id.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        let run = walker(ctx)?.run_import(self.import_id).await.map_err(job_error)?;
        tracing::info!(
            import_id = run.id,
            state = run.state.as_str(),
            imported = run.result.imported,
            skipped = run.result.skipped,
            errors = run.result.errors,
            total = run.result.total_twilio_recordings,
            "import finished"
        );
        Ok(())
    }

    async fn on_dead(self, ctx: &JobContext, reason: &str) -> anyhow::Result<()> {
        ctx.store.fail_import_run(self.import_id, reason, ctx.clock.now()).await?;
        Ok(())
    }
}

/// One sweep per interval slot, whatever the number of instances.
#[derive(Debug, Serialize, Deserialize)]
pub struct SweepRecordings {
    pub slot: i64,
}

impl SweepRecordings {
    pub async fn schedule_next(ctx: &JobContext) -> anyhow::Result<()> {
        let period_ms = i64::try_from(ctx.sweep.interval.as_millis()).unwrap_or(i64::MAX);
        if period_ms == 0 || ctx.walker.is_none() {
            return Ok(());
        }
        schedule_next_slot(ctx, period_ms, |slot| SweepRecordings { slot }).await
    }
}

#[async_trait]
impl Job for SweepRecordings {
    const KIND: &'static str = "sweep-recordings";
    // A failed sweep is not retried for long: the next slot sweeps again.
    const MAX_ATTEMPTS: i64 = 3;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        // The next sweep is queued first, so a failing sweep never ends the schedule.
        Self::schedule_next(ctx).await?;
        let report = walker(ctx)?.sweep(ctx.sweep.window, ctx.sweep.grace).await.map_err(job_error)?;
        tracing::info!(
            pages = report.pages,
            seen = report.seen,
            found = report.found.len(),
            deferred = report.deferred,
            "reconciliation sweep done"
        );
        Ok(())
    }
}
