//! The libraries the binary rules find in the native binaries of a directory or archive given
//! to `sbom generate` — the vendored `NAME.libs/*.so` of an installed `site-packages`, the
//! extension modules that link a library in statically, the prebuilt binaries of a source
//! tree. Each becomes a package with the file and offset of the bytes read as evidence.
//!
//! Its container: the installed distribution whose auditwheel / delvewheel directory holds the
//! file (`pillow.libs/` belongs to `pillow`, by the PEP 503 normalized name), else the tree's top
//! package. A file no rule identifies adds nothing and says nothing (a tree holds many binaries
//! that are simply the project's own).

use std::collections::BTreeMap;

use crate::binary::{self, FileScan};
use crate::model::{Document, IdAllocator, Relationship};

/// The distribution name a vendored-library directory is named after (`pillow.libs/x.so` →
/// `pillow`), for a file directly inside a `*.libs` directory.
fn libs_dir_dist(path: &str) -> Option<String> {
    let (dir, _) = path.rsplit_once('/')?;
    let last = dir.rsplit('/').next().unwrap_or(dir);
    last.strip_suffix(".libs")
        .map(crate::source::normalize_pypi)
}

/// Adds the packages of the libraries found in `scans` to `doc`; returns the rules' notes
/// (why a library found has no version) as warnings.
pub(crate) fn add(doc: &mut Document, scans: &[FileScan]) -> Vec<String> {
    let warnings = scans.iter().flat_map(|s| s.notes.clone()).collect();
    let Some(top) = doc.describes.first().cloned() else {
        return warnings;
    };
    // Installed distributions by normalized name (their PURLs are `pkg:pypi/NAME@VERSION`).
    let dists: BTreeMap<String, String> = doc
        .packages
        .iter()
        .filter_map(|p| {
            let purl = p.purls.iter().find(|u| u.starts_with("pkg:pypi/"))?;
            let name = purl["pkg:pypi/".len()..].split(['@', '?', '#']).next()?;
            Some((crate::source::normalize_pypi(name), p.id.clone()))
        })
        .collect();
    let mut ids = IdAllocator::default();
    for p in &doc.packages {
        ids.reserve(&p.id);
    }
    for f in &doc.files {
        ids.reserve(&f.id);
    }
    for mut p in binary::components_of(scans) {
        p.id = ids.allocate(
            "SPDXRef-Package-",
            &format!("{}-{}", p.name, p.version.as_deref().unwrap_or("")),
        );
        let mut files: Vec<&str> = p
            .evidence
            .iter()
            .filter(|e| !e.is_linking())
            .map(|e| e.file.as_str())
            .collect();
        files.sort_unstable();
        files.dedup();
        let owners: Vec<&String> = files
            .iter()
            .map(|f| libs_dir_dist(f).and_then(|d| dists.get(&d)).unwrap_or(&top))
            .collect();
        let owner = if owners.windows(2).all(|w| w[0] == w[1]) {
            owners.first().map_or(top.clone(), |o| (*o).clone())
        } else {
            top.clone()
        };
        p.comment = Some(format!("native library found in {}", files.join(", ")));
        doc.relationships.push(Relationship {
            from: owner,
            kind: "CONTAINS".into(),
            to: p.id.clone(),
        });
        doc.packages.push(p);
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_directories_name_their_distribution() {
        assert_eq!(
            libs_dir_dist("psycopg2_binary.libs/libpq-a17e3caa.so.5.17").as_deref(),
            Some("psycopg2-binary")
        );
        assert_eq!(
            libs_dir_dist("site/Pillow.libs/libpng16.so").as_deref(),
            Some("pillow")
        );
        assert_eq!(
            libs_dir_dist("lxml/etree.cpython-311-x86_64-linux-gnu.so"),
            None
        );
        assert_eq!(
            crate::source::normalize_pypi("zope.interface__x"),
            "zope-interface-x"
        );
    }
}
