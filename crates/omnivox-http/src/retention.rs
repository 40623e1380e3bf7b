//! Keeping and removing media on purpose: retention days per campaign
//! (admins) and a legal hold per call (supervisors and admins). Both are
//! audited; the daily retention job deletes expired media not on hold.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::Router;
use omnivox_core::store::{NewAuditEntry, User};
use serde::Deserialize;

use crate::auth::{Admin, Authorized, SupervisorRole};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/campaigns/{code}/retention", put(set_retention))
        .route("/api/call-records/{id}/legal-hold", put(set_legal_hold))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Retention {
    /// Days media is kept after the call; `null` keeps it forever.
    retention_days: Option<i64>,
}

#[utoipa::path(
    put, path = "/api/admin/campaigns/{code}/retention", tag = "admin",
    description = "Role: admin. Audited.",
    params(("code" = String, Path, description = "The campaign's code, e.g. `LIVE-CALLS`")),
    request_body = Retention,
    responses((status = 204, description = "Set"), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, response = crate::openapi::NotFound))
)]
async fn set_retention(
    State(app): State<AppState>,
    admin: Admin,
    Path(code): Path<String>,
    Json(body): Json<Retention>,
) -> ApiResult<StatusCode> {
    if let Some(days) = body.retention_days.filter(|d| !(1..=36_500).contains(d)) {
        return Err(ApiError::BadRequest(format!("retentionDays must be 1 to 36500 or null, not {days}")));
    }
    if !app.store.set_campaign_retention(&code, body.retention_days).await? {
        return Err(ApiError::NotFound);
    }
    let detail = match body.retention_days {
        Some(days) => format!("{days} days"),
        None => "kept forever".to_owned(),
    };
    audit(&app, &admin.0, "campaign.retention", "campaign", &code, detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LegalHold {
    legal_hold: bool,
}

#[utoipa::path(
    put, path = "/api/call-records/{id}/legal-hold", tag = "call-records",
    description = "Role: supervisor or admin. Audited.",
    params(("id" = i64, Path, description = "The call record's id")),
    request_body = LegalHold,
    responses((status = 204, description = "Set"), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, response = crate::openapi::NotFound))
)]
async fn set_legal_hold(
    State(app): State<AppState>,
    supervisor: Authorized<SupervisorRole>,
    Path(id): Path<String>,
    Json(body): Json<LegalHold>,
) -> ApiResult<StatusCode> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    if !app.store.set_legal_hold(id, body.legal_hold, app.clock.now()).await? {
        return Err(ApiError::NotFound);
    }
    let detail = if body.legal_hold { "hold set" } else { "hold released" };
    audit(&app, &supervisor.0, "call.legal_hold", "call_record", &id.to_string(), detail.to_owned()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit(app: &AppState, user: &User, action: &str, kind: &str, target: &str, detail: String) -> ApiResult<()> {
    app.store
        .append_audit(&NewAuditEntry {
            at: app.clock.now(),
            user_id: Some(user.id),
            username: Some(user.username.clone()),
            action: action.to_owned(),
            target_kind: Some(kind.to_owned()),
            target_id: Some(target.to_owned()),
            client_addr: None,
            detail: Some(detail),
        })
        .await?;
    Ok(())
}
