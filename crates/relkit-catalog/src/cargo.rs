//! `Cargo.lock`, every format Cargo has written:
//! - v1 (Cargo < 1.41): no `version` key; dependencies always `name version (source)`;
//!   checksums in a `[metadata]` table keyed `"checksum name version (source)"`;
//! - v2 (Cargo 1.41–1.52 by default): no `version` key; checksums inline; dependencies
//!   written as `name` alone when unambiguous, else `name version`, else `name version (source)`;
//! - v3 (`version = 3`, Cargo 1.53+) and v4 (`version = 4`, Cargo 1.78+; v4 only changes how
//!   git source URLs are percent-encoded): as v2.
//!
//! Packages without a `source` are the workspace's own crates and path dependencies
//! ([`Package::local`]). A lockfile does not say which dependencies are dev-only, so every
//! package is [`Scope::Required`], as `cargo audit` treats them.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// The crates.io index, as `source` values name it (git and sparse protocols).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Reads `Cargo.lock` v1 to v4.
pub struct CargoLock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lock {
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<LockPackage>,
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
    /// Cargo writes `[patch.unused]` for patches that matched nothing.
    #[serde(default)]
    #[allow(dead_code)]
    patch: Option<toml::Value>,
    /// Written by some old Cargo versions: the root package.
    #[serde(default)]
    root: Option<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

impl Cataloger for CargoLock {
    fn kind(&self) -> &'static str {
        "Cargo.lock"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "Cargo.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let syntax = |source: Box<dyn std::error::Error + Send + Sync>| Error::Syntax {
            file: file.to_string(),
            format: "Cargo.lock",
            source,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| syntax(e.into()))?;
        let lock: Lock = toml::from_str(text).map_err(|e| syntax(e.into()))?;
        let format = format_version(file, &lock)?;
        let mut packages: Vec<LockPackage> = lock.root.into_iter().collect();
        packages.extend(lock.package);
        let v1_sums = v1_checksums(&lock.metadata);
        let mut catalog = Catalog {
            file: file.to_string(),
            format: format!("Cargo.lock v{format}"),
            ..Catalog::default()
        };
        for p in &packages {
            catalog.packages.push(package(file, p, &v1_sums)?);
        }
        resolve_dependencies(&packages, &mut catalog);
        Ok(catalog)
    }
}

/// The lockfile's format version: the `version` key, else 1 (a `[metadata]` table of
/// checksums) or 2.
fn format_version(file: &str, lock: &Lock) -> Result<u8, Error> {
    match &lock.version {
        Some(toml::Value::Integer(v @ 3..=4)) => Ok(*v as u8),
        Some(other) => Err(Error::UnsupportedVersion {
            file: file.to_string(),
            format: "Cargo.lock",
            version: other.to_string(),
            supported: "v1 to v4",
        }),
        None if lock.metadata.keys().any(|k| k.starts_with("checksum ")) => Ok(1),
        None => Ok(2),
    }
}

/// v1's checksums: `"checksum name version (source)" = "hex"`, keyed by `name version (source)`.
fn v1_checksums(metadata: &BTreeMap<String, toml::Value>) -> HashMap<&str, &str> {
    metadata
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("checksum ")?, v.as_str()?)))
        .collect()
}

fn package(file: &str, p: &LockPackage, v1_sums: &HashMap<&str, &str>) -> Result<Package, Error> {
    let place = format!("package {} {}", p.name, p.version);
    let v1_key = p
        .source
        .as_ref()
        .map(|s| format!("{} {} ({s})", p.name, p.version));
    let sum = p
        .checksum
        .as_deref()
        .or_else(|| v1_key.as_deref().and_then(|k| v1_sums.get(k).copied()));
    let mut checksums = Vec::new();
    if let Some(sum) = sum {
        if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                file,
                place,
                format!("checksum {sum:?} is not a SHA-256"),
            ));
        }
        checksums.push(Checksum {
            algorithm: "SHA256",
            hex: sum.to_ascii_lowercase(),
        });
    }
    Ok(Package {
        ecosystem: Ecosystem::Cargo,
        name: p.name.clone(),
        version: p.version.clone(),
        purl: purl(file, p, &place)?,
        source: p.source.clone(),
        checksums,
        scope: Scope::Required,
        local: p.source.is_none(),
    })
}

/// `pkg:cargo/name@version`; a git source as the `vcs_url` qualifier (`git+URL@commit`),
/// another registry as `repository_url`.
fn purl(file: &str, p: &LockPackage, place: &str) -> Result<String, Error> {
    let mut qualifiers = BTreeMap::new();
    match p.source.as_deref() {
        Some(s) if CRATES_IO.contains(&s) => {}
        Some(s) if s.starts_with("git+") => {
            let (url, commit) = s.split_once('#').unwrap_or((s, ""));
            let url = url.split('?').next().unwrap_or(url);
            let vcs = if commit.is_empty() {
                url.to_string()
            } else {
                format!("{url}@{commit}")
            };
            qualifiers.insert("vcs_url".to_string(), vcs);
        }
        Some(s) => {
            let url = s.split_once('+').map_or(s, |(_, u)| u);
            qualifiers.insert("repository_url".to_string(), url.to_string());
        }
        None => {}
    }
    relkit_ident::purl::Purl::build("cargo", None, &p.name, Some(&p.version), &qualifiers, None)
        .map(|p| p.to_canonical())
        .map_err(|e| invalid(file, place, format!("no valid Package URL: {e}")))
}

/// Turns each package's `dependencies` strings into edges; a string that names no package,
/// or more than one, is a warning.
fn resolve_dependencies(packages: &[LockPackage], catalog: &mut Catalog) {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    for (from, p) in packages.iter().enumerate() {
        for dep in &p.dependencies {
            match resolve(dep, packages, &by_name) {
                Ok(to) => catalog.edges.push((from, to)),
                Err(why) => catalog.warnings.push(format!(
                    "{}: package {} {}: dependency {dep:?} {why}",
                    catalog.file, p.name, p.version
                )),
            }
        }
    }
    crate::normalize_edges(&mut catalog.edges);
}

/// One dependency string: `name`, `name version` or `name version (source)`.
fn resolve(
    dep: &str,
    packages: &[LockPackage],
    by_name: &HashMap<&str, Vec<usize>>,
) -> Result<usize, &'static str> {
    let mut parts = dep.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    let candidates: Vec<usize> = by_name
        .get(name)
        .into_iter()
        .flatten()
        .copied()
        .filter(|&i| version.is_none_or(|v| packages[i].version == v))
        .filter(|&i| source.is_none_or(|s| packages[i].source.as_deref() == Some(s)))
        .collect();
    match candidates.as_slice() {
        [one] => Ok(*one),
        [] => Err("names no package of the lockfile"),
        _ => Err("is ambiguous (several packages match)"),
    }
}
