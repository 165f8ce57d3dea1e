//! `Cargo.lock` v1–v4 against Trivy, and relkit's own lockfile against `cargo metadata`.

use std::collections::BTreeSet;

use relkit_catalog::{Cataloger, Error};

use crate::common::{canonical, catalog, fixture, trivy_purls};

const RIPGREP: [(&str, &str); 4] = [
    ("709ca91f", "Cargo.lock v1"),
    ("ced5b92a", "Cargo.lock v2"),
    ("fee7ac79", "Cargo.lock v3"),
    ("3fce3b5b", "Cargo.lock v4"),
];

/// Trivy lists one `pkg:cargo/NAME@VERSION` per lockfile package (the workspace's own crates
/// included); relkit must list the same, read every format version, and carry the SHA-256 of
/// every crates.io package (v1 keeps them in `[metadata]`).
#[test]
fn every_format_version_lists_what_trivy_lists_with_checksums() {
    for (commit, format) in RIPGREP {
        let file = fixture(&format!("cargo/ripgrep-{commit}/Cargo.lock"));
        let c = catalog(&file);
        assert_eq!(c.format, format);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let ours: BTreeSet<String> = c.packages.iter().map(|p| p.purl.clone()).collect();
        assert_eq!(ours.len(), c.packages.len(), "one PURL per package");
        for p in &c.packages {
            assert_eq!(p.local, p.source.is_none());
            if p.source.is_some() {
                assert_eq!(p.checksums.len(), 1, "{format}: {} has its SHA-256", p.name);
                assert_eq!(p.checksums[0].hex.len(), 64);
            }
        }
        assert!(c.packages.iter().any(|p| p.name == "ripgrep" && p.local));
        if let Some(theirs) = trivy_purls(&file) {
            // Trivy writes `+` in versions as is; the canonical form (purl-spec, relkit-ident's
            // reading of the spec's test suite) percent-encodes it: compare canonical forms.
            assert_eq!(ours, canonical(&theirs), "{format}: relkit vs trivy");
        }
    }
}

/// The dependency graph of v1 (`name version (source)`) and of v2–v4 (`name` alone when
/// unambiguous) resolve to the same edges for the same packages: ripgrep's `grep-cli` needs
/// `bstr`, `globset` and `log` in every version.
#[test]
fn dependency_strings_of_every_version_resolve() {
    for (commit, format) in RIPGREP {
        let c = catalog(&fixture(&format!("cargo/ripgrep-{commit}/Cargo.lock")));
        let cli = c
            .packages
            .iter()
            .position(|p| p.name == "grep-cli")
            .unwrap();
        let deps: BTreeSet<&str> = c.dependencies_of(cli).map(|p| p.name.as_str()).collect();
        for want in ["bstr", "globset", "log"] {
            assert!(
                deps.contains(want),
                "{format}: grep-cli -> {want}: {deps:?}"
            );
        }
        assert!(
            c.edges.len() > c.packages.len() / 2,
            "{format}: {} edges",
            c.edges.len()
        );
    }
}

/// relkit's own `Cargo.lock` against Cargo itself: the same packages and the same edges as
/// `cargo metadata --locked` (every platform), so that relkit can scan its own dependencies.
#[test]
fn relkits_own_lockfile_reads_like_cargo_metadata() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let meta = cargo_metadata(&root);
    let id_of = |id: &str| -> (String, String) {
        let p = meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap();
        (
            p["name"].as_str().unwrap().into(),
            p["version"].as_str().unwrap().into(),
        )
    };
    let mut cargo_pkgs = BTreeSet::new();
    let mut cargo_edges = BTreeSet::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let from = id_of(node["id"].as_str().unwrap());
        cargo_pkgs.insert(from.clone());
        for dep in node["deps"].as_array().unwrap() {
            cargo_edges.insert((from.clone(), id_of(dep["pkg"].as_str().unwrap())));
        }
    }
    let c = catalog(&root.join("Cargo.lock"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let nv = |i: usize| (c.packages[i].name.clone(), c.packages[i].version.clone());
    let ours: BTreeSet<_> = (0..c.packages.len()).map(nv).collect();
    let our_edges: BTreeSet<_> = c.edges.iter().map(|&(a, b)| (nv(a), nv(b))).collect();
    assert_eq!(ours, cargo_pkgs);
    assert_eq!(our_edges, cargo_edges);
    let own = c.packages.iter().filter(|p| p.local).count();
    assert_eq!(own, meta["workspace_members"].as_array().unwrap().len());
}

/// Fail closed: a lockfile version relkit does not know and a malformed file are located
/// errors; a dependency naming no package is a warning that names it, not a shorter graph
/// passed off as complete.
#[test]
fn unknown_versions_malformed_files_and_dangling_dependencies_are_said() {
    let lock = relkit_catalog::CargoLock;
    let err = lock.catalog("x/Cargo.lock", b"version = 5\n").unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("x/Cargo.lock: Cargo.lock version 5 is not supported")
    );
    let err = lock
        .catalog("x/Cargo.lock", b"version = 3\n[[package]]\nname = \"a\"\n")
        .unwrap_err();
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        cause.contains("version") && cause.contains("line"),
        "{cause}"
    );
    let c = lock
        .catalog(
            "x/Cargo.lock",
            b"version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"gone\"]\n",
        )
        .unwrap();
    assert_eq!(c.packages.len(), 1);
    assert!(c.edges.is_empty());
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].contains("\"gone\" names no package"),
        "{:?}",
        c.warnings
    );
}

/// Git and alternative-registry sources keep where they came from in the PURL.
#[test]
fn git_and_other_registry_sources_are_qualified() {
    let text = br#"version = 4
[[package]]
name = "gitdep"
version = "0.1.0"
source = "git+https://github.com/o/gitdep?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "inhouse"
version = "2.0.0"
source = "sparse+https://cargo.example.org/index/"
checksum = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
"#;
    let c = relkit_catalog::CargoLock
        .catalog("Cargo.lock", text)
        .unwrap();
    assert_eq!(
        c.packages[0].purl,
        "pkg:cargo/gitdep@0.1.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fo%2Fgitdep%400123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        c.packages[1].purl,
        "pkg:cargo/inhouse@2.0.0?repository_url=https:%2F%2Fcargo.example.org%2Findex%2F"
    );
}

/// `cargo metadata --format-version 1 --locked --offline` run in `dir`.
fn cargo_metadata(dir: &std::path::Path) -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The workspace members `cargo metadata --locked` names, as package names, for the manifest
/// in `dir` (copied to a temporary directory first, so that Cargo does not take relkit's own
/// workspace for the fixture's).
fn cargo_workspace_members(dir: &std::path::Path, copy: bool) -> BTreeSet<String> {
    let tmp = tempfile::tempdir().unwrap();
    let run_in = if copy {
        let top = dir.parent().unwrap();
        relkit_testkit::copy_dir(top, tmp.path());
        tmp.path().join(dir.strip_prefix(top).unwrap())
    } else {
        dir.to_path_buf()
    };
    let meta = cargo_metadata(&run_in);
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(p["id"].as_str().unwrap()))
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// Every file under `root` whose path the tree cataloger wants, as the tree walker gives them.
fn kept_files(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            if entry.file_type().unwrap().is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(root, &entry.path(), out);
                }
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string();
            if relkit_catalog::tree::wanted(&rel) {
                out.push((rel, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out
}

/// Which packages of a `Cargo.lock` are the workspace's own is what Cargo says
/// (`cargo metadata`'s `workspace_members`), read from the manifests beside it: a `members`
/// glob, `exclude`, path dependencies inside the workspace root (normal, dev, target-specific)
/// are members; a path dependency outside the root, and a path dependency of a package without
/// `[workspace]`, are dependencies, each said in a warning. Checked on a tree walk (relative
/// paths), on a lockfile read alone from disk, and on relkit's own workspace.
#[test]
fn own_crates_are_the_workspace_members_cargo_names() {
    let cases = [
        (fixture("cargo/workspace"), "ws", true),
        (fixture("cargo"), "solo", true),
        (
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            "",
            false,
        ),
    ];
    for (root, dir, copy) in cases {
        let lock_dir = if dir.is_empty() {
            root.clone()
        } else {
            root.join(dir)
        };
        let want = cargo_workspace_members(&lock_dir, copy);
        assert!(!want.is_empty());
        let files = if copy {
            kept_files(&root)
        } else {
            // relkit's own tree: its lockfile and the member manifests.
            let member_manifest = |p: &str| p.starts_with("crates/") && p.matches('/').count() == 2;
            kept_files(&root)
                .into_iter()
                .filter(|(p, _)| p == "Cargo.lock" || p == "Cargo.toml" || member_manifest(p))
                .collect()
        };
        let t = relkit_catalog::tree::catalog_files(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
            &|p| p.to_string(),
        );
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        let lock = if dir.is_empty() {
            "Cargo.lock".to_string()
        } else {
            format!("{dir}/Cargo.lock")
        };
        let c = t.catalogs.iter().find(|c| c.file == lock).unwrap();
        let own: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| p.local)
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(own, want, "{lock} in {}", root.display());
        // The same members when the manifests are read from disk (`relkit scan Cargo.lock`).
        let on_disk = relkit_catalog::cargo_workspace::workspace(
            "",
            &relkit_catalog::cargo_workspace::OnDisk::new(&lock_dir),
        )
        .unwrap()
        .unwrap();
        assert_eq!(on_disk.members, want, "on disk: {}", lock_dir.display());
        assert!(c.format.ends_with("+ Cargo.toml"), "{}", c.format);
        let outside: Vec<&str> = c
            .packages
            .iter()
            .filter(|p| p.source.is_none() && !p.local)
            .map(|p| p.name.as_str())
            .collect();
        for name in &outside {
            assert!(
                c.warnings
                    .iter()
                    .any(|w| w.contains(&format!("package {name} "))
                        && w.contains("path dependency outside the workspace")),
                "{:?}",
                c.warnings
            );
        }
        if dir == "ws" {
            assert_eq!(outside, ["outside"]);
        }
        if dir == "solo" {
            assert_eq!(outside, ["sub"]);
        }
    }
}
