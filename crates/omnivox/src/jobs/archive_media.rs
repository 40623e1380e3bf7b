//! `archive-media`: copies a completed recording's media from Twilio into
//! storage and proves the copy good. One job per recording, enqueued in the
//! ingest transaction that learned the recording was complete.
//!
//! `pending` → download (the URL built from the configured API base, never
//! a webhook's `RecordingUrl`), streamed into storage while hashing, size
//! checked against the duration → `stored` → read back from storage,
//! checksum compared, decoded to waveform peaks, length compared →
//! `verified`. A run that finds the recording `stored` (the process died
//! after storing) only verifies; one that finds it `verified` does nothing,
//! so nothing is ever downloaded twice. Transient failures are retried with
//! backoff, the reason shown meanwhile; a permanent one, or the last
//! attempt, leaves the recording `failed` with the reason.

use anyhow::{anyhow, Context as _};
use async_trait::async_trait;
use futures::TryStreamExt as _;
use omnivox_core::events::{Event, EventKind};
use omnivox_core::store::{MediaUpdate, NewJob, RecordingMedia};
use omnivox_core::RecordingSid;
use omnivox_jobs::{new_job, Job, JobError};
use omnivox_media::{check_duration, check_size, decode_peaks, recording_key, Key};
use omnivox_twilio::TwilioError;
use serde::{Deserialize, Serialize};

use super::JobContext;

pub const ARCHIVE_MEDIA: &str = "archive-media";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveMedia {
    pub recording_sid: RecordingSid,
}

impl ArchiveMedia {
    pub fn new_job(&self, run_at: chrono::DateTime<chrono::Utc>) -> serde_json::Result<NewJob> {
        new_job(self, run_at)
    }
}

#[async_trait]
impl Job for ArchiveMedia {
    const KIND: &'static str = ARCHIVE_MEDIA;
    const MAX_ATTEMPTS: i64 = 10;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.recording_sid.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        let media = load(ctx, &self.recording_sid).await?;
        let result = archive(ctx, &media).await;
        if let Err(JobError::Retry(e)) = &result {
            let update = MediaUpdate::Attempt { reason: format!("retrying: {e:#}") };
            if ctx.store.update_recording_media(media.recording.id, &update, ctx.clock.now()).await? {
                announce(ctx, &media);
            }
        }
        result
    }

    async fn on_dead(self, ctx: &JobContext, reason: &str) -> anyhow::Result<()> {
        let media = load(ctx, &self.recording_sid).await?;
        let update = MediaUpdate::Failed { reason: reason.to_owned() };
        if ctx.store.update_recording_media(media.recording.id, &update, ctx.clock.now()).await? {
            announce(ctx, &media);
        }
        Ok(())
    }
}

async fn load(ctx: &JobContext, sid: &RecordingSid) -> Result<RecordingMedia, JobError> {
    ctx.store
        .recording_media_by_sid(sid)
        .await
        .context("reading the recording")?
        .ok_or_else(|| JobError::Permanent(anyhow!("recording {sid} is not in the database")))
}

async fn archive(ctx: &JobContext, media: &RecordingMedia) -> Result<(), JobError> {
    match media.recording.sync_status.as_str() {
        "pending" | "failed" => {
            let stored = download(ctx, media).await?;
            verify(ctx, &stored).await
        }
        "stored" => verify(ctx, media).await,
        // verified, transcribed, deleted: nothing left to do.
        _ => Ok(()),
    }
}

/// Twilio's media into storage; returns the recording as now stored.
async fn download(ctx: &JobContext, media: &RecordingMedia) -> Result<RecordingMedia, JobError> {
    let recording = &media.recording;
    let twilio = ctx.twilio.as_ref().ok_or_else(|| JobError::Permanent(anyhow!("Twilio is not configured")))?;
    let format = ctx.media.format;
    let response = twilio.fetch_media(&recording.recording_sid, format, None).await.map_err(twilio_error)?;
    let body = Box::pin(response.bytes_stream().map_err(std::io::Error::other));
    let key = recording_key(&recording.recording_sid, recording.created_at, format.extension());
    let written = ctx.storage.put_stream(&key, body).await.context("storing the media")?;
    if let Err(reason) = check_size(written.size, recording.duration_seconds, recording.channels, format.extension()) {
        ctx.storage.delete(&key).await.context("removing implausible media")?;
        return Err(JobError::Permanent(anyhow!(reason)));
    }
    let update = MediaUpdate::Stored {
        storage_key: key.to_string(),
        media_type: format.content_type().to_owned(),
        sha256: written.sha256,
        size_bytes: i64::try_from(written.size).unwrap_or(i64::MAX),
    };
    ctx.store.update_recording_media(recording.id, &update, ctx.clock.now()).await?;
    announce(ctx, media);
    tracing::info!(recording = %recording.recording_sid, bytes = written.size, %key, "media stored");
    ctx.store
        .recording_media(recording.id)
        .await?
        .ok_or_else(|| JobError::Permanent(anyhow!("the recording was deleted while archiving")))
}

/// Reads the stored copy back: same checksum, decodes, right length.
async fn verify(ctx: &JobContext, media: &RecordingMedia) -> Result<(), JobError> {
    let recording = &media.recording;
    let (Some(key), Some(sha256)) = (&recording.storage_key, &recording.sha256) else {
        return Err(JobError::Permanent(anyhow!("the recording is marked stored but has no storage key")));
    };
    let key = Key::from(key.as_str());
    let (back, copy) = ctx.storage.read_back(&key).await.context("reading the stored media back")?;
    if &back.sha256 != sha256 {
        return Err(JobError::Permanent(anyhow!(
            "the stored media's SHA-256 {} differs from the {sha256} recorded when it was written",
            back.sha256
        )));
    }
    let extension = key.extension().unwrap_or("wav").to_owned();
    let peaks = tokio::task::spawn_blocking(move || decode_peaks(copy.path(), &extension))
        .await
        .context("decoding the media")?
        .map_err(|e| JobError::Permanent(anyhow!("the stored media cannot be played: {e}")))?;
    check_duration(peaks.duration_seconds, recording.duration_seconds).map_err(|r| JobError::Permanent(anyhow!(r)))?;
    let json = serde_json::to_string(&peaks).context("serializing peaks")?;
    let now = ctx.clock.now();
    ctx.store.save_recording_peaks(recording.id, &json, now).await?;
    ctx.store.update_recording_media(recording.id, &MediaUpdate::Verified, now).await?;
    announce(ctx, media);
    tracing::info!(recording = %recording.recording_sid, "media verified");
    if ctx.media.delete_from_twilio {
        let recording_sid = recording.recording_sid.parse().map_err(|e| JobError::Permanent(anyhow!("{e}")))?;
        ctx.jobs.enqueue(&DeleteTwilioRecording { recording_sid }).await?;
    }
    Ok(())
}

fn twilio_error(e: TwilioError) -> JobError {
    if e.is_not_found() {
        JobError::Permanent(anyhow!("Twilio has no media for this recording: {e}"))
    } else if e.is_transient() {
        JobError::Retry(anyhow!(e))
    } else {
        JobError::Permanent(anyhow!(e))
    }
}

fn announce(ctx: &JobContext, media: &RecordingMedia) {
    ctx.events.publish(Event {
        kind: EventKind::RecordingUpdated,
        call_record_id: media.recording.call_record_id,
        recording_id: Some(media.recording.id),
        agent_id: media.agent_id,
    });
}

/// Deletes a verified recording from Twilio so the account stops paying
/// to store it (only when `OMNIVOX_TWILIO_DELETE_AFTER_ARCHIVE` is on).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteTwilioRecording {
    pub recording_sid: RecordingSid,
}

#[async_trait]
impl Job for DeleteTwilioRecording {
    const KIND: &'static str = "delete-twilio-recording";
    const MAX_ATTEMPTS: i64 = 8;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.recording_sid.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        let media = load(ctx, &self.recording_sid).await?;
        if !matches!(media.recording.sync_status.as_str(), "verified" | "transcribed") {
            return Err(JobError::Permanent(anyhow!("refusing to delete from Twilio: our copy is not verified")));
        }
        let twilio = ctx.twilio.as_ref().ok_or_else(|| JobError::Permanent(anyhow!("Twilio is not configured")))?;
        twilio.delete_recording(self.recording_sid.as_str()).await.map_err(twilio_error)?;
        tracing::info!(recording = %self.recording_sid, "deleted from Twilio after archiving");
        Ok(())
    }
}
