//! The archive job's edges: it never fetches the host a callback names,
//! media Twilio does not have ends `failed` with the reason (once, not
//! forever), and retention deletes expired media unless the call is held.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use omnivox::jobs::ApplyRetention;
use omnivox_jobs::new_job;
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio::RequestValidator;
use omnivox_twilio_sim::CallSpec;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{delivery, error_of, secret, spawn_app_with_twilio, PUBLIC_URL};
use crate::media_helpers::*;

both_backends!(
    verified_recordings_can_be_deleted_from_twilio,
    a_recording_url_naming_another_host_is_never_fetched,
    media_twilio_does_not_have_fails_once_with_the_reason,
    retention_deletes_expired_media_unless_the_call_is_on_hold,
);

async fn verified_recordings_can_be_deleted_from_twilio(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[("OMNIVOX_TWILIO_DELETE_AFTER_ARCHIVE", "true")]).await;
    let token = app.admin_token().await;
    let call = sim.add_call(CallSpec { duration_secs: 3, ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    wait_for_sync(&app, &token, id, "verified").await;
    let sid = call.recording_sid().unwrap();
    let started = std::time::Instant::now();
    while !sim.recordings().iter().any(|r| r.sid == sid && r.is_deleted()) {
        assert!(started.elapsed() < Duration::from_secs(30), "never deleted from Twilio");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Our copy still plays.
    let played = app.get(&format!("/api/recordings/{id}/stream"), Some(&token)).await;
    assert_eq!(
        played.bytes().await.unwrap().len() as i64,
        wait_for_sync(&app, &token, id, "verified").await["sizeBytes"].as_i64().unwrap()
    );
    app.stop().await;
}

async fn a_recording_url_naming_another_host_is_never_fetched(db: TestDb) {
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_addr = trap.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        while trap.accept().await.is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let token = app.admin_token().await;
    let call = sim.add_call(CallSpec { duration_secs: 5, ..CallSpec::default() });
    let recording_sid = call.recording_sid().unwrap().to_owned();
    for evil in [format!("http://{trap_addr}/latest/meta-data/iam"), "http://169.254.169.254/latest/meta-data".into()] {
        let params: Vec<(String, String)> = [
            ("AccountSid", sim.account_sid()),
            ("CallSid", call.call_sid()),
            ("RecordingSid", recording_sid.as_str()),
            ("RecordingUrl", evil.as_str()),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "5"),
            ("RecordingChannels", "2"),
            ("RecordingSource", "DialVerb"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let path = "/api/dialer/webhook/recording-status";
        let signature =
            RequestValidator::new(secret(sim.auth_token())).sign_form(&format!("{PUBLIC_URL}{path}"), &params);
        let response =
            app.client.post(app.url(path)).header("X-Twilio-Signature", signature).form(&params).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let id = recording_id(&app, &call).await;
    let meta = wait_for_sync(&app, &token, id, "verified").await;
    assert_eq!(meta["sha256"], sha256_hex(&source_media(&sim, &call, "wav").await));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the host named by RecordingUrl was contacted");
    assert_eq!(media_requests(&sim, &recording_sid), 2, "the media came from the configured API base instead");
    app.stop().await;
}

async fn media_twilio_does_not_have_fails_once_with_the_reason(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let token = app.admin_token().await;
    let call = sim.add_call(CallSpec { duration_secs: 5, media_missing: true, ..CallSpec::default() });
    sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
    let id = recording_id(&app, &call).await;
    let meta = wait_for_sync(&app, &token, id, "failed").await;
    let reason = meta["error"].as_str().unwrap();
    assert!(reason.contains("Twilio has no media") && reason.contains("404"), "{reason}");
    let dead: Value = app.get("/api/admin/jobs?state=dead", Some(&token)).await.json().await.unwrap();
    let archive_jobs: Vec<_> =
        dead["items"].as_array().unwrap().iter().filter(|j| j["kind"] == "archive-media").collect();
    assert_eq!(archive_jobs.len(), 1, "{dead}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(media_requests(&sim, call.recording_sid().unwrap()), 1, "a 404 is not retried");
    app.stop().await;
}

async fn retention_deletes_expired_media_unless_the_call_is_on_hold(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let token = app.admin_token().await;
    let ten_days_ago = chrono::Utc::now() - chrono::Duration::days(10);
    let calls: Vec<_> = (0..2)
        .map(|_| sim.add_call(CallSpec { duration_secs: 3, date_created: ten_days_ago, ..CallSpec::default() }))
        .collect();
    let mut ids = Vec::new();
    for call in &calls {
        sim.deliver(&app.base(), call, &delivery()).await.unwrap();
        let id = recording_id(&app, call).await;
        wait_for_sync(&app, &token, id, "verified").await;
        ids.push(id);
    }
    let (expiring, held) = (ids[0], ids[1]);
    let held_call = app.db.store.recording_media(held).await.unwrap().unwrap().recording.call_record_id;

    let retention = "/api/admin/campaigns/LIVE-CALLS/retention";
    let bad = app.client.put(app.url(retention)).bearer_auth(&token).json(&json!({"retentionDays": 0})).send().await;
    let (status, _, message) = error_of(bad.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("retentionDays"), "{message}");
    let ok = app.client.put(app.url(retention)).bearer_auth(&token).json(&json!({"retentionDays": 7})).send().await;
    assert_eq!(ok.unwrap().status(), StatusCode::NO_CONTENT);
    let hold = format!("/api/call-records/{held_call}/legal-hold");
    let ok = app.client.put(app.url(&hold)).bearer_auth(&token).json(&json!({"legalHold": true})).send().await;
    assert_eq!(ok.unwrap().status(), StatusCode::NO_CONTENT);

    // The daily run, now.
    let now = chrono::Utc::now();
    app.db.store.enqueue_job(&new_job(&ApplyRetention { slot: 1 }, now).unwrap(), now).await.unwrap();
    wait_for_sync(&app, &token, expiring, "deleted").await;
    let kept: Value = app.get(&format!("/api/recordings/{held}"), Some(&token)).await.json().await.unwrap();
    assert_eq!(kept["syncStatus"], "verified", "on hold: kept");
    let files = files_under(app.media_dir.as_ref().unwrap().path());
    assert_eq!(files, [kept["storageKey"].as_str().unwrap()], "only the held recording's media is left");
    let (status, code, _) = error_of(app.get(&format!("/api/recordings/{expiring}/stream"), Some(&token)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"));

    let entries: Value = app.get("/api/admin/audit", Some(&token)).await.json().await.unwrap();
    let actions: Vec<_> = entries["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["recording.retention_delete", "call.legal_hold", "campaign.retention"] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
    app.stop().await;
}
