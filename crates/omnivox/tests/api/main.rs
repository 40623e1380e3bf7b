//! The HTTP API end to end: a real `Application` on a loopback port, real
//! databases (every test on SQLite and PostgreSQL), real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod media_helpers;

mod admin_jobs;
mod archive;
mod auth;
mod call_list;
mod cli;
mod health;
mod import_processes;
mod imports;
mod openapi;
mod processes;
mod purge;
mod recordings;
mod web;
mod webhooks;
