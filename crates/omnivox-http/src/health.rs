//! `/healthz` (the process is up), `/readyz` (and its database answers) and
//! `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

#[utoipa::path(
    get, path = "/healthz", tag = "operations", security(()),
    description = "Anyone: the process is up.",
    responses((status = 200, description = "Up", body = serde_json::Value, example = json!({"status": "ok"})))
)]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(
    get, path = "/readyz", tag = "operations", security(()),
    description = "Anyone: the database answers.",
    responses((status = 200, description = "Ready", body = serde_json::Value, example = json!({"status": "ready", "database": "sqlite"})), (status = 503, description = "The database does not answer", body = ErrorBody))
)]
async fn readyz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ready", "database": app.store.backend().as_str() }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            Err(ApiError::Unavailable)
        }
    }
}

#[utoipa::path(
    get, path = "/metrics", tag = "operations", security(()),
    description = "Anyone: Prometheus metrics.",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String))
)]
async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    // Counted in the database, so every instance reports the same number.
    match app.store.sync_gaps(0).await {
        Ok((total, _)) => metrics::gauge!("omnivox_sync_gaps").set(total as f64),
        Err(e) => tracing::warn!(error = %e, "cannot count sync gaps for /metrics"),
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render())
}
