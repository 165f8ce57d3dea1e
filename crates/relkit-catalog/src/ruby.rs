//! `Gemfile.lock`, as Bundler 1 to 4 write it (`BUNDLED WITH` 1.x–4.x, or none for very old
//! ones): the `GEM`, `GIT`, `PATH` and `PLUGIN SOURCE` sections' `specs` (each gem with the
//! gems it depends on), `DEPENDENCIES` (the Gemfile's own, direct, dependencies) and, from
//! Bundler 2.5, `CHECKSUMS` (a SHA-256 of each `.gem` file).
//!
//! Every spec is a package `pkg:gem/NAME@VERSION`; a platform-specific build (`nokogiri
//! (1.19.1-x86_64-linux-gnu)`: Bundler splits at the first `-`) carries
//! `?platform=x86_64-linux-gnu`, and is listed beside the other platforms' builds, as the
//! lockfile lists them all. A dependency names a gem, not a build: it gets an edge to every
//! build of that name. The project itself is one local package named after the lockfile's
//! directory, with edges to the `DEPENDENCIES`; gems from a `PATH` inside the project (`remote:
//! .`, the project's own gemspecs) are local too.
//!
//! Not read, and why: scopes — Gemfile groups (`:development`, `:test`) are in the Gemfile,
//! not the lockfile, so every gem is [`Scope::Required`]; `bundler` itself, which gems may
//! depend on but the specs never list (it is the tool, recorded in `BUNDLED WITH`), gives no
//! edge and no warning. A `DEPENDENCIES` gem with no spec (one for platforms the lockfile
//! does not resolve for, such as `tzinfo-data` on Windows) is a warning.

use std::collections::{BTreeMap, HashMap};

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// Reads `Gemfile.lock` (and `gems.locked`, Bundler's other name for it).
pub struct GemfileLock;

impl Cataloger for GemfileLock {
    fn kind(&self) -> &'static str {
        "Gemfile.lock"
    }

    fn reads(&self, path: &str) -> bool {
        matches!(crate::file_name(path), "Gemfile.lock" | "gems.locked")
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "Gemfile.lock",
            source: e.into(),
        })?;
        let lock = parse(file, text)?;
        let bundler = lock.bundled_with.as_deref().unwrap_or("(none)");
        let major = bundler.split('.').next().unwrap_or_default();
        if lock.bundled_with.is_some() && !matches!(major, "1" | "2" | "3" | "4") {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "Gemfile.lock",
                version: format!("BUNDLED WITH {bundler}"),
                supported: "Bundler 1 to 4",
            });
        }
        let mut catalog = build(file, &lock)?;
        catalog.format = format!("Gemfile.lock (Bundler {bundler})");
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

/// One resolved gem of a source section.
struct Spec {
    line: usize,
    name: String,
    version: String,
    platform: Option<String>,
    deps: Vec<String>,
    source: Option<String>,
    local: bool,
}

#[derive(Default)]
struct Lock {
    specs: Vec<Spec>,
    direct: Vec<(usize, String)>,
    checksums: HashMap<(String, String, Option<String>), Vec<Checksum>>,
    bundled_with: Option<String>,
}

/// Bundler's `NAME (VERSION[-PLATFORM])[!]` → name, version, platform.
fn name_version(body: &str) -> (String, Option<(String, Option<String>)>) {
    let body = body.trim_end_matches('!');
    match body.split_once(" (") {
        Some((name, rest)) => {
            let inner = rest.trim_end_matches(')');
            let (v, platform) = match inner.split_once('-') {
                Some((v, p)) => (v.to_string(), Some(p.to_string())),
                None => (inner.to_string(), None),
            };
            (name.to_string(), Some((v, platform)))
        }
        None => (body.to_string(), None),
    }
}

fn parse(file: &str, text: &str) -> Result<Lock, Error> {
    let mut lock = Lock::default();
    let mut section = "";
    let mut fields: HashMap<String, String> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_end();
        if line.is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if indent == 0 {
            section = body;
            fields.clear();
            continue;
        }
        match (section, indent) {
            ("GEM" | "GIT" | "PATH" | "PLUGIN SOURCE", 2) => {
                if let Some((k, v)) = body.split_once(": ") {
                    fields.insert(k.to_string(), v.to_string());
                }
            }
            ("GEM" | "GIT" | "PATH" | "PLUGIN SOURCE", 4) => {
                let (name, Some((version, platform))) = name_version(body) else {
                    let place = format!("line {line_no}");
                    return Err(invalid(
                        file,
                        place,
                        format!("spec {body:?} has no version"),
                    ));
                };
                let (source, local) = spec_source(section, &fields);
                lock.specs.push(Spec {
                    line: line_no,
                    name,
                    version,
                    platform,
                    deps: Vec::new(),
                    source,
                    local,
                });
            }
            ("GEM" | "GIT" | "PATH" | "PLUGIN SOURCE", 6) => {
                let Some(spec) = lock.specs.last_mut() else {
                    let place = format!("line {line_no}");
                    return Err(invalid(file, place, "a dependency outside any spec"));
                };
                spec.deps.push(name_version(body).0);
            }
            ("DEPENDENCIES", 2) => lock.direct.push((line_no, name_version(body).0)),
            ("CHECKSUMS", 2) => {
                let (spec, sums) = body.split_once(") ").map_or((body, ""), |(s, c)| (s, c));
                let (name, Some((version, platform))) = name_version(&format!("{spec})")) else {
                    let place = format!("line {line_no}");
                    return Err(invalid(file, place, format!("checksum entry {body:?}")));
                };
                let sums =
                    checksums(sums).map_err(|e| invalid(file, format!("line {line_no}"), e))?;
                lock.checksums.insert((name, version, platform), sums);
            }
            ("BUNDLED WITH", 3 | 2) => lock.bundled_with = Some(body.to_string()),
            _ => {}
        }
    }
    Ok(lock)
}

/// Where a section's gems come from, and whether they are the project's own.
fn spec_source(section: &str, fields: &HashMap<String, String>) -> (Option<String>, bool) {
    let remote = fields.get("remote").cloned().unwrap_or_default();
    match section {
        "GIT" => {
            let revision = fields.get("revision").cloned().unwrap_or_default();
            (Some(format!("{remote}#{revision}")), false)
        }
        "PATH" => {
            let inside =
                !remote.starts_with('/') && !remote.starts_with("..") && !remote.contains(':');
            (None, inside)
        }
        _ => ((!remote.is_empty()).then_some(remote), false),
    }
}

/// `sha256=HEX[,ALG=HEX…]` → checksums (algorithms other than SHA-256/512 are skipped).
fn checksums(list: &str) -> Result<Vec<Checksum>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (alg, hex) = item
            .split_once('=')
            .ok_or(format!("checksum {item:?} is not ALG=HEX"))?;
        let algorithm = match alg {
            "sha256" => "SHA256",
            "sha512" => "SHA512",
            _ => continue,
        };
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("checksum {item:?} is not hex"));
        }
        out.push(Checksum {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        });
    }
    Ok(out)
}

fn build(file: &str, lock: &Lock) -> Result<Catalog, Error> {
    let mut catalog = Catalog {
        file: file.to_string(),
        ..Catalog::default()
    };
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for s in &lock.specs {
        let place = format!("line {}", s.line);
        let mut qualifiers = BTreeMap::new();
        if let Some(p) = &s.platform {
            qualifiers.insert("platform".to_string(), p.clone());
        }
        let purl = relkit_ident::purl::Purl::build(
            "gem",
            None,
            &s.name,
            Some(&s.version),
            &qualifiers,
            None,
        )
        .map_err(|e| {
            invalid(
                file,
                &place,
                format!("no valid Package URL for {:?}: {e}", s.name),
            )
        })?
        .to_canonical();
        let key = (s.name.clone(), s.version.clone(), s.platform.clone());
        by_name
            .entry(&s.name)
            .or_default()
            .push(catalog.packages.len());
        catalog.packages.push(Package {
            ecosystem: Ecosystem::Gem,
            name: s.name.clone(),
            version: s.version.clone(),
            purl,
            source: s.source.clone(),
            checksums: lock.checksums.get(&key).cloned().unwrap_or_default(),
            scope: Scope::Required,
            local: s.local,
        });
    }
    let root = catalog.packages.len();
    let root_name = file.rsplit(['/', '\\']).nth(1).unwrap_or(".");
    let purl =
        relkit_ident::purl::Purl::build("gem", None, root_name, None, &BTreeMap::new(), None)
            .map_err(|e| {
                invalid(
                    file,
                    "(project)",
                    format!("no valid Package URL for {root_name:?}: {e}"),
                )
            })?
            .to_canonical();
    catalog.packages.push(Package {
        ecosystem: Ecosystem::Gem,
        name: root_name.to_string(),
        version: String::new(),
        purl,
        source: None,
        checksums: Vec::new(),
        scope: Scope::Required,
        local: true,
    });
    for (from, s) in lock.specs.iter().enumerate() {
        for dep in &s.deps {
            match by_name.get(dep.as_str()) {
                Some(to) => catalog.edges.extend(to.iter().map(|&t| (from, t))),
                None if dep == "bundler" => {}
                None => catalog.warnings.push(format!(
                    "{file}: line {}: {} depends on {dep:?}, which has no spec in the lockfile",
                    s.line, s.name
                )),
            }
        }
    }
    for (line, dep) in &lock.direct {
        match by_name.get(dep.as_str()) {
            Some(to) => catalog.edges.extend(to.iter().map(|&t| (root, t))),
            None if dep == "bundler" => {}
            None => catalog.warnings.push(format!(
                "{file}: line {line}: DEPENDENCIES names {dep:?}, which has no spec in the lockfile"
            )),
        }
    }
    Ok(catalog)
}
