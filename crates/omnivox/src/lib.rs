//! The `omnivox` service: configuration, start-up and the command line.
//! Each subsystem lives in its own crate; this one wires them together.

pub mod config;
