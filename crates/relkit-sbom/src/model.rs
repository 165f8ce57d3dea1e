//! The one internal SBOM model that every reader fills and every writer serializes.
//!
//! It is deliberately close to SPDX 2.3 (packages, files, relationships) because SPDX is the
//! richer of the two for source trees; CycloneDX components map onto packages and files.

use std::collections::{BTreeMap, BTreeSet};

/// A checksum algorithm and its lowercase hex value, e.g. `SHA256` / `9f86…`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checksum {
    /// SPDX spelling of the algorithm (`SHA1`, `SHA256`, `SHA3-256`, `BLAKE2b-256`, …).
    pub algorithm: String,
    /// Lowercase hex digest.
    pub value: String,
}

/// Where a component was found in the bytes of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Evidence {
    /// Path of the file (inside the scanned tree or archive) holding the evidence.
    pub file: String,
    /// Byte offset of the evidence string in the file, when it is a string match.
    pub offset: Option<u64>,
    /// How it was found: `pe-versioninfo`, `ascii-string`, `utf16-string`, `dist-info`, ….
    pub method: String,
    /// The string that was found.
    pub text: String,
}

impl Evidence {
    /// The prefix of [`Evidence::method`] for evidence read from a package manager's files
    /// (`manifest: Cargo.lock v4`), as opposed to bytes of a built artifact.
    pub const MANIFEST: &'static str = "manifest: ";

    /// The [`Evidence::method`]s of linking facts: what a binary says about how it links
    /// (ELF `DT_SONAME`/`DT_NEEDED`/build-id/`.comment`, PE imports, Mach-O `LC_ID_DYLIB` /
    /// `LC_LOAD_DYLIB`). They locate and describe the file a component was found in; they are
    /// never evidence of the component's version (a soname's number is an ABI number).
    pub const LINKING: &'static [&'static str] = &[
        "elf-soname",
        "elf-needed",
        "elf-build-id",
        "elf-comment",
        "pe-import",
        "macho-id-dylib",
        "macho-load-dylib",
    ];

    /// Whether it is a linking fact ([`Evidence::LINKING`]), not evidence of the version.
    pub fn is_linking(&self) -> bool {
        Self::LINKING.contains(&self.method.as_str())
    }

    /// Whether it was read from package metadata (a lockfile, a dist-info directory) rather
    /// than found in the bytes of a binary.
    pub fn is_manifest(&self) -> bool {
        self.method == "dist-info" || self.method.starts_with(Self::MANIFEST)
    }
}

/// A package (SPDX) or library/application component (CycloneDX).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Package {
    /// Unique element id (SPDXID or bom-ref).
    pub id: String,
    /// Package name.
    pub name: String,
    /// Version, when known.
    pub version: Option<String>,
    /// Supplier in SPDX form (`Organization: X` / `Person: Y`).
    pub supplier: Option<String>,
    /// Originator in SPDX form.
    pub originator: Option<String>,
    /// Download location URL or `NOASSERTION` / `NONE`.
    pub download_location: Option<String>,
    /// Home page URL.
    pub homepage: Option<String>,
    /// Concluded license expression.
    pub license_concluded: Option<String>,
    /// Declared license expression.
    pub license_declared: Option<String>,
    /// Copyright text.
    pub copyright: Option<String>,
    /// Checksums of the package artifact.
    pub checksums: Vec<Checksum>,
    /// CPE 2.3 formatted strings.
    pub cpes: Vec<String>,
    /// Package URLs.
    pub purls: Vec<String>,
    /// SPDX package verification code (40 hex), when files were analyzed.
    pub verification_code: Option<String>,
    /// Whether the package's files are listed (SPDX `filesAnalyzed`).
    pub files_analyzed: bool,
    /// SPDX primary package purpose (`SOURCE`, `LIBRARY`, `APPLICATION`, `FILE`, …).
    pub purpose: Option<String>,
    /// Free-text comment.
    pub comment: Option<String>,
    /// Evidence that the component is really present.
    pub evidence: Vec<Evidence>,
}

/// A file with its checksums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct File {
    /// Unique element id.
    pub id: String,
    /// Path relative to the tree root, `/`-separated, without a leading `./`.
    pub name: String,
    /// Checksums of the file content.
    pub checksums: Vec<Checksum>,
    /// Concluded license expression.
    pub license_concluded: Option<String>,
    /// Copyright text.
    pub copyright: Option<String>,
    /// Free-text comment.
    pub comment: Option<String>,
}

/// A directed relationship between two elements, e.g. `A CONTAINS B`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Relationship {
    /// Source element id.
    pub from: String,
    /// SPDX relationship type (`DESCRIBES`, `CONTAINS`, `DEPENDS_ON`, …).
    pub kind: String,
    /// Target element id (`NOASSERTION` / `NONE` allowed).
    pub to: String,
}

/// A whole SBOM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Document name.
    pub name: String,
    /// Unique namespace URI (SPDX `documentNamespace`; CycloneDX serial number is derived).
    pub namespace: String,
    /// Creation time, RFC 3339 UTC (`2025-06-11T00:00:00Z`).
    pub created: String,
    /// Creators in SPDX form (`Tool: relkit-0.1.0`, `Organization: X`).
    pub creators: Vec<String>,
    /// Ids of the elements the document describes (the top packages).
    pub describes: Vec<String>,
    /// All packages / components.
    pub packages: Vec<Package>,
    /// All files.
    pub files: Vec<File>,
    /// Relationships other than the document's DESCRIBES.
    pub relationships: Vec<Relationship>,
}

/// Fields of an input document that the model could not carry (JSON paths).
pub type Dropped = Vec<String>;

impl Document {
    /// Puts everything in canonical order so that the same content serializes to the same bytes.
    pub fn normalize(&mut self) {
        self.packages.sort_by(|a, b| a.id.cmp(&b.id));
        for p in &mut self.packages {
            p.checksums.sort();
            p.checksums.dedup();
            p.cpes.sort();
            p.cpes.dedup();
            p.purls.sort();
            p.purls.dedup();
            p.evidence.sort();
            p.evidence.dedup();
        }
        self.files
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        for f in &mut self.files {
            f.checksums.sort();
            f.checksums.dedup();
        }
        self.relationships.sort();
        self.relationships.dedup();
        self.describes.sort();
        self.describes.dedup();
        self.creators.sort();
        self.creators.dedup();
    }

    /// The package with this id.
    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// Ids of the files each package CONTAINS, for all packages in one pass over the
    /// relationships (calling [`Document::contained_files`] per package is quadratic: a tree
    /// with thousands of cataloged packages made that the slowest step of `sbom generate`).
    pub fn contained_files_by_package(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let files: BTreeSet<&str> = self.files.iter().map(|f| f.id.as_str()).collect();
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for r in &self.relationships {
            if r.kind == "CONTAINS" && files.contains(r.to.as_str()) {
                out.entry(r.from.as_str())
                    .or_default()
                    .insert(r.to.as_str());
            }
        }
        out
    }

    /// Leaves the file inventory out: every file, every relationship to or from one, and the
    /// packages' file analysis (SPDX `filesAnalyzed` false, no verification code).
    pub fn drop_files(&mut self) {
        let files: BTreeSet<String> = self.files.drain(..).map(|f| f.id).collect();
        self.relationships
            .retain(|r| !files.contains(&r.from) && !files.contains(&r.to));
        for p in &mut self.packages {
            p.files_analyzed = false;
            p.verification_code = None;
        }
    }

    /// Ids of the files a package CONTAINS.
    pub fn contained_files(&self, package_id: &str) -> BTreeSet<&str> {
        let files: BTreeSet<&str> = self.files.iter().map(|f| f.id.as_str()).collect();
        self.relationships
            .iter()
            .filter(|r| {
                r.from == package_id && r.kind == "CONTAINS" && files.contains(r.to.as_str())
            })
            .map(|r| r.to.as_str())
            .collect()
    }
}

impl Package {
    /// The first checksum with this algorithm.
    pub fn checksum(&self, algorithm: &str) -> Option<&str> {
        self.checksums
            .iter()
            .find(|c| c.algorithm == algorithm)
            .map(|c| c.value.as_str())
    }
}

impl File {
    /// The first checksum with this algorithm.
    pub fn checksum(&self, algorithm: &str) -> Option<&str> {
        self.checksums
            .iter()
            .find(|c| c.algorithm == algorithm)
            .map(|c| c.value.as_str())
    }
}

/// Turns arbitrary text into the characters allowed in an SPDX id (`[A-Za-z0-9.-]`).
pub fn sanitize_id(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Hands out unique SPDX ids, adding `-2`, `-3`, … on collisions.
#[derive(Debug, Default)]
pub struct IdAllocator {
    used: BTreeSet<String>,
}

impl IdAllocator {
    /// Returns `prefix` + sanitized `text`, made unique.
    pub fn allocate(&mut self, prefix: &str, text: &str) -> String {
        let base = format!("{prefix}{}", sanitize_id(text));
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        id
    }

    /// Marks an id as taken.
    pub fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_string());
    }
}

/// SPDX package verification code: SHA-1 over the sorted, concatenated SHA-1 hex values of the
/// package's files (SPDX 2.3 §7.9).
pub fn verification_code<'a>(file_sha1s: impl IntoIterator<Item = &'a str>) -> String {
    use sha1::{Digest, Sha1};
    let mut values: Vec<String> = file_sha1s
        .into_iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    values.sort();
    let mut hasher = Sha1::new();
    for v in &values {
        hasher.update(v.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
pub use relkit_core::time::rfc3339_from_epoch;

/// Normalizes an RFC 3339 timestamp with any offset or fraction to SPDX's UTC form
/// `YYYY-MM-DDThh:mm:ssZ`; `None` when it is not RFC 3339.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = relkit_core::time::epoch_from_civil(y as i32, mo as u8, d as u8)?;
    Some(rfc3339_from_epoch(days + h * 3600 + mi * 60 + se - offset))
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_normalized_to_utc() {
        assert_eq!(
            normalize_timestamp("2020-04-13T20:20:39+00:00").as_deref(),
            Some("2020-04-13T20:20:39Z")
        );
        assert_eq!(
            normalize_timestamp("2020-04-13T20:20:39.123-02:30").as_deref(),
            Some("2020-04-13T22:50:39Z")
        );
        assert_eq!(
            normalize_timestamp("2025-06-11T00:00:00Z").as_deref(),
            Some("2025-06-11T00:00:00Z")
        );
        assert_eq!(normalize_timestamp("2020-04-13"), None);
    }

    use super::*;

    #[test]
    fn epoch_formatting() {
        assert_eq!(rfc3339_from_epoch(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_epoch(1_749_600_000), "2025-06-11T00:00:00Z");
        assert_eq!(rfc3339_from_epoch(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn verification_code_is_order_independent_sha1_of_sorted_hashes() {
        let a = "39e6f567a10e36b2e77727e98e60bbcb3eb3af0b";
        let b = "0000000000000000000000000000000000000001";
        let code = verification_code([a, b]);
        assert_eq!(code, verification_code([b, a]));
        use sha1::{Digest, Sha1};
        let expected = hex::encode(Sha1::digest(format!("{b}{a}").as_bytes()));
        assert_eq!(code, expected);
    }

    #[test]
    fn ids_are_sanitized_and_unique() {
        let mut ids = IdAllocator::default();
        assert_eq!(
            ids.allocate("SPDXRef-FILE-", "Modules/expat/a_b.h"),
            "SPDXRef-FILE-Modules-expat-a-b.h"
        );
        assert_eq!(
            ids.allocate("SPDXRef-FILE-", "Modules/expat/a-b.h"),
            "SPDXRef-FILE-Modules-expat-a-b.h-2"
        );
    }
}
