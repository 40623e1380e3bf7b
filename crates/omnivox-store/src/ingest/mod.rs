//! `IngestStore` for both backends. The steps are written once
//! (`steps::ingest_in`, against `exec::Exec`); each backend chooses the
//! connection they run on and how events are grouped into commits.
//!
//! Both commit through group commit (`crate::group_commit`). SQLite has one
//! writer, a thread driving a connection of its own (`sqlite`); PostgreSQL
//! has several writer tasks on the shared pool (`pg`).

pub(crate) mod exec;
pub(crate) mod pg;
mod recording;
pub(crate) mod sqlite;
pub(crate) mod steps;

use std::sync::Arc;

use async_trait::async_trait;
use omnivox_core::ingest::{FollowUps, IngestOutcome, IngestRequest, IngestStore};
use omnivox_core::store::StoreResult;

use crate::{PgStore, SqliteStore};

#[async_trait]
impl IngestStore for SqliteStore {
    async fn ingest(&self, request: &IngestRequest, follow_ups: &Arc<FollowUps>) -> StoreResult<IngestOutcome> {
        self.group_commit().ingest(request, follow_ups).await
    }
}

#[async_trait]
impl IngestStore for PgStore {
    async fn ingest(&self, request: &IngestRequest, follow_ups: &Arc<FollowUps>) -> StoreResult<IngestOutcome> {
        self.group_commit().ingest(request, follow_ups).await
    }
}
