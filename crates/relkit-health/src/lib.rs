//! relkit-health: which of a release's dependencies are **critical** (much of the world
//! needs them) and **languishing** (few people look after them), offline, from three inputs:
//! the release's SBOM, Debian's `Packages` indexes and the upstream git histories.
//!
//! What it is for: a transparent list, per SBOM component, of named flags with their
//! numbers and thresholds, and a verdict (`critical-languishing`, `transition`, `watch`,
//! `ok`, `not-critical`, `no-data`), so that people can decide which projects need help
//! before an incident tells them.
//!
//! What it must not do: print (the CLI does), reach the network, run the `git` binary, hide
//! a component it could not assess (such a component gets `no-data` with the reason), or
//! compute an opaque weighted score. A verdict is a prompt to look, never an accusation.

pub mod date;
pub mod debian;
pub mod error;
pub mod history;
pub mod html;
pub mod identity;
pub mod metrics;
pub mod openpgp;
pub mod policy;
pub mod render;
pub mod repo;
pub mod report;
pub mod verdict;

pub use error::{Error, Result};
pub use policy::Policy;
pub use report::{Inputs, Report, assess};
pub use verdict::{Tier, Verdict};
