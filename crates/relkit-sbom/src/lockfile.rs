//! An SBOM of one lockfile: relkit-catalog's packages as SPDX packages (PURL, the lockfile's
//! checksums, the scope as the package's purpose comment) with the lockfile's `DEPENDS_ON`
//! graph; the project's own packages are what the document describes. Used by `relkit scan
//! Cargo.lock` (and any lockfile relkit-catalog reads), so a project can scan what it
//! depends on without building first.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{self, Document, IdAllocator};

/// Whether relkit-catalog reads a file of this name.
pub fn is_lockfile(path: &Path) -> bool {
    path.is_file() && relkit_catalog::cataloger_for(&path.to_string_lossy()).is_some()
}

/// Reads the lockfile at `path` and returns its SBOM and the cataloger's warnings.
pub fn generate(
    path: &Path,
    created: &str,
    selection: crate::dependencies::Selection,
) -> Result<(Document, Vec<String>)> {
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
    let mut catalog = cataloger
        .catalog(&label, &bytes)
        .map_err(|e| Error::Catalog(Box::new(e)))?;
    if path.file_name().is_some_and(|n| n == "Cargo.lock") {
        own_crates(path, &mut catalog)?;
    }
    Ok((
        document(&catalog, &bytes, created, selection),
        catalog.warnings.clone(),
    ))
}

/// Tells the workspace's own crates from path dependencies by the `Cargo.toml` beside the
/// lockfile (relkit-catalog's `cargo_workspace`); a manifest that cannot be read fails the run.
fn own_crates(lock: &Path, catalog: &mut relkit_catalog::Catalog) -> Result<()> {
    use relkit_catalog::cargo_workspace;
    let dir = lock.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match cargo_workspace::workspace("", &cargo_workspace::OnDisk::new(dir)) {
        Ok(Some(ws)) => {
            let ws = cargo_workspace::Workspace {
                manifest: dir.join(&ws.manifest).display().to_string(),
                ..ws
            };
            cargo_workspace::mark_own(catalog, &ws);
        }
        Ok(None) => cargo_workspace::no_manifest(catalog),
        Err(e) => {
            let e = e.relabeled(&|f| dir.join(f).display().to_string());
            return Err(Error::Catalog(Box::new(e)));
        }
    }
    Ok(())
}

/// The SBOM of a catalog read from `bytes`.
pub fn document(
    catalog: &relkit_catalog::Catalog,
    bytes: &[u8],
    created: &str,
    selection: crate::dependencies::Selection,
) -> Document {
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
    crate::dependencies::add(
        &mut doc,
        &mut ids,
        None,
        std::slice::from_ref(catalog),
        selection,
    );
    doc.namespace = format!(
        "https://spdx.org/spdxdocs/relkit/{}-{}",
        model::sanitize_id(&doc.name),
        &hex::encode(Sha256::digest(bytes))[..16]
    );
    doc.normalize();
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use relkit_catalog::Cataloger;

    /// A lockfile's graph reaches the SBOM: one package per locked package with its PURL and
    /// checksum, `DEPENDS_ON` per edge, and the project's own crate as what is described.
    #[test]
    fn packages_edges_and_the_described_root_reach_the_sbom() {
        let lock = br#"version = 4
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.228"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e"
"#;
        let catalog = relkit_catalog::CargoLock
            .catalog("Cargo.lock", lock)
            .unwrap();
        let doc = document(
            &catalog,
            lock,
            "2026-01-01T00:00:00Z",
            crate::dependencies::Selection::default(),
        );
        assert_eq!(doc.packages.len(), 2);
        let serde = doc.packages.iter().find(|p| p.name == "serde").unwrap();
        assert_eq!(serde.purls, ["pkg:cargo/serde@1.0.228"]);
        assert_eq!(serde.checksums[0].algorithm, "SHA256");
        let app = doc.packages.iter().find(|p| p.name == "app").unwrap();
        assert_eq!(doc.describes, std::slice::from_ref(&app.id));
        let depends: Vec<_> = doc
            .relationships
            .iter()
            .filter(|r| r.kind == "DEPENDS_ON")
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect();
        assert_eq!(depends, [(app.id.as_str(), serde.id.as_str())]);
        assert!(
            doc.namespace
                .starts_with("https://spdx.org/spdxdocs/relkit/Cargo.lock-")
        );
    }
}
