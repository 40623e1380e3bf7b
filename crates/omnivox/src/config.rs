//! Configuration: built-in defaults, then `omnivox.toml`, then the
//! environment (`OMNIVOX_*`, `TWILIO_*`), then command-line flags, each
//! overriding the one before. Secrets can also come from a file named by
//! `NAME_FILE` (for container secrets), are never printed (`Debug` shows
//! `[REDACTED]`), and have no flag, so they never appear in a process list.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Every setting, with the names of the interface contract.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    #[serde(default = "defaults::database_url")]
    pub database_url: String,
    #[serde(default = "defaults::storage_url")]
    pub storage_url: String,
    /// The base URL Twilio calls; webhook signatures are checked against it.
    #[serde(default)]
    pub public_url: Option<Url>,
    #[serde(default)]
    pub twilio_account_sid: Option<String>,
    #[serde(default)]
    pub twilio_auth_token: Option<SecretString>,
    /// The number agents' outbound calls show (the softphone TwiML).
    #[serde(default)]
    pub twilio_caller_id: Option<String>,
    #[serde(default = "defaults::twilio_api_base")]
    pub twilio_api_base: Url,
    #[serde(default)]
    pub admin_password: Option<SecretString>,
    #[serde(default)]
    pub transcribe_url: Option<Url>,
    #[serde(default)]
    pub transcribe_model: Option<String>,
    #[serde(default)]
    pub transcribe_api_key: Option<SecretString>,
    #[serde(default)]
    pub log_format: LogFormat,
    /// Connections to PostgreSQL (or SQLite readers) per instance.
    #[serde(default = "defaults::database_max_connections")]
    pub database_max_connections: u32,
    /// Background jobs run at once per instance; 0 makes an instance that
    /// only serves HTTP.
    #[serde(default = "defaults::job_concurrency")]
    pub job_concurrency: usize,
    /// Seconds between a call's first callback and asking the Calls API for its details.
    #[serde(default = "defaults::enrich_delay_seconds")]
    pub enrich_delay_seconds: u64,
    #[serde(default = "defaults::session_ttl_hours")]
    pub session_ttl_hours: u64,
    #[serde(default = "defaults::login_attempts_per_user_per_minute")]
    pub login_attempts_per_user_per_minute: u32,
    #[serde(default = "defaults::login_attempts_per_ip_per_minute")]
    pub login_attempts_per_ip_per_minute: u32,
    /// How long a job's claim lasts without a heartbeat; a job whose
    /// instance died runs again this long after.
    #[serde(default = "defaults::job_lease_seconds")]
    pub job_lease_seconds: u64,
    /// The encoding recordings are downloaded and archived in.
    #[serde(default)]
    pub recording_format: RecordingFormat,
    /// Delete each recording from Twilio once the archived copy is verified.
    #[serde(default)]
    pub twilio_delete_after_archive: bool,
    /// Requests to Twilio's REST API in flight at once per walk (call
    /// details during an import or a sweep).
    #[serde(default = "defaults::twilio_concurrency")]
    pub twilio_concurrency: usize,
    /// Seconds between reconciliation sweeps; 0 turns the sweep off.
    #[serde(default = "defaults::sweep_interval_seconds")]
    pub sweep_interval_seconds: u64,
    /// How far back each sweep lists recordings.
    #[serde(default = "defaults::sweep_window_hours")]
    pub sweep_window_hours: u64,
    /// Recordings updated this recently are left to their webhook until the next sweep.
    #[serde(default = "defaults::sweep_grace_seconds")]
    pub sweep_grace_seconds: u64,
    /// The standard `AWS_*` variables (credentials, region, endpoint) for
    /// S3-compatible storage, as found in the environment.
    #[serde(skip)]
    pub aws_settings: AwsSettings,
}

/// `AWS_*` name–value pairs. They include the secret key, so `Debug`
/// shows the names only.
#[derive(Clone, Default)]
pub struct AwsSettings(pub Vec<(String, String)>);

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(name, _)| name)).finish()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordingFormat {
    /// Twilio's WAV: 16-bit PCM, lossless, about 1 MB per minute per channel.
    #[default]
    Wav,
    /// Twilio's MP3 at 32 kbit/s: a quarter of the size.
    Mp3,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

pub(crate) mod defaults {
    use super::*;

    pub fn listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 8080))
    }
    pub fn database_url() -> String {
        "sqlite://omnivox-data/omnivox.db".into()
    }
    pub fn storage_url() -> String {
        "file://omnivox-data/recordings".into()
    }
    pub fn twilio_api_base() -> Url {
        Url::parse("https://api.twilio.com").unwrap_or_else(|_| unreachable!("constant URL"))
    }
    pub fn database_max_connections() -> u32 {
        10
    }
    pub fn job_concurrency() -> usize {
        4
    }
    pub fn enrich_delay_seconds() -> u64 {
        20
    }
    pub fn session_ttl_hours() -> u64 {
        12
    }
    pub fn login_attempts_per_user_per_minute() -> u32 {
        10
    }
    pub fn login_attempts_per_ip_per_minute() -> u32 {
        60
    }
    pub fn job_lease_seconds() -> u64 {
        60
    }
    pub fn twilio_concurrency() -> usize {
        16
    }
    pub fn sweep_interval_seconds() -> u64 {
        15 * 60
    }
    pub fn sweep_window_hours() -> u64 {
        48
    }
    pub fn sweep_grace_seconds() -> u64 {
        120
    }
}

/// Settings that may also be given as flags (never secrets).
#[derive(Debug, Clone, Default, Serialize, clap::Args)]
pub struct Flags {
    /// Address to listen on [env: OMNIVOX_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// sqlite://PATH or postgres://… [env: OMNIVOX_DATABASE_URL]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// file://PATH or s3://bucket/prefix [env: OMNIVOX_STORAGE_URL]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_url: Option<String>,
    /// Base URL Twilio calls [env: OMNIVOX_PUBLIC_URL]
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Log lines as text or JSON [env: OMNIVOX_LOG_FORMAT]
    #[arg(long, global = true, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// A configuration value a command cannot run without.
#[derive(Debug, thiserror::Error)]
#[error(
    "{what} is not set{why}. Set it in one of these ways:\n  - `{key} = \"…\"` in omnivox.toml\n  - the environment variable {env}{file_hint}{flag_hint}"
)]
pub struct MissingSetting {
    pub what: &'static str,
    pub why: String,
    pub key: &'static str,
    pub env: &'static str,
    pub file_hint: String,
    pub flag_hint: String,
}

/// The prefixed environment variables this service reads.
const KNOWN_ENV: &[&str] = &[
    "OMNIVOX_LISTEN",
    "OMNIVOX_DATABASE_URL",
    "OMNIVOX_STORAGE_URL",
    "OMNIVOX_PUBLIC_URL",
    "OMNIVOX_TWILIO_API_BASE",
    "OMNIVOX_ADMIN_PASSWORD",
    "OMNIVOX_ADMIN_PASSWORD_FILE",
    "OMNIVOX_TRANSCRIBE_URL",
    "OMNIVOX_TRANSCRIBE_MODEL",
    "OMNIVOX_TRANSCRIBE_API_KEY",
    "OMNIVOX_TRANSCRIBE_API_KEY_FILE",
    "OMNIVOX_LOG_FORMAT",
    "OMNIVOX_DATABASE_MAX_CONNECTIONS",
    "OMNIVOX_JOB_CONCURRENCY",
    "OMNIVOX_SESSION_TTL_HOURS",
    "OMNIVOX_ENRICH_DELAY_SECONDS",
    "OMNIVOX_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE",
    "OMNIVOX_LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
    "OMNIVOX_JOB_LEASE_SECONDS",
    "OMNIVOX_RECORDING_FORMAT",
    "OMNIVOX_TWILIO_DELETE_AFTER_ARCHIVE",
    "OMNIVOX_TWILIO_CONCURRENCY",
    "OMNIVOX_SWEEP_INTERVAL_SECONDS",
    "OMNIVOX_SWEEP_WINDOW_HOURS",
    "OMNIVOX_SWEEP_GRACE_SECONDS",
    "OMNIVOX_CONFIG",
];

/// Settings whose environment values are numbers or booleans.
const TYPED: &[&str] = &[
    "twilio_concurrency",
    "sweep_interval_seconds",
    "sweep_window_hours",
    "sweep_grace_seconds",
    "job_lease_seconds",
    "twilio_delete_after_archive",
    "database_max_connections",
    "job_concurrency",
    "session_ttl_hours",
    "enrich_delay_seconds",
    "login_attempts_per_user_per_minute",
    "login_attempts_per_ip_per_minute",
];

/// Secrets that may be read from a file: (setting, variable naming the file).
const SECRET_FILES: &[(&str, &str)] = &[
    ("admin_password", "OMNIVOX_ADMIN_PASSWORD_FILE"),
    ("twilio_auth_token", "TWILIO_AUTH_TOKEN_FILE"),
    ("transcribe_api_key", "OMNIVOX_TRANSCRIBE_API_KEY_FILE"),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("cannot read {var} ({path}): {source}")]
    SecretFile {
        var: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Config {
    /// Loads the configuration from `config_file` (when it exists), the
    /// process environment and `flags`.
    pub fn load(config_file: &Path, flags: &Flags) -> Result<Self, ConfigError> {
        Self::load_from(config_file, flags, std::env::vars())
    }

    /// As [`Config::load`], with the environment given (for tests).
    pub fn load_from(
        config_file: &Path,
        flags: &Flags,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::new().merge(Toml::file(config_file));
        let mut from_env = Figment::new();
        for (name, value) in &env {
            let key = if let Some(rest) = name.strip_prefix("OMNIVOX_") {
                rest.to_lowercase()
            } else if let Some(rest) = name.strip_prefix("TWILIO_") {
                format!("twilio_{}", rest.to_lowercase())
            } else {
                continue;
            };
            if key.ends_with("_file") || key == "config" {
                continue;
            }
            // Numbers for numeric settings; everything else stays text, so a
            // caller id like "+14155550000" or a token of digits is not a number.
            let parsed = if TYPED.contains(&key.as_str()) {
                value.parse().unwrap_or_else(|_| figment::value::Value::from(value.clone()))
            } else {
                figment::value::Value::from(value.clone())
            };
            from_env = from_env.merge(Serialized::default(&key, parsed));
        }
        figment = figment.merge(from_env).merge(Serialized::defaults(flags));
        for (setting, var) in SECRET_FILES {
            let already = figment.find_value(setting).is_ok();
            if let (false, Some((_, path))) = (already, env.iter().find(|(n, _)| n == var)) {
                let secret = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
                    var,
                    path: path.clone(),
                    source,
                })?;
                figment = figment.merge(Serialized::default(setting, secret.trim_end_matches(['\r', '\n'])));
            }
        }
        let mut config: Config = figment.extract().map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.aws_settings = AwsSettings(env.into_iter().filter(|(name, _)| name.starts_with("AWS_")).collect());
        Ok(config)
    }

    /// Prefixed variables in `env` that nothing reads: likely typos.
    pub fn unknown_env_vars(env: impl IntoIterator<Item = String>) -> Vec<String> {
        env.into_iter()
            .filter(|n| n.starts_with("OMNIVOX_") && !n.starts_with("OMNIVOX_TEST_"))
            .filter(|n| !KNOWN_ENV.contains(&n.as_str()))
            .collect()
    }

    /// The file to read: `--config`, else `OMNIVOX_CONFIG`, else `./omnivox.toml`.
    pub fn file_path(flag: Option<PathBuf>) -> PathBuf {
        flag.or_else(|| std::env::var_os("OMNIVOX_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("omnivox.toml"))
    }

    /// Twilio account credentials, required by anything that calls Twilio.
    pub fn twilio_credentials(&self, needed_for: &str) -> Result<(String, SecretString), MissingSetting> {
        let sid = self.twilio_account_sid.clone().ok_or_else(|| MissingSetting {
            what: "TWILIO_ACCOUNT_SID",
            why: format!(" ({needed_for} needs it)"),
            key: "twilio_account_sid",
            env: "TWILIO_ACCOUNT_SID",
            file_hint: String::new(),
            flag_hint: String::new(),
        })?;
        let token = self.twilio_auth_token.clone().ok_or_else(|| MissingSetting {
            what: "TWILIO_AUTH_TOKEN",
            why: format!(" ({needed_for} needs it)"),
            key: "twilio_auth_token",
            env: "TWILIO_AUTH_TOKEN",
            file_hint: "\n  - TWILIO_AUTH_TOKEN_FILE naming a file that holds it".into(),
            flag_hint: String::new(),
        })?;
        Ok((sid, token))
    }

    /// Webhooks are verified against the public URL, so with a Twilio token
    /// and no public URL every webhook would be refused: fail at start.
    pub fn check_for_serve(&self) -> Result<(), MissingSetting> {
        if self.twilio_auth_token.is_some() && self.public_url.is_none() {
            return Err(MissingSetting {
                what: "OMNIVOX_PUBLIC_URL",
                why: " (Twilio webhook signatures are checked against it, and TWILIO_AUTH_TOKEN is set)".into(),
                key: "public_url",
                env: "OMNIVOX_PUBLIC_URL",
                file_hint: String::new(),
                flag_hint: "\n  - the flag --public-url".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
