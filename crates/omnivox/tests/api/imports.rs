//! The historical import and the reconciliation sweep against the Twilio
//! simulator: counts equal to Twilio's ground truth under injected 429s
//! and 5xx, reruns that skip, webhook-delivered recordings skipped not
//! doubled, overlapping imports refused, bad input answered 400/403, and a
//! lost webhook healed by the sweep and counted as a sync gap.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use omnivox_core::Role;
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::{CallSpec, DeliveryOptions, Faults, RecordingOutcome, SimCall, Simulator};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{delivery, error_of, spawn_app_with_twilio, TestApp};

both_backends!(
    imports_match_twilio_and_reruns_skip_what_exists,
    overlapping_imports_are_refused_and_bad_input_named,
    a_lost_webhook_is_found_by_the_sweep,
);

/// Settings for import tests: no sweep, no enrich jobs, quick retries.
const QUIET: &[(&str, &str)] = &[("OMNIVOX_SWEEP_INTERVAL_SECONDS", "0"), ("OMNIVOX_ENRICH_DELAY_SECONDS", "3600")];

/// A short recorded call created on day `day` of January 2026.
pub(crate) fn january_call(sim: &Simulator, day: u32, n: u32, outcome: RecordingOutcome) -> SimCall {
    sim.add_call(CallSpec {
        duration_secs: 1,
        recording_channels: 1,
        recording_status: outcome,
        to: format!("+1415555{:04}", n % 10_000),
        date_created: Utc.with_ymd_and_hms(2026, 1, day, 9, 0, 0).unwrap() + chrono::Duration::seconds(i64::from(n)),
        ..CallSpec::default()
    })
}

/// Starts an import of January 2026 and waits for it to end.
pub(crate) async fn import_january(app: &TestApp, token: &str) -> Value {
    let body = json!({ "dateCreatedAfter": "2026-01-01", "dateCreatedBefore": "2026-01-31" });
    let started = app.post("/api/call-records/import-twilio-recordings", Some(token), body).await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let id = started.json::<Value>().await.unwrap()["importId"].as_i64().unwrap();
    assert_eq!(location, format!("/api/imports/{id}"));
    wait_for_import(app, token, id).await
}

pub(crate) async fn wait_for_import(app: &TestApp, token: &str, id: i64) -> Value {
    let started = std::time::Instant::now();
    loop {
        let response = app.get(&format!("/api/imports/{id}"), Some(token)).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        let run: Value = serde_json::from_str(&text).unwrap();
        if run["state"] != "running" {
            return run;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let jobs: Value = app.get("/api/admin/jobs?state=queued", Some(token)).await.json().await.unwrap();
            let import_jobs: Vec<&Value> =
                jobs["items"].as_array().unwrap().iter().filter(|j| j["kind"] == "import-twilio-recordings").collect();
            panic!("import never finished: {run}\nits queued job: {import_jobs:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn result(run: &Value) -> (i64, i64, i64, i64) {
    let r = &run["result"];
    let n = |k: &str| r[k].as_i64().unwrap_or(-1);
    (n("imported"), n("skipped"), n("errors"), n("totalTwilioRecordings"))
}

async fn imports_match_twilio_and_reruns_skip_what_exists(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, QUIET).await;
    let token = app.admin_token().await;
    // 2,500 recordings in range over 3 pages: completed, absent, failed and
    // soft-deleted ones; 30 more outside the range.
    let mut in_range = Vec::new();
    for n in 0..2500u32 {
        let outcome = match n % 50 {
            7 => RecordingOutcome::Absent,
            8 => RecordingOutcome::Failed,
            _ => RecordingOutcome::Completed,
        };
        in_range.push(january_call(&sim, 1 + n % 28, n, outcome));
    }
    for n in 0..30u32 {
        sim.add_call(CallSpec {
            to: format!("+1415666{n:04}"),
            date_created: Utc.with_ymd_and_hms(2026, 2, 3, 9, 0, 0).unwrap(),
            duration_secs: 1,
            ..CallSpec::default()
        });
    }
    let deleted = sim.add_call(CallSpec {
        soft_deleted: true,
        date_created: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
        ..CallSpec::default()
    });
    // 20 recordings came by webhook before the import.
    let by_webhook: Vec<&SimCall> =
        in_range.iter().filter(|c| c.recording_outcome == RecordingOutcome::Completed).take(20).collect();
    for call in &by_webhook {
        assert!(sim.deliver(&app.base(), call, &delivery()).await.unwrap().all_acknowledged());
    }
    sim.seed_faults(7);
    sim.set_faults(Faults { rate_429: 0.05, rate_5xx: 0.01, ..Faults::default() });

    let first = import_january(&app, &token).await;
    let completed = in_range.iter().filter(|c| c.recording_outcome == RecordingOutcome::Completed).count() as i64;
    assert_eq!(first["state"], "completed", "{first}");
    assert_eq!(result(&first), (completed - 20, 2500 - (completed - 20), 0, 2500), "{first}");
    assert_eq!(first["progress"]["pagesRead"], 3);
    assert_eq!(first["progress"]["processed"], 2500);
    let reasons = first["reasons"].as_array().unwrap();
    let count_of = |reason: &str| {
        reasons
            .iter()
            .filter(|r| r["reason"].as_str().is_some_and(|x| x.starts_with(reason)))
            .map(|r| r["count"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(count_of("already in Omnivox (found by webhook)"), 20, "{first}");
    assert_eq!(count_of("not completed at Twilio (status absent"), 2500 - completed, "{first}");
    let store = &app.db.store;
    assert_eq!(store.count_recordings().await.unwrap(), completed, "each completed recording once, no other");
    assert!(store.known_recordings(&[deleted.recording_sid().unwrap().to_owned()]).await.unwrap().is_empty());
    // Imported calls are in HISTORICAL-CALLS with the details the Calls API gave.
    let imported = in_range
        .iter()
        .filter(|c| c.recording_outcome == RecordingOutcome::Completed)
        .find(|c| !by_webhook.iter().any(|w| w.call_sid() == c.call_sid()))
        .unwrap();
    let record = store.call_record_by_sid(&imported.parent_call_sid().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(record.campaign_id, "HISTORICAL-CALLS");
    assert_eq!(record.to.as_deref(), Some(imported.call.to.as_str()));
    assert_eq!(record.recordings[0].found_by, "import");
    let webhook_record =
        store.call_record_by_sid(&by_webhook[0].parent_call_sid().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(webhook_record.campaign_id, "LIVE-CALLS");
    assert_eq!(webhook_record.recordings[0].found_by, "webhook");

    // Every item can be read with its reason.
    let page: Value = app
        .get(&format!("/api/imports/{}/items?outcome=skipped&limit=1000", first["id"]), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len() as i64, 2500 - (completed - 20));
    assert!(page["items"].as_array().unwrap().iter().all(|i| i["reason"].is_string()));

    sim.set_faults(Faults::default());
    let second = import_january(&app, &token).await;
    assert_eq!(result(&second), (0, 2500, 0, 2500), "{second}");

    for n in 0..40u32 {
        january_call(&sim, 15, 10_000 + n, RecordingOutcome::Completed);
    }
    let third = import_january(&app, &token).await;
    assert_eq!(result(&third), (40, 2500, 0, 2540), "{third}");
    assert_eq!(store.count_recordings().await.unwrap(), completed + 40);
    assert_eq!(store.count_call_records().await.unwrap(), completed + 40);
    app.stop().await;
}

async fn overlapping_imports_are_refused_and_bad_input_named(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, QUIET).await;
    let token = app.admin_token().await;
    let url = "/api/call-records/import-twilio-recordings";
    let (_, agent_password) = app.create_user("ann", Role::Agent).await;
    let agent = app.token_for("ann", &agent_password).await;
    let (_, supervisor_password) = app.create_user("sue", Role::Supervisor).await;
    let supervisor = app.token_for("sue", &supervisor_password).await;
    assert_eq!(app.post(url, None, json!({})).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.post(url, Some(&agent), json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post(url, Some(&supervisor), json!({})).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/imports/1", Some(&supervisor)).await.status(), StatusCode::FORBIDDEN);

    let (status, code, message) =
        error_of(app.post(url, Some(&token), json!({ "dateCreatedAfter": "last tuesday" })).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    assert!(message.contains("dateCreatedAfter") && message.contains("last tuesday"), "{message}");
    let (status, _, message) = error_of(
        app.post(url, Some(&token), json!({ "dateCreatedAfter": "2026-02-01", "dateCreatedBefore": "2026-01-01" }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("dateCreatedBefore"), "{message}");
    let (status, _, message) = error_of(app.post(url, Some(&token), json!({ "since": "2026-01-01" })).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("since"), "{message}");

    // A slow Twilio keeps the first import running while the others are asked for.
    for n in 0..30 {
        january_call(&sim, 10, n, RecordingOutcome::Completed);
    }
    sim.set_faults(Faults { latency: Duration::from_millis(150), ..Faults::default() });
    let first = app
        .post(url, Some(&token), json!({ "dateCreatedAfter": "2026-01-01", "dateCreatedBefore": "2026-01-31" }))
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first_id = first.json::<Value>().await.unwrap()["importId"].as_i64().unwrap();
    let (status, code, message) =
        error_of(app.post(url, Some(&token), json!({ "dateCreatedAfter": "2026-01-31T12:00:00Z" })).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert!(message.contains(&format!("import #{first_id}")) && message.contains("overlaps"), "{message}");
    let elsewhere = app.post(url, Some(&token), json!({ "dateCreatedBefore": "2025-12-31", "dryRun": true })).await;
    assert_eq!(elsewhere.status(), StatusCode::ACCEPTED, "a range that does not overlap starts");
    let dry_id = elsewhere.json::<Value>().await.unwrap()["importId"].as_i64().unwrap();
    let run = wait_for_import(&app, &token, first_id).await;
    assert_eq!(result(&run), (30, 0, 0, 30), "{run}");
    let dry = wait_for_import(&app, &token, dry_id).await;
    assert_eq!((dry["dryRun"].clone(), result(&dry)), (json!(true), (0, 0, 0, 0)), "{dry}");
    let list: Value = app.get("/api/imports", Some(&token)).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let audit: Value = app.get("/api/admin/audit", Some(&token)).await.json().await.unwrap();
    assert_eq!(audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "import.start").count(), 2);
    app.stop().await;
}

async fn a_lost_webhook_is_found_by_the_sweep(db: TestDb) {
    let env = [
        ("OMNIVOX_SWEEP_INTERVAL_SECONDS", "2"),
        ("OMNIVOX_SWEEP_GRACE_SECONDS", "0"),
        ("OMNIVOX_ENRICH_DELAY_SECONDS", "3600"),
    ];
    let (app, sim) = spawn_app_with_twilio(db, &env).await;
    let token = app.admin_token().await;
    let delivered = sim.add_call(CallSpec { duration_secs: 1, ..CallSpec::default() });
    assert!(sim.deliver(&app.base(), &delivered, &delivery()).await.unwrap().all_acknowledged());
    // The call's callbacks arrive; its recording callback is lost.
    let lost = sim.add_call(CallSpec { duration_secs: 1, ..CallSpec::default() });
    let options = DeliveryOptions { send_recording: false, ..delivery() };
    assert!(sim.deliver(&app.base(), &lost, &options).await.unwrap().all_acknowledged());
    let lost_sid = lost.recording_sid().unwrap().to_owned();

    let started = std::time::Instant::now();
    let gaps = loop {
        let gaps: Value = app.get("/api/admin/sync-gaps", Some(&token)).await.json().await.unwrap();
        if gaps["total"] == 1 {
            break gaps;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the sweep never found {lost_sid}: {gaps}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(gaps["items"][0]["recordingSid"], lost_sid.as_str());
    let record = app.db.store.call_record_by_sid(&lost.parent_call_sid().parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(record.recordings.len(), 1);
    assert_eq!(record.recordings[0].found_by, "sweep");
    assert_eq!(record.campaign_id, "LIVE-CALLS");
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "omnivox_sync_gaps 1"), "{metrics}");
    // The healed recording is archived like any other.
    let id = record.recordings[0].id;
    crate::media_helpers::wait_for_sync(&app, &token, id, "verified").await;
    // Later sweeps find nothing new.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let gaps: Value = app.get("/api/admin/sync-gaps", Some(&token)).await.json().await.unwrap();
    assert_eq!(gaps["total"], 1);
    assert_eq!(app.db.store.count_recordings().await.unwrap(), 2);
    app.stop().await;
}
