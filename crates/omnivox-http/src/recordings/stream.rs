//! Media bytes: from storage once archived (Range, ETag, Last-Modified),
//! else relayed from Twilio with the client's Range passed through.

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::TryStreamExt as _;
use omnivox_core::store::RecordingMedia;
use omnivox_media::Key;

use super::range::{decide, whole_seconds, Decision};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Archived media never changes under its ETag, but may be deleted by
/// retention: browsers may reuse it for an hour, privately.
const CACHE: &str = "private, max-age=3600";

pub(super) async fn from_storage(
    app: &AppState,
    media: &RecordingMedia,
    key: &Key,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let meta = app
        .storage
        .head(key)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("archived media {key} is missing from storage")))?;
    let len = meta.size;
    let etag = match &media.recording.sha256 {
        Some(sha) => format!("\"{sha}\""),
        None => format!("\"{}-{len}\"", media.recording.id),
    };
    let modified = whole_seconds(SystemTime::from(media.recording.stored_at.unwrap_or(meta.last_modified)));
    let content_type = media.recording.media_type.clone().unwrap_or_else(|| content_type_of(key).to_owned());
    let mut response = match decide(headers, len, &etag, Some(modified)) {
        Decision::NotModified => status_only(StatusCode::NOT_MODIFIED),
        Decision::Unsatisfiable => {
            let mut r = status_only(StatusCode::RANGE_NOT_SATISFIABLE);
            set(r.headers_mut(), header::CONTENT_RANGE, format!("bytes */{len}"));
            r
        }
        Decision::Full => {
            let body = app.storage.read(key, None).await.map_err(|e| ApiError::Internal(e.into()))?;
            let mut r = Response::new(Body::from_stream(body));
            set(r.headers_mut(), header::CONTENT_LENGTH, len.to_string());
            set(r.headers_mut(), header::CONTENT_TYPE, content_type);
            r
        }
        Decision::Partial(range) => {
            let (first, last) = (*range.start(), *range.end());
            let body = app.storage.read(key, Some(first..last + 1)).await.map_err(|e| ApiError::Internal(e.into()))?;
            let mut r = Response::new(Body::from_stream(body));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            set(r.headers_mut(), header::CONTENT_LENGTH, (last - first + 1).to_string());
            set(r.headers_mut(), header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}"));
            set(r.headers_mut(), header::CONTENT_TYPE, content_type);
            r
        }
    };
    let h = response.headers_mut();
    set(h, header::ACCEPT_RANGES, "bytes".to_owned());
    set(h, header::ETAG, etag);
    set(h, header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    set(h, header::CACHE_CONTROL, CACHE.to_owned());
    Ok(response)
}

pub(super) async fn from_twilio(app: &AppState, media: &RecordingMedia, headers: &HeaderMap) -> ApiResult<Response> {
    let recording = &media.recording;
    if recording.sync_status == "deleted" {
        return Err(ApiError::Gone(
            recording.error.clone().unwrap_or_else(|| "the recording's media was deleted".to_owned()),
        ));
    }
    if recording.status != "completed" {
        return Err(ApiError::Conflict(format!("Twilio has no playable media: the recording is {}", recording.status)));
    }
    let twilio = app.twilio_client.as_ref().ok_or_else(|| {
        ApiError::NotConfigured("the media is not archived yet and Twilio is not configured".to_owned())
    })?;
    let upstream = twilio
        .fetch_media(&recording.recording_sid, app.settings.recording_format, headers.get(header::RANGE))
        .await
        .map_err(|e| {
            if e.is_not_found() {
                ApiError::Gone("Twilio no longer has this recording's media".to_owned())
            } else {
                tracing::warn!(error = %e, "relaying media from Twilio failed");
                ApiError::Upstream(format!("Twilio did not deliver the media: {e}"))
            }
        })?;
    let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut relayed = HeaderMap::new();
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_RANGE, header::ACCEPT_RANGES] {
        if let Some(value) =
            upstream.headers().get(name.as_str()).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            relayed.insert(name, value);
        }
    }
    let body = Body::from_stream(upstream.bytes_stream().map_err(std::io::Error::other));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = relayed;
    set(response.headers_mut(), header::CACHE_CONTROL, "private, no-store".to_owned());
    Ok(response)
}

/// `2026-02-16_1432_+14155550100_CA….wav`: when the call began (UTC), the
/// customer's number and the CallSid.
pub(super) fn file_name(media: &RecordingMedia, headers: &HeaderMap) -> String {
    let recording = &media.recording;
    let at = media.call_started_at.or(recording.started_at).unwrap_or(recording.created_at);
    let phone: String = media
        .contact_phone
        .as_deref()
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
        .collect();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let extension = if content_type.contains("mpeg") { "mp3" } else { "wav" };
    format!("{}_{phone}_{}.{extension}", at.format("%Y-%m-%d_%H%M"), media.call_sid)
}

fn content_type_of(key: &Key) -> &'static str {
    match key.extension() {
        Some("mp3") => "audio/mpeg",
        _ => "audio/wav",
    }
}

fn status_only(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// Values made here from digits, hex and fixed words are always valid.
fn set(headers: &mut HeaderMap, name: HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name, value);
    }
}
