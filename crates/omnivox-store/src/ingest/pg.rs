//! The ingest steps on a PostgreSQL connection, through sqlx, and the
//! writers that run them in batches (`crate::group_commit`). Rows read for
//! an update are locked (`FOR UPDATE`): instances ingesting the same call
//! at once take turns instead of overwriting each other's merge.

use omnivox_core::ingest::IngestOutcome;
use omnivox_core::store::{StoreError, StoreResult};
use sqlx::postgres::{PgArguments, PgConnection, PgPool};
use sqlx::types::Json;
use sqlx::{Postgres, Row as _};

use super::exec::{select_sql, Exec, Param};
use crate::db_error;
use crate::group_commit::{self, all_failed, BatchConn, GroupCommit, IngestFn, Pending, Writer};
use crate::rows::{CallIngestRow, RecordingIngestRow};

type Query<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bound<'q>(sql: &'q str, params: &[Param<'q>]) -> Query<'q> {
    params.iter().fold(sqlx::query(sql), |q, p| match *p {
        Param::Int(v) => q.bind(v),
        Param::Text(v) => q.bind(v),
        Param::Json(v) => q.bind(Json(v)),
    })
}

impl Exec for PgConnection {
    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<()> {
        bound(sql, params).execute(self).await.map_err(db_error)?;
        Ok(())
    }

    async fn fetch_id(&mut self, sql: &'static str, params: &[Param<'_>]) -> StoreResult<Option<i64>> {
        match bound(sql, params).fetch_optional(self).await.map_err(db_error)? {
            Some(row) => row.try_get::<i64, _>(0).map(Some).map_err(db_error),
            None => Ok(None),
        }
    }

    async fn fetch_call(&mut self, call_sid: &str) -> StoreResult<Option<CallIngestRow>> {
        sqlx::query_as(select_sql!(call, "FOR UPDATE")).bind(call_sid).fetch_optional(self).await.map_err(db_error)
    }

    async fn fetch_recording(&mut self, recording_sid: &str) -> StoreResult<Option<RecordingIngestRow>> {
        sqlx::query_as(select_sql!(recording, "FOR UPDATE"))
            .bind(recording_sid)
            .fetch_optional(self)
            .await
            .map_err(db_error)
    }
}

impl BatchConn for PgConnection {
    const BEGIN: &'static str = "BEGIN";

    async fn control(&mut self, sql: &'static str) -> StoreResult<()> {
        sqlx::Executor::execute(self, sql).await.map_err(db_error)?;
        Ok(())
    }

    async fn rollback(&mut self) {
        // Outside a transaction PostgreSQL only warns.
        if let Err(e) = sqlx::Executor::execute(self, "ROLLBACK").await {
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
    ingest: IngestFn<PgConnection>,
}

impl Writer for PgWriter {
    async fn apply(&mut self, batch: &[Pending]) -> Vec<StoreResult<IngestOutcome>> {
        match self.pool.acquire().await {
            Ok(mut conn) => group_commit::apply(&mut *conn, self.ingest, batch).await,
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
pub(crate) fn start_group_commit(pool: PgPool, writers: usize, ingest: IngestFn<PgConnection>) -> GroupCommit {
    let (group, queues) = GroupCommit::with_queues(writers);
    for queue in queues {
        let writer = PgWriter { pool: pool.clone(), ingest };
        tokio::spawn(queue.run(writer));
    }
    group
}
