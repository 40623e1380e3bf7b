//! The background job kinds of the service, and what they share.

mod archive_media;
mod enrich_call;
mod maintenance;

use std::sync::Arc;

use omnivox_core::ingest::{FollowUps, IngestEvent, IngestOutcome, IngestRequest, Ingestor};
use omnivox_core::store::NewJob;
use omnivox_core::{Clock, Store};
use omnivox_jobs::{new_job, JobQueue, Registry};
use omnivox_twilio::TwilioClient;

pub use archive_media::{ArchiveMedia, ARCHIVE_MEDIA};
pub use enrich_call::EnrichCall;
pub use maintenance::PurgeExpiredSessions;

/// What every job kind may use.
pub struct JobContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jobs: JobQueue,
    pub ingestor: Ingestor,
    /// `None` without Twilio credentials.
    pub twilio: Option<TwilioClient>,
}

/// Every job kind this service runs.
pub fn registry() -> Registry<JobContext> {
    Registry::new().register::<PurgeExpiredSessions>().register::<EnrichCall>()
}

/// Enqueues the first run of each periodic job (deduplicated across
/// instances by its time slot).
pub async fn schedule_periodic(ctx: &JobContext) -> anyhow::Result<()> {
    PurgeExpiredSessions::schedule_next(&ctx.jobs, ctx.clock.now()).await?;
    Ok(())
}

/// The follow-up work an ingest commits with its facts: fetch the call's
/// details when callbacks left gaps (only with Twilio credentials), and
/// archive every recording that became complete. Callbacks arrive in
/// bursts while a call progresses: asking the Calls API `enrich_delay`
/// later catches the call further along, and lets the burst's enqueues
/// collapse into one job.
pub fn follow_ups(can_call_twilio: bool, enrich_delay: chrono::Duration) -> Arc<FollowUps> {
    Arc::new(move |req: &IngestRequest, out: &IngestOutcome| {
        let mut jobs: Vec<NewJob> = Vec::new();
        if can_call_twilio && out.call_needs_details && out.call_changed {
            let job = EnrichCall { call_sid: req.call_sid().clone() };
            match new_job(&job, req.received_at + enrich_delay) {
                Ok(j) => jobs.push(j),
                Err(e) => tracing::error!(error = %e, "cannot serialize an enrich-call job"),
            }
        }
        if let (true, IngestEvent::Recording(e)) = (out.recording_ready, &req.event) {
            match (ArchiveMedia { recording_sid: e.recording_sid.clone() }).new_job(req.received_at) {
                Ok(j) => jobs.push(j),
                Err(e) => tracing::error!(error = %e, "cannot serialize an archive-media job"),
            }
        }
        jobs
    })
}
