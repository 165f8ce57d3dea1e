//! The normalized vulnerability record stored in the database: one model for NVD CVEs,
//! OSV entries and RustSec advisories (serialized as JSON in the `records` table).

use serde::{Deserialize, Serialize};

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// NVD CVE API 2.0.
    Nvd,
    /// OSV schema 1.x (GHSA, PYSEC, GO, RUSTSEC OSV export, …).
    Osv,
    /// RustSec's native advisory format.
    Rustsec,
}

impl Source {
    /// Lowercase name as stored in the DB.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Nvd => "nvd",
            Source::Osv => "osv",
            Source::Rustsec => "rustsec",
        }
    }
}

/// Qualitative severity, ordered from none to critical.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// No rating available.
    #[default]
    Unknown,
    /// CVSS 0.0.
    None,
    /// CVSS 0.1-3.9.
    Low,
    /// CVSS 4.0-6.9.
    Medium,
    /// CVSS 7.0-8.9.
    High,
    /// CVSS 9.0-10.0.
    Critical,
}

impl Level {
    /// The rating for a CVSS base score (v3/v4 bands).
    pub fn from_score(score: f64) -> Level {
        if score >= 9.0 {
            Level::Critical
        } else if score >= 7.0 {
            Level::High
        } else if score >= 4.0 {
            Level::Medium
        } else if score > 0.0 {
            Level::Low
        } else {
            Level::None
        }
    }

    /// Reads `LOW`, `MODERATE`/`MEDIUM`, `HIGH`, `CRITICAL` (any case).
    pub fn from_word(word: &str) -> Level {
        match word.to_ascii_lowercase().as_str() {
            "low" => Level::Low,
            "moderate" | "medium" => Level::Medium,
            "high" | "important" => Level::High,
            "critical" => Level::Critical,
            "none" => Level::None,
            _ => Level::Unknown,
        }
    }

    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Unknown => "unknown",
            Level::None => "none",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A severity rating with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    /// Qualitative rating.
    pub level: Level,
    /// CVSS base score, when known.
    pub score: Option<f64>,
    /// CVSS vector string, when known.
    pub vector: Option<String>,
    /// What produced it: `nvd:cvssMetricV31`, `osv:CVSS_V3`, `ghsa`, ….
    pub origin: String,
}

/// One vulnerability record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Primary id (`CVE-…`, `GHSA-…`, `PYSEC-…`, `GO-…`, `RUSTSEC-…`).
    pub id: String,
    /// Source format.
    pub source: Source,
    /// Other ids of the same vulnerability.
    pub aliases: Vec<String>,
    /// Last modification time (RFC 3339) as given by the source.
    pub modified: Option<String>,
    /// Withdrawal time (OSV `withdrawn`, RustSec `withdrawn`): the record is kept out of results.
    pub withdrawn: Option<String>,
    /// NVD `vulnStatus` (`Analyzed`, `Rejected`, …).
    pub status: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// CWE ids.
    pub cwes: Vec<String>,
    /// Best severity rating.
    pub severity: Option<Severity>,
    /// OSV / RustSec affected packages.
    pub affected: Vec<Affected>,
    /// NVD configurations.
    pub configurations: Vec<Configuration>,
    /// RustSec's `informational` kind (`unmaintained`, `unsound`, `notice`; OSV exports carry
    /// it in `database_specific`): an advisory that is not a vulnerability. Reported apart, as
    /// cargo-audit's warnings, never as a finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
}

impl Record {
    /// Whether the record must be kept out of results (withdrawn or rejected).
    pub fn excluded(&self) -> bool {
        self.withdrawn.is_some() || self.status.as_deref() == Some("Rejected")
    }
}

/// An affected package of an OSV or RustSec record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem as written (`PyPI`, `Go`, `crates.io`, `Debian:12`, …).
    pub ecosystem: String,
    /// Package name as written.
    pub name: String,
    /// Version ranges.
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
    /// RustSec requirement lists (native format only).
    pub rustsec: Option<RustsecVersions>,
}

/// RustSec `[versions]`: a version is affected unless it meets a patched or unaffected requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustsecVersions {
    /// SemVer requirements of patched versions.
    pub patched: Vec<String>,
    /// SemVer requirements of never-affected versions.
    pub unaffected: Vec<String>,
}

/// One OSV range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    pub kind: String,
    /// Repository URL for GIT ranges.
    pub repo: Option<String>,
    /// Events in the order given.
    pub events: Vec<Event>,
}

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Vulnerable from this version on (`0` = from the start).
    Introduced(String),
    /// Not vulnerable from this version on.
    Fixed(String),
    /// Vulnerable up to and including this version.
    LastAffected(String),
    /// Upper limit of the range.
    Limit(String),
}

/// An NVD configuration: nodes joined by AND/OR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    /// `true` for AND (default OR).
    pub and: bool,
    /// Negate the whole configuration.
    pub negate: bool,
    /// Nodes.
    pub nodes: Vec<Node>,
}

/// An NVD configuration node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// `true` for AND (default OR).
    pub and: bool,
    /// Negate the node.
    pub negate: bool,
    /// CPE match criteria.
    pub matches: Vec<CpeMatch>,
}

/// One NVD `cpeMatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeMatch {
    /// Whether a match makes the product vulnerable (false: a platform condition).
    pub vulnerable: bool,
    /// CPE 2.3 formatted string.
    pub criteria: String,
    /// `versionStartIncluding`.
    pub start_including: Option<String>,
    /// `versionStartExcluding`.
    pub start_excluding: Option<String>,
    /// `versionEndIncluding`.
    pub end_including: Option<String>,
    /// `versionEndExcluding`.
    pub end_excluding: Option<String>,
}

impl CpeMatch {
    /// The range as text, e.g. `>= 1.0.12, < 3.39.2`, or `= 5.6.1` for an exact criteria version.
    pub fn describe(&self, exact: Option<&str>) -> String {
        let mut parts = Vec::new();
        if let Some(v) = &self.start_including {
            parts.push(format!(">= {v}"));
        }
        if let Some(v) = &self.start_excluding {
            parts.push(format!("> {v}"));
        }
        if let Some(v) = &self.end_including {
            parts.push(format!("<= {v}"));
        }
        if let Some(v) = &self.end_excluding {
            parts.push(format!("< {v}"));
        }
        if parts.is_empty() {
            match exact {
                Some(v) => format!("= {v}"),
                None => "all versions".to_string(),
            }
        } else {
            parts.join(", ")
        }
    }
}

/// Severity of a CVSS vector string (v3.x or v4.0), with its computed base score.
pub fn cvss_severity(vector: &str, origin: &str) -> Option<Severity> {
    let parsed: cvss::Cvss = vector.parse().ok()?;
    let score = (parsed.score() * 10.0).round() / 10.0;
    Some(Severity {
        level: Level::from_score(score),
        score: Some(score),
        vector: Some(vector.to_string()),
        origin: origin.to_string(),
    })
}
