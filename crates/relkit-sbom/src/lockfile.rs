//! An SBOM of one lockfile: relkit-catalog's packages as SPDX packages (PURL, the lockfile's
//! checksums, the scope as the package's purpose comment) with the lockfile's `DEPENDS_ON`
//! graph; the project's own packages are what the document describes. Used by `relkit scan
//! Cargo.lock` (and any lockfile relkit-catalog reads), so a project can scan what it
//! depends on without building first.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{self, Checksum, Document, IdAllocator, Package, Relationship};

/// Whether relkit-catalog reads a file of this name.
pub fn is_lockfile(path: &Path) -> bool {
    path.is_file() && relkit_catalog::cataloger_for(&path.to_string_lossy()).is_some()
}

/// Reads the lockfile at `path` and returns its SBOM and the cataloger's warnings.
pub fn generate(path: &Path, created: &str) -> Result<(Document, Vec<String>)> {
    let label = path.display().to_string();
    let cataloger = relkit_catalog::cataloger_for(&label).ok_or_else(|| Error::Invalid {
        origin: label.clone(),
        path: String::new(),
        message: "not a lockfile relkit reads".into(),
    })?;
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let catalog = cataloger
        .catalog(&label, &bytes)
        .map_err(|e| Error::Catalog(Box::new(e)))?;
    Ok((
        document(&catalog, &bytes, created),
        catalog.warnings.clone(),
    ))
}

/// The SBOM of a catalog read from `bytes`.
pub fn document(catalog: &relkit_catalog::Catalog, bytes: &[u8], created: &str) -> Document {
    let mut ids = IdAllocator::default();
    let mut doc = Document {
        name: catalog
            .file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&catalog.file)
            .to_string(),
        created: created.to_string(),
        creators: vec![crate::tool_creator()],
        ..Document::default()
    };
    let mut pkg_ids = Vec::with_capacity(catalog.packages.len());
    for p in &catalog.packages {
        let id = ids.allocate("SPDXRef-Package-", &format!("{}-{}", p.name, p.version));
        pkg_ids.push(id.clone());
        doc.packages.push(Package {
            id,
            name: p.name.clone(),
            version: (!p.version.is_empty()).then(|| p.version.clone()),
            download_location: p.source.clone(),
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
            comment: Some(format!("{}, {} scope", catalog.format, scope_word(p.scope))),
            ..Package::default()
        });
        if p.local {
            doc.describes.push(pkg_ids.last().unwrap().clone());
        }
    }
    for &(from, to) in &catalog.edges {
        doc.relationships.push(Relationship {
            from: pkg_ids[from].clone(),
            kind: "DEPENDS_ON".into(),
            to: pkg_ids[to].clone(),
        });
    }
    doc.namespace = format!(
        "https://spdx.org/spdxdocs/relkit/{}-{}",
        model::sanitize_id(&doc.name),
        &hex::encode(Sha256::digest(bytes))[..16]
    );
    doc.normalize();
    doc
}

fn scope_word(scope: relkit_catalog::Scope) -> &'static str {
    match scope {
        relkit_catalog::Scope::Required => "required",
        relkit_catalog::Scope::Dev => "dev",
        relkit_catalog::Scope::Optional => "optional",
    }
}
