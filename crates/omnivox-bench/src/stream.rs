//! `stream`: a 5 MB archived recording served by a real `omnivox serve`
//! process (release build, SQLite, local storage) beside nginx serving the
//! same file in the same run: time to first byte of random 64 KiB Range
//! requests, full-download throughput, and the server's memory with many
//! concurrent streams.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use chrono::Utc;
use omnivox_core::ingest::{Attribution, FoundBy, IngestEvent, IngestRequest, Params, RecordingEvent, LIVE_CALLS};
use omnivox_core::store::{MediaUpdate, NewJob};
use rand::{Rng as _, RngCore as _};
use sha2::Digest as _;

const SIZE: usize = 5 * 1024 * 1024;
const RANGE: u64 = 64 * 1024;

/// A server stopped with SIGTERM when dropped (SIGKILL would orphan
/// nginx's workers).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

pub async fn run(omnivox: PathBuf, requests: usize, connections: usize, streams: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let media = dir.path().join("media");
    let db_url = format!("sqlite://{}", dir.path().join("omnivox.db").display());
    let key = prepare(&db_url, &media).await?;
    let password = format!("bench-{:016x}", rand::rng().random::<u64>());
    let (server, base) = start_omnivox(&omnivox, &db_url, &media, &password)?;
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().ok_or_else(|| anyhow!("no token"))?.to_owned();
    let (_nginx, nginx_base) = start_nginx(dir.path(), &media)?;
    let ours = Target { url: format!("{base}/api/recordings/1/stream"), token: Some(token) };
    let theirs = Target { url: format!("{nginx_base}/{key}"), token: None };

    println!("| server | Range TTFB p50 ms | p95 ms | p99 ms | full downloads, {connections} connections, MB/s |");
    println!("|---|---|---|---|---|");
    for (name, target) in [("omnivox", &ours), ("nginx", &theirs)] {
        let ttfb = time_to_first_byte(&client, target, requests).await?;
        let rate = throughput(target, connections, Duration::from_secs(10)).await?;
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {rate:.0} |",
            percentile(&ttfb, 0.50),
            percentile(&ttfb, 0.95),
            percentile(&ttfb, 0.99)
        );
    }
    let (before, peak) = memory_under_streams(&ours, server.0.id(), streams).await?;
    println!(
        "\nomnivox RSS: {:.1} MiB idle, {:.1} MiB peak with {streams} concurrent streams ({:.1} KiB per stream)",
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(before)) as f64 / streams as f64
    );
    Ok(())
}

struct Target {
    url: String,
    token: Option<String>,
}

impl Target {
    fn get(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let request = client.get(&self.url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// A database with one verified 5 MB recording whose media is on disk.
async fn prepare(db_url: &str, media: &Path) -> anyhow::Result<String> {
    let store = omnivox_store::connect(db_url, &Default::default()).await?;
    store.migrate().await?;
    let pairs = [
        ("CallSid", "CA00000000000000000000000000000001"),
        ("RecordingSid", "RE00000000000000000000000000000001"),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "164"),
        ("RecordingChannels", "2"),
    ];
    let params = Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    let request = IngestRequest {
        event: IngestEvent::Recording(RecordingEvent::from_params(&params)?),
        attribution: Attribution::default(),
        default_campaign: LIVE_CALLS,
        found_by: FoundBy::Webhook,
        received_at: Utc::now(),
    };
    let none: std::sync::Arc<omnivox_core::ingest::FollowUps> =
        std::sync::Arc::new(|_: &IngestRequest, _: &omnivox_core::ingest::IngestOutcome| Vec::<NewJob>::new());
    let outcome = store.ingest(&request, &none).await?;
    let id = outcome.recording_id.ok_or_else(|| anyhow!("no recording"))?;
    let key = omnivox_media::recording_key("RE00000000000000000000000000000001", Utc::now(), "wav").to_string();
    let mut bytes = vec![0u8; SIZE];
    rand::rng().fill_bytes(&mut bytes);
    let path = media.join(&key);
    std::fs::create_dir_all(path.parent().ok_or_else(|| anyhow!("no folder"))?)?;
    std::fs::write(&path, &bytes)?;
    let stored = MediaUpdate::Stored {
        storage_key: key.clone(),
        media_type: "audio/wav".into(),
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        size_bytes: SIZE as i64,
    };
    store.update_recording_media(id, &stored, Utc::now()).await?;
    store.update_recording_media(id, &MediaUpdate::Verified, Utc::now()).await?;
    store.close().await;
    Ok(key)
}

fn start_omnivox(bin: &Path, db_url: &str, media: &Path, password: &str) -> anyhow::Result<(Killed, String)> {
    let mut child = Command::new(bin)
        .arg("serve")
        .env("OMNIVOX_DATABASE_URL", db_url)
        .env("OMNIVOX_STORAGE_URL", format!("file://{}", media.display()))
        .env("OMNIVOX_LISTEN", "127.0.0.1:0")
        .env("OMNIVOX_ADMIN_PASSWORD", password)
        .env("OMNIVOX_JOB_CONCURRENCY", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    let child = Killed(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("running at http://").nth(1) {
                let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).context("omnivox did not announce its address")?;
    Ok((child, format!("http://{addr}")))
}

fn start_nginx(dir: &Path, root: &Path) -> anyhow::Result<(Killed, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let conf = dir.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on;\n\
             client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
             server {{ listen 127.0.0.1:{port}; root {r}; }} }}\n",
            d = dir.display(),
            r = root.display()
        ),
    )?;
    let child = Command::new("nginx")
        .args(["-c", &conf.display().to_string(), "-p", &dir.display().to_string(), "-e", "stderr"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting nginx (apt-get install nginx-light)")?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err(anyhow!("nginx did not start"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((Killed(child), format!("http://127.0.0.1:{port}")))
}

/// Milliseconds from sending a random 64 KiB Range request to its first
/// body bytes, after a warm-up.
async fn time_to_first_byte(client: &reqwest::Client, target: &Target, requests: usize) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::with_capacity(requests);
    for i in 0..requests + 50 {
        let first = rand::rng().random_range(0..SIZE as u64 - RANGE);
        let started = Instant::now();
        let mut response = target
            .get(client)
            .header("Range", format!("bytes={first}-{}", first + RANGE - 1))
            .send()
            .await?
            .error_for_status()?;
        if response.status() != 206 {
            return Err(anyhow!("{} answered {} to a Range request", target.url, response.status()));
        }
        response.chunk().await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        while response.chunk().await?.is_some() {}
        if i >= 50 {
            samples.push(elapsed);
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples)
}

/// MB/s of whole downloads over `connections` connections for `period`.
async fn throughput(target: &Target, connections: usize, period: Duration) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (url, token) = (target.url.clone(), target.token.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut bytes = 0u64;
            while started.elapsed() < period {
                let mut request = client.get(&url);
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                let mut response = request.send().await?.error_for_status()?;
                while let Some(chunk) = response.chunk().await? {
                    bytes += chunk.len() as u64;
                }
            }
            anyhow::Ok(bytes)
        });
    }
    let mut total = 0u64;
    while let Some(done) = tasks.join_next().await {
        total += done??;
    }
    Ok(total as f64 / 1e6 / started.elapsed().as_secs_f64())
}

/// The server's resident memory (KiB) idle, and its peak while `streams`
/// clients each hold a download open and read it slowly.
async fn memory_under_streams(target: &Target, pid: u32, streams: usize) -> anyhow::Result<(u64, u64)> {
    let before = rss_kib(pid)?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..streams {
        let (url, token) = (target.url.clone(), target.token.clone());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut request = client.get(&url);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let mut response = request.send().await?.error_for_status()?;
            // About 1 MB/s per stream: a listener, not a downloader.
            while response.chunk().await?.is_some() {
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            anyhow::Ok(())
        });
    }
    let mut peak = before;
    let sampling = Instant::now();
    while sampling.elapsed() < Duration::from_secs(3) {
        peak = peak.max(rss_kib(pid)?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tasks.abort_all();
    Ok((before, peak))
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for {pid}"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}
