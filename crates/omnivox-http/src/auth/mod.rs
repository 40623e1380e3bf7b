//! Sign-in, sessions and roles: `POST /api/auth/login`,
//! `POST /api/auth/logout`, `GET /api/me`, and the extractors that guard
//! every other route.

pub mod csrf;
pub mod password;
pub mod rate_limit;
pub mod session;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::extract::Json as JsonBody;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use omnivox_core::store::User;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use session::{new_token, token_sha256, SESSION_COOKIE};
pub use session::{Admin, Authorized, CurrentUser, MinRole, SupervisorRole};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginRequest {
    username: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginResponse {
    token: String,
    user: User,
}

#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", security(()),
    description = "Anyone; rate-limited per user name and per address. Sets the HttpOnly `omnivox_session` cookie too.",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse), (status = 400, response = crate::openapi::BadRequest), (status = 401, description = "Wrong user name or password (which one is not said)", body = ErrorBody), (status = 429, description = "Too many attempts; see `Retry-After`", body = ErrorBody))
)]
async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<(CookieJar, Json<LoginResponse>)> {
    let username = body.username.trim();
    if username.is_empty() || username.len() > 64 {
        return Err(ApiError::BadRequest("username must be 1 to 64 characters".into()));
    }
    app.login_limiter
        .check(username, peer.ip())
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;

    let found = app.store.user_credentials(username).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    // Same answer, and the same work, whether the name or the password was wrong.
    let valid = password::verify_password(body.password, hash).await;
    let user = match (valid, user) {
        (true, Some(user)) => user,
        _ => {
            tracing::info!(%username, client = %peer.ip(), "login refused");
            return Err(ApiError::BadCredentials);
        }
    };

    let token = new_token();
    let now = app.clock.now();
    let ttl = chrono::Duration::from_std(app.settings.session_ttl).unwrap_or(chrono::Duration::hours(12));
    app.store.create_session(&token_sha256(&token), user.id, now, now + ttl).await?;
    tracing::info!(user_id = user.id.0, role = %user.role, "signed in");

    let cookie = Cookie::build((SESSION_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(app.settings.secure_cookies)
        .path("/")
        .build();
    Ok((jar.add(cookie), Json(LoginResponse { token, user })))
}

#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    description = "Signed in (any role). Ends the session and clears the cookie.",
    responses((status = 204, description = "Signed out"), (status = 401, response = crate::openapi::NotSignedIn), (status = 403, response = crate::openapi::Forbidden))
)]
async fn logout(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    parts: axum::http::request::Parts,
) -> ApiResult<(CookieJar, StatusCode)> {
    if let Some(token) = session::request_token(&parts) {
        app.store.delete_session(&token_sha256(&token)).await?;
    }
    tracing::info!(user_id = user.id.0, "signed out");
    // Always tell the browser to drop the cookie, whichever way the token came.
    let mut removal = Cookie::build((SESSION_COOKIE, "")).path("/").http_only(true).same_site(SameSite::Strict).build();
    removal.make_removal();
    Ok((CookieJar::new().add(removal), StatusCode::NO_CONTENT))
}

#[utoipa::path(
    get, path = "/api/me", tag = "auth",
    description = "Signed in (any role).",
    responses((status = 200, description = "The signed-in user", body = User), (status = 401, response = crate::openapi::NotSignedIn))
)]
async fn me(CurrentUser(user): CurrentUser) -> Json<User> {
    Json(user)
}
