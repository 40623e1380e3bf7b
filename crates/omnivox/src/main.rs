#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use omnivox::cli::{self, Cli};
use omnivox::config::Config;
use omnivox::telemetry;

/// mimalloc rather than the system's allocator: a callback's path allocates
/// often (HTTP, forms, JSON, statement values), and under load glibc's
/// malloc took about a tenth of this process's CPU (`perf`, BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&Config::file_path(cli.config.clone()), &cli.flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    for name in Config::unknown_env_vars(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(variable = %name, "unknown OMNIVOX_ environment variable ignored (a typo?)");
    }
    match cli::run(cli, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
