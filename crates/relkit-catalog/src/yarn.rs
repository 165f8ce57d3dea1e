//! `yarn.lock`, both formats Yarn has written:
//! - classic (Yarn 1, header `# yarn lockfile v1`): Yarn's own indented syntax, one block per
//!   resolved package keyed by every descriptor (`name@range`) that resolved to it; its
//!   `dependencies` and `optionalDependencies` are descriptors again, so edges are exact;
//! - Berry (Yarn 2+, a YAML document with `__metadata.version` 4 to 10 — the entry shape has
//!   not changed across those versions): the same idea with protocol-qualified descriptors
//!   (`name@npm:^1.2.0`), workspace entries (`name@workspace:path`, the project's own
//!   packages, [`Package::local`]) whose `dependencies` are the workspaces' direct dependencies,
//!   patched packages (`patch:`) as their own entries, and `dependenciesMeta.NAME.optional`.
//!
//! Not read, and why:
//! - scopes: neither format records dev dependencies (classic lists no root at all; Berry
//!   merges a workspace's `devDependencies` into its `dependencies`), and the cataloger reads
//!   one file, so every package is [`Scope::Required`] except those reached only through
//!   optional edges ([`Scope::Optional`]);
//! - classic's direct dependencies: the lockfile does not say which entries `package.json`
//!   asks for, so there is no root package and no root edges (not guessed); workspace packages
//!   are not in a classic lockfile, so a dependency on one is a warning;
//! - Berry's `peerDependencies`: their ranges are resolved per dependent at install time
//!   (virtual packages), not in the lockfile, so they give no edges;
//! - Berry's `checksum`: a SHA-512 of the zip archive Yarn builds in its own cache (prefixed
//!   with the cache key, `10c0/…`), not of the package's published tarball: no registry or
//!   SBOM consumer can check it against the artifact, so it is not given as the package's
//!   checksum. Classic's `integrity` is the registry tarball's Subresource Integrity value
//!   (as in `package-lock.json`); older classic lockfiles have none but end the `resolved`
//!   URL with `#SHA1`, the tarball's SHA-1 (the registry's `shasum`), given as SHA1.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::js::{Ordered, npm_package, optional_by_edges, split_descriptor, sri};
use crate::{Catalog, Cataloger, Checksum, Error, Scope, invalid};

/// Reads `yarn.lock`, classic (v1) and Berry (`__metadata.version` 4 to 10).
pub struct YarnLock;

/// The Berry lockfile versions read: 4 (Yarn 2.0) to 10 (Yarn 4.10+).
const BERRY_VERSIONS: std::ops::RangeInclusive<u64> = 4..=10;

impl Cataloger for YarnLock {
    fn kind(&self) -> &'static str {
        "yarn.lock"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "yarn.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "yarn.lock",
            source: e.into(),
        })?;
        let mut catalog = if text.lines().any(|l| l.starts_with("__metadata:")) {
            berry(file, bytes)?
        } else if text.lines().any(|l| l.trim() == "# yarn lockfile v1") {
            classic(file, text)?
        } else {
            let version = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("# yarn lockfile "))
                .unwrap_or("(none: no `# yarn lockfile v1` header, no `__metadata`)");
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "yarn.lock",
                version: version.to_string(),
                supported: "classic v1 and Berry __metadata.version 4 to 10",
            });
        };
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

/// One block of a classic lockfile.
#[derive(Default)]
struct Block {
    line: usize,
    descriptors: Vec<String>,
    fields: HashMap<String, String>,
    /// `dependencies` / `optionalDependencies`: (name, range) in order.
    lists: HashMap<String, Vec<(String, String)>>,
}

/// Yarn 1's syntax: unindented `descriptor, descriptor:` keys, two-space `field value`
/// lines and `field:` maps whose four-space lines are `name range`.
fn parse_classic(file: &str, text: &str) -> Result<Vec<Block>, Error> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut list: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let place = || format!("line {line_no}");
        let line = raw.trim_end();
        if line.trim_start().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        match indent {
            0 => {
                let Some(keys) = body.strip_suffix(':') else {
                    return Err(invalid(file, place(), "a package key must end with ':'"));
                };
                let descriptors = split_keys(keys).map_err(|e| invalid(file, place(), e))?;
                blocks.push(Block {
                    line: line_no,
                    descriptors,
                    ..Block::default()
                });
                list = None;
            }
            2 => {
                let Some(block) = blocks.last_mut() else {
                    return Err(invalid(file, place(), "a field outside any package"));
                };
                if let Some(name) = body.strip_suffix(':') {
                    let name = unquote(name).map_err(|e| invalid(file, place(), e))?;
                    block.lists.entry(name.clone()).or_default();
                    list = Some(name);
                } else {
                    let (key, value) = key_value(body).map_err(|e| invalid(file, place(), e))?;
                    block.fields.insert(key, value);
                    list = None;
                }
            }
            4 => {
                let (Some(block), Some(name)) = (blocks.last_mut(), &list) else {
                    return Err(invalid(file, place(), "an entry outside any field map"));
                };
                let kv = key_value(body).map_err(|e| invalid(file, place(), e))?;
                block.lists.entry(name.clone()).or_default().push(kv);
            }
            _ => {
                return Err(invalid(
                    file,
                    place(),
                    format!("unexpected indent {indent}"),
                ));
            }
        }
    }
    Ok(blocks)
}

/// `"a@^1", a@^1.2` → the descriptors.
fn split_keys(keys: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = keys.trim();
    while !rest.is_empty() {
        let (token, after) = token(rest)?;
        out.push(token);
        rest = after.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(out)
}

/// `key value` (either possibly quoted) → both, unquoted.
fn key_value(body: &str) -> Result<(String, String), String> {
    let (key, rest) = token(body)?;
    let rest = rest.trim();
    let value = if rest.is_empty() {
        String::new()
    } else {
        unquote(rest)?
    };
    Ok((key, value))
}

/// One token: a JSON-quoted string or a run up to whitespace or a comma.
fn token(s: &str) -> Result<(String, &str), String> {
    if s.starts_with('"') {
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    let t = serde_json::from_str::<String>(&s[..=i]).map_err(|e| e.to_string())?;
                    return Ok((t, &s[i + 1..]));
                }
                _ => escaped = false,
            }
        }
        Err(format!("unterminated string in {s:?}"))
    } else {
        let end = s.find([' ', ',']).unwrap_or(s.len());
        Ok((s[..end].to_string(), &s[end..]))
    }
}

fn unquote(s: &str) -> Result<String, String> {
    let (t, rest) = token(s)?;
    if rest.trim().is_empty() {
        Ok(t)
    } else {
        Err(format!("unexpected text after {t:?}: {rest:?}"))
    }
}

/// The package name a descriptor installs: an alias (`alias@npm:real@range`) installs `real`.
fn real_name(descriptor: &str) -> Option<&str> {
    let (name, range) = split_descriptor(descriptor)?;
    match range.strip_prefix("npm:").and_then(split_descriptor) {
        Some((real, _)) => Some(real),
        None => Some(name),
    }
}

fn classic(file: &str, text: &str) -> Result<Catalog, Error> {
    let blocks = parse_classic(file, text)?;
    let mut catalog = Catalog {
        file: file.to_string(),
        format: "yarn.lock v1".into(),
        ..Catalog::default()
    };
    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    for b in &blocks {
        let place = format!("line {}", b.line);
        let first = b
            .descriptors
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let Some(name) = real_name(first) else {
            return Err(invalid(file, place, format!("{first:?} is not name@range")));
        };
        let Some(version) = b.fields.get("version") else {
            return Err(invalid(file, place, format!("{first:?} has no version")));
        };
        let mut p = npm_package(file, &place, name, version, Scope::Required, false)?;
        let resolved = b.fields.get("resolved").filter(|r| !r.is_empty());
        p.source = resolved.cloned();
        p.checksums = match (b.fields.get("integrity"), resolved) {
            (Some(i), _) => sri(file, &place, i)?,
            (None, Some(r)) => sha1_fragment(r).into_iter().collect(),
            (None, None) => Vec::new(),
        };
        for d in &b.descriptors {
            by_descriptor.insert(d, catalog.packages.len());
        }
        catalog.packages.push(p);
    }
    let mut optional = BTreeSet::new();
    for (from, b) in blocks.iter().enumerate() {
        for (list, is_optional) in [("dependencies", false), ("optionalDependencies", true)] {
            for (dep, range) in b.lists.get(list).into_iter().flatten() {
                match by_descriptor.get(format!("{dep}@{range}").as_str()) {
                    Some(&to) => {
                        catalog.edges.push((from, to));
                        if is_optional {
                            optional.insert((from, to));
                        }
                    }
                    None if is_optional => {}
                    None => catalog.warnings.push(format!(
                        "{file}: line {}: {:?} depends on \"{dep}@{range}\", which is not in the lockfile",
                        b.line, b.descriptors[0]
                    )),
                }
            }
        }
    }
    optional_by_edges(&mut catalog.packages, &catalog.edges, &optional);
    Ok(catalog)
}

/// The tarball's SHA-1 old classic lockfiles append to `resolved` (`…tgz#40-hex`).
fn sha1_fragment(resolved: &str) -> Option<Checksum> {
    let (_, hash) = resolved.rsplit_once('#')?;
    (hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Checksum {
        algorithm: "SHA1",
        hex: hash.to_ascii_lowercase(),
    })
}

/// One entry of a Berry lockfile (`__metadata` read the same way: its `version`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default)]
    dependencies_meta: BTreeMap<String, DependencyMeta>,
}

#[derive(Deserialize, Default)]
struct DependencyMeta {
    #[serde(default)]
    optional: bool,
}

fn berry(file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
    let doc: Ordered<BerryEntry> = serde_yaml_ng::from_slice(bytes).map_err(|e| Error::Syntax {
        file: file.to_string(),
        format: "yarn.lock",
        source: e.into(),
    })?;
    let version = doc
        .0
        .iter()
        .find(|(k, _)| k == "__metadata")
        .and_then(|(_, m)| m.version.clone())
        .unwrap_or_default();
    if !version
        .parse::<u64>()
        .is_ok_and(|v| BERRY_VERSIONS.contains(&v))
    {
        return Err(Error::UnsupportedVersion {
            file: file.to_string(),
            format: "yarn.lock (Berry)",
            version,
            supported: "Berry __metadata.version 4 to 10",
        });
    }
    let mut catalog = Catalog {
        file: file.to_string(),
        format: format!("yarn.lock (Berry) v{version}"),
        ..Catalog::default()
    };
    let entries: Vec<(String, BerryEntry)> = doc
        .0
        .into_iter()
        .filter(|(k, _)| k != "__metadata")
        .collect();
    let mut by_descriptor: HashMap<&str, usize> = HashMap::new();
    for (key, e) in &entries {
        let place = format!("{key:?}");
        let Some(version) = &e.version else {
            return Err(invalid(file, &place, "no version"));
        };
        let resolution = e.resolution.as_deref().unwrap_or_default();
        let Some((name, reference)) = split_descriptor(resolution) else {
            return Err(invalid(
                file,
                &place,
                format!("resolution {resolution:?} is not name@reference"),
            ));
        };
        let local = reference.starts_with("workspace:");
        let mut p = npm_package(file, &place, name, version, Scope::Required, local)?;
        let path_like = ["workspace:", "link:", "portal:", "file:"]
            .iter()
            .any(|proto| reference.starts_with(proto));
        p.source = (!path_like).then(|| resolution.to_string());
        for d in key.split(',') {
            by_descriptor.insert(d.trim(), catalog.packages.len());
        }
        catalog.packages.push(p);
    }
    let mut optional = BTreeSet::new();
    for (from, (key, e)) in entries.iter().enumerate() {
        for (dep, range) in &e.dependencies {
            let is_optional = e.dependencies_meta.get(dep).is_some_and(|m| m.optional);
            // Older Berry lockfiles write a semver range bare (`debug: 4`) where the keys
            // carry Yarn's default protocol (`debug@npm:4`).
            let found = by_descriptor
                .get(format!("{dep}@{range}").as_str())
                .or_else(|| by_descriptor.get(format!("{dep}@npm:{range}").as_str()));
            match found {
                Some(&to) => {
                    catalog.edges.push((from, to));
                    if is_optional {
                        optional.insert((from, to));
                    }
                }
                None if is_optional => {}
                None => catalog.warnings.push(format!(
                    "{file}: {key:?} depends on \"{dep}@{range}\", which is not in the lockfile \
                     (a `resolutions` override in package.json?)"
                )),
            }
        }
    }
    optional_by_edges(&mut catalog.packages, &catalog.edges, &optional);
    Ok(catalog)
}
