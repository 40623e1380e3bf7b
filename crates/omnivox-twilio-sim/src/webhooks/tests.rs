#![allow(clippy::unwrap_used)]

use rand::rngs::StdRng;
use rand::SeedableRng as _;

use super::params::{call_event_params, callback_url, recording_params};
use super::*;
use crate::resources::Direction;
use crate::spec::{build_call, CallSpec, RecordingOutcome};

const AC: &str = "AC0123456789abcdef0123456789abcdef";

fn call(spec: CallSpec) -> SimCall {
    build_call(spec, AC, "http://127.0.0.1:9")
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(1)
}

fn value<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn natural_order_without_shuffle_and_one_copy_each() {
    let c = call(CallSpec::default());
    let planned = plan(std::slice::from_ref(&c), &DeliveryOptions::default(), &mut rng()).unwrap();
    let order: Vec<String> = planned.iter().map(|p| p.callback.to_string()).collect();
    assert_eq!(order, ["initiated", "ringing", "answered", "completed", "recording"]);
}

#[test]
fn many_calls_are_interleaved_stage_by_stage() {
    let calls = [call(CallSpec::default()), call(CallSpec::default())];
    let planned = plan(&calls, &DeliveryOptions::default(), &mut rng()).unwrap();
    let order: Vec<(usize, String)> = planned.iter().map(|p| (p.call, p.callback.to_string())).collect();
    assert_eq!(
        order[..4],
        [(0, "initiated".into()), (1, "initiated".into()), (0, "ringing".into()), (1, "ringing".into())]
    );
}

#[test]
fn copies_stay_in_range_and_a_seed_replays_the_plan() {
    let calls: Vec<_> = (0..50).map(|_| call(CallSpec::default())).collect();
    let options = DeliveryOptions { copies: 1..=4, shuffle: true, ..DeliveryOptions::default() };
    let a = plan(&calls, &options, &mut rng()).unwrap();
    let b = plan(&calls, &options, &mut rng()).unwrap();
    let key = |p: &Planned| (p.call, p.callback, p.copy);
    assert_eq!(a.iter().map(key).collect::<Vec<_>>(), b.iter().map(key).collect::<Vec<_>>());
    let mut counts = std::collections::HashMap::new();
    for p in &a {
        *counts.entry((p.call, p.callback)).or_insert(0u32) += 1;
    }
    assert_eq!(counts.len(), 50 * 5);
    assert!(counts.values().all(|n| (1..=4).contains(n)));
    assert!(counts.values().any(|n| *n == 1) && counts.values().any(|n| *n == 4));
}

#[test]
fn zero_copies_drop_callbacks_and_an_empty_range_is_an_error() {
    let calls: Vec<_> = (0..20).map(|_| call(CallSpec::default())).collect();
    let options = DeliveryOptions { copies: 0..=1, ..DeliveryOptions::default() };
    let planned = plan(&calls, &options, &mut rng()).unwrap();
    assert!(planned.len() < 100 && !planned.is_empty());
    #[allow(clippy::reversed_empty_ranges)]
    let empty = DeliveryOptions { copies: 2..=1, ..DeliveryOptions::default() };
    assert!(plan(&calls, &empty, &mut rng()).is_err());
}

#[test]
fn unrecorded_calls_and_send_recording_false_have_no_recording_callback() {
    let c = call(CallSpec { record: false, ..CallSpec::default() });
    let planned = plan(std::slice::from_ref(&c), &DeliveryOptions::default(), &mut rng()).unwrap();
    assert!(planned.iter().all(|p| p.callback != Callback::Recording));
    let c = call(CallSpec::default());
    let options =
        DeliveryOptions { send_recording: false, events: vec![CallEvent::Completed], ..DeliveryOptions::default() };
    let planned = plan(std::slice::from_ref(&c), &options, &mut rng()).unwrap();
    assert_eq!(planned.len(), 1);
    assert_eq!(sequence_number(&options, CallEvent::Completed), 0);
}

#[test]
fn call_event_parameters_follow_twilio() {
    let c = call(CallSpec { duration_secs: 61, ..CallSpec::default() });
    let answered = call_event_params(&c, CallEvent::Answered, 2);
    assert_eq!(value(&answered, "CallStatus"), Some("in-progress"));
    assert_eq!(value(&answered, "SequenceNumber"), Some("2"));
    assert_eq!(value(&answered, "ApiVersion"), Some("2010-04-01"));
    assert_eq!(value(&answered, "CallbackSource"), Some("call-progress-events"));
    assert_eq!(value(&answered, "Direction"), Some("outbound-api"));
    assert_eq!(value(&answered, "CallDuration"), None);
    assert!(value(&answered, "Timestamp").is_some_and(|t| t.ends_with(" +0000")));
    let completed = call_event_params(&c, CallEvent::Completed, 3);
    assert_eq!(value(&completed, "CallDuration"), Some("61"));
    assert_eq!(value(&completed, "Duration"), Some("2"));
    assert_eq!(value(&completed, "ParentCallSid"), None);
}

#[test]
fn outbound_dial_legs_name_their_parent_and_the_recording_belongs_to_it() {
    let c = call(CallSpec { direction: Direction::OutboundDial, ..CallSpec::default() });
    let parent = c.parent.as_ref().unwrap().sid.clone();
    let initiated = call_event_params(&c, CallEvent::Initiated, 0);
    assert_eq!(value(&initiated, "ParentCallSid"), Some(parent.as_str()));
    assert_eq!(value(&initiated, "Direction"), Some("outbound-dial"));
    let recording = recording_params(&c).unwrap();
    assert_eq!(value(&recording, "CallSid"), Some(parent.as_str()));
}

#[test]
fn recording_parameters_follow_twilio() {
    let c = call(CallSpec::default());
    let p = recording_params(&c).unwrap();
    let sid = c.recording_sid().unwrap();
    assert_eq!(
        value(&p, "RecordingUrl"),
        Some(format!("http://127.0.0.1:9/2010-04-01/Accounts/{AC}/Recordings/{sid}").as_str())
    );
    assert_eq!(value(&p, "RecordingStatus"), Some("completed"));
    assert_eq!(value(&p, "RecordingDuration"), Some("30"));
    assert_eq!(value(&p, "RecordingChannels"), Some("2"));
    assert_eq!(value(&p, "RecordingSource"), Some("DialVerb"));
    assert_eq!(value(&p, "RecordingTrack"), Some("both"));
    assert_eq!(value(&p, "ErrorCode"), Some("0"));
    let absent = call(CallSpec { recording_status: RecordingOutcome::Absent, ..CallSpec::default() });
    let p = recording_params(&absent).unwrap();
    assert_eq!(value(&p, "RecordingStatus"), Some("absent"));
    assert_eq!(value(&p, "ErrorCode"), Some("16101"));
    assert_eq!(value(&p, "RecordingDuration"), Some("0"));
}

#[test]
fn custom_parameters_ride_in_the_callback_url_query() {
    let c = call(CallSpec {
        agent_id: Some("agent 7".into()),
        campaign_id: Some("LIVE-CALLS".into()),
        ..CallSpec::default()
    });
    assert_eq!(
        callback_url("http://omnivox/", &c, Callback::Recording),
        "http://omnivox/api/dialer/webhook/recording-status?agentId=agent+7&campaignId=LIVE-CALLS"
    );
    assert_eq!(
        callback_url("http://omnivox", &call(CallSpec::default()), Callback::Call(CallEvent::Ringing)),
        "http://omnivox/api/dialer/webhook/call-status"
    );
}
