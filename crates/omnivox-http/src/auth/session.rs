//! Sessions: a random token given to the client (as an HttpOnly cookie and
//! in the login answer, for `Authorization: Bearer`), stored only as its
//! SHA-256, so a copy of the database holds no usable token.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use base64::Engine;
use omnivox_core::store::User;
use omnivox_core::{Clock, Role, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "omnivox_session";

/// A new session token: 256 random bits, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token a request carries: a Bearer header wins over the cookie.
pub fn request_token(parts: &Parts) -> Option<String> {
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    bearer.or_else(|| CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE).map(|c| c.value().to_owned()))
}

/// The signed-in user; 401 when there is no valid session.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        let app = AppState::from_ref(state);
        let token = request_token(parts).ok_or(ApiError::Unauthorized)?;
        let user = lookup(&app.store, &app.clock, &token).await?.ok_or(ApiError::Unauthorized)?;
        let current = CurrentUser(user);
        parts.extensions.insert(current.clone());
        Ok(current)
    }
}

async fn lookup(store: &Arc<dyn Store>, clock: &Arc<dyn Clock>, token: &str) -> Result<Option<User>, ApiError> {
    Ok(store.session_user(&token_sha256(token), clock.now()).await?)
}

/// The least role a route requires.
pub trait MinRole: Send + Sync + 'static {
    const ROLE: Role;
}

pub struct AdminRole;
impl MinRole for AdminRole {
    const ROLE: Role = Role::Admin;
}

pub struct SupervisorRole;
impl MinRole for SupervisorRole {
    const ROLE: Role = Role::Supervisor;
}

/// A signed-in user with at least role `R`: 401 when not signed in, 403
/// when the role is too low.
pub struct Authorized<R: MinRole>(pub User, PhantomData<R>);

pub type Admin = Authorized<AdminRole>;

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    R: MinRole,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role < R::ROLE {
            return Err(ApiError::Forbidden);
        }
        Ok(Authorized(user, PhantomData))
    }
}
