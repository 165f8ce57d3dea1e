//! `pnpm-lock.yaml` 5.4, 6.0 and 9.0 (vuejs/core) against Trivy (`trivy fs`).

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error, Scope};

use crate::common::{
    bom_edges, bom_purls, canonical, catalog, catalog_edges, cdxgen_bom, fixture,
    trivy_lockfile_bom,
};

/// 5.4 and 6.0: Trivy lists the packages that are not development-only (its default); relkit's
/// packages outside [`Scope::Dev`] are exactly those, with the same PURLs, and every edge
/// Trivy gives between them is relkit's.
#[test]
fn non_dev_packages_and_edges_are_trivys() {
    for (rel, format) in [
        (
            "npm/pnpm-vue-core-37701a8/pnpm-lock.yaml",
            "pnpm-lock.yaml v5.4",
        ),
        (
            "npm/pnpm-vue-core-ca9920c/pnpm-lock.yaml",
            "pnpm-lock.yaml v6.0",
        ),
    ] {
        let file = fixture(rel);
        let c = catalog(&file);
        assert_eq!(c.format, format);
        assert!(c.warnings.is_empty(), "{rel}: {:?}", c.warnings);
        for p in c.packages.iter().filter(|p| !p.local) {
            assert!(
                // (old packages such as concat-map 0.0.1 have only a SHA-1 integrity)
                p.checksums
                    .iter()
                    .any(|s| s.algorithm == "SHA512" || s.algorithm == "SHA1"),
                "{rel}: {} has its integrity",
                p.purl
            );
        }
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| !p.local && p.scope != Scope::Dev)
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
        let missing: Vec<_> = bom_edges(&doc)
            .difference(&catalog_edges(&c))
            .cloned()
            .collect();
        assert!(
            missing.is_empty(),
            "{rel}: edges only Trivy gives {missing:?}"
        );
    }
}

/// 9.0: this Trivy build misreads v9 lockfiles — it drops the `@scope/` of scoped names
/// (`@esbuild/aix-ppc64@0.28.1` becomes `pkg:npm/aix-ppc64@0.28.1`), adds one component with
/// the empty PURL `pkg:npm/`, keeps development-only packages and gives no edges. What it
/// can still check: every (name without scope, version) it lists is one of relkit's.
#[test]
fn v9_packages_include_trivys() {
    let file = fixture("npm/pnpm-vue-core-a7928a3/pnpm-lock.yaml");
    let c = catalog(&file);
    assert_eq!(c.format, "pnpm-lock.yaml v9.0");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // The workspace's packages are named by the links between them.
    assert!(
        c.packages
            .iter()
            .any(|p| p.local && p.name == "@vue/compiler-core")
    );
    let bare = |purl: &str| {
        let p = relkit_ident::purl::Purl::parse(purl).unwrap();
        let s = p.to_canonical();
        let tail = s.strip_prefix("pkg:npm/").unwrap();
        tail.rsplit_once('/').map_or(tail, |(_, t)| t).to_string()
    };
    let ours: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| !p.local)
        .map(|p| bare(&p.purl))
        .collect();
    let Some(doc) = trivy_lockfile_bom(&file) else {
        return;
    };
    let theirs: BTreeSet<String> = bom_purls(&doc)
        .into_iter()
        .filter(|p| p != "pkg:npm/")
        .map(|p| bare(&p))
        .collect();
    let only_trivy: Vec<_> = theirs.difference(&ours).collect();
    assert!(only_trivy.is_empty(), "only Trivy lists {only_trivy:?}");
}

/// pnpm's own rules on a small 9.0 lockfile: a package reached only from `devDependencies`
/// is dev, one also reached from `dependencies` is not, `optional: true` is optional; an
/// unknown version and malformed YAML are errors; a dangling reference is a warning.
#[test]
fn v9_scopes_follow_the_importers_and_bad_files_fail() {
    let lock = br#"lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a:
        specifier: ^1
        version: 1.0.0
    devDependencies:
      '@t/d':
        specifier: ^2
        version: 2.0.0(a@1.0.0)
packages:
  a@1.0.0:
    resolution: {integrity: sha512-AAAA}
  '@t/d@2.0.0':
    resolution: {integrity: sha512-AAAA}
  c@3.0.0:
    resolution: {integrity: sha512-AAAA}
  o@4.0.0:
    resolution: {integrity: sha512-AAAA}
snapshots:
  a@1.0.0:
    optionalDependencies:
      o: 4.0.0
  '@t/d@2.0.0(a@1.0.0)':
    dependencies:
      a: 1.0.0
      c: 3.0.0
      gone: 9.9.9
  c@3.0.0: {}
  o@4.0.0:
    optional: true
"#;
    let c = relkit_catalog::PnpmLock
        .catalog("w/pnpm-lock.yaml", lock)
        .unwrap();
    let scope = |purl: &str| c.packages.iter().find(|p| p.purl == purl).unwrap().scope;
    assert_eq!(scope("pkg:npm/a@1.0.0"), Scope::Required);
    assert_eq!(scope("pkg:npm/%40t/d@2.0.0"), Scope::Dev);
    assert_eq!(scope("pkg:npm/c@3.0.0"), Scope::Dev);
    assert_eq!(scope("pkg:npm/o@4.0.0"), Scope::Optional);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("\"gone\" 9.9.9 is not in the lockfile"),
        "{:?}",
        c.warnings
    );
    let root = c.packages.iter().position(|p| p.local).unwrap();
    assert_eq!(c.packages[root].name, "w");
    assert_eq!(c.dependencies_of(root).count(), 2);
    let err = relkit_catalog::PnpmLock
        .catalog("w/pnpm-lock.yaml", b"lockfileVersion: '7.0'\n")
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = relkit_catalog::PnpmLock
        .catalog("w/pnpm-lock.yaml", b"lockfileVersion: '9.0'\npackages: [\n")
        .unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
}

/// 9.0 against cdxgen, which reads it whole: the same PURLs; the packages cdxgen marks
/// required (no `scope`) are relkit's run-time ones, those it marks development-only
/// (`cdx:npm:package:development`) relkit's [`Scope::Dev`] — except `@types/trusted-types`,
/// which vue's runtime-dom lists in `devDependencies` but run-time dompurify also pulls in as
/// an optional dependency (`optionalDependencies`), so `pnpm install --prod` installs it and
/// relkit keeps it run time; and cdxgen's edges are relkit's.
#[test]
fn v9_packages_scopes_and_edges_are_cdxgens() {
    let file = fixture("npm/pnpm-vue-core-a7928a3/pnpm-lock.yaml");
    let c = catalog(&file);
    let Some(doc) = cdxgen_bom(&file) else {
        return;
    };
    let ours: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| !p.local)
        .map(|p| p.purl.clone())
        .collect();
    let theirs = canonical(&bom_purls(&doc));
    assert_eq!(ours, theirs);
    let components = doc["components"].as_array().unwrap();
    let dev_flag = |comp: &serde_json::Value| {
        comp["properties"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "cdx:npm:package:development" && p["value"] == "true")
    };
    let their_run_time: BTreeSet<String> = components
        .iter()
        .filter(|comp| comp["scope"].is_null())
        .map(|comp| comp["purl"].as_str().unwrap().to_string())
        .collect();
    let their_dev: BTreeSet<String> = components
        .iter()
        .filter(|comp| dev_flag(comp))
        .map(|comp| comp["purl"].as_str().unwrap().to_string())
        .collect();
    let our_run_time: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| !p.local && p.scope != Scope::Dev)
        .map(|p| p.purl.clone())
        .collect();
    let our_dev: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| p.scope == Scope::Dev)
        .map(|p| p.purl.clone())
        .collect();
    let exception = "pkg:npm/%40types/trusted-types@2.0.7".to_string();
    assert_eq!(
        our_run_time.difference(&their_run_time).collect::<Vec<_>>(),
        vec![&exception]
    );
    assert!(their_run_time.is_subset(&our_run_time));
    assert!(their_dev.contains(&exception));
    let only_cdxgen_dev: Vec<_> = their_dev
        .iter()
        .filter(|p| !our_dev.contains(*p) && **p != exception)
        .collect();
    assert!(
        only_cdxgen_dev.is_empty(),
        "dev only for cdxgen: {only_cdxgen_dev:?}"
    );
    let missing: Vec<_> = bom_edges(&doc)
        .difference(&catalog_edges(&c))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "edges only cdxgen gives {missing:?}");
}
