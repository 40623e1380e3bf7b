//! What the Call Records filters offer: the campaigns (anyone signed in)
//! and the users whose calls can be picked (supervisors and admins; an
//! agent only ever sees their own calls, so has no one to pick).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use omnivox_core::store::{CampaignView, User};
use serde::Serialize;

use crate::auth::{Authorized, CurrentUser, SupervisorRole};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/campaigns", get(campaigns)).route("/api/users", get(users))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Items<T> {
    items: Vec<T>,
}

#[utoipa::path(
    get, path = "/api/campaigns", tag = "directory",
    description = "Signed in (any role).",
    responses((status = 200, description = "Every campaign", body = Items<CampaignView>), (status = 401, response = crate::openapi::NotSignedIn))
)]
async fn campaigns(State(app): State<AppState>, _: CurrentUser) -> ApiResult<Json<Items<CampaignView>>> {
    Ok(Json(Items { items: app.store.list_campaigns().await? }))
}

#[utoipa::path(
    get, path = "/api/users", tag = "directory",
    description = "Role: supervisor or admin.",
    responses((status = 200, description = "Every user", body = Items<User>), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn users(State(app): State<AppState>, _: Authorized<SupervisorRole>) -> ApiResult<Json<Items<User>>> {
    Ok(Json(Items { items: app.store.list_users().await? }))
}
