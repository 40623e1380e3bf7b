//! The queries, written once. Each macro here implements one storage trait
//! for a backend type that has `reader()` and `writer()` pools; the schema
//! both dialects share (Unix-millisecond BIGINTs, `$n` placeholders,
//! `ON CONFLICT`, `RETURNING`) lets the same SQL run on SQLite and
//! PostgreSQL. Where the dialects really differ (row locking when claiming
//! jobs) the backend passes the difference in.

mod audit;
pub(crate) mod call_list;
mod calls;
pub(crate) mod imports;
mod jobs;
pub(crate) mod media;
mod purge;
mod users;

pub(crate) use audit::impl_audit_store;
pub(crate) use calls::impl_call_record_store;
pub(crate) use imports::impl_import_store;
pub(crate) use jobs::impl_job_store;
pub(crate) use media::impl_media_store;
pub(crate) use purge::impl_purge_store;
pub(crate) use users::{impl_session_store, impl_user_store};

/// Inserts a job unless the same kind and dedupe key is already queued or
/// running (the partial unique index `jobs_dedupe`). Binds: kind,
/// dedupe_key, payload, max_attempts, run_at, now.
pub(crate) const ENQUEUE_JOB: &str =
    "INSERT INTO jobs (kind, state, dedupe_key, payload, attempts, max_attempts, run_at, created_at, updated_at)
     VALUES ($1, 'queued', $2, $3, 0, $4, $5, $6, $6)
     ON CONFLICT DO NOTHING
     RETURNING id";
