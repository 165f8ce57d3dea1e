//! `relkit sbom generate DIR` on a tree holding real lockfiles of nine ecosystems (copied from
//! relkit-catalog's fixtures, each from a real project, origins in their ATTRIBUTION.md) lists
//! every package that Trivy (`trivy fs`) and cdxgen (`cdxgen -r --no-install-deps`) list from
//! the same tree, with the same Package URL — the differences that remain are explained and
//! checked one by one below, never dropped wholesale:
//! - Trivy names an npm alias (`"string-width-cjs": "npm:string-width@4.2.3"`) by the alias;
//!   relkit by the package it resolves to (what advisories name): such a PURL must be the
//!   alias of a relkit package, and the lockfile must declare the alias.
//! - cdxgen writes Go module versions with their `v` (`@v1.0.10`); relkit, Trivy and the Go
//!   vulnerability database's OSV records write `1.0.10`.
//! - cdxgen adds a component for each directory it scans (`pkg:npm/DIR`, `pkg:pypi/DIR@latest`):
//!   not a dependency, explained when the name is a directory of the tree.
//! - cdxgen lists Gemfile.lock `DEPENDENCIES` that have no resolved spec (platform-only gems
//!   such as `wdm`, `tzinfo-data`) without a version; relkit does not guess one and warns,
//!   naming each.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The fixture directories copied into the tree, by ecosystem.
const FIXTURES: [&str; 12] = [
    "cargo/ripgrep-fee7ac79",
    "npm/json-server-89c714c",
    "npm/yarn-prettier-4f84a93",
    "npm/pnpm-vue-core-ca9920c",
    "python/poetry",
    "python/pipenv",
    "go/fzf",
    "ruby/rails-2a2db1e",
    "ruby/devise-7ca7ed9",
    "php/composer-eba7baa",
    "dotnet/bicep-client",
    "java/reflection-util",
];

#[test]
fn sbom_of_a_tree_lists_every_package_trivy_and_cdxgen_list() {
    let Some(trivy) = relkit_testkit::trivy() else {
        return;
    };
    let Some(cdxgen) = relkit_testkit::oracle("cdxgen") else {
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-catalog/tests/fixtures");
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    for f in FIXTURES {
        relkit_testkit::copy_dir(&fixtures.join(f), &tree.join(f));
    }
    let lockfile_text: String = walkdir_text(&tree);

    let ours = work.path().join("relkit.cdx.json");
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["sbom", "generate"])
        .arg(&tree)
        .arg("-o")
        .arg(format!("cyclonedx-json={}", ours.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warnings = String::from_utf8_lossy(&out.stderr).into_owned();
    let ours = purls(&ours);

    let trivy_out = work.path().join("trivy.cdx.json");
    relkit_testkit::run_ok(
        Command::new(&trivy)
            .args([
                "fs",
                "--format",
                "cyclonedx",
                "--offline-scan",
                "--skip-db-update",
                "-q",
            ])
            .arg("--cache-dir")
            .arg(work.path().join("trivy-cache"))
            .arg("-o")
            .arg(&trivy_out)
            .arg(&tree),
    );
    let theirs = purls(&trivy_out);
    assert!(
        theirs.len() > 1500,
        "Trivy listed {} packages",
        theirs.len()
    );
    let missing: Vec<&String> = theirs
        .iter()
        .filter(|p| !ours.contains(*p))
        .filter(|p| !is_npm_alias(p, &ours, &lockfile_text))
        .collect();
    assert!(
        missing.is_empty(),
        "Trivy lists, relkit does not: {missing:?}"
    );

    let cdxgen_out = work.path().join("cdxgen.cdx.json");
    relkit_testkit::run_ok(
        Command::new(&cdxgen)
            .args(["-r", "--no-install-deps", "-o"])
            .arg(&cdxgen_out)
            .arg(&tree)
            .env("FETCH_LICENSE", "false")
            .env("CDXGEN_DEBUG_MODE", ""),
    );
    let theirs = purls(&cdxgen_out);
    assert!(
        theirs.len() > 2000,
        "cdxgen listed {} packages",
        theirs.len()
    );
    let missing: Vec<&String> = theirs
        .iter()
        .filter(|p| !ours.contains(*p) && !ours.contains(&go_without_v(p)))
        .filter(|p| !is_scanned_directory(p, &tree))
        .filter(|p| !is_unresolved_gem(p, &warnings))
        .collect();
    assert!(
        missing.is_empty(),
        "cdxgen lists, relkit does not: {missing:?}"
    );
    assert!(ours.len() > 2500, "relkit listed {}", ours.len());
}

/// Every PURL of a CycloneDX document's components (nested ones too), percent-decoded.
fn purls(path: &Path) -> BTreeSet<String> {
    fn walk(cs: &serde_json::Value, out: &mut BTreeSet<String>) {
        for c in cs.as_array().into_iter().flatten() {
            if let Some(p) = c["purl"].as_str() {
                out.insert(decode(p));
            }
            walk(&c["components"], out);
        }
    }
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    walk(&doc["components"], &mut out);
    // relkit nests the project's own packages (workspace members) in the top component.
    walk(&doc["metadata"]["component"]["components"], &mut out);
    out
}

fn decode(p: &str) -> String {
    p.replace("%40", "@")
        .replace("%2B", "+")
        .replace("%2b", "+")
}

/// `pkg:npm/string-width-cjs@4.2.3` when relkit has `pkg:npm/string-width@4.2.3` and a
/// lockfile says `npm:string-width@4.2.3`.
fn is_npm_alias(p: &str, ours: &BTreeSet<String>, lockfiles: &str) -> bool {
    let Some((name, version)) = p.strip_prefix("pkg:npm/").and_then(|r| r.rsplit_once('@')) else {
        return false;
    };
    ours.iter()
        .filter_map(|o| o.strip_prefix("pkg:npm/")?.rsplit_once('@'))
        .any(|(real, v)| {
            // yarn: `"react-is-18@npm:react-is@^18.3.1"`, pnpm: `string-width-cjs: /string-width@4.2.3`.
            v == version
                && name.starts_with(&format!("{real}-"))
                && (lockfiles.contains(&format!("{name}@npm:{real}@"))
                    || lockfiles.contains(&format!("{name}: /{real}@{version}")))
        })
}

/// cdxgen's `pkg:golang/M@v1.2.3` as relkit and Trivy write it (`@1.2.3`).
fn go_without_v(p: &str) -> String {
    match p
        .strip_prefix("pkg:golang/")
        .and_then(|r| r.rsplit_once("@v"))
    {
        Some((module, version)) => format!("pkg:golang/{module}@{version}"),
        None => p.to_string(),
    }
}

/// cdxgen's component for a scanned directory: no version (or `latest`), named like a
/// directory of the tree.
fn is_scanned_directory(p: &str, tree: &Path) -> bool {
    let rest = p.split_once('/').map_or("", |(_, r)| r);
    let (name, version) = rest.rsplit_once('@').unwrap_or((rest, ""));
    (version.is_empty() || version == "latest")
        && FIXTURES
            .iter()
            .chain(["tree"].iter())
            .any(|f| f.rsplit('/').next() == Some(name) || tree.ends_with(name))
}

/// A gem without version that relkit warned about by name.
fn is_unresolved_gem(p: &str, warnings: &str) -> bool {
    p.strip_prefix("pkg:gem/")
        .filter(|name| !name.contains('@'))
        .is_some_and(|name| warnings.contains(&format!("{name:?}")))
}

/// The text of every file under `dir` (lockfiles, for alias declarations).
fn walkdir_text(dir: &Path) -> String {
    let mut text = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                text.push_str(&t);
            }
        }
    }
    text
}

/// The SPDX SBOM of a tree of real lockfiles (crates.io crates, npm tarballs, PyPI, Go
/// modules, the workspace's own crates) is valid for pyspdxtools (PyPI spdx-tools, the SPDX
/// project's validator) and for `relkit sbom check`: every download location is one SPDX
/// accepts (Cargo.lock names the registry index, `registry+https://…`, which is not; relkit
/// writes the crate's crates.io download URL instead, and NOASSERTION where the lockfile
/// names no downloadable source).
#[test]
fn sbom_of_a_lockfile_tree_is_valid_spdx() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-catalog/tests/fixtures");
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    for f in [
        "cargo/ripgrep-709ca91f",
        "npm/json-server-89c714c",
        "python/poetry",
        "go/fzf",
    ] {
        relkit_testkit::copy_dir(&fixtures.join(f), &tree.join(f));
    }
    let spdx = work.path().join("tree.spdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(&tree)
            .arg("-o")
            .arg(format!("spdx-json={}", spdx.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let regex = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "regex")
        .unwrap();
    assert_eq!(
        regex["downloadLocation"],
        format!(
            "https://crates.io/api/v1/crates/regex/{}/download",
            regex["versionInfo"].as_str().unwrap()
        )
    );
    let check = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["sbom", "check"])
        .arg(&spdx)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    relkit_testkit::pyspdxtools_accepts(&spdx);
}

/// `--exclude` leaves a path out of the whole pass (files and lockfiles), a lockfile under
/// `vendor/` is a vendored copy, and `--no-dev` drops what npm marks `dev` (json-server's real
/// package-lock: `npm ls --omit=dev` lists the same non-dev set, checked by relkit-catalog's
/// npm tests).
#[test]
fn exclude_vendored_and_no_dev() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-catalog/tests/fixtures");
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    relkit_testkit::copy_dir(&fixtures.join("cargo/ripgrep-fee7ac79"), &tree);
    relkit_testkit::copy_dir(
        &fixtures.join("npm/json-server-89c714c"),
        &tree.join("vendor/json-server"),
    );
    let generate = |extra: &[&str]| -> serde_json::Value {
        let out = work.path().join("out.spdx.json");
        relkit_testkit::run_ok(
            Command::new(env!("CARGO_BIN_EXE_relkit"))
                .args(["-q", "sbom", "generate"])
                .arg(&tree)
                .args(extra)
                .arg("-o")
                .arg(format!("spdx-json={}", out.display())),
        );
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
    };
    let npm = |doc: &serde_json::Value| -> Vec<serde_json::Value> {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["externalRefs"].as_array().into_iter().flatten().any(|r| {
                    r["referenceLocator"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("pkg:npm/")
                })
            })
            .cloned()
            .collect()
    };
    let all = generate(&[]);
    let all_npm = npm(&all);
    assert!(all_npm.len() > 100, "{} npm packages", all_npm.len());
    assert!(
        all_npm.iter().all(|p| p["comment"]
            .as_str()
            .unwrap()
            .contains("vendored copy under vendor/")),
        "lockfile packages under vendor/ are marked vendored"
    );
    let no_dev = npm(&generate(&["--no-dev"]));
    assert!(!no_dev.is_empty() && no_dev.len() < all_npm.len());
    assert!(
        no_dev
            .iter()
            .all(|p| !p["comment"].as_str().unwrap().contains("dev scope"))
    );
    let excluded = generate(&["--exclude", "./vendor/**"]);
    assert!(npm(&excluded).is_empty());
    assert!(
        excluded["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["fileName"].as_str().unwrap().contains("vendor/"))
    );
}
