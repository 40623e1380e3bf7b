//! `GET …/Calls/{CallSid}.json`: the call leg resource the `enrich-call` job reads.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::Json;

use super::check_account;
use super::error::TwilioError;
use crate::resources::CallResource;
use crate::sid::is_sid;
use crate::state::{lock, Shared};

pub(crate) async fn fetch(
    State(shared): State<Arc<Shared>>,
    Path((account, file)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<CallResource>, TwilioError> {
    check_account(&shared, &account, &uri)?;
    let not_found = || TwilioError::not_found(uri.path());
    let sid = file.strip_suffix(".json").filter(|sid| is_sid(sid, "CA")).ok_or_else(not_found)?;
    let call = lock(&shared.store).call(sid).cloned().ok_or_else(not_found)?;
    Ok(Json(call))
}
