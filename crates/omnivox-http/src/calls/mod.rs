//! Call records as the API shows them: the Call Records list (`list`) and
//! one call with its recordings and timeline. Agents reach only the calls
//! they handled; any other answers 404 (or is simply not listed), so an
//! agent cannot even learn that a call exists.

pub(crate) mod list;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use omnivox_core::store::{CallEventView, CallRecordView, User};
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use list::{CallListParams, CallListResponse, Cursor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/call-records", get(list::list_call_records))
        .route("/api/call-records/{id}", get(call_record))
}

pub fn may_see(user: &User, call: &CallRecordView) -> bool {
    user.role.sees_all_calls() || call.agent_id == Some(user.id)
}

/// One call: its fields and recordings, and its timeline.
#[derive(Serialize, utoipa::ToSchema)]
struct CallRecordDetail {
    #[serde(flatten)]
    call: CallRecordView,
    /// Every callback and enrichment, in the order received.
    events: Vec<CallEventView>,
}

#[utoipa::path(
    get, path = "/api/call-records/{id}", tag = "call-records",
    description = "Signed in; an agent only reaches the calls it handled (any other is 404).",
    params(("id" = i64, Path, description = "The call record's id")),
    responses((status = 200, description = "The call with its recordings and timeline", body = CallRecordDetail), (status = 401, response = crate::openapi::NotSignedIn), (status = 404, response = crate::openapi::NotFound))
)]
async fn call_record(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CallRecordDetail>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let call = app.store.call_record(id).await?.filter(|c| may_see(&user, c)).ok_or(ApiError::NotFound)?;
    let events = app.store.call_events(id).await?;
    Ok(Json(CallRecordDetail { call, events }))
}
