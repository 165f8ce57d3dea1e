//! One module per top-level command; each exposes its clap arguments and a `run` function.

pub mod build;
pub mod demo;
pub mod diff;
