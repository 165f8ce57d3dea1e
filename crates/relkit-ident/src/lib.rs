//! Component identity for relkit: CPE 2.3 names (NISTIR 7695 naming, NISTIR 7696 matching),
//! Package URLs (purl-spec), version-consistency checks between a package version, its CPE
//! and its PURL, and an offline CPE dictionary (SQLite) with search, suggestion and SBOM
//! identity checks.
//!
//! The crate never prints; every failure is a typed error saying where and why.

pub mod check;
pub mod consistency;
pub mod cpe;
pub mod dict;
pub mod purl;
