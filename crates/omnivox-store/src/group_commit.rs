//! Group commit for the ingest transaction, on both backends.
//!
//! A durable acknowledgement costs a commit (an fsync on SQLite, a WAL
//! flush on PostgreSQL) and a transaction's own round trips; committing
//! each callback alone caps ingest there. Here writers own the ingest write
//! path: callers queue their event and wait; a writer takes every event
//! waiting on its queue (up to [`MAX_BATCH`]), applies them in one
//! transaction, commits once and only then answers each caller with its own
//! outcome. Under light load a batch is one event, so nobody waits for
//! company.
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
//!   caller again gets exactly its own result. A batch the server rolled
//!   back to break a deadlock is simply run again: every event is
//!   idempotent.
//! - Events of one call run one after another on one connection, so a
//!   later event sees the earlier ones' writes (two deliveries of a new call
//!   in one batch create one row), exactly as in serial transactions; and
//!   all events of one call go to the same writer, so one instance's writers
//!   never wait for each other's row locks. (PostgreSQL runs events of
//!   distinct calls side by side: `crate::ingest::pg::lanes` says why that
//!   ends the same.)
//! - Writes a connection holds back until the commit ([`BatchConn::flush`])
//!   are held only in a run without savepoints: if one fails, the batch is
//!   rolled back and run again with savepoints, which holds nothing back.
//!
//! Each backend supplies its writers (`crate::ingest::sqlite`: one, on a
//! thread of its own; `crate::ingest::pg`: several tasks).

use std::future::Future;
use std::hash::{Hash as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest};
use omnivox_core::store::{StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

use crate::ingest::exec::Exec;

/// Most events committed together.
pub(crate) const MAX_BATCH: usize = 256;

/// Runs of one batch (or one event) that the server rolled back to break a
/// deadlock, before its callers get the error.
const ATTEMPTS: u32 = 5;

/// A connection batches run on: transaction control, and the ingest steps
/// run on its [`Lane`](Self::Lane)s.
pub(crate) trait BatchConn: Send {
    /// What the steps of one event run on.
    type Lane: Exec;

    /// Starts the batch's transaction.
    const BEGIN: &'static str;

    /// Runs one transaction-control statement (`BEGIN`, `COMMIT`, `SAVEPOINT event`, …).
    fn control(&mut self, sql: &'static str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Starts the transaction `batch` is applied in. With `defer`, the
    /// connection may hold [`crate::ingest::exec::Batchable`] writes back
    /// until [`flush`](Self::flush): only when no event will be rolled
    /// back on its own (no savepoints).
    fn start(&mut self, batch: &[Pending], defer: bool) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = (batch, defer);
        self.control(Self::BEGIN)
    }

    /// Applies `events`, in order, inside the open transaction: one result
    /// per event. Once an event has failed, the transaction may be unusable
    /// and the results of the others are not to be relied upon.
    fn run(
        &mut self,
        ingest: IngestFn<Self::Lane>,
        events: &[Pending],
    ) -> impl Future<Output = Vec<StoreResult<IngestOutcome>>> + Send;

    /// Runs the writes held back, before the commit.
    fn flush(&mut self) -> impl Future<Output = StoreResult<()>> + Send {
        async { Ok(()) }
    }

    /// Ends the transaction a failure left open, if any.
    fn rollback(&mut self) -> impl Future<Output = ()> + Send;

    /// Whether the server rolled the transaction back to resolve a
    /// conflict (deadlock, serialization failure): running it again is safe.
    fn is_conflict(e: &StoreError) -> bool;
}

/// Applies one event on a connection, inside a transaction the caller owns.
pub(crate) type IngestFn<C> =
    for<'c> fn(&'c mut C, &'c IngestRequest, &'c FollowUps) -> BoxFuture<'c, StoreResult<IngestOutcome>>;

/// The ingest steps, as an [`IngestFn`].
pub(crate) fn ingest_steps<'c, C: Exec>(
    conn: &'c mut C,
    req: &'c IngestRequest,
    follow_ups: &'c FollowUps,
) -> BoxFuture<'c, StoreResult<IngestOutcome>> {
    Box::pin(crate::ingest::steps::ingest_in(conn, req, follow_ups))
}

pub(crate) struct Pending {
    pub request: IngestRequest,
    pub follow_ups: Arc<FollowUps>,
    reply: oneshot::Sender<StoreResult<IngestOutcome>>,
}

/// Counters, for tests and diagnostics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub largest: AtomicU64,
}

/// One writer: applies a batch on whatever connection it holds.
pub(crate) trait Writer {
    fn apply(&mut self, batch: &[Pending]) -> impl Future<Output = Vec<StoreResult<IngestOutcome>>>;
}

/// The handle callers queue their events on. Cheap to clone; the writers
/// end when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queues: Arc<[mpsc::Sender<Pending>]>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("writers", &self.queues.len()).field("stats", &self.stats).finish()
    }
}

impl GroupCommit {
    /// `writers` queues, each with the loop that its writer must run
    /// (`run`, on a task or thread of the backend's choosing).
    pub(crate) fn with_queues(writers: usize) -> (Self, Vec<Queue>) {
        let stats = Arc::new(Stats::default());
        let (senders, queues) = (0..writers.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
                (tx, Queue { events: rx, stats: Arc::clone(&stats) })
            })
            .unzip::<_, _, Vec<_>, Vec<_>>();
        (Self { queues: senders.into(), stats }, queues)
    }

    /// Queues the event and waits until it is committed (or has failed).
    pub(crate) async fn ingest(
        &self,
        request: &IngestRequest,
        follow_ups: &Arc<FollowUps>,
    ) -> StoreResult<IngestOutcome> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        request.call_sid().as_str().hash(&mut hasher);
        let queue = &self.queues[(hasher.finish() % self.queues.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        let pending = Pending { request: request.clone(), follow_ups: Arc::clone(follow_ups), reply };
        queue.send(pending).await.map_err(|_| stopped())?;
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

/// One writer's queue.
pub(crate) struct Queue {
    events: mpsc::Receiver<Pending>,
    stats: Arc<Stats>,
}

impl Queue {
    /// The writer's loop: until every handle is dropped, applies what is
    /// waiting and answers each caller.
    pub(crate) async fn run(mut self, mut writer: impl Writer) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while self.events.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let size = batch.len() as u64;
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
            self.stats.events.fetch_add(size, Ordering::Relaxed);
            self.stats.largest.fetch_max(size, Ordering::Relaxed);
            let results = writer.apply(&batch).await;
            for (pending, result) in batch.drain(..).zip(results) {
                // A caller that stopped waiting (a dropped request) needs no answer.
                let _ = pending.reply.send(result);
            }
        }
    }
}

/// Every event of the batch failed with `e` (no connection, say).
pub(crate) fn all_failed(batch: &[Pending], e: &dyn std::fmt::Display) -> Vec<StoreResult<IngestOutcome>> {
    batch.iter().map(|_| Err(StoreError::Database(e.to_string().into()))).collect()
}

/// Why a batch was not committed; either way nothing of it was.
enum Failed {
    /// An event failed.
    Event,
    /// The transaction failed.
    Batch(StoreError),
}

/// One result per event, in order.
pub(crate) async fn apply<C: BatchConn>(
    conn: &mut C,
    ingest: IngestFn<C::Lane>,
    batch: &[Pending],
) -> Vec<StoreResult<IngestOutcome>> {
    if batch.len() > 1 {
        let mut savepoints = false;
        for attempt in 1..=ATTEMPTS {
            match together(conn, ingest, batch, savepoints).await {
                Ok(results) => return results,
                Err(Failed::Event) if !savepoints => savepoints = true,
                Err(Failed::Batch(e)) if C::is_conflict(&e) && attempt < ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "ingest batch lost a lock conflict; running it again");
                }
                Err(Failed::Event) => break,
                Err(Failed::Batch(e)) => {
                    tracing::warn!(
                        error = %e,
                        events = batch.len(),
                        "group commit failed and was rolled back; applying the events one transaction each"
                    );
                    break;
                }
            }
        }
    }
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        results.push(alone(conn, ingest, pending).await);
    }
    results
}

/// The whole batch in one transaction, committed only if it all succeeds.
/// Without savepoints a failing event fails the batch (`Failed::Event`);
/// with them, it fails alone.
async fn together<C: BatchConn>(
    conn: &mut C,
    ingest: IngestFn<C::Lane>,
    batch: &[Pending],
    savepoints: bool,
) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    conn.start(batch, !savepoints).await.map_err(Failed::Batch)?;
    let applied = match in_transaction(conn, ingest, batch, savepoints).await {
        // A held-back write that fails fails the batch like any event; the
        // run with savepoints (which holds nothing back) finds whose it was.
        Ok(results) => match conn.flush().await {
            Err(e) if C::is_conflict(&e) => Err(Failed::Batch(e)),
            Err(_) => Err(Failed::Event),
            Ok(()) => conn.control("COMMIT").await.map(|()| results).map_err(Failed::Batch),
        },
        Err(failed) => Err(failed),
    };
    if applied.is_err() {
        conn.rollback().await;
    }
    applied
}

async fn in_transaction<C: BatchConn>(
    conn: &mut C,
    ingest: IngestFn<C::Lane>,
    batch: &[Pending],
    savepoints: bool,
) -> Result<Vec<StoreResult<IngestOutcome>>, Failed> {
    if !savepoints {
        let mut results = conn.run(ingest, batch).await;
        if results.iter().all(Result::is_ok) {
            return Ok(results);
        }
        // The server rolled the whole transaction back, whatever failed next.
        let conflict = results.iter().position(|r| r.as_ref().is_err_and(C::is_conflict));
        return match conflict.map(|i| results.swap_remove(i)) {
            Some(Err(e)) => Err(Failed::Batch(e)),
            _ => Err(Failed::Event),
        };
    }
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch.chunks(1) {
        conn.control("SAVEPOINT event").await.map_err(Failed::Batch)?;
        let result = conn.run(ingest, pending).await.pop().unwrap_or_else(|| Err(not_run()));
        match result {
            Err(e) if C::is_conflict(&e) => return Err(Failed::Batch(e)),
            Err(_) => conn.control("ROLLBACK TO SAVEPOINT event").await.map_err(Failed::Batch)?,
            Ok(_) => {}
        }
        conn.control("RELEASE SAVEPOINT event").await.map_err(Failed::Batch)?;
        results.push(result);
    }
    Ok(results)
}

/// Applies `events` one after another on `lane` (see [`BatchConn::run`]),
/// up to the first that fails.
pub(crate) async fn run_in_order<L: Exec>(
    lane: &mut L,
    ingest: IngestFn<L>,
    events: &[Pending],
) -> Vec<StoreResult<IngestOutcome>> {
    let mut results = Vec::with_capacity(events.len());
    for pending in events {
        if results.last().is_some_and(Result::is_err) {
            results.push(Err(not_run()));
        } else {
            results.push(ingest(lane, &pending.request, &*pending.follow_ups).await);
        }
    }
    results
}

/// An event its connection did not apply.
pub(crate) fn not_run() -> StoreError {
    StoreError::Database("not applied: an event before it in its batch failed".into())
}

/// One event in a transaction of its own.
async fn alone<C: BatchConn>(conn: &mut C, ingest: IngestFn<C::Lane>, pending: &Pending) -> StoreResult<IngestOutcome> {
    let mut attempt = 1;
    loop {
        let applied = async {
            conn.start(std::slice::from_ref(pending), true).await?;
            let outcome =
                conn.run(ingest, std::slice::from_ref(pending)).await.pop().unwrap_or_else(|| Err(not_run()))?;
            conn.flush().await?;
            conn.control("COMMIT").await?;
            Ok(outcome)
        }
        .await;
        match applied {
            Ok(outcome) => return Ok(outcome),
            Err(e) => {
                conn.rollback().await;
                if !(C::is_conflict(&e) && attempt < ATTEMPTS) {
                    return Err(e);
                }
                tracing::debug!(attempt, error = %e, "ingest lost a lock conflict; running it again");
                attempt += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
