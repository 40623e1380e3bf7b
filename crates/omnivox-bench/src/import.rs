//! The historical import against the simulator with injected latency:
//! wall time beside the floor `requests × latency ÷ concurrency`.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use omnivox_testkit::TestDb;
use omnivox_twilio_sim::{CallSpec, Faults, SimConfig, Simulator};
use serde_json::{json, Value};

use crate::server::BenchServer;
use crate::Database;

const PASSWORD: &str = "bench-password-not-secret";

pub async fn run(database: Database, recordings: u32, latency_ms: u64, concurrency: usize) -> anyhow::Result<()> {
    let db = match database {
        Database::Sqlite => TestDb::sqlite().await,
        Database::Postgres => TestDb::postgres().await.ok_or_else(|| anyhow::anyhow!("no PostgreSQL server"))?,
    };
    let sim = Simulator::start(SimConfig::default()).await?;
    let first_day = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().expect("a valid date");
    for n in 0..recordings {
        sim.add_call(CallSpec {
            duration_secs: 1,
            recording_channels: 1,
            to: format!("+1415{:07}", n),
            date_created: first_day + chrono::Duration::seconds(i64::from(n) * 60),
            ..CallSpec::default()
        });
    }
    let media = tempfile::tempdir()?;
    let storage = format!("file://{}", media.path().display());
    let concurrency_text = concurrency.to_string();
    // One job worker: it runs the import, and the archive jobs the import
    // queues wait for it, so the figure is the import's alone.
    let env = [
        ("OMNIVOX_JOB_CONCURRENCY", "1"),
        ("OMNIVOX_STORAGE_URL", storage.as_str()),
        ("TWILIO_ACCOUNT_SID", sim.account_sid()),
        ("TWILIO_AUTH_TOKEN", sim.auth_token()),
        ("OMNIVOX_TWILIO_API_BASE", &sim.base_url()),
        ("OMNIVOX_PUBLIC_URL", "https://omnivox.bench"),
        ("OMNIVOX_ADMIN_PASSWORD", PASSWORD),
        ("OMNIVOX_SWEEP_INTERVAL_SECONDS", "0"),
        ("OMNIVOX_ENRICH_DELAY_SECONDS", "86400"),
        ("OMNIVOX_TWILIO_CONCURRENCY", concurrency_text.as_str()),
        ("OMNIVOX_DATABASE_MAX_CONNECTIONS", "32"),
    ];
    let server = BenchServer::start(&db.url, &env).await?;
    let base = server.base();
    let client = reqwest::Client::new();
    let token = server.admin_token(&client, PASSWORD).await?;

    sim.set_faults(Faults { latency: Duration::from_millis(latency_ms), ..Faults::default() });
    sim.clear_request_log();
    let started = Instant::now();
    let body = json!({ "dateCreatedAfter": "2026-01-01", "dateCreatedBefore": "2026-12-31" });
    let created: Value = client
        .post(format!("{base}/api/call-records/import-twilio-recordings"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let id = created["importId"].as_i64().expect("an import id");
    let run = loop {
        let run: Value =
            client.get(format!("{base}/api/imports/{id}")).bearer_auth(&token).send().await?.json().await?;
        if run["state"] != "running" {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let wall = started.elapsed();
    let requests =
        sim.request_log().iter().filter(|r| r.path.contains("/Calls/") || r.path.contains("Recordings.json")).count();
    let floor = Duration::from_millis(latency_ms).mul_f64(requests as f64 / concurrency as f64);
    println!("import of {recordings} recordings, {latency_ms} ms per Twilio request, concurrency {concurrency}");
    println!("  result:   {}", run["result"]);
    println!("  requests: {requests} to Twilio (pages and call details)");
    println!("  wall:     {:.2} s", wall.as_secs_f64());
    println!("  floor:    {:.2} s (requests × latency ÷ concurrency)", floor.as_secs_f64());
    println!("  ratio:    {:.3} (target ≤ 1.3)", wall.as_secs_f64() / floor.as_secs_f64());
    let _ = server.stop().await;
    sim.shutdown().await;
    Ok(())
}
