//! The ingest steps on a PostgreSQL connection, through sqlx, and the
//! writers that run them in batches (`crate::group_commit`). Rows read for
//! an update are locked (`FOR UPDATE`): instances ingesting the same call
//! at once take turns instead of overwriting each other's merge.

mod lanes;

use std::collections::HashMap;

use omnivox_core::ingest::IngestOutcome;
use omnivox_core::store::{StoreError, StoreResult};
use serde_json::value::RawValue;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::types::Json;
use sqlx::{FromRow as _, Postgres, Row as _};

use super::exec::{select_sql, Batchable, Param};
use crate::db_error;
use crate::group_commit::{self, all_failed, BatchConn, GroupCommit, IngestFn, Pending, Writer};
use crate::rows::{CallIngestRow, RecordingIngestRow};
pub(crate) use lanes::Lane;

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bound<'q>(sql: &'q str, params: &[Param<'q>]) -> Query<'q> {
    params.iter().fold(sqlx::query(sql), |q, p| match *p {
        Param::Int(v) => q.bind(v),
        Param::Text(v) => q.bind(v),
        Param::Json(v) => q.bind(Json(v)),
    })
}

/// A writer's connection while it applies one batch. Each statement costs
/// a round trip and a good part of PostgreSQL's work, so a batch saves
/// statements where the steps allow:
/// - the call records of the whole batch are read (and locked, in CallSid
///   order) by one statement at its start;
/// - the events of distinct calls run their steps side by side
///   ([`lanes`]), and the same [`Batchable`] statement of all of them runs
///   as one;
/// - with `defer`, [`Batchable`] writes are held back and run before the
///   commit, one statement per kind for the whole batch.
pub(crate) struct PgBatch {
    conn: PoolConnection<Postgres>,
    /// The batch's call records as read at its start (`None`: not there
    /// then), each handed out once: a later read of the same call comes
    /// after this batch's own writes to it, so it goes to the database.
    calls: HashMap<String, Option<CallIngestRow>>,
    defer: bool,
    held: Vec<Held>,
}

/// The rows of one kind of held-back write, as columns.
struct Held {
    stmt: &'static Batchable,
    columns: Columns,
}

/// Rows of values as one array per column, bound to a `many` statement.
struct Columns(Vec<Column>);

enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Json(Vec<Json<Box<RawValue>>>),
}

impl Columns {
    fn of(row: &[Param<'_>]) -> Self {
        Columns(
            row.iter()
                .map(|p| match p {
                    Param::Int(_) => Column::Int(Vec::new()),
                    Param::Text(_) => Column::Text(Vec::new()),
                    Param::Json(_) => Column::Json(Vec::new()),
                })
                .collect(),
        )
    }

    fn push(&mut self, row: &[Param<'_>]) -> StoreResult<()> {
        if row.len() != self.0.len() {
            return Err(StoreError::Corrupt("rows of one statement with different numbers of values".into()));
        }
        for (column, p) in self.0.iter_mut().zip(row) {
            match (column, *p) {
                (Column::Int(c), Param::Int(v)) => c.push(v),
                (Column::Text(c), Param::Text(v)) => c.push(v.map(str::to_owned)),
                (Column::Json(c), Param::Json(v)) => c.push(Json(v.to_owned())),
                _ => return Err(StoreError::Corrupt("rows of one statement with values of different kinds".into())),
            }
        }
        Ok(())
    }

    async fn fetch_all(self, sql: &'static str, conn: &mut PoolConnection<Postgres>) -> StoreResult<Vec<PgRow>> {
        let query = self.0.into_iter().fold(sqlx::query(sql), |q, column| match column {
            Column::Int(v) => q.bind(v),
            Column::Text(v) => q.bind(v),
            Column::Json(v) => q.bind(v),
        });
        query.fetch_all(&mut **conn).await.map_err(db_error)
    }
}

impl PgBatch {
    fn new(conn: PoolConnection<Postgres>) -> Self {
        Self { conn, calls: HashMap::new(), defer: false, held: Vec::new() }
    }

    /// Reads and locks the batch's existing call records.
    async fn read_calls(&mut self, batch: &[Pending]) -> StoreResult<()> {
        let mut sids: Vec<&str> = batch.iter().map(|p| p.request.call_sid().as_str()).collect();
        sids.sort_unstable();
        sids.dedup();
        let sql = concat!(
            "SELECT call_sid, ",
            select_sql!(call_columns),
            " FROM call_records WHERE call_sid = ANY($1) ORDER BY call_sid FOR UPDATE"
        );
        // Planned for each batch, not prepared: a plan cached while the
        // table was small would scan it whole for as long as the
        // connection lives.
        let query = sqlx::query(sql).bind(&sids).persistent(false);
        let rows = query.fetch_all(&mut *self.conn).await.map_err(db_error)?;
        self.calls = sids.iter().map(|sid| (sid.to_string(), None)).collect();
        for row in rows {
            let sid: String = row.try_get("call_sid").map_err(db_error)?;
            self.calls.insert(sid, Some(CallIngestRow::from_row(&row).map_err(db_error)?));
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<()> {
        bound(sql, params).execute(&mut *self.conn).await.map_err(db_error)?;
        Ok(())
    }

    /// Holds a write back until [`flush`](BatchConn::flush) when deferring.
    async fn write(&mut self, stmt: &'static Batchable, params: &[Param<'_>]) -> StoreResult<()> {
        if !self.defer {
            return self.execute(stmt.one, params).await;
        }
        match self.held.iter_mut().find(|h| std::ptr::eq(h.stmt, stmt)) {
            Some(held) => held.columns.push(params),
            None => {
                let mut columns = Columns::of(params);
                columns.push(params)?;
                self.held.push(Held { stmt, columns });
                Ok(())
            }
        }
    }

    async fn fetch_id(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Option<i64>> {
        match bound(sql, params).fetch_optional(&mut *self.conn).await.map_err(db_error)? {
            Some(row) => row.try_get::<i64, _>(0).map(Some).map_err(db_error),
            None => Ok(None),
        }
    }

    async fn fetch_call(&mut self, call_sid: &str) -> StoreResult<Option<CallIngestRow>> {
        if let Some(read) = self.calls.remove(call_sid) {
            return Ok(read);
        }
        sqlx::query_as(select_sql!(call, "FOR UPDATE"))
            .bind(call_sid)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(db_error)
    }

    async fn fetch_recording(&mut self, recording_sid: &str) -> StoreResult<Option<RecordingIngestRow>> {
        sqlx::query_as(select_sql!(recording, "FOR UPDATE"))
            .bind(recording_sid)
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(db_error)
    }
}

impl BatchConn for PgBatch {
    type Lane = Lane;
    const BEGIN: &'static str = "BEGIN";

    async fn control(&mut self, sql: &'static str) -> StoreResult<()> {
        sqlx::Executor::execute(&mut *self.conn, sql).await.map_err(db_error)?;
        Ok(())
    }

    async fn start(&mut self, batch: &[Pending], defer: bool) -> StoreResult<()> {
        self.held.clear();
        self.defer = defer;
        self.calls.clear();
        self.control(Self::BEGIN).await?;
        // One event reads its call with the prepared single-row statement,
        // which costs less than planning the batch's.
        if batch.len() > 1 {
            self.read_calls(batch).await?;
        }
        Ok(())
    }

    async fn run(&mut self, ingest: IngestFn<Lane>, events: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
        lanes::run(self, ingest, events).await
    }

    async fn flush(&mut self) -> StoreResult<()> {
        for held in std::mem::take(&mut self.held) {
            held.columns.fetch_all(held.stmt.many, &mut self.conn).await?;
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        self.calls.clear();
        self.held.clear();
        // Outside a transaction PostgreSQL only warns.
        if let Err(e) = sqlx::Executor::execute(&mut *self.conn, "ROLLBACK").await {
            tracing::warn!(error = %e, "rolling back an ingest transaction failed");
        }
    }

    /// Deadlock detected (40P01) or serialization failure (40001).
    fn is_conflict(e: &StoreError) -> bool {
        let StoreError::Database(inner) = e else { return false };
        match inner.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
            _ => false,
        }
    }
}

/// One of PostgreSQL's writers: a connection from the shared pool per batch.
struct PgWriter {
    pool: PgPool,
    ingest: IngestFn<Lane>,
}

impl Writer for PgWriter {
    async fn apply(&mut self, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
        match self.pool.acquire().await {
            Ok(conn) => group_commit::apply(&mut PgBatch::new(conn), self.ingest, batch).await,
            Err(e) => all_failed(batch, &e),
        }
    }
}

/// Starts PostgreSQL's group commit: `writers` tasks, each running its own
/// transactions on a connection of `pool`. PostgreSQL runs transactions of
/// several connections at once, so more than one writer keeps it busy when
/// each statement's round trip is long (a database on another machine);
/// batches keep the number of transactions, and of backends competing for
/// the CPU, low when it is not.
pub(crate) fn start_group_commit(pool: PgPool, writers: usize, ingest: IngestFn<Lane>) -> GroupCommit {
    let (group, queues) = GroupCommit::with_queues(writers);
    for queue in queues {
        let writer = PgWriter { pool: pool.clone(), ingest };
        tokio::spawn(queue.run(writer));
    }
    group
}
