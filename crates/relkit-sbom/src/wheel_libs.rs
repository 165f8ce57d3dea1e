//! The native libraries a wheel vendors: auditwheel's `NAME.libs/` (Linux), delocate's
//! `NAME/.dylibs/` (macOS) and delvewheel's `NAME.libs/` (Windows). Each is read with the
//! binary rules (what the library embeds about itself: its version banner, its version API's
//! string), and every library found becomes a package contained in the wheel, with the file and
//! offset of the bytes read as evidence, and the file's linking facts (ELF soname and needed
//! libraries, a dylib's install name and `current_version`, a DLL's imports) as evidence that
//! never gives the version. A vendored file no rule identifies is said, not
//! guessed from its file name (`libpq-a17e3caa.so.5.17` is not PostgreSQL 5.17).

use crate::binary::{self, FileScan};
use crate::model::{Document, IdAllocator, Relationship};

/// Whether a wheel member lies in a directory where wheel repair tools put vendored native
/// libraries.
pub fn is_vendored_lib(path: &str) -> bool {
    path.rsplit_once('/').is_some_and(|(dir, file)| {
        let last = dir.rsplit('/').next().unwrap_or(dir);
        !file.is_empty() && (last.ends_with(".libs") || last == ".dylibs")
    })
}

/// Adds the libraries the binary rules found in the vendored members of a wheel to `doc`,
/// each contained in the package `top`: `scans` are the walk's scans of the native files
/// (those with a hit or a note; read once, while the wheel was hashed), `vendored` the paths
/// of every vendored member. Returns the warnings (ambiguous rules, files no rule identifies).
pub fn add(
    doc: &mut Document,
    top: &str,
    scans: &[FileScan],
    vendored: &[&str],
    origin: &str,
) -> Vec<String> {
    let scans: Vec<FileScan> = scans
        .iter()
        .filter(|s| is_vendored_lib(&s.path))
        .cloned()
        .collect();
    let mut warnings = Vec::new();
    for scan in &scans {
        // A rule that applied but found several versions says so (ambiguous), for the library.
        warnings.extend(scan.notes.iter().map(|n| format!("{origin}!{n}")));
    }
    // The walk keeps a scan only when a rule found something or said why not.
    for path in vendored {
        if !scans.iter().any(|s| s.path == *path) {
            warnings.push(format!(
                "{origin}!{path}: vendored library not identified by any rule: present, version \
                 unknown"
            ));
        }
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
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Package;
    use std::collections::BTreeMap;

    /// The members of a real wheel that [`is_vendored_lib`] keeps.
    fn vendored(wheel: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let path = relkit_testkit::upstream_data(wheel)?;
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let mut kept = BTreeMap::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            if is_vendored_lib(&name) {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
                kept.insert(name, bytes);
            }
        }
        assert!(kept.len() > 10, "{:?}", kept.keys());
        Some(kept)
    }

    /// A document with the wheel's own package, `SPDXRef-top`, and what [`add`] finds in it.
    fn wheel_doc(kept: &BTreeMap<String, Vec<u8>>) -> Document {
        let mut doc = Document {
            packages: vec![Package {
                id: "SPDXRef-top".into(),
                name: "pillow".into(),
                ..Package::default()
            }],
            describes: vec!["SPDXRef-top".into()],
            ..Document::default()
        };
        let scans: Vec<FileScan> = kept
            .iter()
            .map(|(p, b)| binary::scan_libraries(p, b).unwrap())
            .collect();
        let paths: Vec<&str> = kept.keys().map(String::as_str).collect();
        add(&mut doc, "SPDXRef-top", &scans, &paths, "pillow.whl");
        doc
    }

    /// The auditwheel-vendored libraries of the real manylinux Pillow wheel carry their
    /// `DT_SONAME` and build-id as evidence; every version comes from a string the library
    /// embeds (an evidence with an offset), and where the soname's number is not the release it
    /// is not reported: `libharfbuzz-….so.0.61321.0` is harfbuzz 13.2.1, `libpng16-….so.16.56.0`
    /// libpng 1.6.56, `libtiff-….so.6.2.0` libtiff 4.7.1 (what they report at run time,
    /// cli_sbom_pep770).
    #[test]
    fn sonames_are_evidence_never_versions() {
        let Some(kept) =
            vendored("pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
        else {
            return;
        };
        let doc = wheel_doc(&kept);
        let version = |n: &str| {
            doc.packages
                .iter()
                .find(|p| p.name == n)
                .and_then(|p| p.version.clone())
        };
        assert_eq!(version("harfbuzz").as_deref(), Some("13.2.1"));
        assert_eq!(version("libpng").as_deref(), Some("1.6.56"));
        // Each version comes from a string the library embeds, never from a linking fact.
        for p in doc.packages.iter().filter(|p| p.version.is_some()) {
            assert!(
                p.evidence
                    .iter()
                    .any(|e| !e.is_linking() && e.offset.is_some()),
                "{}: {:?}",
                p.name,
                p.evidence
            );
            assert!(
                p.evidence.iter().any(|e| e.method == "elf-build-id"),
                "{}: {:?}",
                p.name,
                p.evidence
            );
        }
        // Where the soname's number is not the release (harfbuzz, libpng, libtiff), the
        // release is reported and the soname kept as evidence.
        for (name, soname) in [
            ("harfbuzz", "libharfbuzz-0c77c97f.so.0.61321.0"),
            ("libpng", "libpng16-1ff02007.so.16.56.0"),
            ("libtiff", "libtiff-56c1bbc6.so.6.2.0"),
        ] {
            let p = doc.packages.iter().find(|p| p.name == name).unwrap();
            assert!(
                p.evidence
                    .iter()
                    .any(|e| e.method == "elf-soname" && e.text == soname),
                "{name}: {:?}",
                p.evidence
            );
            let number = soname.split_once(".so.").unwrap().1;
            assert_ne!(p.version.as_deref(), Some(number), "{name}");
        }
        assert_eq!(version("libtiff").as_deref(), Some("4.7.1"));
    }

    /// The vendored dylibs of the real Pillow arm64 wheel (delocate's `PIL/.dylibs/`): xz is
    /// found at 5.8.3 (the `__TEXT` string next to `_lzma_version_string`, what the Linux
    /// wheel's liblzma reports at run time), and liblzma's `LC_ID_DYLIB` (current_version
    /// 14.3.0, as llvm-objdump prints it) is kept as evidence only: no package has that version,
    /// and in CycloneDX it is a `relkit:evidence:` property (read back as the same evidence), not
    /// an occurrence nor a method of the version's identity.
    #[test]
    fn delocated_dylibs_keep_their_install_names_as_evidence_only() {
        let Some(kept) = vendored("pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl") else {
            return;
        };
        let doc = wheel_doc(&kept);
        let xz = doc.packages.iter().find(|p| p.name == "xz").unwrap();
        assert_eq!(xz.version.as_deref(), Some("5.8.3"));
        let id = xz
            .evidence
            .iter()
            .find(|e| e.method == "macho-id-dylib")
            .unwrap_or_else(|| panic!("{:?}", xz.evidence));
        assert!(id.is_linking());
        assert_eq!(
            id.text,
            "/DLC/PIL/.dylibs/liblzma.5.dylib (current_version 14.3.0, compatibility_version \
             14.0.0)"
        );
        assert!(
            xz.evidence
                .iter()
                .any(|e| e.method == "macho-load-dylib" && e.text == "/usr/lib/libSystem.B.dylib")
        );
        assert!(
            doc.packages
                .iter()
                .all(|p| p.version.as_deref() != Some("14.3.0")),
        );
        let (cdx, _) = crate::cyclonedx::write(&doc);
        // The vendored libraries are nested in the wheel's component.
        fn find<'v>(v: &'v serde_json::Value, name: &str) -> Option<&'v serde_json::Value> {
            let cs = v.get("components")?.as_array()?;
            cs.iter()
                .find(|c| c["name"] == name)
                .or_else(|| cs.iter().find_map(|c| find(c, name)))
        }
        let c = find(&cdx, "xz").or_else(|| find(&cdx["metadata"]["component"], "xz"));
        let c = c.unwrap_or_else(|| panic!("{cdx:#}"));
        let methods = c["evidence"]["identity"][0]["methods"].as_array().unwrap();
        assert!(!methods.is_empty());
        assert!(
            methods
                .iter()
                .all(|m| !m["value"].as_str().unwrap().contains("liblzma.5.dylib")),
            "{methods:?}"
        );
        let occurrences = c["evidence"]["occurrences"].to_string();
        assert!(!occurrences.contains("liblzma.5.dylib ("), "{occurrences}");
        let props = c["properties"].as_array().unwrap();
        let id_prop = props
            .iter()
            .find(|p| p["name"] == "relkit:evidence:macho-id-dylib")
            .unwrap_or_else(|| panic!("{props:?}"));
        let body: serde_json::Value =
            serde_json::from_str(id_prop["value"].as_str().unwrap()).unwrap();
        assert_eq!(body["file"], "PIL/.dylibs/liblzma.5.dylib");
        assert_eq!(body["text"], id.text.as_str());
        // Read back: the same linking evidence.
        let (back, _) = crate::cyclonedx::read(&cdx, "test").unwrap();
        let xz_back = back.packages.iter().find(|p| p.name == "xz").unwrap();
        assert!(xz_back.evidence.contains(id), "{:?}", xz_back.evidence);
    }

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
