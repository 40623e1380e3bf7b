//! Live events for the Call Records page (`GET /api/events`).
//!
//! Publishing never blocks and never fails the operation that caused it: an
//! event is a hint to refresh, and the database stays the truth. On SQLite
//! the bus is in-process; on PostgreSQL every instance publishes through
//! `NOTIFY` and hears every other instance through `LISTEN`.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::ingest::IngestOutcome;
use crate::store::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    #[serde(rename = "call.created")]
    CallCreated,
    #[serde(rename = "call.updated")]
    CallUpdated,
    #[serde(rename = "recording.updated")]
    RecordingUpdated,
    #[serde(rename = "transcript.ready")]
    TranscriptReady,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallCreated => "call.created",
            Self::CallUpdated => "call.updated",
            Self::RecordingUpdated => "recording.updated",
            Self::TranscriptReady => "transcript.ready",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub kind: EventKind,
    pub call_record_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<i64>,
    /// Who may see it besides supervisors and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<UserId>,
}

impl Event {
    /// The events an ingest outcome announces.
    pub fn from_outcome(o: &IngestOutcome) -> Vec<Event> {
        let call = |kind| Event { kind, call_record_id: o.call_record_id, recording_id: None, agent_id: o.agent_id };
        let mut events = Vec::new();
        if o.call_created {
            events.push(call(EventKind::CallCreated));
        } else if o.call_changed {
            events.push(call(EventKind::CallUpdated));
        }
        if o.recording_changed {
            events.push(Event { recording_id: o.recording_id, ..call(EventKind::RecordingUpdated) });
        }
        events
    }
}

/// What a subscriber hears: an event, or that the bus lost some on the way
/// (a subscriber then refetches what it shows, as after falling behind).
/// On the wire between instances a notice is the event's own JSON, or
/// `{"missed": n}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Notice {
    Event(Event),
    Missed { missed: u64 },
}

pub trait EventBus: Send + Sync + 'static {
    /// Sends without waiting. A bus that cannot deliver an event (full, or
    /// its transport failing) tells its subscribers with
    /// [`Notice::Missed`] rather than leaving a silent gap.
    fn publish(&self, event: Event);
    fn subscribe(&self) -> broadcast::Receiver<Notice>;
}

/// The in-process bus: what one instance publishes, its subscribers hear.
pub struct LocalEventBus {
    sender: broadcast::Sender<Notice>,
}

impl LocalEventBus {
    pub fn new(capacity: usize) -> Self {
        Self { sender: broadcast::channel(capacity.max(1)).0 }
    }

    /// The sender, for a bus that relays events from elsewhere into this one.
    pub fn sender(&self) -> &broadcast::Sender<Notice> {
        &self.sender
    }
}

impl Default for LocalEventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus for LocalEventBus {
    fn publish(&self, event: Event) {
        // No subscribers is not an error.
        let _ = self.sender.send(Notice::Event(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }
}
