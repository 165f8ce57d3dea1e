//! Offline vulnerability database and SBOM scanner for relkit.
//!
//! * [`db`]: a SQLite database imported from NVD CVE API 2.0 JSON, OSV 1.x (JSON/YAML,
//!   directories, zip and tar exports) and RustSec advisories, in one transaction.
//! * [`scan`]: matching an SBOM's components by PURL (OSV ranges per ecosystem) and by CPE
//!   (NVD configurations), merging aliases into one finding per vulnerability.
//! * [`report`]: SARIF 2.1.0, CycloneDX VEX and OpenVEX suppression.
//! * [`sample`]: the small real sample DB shipped inside the binary.
//!
//! The crate never prints; every failure is a typed error saying where and why.

pub mod db;
pub mod ecosystem;
pub mod input;
pub mod matching;
pub mod parse;
pub mod record;
pub mod version;

pub use db::{Db, DbError, ImportOptions, ImportReport};
pub use record::{Level, Record};
