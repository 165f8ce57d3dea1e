//! The shipped sample DB: the embedded source is the file in `data/`, it builds without a
//! single malformed record, and it answers what users try first (CPython's bundled xz, pip,
//! a Go module, a crate, a Maven artifact and a gem) with the records' real findings.

use std::path::Path;

use relkit_sbom::Document;
use relkit_sbom::model::Package;
use relkit_vuln::db::Db;
use relkit_vuln::sample::{SAMPLE_SOURCE, sample_db_in};
use relkit_vuln::scan::{ScanOptions, scan_document};

fn ids(db: &Db, purls: &[&str], cpes: &[&str], version: &str) -> Vec<String> {
    let doc = Document {
        name: "t".into(),
        packages: vec![Package {
            id: "SPDXRef-c".into(),
            name: "c".into(),
            version: Some(version.into()),
            purls: purls.iter().map(|s| s.to_string()).collect(),
            cpes: cpes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = scan_document(&doc, "t", db, &ScanOptions::default()).unwrap();
    let mut v: Vec<String> = r.findings.into_iter().map(|f| f.id).collect();
    v.sort();
    v
}

#[test]
fn the_binary_embeds_the_shipped_archive() {
    let shipped =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample.tar.xz")).unwrap();
    assert_eq!(SAMPLE_SOURCE, &shipped[..]);
    // Small in the repository: a few MB at most.
    assert!(SAMPLE_SOURCE.len() < 3 << 20, "{}", SAMPLE_SOURCE.len());
}

#[test]
fn the_sample_covers_what_users_try_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample_db_in(dir.path()).unwrap();
    let db = Db::open(&path).unwrap();
    let stats = db.stats().unwrap();
    // Every PyPA, Go and RustSec advisory of the snapshots, the NVD records and the GHSA ones.
    assert!(stats.total > 8000, "{}", stats.total);
    let eco = |name: &str| {
        stats
            .by_ecosystem
            .iter()
            .find(|(e, _)| e == name)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    assert!(eco("PyPI") > 2500 && eco("Go") > 4000 && eco("crates.io") > 1000);
    assert!(eco("Maven") >= 1 && eco("RubyGems") >= 1);
    // It says what it is and when it was built, so release gates can refuse it unless asked.
    assert!(stats.sample);
    let fresh = db.freshness().unwrap();
    assert!(fresh.sample && fresh.last_import.is_some());
    assert_eq!(fresh.newest_record, stats.latest_modified);
    let one_day = std::time::Duration::from_secs(86_400);
    let err = fresh
        .check(one_day, time::OffsetDateTime::now_utc())
        .unwrap_err();
    assert!(err.contains("newest record was modified"), "{err}");
    // xz 5.6.1 under its right CPE: the backdoor; under the Go package's CPE: not it.
    assert_eq!(
        ids(
            &db,
            &[],
            &["cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"],
            "5.6.1"
        ),
        vec!["CVE-2024-3094"]
    );
    assert!(
        !ids(
            &db,
            &[],
            &["cpe:2.3:a:xz_project:xz:5.6.1:*:*:*:*:*:*:*"],
            "5.6.1"
        )
        .contains(&"CVE-2024-3094".to_string())
    );
    // pip 23.2.1: CVE-2023-5752 (PYSEC-2023-228 / GHSA-mq26-g339-26xf, one finding).
    assert!(ids(&db, &["pkg:pypi/pip@23.2.1"], &[], "23.2.1").contains(&"CVE-2023-5752".into()));
    // golang.org/x/net v0.22.0: the HTTP/2 CONTINUATION flood, fixed in v0.23.0.
    assert!(
        ids(&db, &["pkg:golang/golang.org/x/net@v0.22.0"], &[], "0.22.0")
            .contains(&"CVE-2023-45288".into())
    );
    // The full PyPA database reaches far beyond the hand-picked records: Django 3.2.0.
    assert!(ids(&db, &["pkg:pypi/django@3.2.0"], &[], "3.2.0").len() > 10);
    // A crate: h2's CONTINUATION flood (RUSTSEC-2024-0332 merged with its GHSA, which has no
    // CVE alias), fixed in 0.3.26.
    assert!(
        ids(&db, &["pkg:cargo/h2@0.3.25"], &[], "0.3.25").contains(&"GHSA-q6cp-qfwq-4gcv".into())
    );
    assert!(
        !ids(&db, &["pkg:cargo/h2@0.3.26"], &[], "0.3.26").contains(&"GHSA-q6cp-qfwq-4gcv".into())
    );
    // Maven and RubyGems: protobuf's CVE-2024-7254.
    assert_eq!(
        ids(
            &db,
            &["pkg:maven/com.google.protobuf/protobuf-java@3.21.9"],
            &[],
            "3.21.9"
        ),
        vec!["CVE-2024-7254"]
    );
    assert_eq!(
        ids(&db, &["pkg:gem/google-protobuf@3.25.4"], &[], "3.25.4"),
        vec!["CVE-2024-7254"]
    );
}
