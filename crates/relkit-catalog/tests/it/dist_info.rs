//! Installed Python distributions (`*.dist-info/METADATA`) against Python's own
//! `importlib.metadata`: the fixture holds the METADATA files of a real `pip install` (see
//! ATTRIBUTION.md) and the listing importlib printed then (`importlib-metadata.txt`); the
//! test also runs importlib on the fixture now when python3 is there.

use std::collections::BTreeSet;

use crate::common::fixture;

fn listing(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn dist_info_reads_like_importlib_metadata() {
    let dir = fixture("python/site-packages");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            let rel = format!("{}/METADATA", e.file_name().to_string_lossy());
            files.push((rel, std::fs::read(e.path().join("METADATA")).unwrap()));
        }
    }
    let t = relkit_catalog::tree::catalog_files(
        files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        &|p| format!("site-packages/{p}"),
    );
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_eq!(t.catalogs.len(), files.len());
    let ours: BTreeSet<(String, String)> = t
        .catalogs
        .iter()
        .flat_map(|c| &c.packages)
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let saved = listing(&std::fs::read_to_string(dir.join("importlib-metadata.txt")).unwrap());
    assert_eq!(ours, saved);
    assert!(
        t.catalogs
            .iter()
            .any(|c| c.packages[0].purl == "pkg:pypi/typing-extensions@4.15.0")
    );
    if relkit_testkit::oracle_runs("python3", &["-c", "import importlib.metadata"]) {
        let out = relkit_testkit::run_ok(std::process::Command::new("python3").arg("-c").arg(
            "import importlib.metadata as m\nfor d in m.distributions(path=['.']): print(d.metadata['Name'], d.version)",
        ).current_dir(&dir));
        assert_eq!(ours, listing(&String::from_utf8(out).unwrap()));
    }
}
