//! Twilio helpers for Omnivox Call Records.
//!
//! For now this is only [`signature`]: validating (and, for our Twilio simulator, producing)
//! the `X-Twilio-Signature` header of the webhooks Twilio sends us.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod signature;

pub use signature::{public_url, RequestValidator};
