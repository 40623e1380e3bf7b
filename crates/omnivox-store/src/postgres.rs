//! PostgreSQL backend, for many instances on one database. Jobs are claimed
//! with `FOR UPDATE SKIP LOCKED` so concurrent workers never take the same
//! job and never wait for each other.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use omnivox_core::store::{Backend, StoreResult};
use omnivox_core::Store;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::group_commit::GroupCommit;
use crate::{db_error, portable, ConnectError, PoolSettings};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Ingests, committed in groups (see `crate::group_commit`).
    ingest: GroupCommit,
}

impl PgStore {
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?
            .application_name("omnivox");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(ConnectError::Connect)?;
        let writers = ingest_writers(settings.max_connections);
        let ingest = crate::ingest::pg::start_group_commit(pool.clone(), writers, crate::group_commit::ingest_steps);
        Ok(Self { pool, ingest })
    }

    /// The pool, for `LISTEN/NOTIFY` and for tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn writer(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn reader(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn group_commit(&self) -> &GroupCommit {
        &self.ingest
    }
}

/// Ingest writers for a pool of `max_connections`: a quarter of the pool,
/// the rest being for reads and jobs; two at least, so that one waiting on
/// another instance's row lock does not stop every ingest.
fn ingest_writers(max_connections: u32) -> usize {
    (max_connections as usize / 4).clamp(2, 16)
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx takes an advisory lock, so instances starting together apply
        // each migration once.
        MIGRATOR.run(&self.pool).await.map_err(|e| omnivox_core::StoreError::Database(Box::new(e)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

portable::impl_user_store!(PgStore);
portable::impl_session_store!(PgStore);
portable::impl_audit_store!(PgStore);
portable::impl_call_record_store!(PgStore, db = sqlx::Postgres, list = crate::portable::call_list::POSTGRES);
portable::impl_media_store!(PgStore);
portable::impl_purge_store!(PgStore);
portable::impl_import_store!(PgStore, sqlx::Postgres);
portable::impl_job_store!(
    PgStore,
    claim_lock = "FOR UPDATE SKIP LOCKED",
    kinds_from_json = "SELECT jsonb_array_elements_text"
);
