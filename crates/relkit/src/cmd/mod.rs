//! One module per top-level command; each exposes its clap arguments and a `run` function.

pub mod attest;
pub mod audit;
pub mod build;
pub mod checksum;
pub mod cpe;
pub mod db;
pub mod demo;
pub mod diff;
pub mod health;
pub mod key;
pub mod publish;
pub mod purl;
pub mod rebuild;
pub mod release;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod sign;
pub mod truth;
pub mod verify;
