//! `yarn.lock`, classic (v1) and Berry (v6, v10), against Trivy (`trivy fs`): the packages it
//! lists and the dependency edges it gives.

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error, Scope};

use crate::common::{
    bom_edges, bom_purls, canonical, catalog, catalog_edges, fixture, trivy_lockfile_bom,
};

/// (fixture, format, whether Trivy gives this format's edges).
const LOCKS: [(&str, &str, bool); 4] = [
    ("npm/yarn-rails-2a2db1e/yarn.lock", "yarn.lock v1", true),
    ("npm/yarn-prettier-f009a96/yarn.lock", "yarn.lock v1", true),
    (
        "npm/yarn-prettier-8ede198/yarn.lock",
        "yarn.lock (Berry) v6",
        true,
    ),
    // Trivy's CycloneDX output has no `dependencies` for this Berry version: no graph oracle.
    (
        "npm/yarn-prettier-4f84a93/yarn.lock",
        "yarn.lock (Berry) v10",
        false,
    ),
];

/// Aliases in these lockfiles (`"string-width-cjs@npm:string-width@^4.2.0"`): the installed
/// package is the real one, which relkit names (as npm's `package-lock.json` reader and the
/// registry do); Trivy names it by the alias, a name no registry package has for it.
const ALIASES: [(&str, &str); 5] = [
    ("string-width-cjs", "string-width"),
    ("strip-ansi-cjs", "strip-ansi"),
    ("wrap-ansi-cjs", "wrap-ansi"),
    ("react-is-18", "react-is"),
    ("react-is-19", "react-is"),
];

/// A Trivy PURL with an alias name replaced by the real package name, when the lockfile
/// holds that alias.
fn unalias(purl: &str, text: &str) -> String {
    for (alias, real) in ALIASES {
        let prefix = format!("pkg:npm/{alias}@");
        if let Some(version) = purl.strip_prefix(&prefix) {
            assert!(
                text.contains(&format!("{alias}@npm:{real}@")),
                "{alias} is an alias of {real} in the lockfile"
            );
            return format!("pkg:npm/{real}@{version}");
        }
    }
    purl.to_string()
}

/// Every package Trivy lists is in relkit's catalog with the same PURL (aliases apart, see
/// [`ALIASES`]), and relkit lists nothing more except what Trivy skips by design: packages
/// resolved from git (Trivy's yarn parser ignores the `git:`, `file:`, `link:`, `patch:` and
/// `workspace:` protocols). Every edge Trivy gives is relkit's; relkit's extra edges are to
/// optional dependencies, which Trivy leaves out of the graph.
#[test]
fn packages_and_edges_are_trivys() {
    for (rel, format, graph) in LOCKS {
        let file = fixture(rel);
        let text = std::fs::read_to_string(&file).unwrap();
        let c = catalog(&file);
        assert_eq!(c.format, format);
        // One dependency prettier's package.json overrides (`"resolutions": {"trim": "1.0.1"}`)
        // is recorded with its original range, for which the lockfile has no entry.
        for w in &c.warnings {
            assert!(
                w.contains("\"remark-parse@npm:8.0.3\" depends on \"trim@")
                    && format.contains("Berry"),
                "{rel}: {w}"
            );
        }
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| !p.local)
            .map(|p| p.purl.clone())
            .collect();
        assert!(
            c.packages.iter().all(|p| p.scope != Scope::Dev),
            "yarn.lock records no dev scope"
        );
        let Some(doc) = trivy_lockfile_bom(&file) else {
            continue;
        };
        let theirs: BTreeSet<String> = canonical(&bom_purls(&doc))
            .iter()
            .map(|p| unalias(p, &text))
            .collect();
        let only_trivy: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_trivy.is_empty(),
            "{rel}: only Trivy lists {only_trivy:?}"
        );
        let only_ours: Vec<_> = ours
            .difference(&theirs)
            .filter(|purl| {
                !c.packages.iter().any(|p| {
                    &&p.purl == purl && p.source.as_deref().is_some_and(|s| s.starts_with("git"))
                })
            })
            .collect();
        assert!(
            only_ours.is_empty(),
            "{rel}: only relkit lists {only_ours:?}"
        );
        if !graph {
            continue;
        }
        let their_edges: BTreeSet<(String, String)> = bom_edges(&doc)
            .into_iter()
            .map(|(a, b)| (unalias(&a, &text), unalias(&b, &text)))
            .collect();
        let our_edges = catalog_edges(&c);
        let missing: Vec<_> = their_edges.difference(&our_edges).collect();
        assert!(
            missing.is_empty(),
            "{rel}: edges only Trivy gives {missing:?}"
        );
    }
}

/// Classic lockfiles carry the registry tarball's integrity (SRI, or the SHA-1 fragment of
/// `resolved` in 2017's); Berry's `checksum` (a hash of Yarn's own cache zip) is not given.
#[test]
fn classic_checksums_are_the_tarballs_and_berrys_cache_hashes_are_not_given() {
    let rails = catalog(&fixture("npm/yarn-rails-2a2db1e/yarn.lock"));
    let code_frame = rails
        .packages
        .iter()
        .find(|p| p.purl == "pkg:npm/%40babel/code-frame@7.22.5")
        .unwrap();
    // integrity sha512-Xmwn266vad+6DAqEB2A6V/Cc… (hex by Python's base64 module)
    assert_eq!(code_frame.checksums[0].algorithm, "SHA512");
    assert!(
        code_frame.checksums[0]
            .hex
            .starts_with("5e6c27dbaeaf69dfba0c0a8407603a57f09c655a")
    );
    let old = catalog(&fixture("npm/yarn-prettier-f009a96/yarn.lock"));
    let abab = old
        .packages
        .iter()
        .find(|p| p.purl == "pkg:npm/abab@1.0.3")
        .unwrap();
    assert_eq!(abab.checksums[0].algorithm, "SHA1");
    assert_eq!(
        abab.checksums[0].hex,
        "b81de5f7274ec4e756d797cd834f303642724e5d"
    );
    let berry = catalog(&fixture("npm/yarn-prettier-4f84a93/yarn.lock"));
    assert!(berry.packages.iter().all(|p| p.checksums.is_empty()));
    let root = berry.packages.iter().find(|p| p.local).unwrap();
    assert_eq!(root.name, "prettier");
    assert!(
        berry
            .dependencies_of(berry.packages.iter().position(|p| p.local).unwrap())
            .any(|p| p.name == "@angular/compiler")
    );
}

/// Fail closed: an unknown Berry version or header, malformed YAML and a classic block
/// without a version are located errors; a missing dependency is a warning naming it; an
/// optional dependency resolved by nothing else is optional.
#[test]
fn bad_lockfiles_are_located_errors_and_gaps_are_warnings() {
    let y = relkit_catalog::YarnLock;
    let err = y
        .catalog("a/yarn.lock", b"__metadata:\n  version: 99\n")
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = y
        .catalog("a/yarn.lock", b"# yarn lockfile v2\n")
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = y
        .catalog(
            "a/yarn.lock",
            b"__metadata:\n  version: 8\n\"x@npm:1\": [\n",
        )
        .unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err}");
    let err = y
        .catalog(
            "a/yarn.lock",
            b"# yarn lockfile v1\n\nleft-pad@^1:\n  resolved \"https://r/l.tgz\"\n",
        )
        .unwrap_err();
    assert!(err.to_string().starts_with("a/yarn.lock: line 3:"), "{err}");
    let c = y
        .catalog(
            "a/yarn.lock",
            b"# yarn lockfile v1\n\n\"@s/a@^1\":\n  version \"1.0.0\"\n  dependencies:\n    b \"^2\"\n  optionalDependencies:\n    fsevents \"^2\"\n\nfsevents@^2:\n  version \"2.3.3\"\n",
        )
        .unwrap();
    assert_eq!(c.packages[0].purl, "pkg:npm/%40s/a@1.0.0");
    assert_eq!(c.packages[1].scope, Scope::Optional);
    assert_eq!(c.edges, vec![(0, 1)]);
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].contains("a/yarn.lock: line 3: \"@s/a@^1\" depends on \"b@^2\""),
        "{:?}",
        c.warnings
    );
}

/// Berry 10, for which Trivy gives no graph, against cdxgen: the same PURLs (aliases apart,
/// see [`ALIASES`]: cdxgen, too, names them by the alias) and every edge cdxgen gives is
/// relkit's.
#[test]
fn berry_10_packages_and_edges_are_cdxgens() {
    let file = fixture("npm/yarn-prettier-4f84a93/yarn.lock");
    let text = std::fs::read_to_string(&file).unwrap();
    let c = catalog(&file);
    let Some(doc) = crate::common::cdxgen_bom(&file) else {
        return;
    };
    let ours: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| !p.local)
        .map(|p| p.purl.clone())
        .collect();
    let theirs: BTreeSet<String> = canonical(&bom_purls(&doc))
        .iter()
        .map(|p| unalias(p, &text))
        .collect();
    let only_ours: Vec<_> = ours.difference(&theirs).collect();
    let only_cdxgen: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        only_ours.is_empty() && only_cdxgen.is_empty(),
        "only relkit {only_ours:?}, only cdxgen {only_cdxgen:?}"
    );
    let their_edges: BTreeSet<(String, String)> = bom_edges(&doc)
        .into_iter()
        .map(|(a, b)| (unalias(&a, &text), unalias(&b, &text)))
        .collect();
    assert!(their_edges.len() > 1000);
    let our_edges = catalog_edges(&c);
    // cdxgen merges the root workspace (`prettier@workspace:.`, version 0.0.0-use.local) with
    // the registry prettier 3.9.6 the lockfile also holds: its edges from that PURL are the
    // workspace's. And it gives function-once the dependencies of the fsevents `patch:` entries
    // just above it in the file: function-once's own entry has none.
    let root = c
        .packages
        .iter()
        .find(|p| p.local && p.name == "prettier")
        .unwrap();
    assert!(text.contains("\"function-once@npm:^3.0.1\":\n  version: 3.0.1\n  resolution: \"function-once@npm:3.0.1\"\n  checksum:"));
    let missing: Vec<_> = their_edges
        .iter()
        .filter(|(a, _)| a != "pkg:npm/function-once@3.0.1")
        .map(|(a, b)| match a.as_str() {
            "pkg:npm/prettier@3.9.6" if our_edges.contains(&(root.purl.clone(), b.clone())) => {
                (root.purl.clone(), b.clone())
            }
            _ => (a.clone(), b.clone()),
        })
        .filter(|e| !our_edges.contains(e))
        // remark-parse's `trim: npm:0.0.1` has no entry (package.json's `resolutions`
        // replaced it); cdxgen takes the one trim there is, relkit reports it (a warning).
        .filter(|(a, b)| {
            !(a == "pkg:npm/remark-parse@8.0.3"
                && b.starts_with("pkg:npm/trim@")
                && c.warnings
                    .iter()
                    .any(|w| w.contains("depends on \"trim@npm:0.0.1\"")))
        })
        .collect();
    assert!(missing.is_empty(), "edges only cdxgen gives {missing:?}");
}
