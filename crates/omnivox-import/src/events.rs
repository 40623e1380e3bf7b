//! Twilio's REST resources as ingest events: the same facts a callback
//! would carry, so the one ingest function merges them by the same rules.

use omnivox_core::ingest::{
    parse_time, CallStatus, CallStatusEvent, Parties, RecordingEvent, RecordingFacts, RecordingStatus,
};
use omnivox_core::{CallSid, RecordingSid};
use omnivox_twilio::{CallResource, RecordingResource};

/// The Calls API's view of a call, ranked above any callback, for the call
/// record keyed by `call_sid`. `None` when Twilio gave no status Omnivox
/// knows. Parties are taken only when `with_parties`: callbacks describe
/// the customer's leg better.
pub fn call_event(call_sid: &CallSid, call: &CallResource, with_parties: bool) -> Option<CallStatusEvent> {
    let status = call.status.as_deref().and_then(CallStatus::parse)?;
    let parties = if with_parties {
        Parties { direction: call.direction.clone(), from: call.from.clone(), to: call.to.clone() }
    } else {
        Parties::default()
    };
    Some(CallStatusEvent {
        call_sid: call_sid.clone(),
        parent_call_sid: None,
        status,
        parties,
        started_at: call.start_time.as_deref().and_then(parse_time),
        ended_at: call.end_time.as_deref().and_then(parse_time),
        duration_seconds: call.duration.as_deref().and_then(|d| d.parse().ok()),
        answered_by: call.answered_by.clone(),
        timestamp: call.date_updated.as_deref().and_then(parse_time),
        sequence_number: None,
        authoritative: true,
        raw: serde_json::to_value(call).unwrap_or_default(),
    })
}

/// A listed recording as the event its status callback would have been.
/// `call_sid` is the call record's (the parent leg's). The error says
/// which field Twilio left unusable.
pub fn recording_event(item: &RecordingResource, call_sid: CallSid) -> Result<RecordingEvent, String> {
    let sid = item.sid.as_deref().ok_or("Twilio listed a recording without a sid")?;
    let recording_sid = RecordingSid::parse(sid).map_err(|e| format!("sid {sid:?}: {e}"))?;
    let raw_status = item.status.as_deref().unwrap_or_default();
    let status = RecordingStatus::parse(raw_status).ok_or_else(|| format!("unknown status {raw_status:?}"))?;
    Ok(RecordingEvent {
        recording_sid,
        call_sid,
        facts: RecordingFacts {
            status,
            duration_seconds: item.duration.as_deref().and_then(|d| d.parse().ok()).filter(|d: &i64| *d >= 0),
            channels: item.channels.filter(|c| (1..=2).contains(c)),
            source: item.source.clone(),
            track: item.track.clone(),
            started_at: item.start_time.as_deref().and_then(parse_time),
            error_code: item.error_code.clone().filter(|c| c != "0"),
        },
        raw: serde_json::to_value(item).unwrap_or_default(),
    })
}
