//! Recordings: metadata, playback, download and waveform peaks. Agents
//! reach only recordings of calls they handled; anything else answers 404.
//! Every stream and download request is written to the audit log before a
//! byte is sent.

mod range;
pub(crate) mod retry;
mod stream;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use omnivox_core::store::{NewAuditEntry, RecordingMedia, RecordingView, User};
use omnivox_media::Key;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/recordings/{id}", get(metadata))
        .route("/api/recordings/{id}/stream", get(play))
        .route("/api/recordings/{id}/download", get(download))
        .route("/api/recordings/{id}/peaks", get(peaks))
        .route("/api/recordings/{id}/retry", post(retry::retry_sync))
}

/// The recording `id` if `user` may reach it; 404 otherwise, whether it
/// exists or not.
pub(crate) async fn visible(app: &AppState, user: &User, id: &str) -> ApiResult<RecordingMedia> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    app.store
        .recording_media(id)
        .await?
        .filter(|m| user.role.sees_all_calls() || m.agent_id == Some(user.id))
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(
    get, path = "/api/recordings/{id}", tag = "recordings",
    description = "Signed in; an agent only reaches recordings of its own calls.",
    params(("id" = i64, Path, description = "The recording's id")),
    responses((status = 200, description = "The recording", body = RecordingView), (status = 401, response = crate::openapi::NotSignedIn), (status = 404, response = crate::openapi::NotFound))
)]
async fn metadata(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RecordingView>> {
    Ok(Json(visible(&app, &user, &id).await?.recording))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    Inline,
    Attachment,
}

#[utoipa::path(
    get, path = "/api/recordings/{id}/stream", tag = "recordings",
    description = "Signed in; agents only their own calls. HTTP Range, `If-Range`, `ETag`, `If-None-Match`. Audited.",
    params(("id" = i64, Path, description = "The recording's id")),
    responses((status = 200, description = "The whole audio, inline", content_type = "audio/*"), (status = 206, description = "The requested range", content_type = "audio/*"), (status = 304, description = "Not modified"), (status = 401, response = crate::openapi::NotSignedIn), (status = 404, response = crate::openapi::NotFound), (status = 416, description = "Range not satisfiable"), (status = 502, description = "Twilio failed to serve media not yet archived", body = ErrorBody))
)]
async fn play(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(app, user, peer, id, headers, Disposition::Inline).await
}

#[utoipa::path(
    get, path = "/api/recordings/{id}/download", tag = "recordings",
    description = "Signed in; agents only their own calls. As `play`, as an attachment with a meaningful file name. Audited.",
    params(("id" = i64, Path, description = "The recording's id")),
    responses((status = 200, description = "The audio as an attachment", content_type = "audio/*"), (status = 206, description = "The requested range", content_type = "audio/*"), (status = 304, description = "Not modified"), (status = 401, response = crate::openapi::NotSignedIn), (status = 404, response = crate::openapi::NotFound), (status = 416, description = "Range not satisfiable"), (status = 502, description = "Twilio failed to serve media not yet archived", body = ErrorBody))
)]
async fn download(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve(app, user, peer, id, headers, Disposition::Attachment).await
}

async fn serve(
    app: AppState,
    user: User,
    peer: SocketAddr,
    id: String,
    headers: HeaderMap,
    disposition: Disposition,
) -> ApiResult<Response> {
    let media = visible(&app, &user, &id).await?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let source = if media.recording.storage_key.is_some() { "storage" } else { "twilio" };
    let action = match disposition {
        Disposition::Inline => "recording.stream",
        Disposition::Attachment => "recording.download",
    };
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let detail = format!(
        "{} range={} source={source}{}",
        media.recording.recording_sid,
        range.unwrap_or("none"),
        forwarded.map(|f| format!(" forwarded-for={f}")).unwrap_or_default()
    );
    app.store
        .append_audit(&NewAuditEntry {
            at: app.clock.now(),
            user_id: Some(user.id),
            username: Some(user.username.clone()),
            action: action.into(),
            target_kind: Some("recording".into()),
            target_id: Some(media.recording.id.to_string()),
            client_addr: Some(peer.ip().to_string()),
            detail: Some(detail),
        })
        .await?;
    let mut response = match &media.recording.storage_key {
        Some(key) => stream::from_storage(&app, &media, &Key::from(key.as_str()), &headers).await?,
        None => stream::from_twilio(&app, &media, &headers).await?,
    };
    let name = stream::file_name(&media, response.headers());
    let value = match disposition {
        Disposition::Inline => format!("inline; filename=\"{name}\""),
        Disposition::Attachment => format!("attachment; filename=\"{name}\""),
    };
    if let Ok(value) = HeaderValue::try_from(value) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Waveform peaks (see `omnivox_media::Peaks`), cached after the first
/// decode; the archive job computes them when it verifies the media.
#[utoipa::path(
    get, path = "/api/recordings/{id}/peaks", tag = "recordings",
    description = "Signed in; agents only their own calls.",
    params(("id" = i64, Path, description = "The recording's id")),
    responses((status = 200, description = "Waveform peaks per channel (0 to 1, at most 1000 per channel)", body = serde_json::Value), (status = 401, response = crate::openapi::NotSignedIn), (status = 404, response = crate::openapi::NotFound), (status = 409, description = "The media is not archived yet", body = ErrorBody))
)]
async fn peaks(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let media = visible(&app, &user, &id).await?;
    let id = media.recording.id;
    let json = match app.store.recording_peaks(id).await? {
        Some(json) => json,
        None => {
            let Some(key) = media.recording.storage_key.as_deref() else {
                return Err(ApiError::Conflict("the recording's media is not archived yet; its peaks follow".into()));
            };
            let key = Key::from(key);
            let (_, copy) = app.storage.read_back(&key).await.map_err(|e| ApiError::Internal(e.into()))?;
            let extension = key.extension().unwrap_or("wav").to_owned();
            let peaks = tokio::task::spawn_blocking(move || omnivox_media::decode_peaks(copy.path(), &extension))
                .await
                .map_err(|e| ApiError::Internal(e.into()))?
                .map_err(|e| ApiError::Internal(e.into()))?;
            let json = serde_json::to_string(&peaks).map_err(|e| ApiError::Internal(e.into()))?;
            app.store.save_recording_peaks(id, &json, app.clock.now()).await?;
            json
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "private, max-age=3600")], json)
        .into_response())
}
