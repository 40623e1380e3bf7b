use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::call_list::{CallEventView, CallListQuery, CallPage};
use super::{StoreResult, UserId};
use crate::CallSid;

/// A call record as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CallRecordView {
    pub id: i64,
    /// The CallSid of the parent leg.
    pub call_id: String,
    /// The campaign's code (`LIVE-CALLS`, …).
    pub campaign_id: String,
    pub campaign_name: String,
    pub contact_id: Option<i64>,
    pub contact_phone: Option<String>,
    pub contact_name: Option<String>,
    pub agent_id: Option<UserId>,
    /// The agent's display name, or user name when it has none.
    pub agent_name: Option<String>,
    pub direction: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: Option<String>,
    pub outcome: Option<String>,
    pub answered_by: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub legal_hold: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub recordings: Vec<RecordingView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RecordingView {
    pub id: i64,
    pub recording_sid: String,
    pub call_record_id: i64,
    /// Twilio's status of the recording.
    pub status: String,
    /// Where the media is in Omnivox: pending, stored, verified, transcribed, failed, deleted.
    pub sync_status: String,
    pub duration_seconds: Option<i64>,
    pub channels: Option<i64>,
    pub source: Option<String>,
    pub track: Option<String>,
    pub error_code: Option<String>,
    /// Why `syncStatus` is failed.
    pub error: Option<String>,
    pub storage_key: Option<String>,
    pub media_type: Option<String>,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    /// webhook, import or sweep.
    pub found_by: String,
    pub started_at: Option<DateTime<Utc>>,
    /// When the archived copy was written.
    pub stored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A campaign, as the Call Records filters list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    /// The code the list filters on (`campaignId`).
    pub id: String,
    pub name: String,
}

/// Reading call records. They are created and changed only by ingest
/// (`crate::ingest::IngestStore`).
#[async_trait]
pub trait CallRecordStore {
    async fn call_record(&self, id: i64) -> StoreResult<Option<CallRecordView>>;
    async fn call_record_by_sid(&self, sid: &CallSid) -> StoreResult<Option<CallRecordView>>;
    /// One page of the Call Records list, each call with its recordings.
    async fn list_call_records(&self, query: &CallListQuery) -> StoreResult<CallPage>;
    /// The call's timeline, oldest first.
    async fn call_events(&self, call_record_id: i64) -> StoreResult<Vec<CallEventView>>;
    /// Every campaign, by name.
    async fn list_campaigns(&self) -> StoreResult<Vec<CampaignView>>;
    async fn count_call_records(&self) -> StoreResult<i64>;
    async fn count_recordings(&self) -> StoreResult<i64>;
}
