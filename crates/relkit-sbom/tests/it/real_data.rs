//! Library tests on real data: CPython source fixture, CPython's SBOMs, the SPDX/CycloneDX
//! conformance documents and the Windows embeddable DLLs.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::fixtures;

use relkit_sbom::{Format, binary, check, diff, json, merge, model::Document, source};
use sha1::Digest;

fn opts() -> source::SourceOptions {
    source::SourceOptions {
        name: Some("CPython".into()),
        version: Some("3.13.5".into()),
        supplier: Some("Python Software Foundation".into()),
        download_location: Some(
            "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tgz".into(),
        ),
        cpes: vec!["cpe:2.3:a:python:python:3.13.5:*:*:*:*:*:*:*".into()],
        purls: vec!["pkg:generic/cpython@3.13.5".into()],
        license: Some("PSF-2.0".into()),
        created: "2025-06-11T00:00:00Z".into(),
        ..Default::default()
    }
}

fn generate(path: &Path) -> Document {
    source::generate(path, &opts(), &|_| {}).expect("generate")
}

fn pkg<'a>(d: &'a Document, name: &str) -> &'a relkit_sbom::model::Package {
    d.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn source_tree_sbom_has_every_file_vendored_packages_and_pip() {
    let root = fixtures().join("cpython-subset");
    let doc = generate(&root);
    // Every file on disk is listed with independently computed SHA-1 and SHA-256.
    let mut n = 0;
    for e in walkdir::WalkDir::new(&root) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        n += 1;
        let rel = e
            .path()
            .strip_prefix(&root)
            .unwrap()
            .to_str()
            .unwrap()
            .replace('\\', "/");
        let bytes = std::fs::read(e.path()).unwrap();
        let f = doc
            .files
            .iter()
            .find(|f| f.name == rel)
            .unwrap_or_else(|| panic!("{rel} missing"));
        assert_eq!(
            f.checksum("SHA1").unwrap(),
            hex::encode(sha1::Sha1::digest(&bytes))
        );
        assert_eq!(
            f.checksum("SHA256").unwrap(),
            hex::encode(sha2::Sha256::digest(&bytes))
        );
    }
    assert_eq!(doc.files.len(), n);
    let expat = pkg(&doc, "expat");
    assert_eq!(expat.version.as_deref(), Some("2.6.3"));
    assert_eq!(
        expat.cpes,
        vec!["cpe:2.3:a:libexpat_project:libexpat:2.6.3:*:*:*:*:*:*:*"]
    );
    // Verification code of expat = SHA-1 over the sorted SHA-1s of the files it CONTAINS.
    let contained = doc.contained_files(&expat.id);
    assert_eq!(contained.len(), 21);
    let mut sha1s: Vec<String> = doc
        .files
        .iter()
        .filter(|f| contained.contains(f.id.as_str()))
        .map(|f| f.checksum("SHA1").unwrap().to_string())
        .collect();
    sha1s.sort();
    assert_eq!(
        expat.verification_code.as_deref().unwrap(),
        hex::encode(sha1::Sha1::digest(sha1s.concat().as_bytes()))
    );
    assert!(
        pkg(&doc, "macholib")
            .purls
            .contains(&"pkg:pypi/macholib@1.0".to_string())
    );
    let pip = pkg(&doc, "pip");
    assert_eq!(pip.version.as_deref(), Some("25.1.1"));
    assert_eq!(pip.purls, vec!["pkg:pypi/pip@25.1.1"]);
    assert_eq!(pip.license_declared.as_deref(), Some("MIT"));
    let requests = pkg(&doc, "requests");
    assert_eq!(requests.version.as_deref(), Some("2.32.3"));
    let top = pkg(&doc, "CPython");
    assert_eq!(doc.describes, vec![top.id.clone()]);
    for (from, to) in [
        (&top.id, &expat.id),
        (&top.id, &pip.id),
        (&pip.id, &requests.id),
    ] {
        assert!(
            doc.relationships
                .iter()
                .any(|r| &r.from == from && r.kind == "DEPENDS_ON" && &r.to == to),
            "{from} -> {to}"
        );
    }
    // Files belong to exactly one package.
    let contains: Vec<&str> = doc
        .relationships
        .iter()
        .filter(|r| r.kind == "CONTAINS")
        .map(|r| r.to.as_str())
        .collect();
    assert_eq!(contains.len(), doc.files.len());
    // Both serializations pass relkit's own checker.
    for format in [Format::SpdxJson, Format::CycloneDxJson] {
        let (bytes, _) = relkit_sbom::write(&doc, format);
        let report = check::check_bytes(&bytes, format.name()).unwrap();
        assert!(
            report.valid,
            "{format:?}: {:#?}",
            report
                .problems
                .iter()
                .filter(|p| p.severity == check::Severity::Error)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn output_is_deterministic() {
    let root = fixtures().join("cpython-subset");
    let a = relkit_sbom::write(&generate(&root), Format::SpdxJson).0;
    let b = relkit_sbom::write(&generate(&root), Format::SpdxJson).0;
    assert_eq!(a, b);
    let a = relkit_sbom::write(&generate(&root), Format::CycloneDxJson).0;
    let b = relkit_sbom::write(&generate(&root), Format::CycloneDxJson).0;
    assert_eq!(a, b);
}

fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

#[test]
fn vendored_checksum_mismatch_and_missing_file_are_errors_naming_both_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixtures().join("cpython-subset"), tmp.path());
    let header = tmp.path().join("Modules/expat/expat.h");
    let mut bytes = std::fs::read(&header).unwrap();
    bytes.extend_from_slice(b"/* tampered */\n");
    std::fs::write(&header, &bytes).unwrap();
    std::fs::remove_file(tmp.path().join("Lib/ctypes/macholib/dylib.py")).unwrap();
    let err = source::generate(tmp.path(), &opts(), &|_| {})
        .unwrap_err()
        .to_string();
    let actual = hex::encode(sha2::Sha256::digest(&bytes));
    assert!(
        err.contains("Modules/expat/expat.h: SHA256 expected "),
        "{err}"
    );
    assert!(err.contains(&format!("tree has {actual}")), "{err}");
    assert!(
        err.contains("Lib/ctypes/macholib/dylib.py: declared in the in-tree SBOM but missing"),
        "{err}"
    );
}

fn tar_of(root: &Path, out: &Path, compress: &str, evil: bool) {
    let file = std::fs::File::create(out).unwrap();
    let writer: Box<dyn std::io::Write> = match compress {
        "gz" => Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        )),
        "xz" => Box::new(liblzma::write::XzEncoder::new(file, 1)),
        _ => Box::new(file),
    };
    let mut b = tar::Builder::new(writer);
    b.append_dir_all("Python-3.13.5", root).unwrap();
    if evil {
        let mut h = tar::Header::new_gnu();
        let data = b"pwned";
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        // Write the name bytes directly: tar::Builder refuses '..' itself.
        let name = b"Python-3.13.5/../../etc/evil";
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

#[test]
fn archives_give_the_same_files_as_the_directory() {
    let root = fixtures().join("cpython-subset");
    let from_dir = generate(&root);
    let tmp = tempfile::tempdir().unwrap();
    for (name, c) in [
        ("Python-3.13.5.tar.gz", "gz"),
        ("Python-3.13.5.tar.xz", "xz"),
    ] {
        let p = tmp.path().join(name);
        tar_of(&root, &p, c, false);
        let doc = generate(&p);
        assert_eq!(doc.files, from_dir.files, "{name}");
        assert_eq!(doc.packages.len(), from_dir.packages.len());
    }
    // bzip2 and zstd compress with the real tools (oracles: CI's 10-base installs them);
    // two streams concatenated read as one, as `bzip2 -d` / `zstd -d` do.
    let plain = tmp.path().join("Python-3.13.5.tar");
    tar_of(&root, &plain, "", false);
    let bytes = std::fs::read(&plain).unwrap();
    let (first, second) = bytes.split_at(bytes.len() / 2);
    for (name, tool, args) in [
        ("Python-3.13.5.tar.bz2", "bzip2", &["-c"][..]),
        ("Python-3.13.5.tar.zst", "zstd", &["-q", "-c"][..]),
    ] {
        let Some(tool) = relkit_testkit::oracle(tool) else {
            continue;
        };
        let tool = tool.display().to_string();
        let mut out = Vec::new();
        for part in [first, second] {
            let mut child = std::process::Command::new(&tool)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("running oracle {tool}: {e}"));
            let mut stdin = child.stdin.take().unwrap();
            let part = part.to_vec();
            let feeder = std::thread::spawn(move || stdin.write_all(&part).unwrap());
            let o = child.wait_with_output().unwrap();
            feeder.join().unwrap();
            assert!(o.status.success(), "{tool}");
            out.extend_from_slice(&o.stdout);
        }
        let p = tmp.path().join(name);
        std::fs::write(&p, out).unwrap();
        let doc = generate(&p);
        assert_eq!(doc.files, from_dir.files, "{name}");
        assert_eq!(doc.packages.len(), from_dir.packages.len(), "{name}");
    }
    let zip_path = tmp.path().join("Python-3.13.5.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for f in &from_dir.files {
            z.start_file(
                format!("Python-3.13.5/{}", f.name),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            std::io::Write::write_all(&mut z, &std::fs::read(root.join(&f.name)).unwrap()).unwrap();
        }
        z.finish().unwrap();
    }
    assert_eq!(generate(&zip_path).files, from_dir.files);
}

#[test]
fn path_traversal_in_an_archive_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("evil.tar.gz");
    tar_of(&fixtures().join("cpython-subset/Misc"), &p, "gz", true);
    let err = source::generate(&p, &opts(), &|_| {})
        .unwrap_err()
        .to_string();
    // Refused by relkit-archive's one reader, which every command reads archives through.
    assert!(
        err.contains("unsafe path") && err.contains("escapes the archive root"),
        "{err}"
    );
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn verdict(p: &Path) -> bool {
    check::check_bytes(&std::fs::read(p).unwrap(), &p.display().to_string())
        .unwrap()
        .valid
}

#[test]
fn spdx_conformance_documents_get_the_expected_verdicts() {
    let base = relkit_testkit::fixture("sbom/spdx");
    for p in json_files(&base.join("valid")) {
        if p.to_string_lossy().contains("UTF-16") {
            // pyspdxtools -i refuses it too (UnicodeDecodeError); convert still reads it.
            let err = check::check_bytes(&std::fs::read(&p).unwrap(), "u16").unwrap_err();
            assert!(err.to_string().contains("UTF-16"), "{err}");
            assert!(relkit_sbom::read_file(&p).is_ok());
            continue;
        }
        let r = check::check_bytes(&std::fs::read(&p).unwrap(), &p.display().to_string()).unwrap();
        assert!(
            r.valid,
            "{}: {:#?}",
            p.display(),
            r.problems
                .iter()
                .filter(|p| p.severity == check::Severity::Error)
                .collect::<Vec<_>>()
        );
    }
    for p in json_files(&base.join("invalid")) {
        assert!(!verdict(&p), "{} should be invalid", p.display());
    }
    // CPython's in-tree SBOMs are partial documents, not complete SPDX documents.
    for p in json_files(&relkit_testkit::fixture("cpython-3.13.5")) {
        let r = check::check_bytes(&std::fs::read(&p).unwrap(), "x").unwrap();
        assert!(!r.valid);
        assert!(
            r.problems
                .iter()
                .any(|x| x.path == "$.documentNamespace" && x.message.contains("partial document")),
            "{}",
            p.display()
        );
    }
}

#[test]
fn cyclonedx_conformance_documents_get_the_schema_verdicts() {
    let base = relkit_testkit::fixture("sbom/cyclonedx");
    for dir in ["valid", "valid-1.5"] {
        for p in json_files(&base.join(dir)) {
            let r =
                check::check_bytes(&std::fs::read(&p).unwrap(), &p.display().to_string()).unwrap();
            assert!(
                r.valid,
                "{}: {:#?}",
                p.display(),
                r.problems
                    .iter()
                    .filter(|p| p.severity == check::Severity::Error)
                    .collect::<Vec<_>>()
            );
        }
    }
    for dir in ["invalid", "invalid-1.5"] {
        for p in json_files(&base.join(dir)) {
            assert!(!verdict(&p), "{} should be invalid", p.display());
        }
    }
}

#[test]
fn bad_inputs_are_errors_with_positions() {
    let err = check::check_bytes(b"{\"spdxVersion\": \"SPDX-2.3\",\n \"name\": }", "bad.json")
        .unwrap_err();
    assert!(err.to_string().contains("line 2, column 10"), "{err}");
    let err = check::check_bytes(br#"{"spdxVersion": "SPDX-3.0"}"#, "v3.json").unwrap_err();
    assert!(err.to_string().contains("SPDX-3.0"), "{err}");
    let err = check::check_bytes(
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.2"}"#,
        "old.json",
    )
    .unwrap_err();
    assert!(err.to_string().contains("1.2"), "{err}");
}

#[test]
fn version_inconsistency_is_reported_with_path_and_hint() {
    let mut v = json::read_file(&relkit_testkit::fixture("cpython-3.13.5/sbom.spdx.json")).unwrap();
    v["packages"][0]["externalRefs"][0]["referenceLocator"] =
        "cpe:2.3:a:libexpat_project:libexpat:2.7.1:*:*:*:*:*:*:*".into();
    let r = check::check_value(&v, "x").unwrap();
    let p = r
        .problems
        .iter()
        .find(|p| p.rule == "version-consistency")
        .expect("reported");
    assert_eq!(p.path, "$.packages[0].versionInfo");
    assert!(
        p.message.contains("\"2.6.3\"") && p.message.contains("CPE version 2.7.1"),
        "{}",
        p.message
    );
}

fn windows() -> Document {
    binary::generate(
        &relkit_testkit::fixture("windows-embed-3.13"),
        &binary::BinaryOptions {
            name: Some("python-embed-amd64".into()),
            version: Some("3.13.2".into()),
            created: "2025-02-04T00:00:00Z".into(),
        },
    )
    .unwrap()
}

#[test]
fn windows_dlls_reveal_every_bundled_library_version() {
    let doc = windows();
    let found: Vec<(String, String)> = doc
        .packages
        .iter()
        .filter(|p| p.name != "python-embed-amd64")
        .map(|p| (p.name.clone(), p.version.clone().unwrap_or_default()))
        .collect();
    for (name, version) in [
        ("openssl", "3.0.15"),
        ("sqlite", "3.45.3"),
        ("expat", "2.6.4"),
        ("mpdecimal", "4.0.0"),
        ("bzip2", "1.0.8"),
        ("libffi", "3.4.4"),
        ("cpython", "3.13.2"),
        ("vcruntime140", "14.42.34226.3"),
    ] {
        assert!(
            found.contains(&(name.to_string(), version.to_string())),
            "{name} {version} not in {found:?}"
        );
    }
    // liblzma compiled into _lzma.pyd, which carries no version: present, version unknown —
    // no version, no CPE, no PURL. (zlib lives in python313.dll, not in this fixture; the
    // embeddable zips' test in crates/relkit finds it.)
    assert!(found.contains(&("xz".into(), String::new())), "{found:?}");
    let xz = pkg(&doc, "xz");
    assert!(xz.cpes.is_empty() && xz.purls.is_empty(), "{xz:?}");
    assert_eq!(xz.evidence[0].file, "_lzma.pyd");
    assert_eq!(found.len(), 9, "{found:?}");
    let openssl = pkg(&doc, "openssl");
    assert_eq!(
        openssl.cpes,
        vec!["cpe:2.3:a:openssl:openssl:3.0.15:*:*:*:*:*:*:*"]
    );
    let ascii = openssl
        .evidence
        .iter()
        .find(|e| e.method == "ascii-string")
        .unwrap();
    assert_eq!(ascii.file, "libcrypto-3.dll");
    assert_eq!(ascii.text, "OpenSSL 3.0.15 3 Sep 2024");
    let bytes = std::fs::read(relkit_testkit::fixture(
        "windows-embed-3.13/libcrypto-3.dll",
    ))
    .unwrap();
    let off = ascii.offset.unwrap() as usize;
    assert_eq!(&bytes[off..off + ascii.text.len()], ascii.text.as_bytes());
    // Import edges: _ssl.pyd (CPython) -> libcrypto-3.dll (OpenSSL).
    let cpython = pkg(&doc, "cpython");
    assert!(
        doc.relationships
            .iter()
            .any(|r| r.from == cpython.id && r.kind == "DEPENDS_ON" && r.to == openssl.id)
    );
    for format in [Format::SpdxJson, Format::CycloneDxJson] {
        let (bytes, _) = relkit_sbom::write(&doc, format);
        let r = check::check_bytes(&bytes, "w").unwrap();
        assert!(r.valid, "{format:?} {:#?}", r.problems);
        // Evidence survives a read back.
        let (back, _, _) = relkit_sbom::read(&json::parse(&bytes, "w").unwrap(), "w").unwrap();
        assert_eq!(
            pkg(&back, "openssl").evidence,
            openssl.evidence,
            "{format:?}"
        );
    }
}

#[test]
fn declared_externals_are_compared_with_the_bytes() {
    let doc = windows();
    let (declared, _, _) = relkit_sbom::read_file(&relkit_testkit::fixture(
        "cpython-3.13.5/externals.spdx.json",
    ))
    .unwrap();
    let r = binary::compare_declared(&doc, &declared);
    let names =
        |rows: &[binary::DeclaredRow]| rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&r.contradicted), vec!["openssl", "sqlite"]);
    assert_eq!(
        r.contradicted[0].declared_version.as_deref(),
        Some("3.0.16")
    );
    assert_eq!(r.contradicted[0].found_versions, vec!["3.0.15"]);
    assert_eq!(names(&r.confirmed), vec!["bzip2", "libffi", "mpdecimal"]);
    assert_eq!(names(&r.version_unknown), vec!["xz"]);
    assert_eq!(names(&r.not_found), vec!["tcl-core", "tk", "zlib"]);
    assert_eq!(
        names(&r.undeclared),
        vec!["cpython", "expat", "vcruntime140"]
    );

    // A fabricated declared list that is right except for OpenSSL.
    let mut fabricated = doc.clone();
    fabricated.describes.clear();
    fabricated
        .packages
        .retain(|p| p.name != "python-embed-amd64");
    for p in &mut fabricated.packages {
        if p.name == "openssl" {
            p.version = Some("3.0.13".into());
        }
    }
    let r = binary::compare_declared(&doc, &fabricated);
    assert_eq!(names(&r.contradicted), vec!["openssl"]);
    assert!(r.not_found.is_empty() && r.undeclared.is_empty());
    assert!(r.has_findings());
}

#[test]
fn convert_round_trip_keeps_packages_files_and_relationships() {
    let doc = generate(&fixtures().join("cpython-subset"));
    let (cdx, lost) = relkit_sbom::write(&doc, Format::CycloneDxJson);
    assert!(lost.is_empty(), "{lost:?}");
    let (back, dropped, format) =
        relkit_sbom::read(&json::parse(&cdx, "cdx").unwrap(), "cdx").unwrap();
    assert_eq!(format, Format::CycloneDxJson);
    assert!(dropped.is_empty(), "{dropped:?}");
    assert_eq!(back.files, doc.files);
    assert_eq!(back.packages.len(), doc.packages.len());
    for (b, d) in back.packages.iter().zip(&doc.packages) {
        assert_eq!(b, d);
    }
    assert_eq!(back.relationships, doc.relationships);
    assert_eq!(back.describes, doc.describes);
    // And SPDX bytes are identical after the round trip.
    let mut back = back;
    back.name = doc.name.clone();
    back.namespace = doc.namespace.clone();
    assert_eq!(
        relkit_sbom::write(&back, Format::SpdxJson).0,
        relkit_sbom::write(&doc, Format::SpdxJson).0
    );
}

#[test]
fn merge_and_diff() {
    let src = generate(&fixtures().join("cpython-subset"));
    let win = windows();
    let merged = merge::merge(
        &[src.clone(), win.clone()],
        "CPython",
        Some("3.13.5"),
        "2025-06-11T00:00:00Z",
    );
    assert_eq!(merged.files.len(), src.files.len() + win.files.len());
    let root = merged.package(&merged.describes[0]).unwrap();
    for top in [&src.describes[0], &win.describes[0]] {
        assert!(
            merged
                .relationships
                .iter()
                .any(|r| r.from == root.id && r.kind == "CONTAINS" && &r.to == top)
        );
    }
    let r = check::check_bytes(&relkit_sbom::write(&merged, Format::SpdxJson).0, "m").unwrap();
    assert!(r.valid, "{:#?}", r.problems);

    let (old, _, _) = relkit_sbom::read_file(&relkit_testkit::fixture(
        "cpython-3.13.5/externals.spdx.json",
    ))
    .unwrap();
    let d = diff::diff(&old, &win);
    let changed: Vec<(&str, Vec<&str>)> = d
        .changed
        .iter()
        .map(|c| (c.name.as_str(), c.changes.clone()))
        .collect();
    assert!(
        changed
            .iter()
            .any(|(n, c)| *n == "openssl" && c.contains(&"version") && c.contains(&"cpe")),
        "{changed:?}"
    );
    // liblzma is found without a version: changed, not removed.
    assert!(
        changed
            .iter()
            .any(|(n, c)| *n == "xz" && c.contains(&"version")),
        "{changed:?}"
    );
    assert!(d.added.iter().any(|c| c.name == "expat"));
    assert!(diff::diff(&win, &win).is_empty());
}

/// Builds a wheel from the real pip METADATA and vendor.txt, with a RECORD listing `record_for`
/// (so a test can make it lie).
fn build_wheel(dir: &Path, tamper: bool) -> PathBuf {
    use base64_free::encode_url;
    let src = fixtures().join("cpython-subset/Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl");
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut b).unwrap();
        members.push((e.name().unwrap().into_owned(), b));
    }
    let mut record = String::new();
    for (n, b) in &members {
        let mut digest = sha2::Sha256::digest(b).to_vec();
        if tamper && n.ends_with("vendor.txt") {
            digest[0] ^= 1;
        }
        record.push_str(&format!("{n},sha256={},{}\n", encode_url(&digest), b.len()));
    }
    record.push_str("pip-25.1.1.dist-info/RECORD,,\n");
    members.push(("pip-25.1.1.dist-info/RECORD".into(), record.into_bytes()));
    let out = dir.join("pip-25.1.1-py3-none-any.whl");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
    for (n, b) in &members {
        z.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut z, b).unwrap();
    }
    z.finish().unwrap();
    out
}

mod base64_free {
    /// Unpadded base64url, the RECORD encoding (test-side, independent of the crate's decoder).
    pub fn encode_url(b: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut s = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        s
    }
}

#[test]
fn a_wheel_becomes_its_own_package_with_record_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let whl = build_wheel(tmp.path(), false);
    let doc = source::generate_wheel(
        &whl,
        &source::SourceOptions {
            created: "2025-06-11T00:00:00Z".into(),
            ..Default::default()
        },
        &|_| {},
    )
    .unwrap();
    let top = doc.package(&doc.describes[0]).unwrap();
    assert_eq!(
        (top.name.as_str(), top.version.as_deref()),
        ("pip", Some("25.1.1"))
    );
    assert_eq!(top.purls, vec!["pkg:pypi/pip@25.1.1"]);
    assert_eq!(
        top.checksum("SHA256").unwrap(),
        hex::encode(sha2::Sha256::digest(std::fs::read(&whl).unwrap()))
    );
    // A wheel's members are verified, not listed, unless asked (--files).
    assert!(doc.files.is_empty());
    assert!(!top.files_analyzed && top.verification_code.is_none());
    assert!(
        top.comment
            .as_deref()
            .is_some_and(|c| c.contains("File inventory left out: the input is a wheel")),
        "{:?}",
        top.comment
    );
    assert!(
        doc.relationships.iter().any(|r| r.from == top.id
            && r.kind == "DEPENDS_ON"
            && r.to == "SPDXRef-PACKAGE-urllib3")
    );
    let listed = source::generate_wheel(
        &whl,
        &source::SourceOptions {
            created: "2025-06-11T00:00:00Z".into(),
            files: source::FileInventory::Always,
            ..Default::default()
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(listed.files.len(), 4);
    assert!(listed.package(&listed.describes[0]).unwrap().files_analyzed);
    for d in [&doc, &listed] {
        let r = check::check_bytes(&relkit_sbom::write(d, Format::SpdxJson).0, "w").unwrap();
        assert!(r.valid, "{:#?}", r.problems);
    }

    let bad = tempfile::tempdir().unwrap();
    let whl = build_wheel(bad.path(), true);
    let err = source::generate_wheel(&whl, &source::SourceOptions::default(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pip/_vendor/vendor.txt: SHA256 expected"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_are_refused_with_the_name() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt")),
        b"x",
    )
    .unwrap();
    let err = source::generate(tmp.path(), &opts(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not valid UTF-8") && err.contains("caf\u{fffd}.txt"),
        "{err}"
    );
}

#[test]
fn relkit_toml_gives_the_top_package_defaults() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(source::project_defaults(tmp.path()).unwrap(), (None, None));
    std::fs::write(
        tmp.path().join("relkit.toml"),
        "[project]\nname = \"CPython\"\nversion = \"3.13.5\"\n[source]\nformats = [\"tar.xz\"]\n",
    )
    .unwrap();
    assert_eq!(
        source::project_defaults(tmp.path()).unwrap(),
        (Some("CPython".into()), Some("3.13.5".into()))
    );
    assert_eq!(
        source::sbom_defaults(tmp.path(), Some("3.13.5")).unwrap(),
        source::SbomDefaults::default()
    );
    std::fs::write(
        tmp.path().join("relkit.toml"),
        "[project]\nname = \"CPython\"\n[sbom]\nsupplier = \"Organization: Python Software Foundation\"\n\
         download-location = \"https://www.python.org/ftp/python/\"\nlicense = \"PSF-2.0\"\n\
         cpe = [\"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*\"]\n\
         purl = [\"pkg:generic/cpython@{version}\"]\nin-tree = \"Misc/sbom.spdx.json\"\n",
    )
    .unwrap();
    let d = source::sbom_defaults(tmp.path(), Some("3.13.5")).unwrap();
    assert_eq!(
        d.supplier.as_deref(),
        Some("Organization: Python Software Foundation")
    );
    assert_eq!(d.license.as_deref(), Some("PSF-2.0"));
    assert_eq!(d.cpes, ["cpe:2.3:a:python:python:3.13.5:*:*:*:*:*:*:*"]);
    assert_eq!(d.purls, ["pkg:generic/cpython@3.13.5"]);
    assert_eq!(d.in_tree.as_deref(), Some("Misc/sbom.spdx.json"));
    std::fs::write(tmp.path().join("relkit.toml"), "[sbom]\ncpe = \"x\"\n").unwrap();
    let err = source::sbom_defaults(tmp.path(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("[sbom] cpe") && err.contains("array"), "{err}");
    std::fs::write(tmp.path().join("relkit.toml"), "[project\n").unwrap();
    let err = source::project_defaults(tmp.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("relkit.toml"), "{err}");
}

#[test]
fn created_comes_from_the_newest_member_else_the_caller() {
    let no_time = source::SourceOptions {
        created: String::new(),
        ..opts()
    };
    let gen_bytes = |p: &Path| {
        let doc = source::generate(p, &no_time, &|_| {}).unwrap();
        (
            doc.created.clone(),
            relkit_sbom::write(&doc, Format::SpdxJson).0,
        )
    };
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);

    // A git work tree's commit time is the caller's to give (the CLI reads it with gitoxide,
    // see cli_sbom_inputs.rs): the library reads only the files.
    let tmp = tempfile::tempdir().unwrap();
    // The newest file time, so the same tree still gives the same bytes.
    let plain = tmp.path().join("plain");
    copy_tree(&fixtures().join("cpython-subset"), &plain);
    for e in walkdir::WalkDir::new(&plain) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let t = if e.file_name() == "LICENSE" {
                1_650_000_000
            } else {
                1_600_000_000
            };
            std::fs::File::options()
                .append(true)
                .open(e.path())
                .unwrap()
                .set_modified(at(t))
                .unwrap();
        }
    }
    let (created, first) = gen_bytes(&plain);
    assert_eq!(created, "2022-04-15T05:20:00Z");
    assert_eq!(gen_bytes(&plain).1, first);

    // An archive: the newest member time in its headers (tar_of copies the file times).
    let tgz = tmp.path().join("Python-3.13.5.tar.gz");
    tar_of(&plain, &tgz, "gz", false);
    let (created, first) = gen_bytes(&tgz);
    assert_eq!(created, "2022-04-15T05:20:00Z");
    assert_eq!(gen_bytes(&tgz).1, first);

    // An explicit time wins.
    let doc = source::generate(&plain, &opts(), &|_| {}).unwrap();
    assert_eq!(doc.created, "2025-06-11T00:00:00Z");
}

#[test]
fn a_plain_tarball_of_binaries_gives_the_components_of_the_directory() {
    let dir = relkit_testkit::fixture("windows-embed-3.13");
    let from_dir = windows();
    let tmp = tempfile::tempdir().unwrap();
    let opts = binary::BinaryOptions {
        name: Some("python-embed-amd64".into()),
        version: Some("3.13.2".into()),
        created: "2025-02-04T00:00:00Z".into(),
    };
    for (name, c) in [
        ("embed.tar", ""),
        ("embed.tgz", "gz"),
        ("embed.tar.xz", "xz"),
    ] {
        let p = tmp.path().join(name);
        let file = std::fs::File::create(&p).unwrap();
        let writer: Box<dyn std::io::Write> = match c {
            "gz" => Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::fast(),
            )),
            "xz" => Box::new(liblzma::write::XzEncoder::new(file, 1)),
            _ => Box::new(file),
        };
        let mut b = tar::Builder::new(writer);
        // Members in reverse order: the SBOM must not depend on the archive's order.
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names.reverse();
        for n in names {
            b.append_path_with_name(dir.join(&n), &n).unwrap();
        }
        b.into_inner().unwrap().flush().unwrap();
        assert!(binary::looks_binary(&p).unwrap(), "{name}");
        let doc = binary::generate(&p, &opts).unwrap();
        assert_eq!(doc.files, from_dir.files, "{name}");
        assert_eq!(doc.packages, from_dir.packages, "{name}");
        assert_eq!(doc.relationships, from_dir.relationships, "{name}");
        let openssl = pkg(&doc, "openssl");
        assert_eq!(openssl.version.as_deref(), Some("3.0.15"));
        assert!(
            openssl
                .evidence
                .iter()
                .any(|e| e.file == "libcrypto-3.dll" && e.text == "OpenSSL 3.0.15 3 Sep 2024"),
            "{:?}",
            openssl.evidence
        );
    }
    // An ELF file with holes becomes a GNU sparse member ('S' headers, as `tar --sparse` and
    // the tar crate write when the file system reports holes); it is a regular file for the
    // SBOM, and ELF files get the version-string rules too.
    let holes = tmp.path().join("holes.bin");
    {
        use std::io::{Seek, Write};
        let mut f = std::fs::File::create(&holes).unwrap();
        f.write_all(b"\x7fELF\x02\x01\x01").unwrap();
        f.seek(std::io::SeekFrom::Start(4 << 20)).unwrap();
        f.write_all(b"\0OpenSSL 3.0.15 3 Sep 2024\0").unwrap();
        f.set_len(8 << 20).unwrap();
    }
    let sparse = tmp.path().join("sparse.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&sparse).unwrap());
    b.append_path_with_name(&holes, "holes.bin").unwrap();
    b.into_inner().unwrap();
    let doc = binary::generate(&sparse, &opts).unwrap();
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(&holes).unwrap()));
    assert_eq!(doc.files[0].checksum("SHA256"), Some(want.as_str()));
    assert_eq!(pkg(&doc, "openssl").evidence[0].offset, Some((4 << 20) + 1));

    // A source tarball is not mistaken for binaries.
    let src = tmp.path().join("Python-3.13.5.tar.xz");
    tar_of(&fixtures().join("cpython-subset"), &src, "xz", false);
    assert!(!binary::looks_binary(&src).unwrap());
    // Path traversal is refused in binary mode too.
    let evil = tmp.path().join("evil.tar.gz");
    tar_of(&dir, &evil, "gz", true);
    let err = binary::generate(&evil, &opts).unwrap_err().to_string();
    assert!(err.contains("path traversal"), "{err}");
}
