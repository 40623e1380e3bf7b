//! The two storage backends of Omnivox, chosen once from the database URL:
//! SQLite for one machine (the embedded default) and PostgreSQL for many
//! instances. Each backend owns its migrations (`migrations/sqlite`,
//! `migrations/postgres`); the queries themselves are written once
//! (`portable`) against a schema both dialects share, so the two backends
//! cannot drift apart, and the conformance suite in `tests/` runs every
//! storage test against both.

mod call_events;
mod explain;
mod group_commit;
mod ingest;
mod pg_events;
mod portable;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::Arc;

use omnivox_core::{Store, StoreError};

pub use explain::ExplainedStatement;
pub use pg_events::PgEventBus;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Connection tuning that does not belong in the URL.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Upper bound of connections to PostgreSQL, or of SQLite readers.
    pub max_connections: u32,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 10 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL scheme {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedScheme(String),
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("cannot create the folder {path} for the database: {source}")]
    CreateFolder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
}

/// Opens the backend named by the URL's scheme. Does not migrate.
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Arc<dyn Store>, ConnectError> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url, settings).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::connect(url, settings).await?)),
        other => Err(ConnectError::UnsupportedScheme(other.to_owned())),
    }
}

/// Maps a driver error, turning a unique violation into `Conflict(what)`.
pub(crate) fn unique_or(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => db_error(e),
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    StoreError::Database(Box::new(e))
}

/// The live-event bus for the backend named by `url`: in-process on SQLite,
/// `LISTEN/NOTIFY` on PostgreSQL (with a task that ends at `shutdown`).
pub async fn start_event_bus(
    url: &str,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(Arc<dyn omnivox_core::events::EventBus>, Option<tokio::task::JoinHandle<()>>), ConnectError> {
    if url.starts_with("postgres") {
        let options = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)
            .map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.application_name("omnivox-events"))
            .await
            .map_err(ConnectError::Connect)?;
        let (bus, task) = PgEventBus::start(pool, shutdown).await.map_err(ConnectError::Connect)?;
        Ok((bus, Some(task)))
    } else {
        Ok((Arc::new(omnivox_core::events::LocalEventBus::default()), None))
    }
}
