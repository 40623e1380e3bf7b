use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreResult;
use crate::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A PHC-format password hash. Never printed: `Debug` is redacted so a
/// stray `?user` in a log line cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn new(phc: String) -> Self {
        Self(phc)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub password_hash: PasswordHash,
}

#[async_trait]
pub trait UserStore {
    /// `StoreError::Conflict` when the user name is taken.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> StoreResult<User>;
    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn find_user_by_name(&self, username: &str) -> StoreResult<Option<User>>;
    /// The user and its password hash, for login only.
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, PasswordHash)>>;
    async fn set_password(&self, id: UserId, hash: &PasswordHash) -> StoreResult<()>;
    /// Every user, by user name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn count_users_with_role(&self, role: Role) -> StoreResult<i64>;
}

/// Sessions are stored by the SHA-256 of their token, never the token.
#[async_trait]
pub trait SessionStore {
    async fn create_session(
        &self,
        token_sha256: &str,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user owning an unexpired session.
    async fn session_user(&self, token_sha256: &str, now: DateTime<Utc>) -> StoreResult<Option<User>>;
    /// Returns whether a session was deleted.
    async fn delete_session(&self, token_sha256: &str) -> StoreResult<bool>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
