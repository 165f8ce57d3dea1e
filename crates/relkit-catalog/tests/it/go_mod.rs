//! `go.mod` against Trivy, and the directives Trivy's fixture does not exercise.

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error};

use crate::common::{canonical, catalog, fixture, trivy_purls};

/// fzf's `go.mod` (Go 1.20: the whole build list, direct and `// indirect`): the modules
/// Trivy lists, with the same PURLs (version without the `v`), and the main module depends
/// on its seven direct requirements only.
#[test]
fn go_mod_lists_what_trivy_lists() {
    let file = fixture("go/fzf/go.mod");
    let c = catalog(&file);
    assert_eq!(c.format, "go.mod");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.packages[0].name, "github.com/junegunn/fzf");
    assert!(c.packages[0].local);
    assert_eq!(c.dependencies_of(0).count(), 7);
    assert!(
        c.packages
            .iter()
            .any(|p| p.purl == "pkg:golang/github.com/gdamore/tcell/v2@2.8.1")
    );
    let ours: BTreeSet<String> = c
        .packages
        .iter()
        .filter(|p| !p.local)
        .map(|p| p.purl.clone())
        .collect();
    assert_eq!(ours.len(), 11);
    if let Some(theirs) = trivy_purls(&file) {
        assert_eq!(ours, canonical(&theirs));
    }
}

/// `replace` to another module is what gets built; to a directory, a local package without a
/// version; unknown directives and a missing `module` are located errors.
#[test]
fn replace_directives_and_bad_files() {
    let text = b"module example.com/app\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/net v0.20.0\n\texample.com/lib v1.0.0 // indirect\n)\n\nreplace golang.org/x/net => github.com/fork/net v0.21.0\nreplace example.com/lib v1.0.0 => ../lib\n";
    let c = relkit_catalog::GoMod.catalog("go.mod", text).unwrap();
    assert_eq!(c.packages[0].purl, "pkg:golang/example.com/app");
    assert_eq!(c.packages[1].purl, "pkg:golang/github.com/fork/net@0.21.0");
    assert_eq!(c.packages[2].purl, "pkg:golang/example.com/lib");
    assert!(c.packages[2].local && c.packages[2].version.is_empty());
    assert_eq!(
        c.dependencies_of(0).count(),
        1,
        "the indirect one is not a direct edge"
    );
    let err = relkit_catalog::GoMod
        .catalog("x/go.mod", b"go 1.22\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("x/go.mod: module: missing"),
        "{err}"
    );
    let err = relkit_catalog::GoMod
        .catalog("x/go.mod", b"module m\nrequire golang.org/x/net\n")
        .unwrap_err();
    assert!(
        matches!(err, Error::Invalid { .. }) && err.to_string().contains("line 2"),
        "{err}"
    );
    let err = relkit_catalog::GoMod
        .catalog("x/go.mod", b"module m\nfrobnicate x\n")
        .unwrap_err();
    assert!(err.to_string().contains("unknown directive"), "{err}");
}
