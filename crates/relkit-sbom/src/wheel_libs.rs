//! The native libraries a wheel vendors: auditwheel's `NAME.libs/` (Linux), delocate's
//! `NAME/.dylibs/` (macOS) and delvewheel's `NAME.libs/` (Windows). Each is read with the
//! binary rules (what the library embeds about itself: its version banner, its version API's
//! string), and every library found becomes a package contained in the wheel, with the file and
//! offset of the bytes read as evidence. A vendored file no rule identifies is said, not
//! guessed from its file name (`libpq-a17e3caa.so.5.17` is not PostgreSQL 5.17).

use std::collections::BTreeMap;

use crate::binary::{self, FileScan};
use crate::error::Result;
use crate::model::{Document, IdAllocator, Relationship};

/// Whether a wheel member lies in a directory where wheel repair tools put vendored native
/// libraries.
pub fn is_vendored_lib(path: &str) -> bool {
    path.rsplit_once('/').is_some_and(|(dir, file)| {
        let last = dir.rsplit('/').next().unwrap_or(dir);
        !file.is_empty() && (last.ends_with(".libs") || last == ".dylibs")
    })
}

/// Adds the libraries the binary rules find in the vendored members of `kept` to `doc`, each
/// contained in the package `top`; returns the warnings (files no rule identifies).
pub fn add(
    doc: &mut Document,
    top: &str,
    kept: &BTreeMap<String, Vec<u8>>,
    origin: &str,
) -> Result<Vec<String>> {
    let mut scans: Vec<FileScan> = Vec::new();
    let mut warnings = Vec::new();
    for (path, bytes) in kept.iter().filter(|(p, _)| is_vendored_lib(p)) {
        let scan = binary::scan_bytes(path, bytes)?;
        // A rule that applied but found several versions says so (ambiguous), for the library.
        warnings.extend(scan.notes.iter().map(|n| format!("{origin}!{n}")));
        if scan.hits.is_empty() && scan.notes.is_empty() {
            warnings.push(format!(
                "{origin}!{path}: vendored library not identified by any rule: present, version \
                 unknown"
            ));
        }
        scans.push(scan);
    }
    let mut ids = IdAllocator::default();
    for p in &doc.packages {
        ids.reserve(&p.id);
    }
    for f in &doc.files {
        ids.reserve(&f.id);
    }
    for mut p in binary::components_of(&scans) {
        p.id = ids.allocate(
            "SPDXRef-Package-",
            &format!("{}-{}", p.name, p.version.as_deref().unwrap_or("")),
        );
        let mut files: Vec<&str> = p.evidence.iter().map(|e| e.file.as_str()).collect();
        files.dedup();
        p.comment = Some(format!("vendored native library in {}", files.join(", ")));
        doc.relationships.push(Relationship {
            from: top.to_string(),
            kind: "CONTAINS".into(),
            to: p.id.clone(),
        });
        doc.packages.push(p);
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_library_directories() {
        assert!(is_vendored_lib("pillow.libs/libpng16-1ff02007.so.16.56.0"));
        assert!(is_vendored_lib(
            "numpy.libs/libscipy_openblas64_-ff651d7f.dll"
        ));
        assert!(is_vendored_lib("PIL/.dylibs/libjpeg.62.dylib"));
        assert!(!is_vendored_lib(
            "PIL/_imaging.cpython-313-x86_64-linux-gnu.so"
        ));
        assert!(!is_vendored_lib("pillow.libs/"));
    }
}
