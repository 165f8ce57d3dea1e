//! relkit scans its own dependencies: the workspace's `Cargo.lock` against the RustSec
//! advisory database of the shared data, as a release gate would. A finding at or above
//! high fails the suite; a suppression must be a statement with its justification in the
//! repository's OpenVEX file `.relkit-vex.json` (empty today: quick-xml was moved to 0.41.0
//! for RUSTSEC-2026-0194/0195 instead).

use std::path::Path;
use std::process::Command;

#[test]
fn relkits_own_cargo_lock_has_no_high_or_critical_advisory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rustsec = root.join("../shared/data/osv/rustsec-advisory-db.tar.xz");
    if !rustsec.is_file() {
        relkit_testkit::missing(&format!("RustSec data {}", rustsec.display()));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rustsec.sqlite");
    let relkit = env!("CARGO_BIN_EXE_relkit");
    let import = Command::new(relkit)
        .args(["-q", "db", "import", "--db"])
        .arg(&db)
        .arg(&rustsec)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let scan = Command::new(relkit)
        .arg("scan")
        .arg(root.join("Cargo.lock"))
        .arg("--db")
        .arg(&db)
        .arg("--vex")
        .arg(root.join(".relkit-vex.json"))
        .args(["--fail-on", "high", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&scan.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&scan.stderr)));
    // Every package of the lockfile was looked at (the workspace's own crates included).
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let packages = lock.matches("[[package]]").count() as u64;
    assert_eq!(report["components"].as_u64(), Some(packages));
    let high: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .map(|f| format!("{} in {} {}", f["id"], f["component"], f["installed"]))
        .collect();
    assert!(
        scan.status.code() == Some(0) && high.is_empty(),
        "high or critical advisories in relkit's own dependencies (fix, or justify in .relkit-vex.json): {high:?}\n{}",
        String::from_utf8_lossy(&scan.stderr)
    );
}
