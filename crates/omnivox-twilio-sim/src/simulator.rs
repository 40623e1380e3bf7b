//! The [`Simulator`] handle: starts the HTTP server on a port of its own, holds the shared
//! state, and is how tests add calls, inject faults, send webhooks and read the ground truth.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use omnivox_twilio::RequestValidator;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::{FaultState, Faults};
use crate::resources::{CallResource, RecordingResource};
use crate::sid::{is_sid, new_sid};
use crate::spec::{build_call, CallSpec, SimCall};
use crate::state::{lock, LoggedRequest, Shared, Store};
use crate::webhooks::{self, DeliveryOptions, DeliveryReport};

/// Which account the simulator plays and where it listens. `Default` makes up a random
/// account SID and auth token and listens on a free loopback port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// `AC` + 32 hex digits.
    pub account_sid: String,
    pub auth_token: String,
    pub listen: SocketAddr,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            account_sid: new_sid("AC"),
            auth_token: new_sid("")[..32].to_owned(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }
}

/// The running server, stopped once by whichever handle calls `shutdown` first.
struct Server {
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<std::io::Result<()>>>>,
}

/// A running Twilio simulator. Cloning is cheap; all clones share one state and server.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    server: Arc<Server>,
    client: reqwest::Client,
    validator: RequestValidator,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.shared.base_url)
            .field("account_sid", &self.shared.account_sid)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Binds `config.listen` and serves in the background.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        anyhow::ensure!(is_sid(&config.account_sid, "AC"), "account SID must be AC followed by 32 hex digits");
        anyhow::ensure!(!config.auth_token.is_empty(), "auth token must not be empty");
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let mut local = listener.local_addr().context("reading the bound address")?;
        // 0.0.0.0 is where to listen, not where to connect.
        if local.ip().is_unspecified() {
            local.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        let shared = Arc::new(Shared {
            account_sid: config.account_sid,
            base_url: format!("http://{local}"),
            store: Mutex::new(Store::default()),
            faults: Mutex::new(FaultState::new(None)),
            log: Mutex::new(Vec::new()),
            auth_token: config.auth_token,
        });
        // Twilio's webhook timeouts: 5 s to connect, 15 s in all.
        let client = reqwest::Client::builder()
            .user_agent("TwilioProxy/1.1")
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .context("building the webhook HTTP client")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = crate::rest::router(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        tracing::info!(base_url = %shared.base_url, account_sid = %shared.account_sid, "Twilio simulator listening");
        Ok(Simulator {
            validator: RequestValidator::new(shared.auth_token.clone()),
            shared,
            server: Arc::new(Server { stop: Mutex::new(Some(stop)), task: tokio::sync::Mutex::new(Some(task)) }),
            client,
        })
    }

    /// `http://127.0.0.1:PORT`: what `OMNIVOX_TWILIO_API_BASE` should be.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    #[must_use]
    pub fn account_sid(&self) -> &str {
        &self.shared.account_sid
    }

    #[must_use]
    pub fn auth_token(&self) -> &str {
        &self.shared.auth_token
    }

    /// Replaces the fault settings for REST and media requests from now on.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.shared.faults).faults = faults;
    }

    /// Reseeds the random draws that decide which requests fail.
    pub fn seed_faults(&self, seed: u64) {
        lock(&self.shared.faults).reseed(seed);
    }

    /// Puts a completed call (and its recording when `spec.record`) into the account
    /// without sending anything.
    pub fn add_call(&self, spec: CallSpec) -> SimCall {
        let call = build_call(spec, &self.shared.account_sid, &self.shared.base_url);
        let mut store = lock(&self.shared.store);
        if let Some(parent) = &call.parent {
            store.insert_call(parent.clone());
        }
        store.insert_call(call.call.clone());
        if let Some(recording) = &call.recording {
            store.insert_recording(recording.clone());
        }
        call
    }

    /// Sends `call`'s callbacks to `{target_base}/api/dialer/webhook/…`, signed.
    pub async fn deliver(
        &self,
        target_base: &str,
        call: &SimCall,
        opts: &DeliveryOptions,
    ) -> anyhow::Result<DeliveryReport> {
        let calls = std::slice::from_ref(call);
        webhooks::deliver(&self.client, &self.validator, target_base, calls, opts, opts.concurrency).await
    }

    /// Sends the callbacks of many calls, interleaved, over `connections` concurrent workers.
    pub async fn deliver_many(
        &self,
        target_base: &str,
        calls: &[SimCall],
        opts: &DeliveryOptions,
        connections: usize,
    ) -> anyhow::Result<DeliveryReport> {
        webhooks::deliver(&self.client, &self.validator, target_base, calls, opts, connections).await
    }

    /// Every recording, newest first, including deleted ones.
    #[must_use]
    pub fn recordings(&self) -> Vec<RecordingResource> {
        lock(&self.shared.store).recordings()
    }

    /// Every call leg, in the order added (a parent leg before its child).
    #[must_use]
    pub fn calls(&self) -> Vec<CallResource> {
        lock(&self.shared.store).calls()
    }

    /// Every request answered so far, in the order they finished.
    #[must_use]
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_request_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) {
        if let Some(stop) = lock(&self.server.stop).take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.server.task.lock().await.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "Twilio simulator server failed"),
                Err(error) => tracing::warn!(%error, "Twilio simulator server task failed"),
            }
        }
    }
}
