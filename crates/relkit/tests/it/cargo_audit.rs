//! `relkit scan Cargo.lock` finds what cargo-audit finds on the same advisories: the RustSec
//! database of the shared data (`../shared/data/osv/rustsec-advisory-db.tar.xz`, unpacked as
//! cargo-audit's `--db` directory and imported into a relkit DB), on real lockfiles pinned
//! to old, vulnerable versions (ripgrep's own `Cargo.lock` at four commits, every lockfile
//! format v1–v4, in relkit-catalog's fixtures) and on relkit's own.
//!
//! Both sides, compared as sets of (RustSec id, crate, version):
//! - cargo-audit's `vulnerabilities` = relkit's findings (by the RUSTSEC id among the
//!   finding's id and aliases);
//! - cargo-audit's `warnings` (unmaintained, unsound, notice; yanked checks are off, they need
//!   the crates.io index) = relkit's informational warnings.
//!
//! Withdrawn advisories are in neither. The workspace's own crates (no `source` in the lock) are
//! matched by neither: ripgrep's `grep-cli 0.1.3` is a path dependency that RUSTSEC-2021-0071
//! (for the crates.io `grep-cli`) does not concern.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

type Hits = BTreeSet<(String, String, String)>;

#[test]
fn scan_agrees_with_cargo_audit_on_real_lockfiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rustsec = root.join("../shared/data/osv/rustsec-advisory-db.tar.xz");
    if !rustsec.is_file() {
        relkit_testkit::missing(&format!("RustSec data {}", rustsec.display()));
        return;
    }
    let Some(cargo_audit) = relkit_testkit::oracle("cargo-audit") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    relkit_testkit::run_ok(
        Command::new("tar")
            .arg("-xJf")
            .arg(&rustsec)
            .arg("-C")
            .arg(dir.path()),
    );
    let advisory_db = dir.path().join("rustsec-advisory-db");
    let db = dir.path().join("rustsec.sqlite");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "db", "import", "--db"])
            .arg(&db)
            .arg(&rustsec),
    );
    let fixtures = root.join("crates/relkit-catalog/tests/fixtures/cargo");
    let mut locks: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path().join("Cargo.lock"))
        .filter(|p| p.is_file())
        .collect();
    locks.sort();
    locks.push(root.join("Cargo.lock"));
    assert!(locks.len() >= 5, "the ripgrep fixtures are missing");
    let mut compared_vulns = 0;
    let mut compared_warnings = 0;
    for lock in &locks {
        let (want_vulns, want_warnings) = cargo_audit_hits(&cargo_audit, &advisory_db, lock);
        let (vulns, warnings) = relkit_hits(&db, lock);
        assert_eq!(
            vulns,
            want_vulns,
            "{}: vulnerabilities differ from cargo-audit's",
            lock.display()
        );
        assert_eq!(
            warnings,
            want_warnings,
            "{}: informational warnings differ from cargo-audit's",
            lock.display()
        );
        compared_vulns += vulns.len();
        compared_warnings += warnings.len();
    }
    // The fixtures are pinned to versions with known advisories: the comparison is not empty.
    assert!(
        compared_vulns >= 4,
        "{compared_vulns} vulnerabilities compared"
    );
    assert!(
        compared_warnings >= 4,
        "{compared_warnings} warnings compared"
    );
}

/// cargo-audit's vulnerabilities and warnings, offline, on the unpacked advisory DB.
fn cargo_audit_hits(cargo_audit: &Path, advisory_db: &Path, lock: &Path) -> (Hits, Hits) {
    let out = Command::new(cargo_audit)
        .args([
            "audit",
            "--no-fetch",
            "--no-yanked",
            "--stale",
            "--json",
            "--db",
        ])
        .arg(advisory_db)
        .arg("-f")
        .arg(lock)
        .output()
        .unwrap();
    // Exit 1 means "vulnerabilities found"; anything else is a failure of the oracle.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "cargo-audit failed on {}: {}",
        lock.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hit = |v: &serde_json::Value| {
        (
            v["advisory"]["id"].as_str().unwrap().to_string(),
            v["package"]["name"].as_str().unwrap().to_string(),
            v["package"]["version"].as_str().unwrap().to_string(),
        )
    };
    let vulns = report["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(hit)
        .collect();
    let warnings = report["warnings"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|list| list.as_array().unwrap().iter())
        .filter(|w| !w["advisory"].is_null())
        .map(hit)
        .collect();
    (vulns, warnings)
}

/// relkit's findings and informational warnings, by their RustSec id.
fn relkit_hits(db: &Path, lock: &Path) -> (Hits, Hits) {
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("scan")
        .arg(lock)
        .arg("--db")
        .arg(db)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "relkit scan failed on {}: {}",
        lock.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = |key: &str| -> Hits {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let ids = std::iter::once(&f["id"]).chain(f["aliases"].as_array().unwrap());
                let rustsec: Vec<&str> = ids
                    .filter_map(|i| i.as_str())
                    .filter(|i| i.starts_with("RUSTSEC-"))
                    .collect();
                assert_eq!(rustsec.len(), 1, "{f}");
                (
                    rustsec[0].to_string(),
                    f["component"].as_str().unwrap().to_string(),
                    f["installed"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    (hits("findings"), hits("warnings"))
}
