//! Ingests committed together (group commit, on both backends): an event
//! that fails is refused alone, and events of one call arriving together
//! make one row.
//!
//! To make the events meet, the test first takes the database's write lock
//! from a connection of its own (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an
//! exclusive lock on `call_records`), queues every ingest behind it, then
//! lets go.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use omnivox_core::ingest::{CallStatusEvent, FollowUps, IngestEvent, IngestOutcome, IngestRequest, RecordingEvent};
use omnivox_core::store::{Backend, JobState, NewJob, StoreResult};
use omnivox_core::CallSid;
mod common;

use common::{params, request, sid};
use omnivox_testkit::{both_backends, TestDb};
use sqlx::Connection as _;

fn recording(call: &str, rec: &str) -> IngestRequest {
    let p = params(&[
        ("CallSid", call),
        ("RecordingSid", rec),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "42"),
        ("RecordingChannels", "2"),
    ]);
    request(IngestEvent::Recording(RecordingEvent::from_params(&p).unwrap()))
}

/// Archives every recording; the job of `poisoned`'s call is one the
/// database refuses (`max_attempts` must be positive).
fn follow_ups(poisoned: String) -> Arc<FollowUps> {
    Arc::new(move |req: &IngestRequest, out: &IngestOutcome| {
        let bad = req.call_sid().as_str() == poisoned;
        vec![NewJob {
            kind: "archive-media".into(),
            payload: serde_json::json!({ "callRecordId": out.call_record_id }),
            dedupe_key: Some(req.call_sid().to_string()),
            run_at: req.received_at,
            max_attempts: if bad { 0 } else { 5 },
        }]
    })
}

/// Holds the write lock until dropped by `release`.
enum Hold {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

async fn hold_writes(db: &TestDb) -> Hold {
    match db.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.unwrap();
            Hold::Sqlite(c)
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("LOCK TABLE call_records IN EXCLUSIVE MODE").execute(&mut c).await.unwrap();
            Hold::Postgres(c)
        }
    }
}

async fn release(hold: Hold) {
    match hold {
        Hold::Sqlite(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop).unwrap(),
        Hold::Postgres(mut c) => sqlx::query("ROLLBACK").execute(&mut c).await.map(drop).unwrap(),
    }
}

/// Starts every ingest while the writes are held, then lets them run.
async fn together(db: &TestDb, requests: Vec<IngestRequest>, f: &Arc<FollowUps>) -> Vec<StoreResult<IngestOutcome>> {
    let hold = hold_writes(db).await;
    let mut tasks = Vec::new();
    for (i, req) in requests.into_iter().enumerate() {
        let (store, f) = (Arc::clone(&db.store), Arc::clone(f));
        tasks.push(tokio::spawn(async move { store.ingest(&req, &f).await }));
        if i == 0 {
            // The first is taken alone and waits for the lock; the rest
            // queue up behind it and are taken together.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    release(hold).await;
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

async fn an_event_that_fails_in_a_batch_fails_alone(db: TestDb) {
    let poisoned = sid("CA", 20);
    let requests: Vec<IngestRequest> = (0..40).map(|n| recording(&sid("CA", n), &sid("RE", n))).collect();
    let results = together(&db, requests, &follow_ups(poisoned.clone())).await;

    for (n, result) in results.iter().enumerate() {
        match (n, result) {
            (20, Err(e)) => assert!(e.to_string().contains("database error"), "{e}"),
            (20, Ok(o)) => panic!("the poisoned event was acknowledged: {o:?}"),
            (_, Err(e)) => panic!("event {n} failed with its batch's poisoned event: {e}"),
            (_, Ok(o)) => assert!(o.call_created && o.recording_created),
        }
    }
    // Its call, recording and job were all rolled back; the others' kept.
    assert_eq!(db.store.count_call_records().await.unwrap(), 39);
    assert_eq!(db.store.count_recordings().await.unwrap(), 39);
    assert!(db.store.call_record_by_sid(&CallSid::parse(&poisoned).unwrap()).await.unwrap().is_none());
    let jobs = db.store.list_jobs(JobState::Queued, 1000).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "archive-media").count(), 39);

    // The same event, once the database accepts its job, goes through.
    let out = db.store.ingest(&recording(&poisoned, &sid("RE", 20)), &follow_ups(String::new())).await.unwrap();
    assert!(out.call_created && out.recording_created);
    assert_eq!(db.store.count_call_records().await.unwrap(), 40);
}

async fn deliveries_of_one_new_call_in_one_batch_make_one_row(db: TestDb) {
    let call = sid("CA", 1);
    // Duplicates of one recording, and other recordings of the same call.
    let requests: Vec<IngestRequest> = (0..48).map(|n| recording(&call, &sid("RE", n % 3))).collect();
    let results = together(&db, requests, &follow_ups(String::new())).await;

    let outcomes: Vec<IngestOutcome> = results.into_iter().map(|r| r.expect("no error reaches a caller")).collect();
    assert_eq!(outcomes.iter().filter(|o| o.call_created).count(), 1, "one delivery created the call");
    assert_eq!(outcomes.iter().filter(|o| o.recording_created).count(), 3, "one per distinct recording");
    let ids: std::collections::BTreeSet<i64> = outcomes.iter().map(|o| o.call_record_id).collect();
    assert_eq!(ids.len(), 1, "every outcome names the same call record");
    assert_eq!(db.store.count_call_records().await.unwrap(), 1);
    assert_eq!(db.store.count_recordings().await.unwrap(), 3);
    let view = db.store.call_record_by_sid(&CallSid::parse(&call).unwrap()).await.unwrap().unwrap();
    assert_eq!(view.recordings.len(), 3);
    // The job is deduplicated by call while queued.
    let jobs = db.store.list_jobs(JobState::Queued, 1000).await.unwrap();
    assert_eq!(jobs.iter().filter(|j| j.kind == "archive-media").count(), 1);
}

/// Every callback of eight calls, each delivered twice, in a shuffled
/// order: call statuses (customers shared by several calls), and a
/// recording's progress (some before any call status).
fn lifecycles() -> Vec<IngestRequest> {
    let mut events = Vec::new();
    for n in 0..8u32 {
        let (call, rec) = (sid("CA", n), sid("RE", n));
        let customer = format!("+1555010000{}", n % 3);
        for (seq, status) in ["initiated", "ringing", "in-progress", "completed"].iter().enumerate() {
            let seq = seq.to_string();
            let mut p = params(&[
                ("CallSid", &call),
                ("CallStatus", status),
                ("SequenceNumber", &seq),
                ("Direction", "outbound-api"),
                ("From", "+15550109999"),
                ("To", &customer),
                ("AnsweredBy", "human"),
                ("CallDuration", if *status == "completed" { "42" } else { "" }),
                ("Timestamp", "Mon, 16 Feb 2026 14:32:00 +0000"),
            ]);
            p.0.retain(|(_, v)| !v.is_empty());
            events.push(request(IngestEvent::CallStatus(CallStatusEvent::from_params(&p).unwrap())));
        }
        for status in ["in-progress", "completed"] {
            let p = params(&[("CallSid", &call), ("RecordingSid", &rec), ("RecordingStatus", status)]);
            events.push(request(IngestEvent::Recording(RecordingEvent::from_params(&p).unwrap())));
        }
    }
    let twice: Vec<&IngestRequest> = events.iter().chain(events.iter()).collect();
    // A fixed shuffle: 37 is prime to the 96 events, so this visits each once.
    (0..twice.len()).map(|i| twice[(i * 37 + 11) % twice.len()].clone()).collect()
}

/// What the events left, without the ids the order of inserts chose.
async fn snapshot(db: &TestDb) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    for n in 0..8u32 {
        let view = db.store.call_record_by_sid(&CallSid::parse(&sid("CA", n)).unwrap()).await.unwrap().unwrap();
        let mut events: Vec<(String, Option<String>, Option<i64>)> = db
            .store
            .call_events(view.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.source, e.status, e.sequence_number))
            .collect();
        events.sort();
        let mut view = serde_json::to_value(&view).unwrap();
        for key in ["id", "contactId"] {
            view.as_object_mut().unwrap().remove(key);
        }
        for r in view["recordings"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().retain(|k, _| k != "id" && k != "callRecordId");
        }
        rows.push(serde_json::json!({ "call": view, "timeline": events }));
    }
    let mut jobs: Vec<(String, Option<String>)> =
        db.store.list_jobs(JobState::Queued, 1000).await.unwrap().into_iter().map(|j| (j.kind, j.dedupe_key)).collect();
    jobs.sort();
    rows.push(serde_json::json!({ "jobs": jobs }));
    rows
}

async fn a_batch_ends_as_its_events_one_at_a_time(db: TestDb) {
    let f = follow_ups(String::new());
    let results = together(&db, lifecycles(), &f).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let serial = match db.backend() {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await.expect("PostgreSQL, as for the batch"),
    };
    for req in lifecycles() {
        serial.store.ingest(&req, &f).await.unwrap();
    }
    let (batched, one_by_one) = (snapshot(&db).await, snapshot(&serial).await);
    assert_eq!(batched.len(), 9);
    for (b, s) in batched.iter().zip(&one_by_one) {
        assert_eq!(b, s);
    }
    assert_eq!(batched[0]["call"]["status"], "completed", "{}", batched[0]);
    assert_eq!(batched[0]["call"]["recordings"][0]["status"], "completed", "{}", batched[0]);
    assert_eq!(db.store.count_call_records().await.unwrap(), 8);
}

both_backends!(
    an_event_that_fails_in_a_batch_fails_alone,
    deliveries_of_one_new_call_in_one_batch_make_one_row,
    a_batch_ends_as_its_events_one_at_a_time,
);
