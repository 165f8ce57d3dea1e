//! `composer.lock` (Composer 1 and 2; `plugin-api-version` 1.x–2.x, or none before Composer
//! 1.10): `packages` ([`Scope::Required`]) and `packages-dev` ([`Scope::Dev`]), each package
//! `pkg:composer/VENDOR/NAME@VERSION` with the version exactly as locked (`v7.1.0` keeps its
//! `v`, as Packagist and the GitHub advisories write it), `dist.shasum` (SHA-1 of the dist
//! archive) as its checksum when Composer recorded one (it is empty for GitHub zipballs), and
//! `dist.url` (else `source.url`) as its source.
//!
//! Edges come from each package's `require`: a name resolves to the package of that name,
//! else to the packages that `replace` or `provide` it (`psr/log-implementation`). Platform
//! requirements (`php`, `ext-*`, `lib-*`, `composer-plugin-api`, `composer-runtime-api`,
//! `composer`) are the PHP runtime's, not packages, and give no edge.
//!
//! Not read, and why: the root project — `composer.lock` does not record its name or its
//! direct requirements (they are in `composer.json`), so there is no root package and no
//! root edges; `require-dev` of the locked packages — Composer installs no development
//! dependencies of dependencies.

use std::collections::HashMap;

use serde::Deserialize;

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// Reads `composer.lock`.
pub struct ComposerLock;

impl Cataloger for ComposerLock {
    fn kind(&self) -> &'static str {
        "composer.lock"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "composer.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let lock: Lock = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "composer.lock",
            source: e.into(),
        })?;
        let api = lock.plugin_api_version.as_deref().unwrap_or("(none)");
        if lock.plugin_api_version.is_some() && !matches!(api.split('.').next(), Some("1" | "2")) {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "composer.lock",
                version: format!("plugin-api-version {api}"),
                supported: "plugin-api-version 1.x and 2.x (Composer 1 and 2)",
            });
        }
        let Some(packages) = lock.packages else {
            return Err(invalid(
                file,
                "packages",
                "missing: a composer.lock lists its packages there",
            ));
        };
        let mut catalog = Catalog {
            file: file.to_string(),
            format: format!("composer.lock (plugin API {api})"),
            ..Catalog::default()
        };
        let all: Vec<(&str, usize, &Locked, Scope)> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| ("packages", i, p, Scope::Required))
            .chain(
                lock.packages_dev
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, p)| ("packages-dev", i, p, Scope::Dev)),
            )
            .collect();
        for &(section, i, p, scope) in &all {
            catalog
                .packages
                .push(package(file, &format!("{section}[{i}]"), p, scope)?);
        }
        edges(file, &all, &mut catalog);
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Lock {
    packages: Option<Vec<Locked>>,
    packages_dev: Option<Vec<Locked>>,
    plugin_api_version: Option<String>,
}

/// One locked package.
#[derive(Deserialize)]
struct Locked {
    name: Option<String>,
    version: Option<String>,
    source: Option<Origin>,
    dist: Option<Origin>,
    #[serde(default)]
    require: HashMap<String, serde_json::Value>,
    #[serde(default)]
    replace: HashMap<String, serde_json::Value>,
    #[serde(default)]
    provide: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Origin {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    shasum: Option<String>,
}

fn package(file: &str, place: &str, p: &Locked, scope: Scope) -> Result<Package, Error> {
    let (Some(name), Some(version)) = (&p.name, &p.version) else {
        return Err(invalid(
            file,
            place,
            "a locked package needs a name and a version",
        ));
    };
    let Some((vendor, bare)) = name.split_once('/') else {
        return Err(invalid(file, place, format!("{name:?} is not vendor/name")));
    };
    let purl = relkit_ident::purl::Purl::build(
        "composer",
        Some(vendor),
        bare,
        Some(version),
        &Default::default(),
        None,
    )
    .map_err(|e| {
        invalid(
            file,
            place,
            format!("no valid Package URL for {name:?}: {e}"),
        )
    })?
    .to_canonical();
    let mut checksums = Vec::new();
    if let Some(sha) = p
        .dist
        .as_ref()
        .and_then(|d| d.shasum.as_deref())
        .filter(|s| !s.is_empty())
    {
        if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                file,
                format!("{place}.dist.shasum"),
                format!("{sha:?} is not a SHA-1"),
            ));
        }
        checksums.push(Checksum {
            algorithm: "SHA1",
            hex: sha.to_ascii_lowercase(),
        });
    }
    let is_path = |o: &Origin| o.kind.as_deref() == Some("path");
    let source = [&p.dist, &p.source]
        .into_iter()
        .flatten()
        .find(|o| !is_path(o) && o.url.as_deref().is_some_and(|u| !u.is_empty()))
        .and_then(|o| o.url.clone());
    Ok(Package {
        ecosystem: Ecosystem::Composer,
        name: name.clone(),
        version: version.clone(),
        purl,
        source,
        checksums,
        scope,
        local: false,
    })
}

/// A platform requirement: the PHP runtime, its extensions and libraries, Composer itself.
fn platform(name: &str) -> bool {
    name == "php"
        || name.starts_with("php-")
        || name.starts_with("ext-")
        || name.starts_with("lib-")
        || matches!(
            name,
            "composer" | "composer-plugin-api" | "composer-runtime-api" | "hhvm"
        )
}

fn edges(file: &str, all: &[(&str, usize, &Locked, Scope)], catalog: &mut Catalog) {
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut substitutes: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, (_, _, p, _)) in all.iter().enumerate() {
        by_name.insert(p.name.clone().unwrap_or_default().to_lowercase(), i);
        for n in p.replace.keys().chain(p.provide.keys()) {
            substitutes.entry(n.to_lowercase()).or_default().push(i);
        }
    }
    for (from, (section, i, p, _)) in all.iter().enumerate() {
        let mut names: Vec<&String> = p.require.keys().collect();
        names.sort();
        for dep in names {
            let key = dep.to_lowercase();
            if platform(&key) {
                continue;
            }
            if let Some(&to) = by_name.get(&key) {
                catalog.edges.push((from, to));
            } else if let Some(to) = substitutes.get(&key) {
                catalog.edges.extend(to.iter().map(|&t| (from, t)));
            } else {
                catalog.warnings.push(format!(
                    "{file}: {section}[{i}] ({}): requirement {dep:?} is not in the lockfile",
                    p.name.as_deref().unwrap_or_default()
                ));
            }
        }
    }
}
