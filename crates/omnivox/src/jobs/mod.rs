//! The background job kinds of the service, and what they share.

mod archive_media;
mod enrich_call;
mod import;
mod maintenance;
mod retention;

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use omnivox_core::events::EventBus;
use omnivox_core::ingest::{FollowUps, IngestEvent, IngestOutcome, IngestRequest, Ingestor};
use omnivox_core::store::NewJob;
use omnivox_core::{Clock, Store};
use omnivox_import::Walker;
use omnivox_jobs::{new_job, Job, JobQueue, Registry};
use omnivox_media::MediaStorage;
use omnivox_twilio::{MediaFormat, TwilioClient};

pub use archive_media::{ArchiveMedia, DeleteTwilioRecording, ARCHIVE_MEDIA};
pub use enrich_call::EnrichCall;
pub use import::{ImportTwilioRecordings, SweepRecordings, SweepSettings};
pub use maintenance::PurgeExpiredSessions;
pub use retention::ApplyRetention;

/// How recordings are archived.
#[derive(Debug, Clone, Copy)]
pub struct MediaSettings {
    /// The encoding downloaded from Twilio and stored.
    pub format: MediaFormat,
    /// Delete each recording from Twilio once our copy is verified.
    pub delete_from_twilio: bool,
}

/// What every job kind may use.
pub struct JobContext {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jobs: JobQueue,
    pub ingestor: Ingestor,
    pub events: Arc<dyn EventBus>,
    pub storage: MediaStorage,
    pub media: MediaSettings,
    /// `None` without Twilio credentials.
    pub twilio: Option<TwilioClient>,
    /// Walks Twilio's recordings (imports, sweeps); `None` without Twilio credentials.
    pub walker: Option<Walker>,
    pub sweep: SweepSettings,
}

/// Every job kind this service runs.
pub fn registry() -> Registry<JobContext> {
    Registry::new()
        .register::<PurgeExpiredSessions>()
        .register::<EnrichCall>()
        .register::<ArchiveMedia>()
        .register::<DeleteTwilioRecording>()
        .register::<ApplyRetention>()
        .register::<ImportTwilioRecordings>()
        .register::<SweepRecordings>()
}

/// Enqueues the first run of each periodic job (deduplicated across
/// instances by its time slot).
pub async fn schedule_periodic(ctx: &JobContext) -> anyhow::Result<()> {
    PurgeExpiredSessions::schedule_next(ctx).await?;
    ApplyRetention::schedule_next(ctx).await?;
    SweepRecordings::schedule_next(ctx).await?;
    Ok(())
}

/// Enqueues the run of a periodic job for the next `period_ms` slot after
/// now. The slot is the job's dedupe key, so any number of instances
/// scheduling it produce one run per slot.
async fn schedule_next_slot<J: Job>(
    ctx: &JobContext,
    period_ms: i64,
    job: impl FnOnce(i64) -> J,
) -> anyhow::Result<()> {
    let slot = (ctx.clock.now().timestamp_millis() / period_ms + 1) * period_ms;
    let run_at = DateTime::<Utc>::from_timestamp_millis(slot).context("slot out of range")?;
    ctx.jobs.enqueue_at(&job(slot), run_at).await?;
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

#[cfg(test)]
mod purge_tests {
    use omnivox_jobs::Job;

    use super::{ArchiveMedia, DeleteTwilioRecording, EnrichCall};

    #[test]
    fn purging_call_records_removes_every_follow_up_job_of_a_call() {
        for kind in [ArchiveMedia::KIND, DeleteTwilioRecording::KIND, EnrichCall::KIND] {
            assert!(omnivox_http::purge::CALL_JOB_KINDS.contains(&kind), "{kind}");
        }
    }
}
