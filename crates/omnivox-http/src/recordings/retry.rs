//! `POST /api/recordings/{id}/retry` (admins): another try at archiving a
//! recording whose sync failed. The `archive-media` job is queued first
//! (deduplicated, so a double click queues one), then the recording goes
//! back to `pending`; the job handles `failed` and `pending` alike, so a
//! worker that picks the job up in between does the same work.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use omnivox_core::events::{Event, EventKind};
use omnivox_core::store::{MediaUpdate, NewAuditEntry};
use omnivox_core::RecordingSid;

use super::visible;
use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[utoipa::path(
    post, path = "/api/recordings/{id}/retry", tag = "recordings",
    description = "Role: admin. Audited.",
    params(("id" = i64, Path, description = "The recording's id")),
    responses((status = 202, description = "Archiving queued again"), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, response = crate::openapi::NotFound), (status = 409, description = "The recording's sync has not failed", body = ErrorBody))
)]
pub(super) async fn retry_sync(
    State(app): State<AppState>,
    Admin { 0: admin, .. }: Admin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let media = visible(&app, &admin, &id).await?;
    let recording = &media.recording;
    if recording.sync_status != "failed" {
        return Err(ApiError::Conflict(format!(
            "only a recording whose sync failed can be retried; this one is {}",
            recording.sync_status
        )));
    }
    let sid: RecordingSid =
        recording.recording_sid.parse().map_err(|e| ApiError::Internal(anyhow::anyhow!("stored RecordingSid: {e}")))?;
    let now = app.clock.now();
    let job = (app.archive_job)(&sid, now).map_err(|e| ApiError::Internal(e.into()))?;
    app.store.enqueue_job(&job, now).await?;
    app.store.update_recording_media(recording.id, &MediaUpdate::Retry, now).await?;
    app.store
        .append_audit(&NewAuditEntry {
            at: now,
            user_id: Some(admin.id),
            username: Some(admin.username.clone()),
            action: "recording.retry".into(),
            target_kind: Some("recording".into()),
            target_id: Some(recording.id.to_string()),
            client_addr: Some(peer.ip().to_string()),
            detail: Some(format!("{} after: {}", recording.recording_sid, recording.error.as_deref().unwrap_or("?"))),
        })
        .await?;
    app.jobs.notify();
    app.events.publish(Event {
        kind: EventKind::RecordingUpdated,
        call_record_id: recording.call_record_id,
        recording_id: Some(recording.id),
        agent_id: media.agent_id,
    });
    tracing::info!(recording = %sid, user_id = admin.id.0, "archive retried by hand");
    Ok(StatusCode::ACCEPTED)
}
