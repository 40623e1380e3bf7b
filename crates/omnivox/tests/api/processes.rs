//! Real `omnivox serve` processes: two instances on one PostgreSQL
//! database, and an instance killed with SIGKILL again and again while
//! callbacks arrive.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use omnivox_core::{CallSid, RecordingSid};
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::{AttemptOutcome, CallSpec, Callback, DeliveryOptions, Faults, SimConfig, Simulator};
use rand::Rng;

use crate::helpers::{random_password, secret, PUBLIC_URL};
use crate::media_helpers::{files_under, media_requests, sha256_hex, source_media, storage_env, Storage};

pub(crate) struct Serve {
    child: Child,
    pub base: String,
}

impl Serve {
    /// An instance that only ingests (no job workers), with media kept in a
    /// folder of its own.
    fn start(db_url: &str, sim: &Simulator) -> Serve {
        let media = std::env::temp_dir().join(format!("omnivox-media-{:08x}", rand::rng().random::<u32>()));
        let storage = format!("file://{}", media.display());
        Self::start_with(db_url, sim, &[("OMNIVOX_JOB_CONCURRENCY", "0"), ("OMNIVOX_STORAGE_URL", &storage)])
    }

    pub(crate) fn start_with(db_url: &str, sim: &Simulator, env: &[(&str, &str)]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_omnivox"))
            .arg("serve")
            .current_dir(std::env::temp_dir())
            .env("OMNIVOX_DATABASE_URL", db_url)
            .env("OMNIVOX_LISTEN", "127.0.0.1:0")
            .env("TWILIO_ACCOUNT_SID", sim.account_sid())
            .env("TWILIO_AUTH_TOKEN", secret(sim.auth_token()))
            .env("OMNIVOX_TWILIO_API_BASE", sim.base_url())
            .env("OMNIVOX_PUBLIC_URL", PUBLIC_URL)
            .env("OMNIVOX_ADMIN_PASSWORD", random_password())
            .env("OMNIVOX_ENRICH_DELAY_SECONDS", "3600")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("running at http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).expect("omnivox serve announces its address");
        Serve { child, base: format!("http://{addr}") }
    }

    pub(crate) fn kill9(mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    pub(crate) fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

fn options() -> DeliveryOptions {
    DeliveryOptions { copies: 1..=3, shuffle: true, public_base: Some(PUBLIC_URL.to_owned()), ..Default::default() }
}

async fn two_instances_receiving_the_same_callbacks_keep_one_row_per_sid() {
    let Some(db) = TestDb::postgres().await else { return };
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let (a, b) = (Serve::start(&db.url, &sim), Serve::start(&db.url, &sim));
    let calls: Vec<_> = (0..300).map(|_| sim.add_call(CallSpec::default())).collect();
    let opts = options();
    let (ra, rb) =
        tokio::join!(sim.deliver_many(&a.base, &calls, &opts, 16), sim.deliver_many(&b.base, &calls, &opts, 16));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.all_acknowledged() && rb.all_acknowledged(), "{:?}", ra.unacknowledged().first());
    assert_eq!(db.store.count_call_records().await.unwrap(), 300);
    assert_eq!(db.store.count_recordings().await.unwrap(), 300);
    a.stop();
    b.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_database() {
    two_instances_receiving_the_same_callbacks_keep_one_row_per_sid().await;
}

async fn every_acknowledged_callback_survives_sigkill(db: TestDb) {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let mut acked_calls = HashSet::new();
    let mut acked_recordings = HashSet::new();
    let mut interrupted_rounds = 0;
    for round in 0..20 {
        let serve = Serve::start(&db.url, &sim);
        let calls: Vec<_> = (0..40).map(|_| sim.add_call(CallSpec::default())).collect();
        let opts = DeliveryOptions { retry_on_failure: false, seed: Some(round), ..options() };
        let base = serve.base.clone();
        let sim2 = sim.clone();
        let sending = tokio::spawn(async move { sim2.deliver_many(&base, &calls, &opts, 8).await });
        let pause = rand::rng().random_range(10..150);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        serve.kill9();
        let report = sending.await.unwrap().unwrap();
        interrupted_rounds += usize::from(!report.all_acknowledged());
        for attempt in &report.attempts {
            if matches!(attempt.outcome, AttemptOutcome::Status(s) if (200..300).contains(&s)) {
                match attempt.callback {
                    Callback::Recording => acked_recordings.insert(attempt.call_sid.clone()),
                    Callback::Call(_) => acked_calls.insert(attempt.call_sid.clone()),
                };
            }
        }
    }
    assert!(!acked_calls.is_empty(), "some callbacks were acknowledged before the kills");
    assert!(interrupted_rounds >= 10, "the kills landed mid-delivery ({interrupted_rounds} of 20 rounds)");
    // Restart once more: migrations and the database must be intact.
    let serve = Serve::start(&db.url, &sim);
    for sid in &acked_calls {
        let found = db.store.call_record_by_sid(&CallSid::parse(sid).unwrap()).await.unwrap();
        assert!(found.is_some(), "acknowledged call {sid} lost");
    }
    let recordings = sim.recordings();
    for call_sid in &acked_recordings {
        let record = db.store.call_record_by_sid(&CallSid::parse(call_sid).unwrap()).await.unwrap();
        let record = record.unwrap_or_else(|| panic!("acknowledged recording of {call_sid} lost"));
        let expected: Vec<_> = recordings.iter().filter(|r| r.call_sid == *call_sid).collect();
        for r in expected {
            let sid = RecordingSid::parse(&r.sid).unwrap();
            assert!(record.recordings.iter().any(|x| x.recording_sid == sid.as_str()), "recording {sid} lost");
        }
    }
    if db.backend() == omnivox_core::store::Backend::Sqlite {
        let store = omnivox_store::SqliteStore::connect(&db.url, &Default::default()).await.unwrap();
        assert_eq!(store.integrity_check().await.unwrap(), "ok");
    }
    serve.stop();
}

both_backends!(every_acknowledged_callback_survives_sigkill);

/// An archive killed while the media streams in leaves no object at its
/// key; after a restart the job runs again (its lease expired) and ends
/// verified with the right checksum.
async fn an_archive_killed_midway_leaves_nothing_and_completes_after_restart(db: TestDb, storage: Storage) {
    let Some((storage_env, bucket)) = storage_env(storage).await else { return };
    let media_dir = tempfile::tempdir().unwrap();
    let local_url = format!("file://{}", media_dir.path().display());
    let mut env: Vec<(&str, &str)> = storage_env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if storage == Storage::Local {
        env.push(("OMNIVOX_STORAGE_URL", &local_url));
    }
    env.push(("OMNIVOX_JOB_LEASE_SECONDS", "2"));
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let call = sim.add_call(CallSpec { duration_secs: 60, ..CallSpec::default() });
    let sid = call.recording_sid().unwrap().to_owned();
    let source = source_media(&sim, &call, "wav").await;
    // About ten seconds of download: the kill lands in the middle.
    sim.set_faults(Faults { media_bytes_per_sec: Some(source.len() as u64 / 10), ..Faults::default() });

    let serve = Serve::start_with(&db.url, &sim, &env);
    let report = sim.deliver(&serve.base, &call, &options()).await.unwrap();
    assert!(report.all_acknowledged());
    let started = std::time::Instant::now();
    while media_requests(&sim, &sid) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the archive never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    if storage == Storage::Local {
        let files = files_under(media_dir.path());
        assert!(
            files.iter().all(|f| f.contains('#')) && !files.is_empty(),
            "mid-write: only a temporary file: {files:?}"
        );
    }
    serve.kill9();
    let visible: Vec<String> = match &bucket {
        Some(bucket) => bucket.keys().await,
        None => files_under(media_dir.path()).into_iter().filter(|f| !f.contains('#')).collect(),
    };
    assert!(visible.is_empty(), "a partial object is visible: {visible:?}");
    let recording = RecordingSid::parse(&sid).unwrap();
    let media = db.store.recording_media_by_sid(&recording).await.unwrap().unwrap();
    assert_eq!(media.recording.sync_status, "pending");

    sim.set_faults(Faults::default());
    let serve = Serve::start_with(&db.url, &sim, &env);
    let started = std::time::Instant::now();
    let media = loop {
        let media = db.store.recording_media_by_sid(&recording).await.unwrap().unwrap();
        if media.recording.sync_status == "verified" {
            break media;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never verified: {:?}", media.recording);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(media.recording.sha256.as_deref(), Some(sha256_hex(&source).as_str()));
    let key = media.recording.storage_key.unwrap();
    match &bucket {
        Some(bucket) => assert_eq!(bucket.keys().await, [format!("recordings/{key}")]),
        None => assert_eq!(files_under(media_dir.path()), [key], "the stale temporary file is gone"),
    }
    serve.stop();
}

crate::media_matrix!(an_archive_killed_midway_leaves_nothing_and_completes_after_restart);
