//! What the ingest steps need of a connection: run one of their statements
//! with its values, and read back an id or one of two row shapes. The steps
//! (`super::steps`) are written once against this; each backend runs them
//! on its own kind of connection (`super::pg`, `super::sqlite`).

use std::future::Future;

use omnivox_core::store::StoreResult;
use serde_json::value::RawValue;

use crate::rows::{CallIngestRow, RecordingIngestRow};

/// One statement value. SQLite and PostgreSQL store the same three kinds
/// in the ingest tables: BIGINT, TEXT and JSON (JSONB on PostgreSQL).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Json(&'a RawValue),
}

impl<'a> From<i64> for Param<'a> {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl<'a> From<Option<i64>> for Param<'a> {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a RawValue> for Param<'a> {
    fn from(v: &'a RawValue) -> Self {
        Param::Json(v)
    }
}

/// `[Param; N]` from a list of values of the kinds above.
macro_rules! params {
    ($($v:expr),* $(,)?) => { [$($crate::ingest::exec::Param::from($v)),*] };
}
pub(crate) use params;

/// A statement a backend may run for many events with one statement:
/// `one` writes one row from `$1`, `$2`, …; `many` writes every row from
/// parallel arrays, `$n` being the array of the `$n` values of `one`. A
/// `many` whose ids are read back ([`Exec::fetch_id_of`]) returns, for each
/// row it wrote, `$1`'s value as text and the row's id: `$1` is the row's key.
#[derive(Debug)]
pub(crate) struct Batchable {
    pub one: &'static str,
    pub many: &'static str,
}

/// A connection inside a transaction (or savepoint) its caller owns.
/// Statements number their values `$1`, `$2`, … on both backends.
pub(crate) trait Exec: Send {
    /// Runs a statement that returns no rows.
    fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> impl Future<Output = StoreResult<()>> + Send;

    /// A write whose outcome the steps never read back (a timeline line, a
    /// follow-up job), run now or held back to run with others of its kind
    /// before the transaction commits.
    fn write(
        &mut self,
        stmt: &'static Batchable,
        params: &[Param<'_>],
    ) -> impl Future<Output = StoreResult<()>> + Send {
        self.execute(stmt.one, params)
    }

    /// [`fetch_id`](Self::fetch_id) of `stmt.one`, which a backend may run
    /// together with the same statement of other events.
    fn fetch_id_of(
        &mut self,
        stmt: &'static Batchable,
        params: &[Param<'_>],
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send {
        self.fetch_id(stmt.one, params)
    }

    /// The first column of the first row as an integer (an id), if any row.
    fn fetch_id(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send;

    /// The call record's ingest columns (`select_sql!(call, …)`), the row
    /// locked where the backend has row locks.
    fn fetch_call(&mut self, call_sid: &str) -> impl Future<Output = StoreResult<Option<CallIngestRow>>> + Send;

    /// The recording's ingest columns (`select_sql!(recording, …)`), likewise.
    fn fetch_recording(
        &mut self,
        recording_sid: &str,
    ) -> impl Future<Output = StoreResult<Option<RecordingIngestRow>>> + Send;
}

/// The two row-reading statements, with the backend's row lock appended;
/// `call_columns` is what `call` reads.
macro_rules! select_sql {
    (call_columns) => {
        "id, campaign_id, contact_id, agent_id, facts, created_at"
    };
    (call, $lock:literal) => {
        concat!("SELECT ", select_sql!(call_columns), " FROM call_records WHERE call_sid = $1 ", $lock)
    };
    (recording, $lock:literal) => {
        concat!(
            "SELECT id, status, duration_seconds, channels, source, track, started_at, error_code, sync_status, error
             FROM recordings WHERE recording_sid = $1 ",
            $lock
        )
    };
}
pub(crate) use select_sql;
