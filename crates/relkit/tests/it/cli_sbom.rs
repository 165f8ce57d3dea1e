//! End-to-end tests of `relkit sbom …` on real data, with the reference tools as oracles:
//! `pyspdxtools -i` (PyPI spdx-tools) for SPDX and cyclonedx-python-lib's JSON validator for
//! CycloneDX. When an oracle is missing the test fails if RELKIT_REQUIRE_ORACLES is set (CI)
//! and is skipped with a message otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn relkit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relkit"));
    c.env("SOURCE_DATE_EPOCH", "1749600000");
    // No CPE dictionary: these verdicts are the spec's, compared with the oracles.
    c.env("XDG_CACHE_HOME", "/nonexistent/relkit-test-cache");
    c
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-sbom/tests/fixtures")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("relkit runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs an oracle; `None` when it is not installed (and that is allowed).
fn oracle(program: &str, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(o)
            if program != "python3"
                || !String::from_utf8_lossy(&o.stderr).contains("ModuleNotFoundError") =>
        {
            Some(o)
        }
        _ => {
            relkit_testkit::missing(&format!(
                "oracle {program} {args:?} (.ci/deps.d/50-sbom.sh: pip install spdx-tools 'cyclonedx-python-lib[json-validation]')"
            ));
            None
        }
    }
}

const CDX_VALIDATOR: &str = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
versions = {"1.6": SchemaVersion.V1_6, "1.5": SchemaVersion.V1_5, "1.4": SchemaVersion.V1_4}
import json
for f in sys.argv[1:]:
    text = open(f, encoding="utf-8").read()
    try:
        v = versions.get(json.loads(text).get("specVersion"), SchemaVersion.V1_6)
    except Exception:
        v = SchemaVersion.V1_6
    err = JsonStrictValidator(v).validate_str(text)
    print(("valid" if err is None else "invalid") + "\t" + f)
"#;

/// Oracle verdicts (file -> valid) from cyclonedx-python-lib.
fn cdx_oracle(files: &[PathBuf]) -> Option<Vec<(PathBuf, bool)>> {
    let mut args = vec!["-c", CDX_VALIDATOR];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = oracle("python3", &args)?;
    assert!(out.status.success(), "validator crashed: {}", text(&out));
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let (v, f) = l.split_once('\t').unwrap();
                (PathBuf::from(f), v == "valid")
            })
            .collect(),
    )
}

fn generate_fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let spdx = dir.join("cpython.spdx.json");
    let cdx = dir.join("cpython.cdx.json");
    let o = run(relkit()
        .args(["sbom", "generate"])
        .arg(fixtures().join("cpython-subset"))
        .args([
            "--name",
            "CPython",
            "--version",
            "3.13.5",
            "--supplier",
            "Python Software Foundation",
            "--author",
            "Python Software Foundation",
            "--download-location",
            "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz",
            "--cpe",
            "cpe:2.3:a:python:python:3.13.5:*:*:*:*:*:*:*",
            "--purl",
            "pkg:generic/cpython@3.13.5",
            "--license",
            "PSF-2.0",
        ])
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .arg("-o")
        .arg(format!("cyclonedx-json={}", cdx.display())));
    assert_eq!(code(&o), 0, "{}", text(&o));
    (spdx, cdx)
}

#[test]
fn generated_source_sbom_passes_relkit_pyspdxtools_and_cyclonedx_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let (spdx, cdx) = generate_fixture(tmp.path());
    let o = run(relkit().args(["sbom", "check", "--strict"]).arg(&spdx));
    // --strict: only NTIA warnings for the pip-vendored projects (no supplier) are expected.
    assert!(text(&o).contains("valid (0 errors"), "{}", text(&o));
    let o = run(relkit().args(["sbom", "check"]).arg(&spdx).arg(&cdx));
    assert_eq!(code(&o), 0, "{}", text(&o));
    // Same input, same bytes.
    let again = tempfile::tempdir().unwrap();
    let (spdx2, cdx2) = generate_fixture(again.path());
    assert_eq!(
        std::fs::read(&spdx).unwrap(),
        std::fs::read(&spdx2).unwrap()
    );
    assert_eq!(std::fs::read(&cdx).unwrap(), std::fs::read(&cdx2).unwrap());
    let body: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    assert_eq!(body["creationInfo"]["created"], "2025-06-11T00:00:00Z");
    if let Some(o) = oracle("pyspdxtools", &["-i", spdx.to_str().unwrap()]) {
        assert!(
            o.status.success(),
            "pyspdxtools rejects our SBOM: {}",
            text(&o)
        );
    }
    if let Some(v) = cdx_oracle(std::slice::from_ref(&cdx)) {
        assert_eq!(v, vec![(cdx.clone(), true)]);
    }
}

/// One defect applied to a copy of a valid document.
type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

fn spdx_corpus(tmp: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["sbom/spdx/valid", "sbom/spdx/invalid", "cpython-3.13.5"] {
        for e in std::fs::read_dir(relkit_testkit::fixture(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    // Mutations of the SPDX 2.3 spec example, one defect each.
    let base: serde_json::Value = serde_json::from_slice(
        &std::fs::read(relkit_testkit::fixture(
            "sbom/spdx/valid/SPDXJSONExample-v2.3.spdx.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "dangling-relationship",
            Box::new(|v| v["relationships"][0]["relatedSpdxElement"] = "SPDXRef-Nowhere".into()),
        ),
        (
            "short-sha1",
            Box::new(|v| v["files"][0]["checksums"][0]["checksumValue"] = "abc123".into()),
        ),
        (
            "bad-license",
            Box::new(|v| v["packages"][0]["licenseConcluded"] = "MIT OR".into()),
        ),
        (
            "duplicate-id",
            Box::new(|v| {
                let id = v["packages"][0]["SPDXID"].clone();
                v["files"][0]["SPDXID"] = id;
            }),
        ),
        (
            "bad-cpe",
            Box::new(|v| {
                v["packages"][0]["externalRefs"][0]["referenceLocator"] = "cpe:2.3:a:foo".into()
            }),
        ),
        (
            "no-namespace",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("documentNamespace");
            }),
        ),
        (
            "bad-created",
            Box::new(|v| v["creationInfo"]["created"] = "2020-01-01".into()),
        ),
        (
            "undeclared-licenseref",
            Box::new(|v| v["packages"][0]["licenseDeclared"] = "LicenseRef-Undeclared".into()),
        ),
        (
            "verification-code-without-analysis",
            Box::new(|v| v["packages"][0]["filesAnalyzed"] = false.into()),
        ),
        ("no-mutation-roundtrip", Box::new(|_| {})),
    ];
    for (name, m) in mutations {
        let mut v = base.clone();
        m(&mut v);
        let p = tmp.join(format!("mutated-{name}.spdx.json"));
        std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        files.push(p);
    }
    files.sort();
    files
}

#[test]
fn check_agrees_with_pyspdxtools_on_every_spdx_document() {
    let tmp = tempfile::tempdir().unwrap();
    let (generated, _) = generate_fixture(tmp.path());
    let mut files = spdx_corpus(tmp.path());
    files.push(generated);
    let mut checked = 0;
    for f in &files {
        let ours = run(relkit().args(["sbom", "check", "-q"]).arg(f));
        assert!(matches!(code(&ours), 0..=2), "{}", text(&ours));
        let Some(theirs) = oracle("pyspdxtools", &["-i", f.to_str().unwrap()]) else {
            return;
        };
        assert_eq!(
            code(&ours) == 0,
            theirs.status.success(),
            "verdicts differ on {}:\nrelkit: {}\npyspdxtools: {}",
            f.display(),
            text(&ours),
            text(&theirs)
        );
        checked += 1;
    }
    assert!(checked >= 18, "{checked}");
}

#[test]
fn check_agrees_with_the_cyclonedx_validator() {
    let mut files = Vec::new();
    for dir in [
        "sbom/cyclonedx/valid",
        "sbom/cyclonedx/invalid",
        "sbom/cyclonedx/valid-1.5",
        "sbom/cyclonedx/invalid-1.5",
    ] {
        for e in std::fs::read_dir(relkit_testkit::fixture(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    files.sort();
    let Some(verdicts) = cdx_oracle(&files) else {
        return;
    };
    let mut disagreements = Vec::new();
    for (f, valid) in verdicts {
        let ours = run(relkit()
            .args(["sbom", "check", "-q", "--format", "json"])
            .arg(&f));
        let ours_valid = code(&ours) == 0;
        if ours_valid != valid {
            disagreements.push(format!(
                "{}: relkit {} validator {}",
                f.display(),
                ours_valid,
                valid
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn check_reports_problems_as_json_with_paths_and_hints() {
    let f = relkit_testkit::fixture("cpython-3.13.5/sbom.spdx.json");
    let o = run(relkit().args(["sbom", "check", "--format", "json"]).arg(&f));
    assert_eq!(code(&o), 1, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = v[0]["problems"].as_array().unwrap();
    assert_eq!(v[0]["valid"], false);
    let ns = problems
        .iter()
        .find(|p| p["path"] == "$.documentNamespace" && p["rule"] == "spec")
        .unwrap();
    assert_eq!(ns["severity"], "error");
    assert!(ns["hint"].as_str().unwrap().contains("unique URI"));
}

#[test]
fn windows_binaries_and_a_wrong_declared_openssl_version() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("win.spdx.json");
    // Fabricated declared list: the real externals of 3.13.5 say openssl 3.0.16.
    let o = run(relkit()
        .args(["sbom", "generate"])
        .arg(relkit_testkit::fixture("windows-embed-3.13"))
        .args([
            "--name",
            "python-embed-amd64",
            "--version",
            "3.13.2",
            "--declared",
        ])
        .arg(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .arg("-o")
        .arg(format!("spdx-json={}", out.display())));
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    let line = t
        .lines()
        .find(|l| l.starts_with("CONTRADICTED") && l.contains("openssl"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        line.contains("3.0.16") && line.contains("3.0.15") && line.contains("libcrypto-3.dll"),
        "{line}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with("NO VERSION") && l.contains("xz") && l.contains("_lzma.pyd")),
        "{t}"
    );
    assert!(
        t.lines()
            .any(|l| l.starts_with("UNDECLARED") && l.contains("expat") && l.contains("2.6.4")),
        "{t}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let names: Vec<String> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["versionInfo"].as_str().unwrap_or("")
            )
        })
        .collect();
    for want in [
        "openssl 3.0.15",
        "sqlite 3.45.3",
        "expat 2.6.4",
        "mpdecimal 4.0.0",
        "bzip2 1.0.8",
        "libffi 3.4.4",
        "cpython 3.13.2",
        "vcruntime140 14.42.34226.3",
    ] {
        assert!(names.contains(&want.to_string()), "{want} not in {names:?}");
    }
    if let Some(o) = oracle("pyspdxtools", &["-i", out.to_str().unwrap()]) {
        assert!(o.status.success(), "{}", text(&o));
    }
    let cdx = tmp.path().join("win.cdx.json");
    let o = run(relkit()
        .args(["sbom", "convert"])
        .arg(&out)
        .args(["--to", "cyclonedx-json", "-o"])
        .arg(&cdx));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cdx).unwrap()).unwrap();
    let openssl = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "openssl")
        .unwrap();
    assert_eq!(
        openssl["evidence"]["occurrences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["location"] == "libcrypto-3.dll")
            .count(),
        2
    );
    if let Some(v) = cdx_oracle(std::slice::from_ref(&cdx)) {
        assert_eq!(v, vec![(cdx.clone(), true)]);
    }
}

#[test]
fn bad_inputs_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"spdxVersion\": \"SPDX-2.3\",\n  \"name\": oops\n}\n",
    )
    .unwrap();
    let o = run(relkit().args(["sbom", "check"]).arg(&bad));
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("line 3, column"), "{}", text(&o));
    let v3 = tmp.path().join("v3.json");
    std::fs::write(
        &v3,
        r#"{"spdxVersion": "SPDX-3.0", "SPDXID": "SPDXRef-DOCUMENT"}"#,
    )
    .unwrap();
    let o = run(relkit().args(["sbom", "check"]).arg(&v3));
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("SPDX-3.0"), "{}", text(&o));

    // A truncated DLL.
    let dir = tmp.path().join("dlls");
    std::fs::create_dir(&dir).unwrap();
    let dll = std::fs::read(relkit_testkit::fixture("windows-embed-3.13/libffi-8.dll")).unwrap();
    std::fs::write(dir.join("libffi-8.dll"), &dll[..600]).unwrap();
    let out = tmp.path().join("out.spdx.json");
    let o = run(relkit()
        .args(["sbom", "generate"])
        .arg(&dir)
        .arg("-o")
        .arg(format!("spdx-json={}", out.display())));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("libffi-8.dll") && text(&o).contains("not a valid PE"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());

    // A tarball with a path-traversal member (ustar header written by hand).
    let tgz = tmp.path().join("evil.tar");
    std::fs::write(&tgz, ustar("pkg/../../escape.txt", b"evil")).unwrap();
    let o = run(relkit()
        .args(["sbom", "generate"])
        .arg(&tgz)
        .arg("-o")
        .arg(format!("spdx-json={}", out.display())));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("path traversal"), "{}", text(&o));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("relkit-tmp"))
            .count(),
        0
    );
}

#[test]
fn merge_and_diff_release_sboms() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, _) = generate_fixture(tmp.path());
    let win = tmp.path().join("win.cdx.json");
    let o = run(relkit()
        .args(["sbom", "generate"])
        .arg(relkit_testkit::fixture("windows-embed-3.13"))
        .args(["--name", "python-embed-amd64", "--version", "3.13.2", "-o"])
        .arg(format!("cyclonedx-json={}", win.display())));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let merged = tmp.path().join("release.spdx.json");
    let o = run(relkit()
        .args(["sbom", "merge"])
        .arg(&src)
        .arg(&win)
        .args(["--name", "CPython", "--version", "3.13.5", "-o"])
        .arg(format!("spdx-json={}", merged.display())));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = run(relkit().args(["sbom", "check", "-q"]).arg(&merged));
    assert_eq!(code(&o), 0, "{}", text(&o));
    if let Some(o) = oracle("pyspdxtools", &["-i", merged.to_str().unwrap()]) {
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = run(relkit()
        .args(["sbom", "diff", "--format", "json"])
        .arg(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .arg(&win));
    assert_eq!(code(&o), 1, "{}", text(&o));
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let openssl = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "openssl")
        .unwrap();
    assert_eq!(openssl["old"]["version"], "3.0.16");
    assert_eq!(openssl["new"]["version"], "3.0.15");
    let o = run(relkit().args(["sbom", "diff"]).arg(&win).arg(&win));
    assert_eq!(code(&o), 0, "{}", text(&o));
}

/// One-member ustar archive, built by hand so the test can carry a hostile member name.
fn ustar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

#[test]
fn cyclonedx_conformance_documents_convert_to_spdx_that_pyspdxtools_judges_like_relkit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut valid_both = 0;
    for dir in ["sbom/cyclonedx/valid", "sbom/cyclonedx/valid-1.5"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(relkit_testkit::fixture(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let out = tmp
                .path()
                .join(f.file_name().unwrap())
                .with_extension("spdx.json");
            let o = run(relkit()
                .args(["sbom", "convert", "-q", "--to", "spdx-json"])
                .arg(&f)
                .arg("-o")
                .arg(&out));
            assert_eq!(code(&o), 0, "{}: {}", f.display(), text(&o));
            let ours = code(&run(relkit().args(["sbom", "check", "-q"]).arg(&out))) == 0;
            let Some(theirs) = oracle("pyspdxtools", &["-i", out.to_str().unwrap()]) else {
                return;
            };
            let theirs_text = text(&theirs);
            if ours
                && !theirs.status.success()
                && theirs_text.contains("BLAKE3 must consist of at least 256")
            {
                // tools-python bug: it wants >= 256 hex digits for BLAKE3 (a 256-bit digest has 64).
                continue;
            }
            assert_eq!(
                ours,
                theirs.status.success(),
                "{}:\n{theirs_text}",
                f.display()
            );
            valid_both += usize::from(ours);
        }
    }
    assert!(valid_both >= 75, "{valid_both}");
}
