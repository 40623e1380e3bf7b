//! Injected latency, 429s and 5xx on REST and media; `/_sim/faults` to steer them.

use std::time::{Duration, Instant};

use omnivox_twilio_sim::{Faults, Simulator};

use crate::helpers::*;

/// One path of each kind: list, fetch, media, call.
fn paths(sim: &Simulator) -> Vec<String> {
    let call = recorded_call(sim, 2, chrono::Utc::now());
    let sid = call.recording_sid().unwrap();
    vec![
        recordings_path(sim),
        recording_path(sim, sid, ".json"),
        recording_path(sim, sid, ".mp3"),
        format!("/2010-04-01/Accounts/{}/Calls/{}.json", sim.account_sid(), call.call_sid()),
    ]
}

#[tokio::test]
async fn rate_429_of_one_answers_every_request_429_with_retry_after() {
    let sim = start().await;
    let paths = paths(&sim);
    sim.set_faults(Faults { rate_429: 1.0, retry_after_secs: Some(7), ..Faults::default() });
    for _ in 0..10 {
        for path in &paths {
            let response = get(&sim, path).await;
            assert_eq!(response.status(), 429, "{path}");
            assert_eq!(response.headers()["retry-after"], "7");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_twilio_error(&body, 429, 20429);
            assert_eq!(body["message"], "Too Many Requests");
        }
    }
    sim.set_faults(Faults::default());
    for _ in 0..10 {
        for path in &paths {
            assert_eq!(get(&sim, path).await.status(), 200, "{path}");
        }
    }
    assert_eq!(sim.request_log().iter().filter(|r| r.status == 429).count(), 40);
    sim.shutdown().await;
}

#[tokio::test]
async fn rate_5xx_of_one_answers_500_or_503_json() {
    let sim = start().await;
    let paths = paths(&sim);
    sim.set_faults(Faults { rate_5xx: 1.0, ..Faults::default() });
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..10 {
        for path in &paths {
            let (status, body) = get_json(&sim, path).await;
            assert!(status == 500 || status == 503, "{path}: {status}");
            assert_twilio_error(&body, status, if status == 503 { 20503 } else { 20500 });
            seen.insert(status);
        }
    }
    assert_eq!(seen.len(), 2, "both kinds show up");
    sim.shutdown().await;
}

#[tokio::test]
async fn partial_rates_are_drawn_per_request_and_a_seed_replays_them() {
    let sim = start().await;
    let path = recordings_path(&sim);
    let statuses = |seed| {
        let sim = sim.clone();
        let path = path.clone();
        async move {
            sim.set_faults(Faults { rate_429: 0.3, rate_5xx: 0.1, ..Faults::default() });
            sim.seed_faults(seed);
            let mut out = Vec::new();
            for _ in 0..200 {
                out.push(get(&sim, &path).await.status().as_u16());
            }
            out
        }
    };
    let a = statuses(42).await;
    assert_eq!(a, statuses(42).await);
    let count = |code| a.iter().filter(|s| **s == code).count();
    assert!((35..85).contains(&count(429)), "{}", count(429));
    assert!(count(200) > 90);
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_is_added_before_answering() {
    let sim = start().await;
    let path = recordings_path(&sim);
    sim.set_faults(Faults { latency: Duration::from_millis(150), ..Faults::default() });
    let started = Instant::now();
    assert_eq!(get(&sim, &path).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    // Concurrent requests wait side by side, not in a queue.
    let started = Instant::now();
    let requests = (0..20).map(|_| get(&sim, &path));
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
    }
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    sim.shutdown().await;
}

#[tokio::test]
async fn media_can_be_paced_like_a_slow_link() {
    let sim = start().await;
    let call = recorded_call(&sim, 2, chrono::Utc::now());
    let path = recording_path(&sim, call.recording_sid().unwrap(), ".wav");
    let whole = get(&sim, &path).await.bytes().await.unwrap();
    sim.set_faults(Faults { media_bytes_per_sec: Some(whole.len() as u64), ..Faults::default() });
    let started = Instant::now();
    let paced = get(&sim, &path).await.bytes().await.unwrap();
    assert_eq!(paced, whole, "same bytes, only slower");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_endpoint_steers_a_running_simulator_and_is_never_faulted() {
    let sim = start().await;
    let url = format!("{}/_sim/faults", sim.base_url());
    let post = |json: serde_json::Value| {
        client().post(&url).basic_auth(sim.account_sid(), Some(sim.auth_token())).json(&json).send()
    };
    let response = post(serde_json::json!({"rate_429": 1.0, "retry_after_secs": 2, "latency_ms": 5})).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(get(&sim, &recordings_path(&sim)).await.status(), 429);
    // Still reachable although every other request is refused.
    let current: Faults = client()
        .get(&url)
        .basic_auth(sim.account_sid(), Some(sim.auth_token()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        current,
        Faults { rate_429: 1.0, retry_after_secs: Some(2), latency: Duration::from_millis(5), ..Faults::default() }
    );
    assert_eq!(post(serde_json::json!({})).await.unwrap().status(), 200);
    assert_eq!(get(&sim, &recordings_path(&sim)).await.status(), 200);
    // It needs the account's credentials like everything else.
    assert_eq!(client().post(&url).json(&serde_json::json!({})).send().await.unwrap().status(), 401);
    sim.shutdown().await;
}
