//! The `omnivox` service: configuration, start-up and the command line.
//! Each subsystem lives in its own crate; this one wires them together and
//! holds the job kinds.

pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod demo;
pub mod jobs;
pub mod startup;
pub mod telemetry;
