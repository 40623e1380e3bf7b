//! How recordings that no webhook told us about reach Omnivox: the
//! **historical import** of a date range (admin-started, resumable, with a
//! result per recording) and the periodic **reconciliation sweep** of the
//! last hours, which heals lost webhooks by itself.
//!
//! Both walk Twilio's `Recordings.json` a page at a time, following
//! `next_page_uri` as given, and feed every recording Omnivox lacks through
//! the same [`Ingestor`](omnivox_core::ingest::Ingestor) the webhooks use, so
//! nothing is ever created twice and imported recordings are archived like
//! live ones.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod events;
mod retry;
mod start;
mod walk;

pub use events::{call_event, recording_event};
pub use retry::RetryPolicy;
pub use start::{start_import, StartError, StartImport};
pub use walk::{SweepReport, WalkError, Walker};
