//! Python: `pylock.toml` and `pylock.NAME.toml`, the standard lock file of PEP 751
//! (`lock-version = "1.0"`; a later `1.x` is read with a warning, as the PEP asks of
//! installers, another major version is an error).
//!
//! Every `[[packages]]` entry is cataloged, whatever its `marker` (the lock file is for many
//! environments; which one installs is the installer's decision, not the catalog's), with its
//! source: the `index`, a `vcs` URL at its `commit-id`, an `archive` URL or path; a `directory`
//! package is one of the project's own (local, no source). Scope, from the `marker`: a
//! package reached only through dependency groups outside `default-groups`
//! (`"dev" in dependency_groups`) is dev, one reached only through extras
//! (`"socks" in extras`) optional, anything else required. The checksum is the sdist's (or the archive's) SHA-256, as for `uv.lock`;
//! wheel hashes are not carried (one per platform, none is *the* package's). The optional
//! `dependencies` arrays give the edges, resolved by name (and version when given); one that
//! resolves to nothing is a warning.

use std::collections::BTreeMap;

use serde::Deserialize;

use relkit_ident::purl::pep503_name;

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// Reads PEP 751 `pylock.toml` / `pylock.NAME.toml`.
pub struct PyLock;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Lock {
    lock_version: String,
    #[serde(default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Entry {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    #[serde(default)]
    dependencies: Vec<DepRef>,
    index: Option<String>,
    vcs: Option<Vcs>,
    directory: Option<toml::Table>,
    archive: Option<Artifact>,
    sdist: Option<Artifact>,
}

#[derive(Deserialize)]
struct DepRef {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Vcs {
    url: Option<String>,
    path: Option<String>,
    commit_id: Option<String>,
}

#[derive(Deserialize)]
struct Artifact {
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

impl Cataloger for PyLock {
    fn kind(&self) -> &'static str {
        "pylock.toml"
    }

    fn reads(&self, path: &str) -> bool {
        let name = crate::file_name(path);
        name == "pylock.toml"
            || name
                .strip_prefix("pylock.")
                .and_then(|n| n.strip_suffix(".toml"))
                .is_some_and(|n| !n.is_empty() && !n.contains('.'))
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let syntax = |source: Box<dyn std::error::Error + Send + Sync>| Error::Syntax {
            file: file.to_string(),
            format: "pylock.toml",
            source,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| syntax(e.into()))?;
        let lock: Lock = toml::from_str(text).map_err(|e| syntax(e.into()))?;
        let mut catalog = Catalog {
            file: file.to_string(),
            format: format!("pylock.toml {}", lock.lock_version),
            ..Catalog::default()
        };
        match lock.lock_version.split_once('.') {
            Some(("1", "0")) => {}
            Some(("1", minor)) if minor.parse::<u32>().is_ok() => catalog.warnings.push(format!(
                "lock-version {} is newer than 1.0, the version relkit reads; read as 1.0",
                lock.lock_version
            )),
            _ => {
                return Err(Error::UnsupportedVersion {
                    file: file.to_string(),
                    format: "pylock.toml",
                    version: lock.lock_version,
                    supported: "1.0",
                });
            }
        }
        for (i, e) in lock.packages.iter().enumerate() {
            let place = format!("packages[{i}] ({})", e.name);
            catalog
                .packages
                .push(package(file, &place, e, &lock.default_groups)?);
        }
        for (i, e) in lock.packages.iter().enumerate() {
            for d in &e.dependencies {
                let found = lock.packages.iter().position(|p| {
                    d.name.as_deref().map(pep503_name) == Some(pep503_name(&p.name))
                        && (d.version.is_none() || d.version == p.version)
                });
                match found {
                    Some(j) => catalog.edges.push((i, j)),
                    None => catalog.warnings.push(format!(
                        "packages[{i}] ({}): dependency {} {} is not among the packages",
                        e.name,
                        d.name.as_deref().unwrap_or("(unnamed)"),
                        d.version.as_deref().unwrap_or("")
                    )),
                }
            }
        }
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

/// A PyPI package: `pkg:pypi/NAME@VERSION`, the name normalized by purl-spec's rule.
pub(crate) fn pypi_package(
    file: &str,
    place: &str,
    name: &str,
    version: &str,
    scope: Scope,
    local: bool,
) -> Result<Package, Error> {
    let purl = relkit_ident::purl::Purl::build(
        "pypi",
        None,
        name,
        (!version.is_empty()).then_some(version),
        &BTreeMap::new(),
        None,
    )
    .map_err(|e| invalid(file, place, format!("no valid Package URL: {e}")))?
    .to_canonical();
    Ok(Package {
        ecosystem: Ecosystem::Pypi,
        name: name.to_string(),
        version: version.to_string(),
        purl,
        source: None,
        checksums: Vec::new(),
        scope,
        local,
    })
}

/// The names a marker tests with `"NAME" in VARIABLE` (`dependency_groups`, `extras`).
fn tested_names<'a>(marker: &'a str, variable: &str) -> Vec<&'a str> {
    let needle = format!(" in {variable}");
    let mut out = Vec::new();
    let mut rest = marker;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].trim_end();
        if let Some(q) = before.chars().last().filter(|c| *c == '"' || *c == '\'') {
            let inner = &before[..before.len() - 1];
            if let Some(open) = inner.rfind(q) {
                out.push(&inner[open + 1..]);
            }
        }
        rest = &rest[at + needle.len()..];
    }
    out
}

/// Scope from the marker: reached through a default group (or no group test) is required,
/// only through other groups dev, only through extras optional.
fn scope(marker: Option<&str>, default_groups: &[String]) -> Scope {
    let Some(m) = marker else {
        return Scope::Required;
    };
    let groups = tested_names(m, "dependency_groups");
    if !groups.is_empty() && !groups.iter().any(|g| default_groups.iter().any(|d| d == g)) {
        return Scope::Dev;
    }
    if groups.is_empty() && !tested_names(m, "extras").is_empty() {
        return Scope::Optional;
    }
    Scope::Required
}

fn package(
    file: &str,
    place: &str,
    e: &Entry,
    default_groups: &[String],
) -> Result<Package, Error> {
    let local = e.directory.is_some();
    let version = match &e.version {
        Some(v) => v.clone(),
        // PEP 751: a version is required except for directory and VCS sources.
        None if local || e.vcs.is_some() => String::new(),
        None => return Err(invalid(file, place, "no version")),
    };
    let scope = scope(e.marker.as_deref(), default_groups);
    let mut p = pypi_package(file, place, &e.name, &version, scope, local)?;
    p.source = if let Some(v) = &e.vcs {
        let at = v.commit_id.as_deref().map(|c| format!("@{c}"));
        v.url
            .clone()
            .or_else(|| v.path.clone())
            .map(|u| format!("{u}{}", at.unwrap_or_default()))
    } else if let Some(a) = &e.archive {
        a.url.clone().or_else(|| a.path.clone())
    } else if local {
        None
    } else {
        e.index.clone()
    };
    let artifact = e.sdist.as_ref().or(e.archive.as_ref());
    if let Some(hex) = artifact.and_then(|a| a.hashes.get("sha256")) {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(file, place, format!("malformed sha256 {hex:?}")));
        }
        p.checksums.push(Checksum {
            algorithm: "SHA256",
            hex: hex.to_ascii_lowercase(),
        });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read() {
        assert!(PyLock.reads("a/pylock.toml"));
        assert!(PyLock.reads("pylock.dev.toml"));
        assert!(!PyLock.reads("pylock..toml"));
        assert!(!PyLock.reads("pylock.a.b.toml"));
        assert!(!PyLock.reads("mypylock.toml"));
    }

    #[test]
    fn scopes_from_markers() {
        let d = ["default".to_string()];
        assert_eq!(scope(Some("\"dev\" in dependency_groups"), &d), Scope::Dev);
        let both = "\"default\" in dependency_groups and python_version < \"3.12\" or \"dev\" in dependency_groups";
        assert_eq!(scope(Some(both), &d), Scope::Required);
        assert_eq!(scope(Some("'socks' in extras"), &d), Scope::Optional);
        assert_eq!(scope(Some("sys_platform == 'win32'"), &d), Scope::Required);
    }
}
