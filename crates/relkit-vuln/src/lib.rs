//! Offline vulnerability database and SBOM scanner for relkit.
//!
//! * [`db`]: a SQLite database imported from NVD CVE API 2.0 JSON, OSV 1.x (JSON/YAML,
//!   directories, zip and tar exports) and RustSec advisories, in one transaction.
//! * [`scan`]: matching an SBOM's components by PURL (OSV ranges per ecosystem) and by CPE
//!   (NVD configurations), merging aliases into one finding per vulnerability.
//! * [`report`]: SARIF 2.1.0, CycloneDX VEX and OpenVEX suppression.
//! * [`sample`]: the small real sample DB shipped inside the binary.
//! * [`choose`]: the use case shared by `relkit scan` and the release's scan step: which DB,
//!   whether it must be real and fresh, scan.
//!
//! The crate never prints; every failure is a typed error saying where and why. It must not
//! choose the sample DB silently: only [`DbChoice::Sample`] or the CLI's announced fallback.

pub mod choose;
pub mod db;
pub mod ecosystem;
pub mod freshness;
pub mod input;
pub mod matching;
pub mod parse;
pub mod record;
pub mod report;
pub mod sample;
pub mod scan;
/// Version ordering per ecosystem and the one version-equality judge: they live in relkit-ident,
/// where every crate that compares versions can reach them.
pub use relkit_ident::version;

pub use choose::{ChosenDb, DbChoice, Gate, ScanError, open_db, scan_sbom};
pub use db::{Db, DbError, ImportOptions, ImportReport};
pub use record::{Level, Record};
pub use scan::{Finding, Report, ScanOptions};
