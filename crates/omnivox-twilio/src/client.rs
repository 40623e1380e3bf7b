//! A client for the parts of Twilio's REST API (2010-04-01) Omnivox uses.
//! The same client talks to api.twilio.com in production and to the
//! simulator in tests; only the base URL differs.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Twilio's answer when a request fails: `{code, message, more_info, status}`.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("Twilio answered {status}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Api { status: u16, code: Option<i64>, message: String, retry_after: Option<Duration> },
    #[error("cannot reach Twilio: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected answer from Twilio: {0}")]
    Decode(String),
}

impl TwilioError {
    /// Worth trying again later: rate limited, a server error, or the network.
    pub fn is_transient(&self) -> bool {
        match self {
            TwilioError::Api { status, .. } => *status == 429 || *status >= 500,
            TwilioError::Transport(_) => true,
            TwilioError::Decode(_) => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, TwilioError::Api { status: 404, .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TwilioError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// A call as `GET /Accounts/{AccountSid}/Calls/{CallSid}.json` describes it.
/// Every field is nullable in the API description.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct CallResource {
    pub sid: Option<String>,
    pub parent_call_sid: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Seconds, as a string.
    pub duration: Option<String>,
    pub answered_by: Option<String>,
    pub date_updated: Option<String>,
}

/// Longest time a JSON request may take.
const API_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    api_base: String,
    account_sid: String,
    auth_token: SecretString,
}

impl std::fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .finish()
    }
}

impl TwilioClient {
    pub fn new(api_base: &str, account_sid: String, auth_token: SecretString) -> Result<Self, TwilioError> {
        let base = url::Url::parse(api_base)
            .map_err(|e| TwilioError::Decode(format!("the Twilio API base {api_base:?} is not a URL: {e}")))?;
        let policy_base = base.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 || !crate::media::redirect_allowed(&policy_base, attempt.url()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .redirect(redirects)
            .user_agent(concat!("omnivox/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(TwilioError::Transport)?;
        Ok(Self { http, api_base: api_base.trim_end_matches('/').to_owned(), account_sid, auth_token })
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// `{base}/2010-04-01/Accounts/{AccountSid}/{rest}`; `rest` is made of
    /// validated SIDs and fixed words only, never of request input.
    pub fn account_url(&self, rest: &str) -> String {
        format!("{}{}", self.api_base, self.account_path(rest))
    }

    /// `/2010-04-01/Accounts/{AccountSid}/{rest}`.
    pub fn account_path(&self, rest: &str) -> String {
        format!("/2010-04-01/Accounts/{}/{rest}", self.account_sid)
    }

    pub(crate) fn api_base(&self) -> &str {
        &self.api_base
    }

    /// A GET with the account's Basic auth, for JSON resources.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.media_get(url).timeout(API_TIMEOUT)
    }

    /// A GET with the account's Basic auth and no overall time limit.
    pub(crate) fn media_get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
    }

    pub(crate) fn delete(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.delete(url).basic_auth(&self.account_sid, Some(self.auth_token.expose_secret())).timeout(API_TIMEOUT)
    }

    pub async fn fetch_call(&self, call_sid: &str) -> Result<CallResource, TwilioError> {
        let url = self.account_url(&format!("Calls/{call_sid}.json"));
        let response = self.get(&url).send().await.map_err(TwilioError::Transport)?;
        json_or_error(response).await
    }
}

/// The body as `T`, or Twilio's error.
pub async fn json_or_error<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, TwilioError> {
    let status = response.status();
    if status.is_success() {
        return response.json::<T>().await.map_err(|e| TwilioError::Decode(e.to_string()));
    }
    Err(error_from(response).await)
}

pub async fn error_from(response: reqwest::Response) -> TwilioError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: Option<ErrorBody> = response.json().await.ok();
    TwilioError::Api {
        status: status.as_u16(),
        code: body.as_ref().and_then(|b| b.code),
        message: body
            .and_then(|b| b.message)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        retry_after: retry_after.filter(|_| status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()),
    }
}
