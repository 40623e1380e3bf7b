//! Group commit on SQLite: the same batches, savepoints and fallbacks as
//! `crate::group_commit` (read its module documentation for why each
//! caller gets exactly its own result), run by one thread on a connection
//! of its own that executes the statements itself (`crate::sqlite_ingest`
//! says why).
//!
//! SQLite has one writer at a time. So that this connection and the
//! store's writer pool never contend for the write lock (a deferred
//! transaction of the pool could otherwise fail to upgrade), the thread
//! holds the writer pool's one connection while it applies a batch: other
//! writes interleave between batches, as before.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest};
use omnivox_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::group_commit::{Stats, MAX_BATCH};
use crate::sqlite_ingest::{ingest_in, rusqlite_error};

/// Applies one event on the connection, inside a transaction the caller owns.
pub(crate) type IngestFn = fn(&Connection, &IngestRequest, &FollowUps) -> StoreResult<IngestOutcome>;

struct Pending {
    request: IngestRequest,
    follow_ups: Arc<FollowUps>,
    reply: oneshot::Sender<StoreResult<IngestOutcome>>,
}

/// The handle callers queue their events on. Cheap to clone; the writer
/// thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct SqliteWriter {
    queue: mpsc::Sender<Pending>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWriter").field("stats", &self.stats).finish()
    }
}

/// Opens the writer's connection with the settings of the store's pools.
fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    // `journal_mode` answers with a row.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    // Every acknowledgement is durable: fsync at each commit.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = memory;")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteWriter {
    /// Opens the database file at `path` and starts the writer thread;
    /// `writer` is the store's one-connection writer pool.
    pub(crate) fn start(path: &Path, busy_timeout: Duration, writer: sqlx::SqlitePool) -> Result<Self, sqlx::Error> {
        Self::start_with(path, busy_timeout, writer, ingest_in)
    }

    pub(crate) fn start_with(
        path: &Path,
        busy_timeout: Duration,
        writer: sqlx::SqlitePool,
        ingest: IngestFn,
    ) -> Result<Self, sqlx::Error> {
        let conn = open(path, busy_timeout).map_err(|e| sqlx::Error::Configuration(Box::new(e)))?;
        let (queue, events) = mpsc::channel(MAX_BATCH * 4);
        let stats = Arc::new(Stats::default());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let task = run(conn, ingest, writer, events, Arc::clone(&stats));
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

async fn run(
    mut conn: Connection,
    ingest: IngestFn,
    writer: sqlx::SqlitePool,
    mut events: mpsc::Receiver<Pending>,
    stats: Arc<Stats>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while events.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let size = batch.len() as u64;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.events.fetch_add(size, Ordering::Relaxed);
        stats.largest.fetch_max(size, Ordering::Relaxed);
        let results = match writer.acquire().await {
            // Held (not used) while the batch is applied: the write lock's token.
            Ok(_token) => apply(&mut conn, ingest, &batch),
            Err(e) => batch.iter().map(|_| Err(StoreError::Database(e.to_string().into()))).collect(),
        };
        for (pending, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting (a dropped request) needs no answer.
            let _ = pending.reply.send(result);
        }
    }
}

/// Why a batch was not committed.
enum Failed {
    /// An event failed; nothing was committed.
    Event,
    /// The transaction failed; nothing was committed.
    Batch(StoreError),
}

/// One result per event, in order.
fn apply(conn: &mut Connection, ingest: IngestFn, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
    if batch.len() > 1 {
        let outcome = match plainly(conn, ingest, batch) {
            Err(Failed::Event) => with_savepoints(conn, ingest, batch),
            other => other,
        };
        match outcome {
            Ok(results) => return results,
            Err(Failed::Event) => {}
            Err(Failed::Batch(e)) => {
                tracing::warn!(
                    error = %e,
                    events = batch.len(),
                    "group commit failed and was rolled back; applying the events one transaction each"
                );
            }
        }
    }
    batch.iter().map(|pending| alone(conn, ingest, pending)).collect()
}

fn begin(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    // A transaction left open by a failed COMMIT is rolled back first.
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK")?;
    }
    // IMMEDIATE: the write lock is taken (or waited for) before anything is read.
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// The whole batch in one transaction, without savepoints; committed only
/// if every event succeeded.
fn plainly(
    conn: &mut Connection,
    ingest: IngestFn,
    batch: &[Pending],
) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    let tx = begin(conn).map_err(|e| Failed::Batch(rusqlite_error(e)))?;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        match ingest(&tx, &pending.request, &*pending.follow_ups) {
            Ok(outcome) => results.push(Ok(outcome)),
            // Dropping the transaction rolls it back.
            Err(_) => return Err(Failed::Event),
        }
    }
    tx.commit().map_err(|e| Failed::Batch(rusqlite_error(e)))?;
    Ok(results)
}

/// The whole batch in one transaction, each event under a savepoint. An
/// `Err` means nothing of the batch was committed.
fn with_savepoints(
    conn: &mut Connection,
    ingest: IngestFn,
    batch: &[Pending],
) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    let batch_failed = |e: rusqlite::Error| Failed::Batch(rusqlite_error(e));
    let mut tx = begin(conn).map_err(batch_failed)?;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        let mut savepoint = tx.savepoint().map_err(batch_failed)?;
        let result = ingest(&savepoint, &pending.request, &*pending.follow_ups);
        match result {
            Ok(_) => savepoint.commit().map_err(batch_failed)?,
            Err(_) => {
                savepoint.rollback().map_err(batch_failed)?;
                savepoint.commit().map_err(batch_failed)?;
            }
        }
        results.push(result);
    }
    tx.commit().map_err(batch_failed)?;
    Ok(results)
}

/// One event in a transaction of its own.
fn alone(conn: &mut Connection, ingest: IngestFn, pending: &Pending) -> StoreResult<IngestOutcome> {
    let tx = begin(conn).map_err(rusqlite_error)?;
    // On an error the transaction is dropped, which rolls it back.
    let outcome = ingest(&tx, &pending.request, &*pending.follow_ups)?;
    tx.commit().map_err(rusqlite_error)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests;
