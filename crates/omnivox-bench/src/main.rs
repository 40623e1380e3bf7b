//! `omnivox-bench`: measured, not asserted. Results go to BENCHMARKS.md.
//!
//! `cargo run --release -p omnivox-bench -- ingest --database sqlite --connections 64`
//! `cargo run --release -p omnivox-bench -- seed-calls --database postgres --calls 1000000`
//! `cargo run --release -p omnivox-bench -- list --database postgres`
#![allow(clippy::expect_used)] // a benchmark that cannot set itself up should stop loudly

mod bulk;
mod import;
mod ingest;
mod list;
mod seed_calls;
mod server;
mod stream;

use clap::{Parser, Subcommand, ValueEnum};

/// The service's allocator (see `crates/omnivox/src/main.rs`): the bench
/// builds the service in-process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Database {
    Sqlite,
    Postgres,
}

#[derive(Subcommand)]
enum Bench {
    /// Signed recording-status callbacks against a running service: throughput and latency
    Ingest {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
    },
    /// The historical import of N recordings from the simulator with injected latency
    Import {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        #[arg(long, default_value_t = 10_000)]
        recordings: u32,
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// A 5 MB recording from a real `omnivox serve` beside nginx: Range TTFB, throughput, memory
    Stream {
        /// The service binary (build it with `cargo build --release`)
        #[arg(long, default_value = "target/release/omnivox")]
        omnivox: std::path::PathBuf,
        /// Range requests timed per server
        #[arg(long, default_value_t = 1000)]
        requests: usize,
        /// Connections downloading whole files at once
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Concurrent slow streams while memory is sampled
        #[arg(long, default_value_t = 200)]
        streams: usize,
    },
    /// A fresh database filled with N call records for the `list` benchmark
    SeedCalls {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        /// SQLite: the database URL (default sqlite://omnivox-bench-data/calls.db); PostgreSQL: the
        /// server URL (default the test server), the data goes to the schema omnivox_bench
        #[arg(long)]
        url: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        calls: usize,
    },
    /// `GET /api/call-records` p50/p95 end to end and in the database, with the query plans
    List {
        #[arg(long, value_enum, default_value = "sqlite")]
        database: Database,
        /// As for seed-calls
        #[arg(long)]
        url: Option<String>,
        /// Requests timed per filter and page
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Leave out the query plans
        #[arg(long)]
        no_plans: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().bench {
        Bench::Ingest { database, connections, requests } => ingest::run(database, connections, requests).await,
        Bench::Import { database, recordings, latency_ms, concurrency } => {
            import::run(database, recordings, latency_ms, concurrency).await
        }
        Bench::Stream { omnivox, requests, connections, streams } => {
            stream::run(omnivox, requests, connections, streams).await
        }
        Bench::SeedCalls { database, url, calls } => seed_calls::run(database, url, calls).await,
        Bench::List { database, url, requests, no_plans } => list::run(database, url, requests, !no_plans).await,
    }
}
