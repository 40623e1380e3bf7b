//! Row shapes shared by both backends, and their conversion to domain types.
//! Times are stored as Unix milliseconds.

use chrono::{DateTime, Utc};
use omnivox_core::store::{AuditEntry, JobId, JobRow, JobState, User, UserId};
use omnivox_core::{Role, StoreError};
use sqlx::types::Json;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(r.id),
            username: r.username,
            display_name: r.display_name,
            role: r
                .role
                .parse::<Role>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: from_ms(r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialsRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: r.id,
            at: from_ms(r.at)?,
            user_id: r.user_id.map(UserId),
            username: r.username,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            client_addr: r.client_addr,
            detail: r.detail,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClaimedRow {
    pub id: i64,
    pub kind: String,
    pub payload: Json<serde_json::Value>,
    pub attempts: i64,
    pub max_attempts: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub dedupe_key: Option<String>,
    pub payload: Json<serde_json::Value>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<JobRecord> for JobRow {
    type Error = StoreError;
    fn try_from(r: JobRecord) -> Result<Self, StoreError> {
        Ok(JobRow {
            id: JobId(r.id),
            kind: r.kind,
            state: JobState::parse(&r.state)
                .ok_or_else(|| StoreError::Corrupt(format!("job state {:?}", r.state)))?,
            dedupe_key: r.dedupe_key,
            payload: r.payload.0,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: from_ms(r.run_at)?,
            last_error: r.last_error,
            created_at: from_ms(r.created_at)?,
            updated_at: from_ms(r.updated_at)?,
        })
    }
}
