//! The simulator over real HTTP on loopback: one test binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the report

mod auth;
mod calls;
mod faults;
mod helpers;
mod media;
mod paging;
mod receiver;
mod recordings;
mod webhooks;
