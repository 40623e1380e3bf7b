//! Real `omnivox serve` processes: two instances on one PostgreSQL
//! database, and an instance killed with SIGKILL again and again while
//! callbacks arrive.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use omnivox_core::{CallSid, RecordingSid};
use omnivox_testkit::{both_backends, TestDb};
use omnivox_twilio_sim::{AttemptOutcome, CallSpec, Callback, DeliveryOptions, SimConfig, Simulator};
use rand::Rng;

use crate::helpers::{random_password, secret, PUBLIC_URL};

struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(db_url: &str, sim: &Simulator) -> Serve {
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

    fn kill9(mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    fn stop(mut self) {
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
