//! SBOM truth check: for every package an SBOM declares, find independent evidence of its
//! version in the bytes it describes (a source tree or archive, or Windows binaries) and say
//! whether the evidence confirms or contradicts the declared version, its CPE and its PURL.
//!
//! Source evidence comes from the source rules of relkit's one libraries table
//! (`relkit_ident::libraries`, `[[library.source]]`; compiled in: version
//! macros and files of well-known vendored libraries, a pinned-commit rule for HACL*, bundled
//! wheels, and generic `VERSION`/`configure.ac`/`CMakeLists.txt`/… fallbacks). Which files
//! belong to a package comes from the SBOM (SPDX `CONTAINS` relationships); a package without
//! files is searched for by file name in the whole tree, or, when the SBOM places it inside
//! another package (`DEPENDS_ON`/`CONTAINS`, e.g. the projects pip vendors), in that
//! package's wheel (`*/_vendor/vendor.txt`). Binary evidence (PE VERSIONINFO and embedded
//! version strings) is relkit-sbom's binary rules table.
//!
//! [`verify`] is the entry point for other commands; [`verify_members`] takes a tree's
//! members directly (`relkit sbom generate` checking the vendored packages of an in-tree
//! SBOM with the members it kept while reading the archive).
//!
//! Must not: read an archive itself (everything goes through relkit-archive's reader, wheels
//! through [`relkit_sbom::wheel`]), print, or open a CPE dictionary.
//!
//! The JSON form of [`Report`] is stable: `sbom`, `against`, `mode` (`source`/`binary`),
//! `packages[]` (`id`, `name`, `declared_version`, `verdict`
//! = `confirmed`|`contradicted`|`unverifiable`, `found_version`, `evidence[]` {`file`,
//! `line`, `offset`, `method`, `text`, `version`}, `identifiers[]` {`kind` `cpe`|`purl`,
//! `value`, `version`, `matches_declared`, `matches_evidence`}, `files` {`assigned`,
//! `present`, `missing[]`}, `looked_for[]`, `problems[]`), `undeclared[]` (components found
//! in binaries that the SBOM does not declare: `name`, `version`, `evidence[]`), `notes[]`
//! and `summary` {`confirmed`, `contradicted`, `unverifiable`, `inconsistent`}.

mod binary;
pub mod error;
pub mod fix;
pub mod rules;
pub mod sarif;
mod source;
mod tree;
mod wheel;

pub use wheel::verify_wheel;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use relkit_sbom::Document;
use serde::Serialize;

pub use error::{Error, Result};

/// What `against` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Binaries when relkit-sbom's detector says so (PE file, or a directory/zip of them),
    /// otherwise source.
    #[default]
    Auto,
    /// A source tree or source archive.
    Source,
    /// Windows binaries: a PE file, or a directory or zip of them.
    Binary,
}

/// Options of [`verify_with`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Source or binary input.
    pub kind: Kind,
}

/// The verdict on one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The evidence shows the declared version.
    Confirmed,
    /// The evidence shows another version (or a CPE/PURL names another version).
    Contradicted,
    /// No evidence was found.
    Unverifiable,
}

impl Verdict {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Contradicted => "contradicted",
            Verdict::Unverifiable => "unverifiable",
        }
    }
}

/// One piece of evidence: a version read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Path of the file in the tree, archive or binary directory.
    pub file: String,
    /// 1-based line (source evidence).
    pub line: Option<u64>,
    /// Byte offset (string evidence).
    pub offset: Option<u64>,
    /// How it was read: `source-rule: expat.h (version parts)`, `pe-versioninfo`, ….
    pub method: String,
    /// The text that was matched.
    pub text: String,
    /// The version it shows.
    pub version: String,
}

/// A CPE or PURL of a package and how its version compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentifierCheck {
    /// `cpe` or `purl`.
    pub kind: String,
    /// The identifier as written.
    pub value: String,
    /// Its version, when it names one.
    pub version: Option<String>,
    /// Whether it names the declared version.
    pub matches_declared: bool,
    /// Whether it names the version found (None without evidence).
    pub matches_evidence: Option<bool>,
}

/// Which files the SBOM assigns to a package and how many are in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilesInfo {
    /// Files the SBOM assigns (CONTAINS).
    pub assigned: usize,
    /// Of those, present in the tree.
    pub present: usize,
    /// Assigned files missing from the tree (at most 20 listed).
    pub missing: Vec<String>,
}

/// The result for one declared package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageReport {
    /// SBOM element id.
    pub id: String,
    /// Package name.
    pub name: String,
    /// Declared version.
    pub declared_version: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The version the evidence shows (when there is evidence).
    pub found_version: Option<String>,
    /// All evidence read.
    pub evidence: Vec<Evidence>,
    /// CPE and PURL version checks.
    pub identifiers: Vec<IdentifierCheck>,
    /// The package's files.
    pub files: FilesInfo,
    /// What was looked for (always filled; the reason when unverifiable).
    pub looked_for: Vec<String>,
    /// Disagreements, one sentence each (empty when confirmed and consistent).
    pub problems: Vec<String>,
}

impl PackageReport {
    /// Whether the SBOM's own identifiers disagree with its declared version.
    pub fn inconsistent(&self) -> bool {
        self.identifiers.iter().any(|i| !i.matches_declared)
    }
}

/// A component found in binaries that the SBOM does not declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undeclared {
    /// Component name.
    pub name: String,
    /// Version found.
    pub version: Option<String>,
    /// Where.
    pub evidence: Vec<Evidence>,
}

/// Counts per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Packages confirmed.
    pub confirmed: usize,
    /// Packages contradicted.
    pub contradicted: usize,
    /// Packages without evidence.
    pub unverifiable: usize,
    /// Packages whose CPE/PURL versions disagree with their declared version.
    pub inconsistent: usize,
}

/// The whole verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The SBOM (as given by the caller; empty when verifying an in-memory document).
    pub sbom: String,
    /// What it was verified against.
    pub against: String,
    /// `source` or `binary`.
    pub mode: String,
    /// One entry per declared package, in SBOM order.
    pub packages: Vec<PackageReport>,
    /// Binary components found but not declared.
    pub undeclared: Vec<Undeclared>,
    /// Problems reading the input that did not stop the check (unreadable files, corrupt PE).
    pub notes: Vec<String>,
    /// Counts.
    pub summary: Summary,
}

impl Report {
    /// Whether anything is contradicted or inconsistent (exit 1).
    pub fn has_findings(&self) -> bool {
        self.summary.contradicted > 0 || self.summary.inconsistent > 0
    }

    fn finish(mut self) -> Report {
        let mut s = Summary::default();
        for p in &self.packages {
            match p.verdict {
                Verdict::Confirmed => s.confirmed += 1,
                Verdict::Contradicted => s.contradicted += 1,
                Verdict::Unverifiable => s.unverifiable += 1,
            }
            if p.inconsistent() {
                s.inconsistent += 1;
            }
        }
        self.summary = s;
        self
    }
}

/// Verifies `doc` against a source tree/archive or binaries (auto-detected).
pub fn verify(doc: &Document, against: &Path) -> Result<Report> {
    verify_with(doc, against, &Options::default())
}

/// Verifies `doc` against `against` with explicit options.
pub fn verify_with(doc: &Document, against: &Path, opts: &Options) -> Result<Report> {
    let binary = match opts.kind {
        Kind::Source => false,
        Kind::Binary => true,
        Kind::Auto => relkit_sbom::binary::looks_binary(against)?,
    };
    let (packages, undeclared, notes) = if binary {
        binary::verify(doc, against)?
    } else {
        let (p, n) = source::verify(doc, against)?;
        (p, Vec::new(), n)
    };
    Ok(Report {
        sbom: String::new(),
        against: against.display().to_string(),
        mode: if binary { "binary" } else { "source" }.into(),
        packages,
        undeclared,
        notes,
        summary: Summary::default(),
    }
    .finish())
}

/// A source tree handed over as its members, e.g. by `relkit sbom generate`, which has just
/// read the archive and kept the members [`may_read`] selects: no file or archive is opened.
#[derive(Debug, Clone, Default)]
pub struct SourceMembers {
    /// What the members come from, reported as [`Report::against`] (e.g. the archive path).
    pub label: String,
    /// Every regular file's path relative to the tree root, as in the SBOM (`./` allowed).
    pub files: BTreeSet<String>,
    /// The content of the files the rules may read ([`may_read`]); other files' content is
    /// never needed.
    pub content: BTreeMap<String, Vec<u8>>,
}

/// Whether the source rules may ask for the content of a file with this path: a file named
/// in the rules table (by file name), or a wheel. A caller handing over [`SourceMembers`]
/// keeps these.
pub fn may_read(path: &str) -> bool {
    source::may_read(path)
}

/// Verifies `doc` against a source tree given as its members ([`SourceMembers`]): the same
/// verdicts as [`verify`] on the archive they were read from.
pub fn verify_members(doc: &Document, members: SourceMembers) -> Report {
    let files = members
        .files
        .iter()
        .map(|f| f.trim_start_matches("./").to_string())
        .collect();
    let tree = tree::Tree::from_members(&members.label, files, members.content);
    let (packages, notes) = source::verify_tree(doc, &tree);
    Report {
        sbom: String::new(),
        against: members.label,
        mode: "source".into(),
        packages,
        undeclared: Vec::new(),
        notes,
        summary: Summary::default(),
    }
    .finish()
}

/// Whether two versions name the same release: equal ignoring ASCII case, a leading `v` and
/// trailing `.0` parts (`3.49.1.0` = `3.49.1`); a git commit matches its abbreviation
/// (at least 7 hex digits).
///
/// This is the one judge, [`relkit_ident::version::same_release`], which `sbom check`, `cpe
/// check`, `sbom generate` and `scan` use too.
pub fn same_version(a: &str, b: &str) -> bool {
    relkit_ident::version::same_release(a, b)
}

/// Builds the verdict, identifier checks and problems of a package from its evidence.
pub(crate) fn judge(
    pkg: &relkit_sbom::model::Package,
    evidence: Vec<Evidence>,
    files: FilesInfo,
    looked_for: Vec<String>,
) -> PackageReport {
    let declared = pkg.version.clone();
    // The version the evidence shows: the first one (evidence is in rule order).
    let found = evidence.first().map(|e| e.version.clone());
    let mut problems = Vec::new();
    let mut verdict = Verdict::Unverifiable;
    if found.is_some() {
        let disagreeing: Vec<&Evidence> = evidence
            .iter()
            .filter(|e| {
                !declared
                    .as_deref()
                    .is_some_and(|d| same_version(d, &e.version))
            })
            .collect();
        if disagreeing.is_empty() {
            verdict = Verdict::Confirmed;
        } else {
            verdict = Verdict::Contradicted;
            for e in disagreeing {
                problems.push(format!(
                    "declared {}, but {}{} shows {} ({})",
                    declared.as_deref().unwrap_or("no version"),
                    e.file,
                    e.line
                        .map(|l| format!(" line {l}"))
                        .or(e.offset.map(|o| format!(" offset {o:#x}")))
                        .unwrap_or_default(),
                    e.version,
                    e.text
                ));
            }
        }
    }
    let mut identifiers = Vec::new();
    for cpe in &pkg.cpes {
        let version = relkit_ident::cpe::Wfn::parse(cpe).ok().and_then(|w| {
            let v = w.version()?;
            Some(
                match w.get(relkit_ident::cpe::Attribute::Update).unquoted() {
                    Some(u) => format!("{v}{u}"),
                    None => v,
                },
            )
        });
        identifiers.push(id_check("cpe", cpe, version, &declared, &found));
    }
    for purl in &pkg.purls {
        // A distribution package's version names the upstream release inside it plus the
        // packager's epoch and release: the upstream part is what bytes and versions show.
        let version = relkit_ident::purl::Purl::parse(purl).ok().and_then(|p| {
            let v = p.version?;
            Some(relkit_ident::version::upstream_of(&p.ty, &v).to_string())
        });
        identifiers.push(id_check("purl", purl, version, &declared, &found));
    }
    for i in &identifiers {
        if !i.matches_declared {
            problems.push(format!(
                "{} {} names version {}, the package declares {}",
                i.kind,
                i.value,
                i.version.as_deref().unwrap_or("none"),
                declared.as_deref().unwrap_or("none")
            ));
        }
        if i.matches_evidence == Some(false) {
            if verdict == Verdict::Confirmed {
                verdict = Verdict::Contradicted;
            }
            problems.push(format!(
                "{} {} names version {}, the evidence shows {}",
                i.kind,
                i.value,
                i.version.as_deref().unwrap_or("none"),
                found.as_deref().unwrap_or("none")
            ));
        }
    }
    PackageReport {
        id: pkg.id.clone(),
        name: pkg.name.clone(),
        declared_version: declared,
        verdict,
        found_version: found,
        evidence,
        identifiers,
        files,
        looked_for,
        problems,
    }
}

fn id_check(
    kind: &str,
    value: &str,
    version: Option<String>,
    declared: &Option<String>,
    found: &Option<String>,
) -> IdentifierCheck {
    let eq = |other: &Option<String>| match (&version, other) {
        (Some(v), Some(o)) => same_version(v, o),
        _ => false,
    };
    IdentifierCheck {
        kind: kind.into(),
        value: value.into(),
        matches_declared: declared.is_none() || eq(declared),
        matches_evidence: found.as_ref().map(|_| eq(found)),
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_like_releases() {
        assert!(same_version("3.49.1.0", "3.49.1"));
        assert!(same_version("v1.2", "1.2"));
        assert!(!same_version("2.6.3", "2.7.1"));
        assert!(same_version(
            "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0",
            "BB3D0DC8"
        ));
        assert!(!same_version(
            "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0",
            "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff1"
        ));
    }
}
