//! Group commit for SQLite's ingest transaction.
//!
//! A durable acknowledgement costs an fsync per commit; committing each
//! callback alone caps ingest at the disk's fsync rate. Here one writer
//! thread owns the ingest write path, on a connection of its own
//! (`crate::ingest::sqlite` says why): callers queue their event and wait;
//! the thread takes every event waiting (up to [`MAX_BATCH`]), applies them
//! in one transaction, commits once and only then answers each caller with
//! its own outcome.
//!
//! Why this is as safe as one transaction per event:
//! - Nobody is answered before the commit that holds their event has
//!   returned; a failed commit answers nobody from that attempt.
//! - If an event fails, the batch is rolled back and applied again with each
//!   event under its own savepoint: a failing event rolls back to its
//!   savepoint, which undoes exactly its own writes (and its follow-up jobs,
//!   written in the same savepoint); its caller gets the error, the others
//!   are unaffected.
//! - If the batch itself fails (a savepoint cannot be rolled back, or the
//!   COMMIT fails, e.g. on a deferred foreign key), everything is rolled
//!   back and the events are applied again one transaction each, so each
//!   caller again gets exactly its own result.
//! - Events of one batch run one after another on one connection, so a
//!   later event sees the earlier ones' writes (two deliveries of a new call
//!   in one batch create one row), exactly as in serial transactions.
//! - SQLite has one writer at a time. So that this connection and the
//!   store's writer pool never contend for the write lock (a deferred
//!   transaction of the pool could otherwise fail to upgrade), the thread
//!   holds the writer pool's one connection while it applies a batch: other
//!   writes interleave between batches.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest};
use omnivox_core::store::{StoreError, StoreResult};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::ingest::sqlite::{open, run_now, rusqlite_error};
use crate::ingest::steps::ingest_in;

/// Most events committed together.
pub(crate) const MAX_BATCH: usize = 256;

/// Applies one event on the connection, inside a transaction the caller owns.
pub(crate) type IngestFn = fn(&mut Connection, &IngestRequest, &FollowUps) -> StoreResult<IngestOutcome>;

/// The ingest steps, run on the writer's connection.
fn ingest(conn: &mut Connection, req: &IngestRequest, follow_ups: &FollowUps) -> StoreResult<IngestOutcome> {
    run_now(ingest_in(conn, req, follow_ups))
}

struct Pending {
    request: IngestRequest,
    follow_ups: Arc<FollowUps>,
    reply: oneshot::Sender<StoreResult<IngestOutcome>>,
}

/// Counters, for tests and diagnostics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub largest: AtomicU64,
}

/// The handle callers queue their events on. Cheap to clone; the writer
/// thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<Pending>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("stats", &self.stats).finish()
    }
}

impl GroupCommit {
    /// Opens the database file at `path` for the writer and starts its
    /// thread; `pool` is the store's one-connection writer pool.
    pub(crate) fn start(path: &Path, busy_timeout: Duration, pool: sqlx::SqlitePool) -> std::io::Result<Self> {
        Self::start_with(path, busy_timeout, pool, ingest)
    }

    pub(crate) fn start_with(
        path: &Path,
        busy_timeout: Duration,
        pool: sqlx::SqlitePool,
        ingest: IngestFn,
    ) -> std::io::Result<Self> {
        let conn = open(path, busy_timeout).map_err(std::io::Error::other)?;
        let (queue, events) = mpsc::channel(MAX_BATCH * 4);
        let stats = Arc::new(Stats::default());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let task = writer(Writer { conn, pool, ingest }, events, Arc::clone(&stats));
        std::thread::Builder::new().name("omnivox-ingest".into()).spawn(move || runtime.block_on(task))?;
        Ok(Self { queue, stats })
    }

    /// Queues the event and waits until it is committed (or has failed).
    pub(crate) async fn ingest(
        &self,
        request: &IngestRequest,
        follow_ups: &Arc<FollowUps>,
    ) -> StoreResult<IngestOutcome> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { request: request.clone(), follow_ups: Arc::clone(follow_ups), reply };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn stopped() -> StoreError {
    StoreError::Database("the ingest writer has stopped (the store is closed)".into())
}

struct Writer {
    conn: Connection,
    pool: sqlx::SqlitePool,
    ingest: IngestFn,
}

async fn writer(mut w: Writer, mut events: mpsc::Receiver<Pending>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while events.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let size = batch.len() as u64;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.events.fetch_add(size, Ordering::Relaxed);
        stats.largest.fetch_max(size, Ordering::Relaxed);
        let results = match w.pool.acquire().await {
            // Held (not used) while the batch is applied: the write lock's token.
            Ok(_token) => apply(&mut w, &batch),
            Err(e) => batch.iter().map(|_| Err(StoreError::Database(e.to_string().into()))).collect(),
        };
        for (pending, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting (a dropped request) needs no answer.
            let _ = pending.reply.send(result);
        }
    }
}

/// Why a batch was not committed; either way nothing of it was.
enum Failed {
    /// An event failed.
    Event,
    /// The transaction failed.
    Batch(StoreError),
}

impl From<rusqlite::Error> for Failed {
    fn from(e: rusqlite::Error) -> Self {
        Failed::Batch(rusqlite_error(e))
    }
}

/// One result per event, in order.
fn apply(w: &mut Writer, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
    if batch.len() > 1 {
        let outcome = match together(w, batch, false) {
            Err(Failed::Event) => together(w, batch, true),
            other => other,
        };
        match outcome {
            Ok(results) => return results,
            Err(Failed::Event) => {}
            Err(Failed::Batch(e)) => tracing::warn!(
                error = %e,
                events = batch.len(),
                "group commit failed and was rolled back; applying the events one transaction each"
            ),
        }
    }
    batch.iter().map(|pending| alone(w, pending)).collect()
}

fn begin(conn: &Connection) -> rusqlite::Result<()> {
    // A transaction left open by a failed COMMIT is rolled back first.
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    // IMMEDIATE: the write lock is taken (or waited for) before anything is read.
    conn.execute_batch("BEGIN IMMEDIATE")
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "rolling back an ingest transaction failed");
        }
    }
}

/// The whole batch in one transaction, committed only if it all succeeds.
/// Without savepoints a failing event fails the batch (`Failed::Event`);
/// with them, it fails alone.
fn together(w: &mut Writer, batch: &[Pending], savepoints: bool) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    begin(&w.conn)?;
    let applied = batch_in_transaction(w, batch, savepoints).and_then(|results| {
        w.conn.execute_batch("COMMIT")?;
        Ok(results)
    });
    if applied.is_err() {
        rollback(&w.conn);
    }
    applied
}

fn batch_in_transaction(
    w: &mut Writer,
    batch: &[Pending],
    savepoints: bool,
) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        if savepoints {
            w.conn.execute_batch("SAVEPOINT event")?;
        }
        let result = (w.ingest)(&mut w.conn, &pending.request, &*pending.follow_ups);
        match (&result, savepoints) {
            (Err(_), false) => return Err(Failed::Event),
            (Err(_), true) => w.conn.execute_batch("ROLLBACK TO event; RELEASE event")?,
            (Ok(_), true) => w.conn.execute_batch("RELEASE event")?,
            (Ok(_), false) => {}
        }
        results.push(result);
    }
    Ok(results)
}

/// One event in a transaction of its own.
fn alone(w: &mut Writer, pending: &Pending) -> StoreResult<IngestOutcome> {
    begin(&w.conn).map_err(rusqlite_error)?;
    let applied = (w.ingest)(&mut w.conn, &pending.request, &*pending.follow_ups)
        .and_then(|outcome| w.conn.execute_batch("COMMIT").map(|()| outcome).map_err(rusqlite_error));
    if applied.is_err() {
        rollback(&w.conn);
    }
    applied
}

#[cfg(test)]
mod tests;
