//! `/healthz` (the process is up), `/readyz` (and its database answers) and
//! `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ready", "database": app.store.backend().as_str() }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            Err(ApiError::Unavailable)
        }
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    // Counted in the database, so every instance reports the same number.
    match app.store.sync_gaps(0).await {
        Ok((total, _)) => metrics::gauge!("omnivox_sync_gaps").set(total as f64),
        Err(e) => tracing::warn!(error = %e, "cannot count sync gaps for /metrics"),
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render())
}
