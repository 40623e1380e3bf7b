//! The service as the benches run it: in this process, on a loopback port,
//! its configuration the defaults plus the bench's own settings.

use std::net::SocketAddr;
use std::sync::Arc;

use omnivox::config::{Config, Flags};
use omnivox::startup::Application;
use omnivox_core::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct BenchServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl BenchServer {
    /// Starts the service on `database_url` with `env` as its environment
    /// (no configuration file is read).
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let flags = Flags {
            listen: Some("127.0.0.1:0".parse()?),
            database_url: Some(database_url.to_owned()),
            ..Flags::default()
        };
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let config = Config::load_from(std::path::Path::new("/nonexistent"), &flags, env)?;
        let app = Application::build(&config).await?;
        let addr = app.local_addr()?;
        let store = app.store().clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Ok(Self { addr, store, shutdown, task })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs `admin` in; the session token.
    pub async fn admin_token(&self, client: &reqwest::Client, password: &str) -> anyhow::Result<String> {
        let login: serde_json::Value = client
            .post(format!("{}/api/auth/login", self.base()))
            .json(&serde_json::json!({ "username": "admin", "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(login["token"].as_str().ok_or_else(|| anyhow::anyhow!("no session token"))?.to_owned())
    }

    /// Stops the service and waits until it has.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await?
    }
}
