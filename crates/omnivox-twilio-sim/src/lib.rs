//! A Twilio simulator for Omnivox's tests and demos, built from the 2010-04-01 OpenAPI
//! description (`shared/twilio/twilio_api_v2010.json`) and the protocol notes beside it.
//!
//! It plays one Twilio account over real HTTP on loopback:
//! - REST: `Recordings.json` (filters, Twilio paging with `PageToken`), `Recordings/{Sid}.json`
//!   (fetch, delete), `Calls/{Sid}.json`, all behind HTTP Basic auth, answering errors in
//!   Twilio's JSON shape;
//! - media: `Recordings/{Sid}[.wav|.mp3]`, real audio generated from the SID, streamed with
//!   HTTP Range;
//! - webhooks: call progress and recording status callbacks signed like Twilio, delivered
//!   duplicated, shuffled and concurrently on request;
//! - faults: latency, 429s with `Retry-After`, 5xx, set from code or `POST /_sim/faults`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use omnivox_twilio_sim::{CallSpec, DeliveryOptions, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! let call = sim.add_call(CallSpec::default());
//! let report = sim.deliver("http://127.0.0.1:8080", &call, &DeliveryOptions::default()).await?;
//! assert!(report.all_acknowledged());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod faults;
mod media;
mod resources;
mod rest;
mod sid;
mod simulator;
mod spec;
mod state;
mod webhooks;
pub mod wire;

pub use faults::Faults;
pub use resources::{
    CallResource, CallStatus, CallSubresources, Direction, RecordingPage, RecordingResource, RecordingStatus,
    RecordingSubresources, API_VERSION,
};
pub use sid::new_sid;
pub use simulator::{SimConfig, Simulator};
pub use spec::{CallSpec, RecordingOutcome, SimCall};
pub use state::LoggedRequest;
pub use webhooks::params::{CALL_STATUS_PATH, RECORDING_STATUS_PATH};
pub use webhooks::{AttemptOutcome, CallEvent, Callback, DeliveryAttempt, DeliveryOptions, DeliveryReport};
