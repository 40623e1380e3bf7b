//! `omnivox-bench`: measured, not asserted. Results go to BENCHMARKS.md.
//!
//! `cargo run --release -p omnivox-bench -- ingest --database sqlite --connections 64`
#![allow(clippy::expect_used)] // a benchmark that cannot set itself up should stop loudly

mod import;
mod ingest;
mod stream;

use clap::{Parser, Subcommand, ValueEnum};

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
    }
}
