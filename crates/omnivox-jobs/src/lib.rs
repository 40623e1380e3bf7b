//! The durable job queue every background task of Omnivox runs on.
//!
//! A job kind is a type implementing [`Job`]: its payload is the type itself
//! (serialized as JSON in the `jobs` table), `KIND` names it, and
//! `dedupe_key` says which enqueues are the same work. [`JobQueue`] enqueues;
//! [`Worker`]s claim jobs under a lease, keep the lease alive while running,
//! and on failure retry with capped exponential backoff and jitter until the
//! job's attempts are spent, then leave it in the dead letter for an admin.
//! A worker that dies leaves its lease to expire, after which any worker
//! takes the job over.

mod backoff;
mod queue;
mod worker;

pub use backoff::Backoff;
pub use queue::{new_job, Job, JobError, JobQueue};
pub use worker::{Outcome, Registry, Worker, WorkerSettings};
