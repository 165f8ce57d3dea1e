//! Go modules: `go.mod`. Since Go 1.17 a module's `go.mod` lists every module of its build
//! list (direct, and `// indirect` for the rest), so the file alone is the module graph's
//! package set; the main module is the project's own package and depends on its direct
//! requirements. `replace` directives are applied (a module replaced by another path and
//! version is cataloged as what is built; one replaced by a local directory keeps its module
//! path, without a version, and is local), `exclude` lines drop nothing that is required.
//!
//! PURLs are `pkg:golang/MODULE@VERSION` with the version's leading `v` removed, as the Go
//! vulnerability database (OSV) and Trivy write them.

use std::collections::BTreeMap;

use crate::{Catalog, Cataloger, Error, Package, invalid};

/// Reads `go.mod`.
pub struct GoMod;

struct Require {
    path: String,
    version: String,
    indirect: bool,
    line: usize,
}

impl Cataloger for GoMod {
    fn kind(&self) -> &'static str {
        "go.mod"
    }

    fn reads(&self, path: &str) -> bool {
        let file_name = crate::file_name(path);
        file_name == "go.mod"
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "go.mod",
            source: e.into(),
        })?;
        let (module, requires, replaces) = parse(file, text)?;
        let mut catalog = Catalog {
            file: file.to_string(),
            format: "go.mod".into(),
            ..Catalog::default()
        };
        catalog.packages.push(package(file, 0, &module, "", true)?);
        for r in &requires {
            let (path, version, local) = match replaces
                .get(&(r.path.clone(), r.version.clone()))
                .or_else(|| replaces.get(&(r.path.clone(), String::new())))
            {
                // A directory: the required module, built from local sources.
                Some((_, v)) if v.is_empty() => (r.path.clone(), String::new(), true),
                Some((to, v)) => (to.clone(), v.clone(), false),
                None => (r.path.clone(), r.version.clone(), false),
            };
            let i = catalog.packages.len();
            catalog
                .packages
                .push(package(file, r.line, &path, &version, local)?);
            if !r.indirect {
                catalog.edges.push((0, i));
            }
        }
        crate::normalize_edges(&mut catalog.edges);
        Ok(catalog)
    }
}

type Replaces = BTreeMap<(String, String), (String, String)>;

/// The module path, the requirements and the replacements (`(old, old version or "")` →
/// `(new, new version or "" for a directory)`).
fn parse(file: &str, text: &str) -> Result<(String, Vec<Require>, Replaces), Error> {
    let mut module = None;
    let mut requires = Vec::new();
    let mut replaces = Replaces::new();
    let mut block: Option<&str> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let (code, comment) = match raw.find("//") {
            Some(p) => (&raw[..p], &raw[p + 2..]),
            None => (raw, ""),
        };
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        let (verb, rest) = match block {
            Some(_) if code == ")" => {
                block = None;
                continue;
            }
            Some(b) => (b, code),
            None => {
                let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(verb);
                    continue;
                }
                (verb, rest)
            }
        };
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_matches('"'))
            .collect();
        let place = format!("line {line_no}");
        match verb {
            "module" => module = words.first().map(|m| m.to_string()),
            "require" => match words.as_slice() {
                [path, version] => requires.push(Require {
                    path: path.to_string(),
                    version: version.to_string(),
                    indirect: comment.trim().starts_with("indirect"),
                    line: line_no,
                }),
                _ => return Err(invalid(file, place, format!("malformed require {rest:?}"))),
            },
            "replace" => {
                let Some(arrow) = words.iter().position(|w| *w == "=>") else {
                    return Err(invalid(file, place, format!("malformed replace {rest:?}")));
                };
                let (old, new) = words.split_at(arrow);
                let key = match old {
                    [p] => (p.to_string(), String::new()),
                    [p, v] => (p.to_string(), v.to_string()),
                    _ => return Err(invalid(file, place, format!("malformed replace {rest:?}"))),
                };
                let value = match &new[1..] {
                    [p] => (p.to_string(), String::new()),
                    [p, v] => (p.to_string(), v.to_string()),
                    _ => return Err(invalid(file, place, format!("malformed replace {rest:?}"))),
                };
                replaces.insert(key, value);
            }
            "go" | "toolchain" | "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => {
                return Err(invalid(file, place, format!("unknown directive {other:?}")));
            }
        }
    }
    let module =
        module.ok_or_else(|| invalid(file, "module", "missing: go.mod names its module"))?;
    Ok((module, requires, replaces))
}

/// A module of `go.mod` line `line` as a package (the one Go module → PURL rule, shared with
/// go.sum and Go build info).
fn package(
    file: &str,
    line: usize,
    path: &str,
    version: &str,
    local: bool,
) -> Result<Package, Error> {
    crate::gosum::go_package(file, &format!("line {line}"), path, version, local)
}
