//! End-to-end matching for Maven, RubyGems and Debian: records imported from files, SBOM
//! components scanned by PURL, findings checked against what the records' ranges say.
//!
//! * `GHSA-735f-pc8j-v9w8` (CVE-2024-7254, protobuf) is a real GitHub advisory in OSV form with
//!   Maven and RubyGems entries, three release branches each, and pre-release lower bounds
//!   (`4.0.0.rc.1`, `4.28.0.rc.1`).
//! * `DSA-3029-1` (CVE-2014-3616, nginx in Debian 7 "wheezy") is the real Debian advisory the
//!   OSV specification carries in OSV form. See `fixtures/ATTRIBUTION.md`.

use std::path::{Path, PathBuf};

use relkit_sbom::Document;
use relkit_sbom::model::Package;
use relkit_vuln::db::{Db, ImportOptions};
use relkit_vuln::scan::{Report, ScanOptions, scan_document};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn db(dir: &Path) -> Db {
    let path = dir.join("v.sqlite");
    let mut db = Db::create(&path).unwrap();
    let r = db
        .import(&[fixtures()], ImportOptions::default(), &|_| {})
        .unwrap();
    assert!(r.issues.is_empty(), "{:?}", r.issues);
    assert_eq!(r.records, 2);
    drop(db);
    Db::open(&path).unwrap()
}

fn scan(db: &Db, purl: &str) -> Report {
    let pkg = Package {
        id: "SPDXRef-c".into(),
        name: purl.into(),
        purls: vec![purl.to_string()],
        ..Default::default()
    };
    let doc = Document {
        name: "test".into(),
        packages: vec![pkg],
        ..Default::default()
    };
    scan_document(&doc, "test", db, &ScanOptions::default()).unwrap()
}

/// `(id, fixed)` of each finding, plus the range that matched.
fn hits(db: &Db, purl: &str) -> Vec<(String, Option<String>, String)> {
    scan(db, purl)
        .findings
        .into_iter()
        .map(|f| (f.id, f.fixed, f.reasons[0].range.clone()))
        .collect()
}

#[test]
fn maven_protobuf_branches() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let java = |v: &str| {
        hits(
            &db,
            &format!("pkg:maven/com.google.protobuf/protobuf-java@{v}"),
        )
    };
    // 3.21.9 < 3.25.5: the first range (introduced 0).
    let h = java("3.21.9");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0, "CVE-2024-7254");
    assert_eq!(h[0].1.as_deref(), Some("3.25.5"));
    // Fixed on each branch; between the branches (3.25.5 ..< 4.0.0.rc.1) not affected.
    for v in ["3.25.5", "3.25.6", "4.27.5", "4.28.2", "4.29.0"] {
        assert!(java(v).is_empty(), "{v}");
    }
    // 4.27.4 is in [4.0.0.rc.1, 4.27.5); 4.28.1 in [4.28.0.rc.1, 4.28.2).
    assert_eq!(java("4.27.4")[0].1.as_deref(), Some("4.27.5"));
    assert_eq!(java("4.28.1")[0].1.as_deref(), Some("4.28.2"));
    // Maven orders `4.28.0-RC1` (the spelling Maven Central uses) like `4.28.0.rc.1`: the
    // release candidate is affected, and comes before 4.28.0.
    assert_eq!(java("4.28.0-RC1")[0].1.as_deref(), Some("4.28.2"));
    assert_eq!(java("4.28.0")[0].1.as_deref(), Some("4.28.2"));
    // The Maven name is group:artifact: another artifact of the group has its own entries,
    // an artifact the record does not list is not affected.
    let kotlin = hits(&db, "pkg:maven/com.google.protobuf/protobuf-kotlin@3.25.4");
    assert_eq!(kotlin[0].1.as_deref(), Some("3.25.5"));
    assert!(hits(&db, "pkg:maven/com.google.protobuf/protoc@3.21.9").is_empty());
    assert!(hits(&db, "pkg:maven/com.google/protobuf-java@3.21.9").is_empty());
}

#[test]
fn rubygems_protobuf_pre_releases() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let gem = |v: &str| hits(&db, &format!("pkg:gem/google-protobuf@{v}"));
    assert_eq!(gem("3.25.4")[0].1.as_deref(), Some("3.25.5"));
    assert!(gem("3.25.5").is_empty());
    // Gem::Version: 4.0.0.rc.1 < 4.0.0 < 4.27.4 < 4.27.5; `4.0.0.rc.1` itself is introduced.
    assert_eq!(gem("4.0.0.rc.1")[0].1.as_deref(), Some("4.27.5"));
    assert_eq!(gem("4.0.0")[0].1.as_deref(), Some("4.27.5"));
    assert_eq!(gem("4.27.4")[0].1.as_deref(), Some("4.27.5"));
    assert!(gem("4.27.5").is_empty());
    // 4.28.0.rc.1 opens the third branch, 4.28.1 is in it, 4.28.2 fixes it.
    assert_eq!(gem("4.28.0.rc.1")[0].1.as_deref(), Some("4.28.2"));
    assert_eq!(gem("4.28.1")[0].1.as_deref(), Some("4.28.2"));
    assert!(gem("4.28.2").is_empty());
    // A pre-release of 4.0.0 older than the introduced rc.1 is not in the second branch, and
    // it is above 3.25.5: not affected.
    assert!(gem("4.0.0.beta.1").is_empty());
    // Gem names are case-sensitive in the index: another gem is another package.
    assert!(gem_named(&db, "protobuf", "3.0.0").is_empty());
}

fn gem_named(db: &Db, name: &str, v: &str) -> Vec<(String, Option<String>, String)> {
    hits(db, &format!("pkg:gem/{name}@{v}"))
}

#[test]
fn debian_releases_and_dpkg_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = db(dir.path());
    let deb = |v: &str, distro: &str| {
        hits(
            &db,
            &format!("pkg:deb/debian/nginx@{v}?arch=source&distro={distro}"),
        )
    };
    // wheezy: < 1.2.1-2.2+wheezy3 is affected (dpkg: +wheezy2 < +wheezy3).
    let h = deb("1.2.1-2.2+wheezy2", "debian-7");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].0, "CVE-2014-3616");
    assert_eq!(h[0].1.as_deref(), Some("1.2.1-2.2+wheezy3"));
    assert!(h[0].2.starts_with("Debian:7 "), "{}", h[0].2);
    assert!(deb("1.2.1-2.2+wheezy3", "wheezy").is_empty());
    assert!(deb("1.2.1-2.2+wheezy4", "debian-7.11").is_empty());
    // dpkg: a `~` sorts before everything, so `1.2.1-2.2+wheezy3~bpo1` is older than the fix.
    assert_eq!(
        deb("1.2.1-2.2+wheezy3~bpo1", "debian-7")[0].1.as_deref(),
        Some("1.2.1-2.2+wheezy3")
    );
    // The record's ranges are wheezy's: jessie's 1.2.1-2.2 is not judged by them, because the
    // purl's distro names another release.
    assert!(deb("1.2.1-2.2", "jessie").is_empty());
    // Without a distro qualifier every release's ranges apply (the conservative answer).
    let any = hits(&db, "pkg:deb/debian/nginx@1.2.1-2.2");
    assert_eq!(any.len(), 1);
    assert!(any[0].2.starts_with("Debian:7 "), "{}", any[0].2);
    // An epoch outranks every upstream version.
    assert!(deb("1:1.0-1", "debian-7").is_empty());
}
