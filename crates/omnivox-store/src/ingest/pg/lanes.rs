//! Running the steps of many events side by side on one connection, so
//! that the same statement of all of them runs as one.
//!
//! The events of a batch run in waves: a wave holds at most one event per
//! call, in batch order, so the events of one call still run one after the
//! other, each seeing the one before. Events of distinct calls share no row
//! they read for an update (a contact, a campaign or a job they may share
//! is written with `ON CONFLICT DO NOTHING` and read back), so running them
//! side by side gives what running them one after another would.
//!
//! Each event's steps run on a [`Lane`]: every statement they issue is
//! queued, and the step waits. Once every unfinished event of the wave waits
//! on a statement, the connection answers them all: the same [`Batchable`]
//! statement of several events runs once, as its `many` form; anything else
//! runs alone, in the order it was asked.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use futures::channel::oneshot;
use omnivox_core::ingest::IngestOutcome;
use omnivox_core::store::{StoreError, StoreResult};
use serde_json::value::RawValue;
use sqlx::Row as _;

use super::{Columns, PgBatch};
use crate::db_error;
use crate::group_commit::{not_run, IngestFn, Pending};
use crate::ingest::exec::{Batchable, Exec, Param};
use crate::rows::{CallIngestRow, RecordingIngestRow};

/// What one event's steps run on: each statement is asked of the batch's
/// connection and answered when the connection gets to it.
pub(crate) struct Lane {
    asks: Arc<Mutex<Vec<Ask>>>,
}

struct Ask {
    what: What,
    params: Vec<Value>,
    reply: oneshot::Sender<StoreResult<Answer>>,
}

enum What {
    Execute(&'static str),
    FetchId(&'static str),
    FetchIdOf(&'static Batchable),
    Write(&'static Batchable),
    Call(String),
    Recording(String),
}

enum Answer {
    Done,
    Id(Option<i64>),
    Call(Option<CallIngestRow>),
    Recording(Option<RecordingIngestRow>),
}

/// A [`Param`] the lane owns, kept until the connection gets to it.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Json(Box<RawValue>),
}

impl Value {
    fn of(p: &Param<'_>) -> Self {
        match *p {
            Param::Int(v) => Value::Int(v),
            Param::Text(v) => Value::Text(v.map(str::to_owned)),
            Param::Json(v) => Value::Json(v.to_owned()),
        }
    }

    fn param(&self) -> Param<'_> {
        match self {
            Value::Int(v) => Param::Int(*v),
            Value::Text(v) => Param::Text(v.as_deref()),
            Value::Json(v) => Param::Json(v),
        }
    }

    /// The value as a `many` statement returns its key (`$1`'s value as text).
    fn key(&self) -> Option<String> {
        match self {
            Value::Int(v) => v.map(|v| v.to_string()),
            Value::Text(v) => v.clone(),
            Value::Json(_) => None,
        }
    }
}

fn unexpected() -> StoreError {
    StoreError::Corrupt("an ingest statement was answered with another kind of result".into())
}

impl Lane {
    fn ask(&self, what: What, params: &[Param<'_>]) -> impl Future<Output = StoreResult<Answer>> + Send {
        let (reply, answer) = oneshot::channel();
        let ask = Ask { what, params: params.iter().map(Value::of).collect(), reply };
        self.asks.lock().unwrap_or_else(PoisonError::into_inner).push(ask);
        async {
            answer.await.map_err(|_| StoreError::Database("the ingest writer dropped a statement unanswered".into()))?
        }
    }
}

impl Exec for Lane {
    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<()> {
        match self.ask(What::Execute(sql), params).await? {
            Answer::Done => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn write(&mut self, stmt: &'static Batchable, params: &[Param<'_>]) -> StoreResult<()> {
        match self.ask(What::Write(stmt), params).await? {
            Answer::Done => Ok(()),
            _ => Err(unexpected()),
        }
    }

    async fn fetch_id(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Option<i64>> {
        match self.ask(What::FetchId(sql), params).await? {
            Answer::Id(id) => Ok(id),
            _ => Err(unexpected()),
        }
    }

    async fn fetch_id_of(&mut self, stmt: &'static Batchable, params: &[Param<'_>]) -> StoreResult<Option<i64>> {
        match self.ask(What::FetchIdOf(stmt), params).await? {
            Answer::Id(id) => Ok(id),
            _ => Err(unexpected()),
        }
    }

    async fn fetch_call(&mut self, call_sid: &str) -> StoreResult<Option<CallIngestRow>> {
        match self.ask(What::Call(call_sid.to_owned()), &[]).await? {
            Answer::Call(row) => Ok(row),
            _ => Err(unexpected()),
        }
    }

    async fn fetch_recording(&mut self, recording_sid: &str) -> StoreResult<Option<RecordingIngestRow>> {
        match self.ask(What::Recording(recording_sid.to_owned()), &[]).await? {
            Answer::Recording(row) => Ok(row),
            _ => Err(unexpected()),
        }
    }
}

/// [`crate::group_commit::BatchConn::run`] for PostgreSQL: the events in
/// waves, up to the first wave in which one fails.
pub(super) async fn run(
    conn: &mut PgBatch,
    ingest: IngestFn<Lane>,
    events: &[Pending],
) -> Vec<StoreResult<IngestOutcome>> {
    let mut results: Vec<Option<StoreResult<IngestOutcome>>> = events.iter().map(|_| None).collect();
    for wave in waves(events) {
        run_wave(conn, ingest, events, &wave, &mut results).await;
        if wave.iter().any(|&i| results[i].as_ref().is_some_and(Result::is_err)) {
            break;
        }
    }
    results.into_iter().map(|r| r.unwrap_or_else(|| Err(not_run()))).collect()
}

/// The events' indices by wave: an event's wave is the number of events of
/// its call before it in the batch.
fn waves(events: &[Pending]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (i, pending) in events.iter().enumerate() {
        let wave = seen.entry(pending.request.call_sid().as_str()).or_insert(0);
        if *wave == waves.len() {
            waves.push(Vec::new());
        }
        waves[*wave].push(i);
        *wave += 1;
    }
    waves
}

async fn run_wave(
    conn: &mut PgBatch,
    ingest: IngestFn<Lane>,
    events: &[Pending],
    wave: &[usize],
    results: &mut [Option<StoreResult<IngestOutcome>>],
) {
    let asks = Arc::new(Mutex::new(Vec::new()));
    let mut lanes: Vec<Lane> = wave.iter().map(|_| Lane { asks: Arc::clone(&asks) }).collect();
    let mut running: Vec<_> = lanes
        .iter_mut()
        .zip(wave)
        .map(|(lane, &i)| (i, ingest(lane, &events[i].request, &*events[i].follow_ups)))
        .collect();
    loop {
        // Every unfinished event runs until it waits on a statement.
        let finished = poll_fn(|cx| {
            let ready: Vec<_> = running
                .iter_mut()
                .enumerate()
                .filter_map(|(k, (_, step))| match step.as_mut().poll(cx) {
                    Poll::Ready(result) => Some((k, result)),
                    Poll::Pending => None,
                })
                .collect();
            Poll::Ready(ready)
        })
        .await;
        // From the last, so that each removal leaves the earlier indices be.
        for (k, result) in finished.into_iter().rev() {
            let (i, _) = running.swap_remove(k);
            results[i] = Some(result);
        }
        if running.is_empty() {
            return;
        }
        let asked = std::mem::take(&mut *asks.lock().unwrap_or_else(PoisonError::into_inner));
        if asked.is_empty() {
            // Waiting on something other than the database: cannot happen
            // with the steps as written (the replies are `futures` oneshots,
            // which, unlike tokio's, never pend to give the scheduler a
            // turn); fail rather than hang.
            for (i, _) in running {
                results[i] = Some(Err(StoreError::Corrupt("an ingest step waited on nothing it asked".into())));
            }
            return;
        }
        answer(conn, asked).await;
    }
}

/// Runs what the lanes asked: the `fetch_id_of` asks of one statement
/// together, everything else one by one.
async fn answer(conn: &mut PgBatch, asked: Vec<Ask>) {
    let mut groups: Vec<(&'static Batchable, Vec<Ask>)> = Vec::new();
    for ask in asked {
        match ask.what {
            What::FetchIdOf(stmt) => match groups.iter_mut().find(|(s, _)| std::ptr::eq(*s, stmt)) {
                Some((_, group)) => group.push(ask),
                None => groups.push((stmt, vec![ask])),
            },
            _ => alone(conn, ask).await,
        }
    }
    for (stmt, group) in groups {
        together(conn, stmt, group).await;
    }
}

async fn alone(conn: &mut PgBatch, ask: Ask) {
    let params: Vec<Param<'_>> = ask.params.iter().map(Value::param).collect();
    let answer = match ask.what {
        What::Execute(sql) => conn.execute(sql, &params).await.map(|()| Answer::Done),
        What::Write(stmt) => conn.write(stmt, &params).await.map(|()| Answer::Done),
        What::FetchId(sql) => conn.fetch_id(sql, &params).await.map(Answer::Id),
        What::FetchIdOf(stmt) => conn.fetch_id(stmt.one, &params).await.map(Answer::Id),
        What::Call(sid) => conn.fetch_call(&sid).await.map(Answer::Call),
        What::Recording(sid) => conn.fetch_recording(&sid).await.map(Answer::Recording),
    };
    // An event that stopped waiting needs no answer.
    let _ = ask.reply.send(answer);
}

/// One `many` statement for every ask of `stmt`; each gets the id returned
/// for its key. Asks without distinct keys run one by one.
async fn together(conn: &mut PgBatch, stmt: &'static Batchable, group: Vec<Ask>) {
    let mut keyed = Vec::with_capacity(group.len());
    for ask in group {
        match ask.params.first().and_then(Value::key) {
            Some(key) => keyed.push((key, ask)),
            None => alone(conn, ask).await,
        }
    }
    // In key order, as every writer (of any instance) takes the rows' locks.
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if keyed.len() < 2 || keyed.windows(2).any(|w| w[0].0 == w[1].0) {
        for (_, ask) in keyed {
            alone(conn, ask).await;
        }
        return;
    }
    let (keys, group): (Vec<String>, Vec<Ask>) = keyed.into_iter().unzip();
    match many(conn, stmt, &group).await {
        Ok(mut ids) => {
            for (ask, key) in group.into_iter().zip(keys) {
                let _ = ask.reply.send(Ok(Answer::Id(ids.remove(&key))));
            }
        }
        Err(e) => {
            // The first ask gets the error itself (a deadlock must be
            // recognised as one); the transaction is lost for all.
            let mut error = Some(e);
            for ask in group {
                let e = error
                    .take()
                    .unwrap_or_else(|| StoreError::Database("not applied: a statement run with it failed".into()));
                let _ = ask.reply.send(Err(e));
            }
        }
    }
}

/// Runs `stmt.many` over the asks' values: the ids it returns, by key.
async fn many(conn: &mut PgBatch, stmt: &'static Batchable, group: &[Ask]) -> StoreResult<HashMap<String, i64>> {
    let rows: Vec<Vec<Param<'_>>> = group.iter().map(|a| a.params.iter().map(Value::param).collect()).collect();
    let mut columns = Columns::of(rows.first().map(Vec::as_slice).unwrap_or_default());
    for row in &rows {
        columns.push(row)?;
    }
    let returned = columns.fetch_all(stmt.many, &mut conn.conn).await?;
    returned
        .iter()
        .map(|row| Ok((row.try_get::<String, _>(0).map_err(db_error)?, row.try_get::<i64, _>(1).map_err(db_error)?)))
        .collect()
}
