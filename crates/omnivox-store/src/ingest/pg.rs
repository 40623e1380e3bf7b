//! The ingest steps on a PostgreSQL connection, through sqlx. Rows read for
//! an update are locked (`FOR UPDATE`): instances ingesting the same call
//! at once take turns instead of overwriting each other's merge.

use omnivox_core::store::StoreResult;
use sqlx::postgres::{PgArguments, PgConnection};
use sqlx::types::Json;
use sqlx::{Postgres, Row as _};

use super::exec::{select_sql, Exec, Param};
use crate::db_error;
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
