//! The ingest steps on SQLite, run by the group-commit writer's thread on a
//! connection of its own (`rusqlite`), not through sqlx.
//!
//! Why not through sqlx: its SQLite driver runs each connection on a thread
//! of its own, so every statement is a round trip between two threads (two
//! thread wake-ups). Profiled under load, those wake-ups took about half of
//! the machine's CPU time and SQLite itself under a tenth; a batch of ingests
//! is a few hundred statements. Here the writer thread runs them itself.
//!
//! Every future of this connection completes without waiting; they block
//! the writer's thread, which is theirs alone.

use std::path::Path;
use std::time::Duration;

use omnivox_core::store::{StoreError, StoreResult};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags};
use sqlx::types::Json;

use omnivox_core::ingest::IngestOutcome;

use super::exec::{select_sql, Exec, Param};
use crate::group_commit::{self, all_failed, BatchConn, GroupCommit, IngestFn, Pending, Writer};
use crate::rows::{CallIngestRow, RecordingIngestRow};

pub(crate) fn rusqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

/// Opens the writer's connection with the settings of the store's pools
/// (`crate::sqlite`): WAL, an fsync at every commit, foreign keys on.
pub(crate) fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    // `journal_mode` answers with a row.
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = memory;")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Int(Some(v)) => ValueRef::Integer(v),
            Param::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            // As sqlx's `Json` stores it on SQLite: the JSON text.
            Param::Json(v) => ValueRef::Text(v.get().as_bytes()),
            Param::Int(None) | Param::Text(None) => ValueRef::Null,
        }))
    }
}

/// The statement, prepared once per connection, with `params` bound to its
/// `$n` parameters by number, as sqlx binds them (SQLite itself numbers
/// named parameters in order of appearance).
fn prepared<'c>(conn: &'c Connection, sql: &str, params: &[Param<'_>]) -> StoreResult<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql).map_err(rusqlite_error)?;
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("statement parameter {i} is not of the form $n")))?;
        let value = n.checked_sub(1).and_then(|n| params.get(n)).copied().unwrap_or(Param::Int(None));
        stmt.raw_bind_parameter(i, value).map_err(rusqlite_error)?;
    }
    Ok(stmt)
}

/// The first row of a statement, decoded; the statement runs to its end.
fn first_row<T>(
    conn: &Connection,
    sql: &str,
    params: &[Param<'_>],
    decode: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = prepared(conn, sql, params)?;
    let mut rows = stmt.raw_query();
    let first = match rows.next().map_err(rusqlite_error)? {
        Some(row) => Some(decode(row).map_err(rusqlite_error)?),
        None => None,
    };
    while rows.next().map_err(rusqlite_error)?.is_some() {}
    Ok(first)
}

impl Exec for Connection {
    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<()> {
        first_row(self, sql, params, |_| Ok(())).map(|_| ())
    }

    async fn fetch_id(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Option<i64>> {
        first_row(self, sql, params, |row| row.get(0))
    }

    async fn fetch_call(&mut self, call_sid: &str) -> StoreResult<Option<CallIngestRow>> {
        let row = first_row(self, select_sql!(call, ""), &[Param::from(call_sid)], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get::<_, String>(4)?, row.get(5)?))
        })?;
        let Some((id, campaign_id, contact_id, agent_id, facts, created_at)) = row else { return Ok(None) };
        let facts = serde_json::from_str(&facts)
            .map_err(|e| StoreError::Corrupt(format!("call record {id}: facts are not valid JSON: {e}")))?;
        Ok(Some(CallIngestRow { id, campaign_id, contact_id, agent_id, facts: Json(facts), created_at }))
    }

    async fn fetch_recording(&mut self, recording_sid: &str) -> StoreResult<Option<RecordingIngestRow>> {
        first_row(self, select_sql!(recording, ""), &[Param::from(recording_sid)], |row| {
            Ok(RecordingIngestRow {
                id: row.get(0)?,
                status: row.get(1)?,
                duration_seconds: row.get(2)?,
                channels: row.get(3)?,
                source: row.get(4)?,
                track: row.get(5)?,
                started_at: row.get(6)?,
                error_code: row.get(7)?,
                sync_status: row.get(8)?,
                error: row.get(9)?,
            })
        })
    }
}

impl BatchConn for Connection {
    type Lane = Connection;

    async fn run(&mut self, ingest: IngestFn<Connection>, events: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
        group_commit::run_in_order(self, ingest, events).await
    }
    // IMMEDIATE: the write lock is taken (or waited for) before anything is read.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    async fn control(&mut self, sql: &'static str) -> StoreResult<()> {
        self.execute_batch(sql).map_err(rusqlite_error)
    }

    async fn rollback(&mut self) {
        if !self.is_autocommit() {
            if let Err(e) = self.execute_batch("ROLLBACK") {
                tracing::warn!(error = %e, "rolling back an ingest transaction failed");
            }
        }
    }

    /// The one writer waits for the write lock (`busy_timeout`) instead.
    fn is_conflict(_: &StoreError) -> bool {
        false
    }
}

/// SQLite's one writer: its own connection, and the store's one-connection
/// writer pool, held while a batch is applied. SQLite has one writer at a
/// time, so this way the two never contend for the write lock (a deferred
/// transaction of the pool could otherwise fail to upgrade): other writes
/// interleave between batches.
struct SqliteWriter {
    conn: Connection,
    pool: sqlx::SqlitePool,
    ingest: IngestFn<Connection>,
}

impl Writer for SqliteWriter {
    async fn apply(&mut self, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
        match self.pool.acquire().await {
            // Held (not used) while the batch is applied: the write lock's token.
            Ok(_token) => group_commit::apply(&mut self.conn, self.ingest, batch).await,
            Err(e) => all_failed(batch, &e),
        }
    }
}

/// Starts SQLite's group commit: one writer, on a thread of its own, on a
/// connection it opens to the database file at `path`; `pool` is the
/// store's writer pool.
pub(crate) fn start_group_commit(
    path: &Path,
    busy_timeout: Duration,
    pool: sqlx::SqlitePool,
    ingest: IngestFn<Connection>,
) -> std::io::Result<GroupCommit> {
    let conn = open(path, busy_timeout).map_err(std::io::Error::other)?;
    let (group, mut queues) = GroupCommit::with_queues(1);
    let queue = queues.pop().ok_or_else(|| std::io::Error::other("no queue"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let writer = SqliteWriter { conn, pool, ingest };
    std::thread::Builder::new().name("omnivox-ingest".into()).spawn(move || runtime.block_on(queue.run(writer)))?;
    Ok(group)
}
