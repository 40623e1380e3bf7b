//! The batch's own failure path: a COMMIT that fails (here on a deferred
//! foreign key, which no savepoint can catch) answers nobody from that
//! attempt; every event is then applied alone and gets its own result.
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
/// that does not exist: accepted by the statement, refused at COMMIT.
fn dangling<'c>(
    conn: &'c mut sqlx::SqliteConnection,
    req: &'c IngestRequest,
    follow_ups: &'c FollowUps,
) -> BoxFuture<'c, StoreResult<IngestOutcome>> {
    Box::pin(async move {
        let outcome = crate::ingest::sqlite_fns::ingest_in(&mut *conn, req, follow_ups).await?;
        if req.call_sid().as_str() == POISONED {
            sqlx::query(
                "INSERT INTO call_events (call_record_id, source, received_at, payload, dedupe_key)
                 VALUES (999999, 'test', 0, '{}', 'dangling')",
            )
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        }
        Ok(outcome)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_retried_one_event_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("omnivox.db").display());
    let store = SqliteStore::connect(&url, &PoolSettings::default()).await.unwrap();
    store.migrate().await.unwrap();
    let group = GroupCommit::start(store.writer().clone(), dangling, "BEGIN IMMEDIATE").unwrap();
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
            (_, r) => assert!(r.unwrap().call_created, "event {n}"),
        }
    }
    assert!(group.stats().largest.load(Ordering::Relaxed) >= 19, "{:?}", group.stats());
    assert_eq!(store.count_call_records().await.unwrap(), 19);
    assert_eq!(store.count_recordings().await.unwrap(), 19);

    // The writer and its connection are fine afterwards.
    let out = group.ingest(&request(100), &none).await.unwrap();
    assert!(out.call_created);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}
