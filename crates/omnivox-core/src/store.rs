//! Storage traits, one per concern. Every backend implements all of them
//! and is reached as `Arc<dyn Store>`; `omnivox-store` holds the SQLite and
//! PostgreSQL implementations and the conformance suite both must pass.

mod audit;
pub mod call_list;
mod calls;
mod imports;
mod jobs;
mod media;
mod purge;
mod users;

use async_trait::async_trait;

use crate::ingest::IngestStore;

pub use audit::{AuditEntry, AuditStore, NewAuditEntry};
pub use call_list::{CallEventView, CallListPosition, CallListQuery, CallPage, PhoneDigits, TextSearch};
pub use calls::{CallRecordStore, CallRecordView, CampaignView, RecordingView};
pub use imports::{
    ImportItem, ImportItemRow, ImportProgress, ImportResult, ImportRun, ImportState, ImportStore, ItemOutcome,
    NewImportRun, ReasonCount, SyncGap, IMPORT_JOB_KIND, IMPORT_JOB_MAX_ATTEMPTS,
};
pub use jobs::{ClaimedJob, JobId, JobRow, JobState, JobStore, NewJob};
pub use media::{MediaStore, MediaUpdate, RecordingMedia};
pub use purge::{PurgeStore, PurgedCallRecords};
pub use users::{NewUser, PasswordHash, SessionStore, User, UserId, UserStore};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; the message names the rule.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the service needs from its database.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + CallRecordStore
    + IngestStore
    + JobStore
    + AuditStore
    + MediaStore
    + ImportStore
    + PurgeStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    /// Applies pending migrations; safe to run from several instances at once.
    async fn migrate(&self) -> StoreResult<()>;
    /// A round trip to the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    async fn close(&self);
}
