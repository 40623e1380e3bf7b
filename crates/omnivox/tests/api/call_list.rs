//! `GET /api/call-records` and `GET /api/call-records/{id}` over HTTP: the
//! filters as query parameters, keyset pages through `nextCursor`, agents
//! narrowed to their own calls, 400s naming the parameter, and the call's
//! timeline.

use chrono::{DateTime, Duration, TimeZone, Utc};
use omnivox_core::Role;
use omnivox_testkit::calls::{seed_call, SeedCall};
use omnivox_testkit::{both_backends, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_of, spawn_app, TestApp};

both_backends!(
    filters_and_pages_over_http,
    agents_list_only_their_own_calls,
    bad_parameters_answer_400_naming_the_parameter,
    a_call_shows_its_timeline,
);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

/// `(items' ids, nextCursor)` of one page.
async fn page(app: &TestApp, token: &str, query: &str) -> (Vec<i64>, Option<String>) {
    let response = app.get(&format!("/api/call-records?{query}"), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let body: Value = response.json().await.unwrap();
    let ids = body["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    (ids, body["nextCursor"].as_str().map(str::to_owned))
}

async fn ids(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let (ids, next) = page(app, token, &format!("{query}&limit=200")).await;
    assert_eq!(next, None);
    ids
}

/// Twelve calls a minute apart, newest last: `(id, call)`.
async fn seed(app: &TestApp, agents: [Option<omnivox_core::store::UserId>; 2]) -> Vec<(i64, SeedCall)> {
    let mut calls = Vec::new();
    for n in 0..12u32 {
        let mut c = SeedCall::new(n, t0() + Duration::minutes(i64::from(n)));
        c.campaign = (n % 2 == 1).then(|| "SALES".to_owned());
        c.agent = agents[(n % 2) as usize];
        c.status = if n % 3 == 0 { "no-answer" } else { "completed" };
        c.direction = if n % 4 == 0 { "inbound" } else { "outbound-api" };
        c.customer = format!("+1646555{:04}", 100 + n);
        c.recording = n % 3 != 0;
        calls.push((seed_call(&app.db.store, &c).await, c));
    }
    calls
}

/// Which seeded calls a query should list.
type Keep = Box<dyn Fn(&SeedCall) -> bool>;

fn newest_first(calls: &[(i64, SeedCall)], keep: impl Fn(&SeedCall) -> bool) -> Vec<i64> {
    calls.iter().rev().filter(|(_, c)| keep(c)).map(|(id, _)| *id).collect()
}

async fn filters_and_pages_over_http(db: TestDb) {
    let app = spawn_app(db).await;
    let (alice, _) = app.create_user("alice", Role::Agent).await;
    let token = app.admin_token().await;
    let calls = seed(&app, [Some(alice.id), None]).await;

    assert_eq!(ids(&app, &token, "").await, newest_first(&calls, |_| true));
    let cases: Vec<(String, Keep)> = vec![
        ("campaignId=SALES".into(), Box::new(|c| c.campaign.is_some())),
        (format!("agentId={}", alice.id.0), Box::new(move |c| c.agent == Some(alice.id))),
        ("status=no-answer".into(), Box::new(|c| c.status == "no-answer")),
        ("direction=inbound".into(), Box::new(|c| c.direction == "inbound")),
        ("hasRecording=true".into(), Box::new(|c| c.recording)),
        ("hasRecording=false".into(), Box::new(|c| !c.recording)),
        ("phone=555-0107".into(), Box::new(|c| c.customer.ends_with("5550107"))),
        ("phone=%2B1%20(646)".into(), Box::new(|_| true)),
        ("q=6465550110".into(), Box::new(|c| c.customer.ends_with("0110"))),
        (format!("q={}", &calls[3].1.call_sid()[..33]), Box::new(|c| c.n < 16)),
        (format!("callSid={}", calls[3].1.call_sid()), Box::new(|c| c.n == 3)),
        ("from=2026-11-20T09:03:00Z&to=2026-11-20T09:05:00Z".into(), Box::new(|c| (3..=5).contains(&c.n))),
        ("from=2026-11-21".into(), Box::new(|_| false)),
        ("to=2026-11-20".into(), Box::new(|_| true)),
        ("campaignId=SALES&status=completed&hasRecording=true".into(), Box::new(|c| c.n % 2 == 1 && c.n % 3 != 0)),
        ("campaignId=&status=&q=".into(), Box::new(|_| true)),
    ];
    for (query, keep) in &cases {
        assert_eq!(ids(&app, &token, query).await, newest_first(&calls, keep), "{query}");
    }

    // Every row once, in order, while newer calls keep arriving.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut n = 100;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=5&cursor={c}"),
            None => "limit=5".to_owned(),
        };
        let (ids, next) = page(&app, &token, &query).await;
        assert!(ids.len() <= 5);
        seen.extend(ids);
        n += 1;
        seed_call(&app.db.store, &SeedCall::new(n, t0() + Duration::hours(1) + Duration::minutes(i64::from(n)))).await;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, newest_first(&calls, |_| true));
    let (first, _) = page(&app, &token, "limit=200").await;
    assert_eq!(first.len(), calls.len() + (n - 100) as usize);
}

async fn agents_list_only_their_own_calls(db: TestDb) {
    let app = spawn_app(db).await;
    let (alice, alice_pw) = app.create_user("alice", Role::Agent).await;
    let (bob, _) = app.create_user("bob", Role::Agent).await;
    let calls = seed(&app, [Some(alice.id), Some(bob.id)]).await;
    let token = app.token_for("alice", &alice_pw).await;

    assert_eq!(ids(&app, &token, "").await, newest_first(&calls, |c| c.agent == Some(alice.id)));
    assert_eq!(ids(&app, &token, &format!("agentId={}", alice.id.0)).await.len(), 6);
    assert_eq!(ids(&app, &token, &format!("agentId={}", bob.id.0)).await, Vec::<i64>::new());
    let bobs = calls.iter().find(|(_, c)| c.agent == Some(bob.id)).unwrap();
    assert_eq!(ids(&app, &token, &format!("callSid={}", bobs.1.call_sid())).await, Vec::<i64>::new());
    let response = app.get(&format!("/api/call-records/{}", bobs.0), Some(&token)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.get("/api/call-records", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn bad_parameters_answer_400_naming_the_parameter(db: TestDb) {
    let app = spawn_app(db).await;
    let token = app.admin_token().await;
    for (field, query) in [
        ("limit", "limit=0"),
        ("limit", "limit=201"),
        ("limit", "limit=many"),
        ("cursor", "cursor=not-a-cursor"),
        ("agentId", "agentId=alice"),
        ("status", "status=finished"),
        ("direction", "direction=sideways"),
        ("phone", "phone=55"),
        ("phone", "phone=555*"),
        ("from", "from=last%20week"),
        ("to", "from=2026-11-21&to=2026-11-20"),
        ("hasRecording", "hasRecording=1"),
        ("q", "q=x"),
        ("callSid", "callSid=CA1"),
    ] {
        let (status, code, message) =
            error_of(app.get(&format!("/api/call-records?{query}"), Some(&token)).await).await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"), "{query}");
        assert!(message.starts_with(&format!("{field}: ")), "{query}: {message}");
    }
    let (ids, next) = page(&app, &token, "limit=200").await;
    assert_eq!((ids.len(), next), (0, None));
}

async fn a_call_shows_its_timeline(db: TestDb) {
    let app = spawn_app(db).await;
    let token = app.admin_token().await;
    let mut call = SeedCall::new(1, t0());
    call.recording = true;
    let id = seed_call(&app.db.store, &call).await;
    let body: Value = app.get(&format!("/api/call-records/{id}"), Some(&token)).await.json().await.unwrap();
    assert_eq!(body["callId"], call.call_sid());
    assert_eq!(body["campaignId"], "LIVE-CALLS");
    assert_eq!(body["recordings"].as_array().unwrap().len(), 1);
    let events = body["events"].as_array().unwrap();
    let lines: Vec<_> = events.iter().map(|e| (e["source"].as_str().unwrap(), e["status"].as_str().unwrap())).collect();
    assert_eq!(lines, [("call-status", "completed"), ("recording-status", "completed")]);
    assert_eq!(events[0]["receivedAt"], "2026-11-20T09:00:00Z");
    assert_eq!(events[0]["payload"]["CallStatus"], "completed");
    // The list shows the same call, without the timeline.
    let list: Value = app.get("/api/call-records", Some(&token)).await.json().await.unwrap();
    let item = list["items"][0].clone();
    assert!(item.get("events").is_none());
    let mut detail = body.clone();
    detail.as_object_mut().unwrap().remove("events");
    assert_eq!(item, detail);
}
