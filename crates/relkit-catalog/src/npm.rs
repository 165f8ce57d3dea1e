//! `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1 to 3:
//! - v1 (npm 5–6): a nested `dependencies` tree; each entry's `requires` are resolved like
//!   Node does, in its own `dependencies`, then its parents', then the top level;
//! - v2 (npm 7–8, with the v1 tree kept for old npm) and v3 (npm 9+): a flat `packages` map
//!   keyed by install path (`node_modules/a/node_modules/b`); a dependency of the package at
//!   path P resolves to `P/node_modules/NAME`, else the same under each ancestor, up to the
//!   root. Workspaces appear as their directory (`packages/x`) plus a `link` entry.
//!
//! Scopes come from the lockfile's own flags: `dev` and `devOptional` → [`Scope::Dev`],
//! `optional` → [`Scope::Optional`]. A required dependency that resolves to nothing is a
//! warning; a missing optional or peer dependency is normal (npm did not install it).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use crate::{Catalog, Cataloger, Checksum, Error, Package, Scope, invalid};

/// Reads `package-lock.json` and `npm-shrinkwrap.json` v1 to v3.
pub struct PackageLock;

impl Cataloger for PackageLock {
    fn kind(&self) -> &'static str {
        "package-lock.json"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "package-lock.json" || file_name == "npm-shrinkwrap.json"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let lock: Value = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "package-lock.json",
            source: e.into(),
        })?;
        let version = match lock.get("lockfileVersion") {
            Some(Value::Number(n)) => n.as_u64(),
            None => None,
            Some(_) => Some(0),
        };
        let mut catalog = match version {
            Some(2 | 3) => from_packages(file, &lock)?,
            Some(1) => from_tree(file, &lock)?,
            _ => {
                return Err(Error::UnsupportedVersion {
                    file: file.to_string(),
                    format: "package-lock.json",
                    version: lock
                        .get("lockfileVersion")
                        .map_or("(none)".into(), Value::to_string),
                    supported: "lockfileVersion 1 to 3",
                });
            }
        };
        catalog.format = format!("{} v{}", file_kind(file), version.unwrap_or_default());
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

fn file_kind(file: &str) -> &'static str {
    if file.ends_with("npm-shrinkwrap.json") {
        "npm-shrinkwrap.json"
    } else {
        "package-lock.json"
    }
}

/// One entry of v2/v3's `packages` map or of v1's `dependencies` tree.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    peer_dependencies: BTreeMap<String, Value>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Value>,
    /// v1 only: what the entry requires (name → range).
    #[serde(default)]
    requires: BTreeMap<String, Value>,
}

impl Entry {
    fn scope(&self) -> Scope {
        if self.dev || self.dev_optional {
            Scope::Dev
        } else if self.optional {
            Scope::Optional
        } else {
            Scope::Required
        }
    }
}

fn entry(file: &str, place: &str, value: &Value) -> Result<Entry, Error> {
    Entry::deserialize(value).map_err(|e| invalid(file, place, e.to_string()))
}

/// v2/v3: the flat `packages` map.
fn from_packages(file: &str, lock: &Value) -> Result<Catalog, Error> {
    let Some(map) = lock.get("packages").and_then(Value::as_object) else {
        return Err(invalid(
            file,
            "packages",
            "missing: a v2/v3 lockfile lists its packages there",
        ));
    };
    let mut entries: Vec<(&str, Entry)> = Vec::with_capacity(map.len());
    for (path, value) in map {
        entries.push((path, entry(file, &format!("packages[{path:?}]"), value)?));
    }
    let mut catalog = Catalog {
        file: file.to_string(),
        ..Catalog::default()
    };
    // Package index of each install path; links point at their target's index.
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (path, e) in entries.iter().filter(|(_, e)| !e.link) {
        let local = path.is_empty() || !path.contains("node_modules/");
        let name = match (&e.name, path.rsplit_once("node_modules/")) {
            (Some(n), _) => n.clone(),
            (None, Some((_, n))) => n.to_string(),
            (None, None) if path.is_empty() => lock
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            (None, None) => path.rsplit('/').next().unwrap_or(path).to_string(),
        };
        let Some(version) = e.version.clone().or_else(|| local.then(String::new)) else {
            catalog.warnings.push(format!(
                "{file}: packages[{path:?}] has no version; left out"
            ));
            continue;
        };
        let place = format!("packages[{path:?}]");
        index.insert(path, catalog.packages.len());
        catalog
            .packages
            .push(package(file, &place, name, version, e, local)?);
    }
    for (path, e) in entries.iter().filter(|(_, e)| e.link) {
        if let Some(&target) = e.resolved.as_deref().and_then(|r| index.get(r)) {
            index.insert(path, target);
        }
    }
    for (path, e) in entries.iter().filter(|(_, e)| !e.link) {
        let Some(&from) = index.get(path) else {
            continue;
        };
        let own = path.is_empty() || !path.contains("node_modules/");
        for (dep, required) in declared(e, own) {
            match lookup(path, dep, &index) {
                Some(to) => catalog.edges.push((from, to)),
                None if required => catalog.warnings.push(format!(
                    "{file}: packages[{path:?}]: dependency {dep:?} is not in the lockfile"
                )),
                None => {}
            }
        }
    }
    Ok(catalog)
}

/// The names an entry depends on, with whether a missing one is a problem: regular
/// dependencies are required, optional and peer ones are not; dev dependencies count for the
/// project's own packages only (npm installs no dev dependencies of dependencies).
fn declared(e: &Entry, own: bool) -> Vec<(&str, bool)> {
    let mut out: Vec<(&str, bool)> = e.dependencies.keys().map(|k| (k.as_str(), true)).collect();
    out.extend(e.optional_dependencies.keys().map(|k| (k.as_str(), false)));
    out.extend(e.peer_dependencies.keys().map(|k| (k.as_str(), false)));
    if own {
        out.extend(e.dev_dependencies.keys().map(|k| (k.as_str(), true)));
    }
    out
}

/// Node's resolution: `P/node_modules/NAME`, then under each ancestor install path.
fn lookup(path: &str, name: &str, index: &HashMap<&str, usize>) -> Option<usize> {
    let mut base = path.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{base}/node_modules/{name}")
        };
        if let Some(&i) = index.get(candidate.as_str()) {
            return Some(i);
        }
        if base.is_empty() {
            return None;
        }
        base = match base.rfind("/node_modules/") {
            Some(cut) => base[..cut].to_string(),
            None if base.starts_with("node_modules/") => String::new(),
            // A workspace directory (`packages/x`) resolves from the root next.
            None => String::new(),
        };
    }
}

/// v1: the nested `dependencies` tree under the root package.
fn from_tree(file: &str, lock: &Value) -> Result<Catalog, Error> {
    let mut catalog = Catalog {
        file: file.to_string(),
        ..Catalog::default()
    };
    let root = Entry {
        name: lock.get("name").and_then(Value::as_str).map(str::to_string),
        version: lock
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Entry::default()
    };
    let root_name = root.name.clone().unwrap_or_default();
    let root_version = root.version.clone().unwrap_or_default();
    catalog.packages.push(package(
        file,
        "(root)",
        root_name,
        root_version,
        &root,
        true,
    )?);
    let mut nodes = Vec::new();
    nodes.push(Node {
        package: 0,
        parent: None,
        children: HashMap::new(),
        requires: Vec::new(),
    });
    let deps = lock.get("dependencies").cloned().unwrap_or(Value::Null);
    add_children(file, "dependencies", &deps, 0, &mut nodes, &mut catalog)?;
    // v1 does not record which top-level entries the root requires directly (npm hoists
    // transitive ones there too; package.json says), so the root gets no edges: not guessed.
    for n in 0..nodes.len() {
        for (name, required) in nodes[n].requires.clone() {
            match resolve_up(&nodes, n, &name) {
                Some(to) => catalog.edges.push((nodes[n].package, nodes[to].package)),
                None if required => catalog.warnings.push(format!(
                    "{file}: {} requires {name:?}, which is not in the lockfile",
                    catalog.packages[nodes[n].package].name
                )),
                None => {}
            }
        }
    }
    Ok(catalog)
}

struct Node {
    package: usize,
    parent: Option<usize>,
    children: HashMap<String, usize>,
    requires: Vec<(String, bool)>,
}

fn add_children(
    file: &str,
    place: &str,
    deps: &Value,
    parent: usize,
    nodes: &mut Vec<Node>,
    catalog: &mut Catalog,
) -> Result<(), Error> {
    let Some(map) = deps.as_object() else {
        return if deps.is_null() {
            Ok(())
        } else {
            Err(invalid(file, place, "not an object"))
        };
    };
    for (name, value) in map {
        let here = format!("{place}.{name}");
        let e = entry(file, &here, value)?;
        let Some(version) = e.version.clone() else {
            return Err(invalid(file, here, "no version"));
        };
        // An alias (`"npm:real-name@1.2.3"`) installs another package under this name.
        let (real, version) = match version
            .strip_prefix("npm:")
            .and_then(|v| v.rsplit_once('@'))
        {
            Some((n, v)) if !n.is_empty() => (n.to_string(), v.to_string()),
            _ => (name.clone(), version),
        };
        let package = catalog.packages.len();
        catalog
            .packages
            .push(package_v1(file, &here, real, version, &e)?);
        let node = nodes.len();
        nodes.push(Node {
            package,
            parent: Some(parent),
            children: HashMap::new(),
            requires: e
                .requires
                .keys()
                .map(|k| (k.clone(), !e.optional))
                .collect(),
        });
        nodes[parent].children.insert(name.clone(), node);
        let nested = value.get("dependencies").cloned().unwrap_or(Value::Null);
        add_children(
            file,
            &format!("{here}.dependencies"),
            &nested,
            node,
            nodes,
            catalog,
        )?;
    }
    Ok(())
}

fn package_v1(
    file: &str,
    place: &str,
    name: String,
    version: String,
    e: &Entry,
) -> Result<Package, Error> {
    package(file, place, name, version, e, false)
}

fn resolve_up(nodes: &[Node], from: usize, name: &str) -> Option<usize> {
    let mut at = Some(from);
    while let Some(n) = at {
        if let Some(&child) = nodes[n].children.get(name) {
            return Some(child);
        }
        at = nodes[n].parent;
    }
    None
}

fn package(
    file: &str,
    place: &str,
    name: String,
    version: String,
    e: &Entry,
    local: bool,
) -> Result<Package, Error> {
    // One npm PURL rule for every JavaScript format (crate::js).
    let scope = if local { Scope::Required } else { e.scope() };
    let mut pkg = crate::js::npm_package(file, place, &name, &version, scope, local)?;
    pkg.source = e.resolved.clone().filter(|r| !local && !r.is_empty());
    pkg.checksums = integrity(file, place, e.integrity.as_deref())?;
    Ok(pkg)
}

/// A lockfile's `integrity` (absent: no checksum), through the one SRI reader.
fn integrity(file: &str, place: &str, sri: Option<&str>) -> Result<Vec<Checksum>, Error> {
    crate::js::sri(file, place, sri.unwrap_or_default())
}
