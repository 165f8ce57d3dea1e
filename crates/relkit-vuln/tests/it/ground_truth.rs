//! Ground truth: real SBOMs and real NVD / OSV / RustSec records, with the expected findings
//! worked out by hand from the records themselves (the reasoning is written next to each
//! expectation).

use std::path::{Path, PathBuf};

use relkit_sbom::Document;
use relkit_sbom::model::Package;
use relkit_vuln::db::{Db, ImportOptions};
use relkit_vuln::scan::{Report, ScanOptions, scan_document};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A DB built from the test records (`tests/fixtures/vulns.tar.xz`: the NVD and OSV records of
/// `../shared/data/vulns`, the first, 103-record sample).
fn sample_db(dir: &Path) -> Db {
    let path = dir.join("v.sqlite");
    let mut db = Db::create(&path).unwrap();
    let r = db
        .import(
            &[data("tests/fixtures/vulns.tar.xz")],
            ImportOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    drop(db);
    Db::open(&path).unwrap()
}

fn pkg(name: &str, version: &str, cpes: &[&str], purls: &[&str]) -> Package {
    Package {
        id: format!("SPDXRef-{name}"),
        name: name.into(),
        version: Some(version.into()),
        cpes: cpes.iter().map(|s| s.to_string()).collect(),
        purls: purls.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn doc(packages: Vec<Package>) -> Document {
    Document {
        name: "test".into(),
        packages,
        ..Default::default()
    }
}

fn scan(db: &Db, d: &Document) -> Report {
    scan_document(d, "test", db, &ScanOptions::default()).unwrap()
}

/// `component id` pairs of the findings, sorted.
fn ids(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{} {}", f.component, f.id))
        .collect();
    v.sort();
    v
}

fn purl_ids(db: &Db, purl: &str) -> Vec<String> {
    let (name, version) = purl.rsplit_once('@').unwrap();
    let r = scan(db, &doc(vec![pkg(name, version, &[], &[purl])]));
    let mut v: Vec<String> = r.findings.iter().map(|f| f.id.clone()).collect();
    v.sort();
    v
}

#[test]
fn cpython_3_13_5_in_tree_sboms_have_no_nvd_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // Bundled versions vs. every NVD configuration in the sample that names their CPE:
    // * expat 2.6.3 (libexpat_project:libexpat): CVE-2024-45490 is `< 2.6.3` (excluding),
    //   CVE-2022-40674 `< 2.4.9`, CVE-2022-25235 `< 2.4.5`: none covers 2.6.3. CVE-2024-45491,
    //   CVE-2024-50602 and CVE-2024-8176 have no configurations at all in these snapshots.
    // * libffi 3.4.4: CVE-2017-1000376 is `< 3.2` (its other configurations are OS CPEs).
    // * sqlite 3.49.1.0: CVE-2022-35737 `>= 1.0.12, < 3.39.2`, CVE-2023-7104 `<= 3.43.0`;
    //   CVE-2025-29087 has no configurations.
    // * zlib 1.3.1: CVE-2023-45853 is `<= 1.3` and 1.3.1 > 1.3.
    // * xz 5.2.5 (tukaani:xz): CVE-2024-3094 lists exactly 5.6.0 and 5.6.1.
    // * openssl 3.0.16, bzip2, mpdecimal, tcl_tk, libb2, hacl-star, macholib: no record in
    //   the sample names them.
    // So the exact expected list is empty.
    for f in ["sbom.spdx.json", "externals.spdx.json"] {
        let (d, _, _) =
            relkit_sbom::read_file(&relkit_testkit::fixture(&format!("cpython-3.13.5/{f}")))
                .unwrap();
        assert!(!d.packages.is_empty());
        let r = scan(&db, &d);
        assert_eq!(ids(&r), Vec::<String>::new(), "{f}");
        assert!(r.notes.is_empty(), "{f}: {:?}", r.notes);
    }
}

#[test]
fn cpython_externals_with_older_bundled_versions() {
    // The same externals SBOM with versions moved back to ones the configurations cover
    // (CPE version and package version both changed), to prove the scan above could fail.
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let (mut d, _, _) = relkit_sbom::read_file(&relkit_testkit::fixture(
        "cpython-3.13.5/externals.spdx.json",
    ))
    .unwrap();
    for p in &mut d.packages {
        let new = match p.name.as_str() {
            "xz" => "5.6.1",
            "sqlite" => "3.39.1.0",
            "zlib" => "1.3",
            "libffi" => "3.1",
            "openssl" => "1.1.1w",
            _ => continue,
        };
        let old = p.version.replace(new.to_string()).unwrap();
        for c in &mut p.cpes {
            *c = c.replace(&format!(":{old}:"), &format!(":{new}:"));
        }
    }
    let r = scan(&db, &d);
    // libffi 3.1 < 3.2; sqlite 3.39.1.0 in [1.0.12, 3.39.2) and <= 3.43.0; xz 5.6.1 exact;
    // zlib 1.3 <= 1.3. OpenSSL has no record in the sample: nothing.
    assert_eq!(
        ids(&r),
        vec![
            "libffi CVE-2017-1000376",
            "sqlite CVE-2022-35737",
            "sqlite CVE-2023-7104",
            "xz CVE-2024-3094",
            "zlib CVE-2023-45853",
        ]
    );
    let sq = r
        .findings
        .iter()
        .find(|f| f.id == "CVE-2022-35737")
        .unwrap();
    assert_eq!(sq.fixed.as_deref(), Some("3.39.2"));
    assert_eq!(
        sq.reasons[0].range,
        "cpe:2.3:a:sqlite:sqlite:*:*:*:*:*:*:*:* >= 1.0.12, < 3.39.2"
    );
    let xz = r.findings.iter().find(|f| f.id == "CVE-2024-3094").unwrap();
    assert_eq!(xz.severity, relkit_vuln::Level::Critical);
    assert_eq!(xz.score, Some(10.0));
}

#[test]
fn xz_backdoor_only_under_the_right_cpe() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let one = |cpe: &str, v: &str| ids(&scan(&db, &doc(vec![pkg("xz", v, &[cpe], &[])])));
    assert_eq!(
        one("cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*", "5.6.1"),
        vec!["xz CVE-2024-3094"]
    );
    assert_eq!(
        one("cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*", "5.6.0"),
        vec!["xz CVE-2024-3094"]
    );
    // Version from the package when the CPE leaves it open.
    assert_eq!(
        one("cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*", "5.6.1"),
        vec!["xz CVE-2024-3094"]
    );
    assert!(one("cpe:2.3:a:tukaani:xz:5.6.2:*:*:*:*:*:*:*", "5.6.2").is_empty());
    assert!(one("cpe:2.3:a:tukaani:xz:5.4.6:*:*:*:*:*:*:*", "5.4.6").is_empty());
    // The wrong vendor (what some SBOMs carry) finds nothing.
    assert!(one("cpe:2.3:a:xz_project:xz:5.6.1:*:*:*:*:*:*:*", "5.6.1").is_empty());
}

#[test]
fn cpython_pre_release_cpes_and_multiple_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    let py = |cpe: &str, v: &str| ids(&scan(&db, &doc(vec![pkg("python", v, &[cpe], &[])])));
    // CVE-2024-6232: `<= 3.12.5` plus exact 3.13.0 alpha0..rc1 (update field).
    // CVE-2007-4559: `< 3.6.16`, [3.7.0, 3.8.17), [3.9.0, 3.9.17), [3.10.0, 3.10.12), [3.11.0, 3.11.4).
    assert_eq!(
        py("cpe:2.3:a:python:python:3.12.5:*:*:*:*:*:*:*", "3.12.5"),
        vec!["python CVE-2024-6232"]
    );
    assert_eq!(
        py("cpe:2.3:a:python:python:3.11.3:*:*:*:*:*:*:*", "3.11.3"),
        vec!["python CVE-2007-4559", "python CVE-2024-6232"]
    );
    assert_eq!(
        py("cpe:2.3:a:python:python:3.11.4:*:*:*:*:*:*:*", "3.11.4"),
        vec!["python CVE-2024-6232"]
    );
    assert_eq!(
        py(
            "cpe:2.3:a:python:python:3.13.0:rc1:*:*:*:*:*:*",
            "3.13.0rc1"
        ),
        vec!["python CVE-2024-6232"]
    );
    // The 3.13.0 final release is not one of the listed pre-releases.
    assert!(py("cpe:2.3:a:python:python:3.13.0:*:*:*:*:*:*:*", "3.13.0").is_empty());
}

#[test]
fn nvd_running_on_platforms_are_conditional() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // The vunnel API page has 11 CVEs whose only configuration is
    // ibm:security_verify_privilege_on-premises `< 11.5` AND (vulnerable=false) running on
    // one of apple:macos, microsoft:windows, … : CVE-2021-20581, CVE-2021-29913,
    // CVE-2021-38859, CVE-2022-22375, CVE-2022-22377, CVE-2022-22380, CVE-2022-22384,
    // CVE-2022-22385, CVE-2022-43889, CVE-2022-43891, CVE-2022-43893.
    let expected: Vec<String> = [
        "CVE-2021-20581",
        "CVE-2021-29913",
        "CVE-2021-38859",
        "CVE-2022-22375",
        "CVE-2022-22377",
        "CVE-2022-22380",
        "CVE-2022-22384",
        "CVE-2022-22385",
        "CVE-2022-43889",
        "CVE-2022-43891",
        "CVE-2022-43893",
    ]
    .iter()
    .map(|id| format!("verify {id}"))
    .collect();
    let app = pkg(
        "verify",
        "11.4",
        &["cpe:2.3:a:ibm:security_verify_privilege_on-premises:11.4:*:*:*:*:*:*:*"],
        &[],
    );
    let r = scan(&db, &doc(vec![app.clone()]));
    assert_eq!(ids(&r), expected);
    for f in &r.findings {
        let cond = f.condition.as_deref().unwrap();
        assert!(cond.contains("cpe:2.3:o:microsoft:windows:-"), "{cond}");
    }
    // With the platform in the SBOM the condition holds and the findings are unconditional.
    let os = pkg(
        "windows",
        "10",
        &["cpe:2.3:o:microsoft:windows:10:*:*:*:*:*:*:*"],
        &[],
    );
    let r = scan(&db, &doc(vec![app, os]));
    assert_eq!(ids(&r), expected);
    assert!(r.findings.iter().all(|f| f.condition.is_none()));
    let fixed = pkg(
        "verify",
        "11.5",
        &["cpe:2.3:a:ibm:security_verify_privilege_on-premises:11.5:*:*:*:*:*:*:*"],
        &[],
    );
    assert!(ids(&scan(&db, &doc(vec![fixed]))).is_empty());
}

#[test]
fn pip_findings_follow_the_pypa_ranges_and_merge_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // PYSEC-2013-8 [0, 1.3), PYSEC-2014-11 [1.3, 6.0), PYSEC-2019-160 [0, 1.5),
    // PYSEC-2021-437 [0, 21.1), PYSEC-2023-228 [0, 23.3) = GHSA-mq26-g339-26xf = CVE-2023-5752.
    assert_eq!(purl_ids(&db, "pkg:pypi/pip@23.2.1"), vec!["CVE-2023-5752"]);
    assert_eq!(
        purl_ids(&db, "pkg:pypi/pip@21.0"),
        vec!["CVE-2021-3572", "CVE-2023-5752"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:pypi/pip@1.4"),
        vec![
            "CVE-2013-5123",
            "CVE-2014-8991",
            "CVE-2021-3572",
            "CVE-2023-5752"
        ]
    );
    assert_eq!(
        purl_ids(&db, "pkg:pypi/pip@1.2"),
        vec![
            "CVE-2013-1629",
            "CVE-2013-5123",
            "CVE-2021-3572",
            "CVE-2023-5752"
        ]
    );
    assert!(purl_ids(&db, "pkg:pypi/pip@23.3").is_empty());
    // One finding for CVE-2023-5752 from PYSEC, GHSA and (by CPE) NVD.
    let r = scan(
        &db,
        &doc(vec![pkg(
            "pip",
            "23.2.1",
            &["cpe:2.3:a:pypa:pip:23.2.1:*:*:*:*:*:*:*"],
            &["pkg:pypi/pip@23.2.1"],
        )]),
    );
    assert_eq!(r.findings.len(), 1);
    let f = &r.findings[0];
    assert_eq!(f.id, "CVE-2023-5752");
    assert_eq!(f.aliases, vec!["GHSA-mq26-g339-26xf", "PYSEC-2023-228"]);
    assert_eq!(f.fixed.as_deref(), Some("23.3"));
    let mut recs: Vec<&str> = f.reasons.iter().map(|r| r.record.as_str()).collect();
    recs.sort();
    assert_eq!(
        recs,
        vec!["CVE-2023-5752", "GHSA-mq26-g339-26xf", "PYSEC-2023-228"]
    );
    // PEP 503: the same package under another spelling.
    assert_eq!(purl_ids(&db, "pkg:pypi/PIP@23.2.1"), vec!["CVE-2023-5752"]);
}

#[test]
fn setuptools_urllib3_py_and_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // setuptools: PYSEC-2022-43012 [0, 65.5.1) (CVE-2022-40897); GHSA-cx63 [0, 70.0.0) (CVE-2024-6345).
    assert_eq!(
        purl_ids(&db, "pkg:pypi/setuptools@65.5.0"),
        vec!["CVE-2022-40897", "CVE-2024-6345"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:pypi/setuptools@69.0.0"),
        vec!["CVE-2024-6345"]
    );
    assert!(purl_ids(&db, "pkg:pypi/setuptools@70.0.0").is_empty());
    // urllib3: PYSEC-2023-192 has ONE range with two intervals given out of order
    // (introduced 2.0.0, fixed 2.0.6, introduced 0, fixed 1.26.17); GHSA-34jh has two
    // affected entries [0, 1.26.19) and [2.0.0, 2.2.2).
    assert_eq!(
        purl_ids(&db, "pkg:pypi/urllib3@1.26.16"),
        vec!["CVE-2023-43804", "CVE-2024-37891"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:pypi/urllib3@2.0.5"),
        vec!["CVE-2023-43804", "CVE-2024-37891"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:pypi/urllib3@1.26.18"),
        vec!["CVE-2024-37891"]
    );
    assert!(purl_ids(&db, "pkg:pypi/urllib3@2.2.2").is_empty());
    // py: introduced 0, last_affected 1.11.0 (inclusive).
    assert_eq!(purl_ids(&db, "pkg:pypi/py@1.11.0"), vec!["CVE-2022-42969"]);
    assert!(purl_ids(&db, "pkg:pypi/py@1.11.1").is_empty());
    // aiohttp PYSEC-2022-43059 is withdrawn: no finding, but a note says why.
    let r = scan(
        &db,
        &doc(vec![pkg(
            "aiohttp",
            "3.8.1",
            &[],
            &["pkg:pypi/aiohttp@3.8.1"],
        )]),
    );
    assert!(r.findings.is_empty());
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].record.as_deref(), Some("PYSEC-2022-43059"));
    assert!(r.notes[0].message.contains("withdrawn"));
    assert!(purl_ids(&db, "pkg:cargo/spin@0.5.0").is_empty());
    assert!(purl_ids(&db, "pkg:golang/k8s.io/kubernetes@v1.20.0").is_empty());
}

#[test]
fn go_modules_and_crates() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_db(dir.path());
    // golang.org/x/net: GO-2022-0969 [0, 0.0.0-20220906165146-f3363e06e74c),
    // GO-2024-2687 [0, 0.23.0), GO-2024-3333 [0, 0.33.0).
    assert_eq!(
        purl_ids(&db, "pkg:golang/golang.org/x/net@v0.22.0"),
        vec!["CVE-2023-45288", "CVE-2024-45338"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:golang/golang.org/x/net@v0.23.0"),
        vec!["CVE-2024-45338"]
    );
    // Pseudo-versions: one commit before the fix, and the fix commit itself.
    assert_eq!(
        purl_ids(
            &db,
            "pkg:golang/golang.org/x/net@v0.0.0-20220826154423-83b083e8dc8b"
        ),
        vec!["CVE-2022-27664", "CVE-2023-45288", "CVE-2024-45338"]
    );
    assert_eq!(
        purl_ids(
            &db,
            "pkg:golang/golang.org/x/net@v0.0.0-20220906165146-f3363e06e74c"
        ),
        vec!["CVE-2023-45288", "CVE-2024-45338"]
    );
    // stdlib: GO-2024-2687 [0, 1.21.9) and [1.22.0-0, 1.22.2).
    assert_eq!(
        purl_ids(&db, "pkg:golang/stdlib@v1.22.1"),
        vec!["CVE-2023-45288"]
    );
    assert!(purl_ids(&db, "pkg:golang/stdlib@v1.21.9").is_empty());
    // h2: RUSTSEC-2024-0332 (aliases GHSA-q6cp-qfwq-4gcv, which itself lists no aliases):
    // [0.0.0-0, 0.3.26) and [0.4.0-0, 0.4.4). One merged finding, no CVE.
    let r = scan(
        &db,
        &doc(vec![pkg("h2", "0.4.3", &[], &["pkg:cargo/h2@0.4.3"])]),
    );
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].id, "GHSA-q6cp-qfwq-4gcv");
    assert_eq!(r.findings[0].aliases, vec!["RUSTSEC-2024-0332"]);
    assert_eq!(r.findings[0].fixed.as_deref(), Some("0.4.4"));
    assert!(purl_ids(&db, "pkg:cargo/h2@0.3.26").is_empty());
    // time: RUSTSEC-2020-0071, eight intervals with pre-release lower bounds.
    assert_eq!(
        purl_ids(&db, "pkg:cargo/time@0.2.22"),
        vec!["CVE-2020-26235"]
    );
    assert_eq!(
        purl_ids(&db, "pkg:cargo/time@0.1.44"),
        vec!["CVE-2020-26235"]
    );
    assert!(purl_ids(&db, "pkg:cargo/time@0.2.23").is_empty());
    assert!(purl_ids(&db, "pkg:cargo/time@0.2.0").is_empty());
    // npm: GHSA-c2qf three affected entries.
    assert_eq!(
        purl_ids(&db, "pkg:npm/semver@7.5.1"),
        vec!["CVE-2022-25883"]
    );
    assert!(purl_ids(&db, "pkg:npm/semver@6.3.1").is_empty());
}

#[test]
fn rustsec_native_format_agrees_with_its_osv_export() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rs.sqlite");
    let mut db = Db::create(&path).unwrap();
    let r = db
        .import(
            &[data("tests/fixtures/rustsec")],
            ImportOptions::default(),
            &|_| {},
        )
        .unwrap();
    assert_eq!((r.records, r.added), (3, 3));
    drop(db);
    let db = Db::open(&path).unwrap();
    let native = |p: &str| purl_ids(&db, p);
    // Same verdicts as the OSV export above; ids here are the RustSec / GHSA ones.
    assert_eq!(native("pkg:cargo/h2@0.4.3"), vec!["GHSA-q6cp-qfwq-4gcv"]);
    assert_eq!(native("pkg:cargo/h2@0.3.25"), vec!["GHSA-q6cp-qfwq-4gcv"]);
    assert!(native("pkg:cargo/h2@0.3.26").is_empty());
    assert!(native("pkg:cargo/h2@0.4.4").is_empty());
    assert_eq!(native("pkg:cargo/time@0.2.22"), vec!["CVE-2020-26235"]);
    assert!(native("pkg:cargo/time@0.2.23").is_empty());
    // spin: withdrawn.
    assert!(native("pkg:cargo/spin@0.5.0").is_empty());
    assert_eq!(db.stats().unwrap().excluded, 1);
}
