//! The wheels at the top of a directory given to `sbom generate` — a release's `dist/`, a
//! wheelhouse: each is read as a wheel ([`crate::source::generate_wheel_warning`]: its dist-info
//! identity, RECORD verified, PEP 770 SBOMs merged, vendored and linked-in native libraries) and
//! its packages are grafted under the directory's top package, which CONTAINS each wheel's
//! package. The wheel's members are not listed again (the directory's inventory lists the
//! `.whl` file itself, hashed).
//!
//! Only the directory's top level: wheels deeper in a source tree are test data or bundled
//! wheels (CPython's `Lib/ensurepip/_bundled`, handled as such), not what the tree ships.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Result;
use crate::model::{Document, IdAllocator, Relationship};
use crate::source::SourceOptions;

/// Whether `rel` (a path relative to the directory) is a wheel at its top level.
pub(crate) fn is_top_wheel(rel: &str) -> bool {
    !rel.contains('/') && rel.ends_with(".whl")
}

/// Reads each top-level wheel of the directory `dir` (their relative paths in `wheels`) and
/// grafts its packages into `doc`; returns the wheels' warnings, each prefixed with the wheel.
pub(crate) fn add(
    doc: &mut Document,
    dir: &Path,
    wheels: &[&str],
    opts: &SourceOptions,
) -> Result<Vec<String>> {
    let Some(top) = doc.describes.first().cloned() else {
        return Ok(Vec::new());
    };
    let mut ids = IdAllocator::default();
    for p in &doc.packages {
        ids.reserve(&p.id);
    }
    for f in &doc.files {
        ids.reserve(&f.id);
    }
    let mut warnings = Vec::new();
    for rel in wheels {
        let wheel_opts = SourceOptions {
            created: opts.created.clone(),
            ..SourceOptions::default()
        };
        let (sub, w) = crate::source::generate_wheel_warning(&dir.join(rel), &wheel_opts, &|_| {})?;
        warnings.extend(w.into_iter().map(|w| format!("{rel}: {w}")));
        graft(doc, &top, sub, &mut ids);
    }
    Ok(warnings)
}

/// Moves the packages of `sub` (not its files) into `doc` with fresh ids; `parent` CONTAINS
/// the packages `sub` describes.
fn graft(doc: &mut Document, parent: &str, sub: Document, ids: &mut IdAllocator) {
    let files: BTreeSet<&str> = sub.files.iter().map(|f| f.id.as_str()).collect();
    let mut rename: BTreeMap<String, String> = BTreeMap::new();
    for p in &sub.packages {
        rename.insert(p.id.clone(), ids.allocate("SPDXRef-Package-", &p.id));
    }
    for r in &sub.relationships {
        if files.contains(r.from.as_str()) || files.contains(r.to.as_str()) {
            continue;
        }
        let (Some(from), Some(to)) = (rename.get(&r.from), rename.get(&r.to)) else {
            continue;
        };
        doc.relationships.push(Relationship {
            from: from.clone(),
            kind: r.kind.clone(),
            to: to.clone(),
        });
    }
    for d in &sub.describes {
        if let Some(id) = rename.get(d) {
            doc.relationships.push(Relationship {
                from: parent.to_string(),
                kind: "CONTAINS".into(),
                to: id.clone(),
            });
        }
    }
    for mut p in sub.packages {
        p.id = rename[&p.id].clone();
        // Its files are not in this document: no file analysis, no verification code.
        p.files_analyzed = false;
        p.verification_code = None;
        doc.packages.push(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_top_level_wheels() {
        assert!(is_top_wheel("pillow-12.2.0-cp313-cp313-win_amd64.whl"));
        assert!(!is_top_wheel(
            "Lib/ensurepip/_bundled/pip-25.0-py3-none-any.whl"
        ));
        assert!(!is_top_wheel("pillow-12.2.0.tar.gz"));
    }
}
