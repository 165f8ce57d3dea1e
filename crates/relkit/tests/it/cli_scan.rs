//! `relkit db` and `relkit scan` end to end: exit codes, table / JSON / SARIF / CycloneDX
//! VEX output, OpenVEX suppression, the bundled sample DB with no setup, a corrupt DB, a
//! source tree, and an import killed mid-way leaving the old DB usable.
//!
//! Oracles: cyclonedx-python-lib validates the CycloneDX VEX output against the 1.6 schema
//! and Microsoft's SARIF multitool validates the SARIF output (see .ci/deps.d/60-vuln.sh).
//! Missing oracles fail the test when RELKIT_REQUIRE_ORACLES is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::oracles_required;
use serde_json::Value;

fn relkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
}

fn vuln_data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../relkit-vuln")
        .join(p)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    eprintln!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

/// Imports the test records (relkit-vuln's `tests/fixtures/vulns.tar.xz`) into `dir/v.sqlite`
/// through the CLI.
fn imported_db(dir: &Path) -> PathBuf {
    let db = dir.join("v.sqlite");
    let o = run(relkit()
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(vuln_data("tests/fixtures/vulns.tar.xz")));
    assert_eq!(code(&o), 0);
    db
}

/// CPython 3.13.5's externals SBOM with xz 5.6.1, sqlite 3.39.1.0 and zlib 1.3.
fn old_externals(dir: &Path) -> PathBuf {
    let src = relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json");
    let mut text = std::fs::read_to_string(src).unwrap();
    for (old, new) in [
        (":xz:5.2.5:", ":xz:5.6.1:"),
        ("\"versionInfo\": \"5.2.5\"", "\"versionInfo\": \"5.6.1\""),
        (":sqlite:3.49.1.0:", ":sqlite:3.39.1.0:"),
        (
            "\"versionInfo\": \"3.49.1.0\"",
            "\"versionInfo\": \"3.39.1.0\"",
        ),
        (":zlib:1.3.1:", ":zlib:1.3:"),
        ("\"versionInfo\": \"1.3.1\"", "\"versionInfo\": \"1.3\""),
    ] {
        assert!(text.contains(old), "{old}");
        text = text.replace(old, new);
    }
    let p = dir.join("old.spdx.json");
    std::fs::write(&p, text).unwrap();
    p
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn scan_reports_exit_codes_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let ok = relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json");
    let o = run(relkit().arg("scan").arg(&ok).arg("--db").arg(&db));
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 findings in 9 components"));

    let old = old_externals(dir.path());
    let o = run(relkit().arg("scan").arg(&old).arg("--db").arg(&db));
    assert_eq!(code(&o), 1);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    let header = table.lines().next().unwrap();
    for col in ["ID", "COMPONENT", "INSTALLED", "FIXED", "SEVERITY", "MATCH"] {
        assert!(header.contains(col), "{header}");
    }
    let xz = table
        .lines()
        .find(|l| l.starts_with("CVE-2024-3094"))
        .unwrap();
    assert!(
        xz.contains("critical 10.0") && xz.contains("= 5.6.1"),
        "{xz}"
    );

    let o = run(relkit()
        .arg("scan")
        .arg(&old)
        .arg("--db")
        .arg(&db)
        .args(["--format", "json"]));
    assert_eq!(code(&o), 1);
    let j = json_of(&o);
    assert_eq!(j["schema"], "relkit-scan/1");
    let ids: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "CVE-2022-35737",
            "CVE-2023-7104",
            "CVE-2024-3094",
            "CVE-2023-45853"
        ]
    );

    // Severities: sqlite 7.5 / 7.3 high, xz 10.0 and zlib 9.8 critical.
    let fail_on = |level: &str, only_fixed: bool| {
        let mut c = relkit();
        c.arg("scan")
            .arg(&old)
            .arg("--db")
            .arg(&db)
            .args(["--fail-on", level, "--format", "json"]);
        if only_fixed {
            c.arg("--only-fixed");
        }
        code(&run(&mut c))
    };
    assert_eq!(fail_on("critical", false), 1);
    assert_eq!(fail_on("high", false), 1);
    // Only sqlite's CVE-2022-35737 (fixed 3.39.2) has a fixed version: high, not critical.
    assert_eq!(fail_on("critical", true), 0);
    assert_eq!(fail_on("high", true), 1);
}

#[test]
fn sarif_and_cyclonedx_vex_outputs_validate() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let old = old_externals(dir.path());
    let out = |fmt: &str| {
        let o = run(relkit()
            .arg("scan")
            .arg(&old)
            .arg("--db")
            .arg(&db)
            .args(["--format", fmt]));
        assert_eq!(code(&o), 1);
        o.stdout
    };
    let sarif_bytes = out("sarif");
    let sarif: Value = serde_json::from_slice(&sarif_bytes).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let xz = results
        .iter()
        .find(|r| r["ruleId"] == "CVE-2024-3094")
        .unwrap();
    assert_eq!(xz["level"], "error");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules.iter().find(|r| r["id"] == "CVE-2024-3094").unwrap();
    assert_eq!(rule["properties"]["security-severity"], "10.0");

    let vex_bytes = out("cyclonedx-vex");
    let vex: Value = serde_json::from_slice(&vex_bytes).unwrap();
    assert_eq!(vex["specVersion"], "1.6");
    assert_eq!(vex["vulnerabilities"].as_array().unwrap().len(), 4);

    let sarif_file = dir.path().join("scan.sarif");
    std::fs::write(&sarif_file, &sarif_bytes).unwrap();
    let vex_file = dir.path().join("vex.cdx.json");
    std::fs::write(&vex_file, &vex_bytes).unwrap();

    // Oracle 1: cyclonedx-python-lib's strict JSON schema validator (CycloneDX 1.6).
    let py = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys\n\
             from cyclonedx.validation.json import JsonStrictValidator\n\
             from cyclonedx.schema import SchemaVersion\n\
             e = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
             print(e if e else 'valid'); sys.exit(1 if e else 0)",
        )
        .arg(&vex_file)
        .output();
    match py {
        Ok(o) if o.status.code() == Some(0) => {}
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("ModuleNotFoundError") => {
            assert!(!oracles_required(), "oracle cyclonedx-python-lib missing");
            eprintln!("skipping CycloneDX oracle: cyclonedx-python-lib not installed");
        }
        Ok(o) => panic!(
            "CycloneDX VEX invalid: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(!oracles_required(), "python3 missing: {e}");
        }
    }

    // Oracle 2: Microsoft's SARIF multitool `validate`.
    let log = dir.path().join("validate.sarif");
    match Command::new("sarif-multitool")
        .arg("validate")
        .arg(&sarif_file)
        .arg("--output")
        .arg(&log)
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let text = std::fs::read_to_string(&log).unwrap();
            let report: Value = serde_json::from_str(&text).unwrap();
            let errors = report["runs"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["results"].as_array())
                .flatten()
                .filter(|r| r["level"] == "error")
                .count();
            assert_eq!(errors, 0, "SARIF invalid: {text}");
        }
        Err(e) => {
            assert!(!oracles_required(), "oracle sarif-multitool missing: {e}");
            eprintln!("skipping SARIF oracle: sarif-multitool not installed ({e})");
        }
    }
}

#[test]
fn openvex_not_affected_suppresses_with_justification() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let old = old_externals(dir.path());
    let vex = dir.path().join("openvex.json");
    std::fs::write(
        &vex,
        r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.org/vex/1",
  "author": "relkit tests",
  "timestamp": "2025-06-11T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2023-45853"},
     "products": [{"@id": "zlib"}],
     "status": "not_affected",
     "justification": "vulnerable_code_not_present",
     "impact_statement": "CPython does not build minizip"},
    {"vulnerability": {"name": "CVE-2024-3094"},
     "products": [{"@id": "zlib"}],
     "status": "not_affected",
     "justification": "component_not_present"},
    {"vulnerability": {"name": "CVE-2023-7104"},
     "status": "affected"}
  ]
}"#,
    )
    .unwrap();
    let o = run(relkit()
        .arg("scan")
        .arg(&old)
        .arg("--db")
        .arg(&db)
        .arg("--vex")
        .arg(&vex));
    assert_eq!(code(&o), 1);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("suppressed by VEX: CVE-2023-45853 in zlib 1.3: not_affected (vulnerable_code_not_present)"),
        "{text}"
    );
    // The xz statement names the wrong product: the xz finding stays.
    assert!(text.lines().any(|l| l.starts_with("CVE-2024-3094")));
    let o = run(relkit()
        .arg("scan")
        .arg(&old)
        .arg("--db")
        .arg(&db)
        .arg("--vex")
        .arg(&vex)
        .args(["--format", "cyclonedx-vex"]));
    let j = json_of(&o);
    let z = j["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2023-45853")
        .unwrap();
    assert_eq!(z["analysis"]["state"], "not_affected");
    assert_eq!(z["analysis"]["justification"], "code_not_present");
    assert_eq!(z["analysis"]["detail"], "CPython does not build minizip");

    std::fs::write(
        &vex,
        r#"{"statements": [{"vulnerability": {"name": "CVE-1"}, "status": "not_affected"}]}"#,
    )
    .unwrap();
    let o = run(relkit()
        .arg("scan")
        .arg(&old)
        .arg("--db")
        .arg(&db)
        .arg("--vex")
        .arg(&vex));
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("$.statements[0]"));
}

#[test]
fn works_with_no_setup_on_the_bundled_sample() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_externals(dir.path());
    let cache = dir.path().join("cache");
    let o = run(relkit()
        .arg("scan")
        .arg(&old)
        .env("XDG_CACHE_HOME", &cache)
        .env("HOME", dir.path()));
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("using the bundled sample DB"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("CVE-2024-3094"));
    // Built once, then reused.
    let built: Vec<_> = std::fs::read_dir(cache.join("relkit")).unwrap().collect();
    assert_eq!(built.len(), 1);
}

#[test]
fn scans_a_source_tree_through_its_in_tree_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let tree = dir.path().join("cpython");
    std::fs::create_dir_all(tree.join("Misc")).unwrap();
    // The in-tree SBOM without its file list (the tree here has none of CPython's files),
    // with expat moved back to 2.6.2.
    let text = std::fs::read_to_string(relkit_testkit::fixture("cpython-3.13.5/sbom.spdx.json"))
        .unwrap()
        .replace(":libexpat:2.6.3:", ":libexpat:2.6.2:")
        .replace("\"versionInfo\": \"2.6.3\"", "\"versionInfo\": \"2.6.2\"");
    let mut sbom: Value = serde_json::from_str(&text).unwrap();
    sbom.as_object_mut().unwrap().remove("files");
    sbom.as_object_mut().unwrap().remove("relationships");
    std::fs::write(tree.join("Misc/sbom.spdx.json"), sbom.to_string()).unwrap();
    std::fs::write(tree.join("README.rst"), "This is Python.\n").unwrap();
    let o = run(relkit()
        .arg("scan")
        .arg(&tree)
        .arg("--db")
        .arg(&db)
        .args(["--format", "json"]));
    assert_eq!(code(&o), 1);
    let j = json_of(&o);
    let got: Vec<String> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["component"].as_str().unwrap(),
                f["id"].as_str().unwrap()
            )
        })
        .collect();
    // expat 2.6.2 < 2.6.3 (CVE-2024-45490, versionEndExcluding 2.6.3).
    assert_eq!(got, vec!["expat CVE-2024-45490"]);
}

#[test]
fn bad_db_files_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let o = run(relkit()
        .args(["db", "stats", "--format", "json", "--db"])
        .arg(&db));
    assert_eq!(code(&o), 0);
    let j = json_of(&o);
    assert_eq!(j["total"], 103);
    let o = run(relkit()
        .args(["db", "update", "--format", "json", "--db"])
        .arg(&db)
        .arg(vuln_data("tests/fixtures/vulns.tar.xz")));
    assert_eq!(code(&o), 0);
    let j = json_of(&o);
    assert_eq!(
        (j["added"].as_u64(), j["updated"].as_u64()),
        (Some(0), Some(0))
    );

    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, vec![0x42u8; 4096]).unwrap();
    let o = run(relkit()
        .arg("scan")
        .arg(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .arg("--db")
        .arg(&corrupt));
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a readable SQLite database") && err.contains("corrupt.sqlite"),
        "{err}"
    );
}

/// A generated NVD API page with `n` CVEs (made-up ids CVE-2099-*) for one product.
fn generated_page(n: usize) -> String {
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        items.push(format!(
            r#"{{"cve":{{"id":"CVE-2099-{i:06}","vulnStatus":"Analyzed","lastModified":"2099-01-01T00:00:00.000","descriptions":[{{"lang":"en","value":"generated"}}],"metrics":{{}},"configurations":[{{"nodes":[{{"operator":"OR","negate":false,"cpeMatch":[{{"vulnerable":true,"criteria":"cpe:2.3:a:gen:prod{}:*:*:*:*:*:*:*:*","versionEndExcluding":"2.0"}}]}}]}}]}}}}"#,
            i % 1000
        ));
    }
    format!(
        r#"{{"resultsPerPage":{n},"startIndex":0,"totalResults":{n},"format":"NVD_CVE","version":"2.0","vulnerabilities":[{}]}}"#,
        items.join(",")
    )
}

#[test]
fn an_import_killed_mid_way_leaves_the_old_db_usable() {
    let dir = tempfile::tempdir().unwrap();
    let db = imported_db(dir.path());
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for k in 0..20 {
        std::fs::write(big.join(format!("page-{k:02}.json")), generated_page(5000)).unwrap();
    }
    let mut child = relkit()
        .args(["db", "import", "--db"])
        .arg(&db)
        .arg(&big)
        .spawn()
        .unwrap();
    // Kill it while its write transaction is open: SQLite's rollback journal exists exactly
    // then (a fixed sleep was flaky: on an idle machine the import finished first).
    let journal = db.with_file_name(format!(
        "{}-journal",
        db.file_name().unwrap().to_string_lossy()
    ));
    let started = std::time::Instant::now();
    while !journal.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before its transaction could be seen"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the import never opened a write transaction"
        );
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = run(relkit()
        .args(["db", "stats", "--format", "json", "--db"])
        .arg(&db));
    assert_eq!(code(&o), 0);
    assert_eq!(json_of(&o)["total"], 103);
    let o = run(relkit()
        .arg("scan")
        .arg(old_externals(dir.path()))
        .arg("--db")
        .arg(&db)
        .args(["--format", "json"]));
    assert_eq!(code(&o), 1);
    assert_eq!(json_of(&o)["findings"].as_array().unwrap().len(), 4);
}
