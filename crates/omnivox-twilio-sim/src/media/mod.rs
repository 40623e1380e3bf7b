//! Recording media: WAV and MP3 bodies generated from the recording SID, streamed in small
//! chunks with single-range support (`206`, `416`, `Accept-Ranges`, `Content-Range`).

mod mp3;
pub(crate) mod range;
pub(crate) mod tone;
mod wav;

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use crate::resources::RecordingResource;
use range::RangeRequest;
use tone::Voice;

/// Bytes generated per body chunk: small enough that no request holds much memory.
const CHUNK: u64 = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaFormat {
    Wav,
    Mp3,
}

/// A recording's media in one format: its length and any of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    Wav(wav::Wav),
    Mp3(mp3::Mp3),
}

impl Media {
    pub fn of(format: MediaFormat, recording: &RecordingResource) -> Self {
        let voice = Voice::from_sid(&recording.sid);
        match format {
            MediaFormat::Wav => Self::Wav(wav::Wav::new(voice, recording.channels, recording.duration)),
            MediaFormat::Mp3 => Self::Mp3(mp3::Mp3::new(voice, recording.channels, recording.duration)),
        }
    }

    pub fn len(&self) -> u64 {
        match self {
            Self::Wav(w) => w.len(),
            Self::Mp3(m) => m.len(),
        }
    }

    pub fn read_at(&self, offset: u64, buf: &mut [u8]) {
        match self {
            Self::Wav(w) => w.read_at(offset, buf),
            Self::Mp3(m) => m.read_at(offset, buf),
        }
    }

    fn content_type(&self) -> &'static str {
        match self {
            Self::Wav(_) => "audio/x-wav",
            Self::Mp3(_) => "audio/mpeg",
        }
    }

    /// Bytes `first..=last`, produced chunk by chunk as the client reads,
    /// at most `pace` bytes per second when set.
    fn stream(self, first: u64, last: u64, pace: Option<u64>) -> Body {
        let chunks = futures::stream::unfold(first, move |pos| async move {
            if pos > last {
                return None;
            }
            let len = CHUNK.min(last - pos + 1);
            if let Some(rate) = pace.filter(|r| *r > 0) {
                tokio::time::sleep(std::time::Duration::from_secs_f64(len as f64 / rate as f64)).await;
            }
            let mut chunk = vec![0u8; len as usize];
            self.read_at(pos, &mut chunk);
            Some((Ok::<_, Infallible>(Bytes::from(chunk)), pos + len))
        });
        Body::from_stream(chunks)
    }
}

/// The media response for a `Range` header (or none), sent at `pace` bytes
/// per second when set.
pub(crate) fn respond(
    format: MediaFormat,
    recording: &RecordingResource,
    range: Option<&HeaderValue>,
    pace: Option<u64>,
) -> Response {
    let media = Media::of(format, recording);
    let len = media.len();
    let range = range.and_then(|v| v.to_str().ok());
    let (status, first, last) = match range::parse(range, len) {
        RangeRequest::Full => (StatusCode::OK, 0, len.checked_sub(1)),
        RangeRequest::Partial { first, last } => (StatusCode::PARTIAL_CONTENT, first, Some(last)),
        RangeRequest::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let headers = response.headers_mut();
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            headers.insert(header::CONTENT_RANGE, header_value(format!("bytes */{len}")));
            return response;
        }
    };
    let (body, body_len) = match last {
        Some(last) => (media.stream(first, last, pace), last - first + 1),
        None => (Body::empty(), 0),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // The bytes are a pure function of SID and format, so this tag is a strong validator.
    let extension = match format {
        MediaFormat::Wav => "wav",
        MediaFormat::Mp3 => "mp3",
    };
    headers.insert(header::ETAG, header_value(format!("\"{}.{extension}\"", recording.sid)));
    if let (StatusCode::PARTIAL_CONTENT, Some(last)) = (status, last) {
        headers.insert(header::CONTENT_RANGE, header_value(format!("bytes {first}-{last}/{len}")));
    }
    response
}

/// Header values built here from digits and SIDs are always valid; an empty value would
/// only appear if that ever changed.
fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::spec::{build_call, CallSpec};

    fn digest(format: MediaFormat, channels: u8) -> String {
        let spec = CallSpec { duration_secs: 3, recording_channels: channels, ..CallSpec::default() };
        let mut recording = build_call(spec, "AC0123456789abcdef0123456789abcdef", "http://sim")
            .recording
            .unwrap_or_else(|| unreachable!("recorded"));
        recording.sid = "RE0123456789abcdef0123456789abcdef".to_owned();
        let media = Media::of(format, &recording);
        let mut bytes = vec![0; media.len() as usize];
        media.read_at(0, &mut bytes);
        Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Stored checksums elsewhere depend on these bytes never changing for a SID: a change to
    /// the generator must be deliberate, and update these values.
    #[test]
    fn media_bytes_for_a_fixed_sid_never_change() {
        assert_eq!(digest(MediaFormat::Wav, 2), "454d130b675b713fcdafaa7ed577dccaecad5322227c69d863ca09d88f16eddb");
        assert_eq!(digest(MediaFormat::Wav, 1), "fa4399efa8e6718e85a46ff9e99576e0395eb979eff0d03bc69f067cc8282b6b");
        assert_eq!(digest(MediaFormat::Mp3, 2), "211a06c48b29d777241f718acfc096d6fbf5a00a191c38bc1bc96fe56b7fd5e6");
        assert_eq!(digest(MediaFormat::Mp3, 1), "2089fbca6ff74f907aaa4339c7e14bcc0293221bb9423e2fc0a9fc20ebc42cdf");
    }
}
