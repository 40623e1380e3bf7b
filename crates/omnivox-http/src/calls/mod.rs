//! Call records as the API shows them. Agents reach only the calls they
//! handled; any other answers 404, so an agent cannot even learn that a
//! call exists.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use omnivox_core::store::{CallRecordView, User};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/call-records/{id}", get(call_record))
}

pub fn may_see(user: &User, call: &CallRecordView) -> bool {
    user.role.sees_all_calls() || call.agent_id == Some(user.id)
}

async fn call_record(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CallRecordView>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let call = app.store.call_record(id).await?.filter(|c| may_see(&user, c)).ok_or(ApiError::NotFound)?;
    Ok(Json(call))
}
