//! The webhook sender against [`Receiver`]: signatures, order, copies, shuffling, retries.

use std::collections::{HashMap, HashSet};

use omnivox_twilio::RequestValidator;
use omnivox_twilio_sim::{AttemptOutcome, CallEvent, CallSpec, Callback, DeliveryOptions, SimCall, Simulator};

use crate::helpers::*;
use crate::receiver::{Mode, Received, Receiver};

fn recorded(sim: &Simulator) -> SimCall {
    sim.add_call(CallSpec {
        agent_id: Some("agent-7".into()),
        campaign_id: Some("LIVE-CALLS".into()),
        ..CallSpec::default()
    })
}

#[tokio::test]
async fn one_call_arrives_signed_complete_and_in_order() {
    let sim = start().await;
    let receiver = Receiver::start(&sim, Mode::Accept).await;
    let call = recorded(&sim);
    let report = sim.deliver(&receiver.base, &call, &DeliveryOptions::default()).await.unwrap();
    assert!(report.all_acknowledged(), "{report:?}");
    assert_eq!(report.attempts.len(), 5);

    let got = receiver.received();
    assert!(got.iter().all(|r| r.signature_valid), "every signature validates");
    assert!(got.iter().all(|r| r.content_type == "application/x-www-form-urlencoded"));
    let kinds: Vec<&str> = got.iter().map(Received::kind).collect();
    assert_eq!(kinds, ["initiated", "ringing", "in-progress", "completed", "recording"]);
    let sequence: Vec<_> = got[..4].iter().map(|r| r.param("SequenceNumber").unwrap()).collect();
    assert_eq!(sequence, ["0", "1", "2", "3"]);
    let query = "?agentId=agent-7&campaignId=LIVE-CALLS";
    assert_eq!(got[0].url, format!("{}/api/dialer/webhook/call-status{query}", receiver.base));
    assert_eq!(got[4].url, format!("{}/api/dialer/webhook/recording-status{query}", receiver.base));
    for r in &got[..4] {
        assert_eq!(r.param("CallSid"), Some(call.call_sid()));
        assert_eq!(r.param("AccountSid"), Some(sim.account_sid()));
        assert_eq!(r.param("ApiVersion"), Some("2010-04-01"));
        assert_eq!(r.param("CallbackSource"), Some("call-progress-events"));
    }
    assert_eq!(got[3].param("CallDuration"), Some("30"));
    let recording = &got[4];
    assert_eq!(recording.param("RecordingSid"), call.recording_sid());
    let url = recording.param("RecordingUrl").unwrap();
    assert_eq!(
        url,
        format!(
            "{}/2010-04-01/Accounts/{}/Recordings/{}",
            sim.base_url(),
            sim.account_sid(),
            call.recording_sid().unwrap()
        )
    );
    // The URL it names serves the media.
    assert_eq!(get(&sim, &format!("{}.wav", url.trim_start_matches(&sim.base_url()))).await.status(), 200);

    // The check is real: another token, another URL or a changed body all fail.
    let sample = &got[4];
    assert!(!RequestValidator::new("wrong").validate(&sample.url, &sample.body, &sample.signature));
    let bare = sample.url.split('?').next().unwrap();
    assert!(!RequestValidator::new(sim.auth_token()).validate(bare, &sample.body, &sample.signature));
    let tampered =
        String::from_utf8(sample.body.to_vec()).unwrap().replace("RecordingStatus=completed", "RecordingStatus=absent");
    assert!(!RequestValidator::new(sim.auth_token()).validate(&sample.url, tampered.as_bytes(), &sample.signature));
    sim.shutdown().await;
}

#[tokio::test]
async fn copies_and_shuffle_behave_as_requested() {
    let sim = start().await;
    let receiver = Receiver::start(&sim, Mode::Accept).await;
    let calls: Vec<SimCall> = (0..30).map(|_| recorded(&sim)).collect();
    let options = DeliveryOptions { copies: 1..=6, shuffle: true, seed: Some(7), ..DeliveryOptions::default() };
    let report = sim.deliver_many(&receiver.base, &calls, &options, 1).await.unwrap();
    assert!(report.all_acknowledged());

    let got = receiver.received();
    assert!(got.iter().all(|r| r.signature_valid));
    assert_eq!(got.len(), report.attempts.len());
    let mut received: HashMap<(String, String), u32> = HashMap::new();
    for r in &got {
        *received.entry((r.subject(), r.kind().to_owned())).or_default() += 1;
    }
    assert_eq!(received.len(), 30 * 5, "every callback of every call arrived");
    assert!(received.values().all(|n| (1..=6).contains(n)));
    assert!(received.values().any(|n| *n > 1), "duplicates were sent");
    assert!(received.values().any(|n| *n == 1));
    let mut planned: HashMap<(String, Callback), u32> = HashMap::new();
    for attempt in &report.attempts {
        *planned.entry((attempt.call_sid.clone(), attempt.callback)).or_default() += 1;
    }
    let mut planned_counts: Vec<u32> = planned.values().copied().collect();
    let mut received_counts: Vec<u32> = received.values().copied().collect();
    planned_counts.sort_unstable();
    received_counts.sort_unstable();
    assert_eq!(planned_counts, received_counts, "the report says what was sent");

    // Shuffled: some call's completed event arrives before its initiated one.
    let position =
        |sid: &str, kind: &str| got.iter().position(|r| r.param("CallSid") == Some(sid) && r.kind() == kind).unwrap();
    assert!(calls.iter().any(|c| position(c.call_sid(), "completed") < position(c.call_sid(), "initiated")));
    // The same seed plans the same deliveries.
    let again = sim.deliver_many(&receiver.base, &calls, &options, 1).await.unwrap();
    let plan = |r: &omnivox_twilio_sim::DeliveryReport| {
        r.attempts.iter().map(|a| (a.call_sid.clone(), a.callback, a.copy)).collect::<Vec<_>>()
    };
    assert_eq!(plan(&report), plan(&again));
    sim.shutdown().await;
}

#[tokio::test]
async fn without_shuffle_each_call_keeps_its_order_while_calls_interleave() {
    let sim = start().await;
    let receiver = Receiver::start(&sim, Mode::Accept).await;
    let calls: Vec<SimCall> = (0..10).map(|_| recorded(&sim)).collect();
    let options =
        DeliveryOptions { events: vec![CallEvent::Completed, CallEvent::Initiated], ..DeliveryOptions::default() };
    sim.deliver_many(&receiver.base, &calls, &options, 1).await.unwrap();
    let got = receiver.received();
    let kinds: Vec<&str> = got.iter().map(Received::kind).collect();
    assert_eq!(kinds[..10], ["initiated"; 10]);
    assert_eq!(kinds[10..20], ["completed"; 10]);
    assert_eq!(kinds[20..], ["recording"; 10]);
    assert!(got[10..20].iter().all(|r| r.param("SequenceNumber") == Some("1")));
    sim.shutdown().await;
}

#[tokio::test]
async fn twilio_retries_once_after_a_5xx_but_not_after_a_4xx() {
    let sim = start().await;
    let call = recorded(&sim);
    let flaky = Receiver::start(&sim, Mode::FailFirstTry).await;
    let report = sim.deliver(&flaky.base, &call, &DeliveryOptions::default()).await.unwrap();
    assert!(report.all_acknowledged());
    assert_eq!(report.attempts.len(), 10);
    assert!(report.attempts.chunks(2).all(|pair| pair[0].outcome == AttemptOutcome::Status(503)
        && pair[1].outcome == AttemptOutcome::Status(204)
        && pair[1].attempt == 1));

    let flaky = Receiver::start(&sim, Mode::FailFirstTry).await;
    let no_retry = DeliveryOptions { retry_on_failure: false, ..DeliveryOptions::default() };
    let report = sim.deliver(&flaky.base, &call, &no_retry).await.unwrap();
    assert_eq!((report.attempts.len(), report.unacknowledged().len()), (5, 5));

    let refusing = Receiver::start(&sim, Mode::Answer(400)).await;
    let report = sim.deliver(&refusing.base, &call, &DeliveryOptions::default()).await.unwrap();
    assert_eq!(report.attempts.len(), 5, "a 4xx is an answer, not retried");
    assert_eq!(report.unacknowledged().len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_target_is_reported_as_transport_errors() {
    let sim = start().await;
    let call = recorded(&sim);
    // Bind and drop a listener to get a port that refuses connections.
    let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let report = sim.deliver(&format!("http://127.0.0.1:{port}"), &call, &DeliveryOptions::default()).await.unwrap();
    assert_eq!(report.attempts.len(), 10, "each callback tried twice");
    assert!(report.attempts.iter().all(|a| matches!(a.outcome, AttemptOutcome::TransportError(_))));
    assert_eq!(report.unacknowledged().len(), 5);
    sim.shutdown().await;
}

#[tokio::test]
async fn ten_thousand_callbacks_over_64_connections() {
    let sim = start().await;
    let receiver = Receiver::start(&sim, Mode::Accept).await;
    let calls: Vec<SimCall> = (0..2000).map(|_| recorded(&sim)).collect();
    let started = std::time::Instant::now();
    let report = sim.deliver_many(&receiver.base, &calls, &DeliveryOptions::default(), 64).await.unwrap();
    eprintln!("10,000 callbacks over 64 connections in {:?}", started.elapsed());
    assert!(report.all_acknowledged());
    let got = receiver.received();
    assert_eq!(got.len(), 10_000);
    assert!(got.iter().all(|r| r.signature_valid));
    let distinct: HashSet<(String, String)> = got.iter().map(|r| (r.subject(), r.kind().to_owned())).collect();
    assert_eq!(distinct.len(), 10_000);
    sim.shutdown().await;
}
