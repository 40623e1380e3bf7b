//! Bulk loading for the seeding command: multi-row INSERTs with bound
//! values, in one transaction per call, on a fresh SQLite file or a fresh
//! PostgreSQL schema.

use omnivox_testkit::{postgres_server_url, schema_url};

use crate::Database;

/// The schema the PostgreSQL benchmarks use.
pub const PG_SCHEMA: &str = "omnivox_bench";
pub const SQLITE_DEFAULT: &str = "sqlite://omnivox-bench-data/calls.db";

/// The database URL of a benchmark: `url` as given for SQLite; for
/// PostgreSQL the server `url` (default: the test server) with
/// `search_path` set to [`PG_SCHEMA`].
pub fn bench_url(database: Database, url: Option<String>) -> String {
    match database {
        Database::Sqlite => url.unwrap_or_else(|| SQLITE_DEFAULT.to_owned()),
        Database::Postgres => schema_url(&url.unwrap_or_else(postgres_server_url), PG_SCHEMA),
    }
}

/// A bound value.
pub enum V {
    I(i64),
    N(Option<i64>),
    T(String),
    O(Option<String>),
    B(bool),
    J(serde_json::Value),
}

pub enum Bulk {
    Sqlite(sqlx::SqlitePool, String),
    Postgres(sqlx::PgPool, String),
}

macro_rules! insert_rows {
    ($pool:expr, $table:expr, $columns:expr, $rows:expr, params = $params:expr) => {{
        let per_statement = ($params / $columns.len()).max(1);
        let mut tx = $pool.begin().await?;
        let mut rows = $rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<Vec<V>> = rows.by_ref().take(per_statement).collect();
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", $table, $columns.join(", "));
            let mut n = 0;
            for (i, row) in batch.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..row.len() {
                    n += 1;
                    sql.push_str(&format!("{}${n}", if j == 0 { "" } else { ", " }));
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for row in &batch {
                for v in row {
                    q = match v {
                        V::I(x) => q.bind(*x),
                        V::N(x) => q.bind(*x),
                        V::T(x) => q.bind(x.as_str()),
                        V::O(x) => q.bind(x.as_deref()),
                        V::B(x) => q.bind(*x),
                        V::J(x) => q.bind(sqlx::types::Json(x)),
                    };
                }
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }};
}

impl Bulk {
    /// Drops what a previous run left, migrates, and connects for loading.
    pub async fn fresh(database: Database, url: Option<String>) -> anyhow::Result<Self> {
        let target = bench_url(database, url.clone());
        match database {
            Database::Sqlite => {
                let path = target.trim_start_matches("sqlite://").to_owned();
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Database::Postgres => {
                let admin = sqlx::PgPool::connect(&url.unwrap_or_else(postgres_server_url)).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")).execute(&admin).await?;
                sqlx::query(&format!("CREATE SCHEMA {PG_SCHEMA}")).execute(&admin).await?;
                admin.close().await;
            }
        }
        let store = omnivox_store::connect(&target, &omnivox_store::PoolSettings::default()).await?;
        store.migrate().await?;
        store.close().await;
        Ok(match database {
            Database::Sqlite => {
                let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&target)?
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
                    .foreign_keys(true);
                let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
                Bulk::Sqlite(pool, target)
            }
            Database::Postgres => Bulk::Postgres(sqlx::PgPool::connect(&target).await?, target),
        })
    }

    pub fn display_url(&self) -> &str {
        match self {
            Bulk::Sqlite(_, url) | Bulk::Postgres(_, url) => url,
        }
    }

    pub async fn insert(&self, table: &str, columns: &[&str], rows: Vec<Vec<V>>) -> anyhow::Result<()> {
        match self {
            // sqlx binds SQLite parameters in time quadratic in their number
            // per statement (30,000 took 1.5 s); a few hundred cost nothing.
            Bulk::Sqlite(pool, _) => insert_rows!(pool, table, columns, rows, params = 300),
            Bulk::Postgres(pool, _) => insert_rows!(pool, table, columns, rows, params = 30_000),
        }
        Ok(())
    }

    /// Checks the ids the loader assumed, and leaves the database as
    /// a running service would find it (PostgreSQL's autovacuum would have
    /// analysed the tables; SQLite has no statistics unless asked).
    pub async fn finish(&self, calls: i64) -> anyhow::Result<()> {
        let (count, max): (i64, Option<i64>) = match self {
            Bulk::Sqlite(pool, _) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
                sqlx::query_as("SELECT COUNT(*), MAX(id) FROM call_records").fetch_one(pool).await?
            }
            Bulk::Postgres(pool, _) => {
                sqlx::query("VACUUM ANALYZE call_records, recordings, contacts, campaigns, users")
                    .execute(pool)
                    .await?;
                sqlx::query_as("SELECT COUNT(*), MAX(id) FROM call_records").fetch_one(pool).await?
            }
        };
        anyhow::ensure!(
            count == calls && max == Some(calls),
            "expected ids 1..={calls}, found {count} rows up to {max:?}"
        );
        Ok(())
    }
}
