//! `DELETE /api/admin/call-records` (and `omnivox purge call-records`):
//! every call record, its recordings and their media, gone at once — a
//! demo's calls, a test account's. Campaigns, users, contacts, data lists,
//! import history and the audit log stay. The database rows go in one
//! transaction first; the media files after, so a crash in between leaves
//! orphaned files, never a record whose media is missing.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::routing::delete;
use axum::{Json, Router};
use futures::stream::{self, StreamExt};
use omnivox_core::store::NewAuditEntry;
use omnivox_core::{Store, StoreError};
use omnivox_media::{Key, MediaStorage};
use serde::{Deserialize, Serialize};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json as JsonBody;
use crate::state::AppState;

/// What the request must say, word for word.
pub const CONFIRMATION: &str = "DELETE ALL CALL RECORDS";

/// The follow-up jobs of calls, purged with them so that none brings a
/// call back (`enrich-call` would) or fails on a missing recording.
pub const CALL_JOB_KINDS: &[&str] = &["archive-media", "enrich-call", "delete-twilio-recording"];

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/call-records", delete(purge))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    pub deleted_call_records: u64,
    pub deleted_recordings: u64,
    pub deleted_media_files: u64,
    /// Media files that could not be deleted (logged with the reason).
    pub media_errors: u64,
}

/// Purges the database, then deletes the media it pointed at.
pub async fn purge_call_records(store: &dyn Store, storage: &MediaStorage) -> Result<PurgeReport, StoreError> {
    let purged = store.purge_call_records(CALL_JOB_KINDS).await?;
    let results: Vec<bool> = stream::iter(purged.storage_keys)
        .map(|key| async move {
            match storage.delete(&Key::from(key.as_str())).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%key, error = %e, "cannot delete the media of a purged recording");
                    false
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let deleted = results.iter().filter(|ok| **ok).count() as u64;
    Ok(PurgeReport {
        deleted_call_records: purged.call_records,
        deleted_recordings: purged.recordings,
        deleted_media_files: deleted,
        media_errors: results.len() as u64 - deleted,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
struct PurgeRequest {
    confirm: Option<String>,
}

#[utoipa::path(
    delete, path = "/api/admin/call-records", tag = "admin",
    description = "Role: admin. Deletes every call record, recording and media file; keeps campaigns, users, contacts, data lists, imports and the audit log. Audited.",
    request_body = PurgeRequest,
    responses((status = 200, description = "What was deleted", body = PurgeReport), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn purge(
    State(app): State<AppState>,
    Admin { 0: admin, .. }: Admin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<PurgeRequest>,
) -> ApiResult<Json<PurgeReport>> {
    if body.confirm.as_deref() != Some(CONFIRMATION) {
        return Err(ApiError::BadRequest(format!("confirm: must be exactly \"{CONFIRMATION}\"")));
    }
    let report = purge_call_records(app.store.as_ref(), &app.storage).await?;
    app.store
        .append_audit(&NewAuditEntry {
            at: app.clock.now(),
            user_id: Some(admin.id),
            username: Some(admin.username.clone()),
            action: "call-records.purge".into(),
            target_kind: Some("call-records".into()),
            target_id: None,
            client_addr: Some(peer.ip().to_string()),
            detail: Some(format!(
                "{} call records, {} recordings, {} media files deleted, {} media errors",
                report.deleted_call_records, report.deleted_recordings, report.deleted_media_files, report.media_errors
            )),
        })
        .await?;
    tracing::warn!(user_id = admin.id.0, ?report, "every call record purged");
    Ok(Json(report))
}
