use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{RecordingView, StoreResult, UserId};
use crate::RecordingSid;

/// A recording with what media access needs from its call: who may see it
/// (the call's agent) and what its download is named after.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingMedia {
    pub recording: RecordingView,
    pub call_sid: String,
    pub agent_id: Option<UserId>,
    pub call_started_at: Option<DateTime<Utc>>,
    /// The customer's number: the contact's, else the call's `to`/`from`.
    pub contact_phone: Option<String>,
    pub legal_hold: bool,
}

/// A step of a recording's sync state. Each applies only from the states
/// that can lead to it, so a late or repeated step never moves a
/// recording backwards; [`MediaStore::update_recording_media`] says
/// whether it applied.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaUpdate {
    /// `pending`/`failed` → `stored`: the media is durable in storage.
    Stored { storage_key: String, media_type: String, sha256: String, size_bytes: i64 },
    /// `stored` → `verified`: read back, checksum equal, decodes to the stated length.
    Verified,
    /// A try failed and another will follow: the state stays, the reason is shown.
    Attempt { reason: String },
    /// `pending`/`stored` → `failed`, with the reason.
    Failed { reason: String },
    /// `failed` → `pending`: an admin asked for another try.
    Retry,
    /// Archived media removed by retention → `deleted`.
    Deleted { reason: String },
}

#[async_trait]
pub trait MediaStore {
    async fn recording_media(&self, id: i64) -> StoreResult<Option<RecordingMedia>>;
    async fn recording_media_by_sid(&self, sid: &RecordingSid) -> StoreResult<Option<RecordingMedia>>;
    /// Applies `update` if the recording is in a state it applies to.
    async fn update_recording_media(&self, id: i64, update: &MediaUpdate, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The cached waveform peaks (JSON), if computed.
    async fn recording_peaks(&self, id: i64) -> StoreResult<Option<String>>;
    async fn save_recording_peaks(&self, id: i64, peaks_json: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Archived recordings past their campaign's retention and not on hold,
    /// oldest first.
    async fn expired_media(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<RecordingMedia>>;
    /// Sets (or with `None` clears) a campaign's retention; false when no
    /// campaign has that code.
    async fn set_campaign_retention(&self, campaign_code: &str, days: Option<i64>) -> StoreResult<bool>;
    /// False when there is no such call record.
    async fn set_legal_hold(&self, call_record_id: i64, hold: bool, now: DateTime<Utc>) -> StoreResult<bool>;
}
