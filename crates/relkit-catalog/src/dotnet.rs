//! .NET: NuGet's `packages.lock.json` (lock file `version` 1 and 2; 2 adds
//! `CentralTransitive` entries for central package management), written by `dotnet restore`
//! with `RestorePackagesWithLockFile`.
//!
//! The file holds one package graph per target framework (`net8.0`, `net48/win-x64` for a
//! runtime-specific graph, whose dependencies not listed in it resolve in its framework's
//! graph); a package resolved to the same version in several graphs is one
//! package, its edges the union of the graphs'. `Direct`, `Transitive` and
//! `CentralTransitive` entries are NuGet packages (`pkg:nuget/NAME@VERSION`, the name as
//! written: NuGet names are case-insensitive and purl-spec keeps their case), with the
//! `contentHash` (SHA-512 of the `.nupkg`, base64) as a checksum; `Project` entries are other
//! projects of the solution, cataloged as local packages without a version. The lock file
//! does not name the project it belongs to, so there is no root package, and it has no notion
//! of development dependencies: every package is required.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// Reads NuGet's `packages.lock.json`.
pub struct NugetLock;

#[derive(Deserialize)]
struct LockFile {
    version: serde_json::Value,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    resolved: Option<String>,
    content_hash: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

impl Cataloger for NugetLock {
    fn kind(&self) -> &'static str {
        "packages.lock.json"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "packages.lock.json"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let lock: LockFile = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "packages.lock.json",
            source: e.into(),
        })?;
        let version = match lock.version.as_u64() {
            Some(v @ (1 | 2)) => v,
            _ => {
                return Err(Error::UnsupportedVersion {
                    file: file.to_string(),
                    format: "packages.lock.json",
                    version: lock.version.to_string(),
                    supported: "1 and 2",
                });
            }
        };
        let mut catalog = Catalog {
            file: file.to_string(),
            format: format!("packages.lock.json v{version}"),
            ..Catalog::default()
        };
        // (lowercased name, version) → index: NuGet names are case-insensitive.
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        // Per graph: lowercased name → (package index, entry).
        let mut graphs: BTreeMap<&str, BTreeMap<String, (usize, Entry)>> = BTreeMap::new();
        for (framework, entries) in &lock.dependencies {
            let here = graphs.entry(framework.as_str()).or_default();
            for (name, value) in entries {
                let place = format!("dependencies.{framework}.{name}");
                let entry: Entry = serde_json::from_value(value.clone())
                    .map_err(|e| invalid(file, &place, e.to_string()))?;
                let i = add_package(file, &place, name, &entry, &mut catalog, &mut index)?;
                here.insert(name.to_ascii_lowercase(), (i, entry));
            }
        }
        for (framework, here) in &graphs {
            // A runtime graph (`net8.0/win-x64`) lists only what has runtime-specific assets;
            // the rest of it is the framework's graph.
            let base = framework
                .split_once('/')
                .and_then(|(tfm, _)| graphs.get(tfm));
            for (name, (from, entry)) in here {
                for dep in entry.dependencies.keys() {
                    let key = dep.to_ascii_lowercase();
                    match here.get(&key).or_else(|| base.and_then(|b| b.get(&key))) {
                        Some((to, _)) => catalog.edges.push((*from, *to)),
                        None => catalog.warnings.push(format!(
                            "dependencies.{framework}.{name}: depends on {dep}, which the \
                             {framework} graph does not resolve"
                        )),
                    }
                }
            }
        }
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

fn add_package(
    file: &str,
    place: &str,
    name: &str,
    entry: &Entry,
    catalog: &mut Catalog,
    index: &mut BTreeMap<(String, String), usize>,
) -> Result<usize, Error> {
    let (version, local) = match entry.kind.as_str() {
        "Project" => (String::new(), true),
        "Direct" | "Transitive" | "CentralTransitive" => {
            let v = entry
                .resolved
                .clone()
                .ok_or_else(|| invalid(file, place, "no resolved version"))?;
            (v, false)
        }
        other => {
            return Err(invalid(file, place, format!("unknown type {other:?}")));
        }
    };
    let key = (name.to_ascii_lowercase(), version.clone());
    if let Some(&i) = index.get(&key) {
        return Ok(i);
    }
    let purl = relkit_ident::purl::Purl::build(
        "nuget",
        None,
        name,
        (!version.is_empty()).then_some(version.as_str()),
        &BTreeMap::new(),
        None,
    )
    .map_err(|e| invalid(file, place, format!("no valid Package URL: {e}")))?
    .to_canonical();
    let mut checksums = Vec::new();
    if let Some(hash) = &entry.content_hash {
        let digest = base64::engine::general_purpose::STANDARD
            .decode(hash)
            .ok()
            .filter(|d| d.len() == 64)
            .ok_or_else(|| invalid(file, place, format!("malformed contentHash {hash:?}")))?;
        checksums.push(Checksum {
            algorithm: "SHA512",
            hex: hex::encode(digest),
        });
    }
    catalog.packages.push(Package {
        ecosystem: Ecosystem::Nuget,
        name: name.to_string(),
        version,
        purl,
        source: None,
        checksums,
        scope: Scope::Required,
        local,
    });
    index.insert(key, catalog.packages.len() - 1);
    Ok(catalog.packages.len() - 1)
}
