//! `…/Recordings.json` (list), `…/Recordings/{Sid}.json` (fetch, delete) and the media of a
//! recording at `…/Recordings/{Sid}` with `.wav`, `.mp3` or no extension (WAV, as Twilio).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SubsecRound as _, Utc};

use super::check_account;
use super::error::TwilioError;
use super::listing::{ListQuery, PageToken};
use crate::media::{self, MediaFormat};
use crate::resources::{RecordingPage, RecordingStatus};
use crate::sid::is_sid;
use crate::state::{lock, RecordingKey, Shared};

pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Path(account): Path<String>,
    RawQuery(raw_query): RawQuery,
    uri: Uri,
) -> Result<Json<RecordingPage>, TwilioError> {
    check_account(&shared, &account, &uri)?;
    let query = ListQuery::parse(raw_query.as_deref())?;
    let page = lock(&shared.store).page(query.start(), query.page_size, |r| query.matches(r));
    let number = query.page;
    let next = match page.items.last() {
        Some(last) if page.more_after => Some(PageToken::After(RecordingKey::of(last))),
        _ => None,
    };
    let previous = match page.items.first() {
        Some(first) if number > 0 => Some(PageToken::Before(RecordingKey::of(first))),
        _ => None,
    };
    let start = number.saturating_mul(query.page_size);
    Ok(Json(RecordingPage {
        end: start.saturating_add(page.items.len()).saturating_sub(1).max(start),
        first_page_uri: query.page_uri(&account, 0, None),
        next_page_uri: next.map(|t| query.page_uri(&account, number.saturating_add(1), Some(&t))),
        page: number,
        page_size: query.page_size,
        previous_page_uri: previous.map(|t| query.page_uri(&account, number.saturating_sub(1), Some(&t))),
        recordings: page.items,
        start,
        uri: query.page_uri(&account, number, query.token.as_ref()),
    }))
}

/// What `…/Recordings/{file}` names: metadata or one of the media formats.
enum Representation {
    Json,
    Media(MediaFormat),
}

/// Splits `RE….json` into the SID and what is asked for; `None` for anything else.
fn parse_file(file: &str) -> Option<(&str, Representation)> {
    let (sid, representation) = match file.split_once('.') {
        None => (file, Representation::Media(MediaFormat::Wav)),
        Some((sid, "json")) => (sid, Representation::Json),
        Some((sid, "wav")) => (sid, Representation::Media(MediaFormat::Wav)),
        Some((sid, "mp3")) => (sid, Representation::Media(MediaFormat::Mp3)),
        Some(_) => return None,
    };
    is_sid(sid, "RE").then_some((sid, representation))
}

fn include_soft_deleted(raw_query: Option<&str>) -> bool {
    url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
        .any(|(name, value)| name == "IncludeSoftDeleted" && value.eq_ignore_ascii_case("true"))
}

pub(crate) async fn fetch(
    State(shared): State<Arc<Shared>>,
    Path((account, file)): Path<(String, String)>,
    RawQuery(raw_query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TwilioError> {
    check_account(&shared, &account, &uri)?;
    let not_found = || TwilioError::not_found(uri.path());
    let (sid, representation) = parse_file(&file).ok_or_else(not_found)?;
    let recording = lock(&shared.store).recording(sid).cloned().ok_or_else(not_found)?;
    match representation {
        Representation::Json => {
            if recording.is_deleted() && !include_soft_deleted(raw_query.as_deref()) {
                return Err(not_found());
            }
            Ok(Json(recording).into_response())
        }
        Representation::Media(format) => {
            // Deleted, absent or failed recordings have no media, nor does one a test broke.
            if recording.is_deleted() || recording.media_missing {
                return Err(not_found());
            }
            let pace = lock(&shared.faults).faults.media_bytes_per_sec;
            Ok(media::respond(format, &recording, headers.get(header::RANGE), pace))
        }
    }
}

/// Marks the recording deleted (kept, listed only with `IncludeSoftDeleted`) and answers 204.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((account, file)): Path<(String, String)>,
    uri: Uri,
) -> Result<StatusCode, TwilioError> {
    check_account(&shared, &account, &uri)?;
    let not_found = || TwilioError::not_found(uri.path());
    // `RE….json`, or the bare SID; deleting `.wav`/`.mp3` is not a Twilio operation.
    let sid = match parse_file(&file) {
        Some((sid, _)) if file.ends_with(".json") || !file.contains('.') => sid,
        _ => return Err(not_found()),
    };
    let mut store = lock(&shared.store);
    let recording = store.recording_mut(sid).filter(|r| !r.is_deleted()).ok_or_else(not_found)?;
    recording.status = RecordingStatus::Deleted;
    recording.date_updated = Utc::now().trunc_subsecs(0);
    Ok(StatusCode::NO_CONTENT)
}
