//! Group commit for the ingest transaction.
//!
//! A durable acknowledgement costs an fsync per commit; committing each
//! callback alone caps ingest at the disk's fsync rate. Here one writer task
//! owns the ingest write path: callers queue their event and wait; the task
//! takes every event waiting (up to [`MAX_BATCH`]) and applies them in one
//! transaction, each under its own savepoint, then commits once and only
//! then answers each caller with its own outcome.
//!
//! Why this is as safe as one transaction per event:
//! - Nobody is answered before the commit that holds their event has
//!   returned; a failed commit answers nobody from that attempt.
//! - An event that fails rolls back to its savepoint, which undoes exactly
//!   its own writes (and its follow-up jobs, written in the same savepoint);
//!   its caller gets the error, the others are unaffected.
//! - If the batch itself fails (a savepoint cannot be rolled back, or the
//!   COMMIT fails, e.g. on a deferred foreign key), everything is rolled
//!   back and the events are applied again one transaction each, so each
//!   caller again gets exactly its own result.
//! - Events of one batch run one after another on one connection, so a
//!   later event sees the earlier ones' writes (two deliveries of a new call
//!   in one batch create one row), exactly as in serial transactions.
//! - The task takes a connection from the backend's writer pool for each
//!   batch, so other writes using that pool interleave between batches.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest};
use omnivox_core::store::{StoreError, StoreResult};
use sqlx::{Acquire as _, Connection as _, Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::db_error;

/// Most events committed together.
pub(crate) const MAX_BATCH: usize = 256;

/// Applies one event on a connection inside a transaction the caller owns.
pub(crate) type IngestFn<DB> = for<'c> fn(
    &'c mut <DB as Database>::Connection,
    &'c IngestRequest,
    &'c FollowUps,
) -> BoxFuture<'c, StoreResult<IngestOutcome>>;

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
/// task ends when the last handle is dropped.
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
    /// Starts the writer on a thread of its own.
    /// `begin` opens each transaction (SQLite: `BEGIN IMMEDIATE`, so that
    /// the write lock is taken, or waited for, before anything is read).
    pub(crate) fn start<DB: Database>(
        pool: Pool<DB>,
        ingest: IngestFn<DB>,
        begin: &'static str,
    ) -> std::io::Result<Self> {
        let (queue, events) = mpsc::channel(MAX_BATCH * 4);
        let stats = Arc::new(Stats::default());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let task = writer(Writer { pool, ingest, begin }, events, Arc::clone(&stats));
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

struct Writer<DB: Database> {
    pool: Pool<DB>,
    ingest: IngestFn<DB>,
    begin: &'static str,
}

async fn writer<DB: Database>(w: Writer<DB>, mut events: mpsc::Receiver<Pending>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while events.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let size = batch.len() as u64;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.events.fetch_add(size, Ordering::Relaxed);
        stats.largest.fetch_max(size, Ordering::Relaxed);
        let results = apply(&w, &batch).await;
        for (pending, result) in batch.drain(..).zip(results) {
            // A caller that stopped waiting (a dropped request) needs no answer.
            let _ = pending.reply.send(result);
        }
    }
}

/// One result per event, in order.
async fn apply<DB: Database>(w: &Writer<DB>, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
    let mut conn = match w.pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return failed_all(batch, &e),
    };
    if batch.len() > 1 {
        match together(w, &mut conn, batch).await {
            Ok(results) => return results,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    events = batch.len(),
                    "group commit failed and was rolled back; applying the events one transaction each"
                );
                // The rollbacks queued by dropping the transaction run first;
                // a connection still in a transaction after them is replaced.
                if conn.ping().await.is_err() || conn.is_in_transaction() {
                    let _ = conn.close().await;
                    conn = match w.pool.acquire().await {
                        Ok(conn) => conn,
                        Err(e) => return failed_all(batch, &e),
                    };
                }
            }
        }
    }
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        results.push(alone(w, &mut conn, pending).await);
    }
    results
}

fn failed_all(batch: &[Pending], e: &sqlx::Error) -> Vec<StoreResult<IngestOutcome>> {
    batch.iter().map(|_| Err(StoreError::Database(e.to_string().into()))).collect()
}

/// The whole batch in one transaction, each event under a savepoint. An
/// `Err` means nothing of the batch was committed.
async fn together<DB: Database>(
    w: &Writer<DB>,
    conn: &mut DB::Connection,
    batch: &[Pending],
) -> Result<Vec<StoreResult<IngestOutcome>>, sqlx::Error> {
    let mut tx = conn.begin_with(w.begin).await?;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        let mut savepoint = (&mut tx).begin().await?;
        let result = (w.ingest)(&mut *savepoint, &pending.request, &*pending.follow_ups).await;
        match result {
            Ok(_) => savepoint.commit().await?,
            Err(_) => savepoint.rollback().await?,
        }
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
}

async fn alone<DB: Database>(
    w: &Writer<DB>,
    conn: &mut DB::Connection,
    pending: &Pending,
) -> StoreResult<IngestOutcome> {
    let mut tx = conn.begin_with(w.begin).await.map_err(db_error)?;
    // On an error the transaction is dropped, which rolls it back.
    let outcome = (w.ingest)(&mut *tx, &pending.request, &*pending.follow_ups).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests;
