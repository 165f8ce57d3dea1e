//! SBOMs for relkit: one internal model ([`model::Document`]), SPDX 2.3 and CycloneDX 1.6 JSON
//! readers/writers, generation from source trees, archives and Windows binaries, validation,
//! conversion, merging and diffing.
//!
//! * [`generate::generate`]: the use case the CLI and the release pipeline share — options
//!   from flags over `relkit.toml`'s defaults ([`generate::ProjectDefaults`]), then
//!   [`source::generate`] or [`source::generate_wheel`].
//! * [`source::generate`]: directory / .tar(.gz|.xz) / .zip → every file SHA-1 + SHA-256,
//!   in-tree SBOM packages with their files' checksums verified, bundled wheels, the
//!   dependencies every lockfile of the tree resolves ([`dependencies`], read by
//!   relkit-catalog); the top
//!   package's defaults from `relkit.toml` ([`source::project_defaults`],
//!   [`source::sbom_defaults`]);
//!   [`source::generate_wheel`]: a wheel, RECORD verified.
//! * [`binary::generate`]: DLL/PYD/EXE directory, zip or plain tarball (.tar, .tgz, .txz;
//!   ELF and Mach-O members get the version-string rules too) → components from PE
//!   VERSIONINFO and version strings (the binary rules of `relkit_ident::libraries`), each with its evidence;
//!   [`binary::compare_declared`] against a declared SBOM.
//! * [`check`]: schema + spec + NTIA + consistency validation; [`spdx`] / [`cyclonedx`]:
//!   formats; [`merge`], [`diff`].
//!
//! Output is deterministic: ids derive from names and paths, arrays are sorted, JSON keys are
//! sorted, the CycloneDX serial number derives from the document namespace, and the creation
//! time comes from the caller (`SOURCE_DATE_EPOCH`, `--created`) or, when the caller leaves it
//! empty, from the input ([`input_time`]): the commit time of a git work tree, else the newest
//! member modification time of the directory or archive.
//!
//! Must not: run git (the caller passes a commit time), parse an archive format itself (every
//! archive and wheel is read through relkit-archive), or depend on a database (identity
//! checks take any `relkit_ident::dictionary::CpeDictionary`; the SQLite one is
//! relkit-cpedict).
//!
//! The library never prints; every operation returns typed results ([`error::Error`]) and
//! reports (`check::Report`, `diff::Diff`) that the CLI renders. Reports serialize to stable JSON:
//!
//! * `check::Report` → `{"file", "format", "spec_version", "valid", "errors", "warnings",
//!   "problems": [{"severity": "error"|"warning", "path": "$.packages[0].versionInfo",
//!   "rule", "message", "hint"}], "dictionary": null | "path of the CPE dictionary used by the
//!   identity rules (`cpe-unknown`, `cpe-deprecated`, `cpe-ecosystem-mismatch`,
//!   `cpe-cve-history-unrelated`)"}`
//! * `diff::Diff` → `{"added": [Component], "removed": [Component], "changed": [{"name",
//!   "old": Component, "new": Component, "changes": ["version"|"cpe"|"purl"]}]}` where
//!   `Component` is `{"name", "version", "cpes", "purls"}`.
//! * `binary::DeclaredReport` → `{"contradicted": [...], "not_found": [...], "undeclared": [...],
//!   "confirmed": [...]}`.

pub mod binary;
pub mod check;
pub mod cyclonedx;
pub mod dependencies;
pub mod diff;
mod dist_wheels;
pub mod elf;
pub mod error;
#[cfg(test)]
mod garble;
pub mod generate;
pub mod identity;
pub mod json;
pub mod linked;
pub mod lockfile;
pub mod macho;
pub mod merge;
pub mod model;
pub mod pe;
pub mod pep770;
/// SARIF helpers (moved to relkit-core; kept here for callers of `relkit_sbom::sarif`).
pub use relkit_core::sarif;
pub mod source;
pub mod spdx;
mod tree;
mod tree_libs;
pub mod wheel;
pub mod wheel_libs;

use serde_json::Value;

pub use error::{Error, Result};
pub use generate::{ProjectDefaults, generate};
pub use model::Document;

/// The SPDX creator string of this tool, e.g. `Tool: relkit-0.1.0`.
pub fn tool_creator() -> String {
    format!("Tool: relkit-{}", env!("CARGO_PKG_VERSION"))
}

/// An SBOM serialization format relkit writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Format {
    /// SPDX 2.3 JSON.
    #[serde(rename = "spdx-json")]
    SpdxJson,
    /// CycloneDX 1.6 JSON.
    #[serde(rename = "cyclonedx-json")]
    CycloneDxJson,
}

impl Format {
    /// Parses `spdx-json` / `cyclonedx-json` (also `spdx`, `cyclonedx`, `cdx`).
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "spdx-json" | "spdx" => Some(Format::SpdxJson),
            "cyclonedx-json" | "cyclonedx" | "cdx" | "cdx-json" => Some(Format::CycloneDxJson),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Format::SpdxJson => "spdx-json",
            Format::CycloneDxJson => "cyclonedx-json",
        }
    }
}

/// Which family a parsed JSON document belongs to, judged from its marker fields.
pub fn detect(value: &Value) -> Option<Format> {
    if value.get("spdxVersion").is_some() {
        Some(Format::SpdxJson)
    } else if value.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        Some(Format::CycloneDxJson)
    } else {
        None
    }
}

/// Reads an SPDX or CycloneDX JSON document into the model, with the fields it dropped.
pub fn read(value: &Value, origin: &str) -> Result<(Document, model::Dropped, Format)> {
    match detect(value) {
        Some(Format::SpdxJson) => spdx::read(value, origin).map(|(d, x)| (d, x, Format::SpdxJson)),
        Some(Format::CycloneDxJson) => cyclonedx::read(value, origin).map(|(d, x)| (d, x, Format::CycloneDxJson)),
        None => Err(Error::UnsupportedFormat {
            origin: origin.into(),
            message: "neither an SPDX document (no \"spdxVersion\") nor a CycloneDX BOM (no \"bomFormat\": \"CycloneDX\")".into(),
        }),
    }
}

/// Reads an SBOM file of either format.
pub fn read_file(path: &std::path::Path) -> Result<(Document, model::Dropped, Format)> {
    let value = json::read_file(path)?;
    read(&value, &path.display().to_string())
}

/// Serializes the model in `format`; returns the bytes and what the format could not carry.
pub fn write(doc: &Document, format: Format) -> (Vec<u8>, Vec<String>) {
    match format {
        Format::SpdxJson => (json::to_bytes(&spdx::write(doc)), Vec::new()),
        Format::CycloneDxJson => {
            let (v, lost) = cyclonedx::write(doc);
            (json::to_bytes(&v), lost)
        }
    }
}

/// The creation time of a document generated from `path` when the caller gave none:
/// `newest_mtime` (the newest member modification time of the directory or archive), else the
/// current time. (A directory's git commit time is the caller's to give — the CLI reads it with
/// gitoxide — so this library never runs git and its bytes never depend on a `git` binary.)
pub fn input_time(_path: &std::path::Path, newest_mtime: Option<&str>) -> String {
    match newest_mtime {
        Some(t) => t.to_string(),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            model::rfc3339_from_epoch(secs)
        }
    }
}

/// The creation time for new documents: `SOURCE_DATE_EPOCH` if set, else the current time.
pub fn created_now_or_epoch() -> std::result::Result<String, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .map(model::rfc3339_from_epoch)
            .map_err(|_| format!("SOURCE_DATE_EPOCH={v:?} is not an integer number of seconds")),
        Err(_) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok(model::rfc3339_from_epoch(secs))
        }
    }
}
