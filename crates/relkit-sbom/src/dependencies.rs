//! The resolved dependencies of a project in its SBOM: the packages relkit-catalog reads from
//! the lockfiles and installed-package metadata of a tree, archive or single lockfile, each
//! with its PURL, the lockfile's checksums, its scope, the lockfile as evidence, and the
//! lockfile's dependency graph as `DEPENDS_ON` relationships.
//!
//! How they hang off the document:
//! - a catalog's own packages (workspace members, the root package) are CONTAINED by the top
//!   package when there is one (they are the project), and depend on what the lockfile says;
//! - a catalog without own packages (`requirements.txt`, `go.sum`, `gradle.lockfile`): the top
//!   package DEPENDS_ON its roots (the packages nothing in the lockfile depends on);
//! - a lockfile under a vendored directory (`vendor/`, `third_party/`, `node_modules/`): its
//!   packages are vendored copies, CONTAINED by the top package, and said so in the comment.
//!
//! The same package (same PURL) found by several lockfiles is one SBOM package with one piece
//! of evidence per lockfile.

use std::collections::{BTreeSet, HashMap};

use relkit_catalog::{Catalog, Scope};

use crate::model::{Checksum, Document, Evidence, IdAllocator, Package, Relationship};

/// Which cataloged packages go into the SBOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Keep development-only packages (npm/pnpm/composer/poetry dev scopes). The default,
    /// as the ecosystems' own auditors (`npm audit`, `composer audit`) do.
    pub include_dev: bool,
}

impl Default for Selection {
    fn default() -> Selection {
        Selection { include_dev: true }
    }
}

/// Adds the packages of `catalogs` to `doc` (see the module documentation for the shape);
/// `top` is the top package's id, if the document has one. Returns how many packages were
/// added and how many left out by `selection`.
pub fn add(
    doc: &mut Document,
    ids: &mut IdAllocator,
    top: Option<&str>,
    catalogs: &[Catalog],
    selection: Selection,
) -> Added {
    let mut by_purl: HashMap<String, usize> = HashMap::new();
    let mut relationships = BTreeSet::new();
    let mut added = Added::default();
    for catalog in catalogs {
        let mut index_of = vec![None; catalog.packages.len()];
        for (i, p) in catalog.packages.iter().enumerate() {
            if p.scope == Scope::Dev && !selection.include_dev {
                added.left_out += 1;
                continue;
            }
            let slot = match by_purl.get(&p.purl) {
                Some(&slot) => slot,
                None => {
                    let slot = doc.packages.len();
                    doc.packages.push(package(ids, catalog, p));
                    by_purl.insert(p.purl.clone(), slot);
                    added.packages += 1;
                    slot
                }
            };
            let pkg = &mut doc.packages[slot];
            let evidence = evidence(catalog, p);
            if !pkg.evidence.contains(&evidence) {
                pkg.evidence.push(evidence);
            }
            index_of[i] = Some(pkg.id.clone());
        }
        for &(from, to) in &catalog.edges {
            if let (Some(a), Some(b)) = (&index_of[from], &index_of[to]) {
                relationships.insert((a.clone(), "DEPENDS_ON", b.clone()));
            }
        }
        let Some(top) = top else {
            for (i, p) in catalog.packages.iter().enumerate() {
                if let (true, Some(id)) = (p.local, &index_of[i]) {
                    doc.describes.push(id.clone());
                }
            }
            continue;
        };
        let has_own = catalog.packages.iter().any(|p| p.local);
        let has_parent: BTreeSet<usize> = catalog.edges.iter().map(|&(_, to)| to).collect();
        for (i, p) in catalog.packages.iter().enumerate() {
            let Some(id) = &index_of[i] else { continue };
            let kind = if catalog.vendored.is_some() || p.local {
                "CONTAINS"
            } else if !has_own && !has_parent.contains(&i) {
                "DEPENDS_ON"
            } else {
                continue;
            };
            relationships.insert((top.to_string(), kind, id.clone()));
        }
    }
    for (from, kind, to) in relationships {
        doc.relationships.push(Relationship {
            from,
            kind: kind.into(),
            to,
        });
    }
    doc.describes.sort();
    doc.describes.dedup();
    added
}

/// What [`add`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    /// Distinct packages added.
    pub packages: usize,
    /// Package occurrences left out by the selection (dev scope).
    pub left_out: usize,
}

fn package(ids: &mut IdAllocator, catalog: &Catalog, p: &relkit_catalog::Package) -> Package {
    let id = ids.allocate("SPDXRef-Package-", &format!("{}-{}", p.name, p.version));
    let mut comment = format!("{}, {} scope", catalog.format, p.scope.word());
    if let Some(dir) = &catalog.vendored {
        comment.push_str(&format!(", vendored copy under {dir}"));
    }
    Package {
        id,
        name: p.name.clone(),
        version: (!p.version.is_empty()).then(|| p.version.clone()),
        download_location: download_location(p),
        checksums: p
            .checksums
            .iter()
            .map(|c| Checksum {
                algorithm: c.algorithm.to_string(),
                value: c.hex.clone(),
            })
            .collect(),
        purls: vec![p.purl.clone()],
        purpose: Some(if p.local { "APPLICATION" } else { "LIBRARY" }.into()),
        comment: Some(comment),
        ..Package::default()
    }
}

/// Where the package is downloaded from, as SPDX accepts it:
/// - the project's own packages (workspace members, path dependencies) have none: `NONE`,
///   which the scanner reads, with manifest evidence, as "not a registry package";
/// - a crate from crates.io: its download URL (Cargo.lock names the index, not the file);
/// - a lockfile source that is a URL or VCS location (npm's `resolved` tarball, a git URL):
///   as it is;
/// - anything else (another registry's index, a lockfile without sources such as go.mod or
///   pnpm): no claim (NOASSERTION), never a string SPDX tools reject.
fn download_location(p: &relkit_catalog::Package) -> Option<String> {
    if p.local {
        return Some("NONE".into());
    }
    let source = p.source.as_deref()?;
    let crates_io = [
        "registry+https://github.com/rust-lang/crates.io-index",
        "sparse+https://index.crates.io/",
    ];
    if p.ecosystem == relkit_catalog::Ecosystem::Cargo && crates_io.contains(&source) {
        return Some(format!(
            "https://crates.io/api/v1/crates/{}/{}/download",
            p.name, p.version
        ));
    }
    crate::check::is_download_location(source).then(|| source.to_string())
}

/// The lockfile a package was read from, as evidence.
fn evidence(catalog: &Catalog, p: &relkit_catalog::Package) -> Evidence {
    Evidence {
        file: catalog.file.clone(),
        offset: None,
        method: format!("{}{}", Evidence::MANIFEST, catalog.format),
        text: format!("{} {}", p.name, p.version),
    }
}

/// An error and its causes on one line (`file: what: why`), for warnings.
pub fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
