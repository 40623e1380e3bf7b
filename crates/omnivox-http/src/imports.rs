//! The historical import, for admins: start one, follow its progress and
//! read the fate of every recording; and the sync gaps the reconciliation
//! sweep healed.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use omnivox_core::store::{ImportItemRow, ImportRun, ItemOutcome, NewAuditEntry, ReasonCount, SyncGap};
use omnivox_import::{start_import, StartError, StartImport};
use serde::{Deserialize, Serialize};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json as JsonBody, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/call-records/import-twilio-recordings", post(start))
        .route("/api/imports", get(list))
        .route("/api/imports/{id}", get(one))
        .route("/api/imports/{id}/items", get(items))
        .route("/api/admin/sync-gaps", get(sync_gaps))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartBody {
    date_created_after: Option<String>,
    date_created_before: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct Started {
    import_id: i64,
}

/// Starts an import; 202 with its id, to follow at `GET /api/imports/{id}`.
#[utoipa::path(
    post, path = "/api/call-records/import-twilio-recordings", tag = "imports",
    description = "Role: admin. Dates are `YYYY-MM-DD` or RFC 3339, inclusive.",
    request_body = StartBody,
    responses((status = 202, description = "Started; follow it at the `Location`", body = Started), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 409, description = "A running import's range overlaps", body = ErrorBody), (status = 503, description = "Twilio credentials are not configured", body = ErrorBody))
)]
async fn start(
    State(app): State<AppState>,
    admin: Admin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<StartBody>,
) -> ApiResult<impl IntoResponse> {
    let twilio = app.twilio_client.as_ref().ok_or_else(|| {
        ApiError::NotConfigured(
            "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to import recordings".into(),
        )
    })?;
    let admin = admin.0;
    let request = StartImport {
        date_created_after: body.date_created_after,
        date_created_before: body.date_created_before,
        dry_run: body.dry_run,
        created_by: Some(admin.id),
        fields: ("dateCreatedAfter", "dateCreatedBefore"),
    };
    let now = app.clock.now();
    let run = start_import(app.store.as_ref(), twilio, &request, now).await.map_err(|e| match e {
        StartError::BadRange(e) => ApiError::BadRequest(e.to_string()),
        StartError::Overlaps(_) => ApiError::Conflict(e.to_string()),
        StartError::Store(e) => e.into(),
    })?;
    app.jobs.notify();
    app.store
        .append_audit(&NewAuditEntry {
            at: now,
            user_id: Some(admin.id),
            username: Some(admin.username.clone()),
            action: "import.start".into(),
            target_kind: Some("import".into()),
            target_id: Some(run.id.to_string()),
            client_addr: Some(peer.ip().to_string()),
            detail: Some(format!("{}{}", run.range(), if run.dry_run { " (dry run)" } else { "" })),
        })
        .await?;
    let location = format!("/api/imports/{}", run.id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(Started { import_id: run.id })))
}

/// A run with what its items say: counts by reason, and its errors.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ImportView {
    #[serde(flatten)]
    run: ImportRun,
    /// How many recordings were imported, skipped or failed, for each reason.
    reasons: Vec<ReasonCount>,
    /// The first errors, each with its recording (all at `/items?outcome=error`).
    errors: Vec<ImportItemRow>,
}

const ERRORS_SHOWN: i64 = 100;

#[utoipa::path(
    get, path = "/api/imports/{id}", tag = "imports",
    description = "Role: admin.",
    params(("id" = i64, Path, description = "The import's id")),
    responses((status = 200, description = "The run, its counts by reason and its first errors", body = ImportView), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, response = crate::openapi::NotFound))
)]
async fn one(State(app): State<AppState>, _: Admin, Path(id): Path<String>) -> ApiResult<Json<ImportView>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let run = app.store.import_run(id).await?.ok_or(ApiError::NotFound)?;
    let reasons = app.store.import_reasons(id).await?;
    let errors = app.store.list_import_items(id, Some(ItemOutcome::Error), None, ERRORS_SHOWN).await?;
    Ok(Json(ImportView { run, reasons, errors }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    limit: Option<i64>,
}

/// The latest runs, newest first.
#[utoipa::path(
    get, path = "/api/imports", tag = "imports",
    description = "Role: admin.",
    params(ListQuery),
    responses((status = 200, description = "The latest runs", body = Items<ImportRun>), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn list(State(app): State<AppState>, _: Admin, Query(q): Query<ListQuery>) -> ApiResult<Json<Items<ImportRun>>> {
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(Items { items: app.store.list_import_runs(limit).await? }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ItemsQuery {
    outcome: Option<String>,
    cursor: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ItemPage {
    items: Vec<ImportItemRow>,
    next_cursor: Option<i64>,
}

/// Every recording of a run with its outcome and reason, a page at a time.
#[utoipa::path(
    get, path = "/api/imports/{id}/items", tag = "imports",
    description = "Role: admin.",
    params(("id" = i64, Path, description = "The import's id"), ItemsQuery),
    responses((status = 200, description = "A page of the run's items", body = ItemPage), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden), (status = 404, response = crate::openapi::NotFound))
)]
async fn items(
    State(app): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> ApiResult<Json<ItemPage>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    app.store.import_run(id).await?.ok_or(ApiError::NotFound)?;
    let outcome = q
        .outcome
        .as_deref()
        .map(|o| {
            ItemOutcome::parse(o)
                .ok_or_else(|| ApiError::BadRequest(format!("outcome must be imported, skipped or error, not {o:?}")))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = app.store.list_import_items(id, outcome, q.cursor, limit).await?;
    let next_cursor = if items.len() as i64 == limit { items.last().map(|i| i.id) } else { None };
    Ok(Json(ItemPage { items, next_cursor }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SyncGaps {
    /// Recordings the reconciliation sweep found because their webhook never came.
    total: i64,
    /// The latest of them.
    items: Vec<SyncGap>,
}

#[utoipa::path(
    get, path = "/api/admin/sync-gaps", tag = "admin",
    description = "Role: admin.",
    params(ListQuery),
    responses((status = 200, description = "The count and the latest of them", body = SyncGaps), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn sync_gaps(State(app): State<AppState>, _: Admin, Query(q): Query<ListQuery>) -> ApiResult<Json<SyncGaps>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let (total, items) = app.store.sync_gaps(limit).await?;
    Ok(Json(SyncGaps { total, items }))
}
