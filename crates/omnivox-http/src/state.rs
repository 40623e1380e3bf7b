//! What handlers share. Each handler extracts only the parts it needs.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use omnivox_core::events::EventBus;
use omnivox_core::ingest::Ingestor;
use omnivox_core::store::NewJob;
use omnivox_core::{Clock, RecordingSid, Store};
use omnivox_jobs::JobQueue;
use omnivox_media::MediaStorage;
use omnivox_twilio::{MediaFormat, TwilioClient};
use tokio_util::sync::CancellationToken;

use crate::auth::rate_limit::LoginLimiter;
use crate::webhooks::TwilioWebhooks;

/// Settings of the HTTP layer, taken from the service configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// How long a session lasts after login.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// Failed-or-not login attempts allowed per minute, per user name and per client address.
    pub login_attempts_per_user_per_minute: u32,
    pub login_attempts_per_ip_per_minute: u32,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Longest time to produce a response's headers.
    pub request_timeout: Duration,
    /// The encoding asked of Twilio when relaying media not yet archived.
    pub recording_format: MediaFormat,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(12 * 60 * 60),
            secure_cookies: false,
            login_attempts_per_user_per_minute: 10,
            login_attempts_per_ip_per_minute: 60,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            recording_format: MediaFormat::Wav,
        }
    }
}

/// Builds the job that archives a recording's media; the job itself lives
/// with the other job kinds in the service crate.
pub type ArchiveJobFn = fn(&RecordingSid, DateTime<Utc>) -> serde_json::Result<NewJob>;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub jobs: JobQueue,
    pub settings: Arc<HttpSettings>,
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: PrometheusHandle,
    pub ingestor: Ingestor,
    pub events: Arc<dyn EventBus>,
    /// `None` until Twilio credentials and the public URL are configured.
    pub twilio: Option<Arc<TwilioWebhooks>>,
    /// `None` without Twilio credentials; streams media not yet archived.
    pub twilio_client: Option<TwilioClient>,
    /// Where archived recordings are.
    pub storage: MediaStorage,
    /// The `archive-media` job for a recording (an admin's retry).
    pub archive_job: ArchiveJobFn,
    /// Fires when the service begins to shut down (ends event streams).
    pub shutdown: CancellationToken,
}
