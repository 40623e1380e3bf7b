//! The Call Records page in a real headless Chromium against a real
//! `Application` (and, for calls, the Twilio simulator sending signed
//! callbacks): sign-in, live rows, filters in the URL, playback with a
//! seek the server answers with 206, the call's page, agent isolation,
//! keyboard use and an axe-core accessibility check. Screenshots are kept
//! in `target/browser-artifacts/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod chrome;
mod pages;

/// One browser at a time: two chromiums and a server on two cores make
/// every wait in these tests longer than it needs to be.
pub static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
