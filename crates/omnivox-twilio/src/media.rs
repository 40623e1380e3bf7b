//! Recording media and recording deletion.
//!
//! The media URL is always built here from the configured API base, the
//! account and a validated RecordingSid: a webhook's `RecordingUrl` is never
//! fetched, so a forged or misdirected callback cannot make the service
//! request another host (169.254.169.254, an intranet address, …). Twilio
//! answers media requests with a redirect to its storage; redirects are only
//! followed to the API host itself and to Twilio's own domains.

use std::time::Duration;

use reqwest::header::{HeaderValue, RANGE};
use reqwest::StatusCode;

use crate::client::{error_from, TwilioClient, TwilioError};

/// The two media encodings Twilio serves for a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    /// 16-bit PCM, 8 kHz, one or two channels.
    Wav,
    Mp3,
}

impl MediaFormat {
    pub fn extension(self) -> &'static str {
        match self {
            MediaFormat::Wav => "wav",
            MediaFormat::Mp3 => "mp3",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MediaFormat::Wav => "audio/wav",
            MediaFormat::Mp3 => "audio/mpeg",
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "wav" => Some(MediaFormat::Wav),
            "mp3" => Some(MediaFormat::Mp3),
            _ => None,
        }
    }
}

/// Longest time a whole media download may take (a long call's WAV over a
/// slow link); idle connections are cut much sooner by the read timeout.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(3600);

/// Whether a redirect to `target` may be followed from a client whose API
/// base is `api`: the same origin, or HTTPS on a Twilio domain.
pub fn redirect_allowed(api: &url::Url, target: &url::Url) -> bool {
    let same_origin =
        api.scheme() == target.scheme() && api.host_str() == target.host_str() && api.port() == target.port();
    if same_origin {
        return true;
    }
    let Some(host) = target.host_str() else { return false };
    let host = host.to_ascii_lowercase();
    target.scheme() == "https"
        && ["twilio.com", "twiliocdn.com"].iter().any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

impl TwilioClient {
    /// `…/Recordings/{RecordingSid}.{wav|mp3}` on the configured API base.
    pub fn media_url(&self, recording_sid: &str, format: MediaFormat) -> String {
        self.account_url(&format!("Recordings/{recording_sid}.{}", format.extension()))
    }

    /// Starts a media download. `range` is passed through as given (for
    /// proxying a player's request). Answers 200, 206 and 416 are returned
    /// for the caller to stream or relay; anything else is an error (404
    /// when Twilio has no such media, 429/5xx transient).
    pub async fn fetch_media(
        &self,
        recording_sid: &str,
        format: MediaFormat,
        range: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, TwilioError> {
        let mut request = self.media_get(&self.media_url(recording_sid, format)).timeout(MEDIA_TIMEOUT);
        if let Some(range) = range {
            request = request.header(RANGE, range.clone());
        }
        let response = request.send().await.map_err(TwilioError::Transport)?;
        let status = response.status();
        if status.is_success() || status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(response);
        }
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere")
                .to_owned();
            return Err(TwilioError::Api {
                status: status.as_u16(),
                code: None,
                message: format!("the media was redirected to a host that is not Twilio's ({to}); not followed"),
                retry_after: None,
            });
        }
        Err(error_from(response).await)
    }

    /// `DELETE …/Recordings/{Sid}.json`. Already gone counts as done.
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), TwilioError> {
        let url = self.account_url(&format!("Recordings/{recording_sid}.json"));
        let response = self.delete(&url).send().await.map_err(TwilioError::Transport)?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(error_from(response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn redirects_stay_with_twilio() {
        let api = url("https://api.twilio.com");
        assert!(redirect_allowed(&api, &url("https://api.twilio.com/2010-04-01/x")));
        assert!(redirect_allowed(&api, &url("https://media.twiliocdn.com/x")));
        assert!(redirect_allowed(&api, &url("https://recordings.us1.twilio.com/x")));
        assert!(!redirect_allowed(&api, &url("http://media.twiliocdn.com/x")), "no downgrade to http");
        assert!(!redirect_allowed(&api, &url("http://169.254.169.254/latest/meta-data")));
        assert!(!redirect_allowed(&api, &url("https://eviltwilio.com/x")));
        assert!(!redirect_allowed(&api, &url("https://twilio.com.evil.example/x")));
        let sim = url("http://127.0.0.1:4010");
        assert!(redirect_allowed(&sim, &url("http://127.0.0.1:4010/media")));
        assert!(!redirect_allowed(&sim, &url("http://127.0.0.1:4011/media")), "another port is another host");
    }
}
