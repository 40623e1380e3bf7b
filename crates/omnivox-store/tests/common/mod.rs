//! What the store's integration tests build their ingests from.
// Each test file is a crate of its own and uses only some of these.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use omnivox_core::ingest::{Attribution, FoundBy, IngestEvent, IngestRequest, Params, LIVE_CALLS};

/// A Twilio SID: `prefix` and `n` as 32 hex digits.
pub fn sid(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:032x}")
}

/// Callback parameters, as a form carries them.
pub fn params(pairs: &[(&str, &str)]) -> Params {
    Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// `event` as a webhook delivers it, received at a fixed time.
pub fn request(event: IngestEvent) -> IngestRequest {
    IngestRequest {
        event,
        attribution: Attribution::default(),
        default_campaign: LIVE_CALLS,
        found_by: FoundBy::Webhook,
        received_at: Utc.with_ymd_and_hms(2026, 2, 16, 14, 33, 0).unwrap(),
    }
}
