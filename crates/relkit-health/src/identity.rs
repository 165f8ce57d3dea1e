//! Identity: from an SBOM component to its upstream project, repository and Debian packages,
//! through a documented table ([`BUILTIN`], the crate's `identities.toml`) that `--map FILE`
//! extends or overrides.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The built-in identity table.
pub const BUILTIN: &str = include_str!("identities.toml");

/// One upstream project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's name.
    pub name: String,
    /// Other names an SBOM may use.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// CPE `vendor:product` pairs.
    #[serde(default)]
    pub cpe: Vec<String>,
    /// PURL prefixes (`pkg:github/madler/zlib`).
    #[serde(default)]
    pub purl: Vec<String>,
    /// Fragments of download locations.
    #[serde(default)]
    pub download: Vec<String>,
    /// Repository names under `--repos`.
    #[serde(default)]
    pub repos: Vec<String>,
    /// Debian source package.
    #[serde(default)]
    pub debian_source: Option<String>,
    /// Debian binary packages carrying the code.
    #[serde(default)]
    pub debian_binaries: Vec<String>,
    /// Runtime binary packages (globs) that vendor the project.
    #[serde(default)]
    pub bundled_in: Vec<String>,
    /// Release tag prefixes.
    #[serde(default)]
    pub tag_prefixes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default)]
    project: Vec<Project>,
}

/// The identity table in force.
#[derive(Debug, Clone)]
pub struct Identities {
    /// Projects, built-in first; a `--map` entry replaces the built-in one of the same name.
    pub projects: Vec<Project>,
}

/// How a component was matched to a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The project.
    pub project: String,
    /// `name`, `alias`, `cpe`, `purl` or `download`, with the value that matched.
    pub by: String,
}

fn parse(text: &str, label: &str) -> Result<Vec<Project>> {
    let t: Table = toml::from_str(text).map_err(|e| Error::Config {
        path: label.to_string(),
        detail: format!("invalid identity table: {e}"),
    })?;
    Ok(t.project)
}

impl Identities {
    /// The built-in table, extended by `map` files in order.
    pub fn load(maps: &[PathBuf]) -> Result<Identities> {
        let mut projects = parse(BUILTIN, "<built-in identities.toml>")?;
        for m in maps {
            let text = std::fs::read_to_string(m).map_err(|e| Error::Io {
                path: m.clone(),
                source: e,
            })?;
            for p in parse(&text, &m.display().to_string())? {
                projects.retain(|q| q.name != p.name);
                projects.push(p);
            }
        }
        Ok(Identities { projects })
    }

    /// The project of an SBOM package: by name, alias, CPE vendor:product, PURL, or download
    /// location, in that order.
    pub fn find(&self, pkg: &relkit_sbom::model::Package) -> Option<(&Project, Match)> {
        let name = pkg.name.to_lowercase();
        fn hit(p: &Project, by: String) -> Option<(&Project, Match)> {
            let m = Match {
                project: p.name.clone(),
                by,
            };
            Some((p, m))
        }
        for p in &self.projects {
            if p.name.to_lowercase() == name {
                return hit(p, format!("name {}", pkg.name));
            }
        }
        for p in &self.projects {
            if p.aliases.iter().any(|a| a.to_lowercase() == name) {
                return hit(p, format!("alias {}", pkg.name));
            }
        }
        for cpe in &pkg.cpes {
            let parts: Vec<&str> = cpe.split(':').collect();
            if parts.len() >= 5 {
                let vp = format!("{}:{}", parts[3], parts[4]).to_lowercase();
                for p in &self.projects {
                    if p.cpe.iter().any(|c| c.to_lowercase() == vp) {
                        return hit(p, format!("cpe {vp}"));
                    }
                }
            }
        }
        for purl in &pkg.purls {
            let base = purl
                .split(['@', '?', '#'])
                .next()
                .unwrap_or(purl)
                .to_lowercase();
            for p in &self.projects {
                if p.purl.iter().any(|x| base == x.to_lowercase()) {
                    return hit(p, format!("purl {base}"));
                }
            }
        }
        if let Some(loc) = &pkg.download_location {
            for p in &self.projects {
                if let Some(d) = p.download.iter().find(|d| loc.contains(d.as_str())) {
                    return hit(p, format!("download location ({d})"));
                }
            }
        }
        None
    }
}

/// The repository of `project` under `dir`: `NAME.bundle`, `NAME.git` or `NAME`, for each
/// of its repository names (the project name when it lists none).
pub fn find_repo(dir: &Path, project: &Project) -> Option<PathBuf> {
    let names: Vec<&String> = if project.repos.is_empty() {
        vec![&project.name]
    } else {
        project.repos.iter().collect()
    };
    for n in names {
        for candidate in [format!("{n}.bundle"), format!("{n}.git"), n.clone()] {
            let p = dir.join(&candidate);
            if p.exists() {
                return Some(p);
            }
        }
    }
    None
}
