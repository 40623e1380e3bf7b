//! `twilio-sim`: the Twilio simulator as a program, for demos against a running Omnivox.
//!
//! `twilio-sim serve` plays a Twilio account until Ctrl-C; `twilio-sim place-calls --target
//! http://127.0.0.1:8080 --count 50` also delivers 50 calls' signed callbacks to Omnivox and
//! keeps serving their recordings. Point Omnivox at it with the printed
//! `OMNIVOX_TWILIO_API_BASE`, `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`.

use std::net::SocketAddr;
use std::ops::RangeInclusive;

use anyhow::Context as _;
use chrono::{Duration, Utc};
use clap::{Args, Parser, Subcommand};
use omnivox_twilio_sim::{CallSpec, DeliveryOptions, SimCall, SimConfig, Simulator};
use rand::Rng as _;

#[derive(Parser)]
#[command(name = "twilio-sim", version, about = "Twilio simulator for Omnivox Call Records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the simulated Twilio REST API and media until Ctrl-C.
    Serve(Serve),
    /// Serve, and deliver the callbacks of COUNT recorded calls to a running Omnivox.
    PlaceCalls(PlaceCalls),
}

#[derive(Args)]
struct Account {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// AC + 32 hex digits; a random one when absent.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    account_sid: Option<String>,
    /// A random one when absent.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
}

#[derive(Args)]
struct Serve {
    #[command(flatten)]
    account: Account,
    /// Recorded calls already in the account (no webhooks), for `omnivox import twilio`.
    #[arg(long, default_value_t = 0)]
    calls: usize,
    /// Spread those calls over this many days before now.
    #[arg(long, default_value_t = 30)]
    days: u32,
}

#[derive(Args)]
struct PlaceCalls {
    #[command(flatten)]
    account: Account,
    /// Base URL of the Omnivox that receives the webhooks, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    target: String,
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Copies of each callback, `N` or `A..B` (inclusive): duplicates as Twilio sends them.
    #[arg(long, default_value = "1", value_parser = parse_copies)]
    copies: RangeInclusive<u32>,
    /// Deliver all callbacks in random order.
    #[arg(long)]
    shuffle: bool,
    /// Concurrent connections to the target.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seed for copies and order, to replay a run.
    #[arg(long)]
    seed: Option<u64>,
    /// Exit after delivering instead of serving the recordings until Ctrl-C.
    #[arg(long)]
    exit: bool,
}

fn parse_copies(text: &str) -> Result<RangeInclusive<u32>, String> {
    let number = |s: &str| s.trim().parse::<u32>().map_err(|e| format!("{s:?}: {e}"));
    let range = match text.split_once("..") {
        Some((low, high)) => number(low)?..=number(high.trim_start_matches('='))?,
        None => number(text)?..=number(text)?,
    };
    if range.is_empty() {
        return Err(format!("{text:?} is an empty range"));
    }
    Ok(range)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(args) => {
            let sim = start(args.account).await?;
            let span = Duration::days(i64::from(args.days));
            add_calls(&sim, args.calls, span);
            if args.calls > 0 {
                println!("{} recorded calls over the last {} days.", args.calls, args.days);
            }
            wait_for_ctrl_c(sim).await
        }
        Command::PlaceCalls(args) => place_calls(args).await,
    }
}

async fn start(account: Account) -> anyhow::Result<Simulator> {
    let defaults = SimConfig::default();
    let token_given = account.auth_token.is_some();
    let sim = Simulator::start(SimConfig {
        account_sid: account.account_sid.unwrap_or(defaults.account_sid),
        auth_token: account.auth_token.unwrap_or(defaults.auth_token),
        listen: account.listen,
    })
    .await?;
    println!("Twilio simulator listening on {}", sim.base_url());
    println!("  OMNIVOX_TWILIO_API_BASE={}", sim.base_url());
    println!("  TWILIO_ACCOUNT_SID={}", sim.account_sid());
    // A token we made up is printed so it can be used; one we were given is a secret.
    if token_given {
        println!("  TWILIO_AUTH_TOKEN=(as given)");
    } else {
        println!("  TWILIO_AUTH_TOKEN={}", sim.auth_token());
    }
    Ok(sim)
}

async fn wait_for_ctrl_c(sim: Simulator) -> anyhow::Result<()> {
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

/// Adds `count` recorded calls answered evenly over `span` before now, to fictional
/// 555-01xx numbers, lasting 8 s to 4 min.
fn add_calls(sim: &Simulator, count: usize, span: Duration) -> Vec<SimCall> {
    let mut rng = rand::rng();
    let step = span / i32::try_from(count.max(1)).unwrap_or(i32::MAX);
    (0..count)
        .map(|i| {
            sim.add_call(CallSpec {
                to: format!("+1415555{:04}", 100 + rng.random_range(0..100)),
                duration_secs: rng.random_range(8..=240),
                date_created: Utc::now() - step * i32::try_from(i).unwrap_or(i32::MAX),
                ..CallSpec::default()
            })
        })
        .collect()
}

async fn place_calls(args: PlaceCalls) -> anyhow::Result<()> {
    let sim = start(args.account).await?;
    let calls = add_calls(&sim, args.count, Duration::hours(1));
    let options =
        DeliveryOptions { copies: args.copies, shuffle: args.shuffle, seed: args.seed, ..DeliveryOptions::default() };
    let report = sim.deliver_many(&args.target, &calls, &options, args.connections).await?;
    let failed = report.unacknowledged();
    println!(
        "Delivered {} callback requests for {} calls to {}: {} acknowledged, {} callbacks never acknowledged.",
        report.attempts.len(),
        calls.len(),
        args.target,
        report.acknowledged(),
        failed.len()
    );
    for attempt in failed.iter().take(10) {
        println!("  {} {} -> {:?}", attempt.callback, attempt.call_sid, attempt.outcome);
    }
    if args.exit {
        sim.shutdown().await;
        anyhow::ensure!(failed.is_empty(), "{} callbacks were never acknowledged", failed.len());
        return Ok(());
    }
    wait_for_ctrl_c(sim).await
}

#[cfg(test)]
mod tests {
    use super::parse_copies;

    #[test]
    fn copies_accept_a_number_or_an_inclusive_range() {
        assert_eq!(parse_copies("3"), Ok(3..=3));
        assert_eq!(parse_copies("1..6"), Ok(1..=6));
        assert_eq!(parse_copies("1..=6"), Ok(1..=6));
        assert!(parse_copies("6..1").is_err());
        assert!(parse_copies("x").is_err());
    }
}
