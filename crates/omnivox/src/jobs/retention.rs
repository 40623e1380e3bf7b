//! `apply-retention`: once a day, deletes archived media older than its
//! campaign's retention (none by default), unless the call is on legal
//! hold, and marks each recording `deleted`. Every deletion is audited.

use anyhow::Context as _;
use async_trait::async_trait;
use omnivox_core::events::{Event, EventKind};
use omnivox_core::store::{MediaUpdate, NewAuditEntry};
use omnivox_jobs::{Job, JobError};
use omnivox_media::Key;
use serde::{Deserialize, Serialize};

use super::{schedule_next_slot, JobContext};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Recordings deleted per query; the run loops until none is left.
const BATCH: i64 = 200;

/// One run per day slot, whatever the number of instances.
#[derive(Debug, Serialize, Deserialize)]
pub struct ApplyRetention {
    pub slot: i64,
}

impl ApplyRetention {
    pub async fn schedule_next(ctx: &JobContext) -> anyhow::Result<()> {
        schedule_next_slot(ctx, DAY_MS, |slot| ApplyRetention { slot }).await
    }
}

#[async_trait]
impl Job for ApplyRetention {
    const KIND: &'static str = "apply-retention";
    const MAX_ATTEMPTS: i64 = 5;
    type Context = JobContext;

    fn dedupe_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: &JobContext) -> Result<(), JobError> {
        // Tomorrow's run is queued first, so a failing run never ends the schedule.
        Self::schedule_next(ctx).await?;
        let mut deleted = 0u64;
        loop {
            let now = ctx.clock.now();
            let expired = ctx.store.expired_media(now, BATCH).await?;
            if expired.is_empty() {
                break;
            }
            for media in expired {
                let Some(key) = media.recording.storage_key.as_deref() else { continue };
                ctx.storage.delete(&Key::from(key)).await.context("deleting expired media")?;
                let reason = "deleted by the campaign's retention policy".to_owned();
                let update = MediaUpdate::Deleted { reason };
                if ctx.store.update_recording_media(media.recording.id, &update, now).await? {
                    ctx.store
                        .append_audit(&NewAuditEntry {
                            at: now,
                            user_id: None,
                            username: None,
                            action: "recording.retention_delete".into(),
                            target_kind: Some("recording".into()),
                            target_id: Some(media.recording.id.to_string()),
                            client_addr: None,
                            detail: Some(format!("{} ({key})", media.recording.recording_sid)),
                        })
                        .await?;
                    ctx.events.publish(Event {
                        kind: EventKind::RecordingUpdated,
                        call_record_id: media.recording.call_record_id,
                        recording_id: Some(media.recording.id),
                        agent_id: media.agent_id,
                    });
                    deleted += 1;
                }
            }
        }
        tracing::info!(deleted, "retention applied");
        Ok(())
    }
}
