//! `archive-media` requests: one per completed recording, enqueued inside
//! the ingest transaction that learned of it. The job kind that copies the
//! media into storage is registered by the media pipeline; until a worker
//! that knows the kind runs, the requests wait in the queue (workers only
//! claim kinds they can run), so none is lost.

use omnivox_core::RecordingSid;
use serde::{Deserialize, Serialize};

pub const ARCHIVE_MEDIA: &str = "archive-media";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveMedia {
    pub recording_sid: RecordingSid,
}

impl ArchiveMedia {
    pub fn new_job(&self, run_at: chrono::DateTime<chrono::Utc>) -> serde_json::Result<omnivox_core::store::NewJob> {
        Ok(omnivox_core::store::NewJob {
            kind: ARCHIVE_MEDIA.to_owned(),
            payload: serde_json::to_value(self)?,
            dedupe_key: Some(self.recording_sid.to_string()),
            run_at,
            max_attempts: 10,
        })
    }
}
