//! PEP 770 SBOMs: the SPDX or CycloneDX documents a wheel carries in
//! `NAME-VERSION.dist-info/sboms/` (written by auditwheel for the system libraries it copies
//! into `NAME.libs/`, or by the project for what it bundles).
//!
//! They are declarations, read and merged into the wheel's SBOM, each declared component kept
//! with its source (the document's path and the tool that wrote it) and contained in the
//! wheel's package. What a declaration lacks is said, not filled in: a component without a
//! PURL or a CPE cannot be matched to any advisory, which is a warning naming it.

use std::collections::BTreeMap;

use crate::model::{Document, Evidence, IdAllocator, Package, Relationship};

/// The method of evidence taken from a PEP 770 SBOM.
pub const METHOD: &str = "pep770: ";

/// Whether a wheel member is a PEP 770 SBOM (`*.dist-info/sboms/*.json`).
pub fn is_sbom(path: &str) -> bool {
    path.ends_with(".json")
        && path
            .rsplit_once('/')
            .is_some_and(|(dir, _)| dir.ends_with(".dist-info/sboms"))
}

/// Merges the PEP 770 SBOMs among `kept` (wheel members by path) into `doc`, whose package
/// `top` is the wheel's own distribution (`name`, normalized as PyPI does). Returns the
/// warnings: documents that cannot be read, components that cannot be matched.
pub fn merge(
    doc: &mut Document,
    top: &str,
    name: &str,
    kept: &BTreeMap<String, Vec<u8>>,
    origin: &str,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut ids = IdAllocator::default();
    for p in &doc.packages {
        ids.reserve(&p.id);
    }
    for f in &doc.files {
        ids.reserve(&f.id);
    }
    let mut by_purl: BTreeMap<String, String> = BTreeMap::new();
    for (path, bytes) in kept.iter().filter(|(p, _)| is_sbom(p)) {
        let label = format!("{origin}!{path}");
        let declared = match crate::json::parse(bytes, &label).and_then(|v| crate::read(&v, &label))
        {
            Ok((d, _, _)) => d,
            Err(e) => {
                warnings.push(format!(
                    "{label}: PEP 770 SBOM not read, its declarations are missing: {e}"
                ));
                continue;
            }
        };
        let tool = declared
            .creators
            .iter()
            .find_map(|c| c.strip_prefix("Tool: "))
            .unwrap_or("an unnamed tool")
            .to_string();
        let file = path.rsplit('/').next().unwrap_or(path);
        for p in declared.packages {
            if declared.describes.contains(&p.id) || is_the_wheel(&p, name) {
                continue;
            }
            let key = p
                .purls
                .first()
                .map(|u| u.split('#').next().unwrap_or(u).to_string());
            let evidence = Evidence {
                file: path.clone(),
                offset: None,
                method: format!("{METHOD}{file} by {tool}"),
                text: format!("{} {}", p.name, p.version.as_deref().unwrap_or("")),
            };
            if let Some(id) = key.as_ref().and_then(|k| by_purl.get(k)) {
                let id = id.clone();
                let same = doc.packages.iter_mut().find(|q| q.id == id);
                if let Some(q) = same.filter(|q| !q.evidence.contains(&evidence)) {
                    q.evidence.push(evidence);
                }
                continue;
            }
            if p.purls.is_empty() && p.cpes.is_empty() {
                warnings.push(format!(
                    "{label}: component {} {} has no PURL and no CPE: no advisory can be matched to it",
                    p.name,
                    p.version.as_deref().unwrap_or("(no version)")
                ));
            }
            let id = ids.allocate(
                "SPDXRef-Package-",
                &format!("{}-{}", p.name, p.version.as_deref().unwrap_or("")),
            );
            if let Some(k) = key {
                by_purl.insert(k, id.clone());
            }
            doc.relationships.push(Relationship {
                from: top.to_string(),
                kind: "CONTAINS".into(),
                to: id.clone(),
            });
            doc.packages.push(Package {
                id,
                comment: Some(format!("declared in {path} (PEP 770) by {tool}")),
                evidence: vec![evidence],
                files_analyzed: false,
                verification_code: None,
                ..p
            });
        }
    }
    warnings
}

/// A declared `pkg:pypi/NAME@…` that is the wheel's own distribution.
fn is_the_wheel(p: &Package, name: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    p.purls.iter().any(|u| {
        u.strip_prefix("pkg:pypi/")
            .and_then(|r| r.split(['@', '?', '#']).next())
            .is_some_and(|n| norm(n) == norm(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_members_are_the_dist_info_sboms_json_files() {
        assert!(is_sbom("x-1.dist-info/sboms/auditwheel.cdx.json"));
        assert!(!is_sbom("x-1.dist-info/RECORD"));
        assert!(!is_sbom("x/sboms/a.json"));
    }
}
