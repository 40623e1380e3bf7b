//! The background job kinds of the service, and what they share.

mod maintenance;

use std::sync::Arc;

use omnivox_core::{Clock, Store};
use omnivox_jobs::{JobQueue, Registry};

pub use maintenance::PurgeExpiredSessions;

/// What every job kind may use.
pub struct JobContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jobs: JobQueue,
}

/// Every job kind this service runs.
pub fn registry() -> Registry<JobContext> {
    Registry::new().register::<PurgeExpiredSessions>()
}

/// Enqueues the first run of each periodic job (deduplicated across
/// instances by its time slot).
pub async fn schedule_periodic(ctx: &JobContext) -> anyhow::Result<()> {
    PurgeExpiredSessions::schedule_next(&ctx.jobs, ctx.clock.now()).await?;
    Ok(())
}
