//! Purging every call record: by an admin with the exact confirmation, over
//! the API or with `omnivox purge call-records --yes`; rows, recordings,
//! media files and follow-up jobs go; campaigns, users and contacts stay.

use std::process::Command;

use omnivox_core::store::JobState;
use omnivox_core::Role;
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::CallSpec;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{delivery, error_of, spawn_app_with_twilio, TestApp};
use crate::media_helpers::{files_under, recording_id, wait_for_sync};

both_backends!(admins_purge_every_call_record_and_its_media, the_purge_command_needs_yes);

async fn two_archived_calls(app: &TestApp, sim: &omnivox_twilio_sim::Simulator, token: &str) {
    for to in ["+14155550101", "+14155550102"] {
        let call = sim.add_call(CallSpec {
            to: to.into(),
            duration_secs: 5,
            campaign_id: Some("SALES".into()),
            ..CallSpec::default()
        });
        sim.deliver(&app.base(), &call, &delivery()).await.unwrap();
        wait_for_sync(app, token, recording_id(app, &call).await, "verified").await;
    }
}

async fn admins_purge_every_call_record_and_its_media(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    let (_, password) = app.create_user("sue", Role::Supervisor).await;
    let sue = app.token_for("sue", &password).await;
    two_archived_calls(&app, &sim, &admin).await;
    let media = app.media_dir.as_ref().unwrap().path().to_owned();
    assert_eq!(files_under(&media).len(), 2);

    let purge = |token: String, body: Value| {
        let request = app.client.delete(app.url("/api/admin/call-records")).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap() }
    };
    let confirm = json!({ "confirm": "DELETE ALL CALL RECORDS" });
    assert_eq!(purge(sue.clone(), confirm.clone()).await.status(), StatusCode::FORBIDDEN);
    let (status, _, message) = error_of(purge(admin.clone(), json!({ "confirm": "yes" })).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.starts_with("confirm") && message.contains("DELETE ALL CALL RECORDS"), "{message}");
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 2, "a refused purge deletes nothing");

    let done = purge(admin.clone(), confirm).await;
    assert_eq!(done.status(), StatusCode::OK);
    let report: Value = done.json().await.unwrap();
    assert_eq!(
        report,
        json!({ "deletedCallRecords": 2, "deletedRecordings": 2, "deletedMediaFiles": 2, "mediaErrors": 0 })
    );
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 0);
    assert_eq!(app.db.store.count_recordings().await.unwrap(), 0);
    assert!(files_under(&media).is_empty(), "{:?}", files_under(&media));
    let list: Value = app.get("/api/call-records", Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    let queued = app.db.store.list_jobs(JobState::Queued, 100).await.unwrap();
    assert!(queued.iter().all(|j| !omnivox_http::purge::CALL_JOB_KINDS.contains(&j.kind.as_str())), "{queued:?}");
    // What is not a call record stays.
    let campaigns: Value = app.get("/api/campaigns", Some(&admin)).await.json().await.unwrap();
    assert!(campaigns.to_string().contains("SALES"), "{campaigns}");
    assert!(app.db.store.find_user_by_name("sue").await.unwrap().is_some());
    let audit: Value = app.get("/api/admin/audit", Some(&admin)).await.json().await.unwrap();
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "call-records.purge"), "{audit}");
    // New calls arrive as before.
    two_archived_calls(&app, &sim, &admin).await;
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 2);
    // A store with nothing to purge purges nothing.
    assert_eq!(app.db.store.purge_call_records(&[]).await.unwrap().call_records, 2);
    assert_eq!(app.db.store.purge_call_records(&[]).await.unwrap().call_records, 0);
    app.stop().await;
}

async fn the_purge_command_needs_yes(db: TestDb) {
    let (app, sim) = spawn_app_with_twilio(db, &[]).await;
    let admin = app.admin_token().await;
    two_archived_calls(&app, &sim, &admin).await;
    let media = app.media_dir.as_ref().unwrap().path().to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_omnivox"))
            .args(args)
            .current_dir(std::env::temp_dir())
            .env("OMNIVOX_DATABASE_URL", &app.db.url)
            .env("OMNIVOX_STORAGE_URL", format!("file://{}", media.display()))
            .env_remove("OMNIVOX_ADMIN_PASSWORD")
            .output()
            .unwrap()
    };
    let refused = run(&["purge", "call-records"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("all 2 call records") && stderr.contains("--yes"), "{stderr}");
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 2);

    let done = run(&["purge", "call-records", "--yes"]);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{stdout}{}", String::from_utf8_lossy(&done.stderr));
    assert!(stdout.contains("deleted 2 call records, 2 recordings and 2 media files"), "{stdout}");
    assert_eq!(app.db.store.count_call_records().await.unwrap(), 0);
    assert!(files_under(&media).is_empty());
    app.stop().await;
}
