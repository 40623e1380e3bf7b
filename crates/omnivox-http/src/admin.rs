//! Admin-only views of the machinery: the job queue and its dead letter,
//! and the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnivox_core::store::{AuditEntry, JobId, JobRow, JobState};
use serde::{Deserialize, Serialize};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/jobs", get(list_jobs))
        .route("/api/admin/jobs/{id}/retry", post(retry_job))
        .route("/api/admin/audit", get(list_audit))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The `nextCursor` of the previous page.
    cursor: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AuditPage {
    items: Vec<AuditEntry>,
    next_cursor: Option<i64>,
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/admin/audit", tag = "admin",
    description = "Role: admin.",
    params(AuditQuery),
    responses((status = 200, description = "A page of the audit log", body = AuditPage), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn list_audit(
    State(app): State<AppState>,
    Admin { .. }: Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = app.store.list_audit(q.cursor, limit).await?;
    let next_cursor = if items.len() as i64 == limit { items.last().map(|e| e.id) } else { None };
    Ok(Json(AuditPage { items, next_cursor }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct JobsQuery {
    state: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Items<T> {
    items: Vec<T>,
}

#[utoipa::path(
    get, path = "/api/admin/jobs", tag = "admin",
    description = "Role: admin. `state` defaults to `dead` (the dead letter).",
    params(JobsQuery),
    responses((status = 200, description = "Jobs in that state", body = Items<JobRow>), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn list_jobs(
    State(app): State<AppState>,
    Admin { .. }: Admin,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Items<JobRow>>> {
    let state = match q.state.as_deref() {
        None => JobState::Dead,
        Some(s) => JobState::parse(s)
            .ok_or_else(|| ApiError::BadRequest(format!("state must be queued, running or dead, not {s:?}")))?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(Items { items: app.store.list_jobs(state, limit).await? }))
}

/// Puts a dead job back in the queue with a fresh attempt budget.
#[utoipa::path(
    post, path = "/api/admin/jobs/{id}/retry", tag = "admin",
    description = "Role: admin.",
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 202, description = "Requeued"), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, description = "No such dead job", body = ErrorBody))
)]
async fn retry_job(State(app): State<AppState>, admin: Admin, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    if !app.store.requeue_dead_job(JobId(id), app.clock.now()).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(job_id = id, user_id = admin.0.id.0, "dead job requeued by hand");
    Ok(StatusCode::ACCEPTED)
}
