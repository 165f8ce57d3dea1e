//! `relkit cpe …` and `relkit purl parse` end to end: JSON shapes, exit codes, error positions,
//! and the xz identity case on a dictionary built from the real NVD CVE records.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn relkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(args)
        .output()
        .expect("relkit runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-ident/tests/fixtures")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn parse_prints_wfn_and_both_bindings() {
    let out = relkit(&[
        "cpe",
        "parse",
        "--format",
        "json",
        "cpe:/a:hp:openview_network_manager:7.51::~~~linux~~",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["binding"], "uri");
    assert_eq!(
        v["fs"],
        "cpe:2.3:a:hp:openview_network_manager:7.51:*:*:*:*:linux:*:*"
    );
    assert_eq!(v["wfn"]["version"], "7\\.51");
    assert_eq!(v["wfn"]["target_sw"], "linux");
}

#[test]
fn malformed_cpe_exits_2_with_the_position() {
    let out = relkit(&["cpe", "parse", "cpe:2.3:a:foo:bar!:1.0:*:*:*:*:*:*:*"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid product at position 17"), "{err}");
    assert!(err.contains(&format!("\n  {}^", " ".repeat(17))), "{err}");
}

#[test]
fn match_exit_code_follows_the_relation() {
    let ok = relkit(&[
        "cpe",
        "match",
        "cpe:2.3:a:tukaani:xz:5.6.*:*:*:*:*:*:*:*",
        "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let no = relkit(&[
        "cpe",
        "match",
        "--format",
        "json",
        "cpe:2.3:a:xz_project:xz:*:*:*:*:*:*:*:*",
        "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*",
    ]);
    assert_eq!(no.status.code(), Some(1));
    assert_eq!(json(&no)["relation"], "DISJOINT");
}

#[test]
fn xz_sbom_is_flagged_with_tukaani_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let dict = dir.path().join("cpe.sqlite");
    let dict_s = dict.to_str().unwrap();
    let nvd = fixtures().join("nvd");
    let out = relkit(&[
        "cpe",
        "import",
        "--dict",
        dict_s,
        "--format",
        "json",
        nvd.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["cves"], 59);

    let out = relkit(&["cpe", "search", "--dict", dict_s, "--format", "json", "xz"]);
    let hits = json(&out);
    assert_eq!(hits["hits"][0]["vendor"], "tukaani");
    assert_eq!(hits["hits"][0]["kind"], "exact_product");
    assert_eq!(hits["hits"][0]["sample_cve"], "CVE-2024-3094");

    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let xz = doc["packages"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "xz")
        .unwrap();
    xz["versionInfo"] = "5.6.1".into();
    xz["externalRefs"][0]["referenceLocator"] =
        "cpe:2.3:a:xz_project:xz:5.6.1:*:*:*:*:*:*:*".into();
    let sbom = dir.path().join("sbom.spdx.json");
    std::fs::write(&sbom, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = relkit(&[
        "cpe",
        "check",
        "--dict",
        dict_s,
        "--format",
        "json",
        sbom.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let xz = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "xz")
        .unwrap();
    assert_eq!(xz["findings"][0]["code"], "cpe-unknown");
    assert_eq!(xz["findings"][0]["severity"], "error");
    assert_eq!(
        xz["findings"][0]["suggestions"][0]["cpe"],
        "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
    );

    let missing = relkit(&[
        "cpe",
        "search",
        "--dict",
        dir.path().join("none.sqlite").to_str().unwrap(),
        "xz",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("relkit cpe import"));
}

#[test]
fn purl_parse_normalizes() {
    let out = relkit(&[
        "purl",
        "parse",
        "--format",
        "json",
        "pkg:PYPI/Django_package@1.11.1.dev1",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["canonical"], "pkg:pypi/django-package@1.11.1.dev1");
    assert_eq!(v["name"], "django-package");
    let bad = relkit(&["purl", "parse", "pkg:npm/foo@1.0%zz"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("position 15"));
}
