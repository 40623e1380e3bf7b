//! Test support shared by every crate's tests.
//!
//! [`TestDb`] gives each test a database of its own: a fresh SQLite file in a
//! temporary folder, or a fresh schema on the PostgreSQL server named by
//! `OMNIVOX_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! [`both_backends!`] writes one test body as two tests, one per backend.
//! Outside CI a PostgreSQL test without a server skips with a printed
//! reason; under `CI=true` it fails.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a panic is the report

pub mod calls;
mod s3;

use std::sync::Arc;

use omnivox_core::store::Backend;
use omnivox_core::Store;
use omnivox_store::PoolSettings;
use rand::Rng;

pub use s3::S3Bucket;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_server_url() -> String {
    std::env::var("OMNIVOX_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A database for one test; dropped (file removed or schema dropped) at the end.
pub struct TestDb {
    pub url: String,
    pub store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, schema: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("omnivox.db").display());
        let store = omnivox_store::connect(&url, &PoolSettings::default()).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self { url, store, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A fresh schema on the test server, or `None` (after printing why)
    /// when there is no server and this is not CI.
    pub async fn postgres() -> Option<Self> {
        let server_url = postgres_server_url();
        let schema = format!("t_{}_{:08x}", std::process::id(), rand::rng().random::<u32>());
        let admin = match sqlx::PgPool::connect(&server_url).await {
            Ok(pool) => pool,
            Err(e) => {
                if in_ci() {
                    panic!("PostgreSQL at {server_url} is required under CI=true: {e}");
                }
                eprintln!("SKIPPED: PostgreSQL not reachable at {server_url} ({e}); set OMNIVOX_TEST_POSTGRES_URL");
                return None;
            }
        };
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
        admin.close().await;
        let url = schema_url(&server_url, &schema);
        let store = omnivox_store::connect(&url, &PoolSettings::default()).await.expect("open postgres");
        store.migrate().await.expect("migrate postgres");
        Some(Self { url, store, cleanup: Cleanup::Postgres { server_url, schema } })
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

/// The server URL with `search_path` set to `schema`, so every connection
/// (including those of child `omnivox` processes) stays inside it.
pub fn schema_url(server_url: &str, schema: &str) -> String {
    let sep = if server_url.contains('?') { '&' } else { '?' };
    format!("{server_url}{sep}options=-c%20search_path%3D{schema}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { server_url, schema } = &self.cleanup {
            let (server_url, schema) = (server_url.clone(), schema.clone());
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let pool = sqlx::PgPool::connect(&server_url).await.ok()?;
                    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await.ok()?;
                    pool.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

/// Writes `async fn NAME(db: TestDb)` bodies as one test per backend:
/// `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::TestDb::sqlite().await;
                    super::$name(db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    super::$name(db).await;
                }
            }
        )+
    };
}
