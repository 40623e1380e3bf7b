//! `GET /api/call-records`: the Call Records list, newest first, a page at a
//! time (keyset pagination: `nextCursor` is where the next page starts).
//!
//! The query string is parsed here into an `omnivox_core` [`CallListQuery`];
//! anything malformed answers 400 with a message that starts with the
//! parameter's name. An empty parameter (`status=`) counts as absent, so a
//! page can put every filter in its URL whether set or not.

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Days, NaiveDate, Utc};
use omnivox_core::ingest::CallStatus;
use omnivox_core::store::call_list::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_NAME_CHARS, MIN_PHONE_DIGITS};
use omnivox_core::store::{CallListPosition, CallListQuery, CallRecordView, PhoneDigits, TextSearch, User, UserId};
use omnivox_core::CallSid;
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;

/// The query string, as sent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CallListParams {
    /// A campaign code, such as `LIVE-CALLS`.
    pub campaign_id: Option<String>,
    /// A user id; an agent's own calls only, whatever it asks.
    pub agent_id: Option<String>,
    /// queued, initiated, ringing, in-progress, completed, busy, no-answer, canceled or failed.
    pub status: Option<String>,
    /// inbound, outbound-api, outbound-dial, trunking-originating or trunking-terminating.
    pub direction: Option<String>,
    /// At least 3 digits of the contact's number (spaces and + - ( ) . ignored).
    pub phone: Option<String>,
    /// Calls from this instant: RFC 3339, or a date (its first millisecond, UTC).
    pub from: Option<String>,
    /// Calls until this instant: RFC 3339, or a date (its last millisecond, UTC).
    pub to: Option<String>,
    /// true or false.
    pub has_recording: Option<String>,
    /// Phone digits, a CallSid prefix or part of a contact's name.
    pub q: Option<String>,
    /// Exactly this CallSid.
    pub call_sid: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<String>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallListResponse {
    pub items: Vec<CallRecordView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// The opaque `cursor`: the sort time and id of the last row of a page,
/// as 16 big-endian bytes in URL-safe base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub CallListPosition);

impl Cursor {
    pub fn encode(&self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.0.sort_at_ms.to_be_bytes());
        bytes[8..].copy_from_slice(&self.0.id.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes: [u8; 16] = URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()?;
        let (at, id) = bytes.split_at(8);
        Some(Self(CallListPosition {
            sort_at_ms: i64::from_be_bytes(at.try_into().ok()?),
            id: i64::from_be_bytes(id.try_into().ok()?),
        }))
    }
}

const DIRECTIONS: &[&str] =
    &["inbound", "outbound-api", "outbound-dial", "trunking-originating", "trunking-terminating"];

fn bad(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("{field}: {why}"))
}

/// The value, unless absent or blank.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// An RFC 3339 date-time, or a date (`YYYY-MM-DD`, a UTC day): its first
/// millisecond, or with `end_of_day` its last.
fn instant(field: &str, value: &str, end_of_day: bool) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let why = "must be an RFC 3339 date-time (2026-11-21T09:30:00Z) or a date (2026-11-21)";
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad(field, why))?;
    let start = if end_of_day { day.checked_add_days(Days::new(1)) } else { Some(day) };
    let start = start.and_then(|d| d.and_hms_opt(0, 0, 0)).ok_or_else(|| bad(field, why))?.and_utc();
    Ok(if end_of_day { start - chrono::Duration::milliseconds(1) } else { start })
}

impl CallListParams {
    /// The query this user may run: an agent's is narrowed to its own calls.
    /// `None` when an agent asks for another agent's calls (there are none
    /// for it to see).
    pub fn into_query(self, user: &User) -> ApiResult<Option<CallListQuery>> {
        let mut q = CallListQuery::default();
        if let Some(v) = given(&self.campaign_id) {
            if v.len() > 64 {
                return Err(bad("campaignId", "is a campaign code of at most 64 characters"));
            }
            q.campaign = Some(v.to_owned());
        }
        if let Some(v) = given(&self.agent_id) {
            let id = v.parse::<i64>().ok().filter(|id| *id > 0);
            q.agent = Some(UserId(id.ok_or_else(|| bad("agentId", "must be a user id (a positive integer)"))?));
        }
        if let Some(v) = given(&self.status) {
            // Statuses by their own names only (not Twilio's alias `answered`).
            let status = CallStatus::parse(v).filter(|s| s.as_str() == v).ok_or_else(|| {
                bad("status", "must be one of queued, initiated, ringing, in-progress, completed, busy, no-answer, canceled, failed")
            })?;
            q.status = Some(status.as_str().to_owned());
        }
        if let Some(v) = given(&self.direction) {
            if !DIRECTIONS.contains(&v) {
                return Err(bad("direction", format_args!("must be one of {}", DIRECTIONS.join(", "))));
            }
            q.direction = Some(v.to_owned());
        }
        if let Some(v) = given(&self.phone) {
            let why =
                format_args!("must hold at least {MIN_PHONE_DIGITS} digits, and only digits, spaces and + - ( ) .");
            q.phone = Some(PhoneDigits::parse(v).ok_or_else(|| bad("phone", why))?);
        }
        if let Some(v) = given(&self.from) {
            q.from = Some(instant("from", v, false)?);
        }
        if let Some(v) = given(&self.to) {
            q.to = Some(instant("to", v, true)?);
        }
        if let (Some(from), Some(to)) = (q.from, q.to) {
            if to < from {
                return Err(bad("to", "is before from"));
            }
        }
        if let Some(v) = given(&self.has_recording) {
            q.has_recording = Some(match v {
                "true" => true,
                "false" => false,
                _ => return Err(bad("hasRecording", "must be true or false")),
            });
        }
        if let Some(v) = given(&self.q) {
            let why = format_args!(
                "must be at least {MIN_PHONE_DIGITS} digits of a phone number, a CallSid prefix (CA and 4 or more hex \
                 digits) or at least {MIN_NAME_CHARS} characters of a contact's name"
            );
            q.text = Some(TextSearch::parse(v).ok_or_else(|| bad("q", why))?);
        }
        if let Some(v) = given(&self.call_sid) {
            q.call_sid = Some(CallSid::parse(v).map_err(|e| bad("callSid", e))?);
        }
        if let Some(v) = given(&self.limit) {
            let limit = v.parse::<u32>().ok().filter(|n| (1..=MAX_PAGE_SIZE).contains(n));
            q.limit =
                limit.ok_or_else(|| bad("limit", format_args!("must be an integer from 1 to {MAX_PAGE_SIZE}")))?;
        } else {
            q.limit = DEFAULT_PAGE_SIZE;
        }
        if let Some(v) = given(&self.cursor) {
            let cursor = Cursor::decode(v).ok_or_else(|| bad("cursor", "is not a nextCursor this API gave"))?;
            q.after = Some(cursor.0);
        }
        if !user.role.sees_all_calls() {
            if q.agent.is_some_and(|a| a != user.id) {
                return Ok(None);
            }
            q.agent = Some(user.id);
        }
        Ok(Some(q))
    }
}

#[utoipa::path(
    get, path = "/api/call-records", tag = "call-records",
    description = "Signed in; an agent sees only the calls it handled. Newest first, keyset-paginated: pass `nextCursor` back as `cursor`.",
    params(CallListParams),
    responses((status = 200, description = "One page", body = CallListResponse), (status = 400, response = crate::openapi::BadRequest), (status = 401, response = crate::openapi::NotSignedIn))
)]
pub(super) async fn list_call_records(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(params): Query<CallListParams>,
) -> ApiResult<Json<CallListResponse>> {
    let Some(query) = params.into_query(&user)? else {
        return Ok(Json(CallListResponse { items: vec![], next_cursor: None }));
    };
    let page = app.store.list_call_records(&query).await?;
    Ok(Json(CallListResponse { items: page.items, next_cursor: page.next.map(|p| Cursor(p).encode()) }))
}

#[cfg(test)]
mod tests;
