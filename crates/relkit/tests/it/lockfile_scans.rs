//! `relkit scan LOCKFILE` on real lockfiles, with ground truth worked out by hand from the
//! advisory records (Cargo: cargo_audit.rs; Go: go_binary_scan.rs).
//!
//! `relkit scan requirements.txt` (a real pip-compile output pinned to Werkzeug 2.3.3: the
//! flask-celery fixture of relkit-catalog) against the PyPA advisory database of the shared
//! data. Ground truth worked out by hand from the seven Werkzeug records in that data:
//! - PYSEC-2017-43 (fixed 0.11.11), PYSEC-2019-140 (0.15.3), PYSEC-2020-157 (0.11.6),
//!   PYSEC-2022-203 (2.1.1), PYSEC-2023-57 and PYSEC-2023-58 (2.2.3): all fixed before 2.3.3,
//!   and 2.3.3 is in none of their `versions` lists — not affected;
//! - PYSEC-2023-221: `introduced 0, fixed 2.3.8` (and 3.0.0–3.0.1): 2.3.3 is affected, fixed
//!   in 2.3.8.
//!
//! So Werkzeug has exactly one finding, PYSEC-2023-221, fixed in 2.3.8.

use std::process::Command;

#[test]
fn pinned_requirements_are_scanned_against_the_pypa_records() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let pypa = root.join("../shared/data/osv/pypa-advisory-database.tar.xz");
    if !pypa.is_file() {
        relkit_testkit::missing(&format!("PyPA data {}", pypa.display()));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = db_of(&pypa, dir.path());
    let lock =
        root.join("crates/relkit-catalog/tests/fixtures/python/flask-celery/requirements.txt");
    let report = scan_report(&lock, &db);
    let werkzeug: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["component"] == "werkzeug")
        .map(|f| {
            let ids = std::iter::once(&f["id"]).chain(f["aliases"].as_array().unwrap());
            let pysec = ids
                .filter_map(|i| i.as_str())
                .find(|i| i.starts_with("PYSEC-"))
                .unwrap_or_default();
            (
                pysec.to_string(),
                f["installed"].as_str().unwrap().to_string(),
                f["fixed"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        werkzeug,
        [(
            "PYSEC-2023-221".to_string(),
            "2.3.3".to_string(),
            "2.3.8".to_string()
        )]
    );
}

/// `relkit scan package-lock.json` (json-server at 0e2a1d1, lockfile v1, seven versions of
/// `semver` in its tree: 5.3.0, 5.6.0, 5.7.1, 6.0.0, 6.3.0, 7.0.0, 7.3.2) against GHSA-c2qf-
/// rxjj-qqgw (CVE-2022-25883, the shared GHSA record): its ranges are `0 ≤ v < 5.7.2`,
/// `6.0.0 ≤ v < 6.3.1` and `7.0.0 ≤ v < 7.5.2`, so by hand every one of the seven is affected,
/// fixed in 5.7.2, 6.3.1 and 7.5.2 by major version. (A `.json` lockfile was once read as an
/// SBOM and refused; this test pins the order.)
#[test]
fn package_lock_is_scanned_against_the_ghsa_record() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let record = root.join("../shared/data/vulns/osv/ghsa/GHSA-c2qf-rxjj-qqgw.json");
    if !record.is_file() {
        relkit_testkit::missing(&format!("GHSA record {}", record.display()));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = db_of(&record, dir.path());
    let lock =
        root.join("crates/relkit-catalog/tests/fixtures/npm/json-server-0e2a1d1/package-lock.json");
    let report = scan_report(&lock, &db);
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["id"].as_str().unwrap(),
                f["component"].as_str().unwrap(),
                f["installed"].as_str().unwrap(),
                f["fixed"].as_str().unwrap_or("-")
            )
        })
        .collect();
    found.sort();
    let want: Vec<String> = [
        ("5.3.0", "5.7.2"),
        ("5.6.0", "5.7.2"),
        ("5.7.1", "5.7.2"),
        ("6.0.0", "6.3.1"),
        ("6.3.0", "6.3.1"),
        ("7.0.0", "7.5.2"),
        ("7.3.2", "7.5.2"),
    ]
    .iter()
    .map(|(v, fixed)| format!("CVE-2022-25883 semver {v} {fixed}"))
    .collect();
    assert_eq!(found, want);
}

/// A relkit DB in `dir` with the advisories of `source` imported.
pub(crate) fn db_of(source: &std::path::Path, dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("advisories.sqlite");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "db", "import", "--db"])
            .arg(&db)
            .arg(source),
    );
    db
}

/// `relkit scan TARGET --db DB --format json`, which must exit 1 (findings): the report.
pub(crate) fn scan_report(target: &std::path::Path, db: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("scan")
        .arg(target)
        .arg("--db")
        .arg(db)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
