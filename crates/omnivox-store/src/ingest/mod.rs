//! `IngestStore` for both backends. The steps are written once
//! (`steps::ingest_in`, against `exec::Exec`); each backend chooses the
//! connection they run on and how events are grouped into commits.
//!
//! SQLite has one writer and pays an fsync per commit (`synchronous=FULL`),
//! so its ingests go through group commit (`crate::group_commit`), on a
//! connection the writer thread drives itself (`sqlite`). PostgreSQL
//! commits concurrent transactions of many connections with shared WAL
//! flushes already, and a single batching writer would serialise its round
//! trips, so each event there has a transaction of its own on the shared
//! pool (`pg`).

pub(crate) mod exec;
mod pg;
mod recording;
pub(crate) mod sqlite;
pub(crate) mod steps;

use std::sync::Arc;

use async_trait::async_trait;
use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest, IngestStore};
use omnivox_core::store::StoreResult;

use crate::{db_error, PgStore, SqliteStore};

#[async_trait]
impl IngestStore for SqliteStore {
    async fn ingest(&self, request: &IngestRequest, follow_ups: &Arc<FollowUps>) -> StoreResult<IngestOutcome> {
        self.group_commit().ingest(request, follow_ups).await
    }
}

/// Attempts of one PostgreSQL ingest that the server chose as a deadlock
/// or serialization victim. Such a transaction was rolled back whole, and
/// the event is idempotent, so running it again is always safe.
const PG_ATTEMPTS: u32 = 5;

/// Deadlock detected (40P01) or serialization failure (40001).
fn is_retryable_conflict(e: &omnivox_core::StoreError) -> bool {
    let omnivox_core::StoreError::Database(inner) = e else { return false };
    match inner.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

#[async_trait]
impl IngestStore for PgStore {
    async fn ingest(&self, request: &IngestRequest, follow_ups: &Arc<FollowUps>) -> StoreResult<IngestOutcome> {
        let mut attempt = 1;
        loop {
            let result = async {
                let mut tx = self.writer().begin().await.map_err(db_error)?;
                let outcome = steps::ingest_in(&mut *tx, request, &**follow_ups).await?;
                tx.commit().await.map_err(db_error)?;
                Ok(outcome)
            }
            .await;
            match result {
                Err(e) if attempt < PG_ATTEMPTS && is_retryable_conflict(&e) => {
                    tracing::debug!(attempt, error = %e, "ingest lost a lock conflict; running it again");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}
