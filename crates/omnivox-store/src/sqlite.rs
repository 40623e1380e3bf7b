//! SQLite backend: one file, WAL, foreign keys on, full fsync on commit.
//!
//! Writes go through a pool of exactly one connection: SQLite allows one
//! writer at a time anyway, and queueing writers in the pool (instead of
//! letting several connections race for the lock and retry on
//! `SQLITE_BUSY`) makes concurrent callbacks wait their turn instead of
//! failing. Reads use a separate pool and never block the writer in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use omnivox_core::store::{Backend, StoreResult};
use omnivox_core::Store;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::group_commit::GroupCommit;
use crate::{db_error, portable, ConnectError, PoolSettings};

/// How long a connection waits for another's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Ingests, committed in groups through `writer` (see `crate::group_commit`).
    ingest: GroupCommit,
}

impl SqliteStore {
    /// Opens (creating the file and its folder if missing) the database at
    /// `sqlite://PATH`.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, ConnectError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory");
        if let Some(folder) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|source| ConnectError::CreateFolder { path: folder.display().to_string(), source })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Connect)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .connect_with(options.clone())
            .await
            .map_err(ConnectError::Connect)?;
        let ingest = crate::ingest::sqlite::start_group_commit(
            options.get_filename(),
            BUSY_TIMEOUT,
            writer.clone(),
            crate::group_commit::ingest_steps,
        )
        .map_err(|e| ConnectError::Connect(sqlx::Error::Io(e)))?;
        Ok(Self { writer, reader, ingest })
    }

    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(crate) fn group_commit(&self) -> &GroupCommit {
        &self.ingest
    }

    /// `PRAGMA integrity_check`, for crash tests: `"ok"` when intact.
    pub async fn integrity_check(&self) -> StoreResult<String> {
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.writer).await.map_err(db_error)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writer).await.map_err(|e| omnivox_core::StoreError::Database(Box::new(e)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_error)?;
        Ok(())
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

portable::impl_user_store!(SqliteStore);
portable::impl_session_store!(SqliteStore);
portable::impl_audit_store!(SqliteStore);
portable::impl_call_record_store!(SqliteStore, db = sqlx::Sqlite, list = crate::portable::call_list::SQLITE);
portable::impl_media_store!(SqliteStore);
portable::impl_purge_store!(SqliteStore);
portable::impl_import_store!(SqliteStore, sqlx::Sqlite);
// SQLite has one writer, so the claiming UPDATE is atomic without row locks.
portable::impl_job_store!(SqliteStore, claim_lock = "", kinds_from_json = "SELECT value FROM json_each");
