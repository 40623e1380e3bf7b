//! A real S3-compatible server on loopback for storage tests: moto's
//! server (`pip install 'moto[server]'`, which `.ci/run` does), started
//! once per test process on a free port, with a fresh bucket per test.
//! The server exits when the test process does.

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::in_ci;

/// One bucket on the shared server: the storage URL to give Omnivox and
/// the `AWS_*` settings that reach it.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    pub url: String,
    pub endpoint: String,
    pub bucket: String,
    pub settings: Vec<(String, String)>,
}

struct Server {
    endpoint: String,
    _child: Child,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// Runs moto's server and exits with it when the parent (this test process)
/// is gone, so no server outlives the tests.
const LAUNCHER: &str = r#"
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(["-H", "127.0.0.1", "-p", sys.argv[1]])
"#;

fn start() -> Result<Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new("python3")
        .args(["-c", LAUNCHER, &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let started = Instant::now();
    let mut child = child;
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("moto's server exited ({status}); install it with pip install 'moto[server]'"));
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Server { endpoint: format!("http://127.0.0.1:{port}"), _child: child });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    Err("moto's server did not start within 30 s".into())
}

impl S3Bucket {
    /// A new empty bucket, or `None` (after printing why) when no S3 server
    /// can run here and this is not CI.
    pub async fn create() -> Option<Self> {
        let server = match SERVER.get_or_init(start) {
            Ok(server) => server,
            Err(reason) => {
                if in_ci() {
                    panic!("an S3-compatible server is required under CI=true: {reason}");
                }
                eprintln!("SKIPPED: no S3-compatible server ({reason})");
                return None;
            }
        };
        let bucket = format!("omnivox-{:08x}", rand::rng().random::<u32>());
        let response = reqwest::Client::new()
            .put(format!("{}/{bucket}", server.endpoint))
            .send()
            .await
            .unwrap_or_else(|e| panic!("creating bucket {bucket}: {e}"));
        assert!(response.status().is_success(), "creating bucket {bucket}: {}", response.status());
        let settings = [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT", server.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Some(Self { url: format!("s3://{bucket}/recordings"), endpoint: server.endpoint.clone(), bucket, settings })
    }

    /// Keys of every object in the bucket (completed uploads only).
    pub async fn keys(&self) -> Vec<String> {
        let body = reqwest::get(format!("{}/{}?list-type=2", self.endpoint, self.bucket))
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("listing {}: {e}", self.bucket))
            .text()
            .await
            .unwrap_or_default();
        body.split("<Key>").skip(1).filter_map(|s| s.split_once("</Key>")).map(|(k, _)| k.to_owned()).collect()
    }
}
