//! Which packages of a `Cargo.lock` are the workspace's own, from the `Cargo.toml` beside it.
//!
//! A lockfile lists every package without a `source` alike: the workspace's members and the
//! path dependencies that are not members (a crate in a sibling checkout, `../outside`). Only
//! the manifests tell them apart, by Cargo's own rules (checked against `cargo metadata`'s
//! `workspace_members` in the tests):
//! - with a `[workspace]` table, the members are the root package (when the root manifest has
//!   a `[package]`), every directory a `members` entry names (glob patterns allowed, as Cargo's
//!   `glob` reads them: `*` within one path component), and — recursively — every path
//!   dependency (of any kind and target) that lies inside the workspace root; a directory
//!   `exclude` names, or one below it, is never a member;
//! - without one, the root package is the only member: its path dependencies, even in
//!   subdirectories, are dependencies like any other.
//!
//! Members are matched by package name: a lockfile names path packages by name and version,
//! and a member's version may be inherited from `[workspace.package]`.

use std::collections::{BTreeSet, VecDeque};

use crate::{Catalog, Error};

/// Where the manifests of a tree are read from: a directory on disk, or the files a tree
/// walker kept.
pub trait Manifests {
    /// The bytes of the file at this `/`-separated path relative to the tree, if present.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// The directories at or below `dir` (`""` for the tree's root) that hold a `Cargo.toml`,
    /// as `/`-separated relative paths without a trailing slash.
    fn manifest_dirs(&self, dir: &str) -> Vec<String>;
}

/// A workspace read from its root manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    /// The root manifest's path (`dir/Cargo.toml`).
    pub manifest: String,
    /// The package names of its members.
    pub members: BTreeSet<String>,
}

/// The workspace whose root manifest is `dir/Cargo.toml` (`dir` relative to the tree, `""` for
/// its root), or `None` when there is no such file. A manifest that is not valid TOML, or a
/// member without a readable manifest, is an error naming the file.
pub fn workspace(dir: &str, files: &dyn Manifests) -> Result<Option<Workspace>, Error> {
    let manifest = join(dir, "Cargo.toml");
    let Some(root) = read_manifest(&manifest, files)? else {
        return Ok(None);
    };
    let mut ws = Workspace {
        manifest: manifest.clone(),
        members: BTreeSet::new(),
    };
    let Some(table) = root.get("workspace").and_then(toml::Value::as_table) else {
        ws.members.extend(package_name(&manifest, &root)?);
        return Ok(Some(ws));
    };
    let strings = |key: &str| -> Result<Vec<String>, Error> {
        match table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        crate::invalid(&manifest, format!("workspace.{key}"), "not a string")
                    })
                })
                .collect(),
            Some(_) => Err(crate::invalid(
                &manifest,
                format!("workspace.{key}"),
                "not an array",
            )),
        }
    };
    let excluded: Vec<String> = strings("exclude")?
        .iter()
        .filter_map(|e| normalize(&join(dir, e)))
        .collect();
    let is_excluded = |d: &str| {
        excluded
            .iter()
            .any(|e| d == e || d.starts_with(&format!("{e}/")))
    };
    let mut queue: VecDeque<String> = VecDeque::new();
    if root.get("package").is_some() {
        queue.push_back(dir.to_string());
    }
    let candidates = files.manifest_dirs(dir);
    for pattern in strings("members")? {
        let Some(full) = normalize(&join(dir, &pattern)) else {
            continue;
        };
        let glob = globset::GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                crate::invalid(
                    &manifest,
                    "workspace.members",
                    format!("{pattern:?} is not a glob pattern: {e}"),
                )
            })?
            .compile_matcher();
        queue.extend(candidates.iter().filter(|c| glob.is_match(c)).cloned());
    }
    let mut seen = BTreeSet::new();
    while let Some(member) = queue.pop_front() {
        if is_excluded(&member) || !seen.insert(member.clone()) {
            continue;
        }
        let path = join(&member, "Cargo.toml");
        let m = if member == dir {
            root.clone()
        } else {
            read_manifest(&path, files)?.ok_or_else(|| {
                crate::invalid(&manifest, "workspace", format!("member {path} is missing"))
            })?
        };
        ws.members.extend(package_name(&path, &m)?);
        for dep in path_dependencies(&m) {
            let Some(target) = normalize(&join(&member, &dep)) else {
                continue;
            };
            if dir.is_empty() || target == dir || target.starts_with(&format!("{dir}/")) {
                queue.push_back(target);
            }
        }
    }
    Ok(Some(ws))
}

/// Marks which path packages of `catalog` (read from the `Cargo.lock` beside `ws.manifest`)
/// are the workspace's own; the others are dependencies, said in a warning each.
pub fn mark_own(catalog: &mut Catalog, ws: &Workspace) {
    for p in catalog.packages.iter_mut().filter(|p| p.source.is_none()) {
        p.local = ws.members.contains(&p.name);
        if !p.local {
            catalog.warnings.push(format!(
                "{}: package {} {} is a path dependency outside the workspace of {}",
                catalog.file, p.name, p.version, ws.manifest
            ));
        }
    }
    catalog.format = format!("{} + Cargo.toml", catalog.format);
}

/// Says, on a `Cargo.lock` read without its manifest, that every path package was taken to be
/// the project's own.
pub fn no_manifest(catalog: &mut Catalog) {
    if catalog.packages.iter().any(|p| p.source.is_none()) {
        catalog.warnings.push(format!(
            "{}: no Cargo.toml beside it: every package without a source is taken as the \
             project's own (path dependencies outside the workspace cannot be told apart)",
            catalog.file
        ));
    }
}

fn read_manifest(path: &str, files: &dyn Manifests) -> Result<Option<toml::Table>, Error> {
    let Some(bytes) = files.read(path) else {
        return Ok(None);
    };
    let syntax = |source: Box<dyn std::error::Error + Send + Sync>| Error::Syntax {
        file: path.to_string(),
        format: "Cargo.toml",
        source,
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| syntax(e.into()))?;
    toml::from_str(text).map(Some).map_err(|e| syntax(e.into()))
}

fn package_name(path: &str, manifest: &toml::Table) -> Result<Option<String>, Error> {
    let Some(package) = manifest.get("package") else {
        return Ok(None);
    };
    package
        .get("name")
        .and_then(toml::Value::as_str)
        .map(|n| Some(n.to_string()))
        .ok_or_else(|| crate::invalid(path, "package.name", "missing"))
}

/// The `path` of every dependency, of every kind, for every target.
fn path_dependencies(manifest: &toml::Table) -> Vec<String> {
    const KINDS: [&str; 5] = [
        "dependencies",
        "dev-dependencies",
        "dev_dependencies",
        "build-dependencies",
        "build_dependencies",
    ];
    let of = |t: &toml::Table| -> Vec<String> {
        KINDS
            .iter()
            .filter_map(|k| t.get(*k)?.as_table())
            .flat_map(|deps| deps.values())
            .filter_map(|d| Some(d.get("path")?.as_str()?.to_string()))
            .collect()
    };
    let mut paths = of(manifest);
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for t in targets.values().filter_map(toml::Value::as_table) {
            paths.extend(of(t));
        }
    }
    paths
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

/// Resolves `.` and `..` lexically; `None` when the path leaves the tree.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The files a tree walker kept, as [`Manifests`].
pub struct KeptFiles<'a> {
    files: &'a [(&'a str, &'a [u8])],
}

impl<'a> KeptFiles<'a> {
    /// Wraps files sorted by path.
    pub fn new(files: &'a [(&'a str, &'a [u8])]) -> KeptFiles<'a> {
        KeptFiles { files }
    }
}

impl Manifests for KeptFiles<'_> {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        // Sorted by path (`tree::catalog_files` sorts them): one lookup per manifest.
        let i = self.files.binary_search_by(|(p, _)| (*p).cmp(path)).ok()?;
        Some(self.files[i].1.to_vec())
    }

    fn manifest_dirs(&self, dir: &str) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|(p, _)| {
                let d = p.strip_suffix("Cargo.toml")?;
                let d = if d.is_empty() {
                    ""
                } else {
                    d.strip_suffix('/')?
                };
                (dir.is_empty() || d == dir || d.starts_with(&format!("{dir}/")))
                    .then(|| d.to_string())
            })
            .collect()
    }
}

/// A directory on disk as [`Manifests`]; the walk for member globs skips `target/`, hidden
/// directories and `node_modules/`, and goes at most eight levels deep.
pub struct OnDisk {
    root: std::path::PathBuf,
}

impl OnDisk {
    /// The tree rooted at `root`.
    pub fn new(root: impl Into<std::path::PathBuf>) -> OnDisk {
        OnDisk { root: root.into() }
    }
}

impl Manifests for OnDisk {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(path)).ok()
    }

    fn manifest_dirs(&self, dir: &str) -> Vec<String> {
        fn walk(base: &std::path::Path, rel: &str, depth: usize, out: &mut Vec<String>) {
            let here = if rel.is_empty() {
                base.to_path_buf()
            } else {
                base.join(rel)
            };
            if here.join("Cargo.toml").is_file() {
                out.push(rel.to_string());
            }
            if depth == 0 {
                return;
            }
            let Ok(entries) = std::fs::read_dir(&here) else {
                return;
            };
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && n != "target" && n != "node_modules")
                .collect();
            names.sort();
            for n in names {
                walk(base, &join(rel, &n), depth - 1, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.root, dir, 8, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots_and_refuses_escapes() {
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(
            normalize("crates/a/../../libs/x").as_deref(),
            Some("libs/x")
        );
        assert_eq!(normalize("../outside"), None);
    }

    #[test]
    fn a_package_without_workspace_is_its_only_member() {
        let files: Vec<(&str, &[u8])> = vec![
            (
                "Cargo.toml",
                b"[package]\nname = \"solo\"\nversion = \"1.0.0\"\n[dependencies]\nsub = { path = \"sub\" }\n",
            ),
            ("sub/Cargo.toml", b"[package]\nname = \"sub\"\nversion = \"0.1.0\"\n"),
        ];
        let ws = workspace("", &KeptFiles::new(&files)).unwrap().unwrap();
        assert_eq!(ws.members, BTreeSet::from(["solo".to_string()]));
    }

    #[test]
    fn a_malformed_manifest_is_an_error_naming_it() {
        let files: Vec<(&str, &[u8])> = vec![("x/Cargo.toml", b"[package\n")];
        let e = workspace("x", &KeptFiles::new(&files)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x/Cargo.toml: Cargo.toml is malformed")
        );
    }
}
