//! The offline CPE dictionary on real data: NVD's dictionary sample, the NVD CVE records
//! and API pages, CPython's SBOMs; searches of any length, deprecation, the xz identity
//! case, and atomic replacement when a source is truncated.

use std::path::{Path, PathBuf};

use relkit_cpedict::{Dictionary, MatchKind};
use relkit_ident::check::{Severity, check_components, sbom_components, suggest};
use relkit_ident::purl::Purl;

fn fx(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../relkit-ident/tests/fixtures")
        .join(p)
}

/// Real sources only: dictionary XML sample + every NVD CVE record and API page.
fn real_sources() -> Vec<PathBuf> {
    vec![fx("cpe/official-cpe-dictionary_v2.3.sample.xml"), fx("nvd")]
}

fn build(dir: &Path, sources: &[PathBuf]) -> Dictionary {
    let path = dir.join("cpe.sqlite");
    Dictionary::import(&path, sources).unwrap();
    Dictionary::open(&path).unwrap()
}

#[test]
fn imports_real_sources_and_answers_two_character_queries() {
    let dir = tempfile::tempdir().unwrap();
    let dict = build(dir.path(), &real_sources());
    let stats = dict.stats().unwrap();
    assert_eq!(stats.names, 3198, "every <cpe23-item> of the sample");
    // 23 single CVE records + 38 + 1 API page records (3 of them duplicates of the singles).
    assert_eq!(stats.cves, 59);
    assert_eq!(stats.products, 308, "{stats:?}");

    // "xz": 2 characters, which NVD's own search refuses.
    let hits = dict.search("xz", 10).unwrap();
    assert_eq!(hits[0].kind, MatchKind::ExactProduct);
    assert_eq!(
        (
            hits[0].product.vendor.as_str(),
            hits[0].product.product.as_str()
        ),
        ("tukaani", "xz")
    );
    assert_eq!(hits[0].product.cve_count, 1);
    assert_eq!(hits[0].product.sample_cve.as_deref(), Some("CVE-2024-3094"));
    assert!(
        hits[0]
            .product
            .sample_description
            .as_deref()
            .unwrap()
            .contains("liblzma")
    );
    assert_eq!(hits[0].product.min_version.as_deref(), Some("5.6.0"));
    assert_eq!(hits[0].product.max_version.as_deref(), Some("5.6.1"));

    // Medium and long queries, vendor matches, substrings and typos.
    let zlib = dict.search("zlib", 5).unwrap();
    assert_eq!(zlib[0].product.vendor, "zlib");
    assert_eq!(zlib[0].kind, MatchKind::ExactProduct);
    let expat = dict.search("expat", 5).unwrap();
    assert_eq!(expat[0].product.product, "libexpat");
    assert_eq!(expat[0].kind, MatchKind::Substring);
    assert_eq!(
        expat[0].product.cve_count, 3,
        "45491, 50602 and 8176 have no configurations yet"
    );
    let typo = dict.search("libexapt", 5).unwrap();
    assert_eq!(typo[0].product.product, "libexpat");
    assert_eq!(typo[0].kind, MatchKind::Fuzzy);
    let vendor = dict.search("umbraco", 5).unwrap();
    assert_eq!(vendor[0].kind, MatchKind::ExactProduct);
    assert!(vendor.iter().any(|h| h.product.product == "umbraco_forms"));
    let long = dict.search("user_profile_&_membership", 5).unwrap();
    assert_eq!(long[0].product.vendor, "ultimatemember");
    assert_eq!(long[0].kind, MatchKind::ExactProduct);
    let one = dict.search("z", 3).unwrap();
    assert_eq!(one.len(), 3);
    assert!(dict.search("qqqqqq", 5).unwrap().is_empty());
}

#[test]
fn deprecation_links_come_from_the_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let dict = build(dir.path(), &real_sources());
    let ukg = dict.lookup("ukg", "vault-cli").unwrap();
    assert!(ukg[0].deprecated);
    assert_eq!(
        ukg[0].deprecated_by.as_deref(),
        Some("vault-cli_project:vault-cli")
    );
    let api = build(
        &dir.path().join("api"),
        &[fx("handmade/cpe-api-2.0-page.json")],
    );
    // The same real NVD deprecation, read from the API 2.0 form (`deprecatedBy`).
    let old = api.lookup("ukg", "vault-cli").unwrap();
    assert!(old[0].deprecated);
    assert_eq!(
        old[0].deprecated_by.as_deref(),
        Some("vault-cli_project:vault-cli")
    );
    assert_eq!(api.lookup("tukaani", "xz").unwrap()[0].name_count, 2);
}

/// An SBOM whose xz carries the Go package's CPE, like CPython's did.
fn xz_sbom() -> serde_json::Value {
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .unwrap(),
    )
    .unwrap();
    for p in doc["packages"].as_array_mut().unwrap() {
        if p["name"] == "xz" {
            p["versionInfo"] = "5.6.1".into();
            p["externalRefs"][0]["referenceLocator"] =
                "cpe:2.3:a:xz_project:xz:5.6.1:*:*:*:*:*:*:*".into();
        }
    }
    doc
}

#[test]
fn xz_case_is_flagged_and_tukaani_suggested_from_cve_data_alone() {
    let dir = tempfile::tempdir().unwrap();
    // Only CVE records: the dictionary exists from CVE data alone.
    let dict = build(dir.path(), &[fx("nvd")]);
    let components = sbom_components(&xz_sbom()).unwrap();
    let reports = check_components(&dict, &components).unwrap();
    let xz = reports.iter().find(|r| r.name == "xz").unwrap();
    let f = &xz.findings[0];
    assert_eq!(f.code, "cpe-unknown");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.path, "$.packages[7].externalRefs[0].referenceLocator");
    assert_eq!(
        f.suggestions[0].cpe,
        "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"
    );
    assert!(
        f.message.contains("did you mean tukaani:xz?"),
        "{}",
        f.message
    );
}

#[test]
fn xz_case_with_the_go_cve_is_an_ecosystem_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let mut sources = real_sources();
    sources.push(fx("nvd-go/CVE-2021-29482.json"));
    let dict = build(dir.path(), &sources);
    let hits = dict.search("xz", 5).unwrap();
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.kind == MatchKind::ExactProduct));
    assert_eq!(hits[1].product.target_sw.as_deref(), Some("go"));
    let reports = check_components(&dict, &sbom_components(&xz_sbom()).unwrap()).unwrap();
    let xz = reports.iter().find(|r| r.name == "xz").unwrap();
    let codes: Vec<&str> = xz.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["cpe-ecosystem-mismatch"]);
    assert!(
        xz.findings[0].message.contains("golang"),
        "{}",
        xz.findings[0].message
    );
    assert_eq!(xz.findings[0].suggestions[0].product.vendor, "tukaani");

    // suggest: a C xz prefers tukaani, a Go module prefers xz_project.
    let c = suggest(&dict, "xz", Some("5.6.1"), None, 3).unwrap();
    assert_eq!(c[0].product.vendor, "tukaani");
    let go = Purl::parse("pkg:golang/github.com/ulikunitz/xz@v0.5.7").unwrap();
    let g = suggest(&dict, "xz", Some("0.5.7"), Some(&go), 3).unwrap();
    assert_eq!(g[0].product.vendor, "xz_project", "{g:#?}");
}

#[test]
fn cpython_sboms_check_clean_except_real_findings() {
    let dir = tempfile::tempdir().unwrap();
    let dict = build(dir.path(), &real_sources());
    for (file, expected_packages) in [
        ("cpython-3.13.5/externals.spdx.json", 9),
        ("cpython-3.13.5/sbom.spdx.json", 5),
    ] {
        let doc =
            serde_json::from_str(&std::fs::read_to_string(relkit_testkit::fixture(file)).unwrap())
                .unwrap();
        let reports = check_components(&dict, &sbom_components(&doc).unwrap()).unwrap();
        assert_eq!(reports.len(), expected_packages, "{file}");
        for r in &reports {
            assert!(
                r.findings
                    .iter()
                    .all(|f| f.severity == Severity::Warning || f.code == "cpe-unknown"),
                "{file} {}: {:?}",
                r.name,
                r.findings
            );
        }
        if file.ends_with("externals.spdx.json") {
            let xz = reports.iter().find(|r| r.name == "xz").unwrap();
            assert!(xz.findings.is_empty(), "{:?}", xz.findings);
        }
    }
}

#[test]
fn truncated_or_malformed_source_leaves_the_old_dictionary_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cpe.sqlite");
    Dictionary::import(&path, &real_sources()).unwrap();
    let before = Dictionary::open(&path).unwrap().stats().unwrap();

    let xml = std::fs::read_to_string(fx("cpe/official-cpe-dictionary_v2.3.sample.xml")).unwrap();
    let truncated = dir.path().join("truncated.xml");
    std::fs::write(&truncated, &xml[..xml.len() / 2]).unwrap();
    let err = Dictionary::import(&path, std::slice::from_ref(&truncated)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("truncated.xml") && msg.contains("truncated"),
        "{msg}"
    );
    assert!(msg.contains("left unchanged"), "{msg}");

    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, "{\"vulnerabilities\": [ {\"cve\": ").unwrap();
    let err = Dictionary::import(&path, &[bad_json])
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");

    let after = Dictionary::open(&path).unwrap().stats().unwrap();
    assert_eq!(before, after);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no temp files left"
    );
}
