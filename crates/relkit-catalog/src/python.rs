//! Python: `uv.lock`, `poetry.lock`, `Pipfile.lock` and pinned `requirements*.txt`.
//!
//! - `uv.lock` (lock `version = 1`): every package with its source; the project's own
//!   packages are those with an `editable`/`virtual`/`directory` source. Scopes follow the
//!   graph: what the project's own packages need (with their optional extras) is required or
//!   optional, what only their `dev-dependencies` groups reach is dev. The sdist's SHA-256 is
//!   the checksum.
//! - `poetry.lock` (lock-version 1.x and 2.x): Poetry 1.x's `category = "dev"`, Poetry 2's
//!   `groups` (`main` is the run-time group) and `optional = true` (extras) give the scope;
//!   dependencies resolve by normalized name; the sdist's hash is the checksum.
//! - `Pipfile.lock` (`pipfile-spec` 6): `default` is required, `develop` is dev; `==` pins
//!   only; the `hashes` (any of the files) are carried.
//! - `requirements*.txt`: `name==version` (or `===`) lines, with every `--hash` carried;
//!   an unpinned line is a warning that names it (never guessed), and `-r`/`-c` includes are
//!   warnings too (the caller catalogs those files themselves).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Deserialize;

use crate::{Catalog, Cataloger, Checksum, Error, Package, Scope, invalid};

use relkit_ident::purl::pep503_name as normalize;

fn pypi(
    file: &str,
    place: &str,
    name: &str,
    version: &str,
    scope: Scope,
    local: bool,
) -> Result<Package, Error> {
    // purl-spec's pypi rule (lowercase, `_` as `-`) is relkit-ident's; dots stay. One builder
    // for every Python format (pylock.toml, dist-info use it too).
    crate::pylock::pypi_package(file, place, name, version, scope, local)
}

/// `sha256:HEX` (or `sha512:`, `md5:`…) as a checksum; `None` for an algorithm SBOMs do not
/// name or a malformed value.
fn hash_checksum(value: &str) -> Option<Checksum> {
    let (alg, hex) = value.split_once(':')?;
    let algorithm = match alg {
        "sha256" => "SHA256",
        "sha384" => "SHA384",
        "sha512" => "SHA512",
        "sha1" => "SHA1",
        "md5" => "MD5",
        _ => return None,
    };
    hex.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| Checksum {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
}

fn toml_syntax(file: &str, format: &'static str, bytes: &[u8]) -> Result<toml::Table, Error> {
    let syntax = |source: Box<dyn std::error::Error + Send + Sync>| Error::Syntax {
        file: file.to_string(),
        format,
        source,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| syntax(e.into()))?;
    toml::from_str(text).map_err(|e| syntax(e.into()))
}

// ---------------------------------------------------------------------------------------
// uv.lock

/// Reads `uv.lock` (lock version 1).
pub struct UvLock;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPackage {
    name: String,
    version: Option<String>,
    #[serde(default)]
    source: toml::Table,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
    sdist: Option<UvArtifact>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
    version: Option<String>,
}

#[derive(Deserialize)]
struct UvArtifact {
    hash: Option<String>,
}

impl Cataloger for UvLock {
    fn kind(&self) -> &'static str {
        "uv.lock"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "uv.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let table = toml_syntax(file, "uv.lock", bytes)?;
        match table.get("version") {
            Some(toml::Value::Integer(1)) => {}
            other => {
                return Err(Error::UnsupportedVersion {
                    file: file.to_string(),
                    format: "uv.lock",
                    version: other.map_or("(none)".into(), |v| v.to_string()),
                    supported: "version 1",
                });
            }
        }
        let packages: Vec<UvPackage> = match table.get("package") {
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| invalid(file, "package", e.to_string()))?,
            None => Vec::new(),
        };
        uv_catalog(file, &packages)
    }
}

fn uv_catalog(file: &str, packages: &[UvPackage]) -> Result<Catalog, Error> {
    let local = |p: &UvPackage| {
        ["editable", "virtual", "directory"]
            .iter()
            .any(|k| p.source.contains_key(*k))
    };
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name.entry(normalize(&p.name)).or_default().push(i);
    }
    let resolve = |d: &UvDep| -> Vec<usize> {
        by_name
            .get(&normalize(&d.name))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| d.version.is_none() || packages[i].version == d.version)
            .collect()
    };
    let mut catalog = Catalog {
        file: file.to_string(),
        format: "uv.lock v1".into(),
        ..Catalog::default()
    };
    // Scopes: reach from the project's own packages, run-time edges first.
    let mut scope: Vec<Option<Scope>> = vec![None; packages.len()];
    let roots: Vec<usize> = (0..packages.len())
        .filter(|&i| local(&packages[i]))
        .collect();
    let walk = |starts: Vec<(usize, Scope)>, scope: &mut Vec<Option<Scope>>| {
        let mut queue: VecDeque<(usize, Scope)> = starts.into();
        while let Some((i, s)) = queue.pop_front() {
            if scope[i].is_some() {
                continue;
            }
            scope[i] = Some(s);
            for d in &packages[i].dependencies {
                queue.extend(resolve(d).into_iter().map(|j| (j, s)));
            }
            for deps in packages[i].optional_dependencies.values() {
                let s = if s == Scope::Required {
                    Scope::Optional
                } else {
                    s
                };
                queue.extend(deps.iter().flat_map(&resolve).map(|j| (j, s)));
            }
        }
    };
    walk(
        roots.iter().map(|&i| (i, Scope::Required)).collect(),
        &mut scope,
    );
    let dev_starts: Vec<(usize, Scope)> = roots
        .iter()
        .flat_map(|&i| packages[i].dev_dependencies.values().flatten())
        .flat_map(&resolve)
        .map(|j| (j, Scope::Dev))
        .collect();
    walk(dev_starts, &mut scope);
    for (i, p) in packages.iter().enumerate() {
        let place = format!("package {}", p.name);
        let version = p.version.clone().unwrap_or_default();
        if version.is_empty() && !local(p) {
            return Err(invalid(file, place, "no version"));
        }
        let mut pkg = pypi(
            file,
            &place,
            &p.name,
            &version,
            scope[i].unwrap_or(Scope::Required),
            local(p),
        )?;
        pkg.source = ["registry", "git", "url", "path"].iter().find_map(|k| {
            p.source
                .get(*k)
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        });
        pkg.checksums = p
            .sdist
            .as_ref()
            .and_then(|s| s.hash.as_deref())
            .and_then(hash_checksum)
            .into_iter()
            .collect();
        catalog.packages.push(pkg);
        let all = p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten())
            .chain(p.dev_dependencies.values().flatten());
        for d in all {
            let to = resolve(d);
            if to.is_empty() {
                catalog.warnings.push(format!(
                    "{file}: package {}: dependency {:?} is not in the lockfile",
                    p.name, d.name
                ));
            }
            catalog.edges.extend(to.into_iter().map(|j| (i, j)));
        }
    }
    crate::normalize_edges(&mut catalog.edges);
    Ok(catalog)
}

// ---------------------------------------------------------------------------------------
// poetry.lock

/// Reads `poetry.lock` (lock-version 1.x and 2.x).
pub struct PoetryLock;

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    files: Vec<PoetryFile>,
    #[serde(default)]
    source: Option<toml::Table>,
}

#[derive(Deserialize)]
struct PoetryFile {
    file: String,
    hash: String,
}

impl Cataloger for PoetryLock {
    fn kind(&self) -> &'static str {
        "poetry.lock"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "poetry.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let table = toml_syntax(file, "poetry.lock", bytes)?;
        let lock_version = table
            .get("metadata")
            .and_then(|m| m.get("lock-version"))
            .and_then(toml::Value::as_str)
            .unwrap_or("(none)")
            .to_string();
        if !(lock_version.starts_with("1.") || lock_version.starts_with("2.")) {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "poetry.lock",
                version: lock_version,
                supported: "lock-version 1.x and 2.x",
            });
        }
        let packages: Vec<PoetryPackage> = match table.get("package") {
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| invalid(file, "package", e.to_string()))?,
            None => Vec::new(),
        };
        let mut catalog = Catalog {
            file: file.to_string(),
            format: format!("poetry.lock v{lock_version}"),
            ..Catalog::default()
        };
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            by_name.entry(normalize(&p.name)).or_default().push(i);
            let scope = poetry_scope(p);
            let mut pkg = pypi(
                file,
                &format!("package {}", p.name),
                &p.name,
                &p.version,
                scope,
                false,
            )?;
            pkg.source = p
                .source
                .as_ref()
                .and_then(|s| s.get("url"))
                .and_then(toml::Value::as_str)
                .map(str::to_string);
            pkg.checksums = p
                .files
                .iter()
                .filter(|f| f.file.ends_with(".tar.gz") || f.file.ends_with(".zip"))
                .filter_map(|f| hash_checksum(&f.hash))
                .take(1)
                .collect();
            catalog.packages.push(pkg);
        }
        for (i, p) in packages.iter().enumerate() {
            for dep in p.dependencies.keys() {
                match by_name.get(&normalize(dep)) {
                    Some(to) => catalog.edges.extend(to.iter().map(|&j| (i, j))),
                    // Poetry lists every dependency, also those whose markers exclude them
                    // from this lock (e.g. another platform's): not an error, said.
                    None => catalog.warnings.push(format!(
                        "{file}: package {}: dependency {dep:?} is not locked (excluded by its markers?)",
                        p.name
                    )),
                }
            }
        }
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

fn poetry_scope(p: &PoetryPackage) -> Scope {
    let dev = match (&p.groups, &p.category) {
        (Some(groups), _) => !groups.iter().any(|g| g == "main"),
        (None, Some(category)) => category == "dev",
        (None, None) => false,
    };
    if dev {
        Scope::Dev
    } else if p.optional {
        Scope::Optional
    } else {
        Scope::Required
    }
}

// ---------------------------------------------------------------------------------------
// Pipfile.lock

/// Reads `Pipfile.lock` (pipfile-spec 6).
pub struct PipfileLock;

impl Cataloger for PipfileLock {
    fn kind(&self) -> &'static str {
        "Pipfile.lock"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "Pipfile.lock"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "Pipfile.lock",
            source: e.into(),
        })?;
        let spec = &doc["_meta"]["pipfile-spec"];
        if spec.as_u64() != Some(6) {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "Pipfile.lock",
                version: spec.to_string(),
                supported: "pipfile-spec 6",
            });
        }
        let mut catalog = Catalog {
            file: file.to_string(),
            format: "Pipfile.lock v6".into(),
            ..Catalog::default()
        };
        for (section, scope) in [("default", Scope::Required), ("develop", Scope::Dev)] {
            for (name, entry) in doc[section].as_object().into_iter().flatten() {
                let place = format!("{section}.{name}");
                let Some(version) = entry["version"].as_str().and_then(|v| v.strip_prefix("=="))
                else {
                    catalog.warnings.push(format!(
                        "{file}: {place} is not pinned with == ({}); not cataloged",
                        entry
                            .get("version")
                            .map_or("no version".into(), |v| v.to_string())
                    ));
                    continue;
                };
                let mut pkg = pypi(file, &place, name, version, scope, false)?;
                pkg.checksums = entry["hashes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|h| h.as_str().and_then(hash_checksum))
                    .collect();
                catalog.packages.push(pkg);
            }
        }
        Ok(catalog)
    }
}

// ---------------------------------------------------------------------------------------
// requirements.txt

/// Reads pinned `requirements*.txt` files (pip's format; `pip-compile` output included).
pub struct Requirements;

impl Cataloger for Requirements {
    fn kind(&self) -> &'static str {
        "requirements.txt"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name.starts_with("requirements") && file_name.ends_with(".txt")
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "requirements.txt",
            source: e.into(),
        })?;
        let mut catalog = Catalog {
            file: file.to_string(),
            format: "requirements.txt".into(),
            ..Catalog::default()
        };
        let mut seen = HashSet::new();
        for (line_no, line) in logical_lines(text) {
            requirement_line(file, line_no, &line, &mut catalog, &mut seen)?;
        }
        Ok(catalog)
    }
}

/// Joins `\`-continued lines and drops comments; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        // A comment starts at `#` at the line start or after whitespace (pip's rule).
        let line = match raw
            .find(" #")
            .map(|p| p + 1)
            .or(raw.starts_with('#').then_some(0))
        {
            Some(p) => &raw[..p],
            None => raw,
        };
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    out.push((start, current.trim().to_string()));
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

fn requirement_line(
    file: &str,
    line_no: usize,
    line: &str,
    catalog: &mut Catalog,
    seen: &mut HashSet<String>,
) -> Result<(), Error> {
    let place = format!("line {line_no}");
    if line.starts_with('-') {
        let include = ["-r", "--requirement", "-c", "--constraint"]
            .iter()
            .any(|o| line.starts_with(&format!("{o} ")) || line.starts_with(&format!("{o}=")));
        if include {
            catalog.warnings.push(format!(
                "{file}:{line_no}: {line:?} includes another file; catalog it too"
            ));
        } else if line.starts_with("-e") || line.starts_with("--editable") {
            catalog.warnings.push(format!(
                "{file}:{line_no}: editable requirement {line:?} is not pinned; not cataloged"
            ));
        }
        return Ok(());
    }
    let mut words = line.split_whitespace();
    let spec_end = line.find(" --").unwrap_or(line.len());
    let spec = line[..spec_end]
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let hashes: Vec<Checksum> = words
        .by_ref()
        .filter_map(|w| {
            w.strip_prefix("--hash=")
                .or_else(|| w.strip_prefix("--hash:"))
        })
        .filter_map(hash_checksum)
        .collect();
    let pin = spec
        .split_once("===")
        .or_else(|| spec.split_once("=="))
        .map(|(n, v)| (n.trim(), v.trim()));
    let Some((name, version)) =
        pin.filter(|(_, v)| !v.is_empty() && !v.contains(['*', ',', '<', '>', '!', '~', ' ']))
    else {
        catalog.warnings.push(format!(
            "{file}:{line_no}: {spec:?} is not pinned to one version; not cataloged (not guessed)"
        ));
        return Ok(());
    };
    let name = name.split('[').next().unwrap_or(name).trim();
    if name.is_empty() || name.contains(['/', ':']) {
        return Err(invalid(
            file,
            place,
            format!("{spec:?} is not a requirement"),
        ));
    }
    if !seen.insert(normalize(name)) {
        catalog
            .warnings
            .push(format!("{file}:{line_no}: {name} is listed twice"));
    }
    let mut pkg = pypi(file, &place, name, version, Scope::Required, false)?;
    pkg.checksums = hashes;
    catalog.packages.push(pkg);
    Ok(())
}
