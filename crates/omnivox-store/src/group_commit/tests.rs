//! The batch's own failure path: a COMMIT that fails (here on a deferred
//! foreign key, which no savepoint can catch) answers nobody from that
//! attempt; every event is then applied alone and gets its own result.
//! And an event that fails alone leaves the others of its batch committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use omnivox_core::ingest::{Attribution, FoundBy, IngestEvent, Params, RecordingEvent, LIVE_CALLS};
use omnivox_core::store::CallRecordStore;
use omnivox_core::Store;
use sqlx::Connection as _;

use super::*;
use crate::{PoolSettings, SqliteStore};

const POISONED: &str = "CA0000000000000000000000000000000d";
const FAILING: &str = "CA0000000000000000000000000000000e";

fn request(n: u32) -> IngestRequest {
    let (call, rec) = (format!("CA{n:032x}"), format!("RE{n:032x}"));
    let p = [("CallSid", call.as_str()), ("RecordingSid", rec.as_str()), ("RecordingStatus", "completed")];
    IngestRequest {
        event: IngestEvent::Recording(
            RecordingEvent::from_params(&Params(p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
                .unwrap(),
        ),
        attribution: Attribution::default(),
        default_campaign: LIVE_CALLS,
        found_by: FoundBy::Webhook,
        received_at: Utc.with_ymd_and_hms(2026, 2, 16, 14, 33, 0).unwrap(),
    }
}

/// The real ingest, plus, for one call, a timeline line of a call record
/// that does not exist (accepted by the statement, refused at COMMIT), and
/// for another an error after its writes.
fn faulty(conn: &mut Connection, req: &IngestRequest, follow_ups: &FollowUps) -> StoreResult<IngestOutcome> {
    let outcome = ingest(conn, req, follow_ups)?;
    if req.call_sid().as_str() == POISONED {
        conn.execute_batch(
            "INSERT INTO call_events (call_record_id, source, received_at, payload, dedupe_key)
             VALUES (999999, 'test', 0, '{}', 'dangling')",
        )
        .map_err(rusqlite_error)?;
    }
    if req.call_sid().as_str() == FAILING {
        return Err(StoreError::Corrupt("this event fails after its writes".into()));
    }
    Ok(outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_gets_its_own_result_when_a_batch_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("omnivox.db");
    let url = format!("sqlite://{}", path.display());
    let store = SqliteStore::connect(&url, &PoolSettings::default()).await.unwrap();
    store.migrate().await.unwrap();
    let group = GroupCommit::start_with(&path, Duration::from_secs(10), store.writer().clone(), faulty).unwrap();
    let none: Arc<FollowUps> = Arc::new(|_: &IngestRequest, _: &IngestOutcome| Vec::new());

    // Hold the write lock so that the events queue up and meet in one batch.
    let mut hold = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut hold).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (group, none) = (group.clone(), Arc::clone(&none));
        tasks.push(tokio::spawn(async move { group.ingest(&request(n), &none).await }));
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("ROLLBACK").execute(&mut hold).await.unwrap();

    for (n, task) in tasks.into_iter().enumerate() {
        match (n, task.await.unwrap()) {
            (13, Err(e)) => assert!(e.to_string().to_lowercase().contains("foreign key"), "{e}"),
            (13, Ok(o)) => panic!("acknowledged an event whose commit failed: {o:?}"),
            (14, Err(e)) => assert!(e.to_string().contains("fails after its writes"), "{e}"),
            (14, Ok(o)) => panic!("acknowledged an event that failed: {o:?}"),
            (_, r) => assert!(r.unwrap().call_created, "event {n}"),
        }
    }
    assert!(group.stats().largest.load(Ordering::Relaxed) >= 19, "{:?}", group.stats());
    assert_eq!(store.count_call_records().await.unwrap(), 18);
    assert_eq!(store.count_recordings().await.unwrap(), 18);

    // The writer and its connection are fine afterwards, and a batch in
    // which one event fails commits the others (with savepoints).
    let mut tasks = Vec::new();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut hold).await.unwrap();
    for n in [100, 14, 101] {
        let (group, none) = (group.clone(), Arc::clone(&none));
        tasks.push(tokio::spawn(async move { group.ingest(&request(n), &none).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("ROLLBACK").execute(&mut hold).await.unwrap();
    let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert!(results[0].as_ref().unwrap().call_created);
    assert!(results[1].is_err());
    assert!(results[2].as_ref().unwrap().call_created);
    assert_eq!(store.count_call_records().await.unwrap(), 20);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}
