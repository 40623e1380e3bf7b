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

#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

async fn campaigns(State(app): State<AppState>, _: CurrentUser) -> ApiResult<Json<Items<CampaignView>>> {
    Ok(Json(Items { items: app.store.list_campaigns().await? }))
}

async fn users(State(app): State<AppState>, _: Authorized<SupervisorRole>) -> ApiResult<Json<Items<User>>> {
    Ok(Json(Items { items: app.store.list_users().await? }))
}
