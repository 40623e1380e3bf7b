//! The queries, written once. Each macro here implements one storage trait
//! for a backend type that has `reader()` and `writer()` pools; the schema
//! both dialects share (Unix-millisecond BIGINTs, `$n` placeholders,
//! `ON CONFLICT`, `RETURNING`) lets the same SQL run on SQLite and
//! PostgreSQL. Where the dialects really differ (row locking when claiming
//! jobs) the backend passes the difference in.

mod audit;
mod calls;
mod jobs;
mod users;

pub(crate) use audit::impl_audit_store;
pub(crate) use calls::impl_call_record_store;
pub(crate) use jobs::impl_job_store;
pub(crate) use users::{impl_session_store, impl_user_store};
