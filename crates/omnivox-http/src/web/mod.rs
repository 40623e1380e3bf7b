//! The Call Records web page: `/login`, `/call-records` and
//! `/call-records/{id}`. The server renders only the frame of each page
//! (who is signed in, the CSRF token, where the scripts are); the scripts
//! fill it from the same JSON API every other client uses. A page asked for
//! without a session redirects to `/login`, which comes back afterwards.

mod assets;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use axum_extra::extract::CookieJar;
use omnivox_core::store::User;
use serde::Deserialize;

use crate::auth::csrf::csrf_token;
use crate::auth::session::{token_sha256, SESSION_COOKIE};
use crate::calls::may_see;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/call-records") }))
        .route("/login", get(login))
        .route("/call-records", get(call_records))
        .route("/call-records/{id}", get(call_record))
        .route("/assets/{name}", get(assets::serve))
}

/// Who the page is for, as its frame shows it.
struct Viewer {
    id: i64,
    name: String,
    role: String,
    csrf: String,
}

impl Viewer {
    fn new(user: &User, session_token: &str) -> Self {
        Self {
            id: user.id.0,
            name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
            role: user.role.to_string(),
            csrf: csrf_token(session_token),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
}

#[derive(Template)]
#[template(path = "call_records.html")]
struct CallRecordsPage {
    viewer: Viewer,
}

#[derive(Template)]
#[template(path = "call_record.html")]
struct CallRecordPage {
    viewer: Viewer,
    call_record_id: i64,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    viewer: Viewer,
}

fn render(page: &impl Template) -> ApiResult<Html<String>> {
    page.render().map(Html).map_err(|e| ApiError::Internal(e.into()))
}

/// The signed-in user and their session token, from the cookie (pages are
/// opened by browsers, which carry no bearer token).
async fn viewer(app: &AppState, headers: &HeaderMap) -> ApiResult<Option<(User, String)>> {
    let Some(token) = CookieJar::from_headers(headers).get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let user = app.store.session_user(&token_sha256(&token), app.clock.now()).await?;
    Ok(user.map(|u| (u, token)))
}

/// Where to go after signing in: a path on this site, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/call-records".to_owned(),
    }
}

fn to_login(uri: &Uri) -> Response {
    let here = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/call-records");
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login(State(app): State<AppState>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> ApiResult<Response> {
    let next = safe_next(q.next.as_deref());
    if viewer(&app, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(render(&LoginPage { next })?.into_response())
}

async fn call_records(State(app): State<AppState>, headers: HeaderMap, uri: Uri) -> ApiResult<Response> {
    let Some((user, token)) = viewer(&app, &headers).await? else {
        return Ok(to_login(&uri));
    };
    Ok(render(&CallRecordsPage { viewer: Viewer::new(&user, &token) })?.into_response())
}

async fn call_record(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let Some((user, token)) = viewer(&app, &headers).await? else {
        return Ok(to_login(&uri));
    };
    let viewer = Viewer::new(&user, &token);
    // The same answer for a call that does not exist and one the viewer may not see.
    let call = match id.parse::<i64>() {
        Ok(id) => app.store.call_record(id).await?.filter(|c| may_see(&user, c)),
        Err(_) => None,
    };
    match call {
        Some(call) => Ok(render(&CallRecordPage { viewer, call_record_id: call.id })?.into_response()),
        None => Ok((StatusCode::NOT_FOUND, render(&NotFoundPage { viewer })?).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/call-records?phone=415")), "/call-records?phone=415");
        assert_eq!(safe_next(Some("//evil.example/x")), "/call-records");
        assert_eq!(safe_next(Some("https://evil.example")), "/call-records");
        assert_eq!(safe_next(Some("/\\evil.example")), "/call-records");
        assert_eq!(safe_next(None), "/call-records");
    }
}
