//! `relkit scan` on a real Go executable (esbuild 0.13.15's Linux binary from npm, built with
//! Go 1.17.2; `.ci/deps.d/53-go-binaries.sh`) against the Go vulnerability database of the
//! shared data finds, from the build info alone, what the OSV records say by hand:
//! - `golang.org/x/sys v0.0.0-20210908233432-aa78b53d3365` is before both records of that
//!   module in the data: GO-2022-0493 (fixed in 0.0.0-20220412211240-33da011f77ad; the
//!   pseudo-version's time 20210908 < 20220412) and GO-2026-5024 (fixed in 0.44.0) — and only
//!   those two;
//! - `stdlib 1.17.2` is in GO-2021-0263 (archive/zip, CVE-2021-41771: introduced 1.17.0-0,
//!   fixed 1.17.3).
//!
//! The main module (`github.com/evanw/esbuild`, the program itself) is not matched. Modules
//! whose lockfile records no download source (all Go modules) are still registry packages:
//! an earlier version of relkit skipped them as "the project's own" and this test caught it.

use std::process::Command;

#[test]
fn go_binary_build_info_is_scanned_against_the_go_vulndb() {
    let Some(tgz) = relkit_testkit::upstream_data("esbuild-linux-64-0.13.15.tgz") else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let vulndb = root.join("../shared/data/osv/golang-vulndb-osv.tar.xz");
    let dir = tempfile::tempdir().unwrap();
    relkit_testkit::run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(dir.path())
            .arg("package/bin/esbuild"),
    );
    let db = crate::lockfile_scans::db_of(&vulndb, dir.path());
    let report = crate::lockfile_scans::scan_report(&dir.path().join("package/bin/esbuild"), &db);
    let go_id = |f: &serde_json::Value| -> String {
        std::iter::once(&f["id"])
            .chain(f["aliases"].as_array().unwrap())
            .filter_map(|i| i.as_str())
            .find(|i| i.starts_with("GO-"))
            .unwrap_or_default()
            .to_string()
    };
    let findings = report["findings"].as_array().unwrap();
    let mut sys: Vec<String> = findings
        .iter()
        .filter(|f| f["component"] == "golang.org/x/sys")
        .map(|f| format!("{} {}", go_id(f), f["installed"].as_str().unwrap()))
        .collect();
    sys.sort();
    assert_eq!(
        sys,
        [
            "GO-2022-0493 0.0.0-20210908233432-aa78b53d3365",
            "GO-2026-5024 0.0.0-20210908233432-aa78b53d3365"
        ]
    );
    let zip = findings
        .iter()
        .find(|f| f["component"] == "stdlib" && go_id(f) == "GO-2021-0263")
        .expect("stdlib 1.17.2 has GO-2021-0263");
    assert_eq!(zip["installed"], "1.17.2");
    assert_eq!(zip["fixed"], "1.17.3");
    assert!(
        findings
            .iter()
            .all(|f| f["component"] != "github.com/evanw/esbuild"),
        "the program itself is not matched"
    );
}
