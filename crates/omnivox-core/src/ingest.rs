//! Ingest: how a Twilio callback (or an imported recording) changes the
//! records. Everything here is pure: the events parsed from a callback's
//! parameters, and the merge rules that make any number of deliveries, in
//! any order, end in the same row. The store applies them inside one
//! transaction (`IngestStore`); the webhooks, the import and the
//! reconciliation sweep all reach the database only through `IngestStore::ingest`.

mod call;
mod ingestor;
mod params;
mod recording;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use call::{CallFacts, CallStatus, CallStatusEvent, OrderKey, Parties};
pub use ingestor::Ingestor;
pub use params::{parse_time, ParamError, Params};
pub use recording::{RecordingEvent, RecordingFacts, RecordingStatus, SyncStatus};

use crate::store::{NewJob, StoreResult, UserId};
use crate::CallSid;

/// Campaign of calls first seen through a live webhook.
pub const LIVE_CALLS: (&str, &str) = ("LIVE-CALLS", "Live Calls");
/// Campaign of calls first seen through the historical import.
pub const HISTORICAL_CALLS: (&str, &str) = ("HISTORICAL-CALLS", "Historical Calls");

/// How a recording reached us; shown to admins ("sync gaps" are the ones the sweep found).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FoundBy {
    Webhook,
    Import,
    Sweep,
}

impl FoundBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Webhook => "webhook",
            FoundBy::Import => "import",
            FoundBy::Sweep => "sweep",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "webhook" => Some(FoundBy::Webhook),
            "import" => Some(FoundBy::Import),
            "sweep" => Some(FoundBy::Sweep),
            _ => None,
        }
    }
}

/// One fact about a call, from any source.
#[derive(Debug, Clone)]
pub enum IngestEvent {
    CallStatus(CallStatusEvent),
    Recording(RecordingEvent),
}

/// Who the call belongs to, when the source knows (the softphone TwiML
/// passes both in the callback URLs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub campaign_code: Option<String>,
    pub agent_id: Option<UserId>,
}

#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub event: IngestEvent,
    pub attribution: Attribution,
    /// Campaign for a call this event is the first to mention.
    pub default_campaign: (&'static str, &'static str),
    pub found_by: FoundBy,
    pub received_at: DateTime<Utc>,
}

impl IngestRequest {
    /// The CallSid of the call record: the parent leg's.
    pub fn call_sid(&self) -> &CallSid {
        match &self.event {
            IngestEvent::CallStatus(e) => e.record_call_sid(),
            IngestEvent::Recording(e) => &e.call_sid,
        }
    }
}

/// What an ingest changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestOutcome {
    pub call_record_id: i64,
    pub call_created: bool,
    /// The call row changed (status, times, parties, …).
    pub call_changed: bool,
    pub agent_id: Option<UserId>,
    /// Set for recording events.
    pub recording_id: Option<i64>,
    pub recording_created: bool,
    pub recording_changed: bool,
    /// The recording is completed and its media should be archived.
    pub recording_ready: bool,
    /// The call still lacks parties or times only the Calls API can give.
    pub call_needs_details: bool,
}

/// Decides, inside the ingest transaction, which follow-up jobs an outcome
/// needs, so they are committed with it or not at all.
pub type FollowUps = dyn Fn(&IngestRequest, &IngestOutcome) -> Vec<NewJob> + Send + Sync;

#[async_trait]
pub trait IngestStore {
    /// Applies one event atomically: finds or creates the data list,
    /// campaign, contact, call record and recording, merges the event by the
    /// rules in this module, appends it to the call's timeline, and enqueues
    /// the jobs `follow_ups` asks for. Returns once all of it is committed
    /// (a backend may commit several callers' events in one transaction, but
    /// each caller's event is applied whole or not at all, and an error is
    /// returned only to the caller whose event caused it).
    async fn ingest(&self, request: &IngestRequest, follow_ups: &Arc<FollowUps>) -> StoreResult<IngestOutcome>;
}
