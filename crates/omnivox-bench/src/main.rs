//! `omnivox-bench`: measured, not asserted. Results go to BENCHMARKS.md.
//!
//! `cargo run --release -p omnivox-bench -- ingest --database sqlite --connections 64`
#![allow(clippy::expect_used)] // a benchmark that cannot set itself up should stop loudly

mod ingest;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().bench {
        Bench::Ingest { database, connections, requests } => ingest::run(database, connections, requests).await,
    }
}
