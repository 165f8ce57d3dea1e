//! NuGet `packages.lock.json` against Trivy, on three real lock files of Azure/bicep.

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error, NugetLock};

use crate::common::{canonical, catalog, fixture, trivy_purls};

/// Every NuGet package Trivy lists, with the same PURL; `Project` entries (other projects of
/// the solution, which Trivy skips) are relkit's local packages; the contentHash is carried.
#[test]
fn packages_lock_lists_what_trivy_lists() {
    for dir in [
        "dotnet/bicep-client",
        "dotnet/bicep-itemtemplate",
        "dotnet/bicep-unittests",
    ] {
        let file = fixture(&format!("{dir}/packages.lock.json"));
        let c = catalog(&file);
        assert_eq!(c.format, "packages.lock.json v1", "{dir}");
        assert!(c.warnings.is_empty(), "{dir}: {:?}", c.warnings);
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| !p.local)
            .map(|p| p.purl.clone())
            .collect();
        assert!(
            c.packages
                .iter()
                .filter(|p| !p.local)
                .all(|p| p.checksums.len() == 1)
        );
        if let Some(theirs) = trivy_purls(&file) {
            assert_eq!(ours, canonical(&theirs), "{dir}");
        }
    }
    let c = catalog(&fixture("dotnet/bicep-unittests/packages.lock.json"));
    let project = c
        .packages
        .iter()
        .position(|p| p.name == "bicep.vslanguageserverclient")
        .unwrap();
    assert!(c.packages[project].local && c.packages[project].version.is_empty());
    assert!(
        c.dependencies_of(project)
            .any(|p| p.purl == "pkg:nuget/MessagePack@3.1.7")
    );
}

/// Unknown lock versions and types are errors naming the file and the place; a dependency
/// the framework's graph does not resolve is a warning.
#[test]
fn bad_lock_files() {
    let err = NugetLock
        .catalog("p/packages.lock.json", br#"{"version": 3}"#)
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let text = br#"{"version": 1, "dependencies": {"net8.0": {"A": {"type": "Weird", "resolved": "1.0.0"}}}}"#;
    let err = NugetLock.catalog("p/packages.lock.json", text).unwrap_err();
    assert!(
        err.to_string()
            .contains("dependencies.net8.0.A: unknown type"),
        "{err}"
    );
    let text = br#"{"version": 1, "dependencies": {"net8.0": {"A": {"type": "Direct", "resolved": "1.0.0", "dependencies": {"B": "1.0.0"}}}}}"#;
    let c = NugetLock.catalog("p/packages.lock.json", text).unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}
