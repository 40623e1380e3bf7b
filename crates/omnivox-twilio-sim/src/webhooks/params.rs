//! The form parameters of each callback, as Twilio names and formats them: every value a
//! string, dates in RFC 2822, and the callback URL with the dialer's own query parameters.

use chrono::Duration;

use super::{CallEvent, Callback};
use crate::resources::API_VERSION;
use crate::spec::{RecordingOutcome, SimCall};
use crate::wire::rfc2822;

pub const CALL_STATUS_PATH: &str = "/api/dialer/webhook/call-status";
pub const RECORDING_STATUS_PATH: &str = "/api/dialer/webhook/recording-status";

/// The exact URL a callback goes to; the signature covers it byte for byte.
pub(crate) fn callback_url(target_base: &str, call: &SimCall, callback: Callback) -> String {
    let path = match callback {
        Callback::Call(_) => CALL_STATUS_PATH,
        Callback::Recording => RECORDING_STATUS_PATH,
    };
    let mut url = format!("{}{path}", target_base.trim_end_matches('/'));
    if !call.callback_query.is_empty() {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&call.callback_query).finish();
        url.push('?');
        url.push_str(&query);
    }
    url
}

fn pair(name: &str, value: impl ToString) -> (String, String) {
    (name.to_owned(), value.to_string())
}

/// Parameters of a call progress callback. `sequence` is the event's position among the
/// events this delivery sends (Twilio numbers the events it fires from 0).
pub(crate) fn call_event_params(call: &SimCall, event: CallEvent, sequence: usize) -> Vec<(String, String)> {
    let leg = &call.call;
    let at = match event {
        CallEvent::Initiated => leg.date_created,
        CallEvent::Ringing => leg.date_created + Duration::seconds(2),
        CallEvent::Answered => call.answered_at,
        CallEvent::Completed => leg.end_time.unwrap_or(call.answered_at),
    };
    let mut params = vec![
        pair("AccountSid", &leg.account_sid),
        pair("ApiVersion", API_VERSION),
        pair("CallSid", &leg.sid),
        pair("CallStatus", event.call_status()),
        pair("Called", &leg.to),
        pair("Caller", &leg.from),
        pair("CallbackSource", "call-progress-events"),
        pair("Direction", leg.direction.as_str()),
        pair("From", &leg.from),
        pair("SequenceNumber", sequence),
        pair("Timestamp", rfc2822(&at)),
        pair("To", &leg.to),
    ];
    // Twilio adds geography for numbers it knows; receivers must accept fields they ignore.
    for (name, number) in [("From", &leg.from), ("To", &leg.to), ("Caller", &leg.from), ("Called", &leg.to)] {
        if number.starts_with("+1") {
            params.push(pair(&format!("{name}Country"), "US"));
        }
    }
    if let Some(parent) = &leg.parent_call_sid {
        params.push(pair("ParentCallSid", parent));
    }
    if event == CallEvent::Completed {
        params.push(pair("CallDuration", leg.duration));
        // Billed minutes, rounded up (unverified: CallDuration is the documented seconds).
        params.push(pair("Duration", leg.duration.div_ceil(60)));
        params.push(pair("SipResponseCode", 200));
    }
    params
}

/// Parameters of the recording status callback, or `None` when the call was not recorded.
pub(crate) fn recording_params(call: &SimCall) -> Option<Vec<(String, String)>> {
    let recording = call.recording.as_ref()?;
    let error_code = match call.recording_outcome {
        // Twilio sends ErrorCode=0 with a completed recording.
        RecordingOutcome::Completed => 0,
        _ => recording.error_code.unwrap_or(0),
    };
    Some(vec![
        pair("AccountSid", &recording.account_sid),
        pair("CallSid", &recording.call_sid),
        pair("ErrorCode", error_code),
        pair("RecordingChannels", recording.channels),
        pair("RecordingDuration", recording.duration),
        pair("RecordingSid", &recording.sid),
        pair("RecordingSource", &recording.source),
        pair("RecordingStartTime", rfc2822(&recording.start_time)),
        pair("RecordingStatus", call.recording_outcome.as_str()),
        pair("RecordingTrack", "both"),
        pair("RecordingUrl", &recording.media_url),
    ])
}
