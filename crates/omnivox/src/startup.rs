//! Building and running the service: `Application::build` connects,
//! migrates, creates the first admin and binds the listener (port 0 in
//! tests); `run_until_stopped` serves requests and runs jobs until the
//! shutdown token fires, then drains requests and joins every task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use omnivox_core::events::EventBus;
use omnivox_core::ingest::Ingestor;
use omnivox_core::{Clock, Store, SystemClock};
use omnivox_http::auth::rate_limit::LoginLimiter;
use omnivox_http::webhooks::TwilioWebhooks;
use omnivox_http::{AppState, HttpSettings};
use omnivox_import::{RetryPolicy, Walker};
use omnivox_jobs::{JobQueue, Worker, WorkerSettings};
use omnivox_media::MediaStorage;
use omnivox_store::PoolSettings;
use omnivox_twilio::{MediaFormat, RequestValidator, TwilioClient};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::bootstrap::{self, FirstAdmin};
use crate::config::{Config, RecordingFormat};
use crate::jobs::{self, JobContext, MediaSettings, SweepSettings};
use crate::telemetry;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    worker: Arc<Worker<JobContext>>,
    run_jobs: bool,
    store: Arc<dyn Store>,
    login_limiter: Arc<LoginLimiter>,
    first_admin: FirstAdmin,
    /// Fires when serving stops; ends event streams and the event bus.
    stopping: CancellationToken,
    event_bus_task: Option<tokio::task::JoinHandle<()>>,
}

/// Opens and migrates the configured database.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let settings = PoolSettings { max_connections: config.database_max_connections };
    let store = omnivox_store::connect(&config.database_url, &settings)
        .await
        .with_context(|| format!("opening the database ({})", redact_url(&config.database_url)))?;
    store.migrate().await.context("applying database migrations")?;
    Ok(store)
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        config.check_for_serve()?;
        let store = open_store(config).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let first_admin = bootstrap::ensure_first_admin(&store, &clock, config.admin_password.as_ref()).await?;

        let stopping = CancellationToken::new();
        let (events, event_bus_task) = omnivox_store::start_event_bus(&config.database_url, stopping.clone())
            .await
            .context("starting the live event bus")?;
        let webhooks = twilio_webhooks(config);
        let ctx = Arc::new(job_context(config, store.clone(), clock.clone(), Arc::clone(&events))?);
        let (jobs, ingestor, twilio, storage) =
            (ctx.jobs.clone(), ctx.ingestor.clone(), ctx.twilio.clone(), ctx.storage.clone());
        let recording_format = ctx.media.format;
        jobs::schedule_periodic(&ctx).await?;
        let worker_settings = WorkerSettings {
            concurrency: config.job_concurrency,
            lease: job_lease(config),
            ..WorkerSettings::default()
        };
        let worker = Arc::new(Worker::new(jobs.clone(), jobs::registry(), ctx, worker_settings));

        let settings = HttpSettings {
            session_ttl: Duration::from_secs(config.session_ttl_hours.saturating_mul(3600)),
            secure_cookies: config.public_url.as_ref().is_some_and(|u| u.scheme() == "https"),
            login_attempts_per_user_per_minute: config.login_attempts_per_user_per_minute,
            login_attempts_per_ip_per_minute: config.login_attempts_per_ip_per_minute,
            recording_format,
            ..HttpSettings::default()
        };
        let login_limiter = Arc::new(LoginLimiter::new(
            settings.login_attempts_per_user_per_minute,
            settings.login_attempts_per_ip_per_minute,
        ));
        let state = AppState {
            store: store.clone(),
            clock,
            jobs,
            settings: Arc::new(settings),
            login_limiter: login_limiter.clone(),
            metrics: telemetry::metrics_handle(),
            ingestor,
            events,
            twilio: webhooks,
            twilio_client: twilio,
            storage,
            archive_job: |sid, at| crate::jobs::ArchiveMedia { recording_sid: sid.clone() }.new_job(at),
            shutdown: stopping.clone(),
        };
        let router = omnivox_http::router(state);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let run_jobs = config.job_concurrency > 0;
        Ok(Self { listener, router, worker, run_jobs, store, login_limiter, first_admin, stopping, event_bus_task })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn first_admin(&self) -> &FirstAdmin {
        &self.first_admin
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Serves until `shutdown` is cancelled; then stops accepting, lets
    /// requests in flight finish, lets the running jobs finish (or releases
    /// them), and closes the database.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, backend = self.store.backend().as_str(), "omnivox is listening");
        let stopping = self.stopping.clone();
        // With a job concurrency of 0 this instance only serves HTTP; others run the jobs.
        let worker = (self.run_jobs).then(|| Arc::clone(&self.worker).spawn(stopping.clone()));
        let housekeeping = tokio::spawn(forget_idle_login_limits(self.login_limiter, stopping.clone()));
        let signal = {
            let stopping = stopping.clone();
            async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = stopping.cancelled() => {}
                }
                // Also ends the event streams, which would otherwise hold the drain open.
                stopping.cancel();
            }
        };
        let served = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .await;
        // However serving ended, stop and join everything else.
        stopping.cancel();
        let joined = match worker {
            Some(worker) => worker.await,
            None => Ok(()),
        };
        let _ = housekeeping.await;
        if let Some(task) = self.event_bus_task {
            let _ = task.await;
        }
        self.store.close().await;
        served.context("serving HTTP")?;
        joined.context("joining the job workers")?;
        tracing::info!("omnivox stopped");
        Ok(())
    }
}

/// What jobs run with, whether in `serve` or in a command that does a
/// job's work itself (`import twilio`).
pub fn job_context(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventBus>,
) -> anyhow::Result<JobContext> {
    let twilio = twilio_client(config)?;
    let storage = MediaStorage::open(&config.storage_url, config.aws_settings.0.clone())
        .with_context(|| format!("opening recording storage ({})", config.storage_url))?;
    let jobs = JobQueue::new(store.clone(), clock.clone());
    let wake = jobs.clone();
    let enrich_delay = i64::try_from(config.enrich_delay_seconds.min(86_400)).unwrap_or(86_400);
    let ingestor = Ingestor::new(
        store.clone(),
        jobs::follow_ups(twilio.is_some(), chrono::Duration::seconds(enrich_delay)),
        Arc::clone(&events),
        Arc::new(move || wake.notify()),
    );
    let format = match config.recording_format {
        RecordingFormat::Wav => MediaFormat::Wav,
        RecordingFormat::Mp3 => MediaFormat::Mp3,
    };
    let walker = twilio.clone().map(|twilio| Walker {
        store: store.clone(),
        ingestor: ingestor.clone(),
        twilio,
        clock: clock.clone(),
        concurrency: config.twilio_concurrency.max(1),
        retry: RetryPolicy::default(),
    });
    Ok(JobContext {
        store,
        clock,
        jobs,
        ingestor,
        events,
        storage,
        media: MediaSettings { format, delete_from_twilio: config.twilio_delete_after_archive },
        twilio,
        walker,
        sweep: sweep_settings(config),
    })
}

/// How long a job's claim lasts without a heartbeat.
pub fn job_lease(config: &Config) -> Duration {
    Duration::from_secs(config.job_lease_seconds.max(1))
}

fn sweep_settings(config: &Config) -> SweepSettings {
    let hours = i64::try_from(config.sweep_window_hours).unwrap_or(i64::MAX).min(24 * 365);
    let grace = i64::try_from(config.sweep_grace_seconds).unwrap_or(i64::MAX).min(86_400);
    SweepSettings {
        interval: Duration::from_secs(config.sweep_interval_seconds),
        window: chrono::Duration::hours(hours),
        grace: chrono::Duration::seconds(grace),
    }
}

fn twilio_client(config: &Config) -> anyhow::Result<Option<TwilioClient>> {
    match (&config.twilio_account_sid, &config.twilio_auth_token) {
        (Some(sid), Some(token)) => Ok(Some(
            TwilioClient::new(config.twilio_api_base.as_str(), sid.clone(), token.clone())
                .context("creating the Twilio client")?,
        )),
        _ => Ok(None),
    }
}

fn twilio_webhooks(config: &Config) -> Option<Arc<TwilioWebhooks>> {
    let token = config.twilio_auth_token.as_ref()?;
    let public = config.public_url.as_ref()?;
    Some(Arc::new(TwilioWebhooks {
        validator: RequestValidator::new(token.expose_secret()),
        public_base: public.as_str().trim_end_matches('/').to_owned(),
        caller_id: config.twilio_caller_id.clone(),
    }))
}

async fn forget_idle_login_limits(limiter: Arc<LoginLimiter>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => limiter.shrink(),
        }
    }
}

/// A token cancelled by SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
        tracing::info!("shutdown requested; draining");
        cancel.cancel();
    });
    token
}

/// A database URL fit for a log line: the password replaced.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("REDACTED"));
            u.to_string()
        }
        _ => raw.to_owned(),
    }
}
