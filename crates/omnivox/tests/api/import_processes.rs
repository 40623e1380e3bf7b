//! Imports that are cut off: a real `omnivox serve` killed with SIGKILL in
//! the middle of an import, and the `omnivox import twilio` command killed
//! and run again. Both end with the totals an uninterrupted run gives, no
//! duplicate, and no media downloaded again once verified.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use omnivox_core::store::ImportState;
use omnivox_core::RecordingSid;
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::{Faults, RecordingOutcome, SimCall, SimConfig, Simulator};
use serde_json::{json, Value};

use crate::helpers::{random_password, secret};
use crate::imports::january_call;
use crate::media_helpers::media_requests;
use crate::processes::Serve;

both_backends!(an_import_killed_midway_resumes_with_the_same_totals, the_import_command_resumes_after_a_kill);

/// 1,500 recordings in January (two pages), one in 25 absent.
fn fill(sim: &Simulator) -> Vec<SimCall> {
    (0..1500u32)
        .map(|n| {
            let outcome = if n % 25 == 3 { RecordingOutcome::Absent } else { RecordingOutcome::Completed };
            january_call(sim, 1 + n % 28, n, outcome)
        })
        .collect()
}

fn completed(calls: &[SimCall]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.recording_outcome == RecordingOutcome::Completed)
        .filter_map(|c| c.recording_sid().map(str::to_owned))
        .collect()
}

/// Waits until the run has processed at least `at_least` recordings.
async fn wait_processed(db: &TestDb, id: i64, at_least: i64) {
    let started = Instant::now();
    loop {
        if let Some(run) = db.store.import_run(id).await.unwrap() {
            assert_eq!(run.state, ImportState::Running, "the import ended before the kill: {run:?}");
            if run.progress.processed >= at_least {
                return;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the import never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn verified(db: &TestDb, sids: &[String]) -> HashSet<String> {
    let mut done = HashSet::new();
    for sid in sids {
        let media = db.store.recording_media_by_sid(&RecordingSid::parse(sid).unwrap()).await.unwrap();
        if media.is_some_and(|m| m.recording.sync_status == "verified") {
            done.insert(sid.clone());
        }
    }
    done
}

async fn an_import_killed_midway_resumes_with_the_same_totals(db: TestDb) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let calls = fill(&sim);
    let completed = completed(&calls);
    sim.set_faults(Faults { latency: Duration::from_millis(3), ..Faults::default() });
    let media = tempfile::tempdir().unwrap();
    let storage = format!("file://{}", media.path().display());
    let password = random_password();
    let env = [
        ("OMNIVOX_STORAGE_URL", storage.as_str()),
        ("OMNIVOX_JOB_LEASE_SECONDS", "2"),
        ("OMNIVOX_SWEEP_INTERVAL_SECONDS", "0"),
        ("OMNIVOX_ADMIN_PASSWORD", password.as_str()),
    ];
    let serve = Serve::start_with(&db.url, &sim, &env);
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/api/auth/login", serve.base))
        .json(&json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = secret(login["token"].as_str().unwrap());
    let body = json!({ "dateCreatedAfter": "2026-01-01", "dateCreatedBefore": "2026-01-31" });
    let started: Value = client
        .post(format!("{}/api/call-records/import-twilio-recordings", serve.base))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["importId"].as_i64().unwrap();
    wait_processed(&db, id, 400).await;
    serve.kill9();
    let verified_before = verified(&db, &completed).await;
    sim.clear_request_log();

    let serve = Serve::start_with(&db.url, &sim, &env);
    let started = Instant::now();
    let run = loop {
        let run = db.store.import_run(id).await.unwrap().unwrap();
        if run.state != ImportState::Running {
            break run;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the import never resumed: {run:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(run.state, ImportState::Completed, "{run:?}");
    let total = completed.len() as i64;
    let r = &run.result;
    assert_eq!((r.imported, r.skipped, r.errors, r.total_twilio_recordings), (total, 1500 - total, 0, Some(1500)));
    assert_eq!(db.store.count_recordings().await.unwrap(), total);
    assert_eq!(db.store.count_call_records().await.unwrap(), total);
    // Every recording ends archived, and none verified before the kill is downloaded again.
    let started = Instant::now();
    while verified(&db, &completed).await.len() < completed.len() {
        assert!(started.elapsed() < Duration::from_secs(180), "not every imported recording was archived");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for sid in &verified_before {
        assert_eq!(media_requests(&sim, sid), 0, "{sid} was verified before the kill and downloaded again");
    }
    serve.stop();
}

fn import_command(db_url: &str, sim: &Simulator) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_omnivox"));
    cmd.args(["import", "twilio", "--since", "2026-01-01", "--until", "2026-01-31"])
        .current_dir(std::env::temp_dir())
        .env("OMNIVOX_DATABASE_URL", db_url)
        .env("OMNIVOX_STORAGE_URL", format!("file://{}", std::env::temp_dir().join("omnivox-cli-media").display()))
        .env("TWILIO_ACCOUNT_SID", sim.account_sid())
        .env("TWILIO_AUTH_TOKEN", secret(sim.auth_token()))
        .env("OMNIVOX_TWILIO_API_BASE", sim.base_url())
        .env("OMNIVOX_JOB_LEASE_SECONDS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn the_import_command_resumes_after_a_kill(db: TestDb) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let calls = fill(&sim);
    let completed = completed(&calls);
    sim.set_faults(Faults { latency: Duration::from_millis(3), ..Faults::default() });
    let mut first = import_command(&db.url, &sim).spawn().unwrap();
    wait_processed(&db, 1, 300).await;
    let _ = Command::new("kill").args(["-KILL", &first.id().to_string()]).status();
    let _ = first.wait();

    let sim_for_run = sim.clone();
    let db_url = db.url.clone();
    let output =
        tokio::task::spawn_blocking(move || import_command(&db_url, &sim_for_run).output().unwrap()).await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming import #1"), "{stderr}");
    let total = completed.len();
    let expected =
        format!("import #1 completed: 1500 recordings in Twilio; imported {total}, skipped {}, errors 0", 1500 - total);
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains(&format!("{} skipped: not completed at Twilio (status absent", 1500 - total)), "{stdout}");
    assert_eq!(db.store.count_recordings().await.unwrap(), total as i64);

    // A new run of the same range finds everything there.
    let sim_for_run = sim.clone();
    let db_url = db.url.clone();
    let output =
        tokio::task::spawn_blocking(move || import_command(&db_url, &sim_for_run).output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("import #2 completed: 1500 recordings in Twilio; imported 0, skipped 1500"), "{stdout}");
}
