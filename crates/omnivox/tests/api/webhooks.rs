//! Twilio's callbacks end to end: the simulator signs and sends, the
//! service checks, ingests and acknowledges.

use std::time::Duration;

use omnivox_core::{CallSid, Role};
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio::RequestValidator;
use omnivox_twilio_sim::{CallEvent, CallSpec, DeliveryOptions};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{delivery, error_of, spawn_app_with_twilio, PUBLIC_URL};

const CALL_STATUS: &str = "/api/dialer/webhook/call-status";
const RECORDING_STATUS: &str = "/api/dialer/webhook/recording-status";

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn completed_call(sid: &str) -> Vec<(String, String)> {
    form(&[
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", sid),
        ("CallStatus", "completed"),
        ("From", "+14155550100"),
        ("To", "+14155550199"),
        ("Direction", "outbound-api"),
        ("CallDuration", "42"),
        ("SequenceNumber", "3"),
        ("Timestamp", "Mon, 16 Feb 2026 14:32:15 +0000"),
    ])
}

/// Posts `params` to `path`, signed with `token` for `signed_url`.
async fn post_signed(
    app: &crate::helpers::TestApp,
    path: &str,
    params: &[(String, String)],
    token: &str,
    signed_url: &str,
) -> reqwest::Response {
    let signature = RequestValidator::new(token).sign_form(signed_url, params);
    app.client.post(app.url(path)).header("X-Twilio-Signature", signature).form(params).send().await.unwrap()
}

async fn ten_thousand_calls_delivered_one_to_six_times_shuffled_make_ten_thousand_records(db: TestDb) {
    // Ingest only: archiving 10,000 recordings is another test's business.
    let (app, sim) = spawn_app_with_twilio(db, &[("OMNIVOX_JOB_CONCURRENCY", "0")]).await;
    let calls: Vec<_> = (0..10_000).map(|_| sim.add_call(CallSpec::default())).collect();
    let options = DeliveryOptions {
        copies: 1..=6,
        shuffle: true,
        events: vec![CallEvent::Completed],
        seed: Some(7),
        ..delivery()
    };
    let report = sim.deliver_many(&app.base(), &calls, &options, 64).await.unwrap();
    let failures: Vec<_> =
        report.attempts.iter().filter(|a| !a.outcome.is_success()).map(|a| format!("{:?}", a.outcome)).collect();
    assert!(failures.is_empty(), "{} failed deliveries, first: {:?}", failures.len(), failures.first());
    assert!(report.attempts.len() > 30_000, "duplicates were sent: {}", report.attempts.len());
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 10_000);
    assert_eq!(app.db.store.count_recordings().await.unwrap(), 10_000);
    app.stop().await;
}

async fn unsigned_tampered_wrong_token_or_replayed_requests_get_403_and_write_nothing(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let token = sim.auth_token().to_owned();
    let sid = "CA11111111111111111111111111111111";
    let params = completed_call(sid);
    let url = format!("{PUBLIC_URL}{CALL_STATUS}");

    let unsigned = app.client.post(app.url(CALL_STATUS)).form(&params).send().await.unwrap();
    let (status, code, _) = error_of(unsigned).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "bad_signature"));

    let wrong_token = post_signed(&app, CALL_STATUS, &params, "not-the-token", &url).await;
    assert_eq!(wrong_token.status(), StatusCode::FORBIDDEN);

    let replayed = post_signed(&app, CALL_STATUS, &params, &token, &format!("{PUBLIC_URL}{RECORDING_STATUS}")).await;
    assert_eq!(replayed.status(), StatusCode::FORBIDDEN, "signed for another URL");

    let signature = RequestValidator::new(&token).sign_form(&url, &params);
    let mut tampered = params.clone();
    tampered[6].1 = "1".into(); // CallDuration
    let r = app.client.post(app.url(CALL_STATUS)).header("X-Twilio-Signature", &signature).form(&tampered).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::FORBIDDEN);

    assert_eq!(app.db.store.count_call_records().await.unwrap(), 0, "nothing written");

    // The genuine one goes through.
    let ok = post_signed(&app, CALL_STATUS, &params, &token, &url).await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let call = app.db.store.call_record_by_sid(&CallSid::parse(sid).unwrap()).await.unwrap().unwrap();
    assert_eq!((call.status.as_deref(), call.duration_seconds), (Some("completed"), Some(42)));
    app.stop().await;
}

async fn malformed_callbacks_get_400_naming_the_field_and_extra_fields_are_accepted(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let token = sim.auth_token().to_owned();
    let url = format!("{PUBLIC_URL}{RECORDING_STATUS}");
    let missing = form(&[("CallSid", "CA11111111111111111111111111111111"), ("RecordingStatus", "completed")]);
    let (status, code, message) = error_of(post_signed(&app, RECORDING_STATUS, &missing, &token, &url).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    assert!(message.contains("RecordingSid"), "{message}");

    let bad_duration = form(&[
        ("CallSid", "CA11111111111111111111111111111111"),
        ("RecordingSid", "RE11111111111111111111111111111111"),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "forty"),
    ]);
    let (status, _, message) = error_of(post_signed(&app, RECORDING_STATUS, &bad_duration, &token, &url).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("RecordingDuration") && message.contains("forty"), "{message}");
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 0);

    let mut extra = completed_call("CA22222222222222222222222222222222");
    extra.push(("SomethingTwilioAddedLastWeek".into(), "yes".into()));
    let call_url = format!("{PUBLIC_URL}{CALL_STATUS}");
    assert_eq!(post_signed(&app, CALL_STATUS, &extra, &token, &call_url).await.status(), StatusCode::NO_CONTENT);
    // The legacy recording path is the same handler.
    let rec = form(&[
        ("CallSid", "CA22222222222222222222222222222222"),
        ("RecordingSid", "RE22222222222222222222222222222222"),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "42"),
    ]);
    let legacy = format!("{PUBLIC_URL}/api/calls/recording-callback");
    let r = post_signed(&app, "/api/calls/recording-callback", &rec, &token, &legacy).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.db.store.count_recordings().await.unwrap(), 1);
    app.stop().await;
}

async fn calls_appear_as_live_events_and_agents_hear_only_their_own(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let (agent, agent_pw) = app.create_user("olive", Role::Agent).await;
    let agent_token = app.token_for("olive", &agent_pw).await;
    let open = |token: String| {
        let client = app.client.clone();
        let url = app.url("/api/events");
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let admin_stream = open(admin.clone()).await;
    let agent_stream = open(agent_token.clone()).await;
    assert_eq!(admin_stream.status(), StatusCode::OK);
    assert!(admin_stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));

    // Someone else's call, then the agent's own.
    let other = sim.add_call(CallSpec::default());
    let own = sim.add_call(CallSpec { agent_id: Some(agent.id.0.to_string()), ..CallSpec::default() });
    for call in [&other, &own] {
        let report = sim.deliver(&app.base(), call, &delivery()).await.unwrap();
        assert!(report.all_acknowledged());
    }
    let own_record = app.db.store.call_record_by_sid(&CallSid::parse(own.parent_call_sid()).unwrap()).await.unwrap();
    let own_id = own_record.unwrap().id;

    let admin_events = read_events(admin_stream, 2).await;
    assert_eq!(admin_events.iter().filter(|(k, _)| k == "call.created").count(), 2, "{admin_events:?}");
    let agent_events = read_events(agent_stream, 1).await;
    assert!(!agent_events.is_empty());
    for (kind, data) in &agent_events {
        assert_eq!(data["callRecordId"], own_id, "agent heard {kind} about another call");
    }

    // The same rule for reading a call: another agent's call does not exist for an agent.
    let other_id = app.db.store.call_record_by_sid(&CallSid::parse(other.parent_call_sid()).unwrap()).await;
    let other_id = other_id.unwrap().unwrap().id;
    let own: Value = app.get(&format!("/api/call-records/{own_id}"), Some(&agent_token)).await.json().await.unwrap();
    assert_eq!(own["agentId"], agent.id.0);
    let hidden = app.get(&format!("/api/call-records/{other_id}"), Some(&agent_token)).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let seen = app.get(&format!("/api/call-records/{other_id}"), Some(&admin)).await;
    assert_eq!(seen.status(), StatusCode::OK);
    let seen: Value = seen.json().await.unwrap();
    assert_eq!(seen["recordings"].as_array().unwrap().len(), 1);
    let sync = seen["recordings"][0]["syncStatus"].as_str().unwrap();
    assert!(["pending", "stored", "verified"].contains(&sync), "archiving on its way: {sync}");
    assert_eq!(app.get("/api/call-records/nope", Some(&admin)).await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Reads SSE events until `created` call.created events or a timeout.
async fn read_events(mut response: reqwest::Response, created: usize) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.iter().filter(|(k, _): &&(String, Value)| k == "call.created").count() < created {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let kind = block.lines().find_map(|l| l.strip_prefix("event:")).map(|s| s.trim().to_owned());
            let data = block.lines().find_map(|l| l.strip_prefix("data:")).map(|s| s.trim().to_owned());
            if let (Some(kind), Some(data)) = (kind, data) {
                events.push((kind, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}

async fn the_softphone_twiml_dials_records_and_calls_back_with_agent_and_campaign(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let (agent, _) = app.create_user("alice", Role::Agent).await;
    let token = sim.auth_token().to_owned();
    let url = format!("{PUBLIC_URL}/api/dialer/twiml/outbound");
    let params = form(&[
        ("CallSid", "CA33333333333333333333333333333333"),
        ("From", "client:alice"),
        ("To", "+1 (415) 555-0123"),
        ("campaignId", "sales-q1"),
    ]);
    let r = post_signed(&app, "/api/dialer/twiml/outbound", &params, &token, &url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let xml = r.text().await.unwrap();
    let query = format!("?agentId={}&amp;campaignId=SALES-Q1", agent.id.0);
    for expected in [
        r#"record="record-from-answer-dual""#,
        r#"callerId="+14155550000""#,
        &format!(r#"recordingStatusCallback="{PUBLIC_URL}/api/dialer/webhook/recording-status{query}""#),
        &format!(r#"statusCallback="{PUBLIC_URL}/api/dialer/webhook/call-status{query}""#),
        ">+14155550123</Number>",
    ] {
        assert!(xml.contains(expected), "{expected} missing in {xml}");
    }
    let unsigned = app.client.post(app.url("/api/dialer/twiml/outbound")).form(&params).send().await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    let bad = form(&[("From", "client:alice"), ("To", "call me maybe")]);
    let (status, _, message) =
        error_of(post_signed(&app, "/api/dialer/twiml/outbound", &bad, &token, &url).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("To"), "{message}");
    app.stop().await;
}

async fn a_call_known_only_from_its_recording_is_completed_by_enrich_call(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[("OMNIVOX_ENRICH_DELAY_SECONDS", "0")]).await;
    let call = sim.add_call(CallSpec { to: "+14155550177".into(), ..CallSpec::default() });
    let only_recording = DeliveryOptions { events: vec![], ..delivery() };
    assert!(sim.deliver(&app.base(), &call, &only_recording).await.unwrap().all_acknowledged());
    let sid = CallSid::parse(call.parent_call_sid()).unwrap();
    let mut record = None;
    for _ in 0..100 {
        let r = app.db.store.call_record_by_sid(&sid).await.unwrap().unwrap();
        if r.to.is_some() && r.started_at.is_some() {
            record = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let record = record.expect("the Calls API filled the call in");
    assert_eq!(record.to.as_deref(), Some("+14155550177"));
    assert_eq!(record.contact_phone.as_deref(), Some("+14155550177"));
    assert_eq!(record.status.as_deref(), Some("completed"));
    assert_eq!(record.duration_seconds, Some(30));
    assert!(sim.request_log().iter().any(|r| r.path.contains(&format!("Calls/{sid}.json"))));
    app.stop().await;
}

both_backends!(
    ten_thousand_calls_delivered_one_to_six_times_shuffled_make_ten_thousand_records,
    unsigned_tampered_wrong_token_or_replayed_requests_get_403_and_write_nothing,
    malformed_callbacks_get_400_naming_the_field_and_extra_fields_are_accepted,
    calls_appear_as_live_events_and_agents_hear_only_their_own,
    the_softphone_twiml_dials_records_and_calls_back_with_agent_and_campaign,
    a_call_known_only_from_its_recording_is_completed_by_enrich_call,
);
