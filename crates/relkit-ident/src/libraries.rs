//! The one table of the libraries relkit knows (`libraries.toml`, compiled in): each library's
//! identity (name, aliases, supplier, license, CPE `vendor:product` pairs, PURL) with its
//! source rules (where a source tree records its version: `sbom verify`) and its binary rules
//! (what a built library embeds about itself: `sbom generate`).
//!
//! This module only parses and indexes the table; the rules are strings here, compiled by the
//! crates that apply them (relkit-truth for source rules, relkit-sbom for binary rules), so
//! relkit-ident stays free of regex engines. The table's format is documented at the top of
//! `libraries.toml`.

use std::sync::OnceLock;

use serde::Deserialize;

const LIBRARIES_TOML: &str = include_str!("libraries.toml");

/// The whole table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// One row per library.
    pub library: Vec<Library>,
    /// Source rules tried for any package no library row gave evidence for.
    pub generic: Vec<SourceRule>,
}

/// One library: its identity and the rules that find it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// Name as SBOMs spell it.
    pub name: String,
    /// Other names SBOMs use for it.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// SPDX supplier string (`Organization: …`).
    pub supplier: Option<String>,
    /// SPDX license expression.
    pub license: Option<String>,
    /// CPE `vendor:product` pairs that identify it; the first is the one relkit writes.
    #[serde(default)]
    pub cpe: Vec<String>,
    /// PURL without a version.
    pub purl: Option<String>,
    /// Source rules, in the order tried.
    #[serde(default)]
    pub source: Vec<SourceRule>,
    /// Binary rules.
    #[serde(default)]
    pub binary: BinaryRules,
}

/// How one source file records a version (regexes as strings; see `libraries.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRule {
    /// File name or path suffix; `None` for the bundled-wheel rule.
    pub file: Option<String>,
    /// Alternative regexes; group 1 is the version.
    #[serde(default)]
    pub version: Vec<String>,
    /// Regexes whose group 1 are the version parts, dot-joined.
    #[serde(default)]
    pub parts: Vec<String>,
    /// The version is a git commit.
    #[serde(default)]
    pub commit: bool,
    /// The bundled-wheel rule.
    #[serde(default)]
    pub wheel: bool,
}

/// What a built library embeds about itself (regexes as strings; see `libraries.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryRules {
    /// Regexes over the raw bytes.
    #[serde(default)]
    pub ascii: Vec<String>,
    /// Regexes over UTF-16LE strings.
    #[serde(default)]
    pub utf16: Vec<String>,
    /// A literal the file must contain for the `ascii` regexes to be tried.
    pub marker: Option<String>,
    /// Literals any of which means the file is another library: no rule of this one applies.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Regex on the PE VERSIONINFO ProductName.
    pub product: Option<String>,
    /// Regex the VERSIONINFO CompanyName must match too.
    pub company: Option<String>,
    /// Regex the VERSIONINFO FileDescription must match too.
    pub description: Option<String>,
    /// Keep only this many dot-separated parts of a VERSIONINFO version.
    pub version_parts: Option<usize>,
    /// The library's own exported API (ELF, Mach-O), with `rodata`.
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Regexes over whole read-only-data strings, with `symbols`.
    #[serde(default)]
    pub rodata: Vec<String>,
    /// Regexes over whole strings that must all match: the library's own strings.
    #[serde(default)]
    pub linked: Vec<String>,
    /// With `linked`: regexes over whole strings giving the version.
    #[serde(default)]
    pub bare: Vec<String>,
}

impl Library {
    /// Whether `name` is this library's name or one of its aliases (ASCII case-insensitive).
    pub fn is_named(&self, name: &str) -> bool {
        std::iter::once(&self.name)
            .chain(&self.aliases)
            .any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The CPE 2.3 name relkit writes for `version` (from the first `vendor:product` pair).
    pub fn cpe_for(&self, version: &str) -> Option<String> {
        let (vendor, product) = self.cpe.first()?.split_once(':')?;
        Some(format!(
            "cpe:2.3:a:{vendor}:{product}:{version}:*:*:*:*:*:*:*"
        ))
    }

    /// The PURL relkit writes for `version`.
    pub fn purl_for(&self, version: &str) -> Option<String> {
        Some(format!("{}@{version}", self.purl.as_ref()?))
    }
}

/// The table, parsed once (its validity is unit-tested).
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| toml::from_str(LIBRARIES_TOML).expect("libraries.toml is valid"))
}

/// Every library of the table, in table order.
pub fn all() -> &'static [Library] {
    &table().library
}

/// The library named `name` (or aliased so), ASCII case-insensitive.
pub fn find(name: &str) -> Option<&'static Library> {
    all().iter().find(|l| l.is_named(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_parses_and_names_are_unique() {
        let mut seen = BTreeSet::new();
        for lib in all() {
            for n in std::iter::once(&lib.name).chain(&lib.aliases) {
                assert!(
                    seen.insert(n.to_ascii_lowercase()),
                    "{n} names two libraries"
                );
            }
            for pair in &lib.cpe {
                let parts: Vec<_> = pair.split(':').collect();
                assert!(
                    parts.len() == 2 && parts.iter().all(|p| !p.is_empty()),
                    "{}: cpe {pair:?} is not vendor:product",
                    lib.name
                );
            }
            if let Some(p) = &lib.purl {
                assert!(
                    p.starts_with("pkg:") && !p.contains('@'),
                    "{}: purl {p:?} without a version",
                    lib.name
                );
            }
            let b = &lib.binary;
            assert!(
                !lib.source.is_empty()
                    || !b.ascii.is_empty()
                    || !b.utf16.is_empty()
                    || b.product.is_some()
                    || !b.symbols.is_empty()
                    || !b.linked.is_empty(),
                "{}: a library row without a rule",
                lib.name
            );
            // `rodata` reads strings next to the library's API: never without `symbols`.
            assert!(b.symbols.is_empty() <= b.rodata.is_empty(), "{}", lib.name);
            assert!(b.linked.is_empty() <= b.bare.is_empty(), "{}", lib.name);
        }
        assert!(!table().generic.is_empty());
    }

    #[test]
    fn identity_is_built_from_the_row() {
        let expat = find("LIBEXPAT").unwrap();
        assert_eq!(expat.name, "expat");
        assert_eq!(
            expat.cpe_for("2.7.1").as_deref(),
            Some("cpe:2.3:a:libexpat_project:libexpat:2.7.1:*:*:*:*:*:*:*")
        );
        assert_eq!(
            expat.purl_for("2.7.1").as_deref(),
            Some("pkg:generic/expat@2.7.1")
        );
        assert!(find("no-such-library").is_none());
    }
}
