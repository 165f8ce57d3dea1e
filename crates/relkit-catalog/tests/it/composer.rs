//! `composer.lock` (composer/composer, symfony/demo) against Trivy (`trivy fs`).

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error, Scope};

use crate::common::{
    bom_edges, bom_purls, canonical, catalog, catalog_edges, fixture, trivy_lockfile_bom,
};

/// Trivy lists `packages` (not `packages-dev`, its default); relkit's non-dev packages are
/// exactly those with the same PURLs (versions as locked, `v` kept), and Trivy's edges are
/// relkit's (relkit also gives the edges from dev packages, which Trivy leaves out).
#[test]
fn non_dev_packages_and_edges_are_trivys() {
    for rel in [
        "php/composer-eba7baa/composer.lock",
        "php/symfony-demo-920d86d/composer.lock",
    ] {
        let file = fixture(rel);
        let c = catalog(&file);
        // symfony/demo's composer.json `replace`s the symfony/polyfill-* packages (the root
        // provides them), which the lockfile does not record: their requirements are gaps.
        for w in &c.warnings {
            assert!(
                rel.contains("symfony-demo") && w.contains("requirement \"symfony/polyfill-"),
                "{w}"
            );
        }
        assert!(c.packages.iter().any(|p| p.scope == Scope::Dev));
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| p.scope != Scope::Dev)
            .map(|p| p.purl.clone())
            .collect();
        let Some(doc) = trivy_lockfile_bom(&file) else {
            continue;
        };
        let theirs = canonical(&bom_purls(&doc));
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        let only_trivy: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_trivy.is_empty(),
            "{rel}: only relkit {only_ours:?}, only Trivy {only_trivy:?}"
        );
        let our_edges = catalog_edges(&c);
        let missing: Vec<_> = bom_edges(&doc).difference(&our_edges).cloned().collect();
        assert!(
            missing.is_empty(),
            "{rel}: edges only Trivy gives {missing:?}"
        );
        let dev: BTreeSet<&str> = c
            .packages
            .iter()
            .filter(|p| p.scope == Scope::Dev)
            .map(|p| p.purl.as_str())
            .collect();
        for (a, b) in our_edges.difference(&bom_edges(&doc)) {
            assert!(
                dev.contains(a.as_str()) || dev.contains(b.as_str()),
                "{rel}: edge {a} → {b} only relkit gives"
            );
        }
    }
}

/// `dist.shasum` as SHA-1 where recorded (both fixtures' are empty: GitHub zipballs, which
/// Composer cannot hash in advance), the dist URL as source; a missing `packages` and
/// malformed JSON are located errors.
#[test]
fn checksums_sources_and_errors() {
    let c = catalog(&fixture("php/composer-eba7baa/composer.lock"));
    assert!(c.packages.iter().all(|p| p.checksums.is_empty()));
    assert!(c.packages.iter().all(|p| {
        p.source
            .as_deref()
            .is_some_and(|s| s.starts_with("https://"))
    }));
    let x = relkit_catalog::ComposerLock;
    let c = x
        .catalog(
            "a/composer.lock",
            br#"{"packages": [{"name": "Acme/Lib", "version": "v1.2.0", "require": {"php": ">=8", "psr/log-implementation": "*"},
                "dist": {"type": "zip", "url": "https://r/acme.zip", "shasum": "B81DE5F7274EC4E756D797CD834F303642724E5D"}},
               {"name": "monolog/monolog", "version": "3.0.0", "provide": {"psr/log-implementation": "3.0.0"}}]}"#,
        )
        .unwrap();
    assert_eq!(c.packages[0].purl, "pkg:composer/acme/lib@v1.2.0");
    assert_eq!(
        c.packages[0].checksums[0].hex,
        "b81de5f7274ec4e756d797cd834f303642724e5d"
    );
    assert_eq!(c.edges, vec![(0, 1)]);
    let err = x
        .catalog("a/composer.lock", br#"{"content-hash": "x"}"#)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("a/composer.lock: packages: missing"),
        "{err}"
    );
    let err = x.catalog("a/composer.lock", b"{").unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
    let err = x
        .catalog(
            "a/composer.lock",
            br#"{"packages": [], "plugin-api-version": "3.0.0"}"#,
        )
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
}
