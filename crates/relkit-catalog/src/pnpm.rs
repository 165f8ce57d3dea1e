//! `pnpm-lock.yaml`, lockfile versions 5.x (pnpm 5–7), 6.x (pnpm 8) and 9.0 (pnpm 9+):
//! - 5.x: `packages` keyed `/name/version_peers`, importers' dependencies as `name: version`
//!   (a single project's at the top level, without `importers`);
//! - 6.x: keys `/name@version(peer@x)`, importers' dependencies as `{specifier, version}`;
//! - 9.0: `packages` (keyed `name@version`: resolution, metadata) and `snapshots` (keyed
//!   `name@version(peers)`: one per installed instance, with its dependencies).
//!
//! One package per installed instance (a package resolved with different peers is installed
//! twice and listed twice, like a nested copy in `package-lock.json`), plus one local package
//! per importer (the workspace's projects, [`Package::local`]; named after the name other
//! importers link them by, else after their directory) with edges to its direct dependencies.
//!
//! Scopes: 5.x and 6.x mark instances `dev: true` (development only) or `dev: false` (run
//! time; no `dev` key means both, so run time) and `optional: true`; 9.0 has no `dev` key,
//! so an instance reachable from an importer's `dependencies` / `optionalDependencies` is run
//! time, one reachable only from `devDependencies` is [`Scope::Dev`]; `optional: true` →
//! [`Scope::Optional`] in every version.
//!
//! Not read, and why: `source` of registry packages — pnpm records only their integrity, not
//! the registry URL (tarball URLs and git repositories are given when recorded);
//! `peerDependencies` — the resolved peers are already in each instance's `dependencies`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};

use crate::js::{npm_package, split_descriptor, sri, yaml_scalar as scalar};
use crate::{Catalog, Cataloger, Error, Scope, invalid};

/// Reads `pnpm-lock.yaml` lockfile versions 5.x, 6.x and 9.0.
pub struct PnpmLock;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Era {
    V5,
    V6,
    V9,
}

impl Cataloger for PnpmLock {
    fn kind(&self) -> &'static str {
        "pnpm-lock.yaml"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "pnpm-lock.yaml"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let doc: Mapping = serde_yaml_ng::from_slice(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "pnpm-lock.yaml",
            source: e.into(),
        })?;
        let version = doc.get("lockfileVersion").map(scalar).unwrap_or_default();
        let era = match version.split('.').next() {
            Some("5") => Era::V5,
            Some("6") => Era::V6,
            Some("9") => Era::V9,
            _ => {
                return Err(Error::UnsupportedVersion {
                    file: file.to_string(),
                    format: "pnpm-lock.yaml",
                    version: if version.is_empty() {
                        "(none)".into()
                    } else {
                        version
                    },
                    supported: "lockfileVersion 5.x, 6.x and 9.0",
                });
            }
        };
        let mut catalog = read(file, &doc, era)?;
        catalog.format = format!("pnpm-lock.yaml v{version}");
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

/// One installed instance (5.x/6.x `packages`, 9.0 `snapshots`) or 9.0 package metadata.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: Option<String>,
    version: Option<Value>,
    resolution: Option<Resolution>,
    dev: Option<bool>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default, Clone)]
struct Resolution {
    integrity: Option<String>,
    tarball: Option<String>,
    repo: Option<String>,
    commit: Option<String>,
}

/// An importer's direct dependencies: (name, version or reference, kind).
struct Direct {
    name: String,
    reference: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prod,
    Optional,
    Dev,
}

fn read(file: &str, doc: &Mapping, era: Era) -> Result<Catalog, Error> {
    let mut catalog = Catalog {
        file: file.to_string(),
        ..Catalog::default()
    };
    // Importers: the workspace's projects (a single project's lists are at the top level).
    let importers: Vec<(String, Vec<Direct>)> = match doc.get("importers") {
        Some(Value::Mapping(m)) => m
            .iter()
            .map(|(id, v)| Ok((scalar(id), directs(file, &scalar(id), v)?)))
            .collect::<Result<_, Error>>()?,
        Some(_) => return Err(invalid(file, "importers", "not a mapping")),
        None => vec![(
            ".".to_string(),
            directs(file, ".", &Value::Mapping(doc.clone()))?,
        )],
    };
    let instances_key = if era == Era::V9 {
        "snapshots"
    } else {
        "packages"
    };
    let instances = entries(file, doc, instances_key)?;
    let metadata = if era == Era::V9 {
        entries(file, doc, "packages")?
    } else {
        Vec::new()
    };
    let meta_index: HashMap<&str, &Entry> = metadata.iter().map(|(k, e)| (k.as_str(), e)).collect();

    let mut index: HashMap<&str, usize> = HashMap::new();
    for (key, e) in &instances {
        let place = format!("{instances_key}[{key:?}]");
        let base = base_key(key, era);
        let meta = meta_index.get(base).copied();
        let (name, version) = name_version(file, &place, key, era, e, meta)?;
        let scope = match (era, e.dev, e.optional) {
            (_, Some(true), _) => Scope::Dev,
            (_, _, true) => Scope::Optional,
            _ => Scope::Required,
        };
        let mut p = npm_package(file, &place, &name, &version, scope, false)?;
        let resolution = meta
            .and_then(|m| m.resolution.clone())
            .or_else(|| e.resolution.clone())
            .unwrap_or_default();
        p.checksums = sri(
            file,
            &place,
            resolution.integrity.as_deref().unwrap_or_default(),
        )?;
        p.source = match (resolution.tarball, resolution.repo, resolution.commit) {
            (Some(t), _, _) if !t.starts_with("file:") => Some(t),
            (_, Some(repo), Some(commit)) => Some(format!("{repo}#{commit}")),
            _ => None,
        };
        index.insert(key, catalog.packages.len());
        catalog.packages.push(p);
    }

    // One local package per importer, named by the links that point at it.
    let names = importer_names(&importers);
    let mut importer_index: HashMap<&str, usize> = HashMap::new();
    for (id, _) in &importers {
        let name = names
            .get(id.as_str())
            .cloned()
            .unwrap_or_else(|| default_name(file, id));
        let place = format!("importers[{id:?}]");
        importer_index.insert(id, catalog.packages.len());
        catalog
            .packages
            .push(npm_package(file, &place, &name, "", Scope::Required, true)?);
    }

    let resolve = |name: &str, reference: &str| -> Option<usize> {
        candidates(name, reference, era)
            .iter()
            .find_map(|c| index.get(c.as_str()).copied())
    };
    // Importers → their direct dependencies; 9.0's scopes from what each kind reaches.
    let mut roots: Vec<(usize, Kind)> = Vec::new();
    for (id, directs) in &importers {
        let from = importer_index[id.as_str()];
        for d in directs {
            let to = if let Some(path) = d.reference.strip_prefix("link:") {
                importer_index.get(join(id, path).as_str()).copied()
            } else {
                resolve(&d.name, &d.reference)
            };
            match to {
                Some(to) => {
                    catalog.edges.push((from, to));
                    roots.push((to, d.kind));
                }
                None if d.reference.starts_with("link:") || d.kind == Kind::Optional => {}
                None => catalog.warnings.push(format!(
                    "{file}: importers[{id:?}]: dependency {:?} {} is not in the lockfile",
                    d.name, d.reference
                )),
            }
        }
    }
    for (key, e) in &instances {
        let from = index[key.as_str()];
        let lists = [(&e.dependencies, false), (&e.optional_dependencies, true)];
        for (list, optional) in lists {
            for (dep, reference) in list {
                let reference = scalar(reference);
                if reference.starts_with("link:") {
                    continue;
                }
                match resolve(dep, &reference) {
                    Some(to) => catalog.edges.push((from, to)),
                    None if optional => {}
                    None => catalog.warnings.push(format!(
                        "{file}: {instances_key}[{key:?}]: dependency {dep:?} {reference} is not in the lockfile"
                    )),
                }
            }
        }
    }
    if era == Era::V9 {
        dev_by_reach(&mut catalog, &roots);
    }
    Ok(catalog)
}

/// 9.0: instances reachable only from importers' `devDependencies` are development-only.
fn dev_by_reach(catalog: &mut Catalog, roots: &[(usize, Kind)]) {
    let mut adjacency: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(a, b) in &catalog.edges {
        if !catalog.packages[a].local {
            adjacency.entry(a).or_default().push(b);
        }
    }
    let reach = |kinds: &[Kind]| {
        let mut seen = vec![false; catalog.packages.len()];
        let mut queue: VecDeque<usize> = roots
            .iter()
            .filter(|(_, k)| kinds.contains(k))
            .map(|&(i, _)| i)
            .collect();
        while let Some(i) = queue.pop_front() {
            if !std::mem::replace(&mut seen[i], true) {
                queue.extend(adjacency.get(&i).into_iter().flatten());
            }
        }
        seen
    };
    let run_time = reach(&[Kind::Prod, Kind::Optional]);
    let dev = reach(&[Kind::Dev]);
    for (i, p) in catalog.packages.iter_mut().enumerate() {
        if !p.local && dev[i] && !run_time[i] {
            p.scope = Scope::Dev;
        }
    }
}

/// A mapping section as (key, entry) pairs in file order (empty when absent).
fn entries(file: &str, doc: &Mapping, section: &str) -> Result<Vec<(String, Entry)>, Error> {
    let Some(value) = doc.get(section) else {
        return Ok(Vec::new());
    };
    let Value::Mapping(map) = value else {
        return if value.is_null() {
            Ok(Vec::new())
        } else {
            Err(invalid(file, section, "not a mapping"))
        };
    };
    map.iter()
        .map(|(k, v)| {
            let key = scalar(k);
            let e = if v.is_null() {
                Entry::default()
            } else {
                Entry::deserialize(v)
                    .map_err(|err| invalid(file, format!("{section}[{key:?}]"), err.to_string()))?
            };
            Ok((key, e))
        })
        .collect()
}

/// An importer's direct dependencies (5.x: `name: version`; 6.x+: `name: {specifier, version}`).
fn directs(file: &str, id: &str, importer: &Value) -> Result<Vec<Direct>, Error> {
    let mut out = Vec::new();
    let kinds = [
        ("dependencies", Kind::Prod),
        ("optionalDependencies", Kind::Optional),
        ("devDependencies", Kind::Dev),
    ];
    for (section, kind) in kinds {
        let Some(Value::Mapping(map)) = importer.get(section) else {
            continue;
        };
        for (name, value) in map {
            let reference = match value {
                Value::Mapping(m) => m.get("version").map(scalar).unwrap_or_default(),
                other => scalar(other),
            };
            if reference.is_empty() {
                let place = format!("importers[{id:?}].{section}.{}", scalar(name));
                return Err(invalid(file, place, "no version"));
            }
            out.push(Direct {
                name: scalar(name),
                reference,
                kind,
            });
        }
    }
    Ok(out)
}

/// The names importers are linked by (`name: link:../shared` from `packages/x`).
fn importer_names(importers: &[(String, Vec<Direct>)]) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for (id, directs) in importers {
        for d in directs {
            if let Some(path) = d.reference.strip_prefix("link:") {
                names
                    .entry(join(id, path))
                    .or_insert_with(|| d.name.clone());
            }
        }
    }
    names
}

/// An importer nobody links to: its directory's name (the lockfile's for `.`).
fn default_name(file: &str, id: &str) -> String {
    let dir = if id == "." {
        file.rsplit(['/', '\\']).nth(1).unwrap_or(".")
    } else {
        id.rsplit('/').next().unwrap_or(id)
    };
    dir.to_string()
}

/// `base` joined with the relative `path`, normalized like pnpm's importer ids.
fn join(base: &str, path: &str) -> String {
    let mut parts: Vec<&str> = base
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The instance keys a dependency reference may name, most specific first.
fn candidates(name: &str, reference: &str, era: Era) -> Vec<String> {
    let mut out = Vec::new();
    match era {
        Era::V5 if !reference.starts_with('/') => out.push(format!("/{name}/{reference}")),
        Era::V6 if !reference.starts_with('/') => out.push(format!("/{name}@{reference}")),
        Era::V9 => out.push(format!("{name}@{reference}")),
        _ => {}
    }
    out.push(reference.to_string());
    out
}

/// A key without its peer suffix (`_peer@1` in 5.x, `(peer@1)` in 6.x and 9.0).
fn base_key(key: &str, era: Era) -> &str {
    match era {
        Era::V5 => key,
        Era::V6 | Era::V9 => key.split('(').next().unwrap_or(key),
    }
}

/// An instance's name and version: the entry's own `name`/`version` (non-registry
/// packages), else parsed from the key.
fn name_version(
    file: &str,
    place: &str,
    key: &str,
    era: Era,
    e: &Entry,
    meta: Option<&Entry>,
) -> Result<(String, String), Error> {
    let own_name = e.name.clone().or_else(|| meta.and_then(|m| m.name.clone()));
    let own_version = e
        .version
        .as_ref()
        .or_else(|| meta.and_then(|m| m.version.as_ref()))
        .map(scalar);
    let parsed = match era {
        Era::V5 => key.strip_prefix('/').and_then(|k| {
            let cut = if k.starts_with('@') { 2 } else { 1 };
            let mut parts = k.splitn(cut + 1, '/');
            let name: Vec<&str> = parts.by_ref().take(cut).collect();
            let version = parts.next()?.split('_').next()?;
            Some((name.join("/"), version.to_string()))
        }),
        Era::V6 | Era::V9 => {
            let k = base_key(key, era);
            let k = k.strip_prefix('/').unwrap_or(k);
            split_descriptor(k).map(|(n, v)| (n.to_string(), v.to_string()))
        }
    };
    match (own_name, own_version, parsed) {
        (Some(n), Some(v), _) => Ok((n, v)),
        (Some(n), None, Some((_, v))) => Ok((n, v)),
        (None, Some(v), Some((n, _))) => Ok((n, v)),
        (None, None, Some((n, v))) => Ok((n, v)),
        _ => Err(invalid(
            file,
            place,
            "no package name and version in the key or the entry",
        )),
    }
}
