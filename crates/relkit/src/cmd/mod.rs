//! One module per top-level command; each exposes its clap arguments and a `run` function.

pub mod build;
pub mod demo;
pub mod diff;
pub mod attest;
pub mod checksum;
pub mod key;
pub mod sign;
pub mod verify;
pub mod sbom;
pub mod rebuild;
pub mod db;
pub mod scan;
pub mod truth;
pub mod cpe;
pub mod purl;
pub mod audit;
