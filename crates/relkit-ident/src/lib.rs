//! Component identity for relkit: CPE 2.3 names (NISTIR 7695 naming, NISTIR 7696 matching),
//! Package URLs (purl-spec), version-consistency checks between a package version, its CPE
//! and its PURL, and SBOM identity checks against any CPE dictionary ([`dictionary::CpeDictionary`]).
//!
//! Pure parsing and checking: the crate must not open a database or touch the network (the
//! SQLite dictionary is relkit-cpedict, which implements the trait). It never prints; every
//! failure is a typed error saying where and why.

pub mod check;
pub mod consistency;
pub mod cpe;
pub mod dictionary;
pub mod libraries;
pub mod purl;
pub mod version;
