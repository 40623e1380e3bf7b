//! The batch's own failure path, on both backends: a COMMIT that fails
//! (here on a deferred foreign key, which no savepoint can catch) answers
//! nobody from that attempt; every event is then applied alone and gets its
//! own result. And an event that fails alone leaves the others of its batch
//! committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use omnivox_core::ingest::{Attribution, FoundBy, IngestEvent, Params, RecordingEvent, LIVE_CALLS};
use omnivox_testkit::TestDb;
use sqlx::Connection as _;

use super::*;

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
fn faulty<'c, C: Exec>(
    conn: &'c mut C,
    req: &'c IngestRequest,
    follow_ups: &'c FollowUps,
) -> BoxFuture<'c, StoreResult<IngestOutcome>> {
    Box::pin(async move {
        let outcome = crate::ingest::steps::ingest_in(conn, req, follow_ups).await?;
        if req.call_sid().as_str() == POISONED {
            let dangling = "INSERT INTO call_events (call_record_id, source, received_at, payload, dedupe_key)
                 VALUES (999999, 'test', 0, '{}', 'dangling')";
            conn.execute(dangling, &[]).await?;
        }
        if req.call_sid().as_str() == FAILING {
            return Err(StoreError::Corrupt("this event fails after its writes".into()));
        }
        Ok(outcome)
    })
}

/// Keeps the writer from starting a batch, so that events queue up and
/// meet in one.
enum Hold {
    /// The write lock, from a connection of the test's own.
    Sqlite(sqlx::SqliteConnection),
    /// The one connection of the writer's pool.
    Postgres(sqlx::PgPool, Option<sqlx::pool::PoolConnection<sqlx::Postgres>>),
}

impl Hold {
    async fn hold(&mut self) {
        match self {
            Hold::Sqlite(conn) => {
                sqlx::query("BEGIN IMMEDIATE").execute(conn).await.unwrap();
            }
            Hold::Postgres(pool, held) => *held = Some(pool.acquire().await.unwrap()),
        }
    }

    async fn release(&mut self) {
        match self {
            Hold::Sqlite(conn) => {
                sqlx::query("ROLLBACK").execute(conn).await.unwrap();
            }
            Hold::Postgres(_, held) => *held = None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_answers_each_event_when_a_batch_fails() {
    let db = TestDb::sqlite().await;
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    let group = crate::ingest::sqlite::start_group_commit(
        std::path::Path::new(&path),
        std::time::Duration::from_secs(10),
        pool,
        faulty,
    )
    .unwrap();
    let hold = Hold::Sqlite(sqlx::SqliteConnection::connect(&db.url).await.unwrap());
    each_event_gets_its_own_result(&db, group, hold).await;
    let conn = crate::ingest::sqlite::open(std::path::Path::new(&path), Duration::from_secs(1)).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_each_event_when_a_batch_fails() {
    let Some(db) = TestDb::postgres().await else { return };
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    let group = crate::ingest::pg::start_group_commit(pool.clone(), 1, faulty);
    each_event_gets_its_own_result(&db, group, Hold::Postgres(pool, None)).await;
}

async fn each_event_gets_its_own_result(db: &TestDb, group: GroupCommit, mut hold: Hold) {
    let none: Arc<FollowUps> = Arc::new(|_: &IngestRequest, _: &IngestOutcome| Vec::new());
    hold.hold().await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (group, none) = (group.clone(), Arc::clone(&none));
        tasks.push(tokio::spawn(async move { group.ingest(&request(n), &none).await }));
        if n == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    hold.release().await;

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
    assert_eq!(db.store.count_call_records().await.unwrap(), 18);
    assert_eq!(db.store.count_recordings().await.unwrap(), 18);

    // The writer and its connection are fine afterwards, and a batch in
    // which one event fails commits the others (with savepoints).
    hold.hold().await;
    let mut tasks = Vec::new();
    for n in [100, 14, 101] {
        let (group, none) = (group.clone(), Arc::clone(&none));
        tasks.push(tokio::spawn(async move { group.ingest(&request(n), &none).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    hold.release().await;
    let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(|r| r.unwrap()).collect();
    assert!(results[0].as_ref().unwrap().call_created);
    assert!(results[1].is_err());
    assert!(results[2].as_ref().unwrap().call_created);
    assert_eq!(db.store.count_call_records().await.unwrap(), 20);
}
