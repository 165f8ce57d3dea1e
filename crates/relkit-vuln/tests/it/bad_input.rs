//! Bad input and DB robustness: malformed records are reported with file and JSON path
//! and skipped (or roll back the whole import with strict), compressed and archived inputs,
//! idempotent import and update, corrupt / newer / foreign DB files, and components whose
//! PURL cannot be used still scanned by CPE.

use std::io::Write;
use std::path::{Path, PathBuf};

use relkit_sbom::Document;
use relkit_sbom::model::Package;
use relkit_vuln::db::{Db, DbError, ImportOptions};
use relkit_vuln::scan::{ScanOptions, scan_document};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Unpacks the test records (`tests/fixtures/vulns.tar.xz`) into `dir` and returns the `vulns` directory.
fn unpack_sample(dir: &Path) -> PathBuf {
    let f = std::fs::File::open(data("tests/fixtures/vulns.tar.xz")).unwrap();
    tar::Archive::new(liblzma::read::XzDecoder::new(f))
        .unpack(dir)
        .unwrap();
    dir.join("vulns")
}

fn import(
    db: &Path,
    paths: &[PathBuf],
    strict: bool,
) -> Result<relkit_vuln::ImportReport, DbError> {
    Db::create(db)?.import(
        paths,
        ImportOptions {
            strict,
            only_changed: false,
        },
        &|_| {},
    )
}

fn total(db: &Path) -> u64 {
    Db::open(db).unwrap().stats().unwrap().total
}

#[test]
fn malformed_records_are_reported_with_file_and_path_then_skipped_or_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = unpack_sample(dir.path());
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("broken.json"),
        "{\"id\": \"CVE-2099-0001\",\n  \"vulnStatus\": ",
    )
    .unwrap();
    std::fs::write(
        bad.join("broken.yaml"),
        "id: PYSEC-2099-1\naffected: [\n  - x: {\n",
    )
    .unwrap();
    // A real API page whose second item has a CPE that is not a CPE.
    let mut page: serde_json::Value = serde_json::from_slice(
        &std::fs::read(vulns.join("nvd/api-pages/vunnel-full-page.json")).unwrap(),
    )
    .unwrap();
    let items = page["vulnerabilities"].as_array_mut().unwrap();
    let conf = &mut items[1]["cve"]["configurations"][0]["nodes"][0]["cpeMatch"][0];
    conf["criteria"] = "cpe:2.3:a:broken".into();
    let bad_id = items[1]["cve"]["id"].as_str().unwrap().to_string();
    std::fs::write(bad.join("page.json"), serde_json::to_vec(&page).unwrap()).unwrap();
    // An OSV record with an unknown range type.
    let mut osv: serde_json::Value = serde_json::from_slice(
        &std::fs::read(vulns.join("osv/ghsa/GHSA-mq26-g339-26xf.json")).unwrap(),
    )
    .unwrap();
    osv["affected"][0]["ranges"][0]["type"] = "CALVER".into();
    std::fs::write(bad.join("GHSA-bad.json"), serde_json::to_vec(&osv).unwrap()).unwrap();

    let db = dir.path().join("v.sqlite");
    let before = import(&db, std::slice::from_ref(&vulns), false).unwrap();
    assert!(before.issues.is_empty());
    let n0 = total(&db);

    // Strict: the first malformed record aborts and nothing of this import is kept.
    let err = import(&db, std::slice::from_ref(&bad), true).unwrap_err();
    match &err {
        DbError::Strict(i) => {
            assert!(i.file.ends_with("GHSA-bad.json"), "{i:?}");
            assert_eq!(i.path, "$.affected[0].ranges[0].type");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("rolled back"));
    assert_eq!(total(&db), n0);

    // Default: reported and skipped; the good items of the same page are imported.
    let r = import(&db, &[bad], false).unwrap();
    let mut got: Vec<(String, String)> = r
        .issues
        .iter()
        .map(|i| {
            (
                Path::new(&i.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                i.path.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "GHSA-bad.json".to_string(),
                "$.affected[0].ranges[0].type".to_string()
            ),
            ("broken.json".to_string(), "line 2 column 16".to_string()),
            ("broken.yaml".to_string(), "line 3 column 3".to_string()),
            (
                "page.json".to_string(),
                "$.vulnerabilities[1].cve.configurations[0].nodes[0].cpeMatch[0].criteria"
                    .to_string()
            ),
        ]
    );
    assert!(
        r.issues
            .iter()
            .any(|i| i.message.contains("malformed YAML"))
    );
    // The page's other 37 items were all already in the DB (unchanged).
    assert_eq!(r.records, 37);
    assert_eq!(r.unchanged, 37);
    let db = Db::open(&db).unwrap();
    assert!(
        db.get(&bad_id).unwrap().is_some(),
        "the earlier good copy stays"
    );
}

#[test]
fn compressed_and_archived_inputs_import_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = unpack_sample(dir.path());
    let nvd = std::fs::read(vulns.join("nvd/CVE-2024-3094.json")).unwrap();
    let gz = dir.path().join("CVE-2024-3094.json.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&nvd).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    let xz = dir.path().join("page.json.xz");
    let page = std::fs::read(vulns.join("nvd/api-pages/vunnel-single-entry.json")).unwrap();
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(&page).unwrap();
    std::fs::write(&xz, e.finish().unwrap()).unwrap();
    let zip_path = dir.path().join("osv.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for f in [
        "osv/pypa/pip/PYSEC-2023-228.yaml",
        "osv/go/GO-2024-2687.json",
    ] {
        z.start_file(f, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(&std::fs::read(vulns.join(f)).unwrap()).unwrap();
    }
    z.finish().unwrap();
    let db = dir.path().join("v.sqlite");
    let r = import(&db, &[gz, xz, zip_path], true).unwrap();
    assert_eq!((r.documents, r.records, r.added), (4, 4, 4));
    let db = Db::open(&db).unwrap();
    for id in ["CVE-2024-3094", "PYSEC-2023-228", "GO-2024-2687"] {
        assert!(db.get(id).unwrap().is_some(), "{id}");
    }
}

#[test]
fn import_is_idempotent_and_update_takes_only_newer_records() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = unpack_sample(dir.path());
    let db = dir.path().join("v.sqlite");
    let first = import(&db, std::slice::from_ref(&vulns), true).unwrap();
    let again = import(&db, std::slice::from_ref(&vulns), true).unwrap();
    assert_eq!(first.added + first.unchanged, again.unchanged);
    assert_eq!((again.added, again.updated), (0, 0));
    let stats = Db::open(&db).unwrap().stats().unwrap();
    // 59 distinct NVD CVEs (per-CVE files and the two API pages overlap), 44 OSV records,
    // 3 of them withdrawn.
    assert_eq!(stats.total, 103);
    assert_eq!(stats.excluded, 3);

    let upd = dir.path().join("upd");
    std::fs::create_dir(&upd).unwrap();
    let src: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vulns.join("nvd/CVE-2024-3094.json")).unwrap())
            .unwrap();
    let mut newer = src.clone();
    newer["lastModified"] = "2030-01-01T00:00:00.000".into();
    newer["descriptions"][0]["value"] = "changed".into();
    let mut older = src;
    older["lastModified"] = "2000-01-01T00:00:00.000".into();
    older["descriptions"][0]["value"] = "stale".into();
    std::fs::write(
        upd.join("a-newer.json"),
        serde_json::to_vec(&newer).unwrap(),
    )
    .unwrap();
    let opts = ImportOptions {
        strict: true,
        only_changed: true,
    };
    let r = Db::create(&db)
        .unwrap()
        .import(std::slice::from_ref(&upd), opts, &|_| {})
        .unwrap();
    assert_eq!((r.updated, r.unchanged), (1, 0));
    std::fs::write(
        upd.join("a-newer.json"),
        serde_json::to_vec(&older).unwrap(),
    )
    .unwrap();
    let r = Db::create(&db)
        .unwrap()
        .import(&[upd], opts, &|_| {})
        .unwrap();
    assert_eq!((r.updated, r.unchanged), (0, 1));
    let rec = Db::open(&db)
        .unwrap()
        .get("CVE-2024-3094")
        .unwrap()
        .unwrap();
    assert_eq!(rec.summary.as_deref(), Some("changed"));
}

#[test]
fn corrupt_newer_and_foreign_db_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, b"this is not a database, just some text that is long enough to fill a header page ............................................").unwrap();
    let e = Db::open(&corrupt).err().unwrap();
    assert!(matches!(e, DbError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("relkit db import"));

    let newer = dir.path().join("newer.sqlite");
    drop(Db::create(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute(
            "UPDATE relkit_vuln_meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let e = Db::open(&newer).err().unwrap();
    assert!(matches!(e, DbError::NewerSchema { found: 99, .. }), "{e}");
    assert!(Db::create(&newer).is_err());

    let foreign = dir.path().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute("CREATE TABLE t(x)", [])
        .unwrap();
    assert!(matches!(Db::open(&foreign), Err(DbError::Foreign { .. })));
    assert!(matches!(
        Db::open(&dir.path().join("absent.sqlite")),
        Err(DbError::Missing { .. })
    ));
}

#[test]
fn unusable_purls_are_reported_and_the_cpe_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = unpack_sample(dir.path());
    let path = dir.path().join("v.sqlite");
    import(&path, &[vulns], true).unwrap();
    let db = Db::open(&path).unwrap();
    let pkg = |name: &str, version: &str, cpe: &str, purl: &str| Package {
        id: format!("SPDXRef-{name}"),
        name: name.into(),
        version: Some(version.into()),
        cpes: vec![cpe.into()],
        purls: vec![purl.into()],
        ..Default::default()
    };
    let doc = Document {
        packages: vec![
            // Unknown ecosystem (purl type nobody publishes advisories for).
            pkg(
                "xz",
                "5.6.1",
                "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*",
                "pkg:unknowntype/xz@5.6.1",
            ),
            // A version PEP 440 cannot read in the purl; the CPE carries a good one.
            pkg(
                "pip",
                "23.2.1",
                "cpe:2.3:a:pypa:pip:23.2.1:*:*:*:*:*:*:*",
                "pkg:pypi/pip@23.2.1%2Bweird!",
            ),
            // Not a purl at all.
            pkg(
                "zlib",
                "1.3",
                "cpe:2.3:a:zlib:zlib:1.3:*:*:*:*:*:*:*",
                "not-a-purl",
            ),
        ],
        ..Default::default()
    };
    let r = scan_document(&doc, "t", &db, &ScanOptions::default()).unwrap();
    let got: Vec<(String, String)> = r
        .findings
        .iter()
        .map(|f| (f.component.clone(), f.id.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("pip".to_string(), "CVE-2023-5752".to_string()),
            ("xz".to_string(), "CVE-2024-3094".to_string()),
            ("zlib".to_string(), "CVE-2023-45853".to_string()),
        ]
    );
    let note = |c: &str| {
        r.notes
            .iter()
            .filter(|n| n.component == c)
            .map(|n| n.message.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(note("xz").contains("unknown ecosystem"), "{}", note("xz"));
    assert!(note("xz").contains("still matched by CPE"));
    assert!(
        note("pip").contains("not a valid Pep440 version"),
        "{}",
        note("pip")
    );
    assert!(note("zlib").contains("unparsable PURL"), "{}", note("zlib"));
    // --only-fixed drops findings without a fixed version (xz, zlib have none in NVD).
    let r = scan_document(&doc, "t", &db, &ScanOptions { only_fixed: true }).unwrap();
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].fixed.as_deref(), Some("23.3"));
}

#[test]
fn git_only_ranges_are_reported_as_not_evaluable() {
    // urllib3's PYSEC-2020-148 reduced to its GIT range (the ECOSYSTEM range and the
    // versions list removed), as OSV records of C projects look.
    let dir = tempfile::tempdir().unwrap();
    let vulns = unpack_sample(dir.path());
    let text = std::fs::read_to_string(vulns.join("osv/pypa/urllib3/PYSEC-2020-148.yaml")).unwrap();
    let mut v: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let a = &mut v["affected"][0];
    a["versions"] = serde_json::json!([]);
    let ranges: Vec<serde_json::Value> = a["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "GIT")
        .cloned()
        .collect();
    assert_eq!(ranges.len(), 1);
    a["ranges"] = ranges.into();
    let src = dir.path().join("git-only.json");
    std::fs::write(&src, serde_json::to_vec(&v).unwrap()).unwrap();
    let path = dir.path().join("v.sqlite");
    import(&path, &[src], true).unwrap();
    let db = Db::open(&path).unwrap();
    let doc = Document {
        packages: vec![Package {
            id: "SPDXRef-u".into(),
            name: "urllib3".into(),
            version: Some("1.25.8".into()),
            purls: vec!["pkg:pypi/urllib3@1.25.8".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let r = scan_document(&doc, "t", &db, &ScanOptions::default()).unwrap();
    assert!(r.findings.is_empty());
    assert_eq!(r.notes.len(), 1);
    assert_eq!(r.notes[0].record.as_deref(), Some("PYSEC-2020-148"));
    assert!(
        r.notes[0].message.contains("only GIT ranges")
            && r.notes[0]
                .message
                .contains("https://github.com/urllib3/urllib3"),
        "{}",
        r.notes[0].message
    );
}
