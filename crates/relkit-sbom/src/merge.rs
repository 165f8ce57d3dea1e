//! `sbom merge`: several SBOMs (source, Windows, docs…) into one release SBOM whose new root
//! package CONTAINS the top packages of every input.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::model::{Document, IdAllocator, Package, Relationship};

/// Merges `docs` under a new root package `name`/`version`. Identical elements (same id, same
/// content) are kept once; colliding ids with different content are renamed (`-2`, …) and the
/// input's relationships follow the rename.
pub fn merge(docs: &[Document], name: &str, version: Option<&str>, created: &str) -> Document {
    let mut ids = IdAllocator::default();
    ids.reserve(crate::spdx::DOCUMENT_ID);
    let root_id = ids.allocate(
        "SPDXRef-PACKAGE-",
        &format!("release-{}", name.to_ascii_lowercase()),
    );
    let mut out = Document {
        created: created.to_string(),
        creators: vec![crate::tool_creator()],
        ..Document::default()
    };
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    let mut files: BTreeMap<String, crate::model::File> = BTreeMap::new();
    let mut ns = Sha256::new();
    for doc in docs {
        ns.update(doc.namespace.as_bytes());
        let mut rename: BTreeMap<String, String> = BTreeMap::new();
        for p in &doc.packages {
            match packages.get(&p.id) {
                Some(existing) if existing == p => {}
                Some(_) => {
                    let new_id = ids.allocate("", &p.id);
                    rename.insert(p.id.clone(), new_id.clone());
                    packages.insert(
                        new_id.clone(),
                        Package {
                            id: new_id,
                            ..p.clone()
                        },
                    );
                }
                None => {
                    ids.reserve(&p.id);
                    packages.insert(p.id.clone(), p.clone());
                }
            }
        }
        for f in &doc.files {
            match files.get(&f.id) {
                Some(existing) if existing == f => {}
                Some(_) => {
                    let new_id = ids.allocate("", &f.id);
                    rename.insert(f.id.clone(), new_id.clone());
                    files.insert(
                        new_id.clone(),
                        crate::model::File {
                            id: new_id,
                            ..f.clone()
                        },
                    );
                }
                None => {
                    ids.reserve(&f.id);
                    files.insert(f.id.clone(), f.clone());
                }
            }
        }
        let map = |id: &String| rename.get(id).cloned().unwrap_or_else(|| id.clone());
        for r in &doc.relationships {
            out.relationships.push(Relationship {
                from: map(&r.from),
                kind: r.kind.clone(),
                to: map(&r.to),
            });
        }
        for d in &doc.describes {
            out.relationships.push(Relationship {
                from: root_id.clone(),
                kind: "CONTAINS".into(),
                to: map(d),
            });
        }
        out.creators.extend(
            doc.creators
                .iter()
                .filter(|c| !c.starts_with("Tool: relkit"))
                .cloned(),
        );
    }
    packages.insert(
        root_id.clone(),
        Package {
            id: root_id.clone(),
            name: name.to_string(),
            version: version.map(str::to_string),
            download_location: Some("NOASSERTION".into()),
            files_analyzed: false,
            purpose: Some("OTHER".into()),
            comment: Some(format!(
                "release SBOM merged from {} documents by relkit",
                docs.len()
            )),
            ..Package::default()
        },
    );
    out.packages = packages.into_values().collect();
    out.files = files.into_values().collect();
    out.describes = vec![root_id];
    out.name = match version {
        Some(v) => format!("{name}-{v}"),
        None => name.to_string(),
    };
    out.namespace = format!(
        "https://spdx.org/spdxdocs/relkit/{}-{}",
        crate::model::sanitize_id(&out.name),
        &hex::encode(ns.finalize())[..16]
    );
    out.normalize();
    out
}
