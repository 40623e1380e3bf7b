//! The Twilio protocol for Omnivox Call Records: validating (and, for the
//! Twilio simulator, producing) the `X-Twilio-Signature` of the webhooks
//! Twilio sends us, and a client for the REST API resources we read.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod client;
pub mod media;
pub mod recordings;
pub mod signature;

pub use client::{CallResource, TwilioClient, TwilioError};
pub use media::MediaFormat;
pub use recordings::{RecordingFilter, RecordingPage, RecordingResource};
pub use signature::{public_url, RequestValidator};
