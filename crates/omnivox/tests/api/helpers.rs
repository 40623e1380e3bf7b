//! `spawn_app()` and typed request helpers, plus a log capture that fails a
//! test whose logs contain any password, password hash or session token.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, Once};

use omnivox::config::{Config, Flags};
use omnivox::startup::Application;
use omnivox_core::store::{Backend, NewUser, User};
use omnivox_core::Role;
use omnivox_http::auth::password::hash_password;
use omnivox_testkit::TestDb;
use rand::distr::{Alphanumeric, SampleString};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[derive(Clone)]
struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        // Debugging a failing test: its errors and warnings, as they happen.
        if std::env::var_os("OMNIVOX_TEST_PRINT_ERRORS").is_some() {
            let line = String::from_utf8_lossy(buf);
            if line.contains("ERROR") || line.contains("WARN") {
                eprint!("{line}");
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Everything our crates log, down to debug, and what the HTTP layer
        // logs; not the database driver's statement log, which never holds
        // bound values and would make the capture hundreds of megabytes.
        let filter = "info,omnivox=debug,omnivox_core=debug,omnivox_http=debug,omnivox_jobs=debug,\
                      omnivox_store=debug,omnivox_twilio=debug,omnivox_import=debug";
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| CaptureWriter).with_ansi(false).init();
    });
}

/// Remembers a value that must never appear in any log line.
pub fn secret(value: impl Into<String>) -> String {
    let value = value.into();
    SECRETS.lock().unwrap().push(value.clone());
    value
}

pub fn assert_no_secret_in_logs() {
    let secrets = SECRETS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let logs = LOGS.lock().unwrap_or_else(|p| p.into_inner());
    assert!(!logs.is_empty(), "the log capture saw nothing");
    for s in &secrets {
        let found = String::from_utf8_lossy(&logs).contains(s.as_str());
        assert!(!found, "a secret ({}…) appears in the logs", &s[..4.min(s.len())]);
    }
}

pub fn random_password() -> String {
    secret(format!("pw-{}", Alphanumeric.sample_string(&mut rand::rng(), 20)))
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: TestDb,
    /// The recordings folder, unless the test chose other storage.
    pub media_dir: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
    pub admin_password: String,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn no_config_file() -> PathBuf {
    PathBuf::from("/nonexistent/omnivox.toml")
}

pub fn config_for(db_url: &str, extra_env: &[(&str, &str)]) -> Config {
    let flags = Flags {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        database_url: Some(db_url.to_owned()),
        ..Flags::default()
    };
    let env = extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::load_from(&no_config_file(), &flags, env).unwrap()
}

/// The public URL Twilio "calls" in tests; requests really reach the
/// loopback port, as through a proxy, and signatures cover this URL.
pub const PUBLIC_URL: &str = "https://omnivox.test";

/// The app wired to a fresh Twilio simulator (credentials, API base, public URL).
pub async fn spawn_app_with_twilio(db: TestDb, env: &[(&str, &str)]) -> (TestApp, omnivox_twilio_sim::Simulator) {
    let sim = omnivox_twilio_sim::Simulator::start(omnivox_twilio_sim::SimConfig::default()).await.unwrap();
    let token = secret(sim.auth_token());
    let base = sim.base_url();
    let mut all = vec![
        ("TWILIO_ACCOUNT_SID", sim.account_sid()),
        ("TWILIO_AUTH_TOKEN", token.as_str()),
        ("OMNIVOX_TWILIO_API_BASE", base.as_str()),
        ("OMNIVOX_PUBLIC_URL", PUBLIC_URL),
        ("TWILIO_CALLER_ID", "+14155550000"),
    ];
    all.extend_from_slice(env);
    let app = spawn_app_with(db, &all).await;
    (app, sim)
}

/// Delivery as Twilio would do it for a service behind `PUBLIC_URL`.
pub fn delivery() -> omnivox_twilio_sim::DeliveryOptions {
    omnivox_twilio_sim::DeliveryOptions { public_base: Some(PUBLIC_URL.to_owned()), ..Default::default() }
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, &[]).await
}

pub async fn spawn_app_with(db: TestDb, env: &[(&str, &str)]) -> TestApp {
    capture_logs();
    let admin_password = random_password();
    let mut all_env = vec![("OMNIVOX_ADMIN_PASSWORD", admin_password.as_str())];
    let media_dir = match env.iter().any(|(k, _)| *k == "OMNIVOX_STORAGE_URL") {
        true => None,
        false => Some(tempfile::tempdir().unwrap()),
    };
    let storage_url = media_dir.as_ref().map(|d| format!("file://{}", d.path().display()));
    if let Some(url) = &storage_url {
        all_env.push(("OMNIVOX_STORAGE_URL", url.as_str()));
    }
    all_env.extend_from_slice(env);
    let config = config_for(&db.url, &all_env);
    let app = Application::build(&config).await.expect("application builds");
    let addr = app.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { addr, db, media_dir, client, admin_password, shutdown, handle: Some(handle) }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The base URL to send requests to.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub async fn create_user(&self, name: &str, role: Role) -> (User, String) {
        let password = random_password();
        let hash = hash_password(SecretString::from(password.clone())).await.unwrap();
        secret(hash.as_str());
        let user = NewUser { username: name.into(), display_name: None, role, password_hash: hash };
        (self.db.store.create_user(&user, chrono::Utc::now()).await.unwrap(), password)
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session token.
    pub async fn token_for(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        secret(body["token"].as_str().unwrap())
    }

    pub async fn admin_token(&self) -> String {
        let password = self.admin_password.clone();
        self.token_for("admin", &password).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Stops the server and waits for every task to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if !std::thread::panicking() {
            assert_no_secret_in_logs();
        }
    }
}

/// The `{"error":{"code","message"}}` of a failed response.
pub async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
    let message = body["error"]["message"].as_str().unwrap_or_default().to_owned();
    (status, code, message)
}
