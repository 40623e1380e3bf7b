//! The HTTP face of Omnivox: the JSON API, health and metrics endpoints, and
//! the Call Records web page (`web`). Handlers are thin: they parse,
//! authorize, call the domain and map the answer.

pub mod admin;
pub mod auth;
pub mod calls;
pub mod directory;
pub mod error;
pub mod events;
pub mod extract;
pub mod health;
pub mod imports;
mod middleware;
pub mod openapi;
pub mod purge;
pub mod recordings;
pub mod retention;
pub mod state;
pub mod web;
pub mod webhooks;

use axum::Router;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, HttpSettings};

/// Every route, with the cross-cutting layers (limits, timeouts, tracing,
/// metrics) applied.
pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let routes = Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(admin::router())
        .merge(calls::router())
        .merge(directory::router())
        .merge(imports::router())
        .merge(purge::router())
        .merge(recordings::router())
        .merge(retention::router())
        .merge(webhooks::router())
        .merge(events::router())
        .merge(openapi::router())
        .merge(web::router())
        .fallback(|| async { ApiError::NotFound });
    middleware::apply(routes, &settings).with_state(state)
}
