//! An installed environment: real manylinux wheels unpacked side by side, as `pip install
//! --target` lays them out (`.ci/deps.d/57-pep770-wheels.sh`). `relkit sbom generate DIR`
//! finds every distribution (its dist-info) and, in the native binaries of the tree, the
//! libraries the wheels vendor (`pillow.libs/`, `psycopg2_binary.libs/`), each contained in its
//! distribution — the same libraries, with the same versions, as the wheels given one by one
//! (whose versions crates/relkit/tests/it/cli_sbom_pep770.rs checks against the libraries'
//! run-time reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const WHEELS: [(&str, &str); 2] = [
    (
        "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "psycopg2-binary",
    ),
    (
        "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "pillow",
    ),
];

/// relkit's SPDX document of `input`.
fn spdx(input: &Path, out: &Path) -> serde_json::Value {
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(input)
            .arg("-o")
            .arg(format!("spdx-json={}", out.display())),
    );
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

/// (name, version) of the packages `container` CONTAINS, by the container's name.
fn contained(doc: &serde_json::Value) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let packages = doc["packages"].as_array().unwrap();
    let by_id: BTreeMap<&str, (&str, &str)> = packages
        .iter()
        .map(|p| {
            (
                p["SPDXID"].as_str().unwrap(),
                (
                    p["name"].as_str().unwrap(),
                    p["versionInfo"].as_str().unwrap_or(""),
                ),
            )
        })
        .collect();
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for r in doc["relationships"].as_array().unwrap() {
        if r["relationshipType"] != "CONTAINS" {
            continue;
        }
        let (Some(from), Some(to)) = (
            by_id.get(r["spdxElementId"].as_str().unwrap()),
            by_id.get(r["relatedSpdxElement"].as_str().unwrap()),
        ) else {
            continue;
        };
        out.entry(from.0.to_ascii_lowercase())
            .or_default()
            .insert((to.0.to_string(), to.1.to_string()));
    }
    out
}

#[test]
fn an_installed_environment_shows_each_distribution_s_vendored_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    let mut from_wheels = BTreeMap::new();
    for (file, name) in WHEELS {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        relkit_testkit::run_ok(
            Command::new("unzip")
                .arg("-q")
                .arg(&wheel)
                .arg("-d")
                .arg(&site),
        );
        // The wheel's own vendored libraries (not its PEP 770 declarations, which name the
        // build system's packages): the packages with relkit's binary evidence.
        let found: BTreeSet<(String, String)> =
            super::cli_sbom_version_unknown::vendored(&wheel, dir.path())
                .into_iter()
                .map(|(name, (version, _))| (name, version))
                .collect();
        assert!(found.len() >= 2, "{name}: {found:?}");
        from_wheels.insert(name.to_string(), found);
    }
    let doc = spdx(&site, &dir.path().join("site.spdx.json"));
    relkit_testkit::pyspdxtools_accepts(&dir.path().join("site.spdx.json"));
    let contained = contained(&doc);
    for (name, libs) in &from_wheels {
        let in_tree = contained
            .get(name)
            .unwrap_or_else(|| panic!("{name} contains nothing: {contained:?}"));
        for lib in libs {
            assert!(
                in_tree.contains(lib),
                "{name}: {lib:?} (found in the wheel) not in the installed tree: {in_tree:?}"
            );
        }
    }
    // No version is a file-name number (libpq-….so.5.17, libwebp-….so.7.2.0).
    for p in doc["packages"].as_array().unwrap() {
        let v = p["versionInfo"].as_str().unwrap_or("");
        assert!(!["5.17", "7.2.0", "16.56.0"].contains(&v), "{p}");
    }
}

/// A release's `dist/` (wheels side by side, not unpacked): each top-level wheel is read as a
/// wheel, its distribution contained in the directory's package and containing the libraries it
/// vendors — the same as each wheel given alone; the SPDX document is valid for pyspdxtools.
#[test]
fn a_directory_of_wheels_lists_each_wheel_with_its_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let mut want = BTreeMap::new();
    for (file, name) in WHEELS {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        std::fs::copy(&wheel, dist.join(file)).unwrap();
        let alone: BTreeSet<(String, String)> =
            super::cli_sbom_version_unknown::vendored(&wheel, dir.path())
                .into_iter()
                .map(|(name, (version, _))| (name, version))
                .collect();
        want.insert(name.to_string(), alone);
    }
    let out = dir.path().join("dist.spdx.json");
    let doc = spdx(&dist, &out);
    relkit_testkit::pyspdxtools_accepts(&out);
    let contained = contained(&doc);
    let top = contained
        .get("dist")
        .unwrap_or_else(|| panic!("{contained:?}"));
    for (name, libs) in &want {
        assert!(
            top.iter().any(|(n, _)| n == name),
            "dist does not contain {name}: {top:?}"
        );
        let in_dist = contained
            .get(name)
            .unwrap_or_else(|| panic!("{name} contains nothing: {contained:?}"));
        for lib in libs {
            assert!(in_dist.contains(lib), "{name}: {lib:?} not in {in_dist:?}");
        }
    }
}
