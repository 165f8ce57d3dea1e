//! `relkit sbom verify` end to end: CPython 3.13.5's in-tree SBOM against its official
//! tarball (downloaded by CI) and against a committed subset, `--fix` (checked with
//! pyspdxtools), the Windows externals SBOM against real DLLs, SARIF (checked with the SARIF
//! Multitool's `validate`), exit codes and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::{run_oracle, upstream_data};
use serde_json::Value;

fn relkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
}

fn truth_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-truth/tests/fixtures")
}

fn evidence_tree() -> PathBuf {
    truth_fixtures().join("cpython-3.13.5-evidence")
}

/// CPython 3.13.5's `Misc/sbom.spdx.json`, byte-identical to the tarball's.
fn cpython_sbom() -> PathBuf {
    evidence_tree().join("Misc/sbom.spdx.json")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

fn verify(sbom: &Path, against: &Path, extra: &[&str]) -> Output {
    relkit()
        .args(["sbom", "verify"])
        .arg(sbom)
        .arg("--against")
        .arg(against)
        .args(extra)
        .output()
        .unwrap()
}

/// (name, verdict, found_version) of every package of a JSON report.
fn verdicts(report: &Value) -> Vec<(String, String, Option<String>)> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["verdict"].as_str().unwrap().to_string(),
                p["found_version"].as_str().map(String::from),
            )
        })
        .collect()
}

fn v(name: &str, verdict: &str, found: Option<&str>) -> (String, String, Option<String>) {
    (name.into(), verdict.into(), found.map(String::from))
}

/// Every package of CPython 3.13.5's in-tree SBOM, worked out by hand from the tarball
/// (see crates/relkit-truth/tests/verify.rs for the lines).
fn cpython_expected() -> Vec<(String, String, Option<String>)> {
    vec![
        v("expat", "contradicted", Some("2.7.1")),
        v(
            "hacl-star",
            "confirmed",
            Some("bb3d0dc8d9d15a5cd51094d5b69e70aa09005ff0"),
        ),
        v("libb2", "unverifiable", None),
        v("macholib", "confirmed", Some("1.0")),
        v("mpdecimal", "confirmed", Some("2.5.1")),
    ]
}

fn expat(report: &Value) -> &Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "expat")
        .unwrap()
}

#[test]
fn cpython_3_13_5_official_tarball() {
    let Some(tarball) = upstream_data("python3.13_3.13.5.orig.tar.xz") else {
        return;
    };
    let o = verify(&cpython_sbom(), &tarball, &["--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(verdicts(&r), cpython_expected());
    let e = expat(&r);
    assert_eq!(e["declared_version"], "2.6.3");
    assert_eq!(e["evidence"][0]["file"], "Modules/expat/expat.h");
    assert_eq!(e["evidence"][0]["line"], 1069);
    // In the full tree every file the SBOM assigns is present.
    for p in r["packages"].as_array().unwrap() {
        assert_eq!(
            p["files"]["assigned"], p["files"]["present"],
            "{}",
            p["name"]
        );
    }
    assert_eq!(r["summary"]["contradicted"], 1);

    // --fix, then no false alarm against the same full tree; pyspdxtools accepts the result.
    let tmp = tempfile::tempdir().unwrap();
    let fixed = tmp.path().join("sbom.fixed.spdx.json");
    let o = verify(
        &cpython_sbom(),
        &tarball,
        &["--fix", "-o", fixed.to_str().unwrap()],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("fixed SPDXRef-PACKAGE-expat $.packages[0].versionInfo: 2.6.3 -> 2.7.1"),
        "{out}"
    );
    assert!(out.contains("wrote "), "{out}");
    let o = verify(&fixed, &tarball, &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let r = json(&o);
    assert_eq!(r["summary"]["contradicted"], 0);
    assert_eq!(r["summary"]["confirmed"], 4);
    // CPython's in-tree SBOM is a partial SPDX document (no creationInfo), so pyspdxtools
    // rejects the original; the fixed one must get exactly the same verdict, nothing new.
    if let Some(orig) = run_oracle("pyspdxtools", &["-i", cpython_sbom().to_str().unwrap()]) {
        let after = run_oracle("pyspdxtools", &["-i", fixed.to_str().unwrap()]).unwrap();
        assert!(
            stderr(&orig).contains("CreationInfo does not exist"),
            "{}",
            stderr(&orig)
        );
        assert_eq!(
            (after.status.code(), stderr(&after)),
            (orig.status.code(), stderr(&orig))
        );
    }
}

#[test]
fn sbom_generated_by_relkit_from_the_tarball() {
    // `relkit sbom generate` copies the in-tree SBOM's vendored packages (expat 2.6.3
    // included) and adds the bundled pip wheel and the projects pip vendors: all but expat
    // (contradicted) and libb2 (no version in its files) are confirmed, CPython itself by
    // Include/patchlevel.h, pip by its wheel, the pip-vendored projects by pip's vendor.txt,
    // the tools pinned in Tools/requirements-*.txt by those files.
    let Some(tarball) = upstream_data("python3.13_3.13.5.orig.tar.xz") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sbom = tmp.path().join("cpython.spdx.json");
    let o = relkit()
        .env("SOURCE_DATE_EPOCH", "1749600000")
        .args(["sbom", "generate"])
        .arg(&tarball)
        .args(["--name", "CPython", "--version", "3.13.5", "-q", "-o"])
        .arg(format!("spdx-json={}", sbom.display()))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify(&sbom, &tarball, &["--format", "json"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    let all = verdicts(&r);
    let not_confirmed: Vec<_> = all.iter().filter(|(_, v, _)| v != "confirmed").collect();
    assert_eq!(
        not_confirmed,
        vec![
            &v("expat", "contradicted", Some("2.7.1")),
            &v("libb2", "unverifiable", None)
        ]
    );
    assert!(all.len() >= 25, "{all:?}");
    for must in [
        v("CPython", "confirmed", Some("3.13.5")),
        v("pip", "confirmed", Some("25.1.1")),
        v("setuptools", "confirmed", Some("70.3.0")),
        v("urllib3", "confirmed", Some("1.26.20")),
        // Pinned in Tools/requirements-*.txt (hand-checked in the tarball): cataloged by
        // `sbom generate`, confirmed by `sbom verify` reading the requirements file again.
        v("hypothesis", "confirmed", Some("6.111.2")),
        v("mypy", "confirmed", Some("1.15")),
        v("types-psutil", "confirmed", Some("5.9.5.20240423")),
    ] {
        assert!(all.contains(&must), "{must:?} not in {all:?}");
    }
    // A cataloged package whose declared version the lockfile does not hold is contradicted.
    let text = std::fs::read_to_string(&sbom).unwrap();
    let edited = text.replace("\"versionInfo\": \"1.15\"", "\"versionInfo\": \"1.16\"");
    assert_ne!(edited, text, "mypy 1.15 is in the generated SBOM");
    std::fs::write(&sbom, edited).unwrap();
    let o = verify(&sbom, &tarball, &["--format", "json"]);
    assert!(
        verdicts(&json(&o)).contains(&v("mypy", "contradicted", Some("1.15"))),
        "{}",
        stdout(&o)
    );
}

#[test]
fn cpython_subset_text_report_and_exit_code() {
    let o = verify(&cpython_sbom(), &evidence_tree(), &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("CONTRADICTED  expat declared 2.6.3, found 2.7.1"),
        "{out}"
    );
    assert!(
        out.contains("declared 2.6.3, but Modules/expat/expat.h line 1069 shows 2.7.1"),
        "{out}"
    );
    assert!(out.contains(
        "CONFIRMED     mpdecimal 2.5.1: Modules/_decimal/libmpdec/mpdecimal.h:86 #define MPD_VERSION \"2.5.1\""
    ), "{out}");
    assert!(
        out.contains("UNVERIFIABLE  libb2 0.98.1: no evidence"),
        "{out}"
    );
    assert!(
        out.contains("5 packages: 3 confirmed, 1 contradicted, 1 unverifiable"),
        "{out}"
    );
    // --quiet keeps only the contradiction.
    let o = verify(&cpython_sbom(), &evidence_tree(), &["--quiet"]);
    let out = stdout(&o);
    assert!(out.starts_with("CONTRADICTED  expat"), "{out}");
    assert!(!out.contains("CONFIRMED"), "{out}");
    let r = json(&verify(
        &cpython_sbom(),
        &evidence_tree(),
        &["--format", "json"],
    ));
    assert_eq!(verdicts(&r), cpython_expected());
}

/// `--against` reads every archive format `sbom generate` and `diff` read (relkit-archive's one
/// reader): the same tree packed by GNU tar with each compressor, and by Info-ZIP, gives the
/// same verdicts as the directory (it once failed on .tar.zst and .tar.bz2 with a tar error).
#[test]
fn every_archive_format_gives_the_same_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("Python-3.13.5");
    relkit_testkit::copy_dir(&evidence_tree(), &top);
    let packs: [(&str, &[&str]); 5] = [
        ("x.tar.gz", &["tar", "-czf"]),
        ("x.tar.xz", &["tar", "-cJf"]),
        ("x.tar.bz2", &["tar", "-cjf"]),
        ("x.tar.zst", &["tar", "--zstd", "-cf"]),
        ("x.zip", &["zip", "-qr"]),
    ];
    for (name, cmd) in packs {
        let Some(_) = relkit_testkit::oracle(cmd[0]) else {
            continue;
        };
        if name.ends_with(".zst") && relkit_testkit::oracle("zstd").is_none() {
            continue;
        }
        let archive = tmp.path().join(name);
        let st = Command::new(cmd[0])
            .args(&cmd[1..])
            .arg(&archive)
            .arg("Python-3.13.5")
            .current_dir(tmp.path())
            .status()
            .unwrap();
        assert!(st.success(), "{cmd:?}");
        let o = verify(&cpython_sbom(), &archive, &["--format", "json"]);
        assert_eq!(code(&o), 1, "{name}: {}", stderr(&o));
        assert_eq!(verdicts(&json(&o)), cpython_expected(), "{name}");
    }
}

#[test]
fn sarif_output_is_valid_and_points_at_the_line() {
    let o = verify(&cpython_sbom(), &evidence_tree(), &["--format", "sarif"]);
    assert_eq!(code(&o), 1);
    let s = json(&o);
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    let c: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "contradicted")
        .collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["level"], "error");
    let loc = &c[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "Modules/expat/expat.h");
    assert_eq!(loc["region"]["startLine"], 1069);
    assert_eq!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "unverifiable")
            .count(),
        1
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("verify.sarif");
    std::fs::write(&file, &o.stdout).unwrap();
    if let Some(o) = run_oracle("sarif-multitool", &["validate", file.to_str().unwrap()]) {
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(
            o.status.success(),
            "SARIF Multitool rejects our SARIF: {all}"
        );
        assert!(!all.contains("error"), "{all}");
    }
}

#[test]
fn fix_needs_a_new_file_or_in_place_and_writes_atomically() {
    let o = verify(&cpython_sbom(), &evidence_tree(), &["--fix"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--fix needs -o NEW"), "{}", stderr(&o));
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("sbom.spdx.json");
    std::fs::copy(cpython_sbom(), &copy).unwrap();
    let o = verify(
        &copy,
        &evidence_tree(),
        &["--fix", "-o", copy.to_str().unwrap()],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--in-place"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(cpython_sbom()).unwrap()
    );
    let o = verify(
        &copy,
        &evidence_tree(),
        &["--fix", "--in-place", "--format", "json"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    let changes = r["fix"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[1]["new"],
        "cpe:2.3:a:libexpat_project:libexpat:2.7.1:*:*:*:*:*:*:*"
    );
    // Only the SBOM is left in the directory: the temporary file was renamed over it.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    let o = verify(&copy, &evidence_tree(), &[]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn fixed_complete_spdx_document_stays_valid_for_pyspdxtools() {
    // A complete SPDX 2.3 document declaring libb2 0.98 (CPE and PURL too) over libb2
    // 0.98.1's real configure.ac.
    let sbom = truth_fixtures().join("libb2-0.98.1-wrong.spdx.json");
    let tree = truth_fixtures().join("libb2-0.98.1");
    let tmp = tempfile::tempdir().unwrap();
    let fixed = tmp.path().join("fixed.spdx.json");
    let o = verify(&sbom, &tree, &["--fix", "-o", fixed.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("CONTRADICTED  libb2 declared 0.98, found 0.98.1"),
        "{out}"
    );
    assert!(out.contains("-> pkg:github/blake2/libb2@0.98.1"), "{out}");
    assert!(out.contains("wrote "), "{out}");
    // The download URL names 0.98.1, not 0.98: nothing to review.
    assert!(!out.contains("review:"), "{out}");
    assert_eq!(code(&verify(&fixed, &tree, &[])), 0);
    for f in [&sbom, &fixed] {
        if let Some(o) = run_oracle("pyspdxtools", &["-i", f.to_str().unwrap()]) {
            assert!(
                o.status.success(),
                "pyspdxtools on {}: {}",
                f.display(),
                stderr(&o)
            );
        }
    }
}

#[test]
fn windows_externals_against_3_13_2_dlls() {
    let o = verify(
        &relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json"),
        &relkit_testkit::fixture("windows-embed-3.13"),
        &["--format", "json"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["mode"], "binary");
    assert_eq!(
        verdicts(&r),
        vec![
            v("bzip2", "confirmed", Some("1.0.8")),
            v("libffi", "confirmed", Some("3.4.4")),
            v("mpdecimal", "confirmed", Some("4.0.0")),
            v("openssl", "contradicted", Some("3.0.15")),
            v("sqlite", "contradicted", Some("3.45.3")),
            v("tcl-core", "unverifiable", None),
            v("tk", "unverifiable", None),
            v("xz", "unverifiable", None),
            v("zlib", "unverifiable", None),
        ]
    );
    // The same DLLs in a .tar.zst: read by relkit-archive, the same verdicts.
    if relkit_testkit::oracle("zstd").is_some() {
        let tmp = tempfile::tempdir().unwrap();
        let packed = tmp.path().join("embed.tar.zst");
        let st = Command::new("tar")
            .arg("--zstd")
            .arg("-cf")
            .arg(&packed)
            .arg("-C")
            .arg(relkit_testkit::fixture("windows-embed-3.13"))
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success());
        let o = verify(
            &relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json"),
            &packed,
            &["--format", "json", "--kind", "binary"],
        );
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert_eq!(verdicts(&json(&o)), verdicts(&r), "the .tar.zst");
    }
    let o = verify(
        &relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json"),
        &relkit_testkit::fixture("windows-embed-3.13"),
        &[],
    );
    let out = stdout(&o);
    assert!(
        out.contains("CONTRADICTED  openssl declared 3.0.16, found 3.0.15"),
        "{out}"
    );
    assert!(
        out.contains("UNDECLARED    expat 2.6.4 (found in pyexpat.pyd, not in the SBOM)"),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let o = verify(&cpython_sbom(), &missing, &[]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope"), "{}", stderr(&o));
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"spdxVersion\": \n").unwrap();
    let o = verify(&bad, &evidence_tree(), &[]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("bad.json: malformed JSON at line 3"),
        "{}",
        stderr(&o)
    );
}
