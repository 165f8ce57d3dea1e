//! `Gemfile.lock` (rails, devise) against Trivy (`trivy fs`).

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error};

use crate::common::{
    bom_edges, bom_purls, canonical, catalog, catalog_edges, fixture, trivy_lockfile_bom,
};

/// A gem PURL without its `platform` qualifier.
fn no_platform(purl: &str) -> String {
    purl.split('?').next().unwrap().to_string()
}

/// Trivy lists every spec (the project's own `PATH` gems included) once per name@version,
/// without the platform: relkit lists each platform build (`nokogiri@1.19.1?platform=
/// x86_64-linux-gnu` beside the plain one), so with the `platform` qualifier dropped the
/// sets are equal. Trivy's edges are relkit's (relkit adds the edges from the project to
/// `DEPENDENCIES`, whose Trivy end is not a package, and to every platform build). Trivy
/// keeps one spec per name@version, a platform build: the plain `ruby` build's own
/// dependencies (nokogiri's `mini_portile2` to compile from source) are edges only relkit
/// gives, allowed only from gems with platform builds.
#[test]
fn specs_and_edges_are_trivys() {
    for (rel, warnings) in [
        // Windows-only gems the Gemfile names, resolved for no platform in PLATFORMS.
        (
            "ruby/rails-2a2db1e/Gemfile.lock",
            vec!["\"tzinfo-data\"", "\"wdm\""],
        ),
        ("ruby/devise-7ca7ed9/Gemfile.lock", vec![]),
    ] {
        let file = fixture(rel);
        let c = catalog(&file);
        assert_eq!(c.warnings.len(), warnings.len(), "{rel}: {:?}", c.warnings);
        for (w, name) in c.warnings.iter().zip(&warnings) {
            assert!(w.contains(&format!("DEPENDENCIES names {name}")), "{w}");
        }
        let root = c.packages.len() - 1;
        assert!(c.packages[root].local && c.packages[root].version.is_empty());
        let ours: BTreeSet<String> = c.packages[..root]
            .iter()
            .map(|p| no_platform(&p.purl))
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
        let our_edges: BTreeSet<(String, String)> = catalog_edges(&c)
            .into_iter()
            .map(|(a, b)| (no_platform(&a), no_platform(&b)))
            .collect();
        let their_edges = bom_edges(&doc);
        let missing: Vec<_> = their_edges.difference(&our_edges).collect();
        assert!(
            missing.is_empty(),
            "{rel}: edges only Trivy gives {missing:?}"
        );
        let extra: Vec<_> = our_edges
            .difference(&their_edges)
            .filter(|(a, _)| *a != c.packages[root].purl)
            .filter(|(a, _)| {
                !c.packages
                    .iter()
                    .any(|p| p.purl.starts_with(&format!("{a}?platform=")))
            })
            .collect();
        assert!(extra.is_empty(), "{rel}: edges only relkit gives {extra:?}");
    }
}

/// Platform builds, CHECKSUMS (Bundler 2.5+), sources and the project's own gems.
#[test]
fn platforms_checksums_and_sources() {
    let c = catalog(&fixture("ruby/rails-2a2db1e/Gemfile.lock"));
    let find = |purl: &str| {
        c.packages
            .iter()
            .find(|p| p.purl == purl)
            .unwrap_or_else(|| panic!("{purl}"))
    };
    let linux = find("pkg:gem/nokogiri@1.19.1?platform=x86_64-linux-gnu");
    assert_eq!(linux.checksums[0].algorithm, "SHA256");
    assert_eq!(
        linux.checksums[0].hex,
        "1a4902842a186b4f901078e692d12257678e6133858d0566152fe29cdb98456a"
    );
    assert_eq!(linux.source.as_deref(), Some("https://rubygems.org/"));
    let rails = find("pkg:gem/rails@8.2.0.alpha");
    assert!(rails.local && rails.source.is_none() && rails.checksums.is_empty());
    let devise = catalog(&fixture("ruby/devise-7ca7ed9/Gemfile.lock"));
    let mongoid = devise
        .packages
        .iter()
        .find(|p| p.name == "mongoid")
        .unwrap();
    assert_eq!(
        mongoid.source.as_deref(),
        Some("https://github.com/mongodb/mongoid.git#0623af687a234392ed4b8872f474a9208b908500")
    );
}

/// An unknown Bundler major is refused; a spec without a version is a located error.
#[test]
fn bad_lockfiles_are_located_errors() {
    let g = relkit_catalog::GemfileLock;
    let err = g
        .catalog(
            "a/Gemfile.lock",
            b"GEM\n  specs:\n    a (1.0)\n\nBUNDLED WITH\n  9.0.0\n",
        )
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = g
        .catalog(
            "a/Gemfile.lock",
            b"GEM\n  remote: https://rubygems.org/\n  specs:\n    a\n",
        )
        .unwrap_err();
    assert!(
        err.to_string().starts_with("a/Gemfile.lock: line 4:"),
        "{err}"
    );
}
