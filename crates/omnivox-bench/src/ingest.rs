//! Webhook ingest with a durable acknowledgement: distinct signed
//! recording-status callbacks (each creates a call record and a recording),
//! sent over N keep-alive connections; every 2xx means committed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use omnivox_testkit::TestDb;
use omnivox_twilio::RequestValidator;

use crate::server::BenchServer;
use crate::Database;

const PUBLIC_URL: &str = "https://omnivox.bench";
const PATH: &str = "/api/dialer/webhook/recording-status";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

pub async fn run(database: Database, connections: usize, requests: usize) -> anyhow::Result<()> {
    let db = match database {
        Database::Sqlite => TestDb::sqlite().await,
        Database::Postgres => TestDb::postgres().await.ok_or_else(|| anyhow::anyhow!("no PostgreSQL server"))?,
    };
    let media = tempfile::tempdir()?;
    let storage = format!("file://{}", media.path().display());
    // The ingest path alone: the follow-up jobs it commits (archive-media
    // for every callback) are measured by their own benchmarks.
    let env = [
        ("OMNIVOX_JOB_CONCURRENCY", "0"),
        ("OMNIVOX_STORAGE_URL", storage.as_str()),
        ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("OMNIVOX_PUBLIC_URL", PUBLIC_URL),
        ("OMNIVOX_ADMIN_PASSWORD", "bench-password-not-secret"),
        ("OMNIVOX_ENRICH_DELAY_SECONDS", "86400"),
        ("OMNIVOX_DATABASE_MAX_CONNECTIONS", "32"),
    ];
    let server = BenchServer::start(&db.url, &env).await?;
    let addr = server.addr;

    let validator = RequestValidator::new(TOKEN);
    let signed_url = format!("{PUBLIC_URL}{PATH}");
    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let params: Vec<(String, String)> = [
                    ("AccountSid", "AC00000000000000000000000000000000".to_owned()),
                    ("CallSid", format!("CA{i:032x}")),
                    ("RecordingSid", format!("RE{i:032x}")),
                    ("RecordingStatus", "completed".to_owned()),
                    ("RecordingDuration", "42".to_owned()),
                    ("RecordingChannels", "2".to_owned()),
                    ("RecordingSource", "DialVerb".to_owned()),
                    ("RecordingUrl", format!("https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{i:032x}")),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
                let signature = validator.sign_form(&signed_url, &params);
                let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
                (signature, body)
            })
            .collect(),
    );

    let target = format!("http://{addr}{PATH}");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections.max(1))
        .map(|_| {
            let (bodies, next, target) = (bodies.clone(), next.clone(), target.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("http client");
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((signature, body)) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let response = client
                        .post(&target)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("x-twilio-signature", signature)
                        .body(body.clone())
                        .send()
                        .await;
                    match response {
                        Ok(r) if r.status().is_success() => latencies.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| -> Duration {
        let i = ((latencies.len() as f64) * p).ceil() as usize;
        latencies.get(i.saturating_sub(1).min(latencies.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    let name = match database {
        Database::Sqlite => "SQLite",
        Database::Postgres => "PostgreSQL",
    };
    println!(
        "| {name} | {connections} | {requests} | {errors} | {:.0} | {:.1} | {:.1} | {:.1} |",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(0.999).as_secs_f64() * 1e3,
    );
    let stored = db.store.count_recordings().await?;
    anyhow::ensure!(stored as usize == latencies.len(), "{stored} stored but {} acknowledged", latencies.len());
    server.stop().await?;
    Ok(())
}
