//! The truth check on real data: CPython 3.13.5's in-tree SBOM against the files of its
//! official tarball (committed subset), CPython's Windows externals SBOM against real 3.13.2
//! DLLs, an upstream libb2 tree, a bundled pip wheel, `fix`, and bad input.

use std::path::{Path, PathBuf};

use relkit_sbom::Document;
use relkit_truth::{Kind, Options, PackageReport, Report, Verdict, fix, verify, verify_with};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sbom_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-sbom/tests/fixtures")
}

fn read_doc(path: &Path) -> Document {
    relkit_sbom::read_file(path).unwrap().0
}

fn doc_from(value: &Value) -> Document {
    relkit_sbom::read(value, "test").unwrap().0
}

fn pkg<'a>(r: &'a Report, name: &str) -> &'a PackageReport {
    r.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} not in report"))
}

/// One declared package: name, version, CPE, PURL, files.
type Declared<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a [&'a str],
);

/// A minimal SPDX 2.3 document.
fn spdx(packages: &[Declared]) -> Value {
    let mut pkgs = Vec::new();
    let mut files = Vec::new();
    let mut rels = Vec::new();
    for (i, (name, version, cpe, purl, fs)) in packages.iter().enumerate() {
        let id = format!("SPDXRef-PACKAGE-{i}");
        let mut refs = Vec::new();
        if let Some(c) = cpe {
            refs.push(json!({"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": c}));
        }
        if let Some(p) = purl {
            refs.push(json!({"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": p}));
        }
        pkgs.push(json!({"SPDXID": id, "name": name, "versionInfo": version,
            "downloadLocation": "NOASSERTION", "filesAnalyzed": false, "externalRefs": refs}));
        for (j, f) in fs.iter().enumerate() {
            let fid = format!("SPDXRef-FILE-{i}-{j}");
            files.push(json!({"SPDXID": fid, "fileName": f, "checksums": [
                {"algorithm": "SHA1", "checksumValue": "0000000000000000000000000000000000000000"}]}));
            rels.push(json!({"spdxElementId": id, "relationshipType": "CONTAINS", "relatedSpdxElement": fid}));
        }
    }
    json!({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "test", "documentNamespace": "https://example.org/test",
        "creationInfo": {"created": "2025-01-01T00:00:00Z", "creators": ["Tool: test"]},
        "packages": pkgs, "files": files, "relationships": rels})
}

/// The expected verdict of every package of CPython 3.13.5's Misc/sbom.spdx.json, worked out
/// by hand from the tarball: expat.h defines 2.7.1 at lines 1069-1071 (SBOM: 2.6.3);
/// mpdecimal.h line 86 `MPD_VERSION "2.5.1"`; Modules/_hacl/refresh.sh line 25 pins
/// `expected_hacl_star_rev=bb3d0dc8…`; macholib's `__init__.py` line 9 `__version__ = '1.0'`;
/// the 14 vendored libb2 files carry no version at all (checked against libb2-0.98.1's
/// release: its version is only in configure.ac, which CPython does not vendor).
fn check_cpython_expectations(r: &Report) {
    assert_eq!(r.packages.len(), 5);
    let expat = pkg(r, "expat");
    assert_eq!(expat.verdict, Verdict::Contradicted);
    assert_eq!(expat.declared_version.as_deref(), Some("2.6.3"));
    assert_eq!(expat.found_version.as_deref(), Some("2.7.1"));
    assert_eq!(expat.evidence[0].file, "Modules/expat/expat.h");
    assert_eq!(expat.evidence[0].line, Some(1069));
    assert!(
        expat.evidence[0]
            .text
            .contains("XML_MINOR_VERSION 7 (line 1070)")
    );
    assert!(
        expat
            .problems
            .iter()
            .any(|p| p.contains("cpe:2.3:a:libexpat_project:libexpat:2.6.3")
                && p.contains("the evidence shows 2.7.1")),
        "{:?}",
        expat.problems
    );
    let cpe = &expat.identifiers[0];
    assert_eq!(
        (cpe.matches_declared, cpe.matches_evidence),
        (true, Some(false))
    );

    let mpd = pkg(r, "mpdecimal");
    assert_eq!(mpd.verdict, Verdict::Confirmed);
    assert_eq!(
        mpd.evidence[0].file,
        "Modules/_decimal/libmpdec/mpdecimal.h"
    );
    assert_eq!(mpd.evidence[0].line, Some(86));
    assert_eq!(mpd.evidence[0].version, "2.5.1");

    let hacl = pkg(r, "hacl-star");
    assert_eq!(hacl.verdict, Verdict::Confirmed);
    assert_eq!(hacl.evidence[0].file, "Modules/_hacl/refresh.sh");
    assert_eq!(hacl.evidence[0].line, Some(25));
    assert_eq!(
        hacl.evidence[0].version,
        "bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0"
    );

    let macholib = pkg(r, "macholib");
    assert_eq!(macholib.verdict, Verdict::Confirmed);
    assert_eq!(macholib.evidence[0].file, "Lib/ctypes/macholib/__init__.py");
    assert_eq!(macholib.evidence[0].line, Some(9));
    assert!(
        macholib
            .evidence
            .iter()
            .any(|e| e.file == "Lib/ctypes/macholib/README.ctypes" && e.version == "1.0")
    );

    let libb2 = pkg(r, "libb2");
    assert_eq!(libb2.verdict, Verdict::Unverifiable);
    assert!(libb2.evidence.is_empty());
    assert!(
        libb2
            .looked_for
            .iter()
            .any(|l| l.starts_with("configure.ac (version) in Modules/_blake2/impl")),
        "{:?}",
        libb2.looked_for
    );
    assert_eq!(
        (
            r.summary.confirmed,
            r.summary.contradicted,
            r.summary.unverifiable
        ),
        (3, 1, 1)
    );
    assert!(r.has_findings());
}

#[test]
fn cpython_in_tree_sbom_against_committed_subset_of_its_tarball() {
    let tree = fixtures().join("cpython-3.13.5-evidence");
    let doc = read_doc(&tree.join("Misc/sbom.spdx.json"));
    let r = verify(&doc, &tree).unwrap();
    assert_eq!(r.mode, "source");
    check_cpython_expectations(&r);
    // Only the evidence files were committed: the report says which assigned files are missing.
    let expat = pkg(&r, "expat");
    assert_eq!((expat.files.assigned, expat.files.present), (21, 1));
    assert!(
        expat
            .files
            .missing
            .contains(&"Modules/expat/xmlparse.c".to_string())
    );
    let libb2 = pkg(&r, "libb2");
    assert_eq!((libb2.files.assigned, libb2.files.present), (14, 0));
    assert!(
        libb2.looked_for[0].contains("none of the 14 files the SBOM assigns"),
        "{:?}",
        libb2.looked_for
    );
}

#[test]
fn fixed_sbom_verifies_clean_and_keeps_everything_else() {
    let tree = fixtures().join("cpython-3.13.5-evidence");
    let path = tree.join("Misc/sbom.spdx.json");
    let mut value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let original = value.clone();
    let r = verify(&read_doc(&path), &tree).unwrap();
    let result = fix::fix(&mut value, &r, "sbom.spdx.json").unwrap();
    let changes: Vec<(&str, &str, &str)> = result
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.old.as_str(), c.new.as_str()))
        .collect();
    assert_eq!(
        changes,
        vec![
            ("$.packages[0].versionInfo", "2.6.3", "2.7.1"),
            (
                "$.packages[0].externalRefs[0].referenceLocator",
                "cpe:2.3:a:libexpat_project:libexpat:2.6.3:*:*:*:*:*:*:*",
                "cpe:2.3:a:libexpat_project:libexpat:2.7.1:*:*:*:*:*:*:*"
            ),
        ]
    );
    assert!(
        result.review[0].contains("downloadLocation still mentions 2.6.3"),
        "{:?}",
        result.review
    );
    // Nothing but those two values changed.
    let mut back = value.clone();
    back["packages"][0]["versionInfo"] = json!("2.6.3");
    back["packages"][0]["externalRefs"][0]["referenceLocator"] =
        original["packages"][0]["externalRefs"][0]["referenceLocator"].clone();
    assert_eq!(back, original);
    // No false alarm on the corrected SBOM.
    let again = verify(&doc_from(&value), &tree).unwrap();
    assert_eq!(again.summary.contradicted, 0);
    assert!(!again.has_findings());
    assert_eq!(pkg(&again, "expat").verdict, Verdict::Confirmed);
}

#[test]
fn windows_externals_against_real_3_13_2_dlls() {
    let doc = read_doc(&relkit_testkit::fixture(
        "cpython-3.13.5/externals.spdx.json",
    ));
    let dlls = relkit_testkit::fixture("windows-embed-3.13");
    let r = verify(&doc, &dlls).unwrap();
    assert_eq!(r.mode, "binary");
    let verdicts: Vec<(&str, Verdict, Option<&str>)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.verdict, p.found_version.as_deref()))
        .collect();
    // EVIDENCE.md: the DLLs are CPython 3.13.2's; 3.13.5 declares newer OpenSSL and SQLite.
    assert_eq!(
        verdicts,
        vec![
            ("bzip2", Verdict::Confirmed, Some("1.0.8")),
            ("libffi", Verdict::Confirmed, Some("3.4.4")),
            ("mpdecimal", Verdict::Confirmed, Some("4.0.0")),
            ("openssl", Verdict::Contradicted, Some("3.0.15")),
            ("sqlite", Verdict::Contradicted, Some("3.45.3")),
            ("tcl-core", Verdict::Unverifiable, None),
            ("tk", Verdict::Unverifiable, None),
            // _lzma.pyd carries no xz version string; python313.dll (zlib) is not in the fixture.
            ("xz", Verdict::Unverifiable, None),
            ("zlib", Verdict::Unverifiable, None),
        ]
    );
    let ssl = pkg(&r, "openssl");
    assert!(ssl.evidence.iter().any(|e| e.file == "libcrypto-3.dll"
        && e.method == "pe-versioninfo"
        && e.text.contains("FileVersion=3.0.15")));
    assert!(ssl.evidence.iter().any(|e| e.method == "ascii-string"
        && e.text == "OpenSSL 3.0.15 3 Sep 2024"
        && e.offset.is_some()));
    let sqlite = pkg(&r, "sqlite");
    assert!(
        sqlite
            .problems
            .iter()
            .any(|p| p.contains("declared 3.49.1.0"))
    );
    let undeclared: Vec<(&str, Option<&str>)> = r
        .undeclared
        .iter()
        .map(|u| (u.name.as_str(), u.version.as_deref()))
        .collect();
    assert!(
        undeclared.contains(&("expat", Some("2.6.4"))),
        "{undeclared:?}"
    );
    assert!(undeclared.contains(&("cpython", Some("3.13.2"))));
    // EVIDENCE.md is not a PE file: scanned, no evidence, no note.
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn upstream_libb2_tree_confirms_by_configure_ac() {
    let tree = fixtures().join("libb2-0.98.1");
    let doc = doc_from(&spdx(&[(
        "libb2",
        "0.98.1",
        Some("cpe:2.3:a:blake2:libb2:0.98.1:*:*:*:*:*:*:*"),
        Some("pkg:github/blake2/libb2@0.98.1"),
        &["blake2.h"],
    )]));
    let r = verify(&doc, &tree).unwrap();
    let p = pkg(&r, "libb2");
    assert_eq!(p.verdict, Verdict::Confirmed, "{p:?}");
    assert_eq!(p.evidence[0].file, "configure.ac");
    assert_eq!(p.evidence[0].line, Some(2));
    assert!(!r.has_findings());
    // A wrong PURL version alone is a contradiction of the identifiers, and is fixed.
    let mut v = spdx(&[(
        "libb2",
        "0.98.1",
        None,
        Some("pkg:github/blake2/libb2@0.98.0"),
        &["blake2.h"],
    )]);
    let r = verify(&doc_from(&v), &tree).unwrap();
    let p = pkg(&r, "libb2");
    assert_eq!(p.verdict, Verdict::Contradicted);
    assert!(p.inconsistent());
    let f = fix::fix(&mut v, &r, "t").unwrap();
    assert_eq!(f.changes.len(), 1);
    assert_eq!(f.changes[0].new, "pkg:github/blake2/libb2@0.98.1");
}

#[test]
fn generic_fallback_with_no_specific_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vendor/foo")).unwrap();
    std::fs::write(dir.path().join("vendor/foo/foo.c"), "int x;\n").unwrap();
    std::fs::write(
        dir.path().join("vendor/foo/CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.10)\nproject(foo VERSION 4.2.0 LANGUAGES C)\n",
    )
    .unwrap();
    let declared = |v: &str| doc_from(&spdx(&[("foo", v, None, None, &["vendor/foo/foo.c"])]));
    let ok = verify(&declared("4.2.0"), dir.path()).unwrap();
    assert_eq!(pkg(&ok, "foo").verdict, Verdict::Confirmed);
    assert_eq!(pkg(&ok, "foo").evidence[0].line, Some(2));
    let bad = verify(&declared("4.1"), dir.path()).unwrap();
    assert_eq!(pkg(&bad, "foo").verdict, Verdict::Contradicted);
    assert_eq!(pkg(&bad, "foo").found_version.as_deref(), Some("4.2.0"));
}

#[test]
fn bundled_pip_wheel_by_file_name_and_metadata() {
    let tree = sbom_fixtures().join("cpython-subset");
    let doc = |v: &str| {
        doc_from(&spdx(&[(
            "pip",
            v,
            None,
            Some(&format!("pkg:pypi/pip@{v}")),
            &[],
        )]))
    };
    let r = verify(&doc("25.1.1"), &tree).unwrap();
    let p = pkg(&r, "pip");
    assert_eq!(p.verdict, Verdict::Confirmed, "{p:?}");
    let methods: Vec<&str> = p.evidence.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(methods, vec!["wheel-filename", "wheel-metadata"]);
    assert!(
        p.evidence[1]
            .file
            .ends_with(".whl!pip-25.1.1.dist-info/METADATA")
    );
    assert_eq!(p.evidence[1].text, "Version: 25.1.1");
    let r = verify(&doc("24.0"), &tree).unwrap();
    assert_eq!(pkg(&r, "pip").verdict, Verdict::Contradicted);
}

#[test]
fn package_without_files_is_searched_by_name_and_says_so() {
    let tree = fixtures().join("cpython-3.13.5-evidence");
    let doc = doc_from(&spdx(&[
        ("expat", "2.7.1", None, None, &[]),
        ("zlib", "1.3.1", None, None, &[]),
    ]));
    let r = verify(&doc, &tree).unwrap();
    let expat = pkg(&r, "expat");
    assert_eq!(expat.verdict, Verdict::Confirmed);
    assert!(expat.looked_for[0].contains("assigns no files"));
    let zlib = pkg(&r, "zlib");
    assert_eq!(zlib.verdict, Verdict::Unverifiable);
    assert!(
        zlib.looked_for
            .iter()
            .any(|l| l.starts_with("zlib.h (version) in the whole tree"))
    );
    assert!(!r.has_findings());
}

#[test]
fn bad_binary_input_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // A text file named like a DLL, a truncated PE, and a huge (sparse) file.
    std::fs::write(dir.path().join("fake.dll"), "just text\n").unwrap();
    std::fs::write(dir.path().join("broken.dll"), b"MZ\x90\x00\x03\x00\x00\x00").unwrap();
    let huge = std::fs::File::create(dir.path().join("huge.pyd")).unwrap();
    huge.set_len((1 << 30) + 1).unwrap();
    std::fs::copy(
        relkit_testkit::fixture("windows-embed-3.13/libffi-8.dll"),
        dir.path().join("libffi-8.dll"),
    )
    .unwrap();
    let doc = doc_from(&spdx(&[("libffi", "3.4.4", None, None, &[])]));
    let r = verify(&doc, dir.path()).unwrap();
    assert_eq!(pkg(&r, "libffi").verdict, Verdict::Confirmed);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("broken.dll") && n.contains("not a valid PE")),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("huge.pyd") && n.contains("not scanned"))
    );
    assert_eq!(r.notes.len(), 2);
}

#[test]
fn truncated_archive_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("src.tar.xz");
    std::fs::write(&bad, b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46\x02\x00").unwrap();
    let doc = doc_from(&spdx(&[("expat", "2.7.1", None, None, &[])]));
    let err = verify_with(&doc, &bad, &Options { kind: Kind::Source }).unwrap_err();
    assert!(err.to_string().contains("src.tar.xz"), "{err}");
}

#[test]
fn source_archive_zip_with_top_directory() {
    // A zip of the evidence subset under a top directory, like a release archive.
    let src = fixtures().join("cpython-3.13.5-evidence");
    let dir = tempfile::tempdir().unwrap();
    let zpath = dir.path().join("Python-3.13.5.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zpath).unwrap());
    for entry in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&src).unwrap().to_string_lossy();
            zip.start_file(
                format!("Python-3.13.5/{rel}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            std::io::Write::write_all(&mut zip, &std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
    let doc = read_doc(&src.join("Misc/sbom.spdx.json"));
    let r = verify(&doc, &zpath).unwrap();
    check_cpython_expectations(&r);
}

#[test]
fn source_archive_tar_gz_with_long_names() {
    // A tar.gz of the evidence subset under a top directory whose name is too long for a
    // plain ustar header (GNU long-name records), like some release tarballs.
    let src = fixtures().join("cpython-3.13.5-evidence");
    let dir = tempfile::tempdir().unwrap();
    let tpath = dir.path().join("src.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&tpath).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let top = format!("Python-3.13.5-{}", "x".repeat(120));
    for entry in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&src).unwrap().to_string_lossy();
            tar.append_path_with_name(entry.path(), format!("{top}/{rel}"))
                .unwrap();
        }
    }
    tar.into_inner().unwrap().finish().unwrap();
    let doc = read_doc(&src.join("Misc/sbom.spdx.json"));
    let r = verify(&doc, &tpath).unwrap();
    check_cpython_expectations(&r);
}

#[test]
fn cyclonedx_sbom_is_verified_and_fixed() {
    let tree = fixtures().join("cpython-3.13.5-evidence");
    let spdx_doc = read_doc(&tree.join("Misc/sbom.spdx.json"));
    let (bytes, _) = relkit_sbom::write(&spdx_doc, relkit_sbom::Format::CycloneDxJson);
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    let doc = doc_from(&value);
    let r = verify(&doc, &tree).unwrap();
    let expat = pkg(&r, "expat");
    assert_eq!(expat.verdict, Verdict::Contradicted);
    assert_eq!(expat.found_version.as_deref(), Some("2.7.1"));
    assert_eq!(pkg(&r, "mpdecimal").verdict, Verdict::Confirmed);
    let f = fix::fix(&mut value, &r, "cdx").unwrap();
    let paths: Vec<&str> = f.changes.iter().map(|c| c.path.as_str()).collect();
    assert!(
        paths.iter().any(|p| p.ends_with(".version")) && paths.iter().any(|p| p.ends_with(".cpe")),
        "{paths:?}"
    );
    let again = verify(&doc_from(&value), &tree).unwrap();
    assert_eq!(pkg(&again, "expat").verdict, Verdict::Confirmed);
    assert!(!again.has_findings());
}

#[test]
fn huge_evidence_file_is_read_only_up_to_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("expat.h");
    std::fs::write(
        &h,
        "#define XML_MAJOR_VERSION 2\n#define XML_MINOR_VERSION 7\n#define XML_MICRO_VERSION 1\n",
    )
    .unwrap();
    // 3 GiB, sparse: only the first 64 MiB are read.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&h)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let doc = doc_from(&spdx(&[("expat", "2.7.1", None, None, &["expat.h"])]));
    let started = std::time::Instant::now();
    let r = verify(&doc, dir.path()).unwrap();
    assert_eq!(pkg(&r, "expat").verdict, Verdict::Confirmed);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn projects_vendored_inside_a_wheel_are_checked_in_its_vendor_txt() {
    // pip 25.1.1's real pip/_vendor/vendor.txt (in relkit-sbom's reduced wheel fixture).
    let tree = sbom_fixtures().join("cpython-subset");
    let mut v = spdx(&[
        ("pip", "25.1.1", None, None, &[]),
        ("idna", "3.10", None, Some("pkg:pypi/idna@3.10"), &[]),
        ("urllib3", "2.0.0", None, None, &[]),
    ]);
    for child in ["SPDXRef-PACKAGE-1", "SPDXRef-PACKAGE-2"] {
        v["relationships"].as_array_mut().unwrap().push(json!({
            "spdxElementId": "SPDXRef-PACKAGE-0",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": child
        }));
    }
    let r = verify(&doc_from(&v), &tree).unwrap();
    let idna = pkg(&r, "idna");
    assert_eq!(idna.verdict, Verdict::Confirmed, "{idna:?}");
    assert_eq!(idna.evidence[0].method, "wheel-vendor.txt");
    assert_eq!(idna.evidence[0].text, "idna==3.10");
    assert!(
        idna.evidence[0]
            .file
            .ends_with(".whl!pip/_vendor/vendor.txt")
    );
    let urllib3 = pkg(&r, "urllib3");
    assert_eq!(urllib3.verdict, Verdict::Contradicted);
    assert_eq!(urllib3.found_version.as_deref(), Some("1.26.20"));
    assert!(urllib3.looked_for[0].contains("places it inside SPDXRef-PACKAGE-0"));
}

/// The members handed over directly (as `relkit sbom generate` does after reading an
/// archive) give the verdicts and evidence of the tree they come from.
#[test]
fn members_handed_over_give_the_verdicts_of_the_tree() {
    let tree = sbom_fixtures().join("cpython-subset");
    let opts = relkit_sbom::source::SourceOptions {
        created: "2025-06-11T00:00:00Z".into(),
        ..Default::default()
    };
    let doc = relkit_sbom::source::generate(&tree, &opts, &|_| {}).unwrap();
    let from_tree = verify(&doc, &tree).unwrap();
    let content = doc
        .files
        .iter()
        .map(|f| f.name.trim_start_matches("./").to_string())
        .filter(|f| relkit_truth::may_read(f))
        .map(|f| {
            let bytes = std::fs::read(tree.join(&f)).unwrap();
            (f, bytes)
        })
        .collect();
    let members = relkit_truth::verify_members(
        &doc,
        relkit_truth::SourceMembers {
            label: "members".into(),
            files: doc.files.iter().map(|f| f.name.clone()).collect(),
            content,
        },
    );
    assert_eq!(members.against, "members");
    assert!(
        from_tree
            .packages
            .iter()
            .any(|p| p.verdict == Verdict::Contradicted)
    );
    assert_eq!(members.packages, from_tree.packages);
    assert_eq!(members.summary, from_tree.summary);
}
