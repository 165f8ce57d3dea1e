//! `package-lock.json` v1–v3 against npm's own reading (`npm ls --all --json
//! --package-lock-only`) and Trivy.

use std::collections::BTreeSet;
use std::path::Path;

use relkit_catalog::{Cataloger, Error, Scope};

use crate::common::{canonical, catalog, fixture, trivy_purls};

const JSON_SERVER: [(&str, &str); 3] = [
    ("0e2a1d1", "package-lock.json v1"),
    ("5df482b", "package-lock.json v2"),
    ("89c714c", "package-lock.json v3"),
];

type Nv = (String, String);

/// A parent → child dependency edge.
type Edge = (Nv, Nv);

/// npm's own tree of the lockfile: every (name, version) below the root and every
/// parent → child edge between them (the root's own edges apart).
fn npm_ls(dir: &Path) -> Option<(BTreeSet<Nv>, BTreeSet<Edge>)> {
    relkit_testkit::oracle("npm")?;
    let work = tempfile::tempdir().unwrap();
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(dir.join(f), work.path().join(f)).unwrap();
    }
    let out = std::process::Command::new("npm")
        .args(["ls", "--all", "--json", "--package-lock-only"])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (mut nodes, mut edges) = (BTreeSet::new(), BTreeSet::new());
    fn walk(
        v: &serde_json::Value,
        parent: Option<&Nv>,
        nodes: &mut BTreeSet<Nv>,
        edges: &mut BTreeSet<Edge>,
    ) {
        for (name, child) in v["dependencies"].as_object().into_iter().flatten() {
            let Some(version) = child["version"].as_str() else {
                continue;
            };
            let nv = (name.clone(), version.to_string());
            nodes.insert(nv.clone());
            // npm shows an extraneous entry (in the lockfile, required by nobody there) under
            // the package it is installed beneath: a place, not a dependency.
            let extraneous = child["extraneous"].as_bool() == Some(true);
            if let Some(p) = parent.filter(|_| !extraneous) {
                edges.insert((p.clone(), nv.clone()));
            }
            walk(child, Some(&nv), nodes, edges);
        }
    }
    walk(&tree, None, &mut nodes, &mut edges);
    Some((nodes, edges))
}

/// Every lockfile version lists the packages npm itself reads from it, with the same
/// dependency edges, and every registry package carries its integrity hash.
#[test]
fn every_lockfile_version_reads_like_npm() {
    for (commit, format) in JSON_SERVER {
        let dir = fixture(&format!("npm/json-server-{commit}"));
        let c = catalog(&dir.join("package-lock.json"));
        assert_eq!(c.format, format);
        assert!(c.warnings.is_empty(), "{format}: {:?}", c.warnings);
        let nv = |i: usize| (c.packages[i].name.clone(), c.packages[i].version.clone());
        let ours: BTreeSet<Nv> = (0..c.packages.len())
            .filter(|&i| !c.packages[i].local)
            .map(nv)
            .collect();
        // (json-server's v1 lockfile has one entry npm wrote without `resolved` or `integrity`.)
        for p in c.packages.iter().filter(|p| p.source.is_some()) {
            assert!(
                p.checksums
                    .iter()
                    .any(|s| s.algorithm == "SHA512" || s.algorithm == "SHA1"),
                "{format}: {} {} has its integrity hash",
                p.name,
                p.version
            );
        }
        let Some((nodes, edges)) = npm_ls(&dir) else {
            continue;
        };
        let only_ours: Vec<_> = ours.difference(&nodes).collect();
        let only_npm: Vec<_> = nodes.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_npm.is_empty(),
            "{format}: packages only relkit has {only_ours:?}, only npm has {only_npm:?}"
        );
        let our_edges: BTreeSet<Edge> = c
            .edges
            .iter()
            .filter(|&&(a, _)| !c.packages[a].local)
            .map(|&(a, b)| (nv(a), nv(b)))
            .collect();
        let only_ours: Vec<_> = our_edges.difference(&edges).collect();
        let only_npm: Vec<_> = edges.difference(&our_edges).collect();
        assert!(
            only_ours.is_empty() && only_npm.is_empty(),
            "{format}: edges only relkit has {only_ours:?}, only npm has {only_npm:?}"
        );
    }
}

/// Trivy lists the packages that are not development-only (its default, like `npm audit
/// --omit=dev`); relkit's packages outside [`Scope::Dev`] carry the same PURLs (scoped names
/// as `%40scope/name`).
#[test]
fn non_dev_packages_have_the_purls_trivy_gives() {
    for (commit, format) in JSON_SERVER {
        let file = fixture(&format!("npm/json-server-{commit}/package-lock.json"));
        let c = catalog(&file);
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| !p.local && p.scope != Scope::Dev)
            .map(|p| p.purl.clone())
            .collect();
        let Some(theirs) = trivy_purls(&file) else {
            continue;
        };
        let theirs = canonical(&theirs);
        // Trivy keeps one entry per name@version: the first of v1's nested tree, an arbitrary
        // one of v2/v3's `packages` (Go map order: it changes from run to run). When that one
        // is a dev copy, the run-time copy of the same name@version elsewhere in the tree
        // (boxen's own camelcase 5.3.1 beside jest's; express's ms 2.0.0 beside eslint's) is
        // dropped with it. relkit keeps the run-time copy; those are the only differences
        // allowed, and only where relkit also has a dev copy of that name@version.
        let dev_elsewhere = |purl: &String| {
            c.packages
                .iter()
                .any(|p| &p.purl == purl && p.scope == Scope::Dev)
        };
        let only_ours: Vec<_> = ours
            .difference(&theirs)
            .filter(|p| !dev_elsewhere(p))
            .collect();
        let only_trivy: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_trivy.is_empty(),
            "{format}: only relkit {only_ours:?}, only trivy {only_trivy:?}"
        );
    }
}

/// Fail closed: an unknown lockfile version, a missing `packages` map and malformed JSON are
/// located errors; a required dependency missing from the lockfile is a warning naming it.
#[test]
fn bad_lockfiles_are_located_errors_and_gaps_are_warnings() {
    let lock = relkit_catalog::PackageLock;
    let err = lock
        .catalog("a/package-lock.json", br#"{"lockfileVersion": 4}"#)
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = lock
        .catalog("a/package-lock.json", br#"{"lockfileVersion": 3}"#)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a/package-lock.json: packages: missing"),
        "{err}"
    );
    let err = lock
        .catalog("a/package-lock.json", b"{\"lockfileVersion\": 3,\n")
        .unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
    let c = lock
        .catalog(
            "a/package-lock.json",
            br#"{"lockfileVersion": 3, "packages": {
                "": {"name": "app", "version": "1.0.0", "dependencies": {"left-pad": "^1"}},
                "node_modules/@scope/x": {"version": "2.0.0", "dev": true,
                  "integrity": "sha512-AAAA", "resolved": "https://r/x.tgz"}}}"#,
        )
        .unwrap();
    assert_eq!(c.packages[1].purl, "pkg:npm/%40scope/x@2.0.0");
    assert_eq!(c.packages[1].scope, Scope::Dev);
    assert_eq!(c.packages[1].checksums[0].algorithm, "SHA512");
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].contains("\"left-pad\" is not in the lockfile"),
        "{:?}",
        c.warnings
    );
}
