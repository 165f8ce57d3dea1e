//! The top package's identity — name and version — as the input states it, so that
//! `relkit sbom generate Python-3.13.5.tar.xz` says CPython 3.13.5 without `--name` or
//! `--version`, and a renamed archive (Debian's `python3.13_3.13.5.orig.tar.xz`) still does.
//!
//! Each source is read by one function with a real parser (TOML, JSON) or a narrow rule
//! documented on the function, only at the tree's root (for an archive: inside its single top
//! directory). The sources, in precedence order ([`SOURCES`], then the names):
//!
//! 1. `Include/patchlevel.h` — CPython's own version header (`#define PY_VERSION "3.13.5"`);
//!    the name is `CPython`, as CPython's release tooling (release-tools `sbom.py`) and
//!    relkit's binary rules (`cpython`, alias `CPython`; CPE `python:python`) name it.
//! 2. `Cargo.toml` `[package]` (`version.workspace = true` → `[workspace.package] version`).
//! 3. `pyproject.toml` `[project]` (a version listed in `dynamic` is not stated).
//! 4. `package.json` `name` / `version`.
//! 5. `meson.build` `project('name', …, version: '…')` (string literals only).
//! 6. `CMakeLists.txt` `project(NAME VERSION x.y.z …)` (no variables).
//! 7. `configure.ac` `AC_INIT([name], [version], …)` (m4 quoting; a version given by an m4
//!    macro is not a version).
//! 8. An install prefix's CPython header, `include/python3.N/patchlevel.h` (`3.13t` for a
//!    free-threaded build), when there is exactly one: the prefix is that CPython.
//! 9. A binary distribution's programs: the executables at its root that are one component in
//!    one version by their own VERSIONINFO (CPython's embeddable zip is its `python.exe`).
//! 10. The archive's file name: Debian's `NAME_VERSION.orig.tar.*`, else `NAME-VERSION.tar.*`
//!     / `.zip`.
//! 11. The single top directory of an archive, or a directory's own name: `NAME-VERSION`.
//!
//! Project metadata comes first, most specific first (a project's own version header, then
//! the package managers' manifests, then the build systems'), then the names, which anyone
//! can change: where a renamed file and the contents disagree, the contents win. The name is
//! the first source's that states one; the version is that source's, or — when it states
//! none — the first later source's that states one *for the same name* (compared
//! case-insensitively, `-`, `_` and `.` alike): a `pyproject.toml` with a dynamic version in
//! `pytest-8.3.4/` is pytest 8.3.4, in `pytest/` it has no version. A version is never
//! guessed: a source that does not state one literally gives none.
//!
//! A source file that is present but cannot be read (not TOML, not JSON, not UTF-8) gives a
//! warning naming it and is passed over; the caller shows the warnings.
//!
//! What the caller says (`--name`, `--version`, `relkit.toml` `[project]`) wins over all of
//! it, field by field ([`resolve`]). The SBOM records where each field came from in the top
//! package's comment ([`Resolved::comment`]).

use std::collections::BTreeMap;

/// The root files the rules read, paths relative to the tree root, in precedence order,
/// each with its reader.
pub const SOURCES: [(&str, Reader); 7] = [
    ("Include/patchlevel.h", cpython),
    ("Cargo.toml", cargo),
    ("pyproject.toml", pyproject),
    ("package.json", package_json),
    ("meson.build", meson),
    ("CMakeLists.txt", cmake),
    ("configure.ac", autoconf),
];

/// A source's reader: its text in, what it states out (`Ok(None)`: it states no identity, e.g.
/// a virtual Cargo workspace; `Err`: it cannot be read, with the reason).
pub type Reader = fn(&str) -> Result<Option<Claim>, String>;

/// Whether the identity rules read the file at `path` (relative to the tree root).
pub fn reads(path: &str) -> bool {
    SOURCES.iter().any(|(p, _)| *p == path) || installed_cpython_header(path)
}

/// An executable at the input's root and the component it *is*, by its own VERSIONINFO as the
/// binary rules read it (`python.exe`: `cpython` 3.13.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Its path, relative to the input's root.
    pub path: String,
    /// The component's name (the libraries table's).
    pub component: String,
    /// Its version.
    pub version: String,
}

/// What a binary distribution's programs state: when every executable at the root that is a
/// component (CPython's embeddable zip: `python.exe`, `pythonw.exe`) is the same one in the
/// same version, the input is that component — CPython as [`CPYTHON`]. Programs that disagree
/// state nothing.
pub fn programs_claim(programs: &[Program]) -> Option<(String, Claim)> {
    let first = programs.first()?;
    if first.version.is_empty()
        || programs
            .iter()
            .any(|p| (&p.component, &p.version) != (&first.component, &first.version))
    {
        return None;
    }
    let name = if first.component == "cpython" {
        CPYTHON.to_string()
    } else {
        first.component.clone()
    };
    let paths: Vec<&str> = programs.iter().map(|p| p.path.as_str()).collect();
    let how = format!("the VERSIONINFO of {}", paths.join(", "));
    Some((
        format!("root executables {}", paths.join(", ")),
        Claim {
            name: Some(name),
            name_how: how.clone(),
            version: Some(first.version.clone()),
            version_how: how,
        },
    ))
}

/// Whether `path` is the version header of an installed CPython at the root of an install
/// prefix (`make install`, pyenv, python-build-standalone, a `/usr/local`):
/// `include/python3.13/patchlevel.h`, `include/python3.13t/patchlevel.h` (free-threaded).
pub fn installed_cpython_header(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("include/python") else {
        return false;
    };
    let Some((dir, "patchlevel.h")) = rest.split_once('/') else {
        return false;
    };
    let digits = dir.trim_end_matches(|c: char| c.is_ascii_lowercase());
    digits.split_once('.').is_some_and(|(a, b)| {
        [a, b]
            .iter()
            .all(|x| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit()))
    })
}

/// What one source states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The name, when stated.
    pub name: Option<String>,
    /// How the name is stated (e.g. `[project] name`).
    pub name_how: String,
    /// The version, when stated literally.
    pub version: Option<String>,
    /// How the version is stated (e.g. `#define PY_VERSION "3.13.5"`), or why there is none
    /// (e.g. `[project] version is dynamic`).
    pub version_how: String,
}

/// One field of the identity and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The value.
    pub value: String,
    /// The source: a root file's path, `archive name X` or `directory name X`.
    pub origin: String,
    /// How that source states it.
    pub how: String,
}

/// The identity the input states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inferred {
    /// The name, from the first source that states one.
    pub name: Option<Field>,
    /// The version, from the same source or a later one that states the same name.
    pub version: Option<Field>,
    /// Why sources that name the project state no version (`pyproject.toml: [project]
    /// version is dynamic`), for the record when no version is found.
    pub unstated: Vec<String>,
    /// Source files present but unreadable, each naming the file.
    pub warnings: Vec<String>,
}

/// Reads the identity sources among `files` (root-relative path → bytes; only the paths of
/// [`SOURCES`] are looked up), then the archive's file name and the top directory's name.
pub fn infer(
    files: &BTreeMap<String, Vec<u8>>,
    programs: &[Program],
    archive_name: Option<&str>,
    top_dir: Option<&str>,
) -> Inferred {
    let mut claims: Vec<(String, Claim)> = Vec::new();
    let mut warnings = Vec::new();
    for (path, read) in SOURCES {
        let Some(bytes) = files.get(path) else {
            continue;
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                warnings.push(format!(
                    "{path}: not UTF-8 ({e}): the top package's identity is not read from it"
                ));
                continue;
            }
        };
        match read(text) {
            Ok(Some(c)) => claims.push((path.to_string(), c)),
            Ok(None) => {}
            Err(e) => warnings.push(format!(
                "{path}: {e}: the top package's identity is not read from it"
            )),
        }
    }
    // An install prefix states its CPython in the installed header, when it holds exactly one
    // (a `/usr/local` with several Pythons is none of them).
    let installed: Vec<(&String, Claim)> = files
        .iter()
        .filter(|(p, _)| installed_cpython_header(p))
        .filter_map(|(p, b)| {
            let claim = cpython(std::str::from_utf8(b).ok()?).ok()??;
            Some((p, claim))
        })
        .collect();
    match installed.as_slice() {
        [(p, c)] => claims.push((p.to_string(), c.clone())),
        [] => {}
        several => warnings.push(format!(
            "{} installed CPython version headers ({}): the top package is not named after one of them",
            several.len(),
            several.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
    if let Some((origin, c)) = programs_claim(programs) {
        claims.push((origin, c));
    }
    if let Some(a) = archive_name {
        let stem = crate::tree::ARCHIVE_SUFFIXES
            .iter()
            .find_map(|s| {
                a.len()
                    .checked_sub(s.len())
                    .filter(|&i| a.is_char_boundary(i) && a[i..].eq_ignore_ascii_case(s))
                    .map(|i| &a[..i])
            })
            .unwrap_or(a);
        if let Some(c) = archive_stem(stem) {
            claims.push((format!("archive name {a}"), c));
        }
    }
    if let Some(d) = top_dir
        && let Some(c) = directory_name(d)
    {
        claims.push((format!("directory name {d}"), c));
    }
    choose(&claims, warnings)
}

/// The precedence rule over the claims in order (see the module documentation).
fn choose(claims: &[(String, Claim)], warnings: Vec<String>) -> Inferred {
    let mut out = Inferred {
        warnings,
        ..Inferred::default()
    };
    let Some(first) = claims.iter().position(|(_, c)| c.name.is_some()) else {
        return out;
    };
    let (origin, claim) = &claims[first];
    let name = claim.name.clone().expect("position found a name");
    out.name = Some(Field {
        value: name.clone(),
        origin: origin.clone(),
        how: claim.name_how.clone(),
    });
    let key = name_key(&name);
    for (i, (origin, c)) in claims.iter().enumerate().skip(first) {
        if i != first && c.name.as_deref().map(name_key) != Some(key.clone()) {
            continue;
        }
        match &c.version {
            Some(v) => {
                out.version = Some(Field {
                    value: v.clone(),
                    origin: origin.clone(),
                    how: c.version_how.clone(),
                });
                break;
            }
            None => out.unstated.push(format!("{origin}: {}", c.version_how)),
        }
    }
    out
}

/// A name compared across sources: lowercase, `_` and `.` as `-`.
fn name_key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `v` has the shape of a version literal: it starts with a digit and has only
/// ASCII letters, digits and `. + ~ -` (so never a macro name or a variable reference).
fn version_shaped(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-'))
}

/// The identity of a tree: what the caller gave, field by field, else what the input states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The top package's name.
    pub name: String,
    /// Its version, when given or stated.
    pub version: Option<String>,
    /// Where each field came from, for the top package's comment.
    pub comment: String,
}

/// What the caller gave for one field: its value and where it came from (`--name`,
/// `relkit.toml [project] name`; `None`: the library's caller).
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    /// The value.
    pub value: &'a str,
    /// Where it came from.
    pub origin: Option<&'a str>,
}

/// The top package's identity: `name` / `version` when given, else the inferred ones;
/// `fallback` names the package when nothing does.
pub fn resolve(
    name: Option<Given<'_>>,
    version: Option<Given<'_>>,
    inferred: &Inferred,
    fallback: &str,
) -> Resolved {
    let given = |g: Given<'_>| match g.origin {
        Some(o) => format!("given ({o})"),
        None => "given by the caller".to_string(),
    };
    let inferred_name = inferred.name.as_ref();
    let inferred_version = inferred.version.as_ref();
    let name_text = match (name, inferred_name) {
        (Some(g), _) => format!("name {} {}", g.value, given(g)),
        (None, Some(f)) => format!("name {} from {} ({})", f.value, f.origin, f.how),
        (None, None) => format!("name {fallback}: no source states one"),
    };
    let version_text = match (version, inferred_version) {
        (Some(g), _) => format!("version {} {}", g.value, given(g)),
        (None, Some(f)) => format!("version {} from {} ({})", f.value, f.origin, f.how),
        (None, None) if inferred.unstated.is_empty() => {
            "version unknown: no source states one".to_string()
        }
        (None, None) => format!("version unknown: {}", inferred.unstated.join("; ")),
    };
    // Both from the same source: say it once.
    let comment = match (name, version, inferred_name, inferred_version) {
        (None, None, Some(n), Some(v)) if n.origin == v.origin => format!(
            "Top package identity: name {} and version {} from {} ({}; {})",
            n.value, v.value, n.origin, n.how, v.how
        ),
        _ => format!("Top package identity: {name_text}; {version_text}"),
    };
    Resolved {
        name: name
            .map(|g| g.value.to_string())
            .or_else(|| inferred_name.map(|f| f.value.clone()))
            .unwrap_or_else(|| fallback.to_string()),
        version: version
            .map(|g| g.value.to_string())
            .or_else(|| inferred_version.map(|f| f.value.clone())),
        comment,
    }
}

/// The name CPython's release tooling gives the interpreter's own package.
pub const CPYTHON: &str = "CPython";

/// CPython's CPE as NVD and release-tools' `sbom.py` write it: `3.13.5` →
/// `cpe:2.3:a:python:python:3.13.5:*:…`; a pre-release goes in the update field (`3.14.0rc1` →
/// `…:python:3.14.0:rc1:…`), as NVD's CPython entries do.
pub fn cpython_cpe(version: &str) -> String {
    let split = version
        .find(|c: char| c.is_ascii_alphabetic())
        .filter(|&i| i > 0)
        .map(|i| version.split_at(i));
    let (v, update) = match split {
        Some((v, u)) => (v, u),
        None => (version, "*"),
    };
    format!("cpe:2.3:a:python:python:{v}:{update}:*:*:*:*:*:*")
}

/// CPython's `Include/patchlevel.h`: the line `#define PY_VERSION "X"` (preprocessor spacing
/// allowed, a trailing comment allowed); the name is `CPython`. A header without that
/// define is not CPython's and states nothing.
pub fn cpython(text: &str) -> Result<Option<Claim>, String> {
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        let Some(rest) = rest
            .strip_prefix([' ', '\t'])
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("PY_VERSION"))
            .and_then(|r| r.strip_prefix([' ', '\t']))
        else {
            continue;
        };
        let value = rest.trim();
        let literal = value
            .strip_prefix('"')
            .and_then(|r| r.split_once('"'))
            .filter(|(_, after)| {
                let after = after.trim();
                after.is_empty() || after.starts_with("/*") || after.starts_with("//")
            })
            .map(|(v, _)| v)
            .filter(|v| version_shaped(v));
        let define = format!("#define PY_VERSION {value}");
        return Ok(Some(Claim {
            name: Some(CPYTHON.into()),
            name_how: "CPython's version header".into(),
            version: literal.map(str::to_string),
            version_how: match literal {
                Some(_) => define,
                None => format!("{define} is not a version literal"),
            },
        }));
    }
    Ok(None)
}

fn parse_toml(text: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>()
        .map_err(|e| format!("not TOML: {}", e.message()))
}

/// `Cargo.toml`: `[package] name`; `version` as a string, or `version.workspace = true`
/// resolved to the same file's `[workspace.package] version`. A virtual workspace (no
/// `[package]`) states nothing; a package without a version (Cargo then uses 0.0.0) states
/// no version.
pub fn cargo(text: &str) -> Result<Option<Claim>, String> {
    let t = parse_toml(text)?;
    let Some(pkg) = t.get("package") else {
        return Ok(None);
    };
    let pkg = pkg.as_table().ok_or("[package] is not a table")?;
    let name = match pkg.get("name") {
        None => None,
        Some(n) => Some(n.as_str().ok_or("[package] name is not a string")?),
    };
    let (version, version_how) = match pkg.get("version") {
        None => (None, "[package] has no version".to_string()),
        Some(toml::Value::String(v)) => (Some(v.clone()), "[package] version".to_string()),
        Some(toml::Value::Table(w))
            if w.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
        {
            match t
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("version"))
            {
                Some(toml::Value::String(v)) => (
                    Some(v.clone()),
                    "[package] version.workspace = true, [workspace.package] version".to_string(),
                ),
                Some(_) => return Err("[workspace.package] version is not a string".into()),
                None => (
                    None,
                    "[package] version.workspace = true, but this file has no [workspace.package] version"
                        .to_string(),
                ),
            }
        }
        Some(_) => {
            return Err("[package] version is neither a string nor { workspace = true }".into());
        }
    };
    Ok(Some(Claim {
        name: name.map(str::to_string),
        name_how: "[package] name".into(),
        version,
        version_how,
    }))
}

/// `pyproject.toml`: `[project] name` and `version` (PEP 621); a version listed in
/// `[project] dynamic` is computed at build time, so not stated. No `[project]` table (a file
/// that only configures tools) states nothing.
pub fn pyproject(text: &str) -> Result<Option<Claim>, String> {
    let t = parse_toml(text)?;
    let Some(project) = t.get("project") else {
        return Ok(None);
    };
    let project = project.as_table().ok_or("[project] is not a table")?;
    let string = |k: &str| -> Result<Option<String>, String> {
        match project.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or(format!("[project] {k} is not a string")),
        }
    };
    let dynamic = project
        .get("dynamic")
        .and_then(toml::Value::as_array)
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version")));
    let (version, version_how) = if dynamic {
        (None, "[project] version is dynamic".to_string())
    } else {
        match string("version")? {
            Some(v) => (Some(v), "[project] version".to_string()),
            None => (None, "[project] has no version".to_string()),
        }
    };
    Ok(Some(Claim {
        name: string("name")?,
        name_how: "[project] name".into(),
        version,
        version_how,
    }))
}

/// `package.json`: the top-level `name` and `version` strings (npm's manifest).
pub fn package_json(text: &str) -> Result<Option<Claim>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    let string = |k: &str| -> Result<Option<String>, String> {
        match obj.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or(format!("\"{k}\" is not a string")),
        }
    };
    let version = string("version")?;
    Ok(Some(Claim {
        name: string("name")?,
        name_how: "\"name\"".into(),
        version_how: if version.is_some() {
            "\"version\"".into()
        } else {
            "no \"version\"".into()
        },
        version,
    }))
}

/// `meson.build`: its first statement, `project(…)` (Meson requires it to come first); the
/// first positional argument is the name and the `version:` keyword the version, each only
/// when it is one plain string literal (`'…'`, `'''…'''`): `version: run_command(…)…` or
/// `files('VERSION')` states no version here.
pub fn meson(text: &str) -> Result<Option<Claim>, String> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix('#') {
            Some(r) => rest = r.split_once('\n').map_or("", |(_, after)| after),
            None => break,
        }
    }
    let Some(after) = rest.strip_prefix("project") else {
        return Ok(None);
    };
    let Some(args) = after.trim_start().strip_prefix('(') else {
        return Ok(None);
    };
    let args = meson_args(args).ok_or("project( … ) is not closed")?;
    let mut name = None;
    let mut version = None;
    let mut version_text = None;
    let mut positional = 0;
    for a in &args {
        match meson_keyword(a) {
            Some(("version", value)) => {
                version = meson_string(value);
                version_text = Some(value.trim().to_string());
            }
            Some(_) => {}
            None => {
                if positional == 0 {
                    name = meson_string(a);
                }
                positional += 1;
            }
        }
    }
    let version_how = match (&version, version_text) {
        (Some(_), Some(t)) => format!("project() version: {t}"),
        (None, Some(t)) => format!("project() version: {t} is not a string literal"),
        (_, None) => "project() has no version:".to_string(),
    };
    Ok(Some(Claim {
        name,
        name_how: "project() name".into(),
        version,
        version_how,
    }))
}

/// The top-level arguments of a Meson call, from just after `(` to its `)`; `None` when it is
/// not closed. Strings and nested brackets are kept whole; `#` comments are dropped.
fn meson_args(s: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                let triple = s[i..].starts_with("'''");
                let end = if triple {
                    s[i + 3..].find("'''").map(|e| i + 3 + e + 3)?
                } else {
                    let mut j = i + 1;
                    let b = s.as_bytes();
                    loop {
                        match b.get(j)? {
                            b'\\' => j += 2,
                            b'\'' => break j + 1,
                            b'\n' => return None,
                            _ => j += 1,
                        }
                    }
                };
                cur.push_str(&s[i..end]);
                while chars.peek().is_some_and(|(k, _)| *k < end) {
                    chars.next();
                }
            }
            '#' => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
            }
            ')' if depth == 0 => {
                if !cur.trim().is_empty() {
                    args.push(cur);
                }
                return Some(args);
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => args.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    None
}

/// `key : value` of a Meson keyword argument.
fn meson_keyword(arg: &str) -> Option<(&str, &str)> {
    let (k, v) = arg.split_once(':')?;
    let k = k.trim();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some((k, v))
}

/// The value of a Meson argument that is exactly one string literal.
fn meson_string(arg: &str) -> Option<String> {
    let a = arg.trim();
    if let Some(inner) = a.strip_prefix("'''").and_then(|r| r.strip_suffix("'''")) {
        return (!inner.contains("'''")).then(|| inner.to_string());
    }
    let inner = a.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c @ ('\\' | '\'') => out.push(c),
                _ => return None,
            },
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// `CMakeLists.txt`: the first `project(…)` command (command names are case-insensitive);
/// the first argument is the name and the one after the `VERSION` keyword the version, each
/// only as a literal (no `${…}` reference; a version of the form CMake requires,
/// `major[.minor[.patch[.tweak]]]`). Comments (`#…`, `#[[…]]`), quoted and bracket arguments
/// are read as CMake's language defines them.
pub fn cmake(text: &str) -> Result<Option<Claim>, String> {
    let mut s = text;
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(None);
        }
        if let Some(r) = s.strip_prefix('#') {
            s = skip_cmake_comment(r).ok_or("bracket comment is not closed")?;
            continue;
        }
        let ident_len = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if ident_len == 0 {
            return Err(format!(
                "unexpected {:?} where a command was expected",
                s.chars().next().unwrap_or(' ')
            ));
        }
        let (command, r) = s.split_at(ident_len);
        let r = r
            .trim_start_matches([' ', '\t'])
            .strip_prefix('(')
            .ok_or_else(|| format!("command {command} has no ("))?;
        let (args, after) = cmake_args(r).ok_or_else(|| format!("{command}( is not closed"))?;
        if command.eq_ignore_ascii_case("project") {
            return Ok(Some(cmake_project(&args)));
        }
        s = after;
    }
}

/// The text after a `#` comment (line or bracket form); `None` for an unclosed bracket.
fn skip_cmake_comment(r: &str) -> Option<&str> {
    if let Some(close) = bracket_close(r) {
        let end = r.find(&close)? + close.len();
        return Some(&r[end..]);
    }
    Some(r.split_once('\n').map_or("", |(_, after)| after))
}

/// The closing `]==]` of a bracket opened at the start of `r` (`[[`, `[=[`, …).
fn bracket_close(r: &str) -> Option<String> {
    let body = r.strip_prefix('[')?;
    let eq = body.chars().take_while(|c| *c == '=').count();
    body[eq..]
        .starts_with('[')
        .then(|| format!("]{}]", "=".repeat(eq)))
}

/// A CMake argument: its text and whether it is a literal (no variable reference).
#[derive(Debug)]
struct CmakeArg {
    text: String,
    literal: bool,
}

/// The arguments of a CMake command from just after `(` to its `)`, and the text after it.
fn cmake_args(s: &str) -> Option<(Vec<CmakeArg>, &str)> {
    let mut args = Vec::new();
    let mut r = s;
    let mut depth = 0usize;
    loop {
        r = r.trim_start();
        let c = r.chars().next()?;
        match c {
            ')' if depth == 0 => return Some((args, &r[1..])),
            ')' => {
                depth -= 1;
                r = &r[1..];
            }
            '(' => {
                depth += 1;
                r = &r[1..];
            }
            '#' => r = skip_cmake_comment(&r[1..])?,
            '"' => {
                let mut text = String::new();
                let mut chars = r.char_indices().skip(1);
                let end = loop {
                    match chars.next()? {
                        (_, '\\') => text.push(chars.next()?.1),
                        (j, '"') => break j,
                        (_, ch) => text.push(ch),
                    }
                };
                let literal = !text.contains("${") && !text.contains("$<");
                args.push(CmakeArg { text, literal });
                r = &r[end + 1..];
            }
            '[' if bracket_close(r).is_some() => {
                let close = bracket_close(r)?;
                let open = close.len();
                let end = r[open..].find(&close)? + open;
                args.push(CmakeArg {
                    text: r[open..end].trim_start_matches('\n').to_string(),
                    literal: true,
                });
                r = &r[end + close.len()..];
            }
            _ => {
                let end = r
                    .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '#'))
                    .unwrap_or(r.len());
                let text = &r[..end];
                args.push(CmakeArg {
                    text: text.to_string(),
                    literal: !text.contains("${") && !text.contains("$<"),
                });
                r = &r[end..];
            }
        }
    }
}

fn cmake_project(args: &[CmakeArg]) -> Claim {
    let name = args
        .first()
        .filter(|a| a.literal && !a.text.is_empty())
        .map(|a| a.text.clone());
    let after_version = args
        .iter()
        .position(|a| a.text == "VERSION")
        .and_then(|i| args.get(i + 1));
    let (version, version_how) = match after_version {
        Some(a) if a.literal && cmake_version_shaped(&a.text) => (
            Some(a.text.clone()),
            format!("project() VERSION {}", a.text),
        ),
        Some(a) => (
            None,
            format!("project() VERSION {} is not a version literal", a.text),
        ),
        None => (None, "project() has no VERSION".to_string()),
    };
    Claim {
        name,
        name_how: "project() name".into(),
        version,
        version_how,
    }
}

/// `major[.minor[.patch[.tweak]]]`, non-negative integers: the only form `project(VERSION)`
/// takes.
fn cmake_version_shaped(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() <= 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `configure.ac`: the `AC_INIT(package, version, …)` call, arguments split as m4 does (at
/// commas outside `[…]` quotes and parentheses; `dnl` and `#` comment lines ignored), one level
/// of quotes removed. The name is stated when what remains has no quotes, `$`, parentheses
/// or `m4_`, and is not an all-capitals identifier (an m4 macro by convention). The version is
/// stated only when what remains is a version literal: it starts with a digit, has only
/// letters, digits and `. + ~ -`, and no capital letter (m4 macros are spelt in capitals):
/// `[PYTHON_VERSION]`, `m4_esyscmd(…)`, `[-]` or `1.2.MICRO` state no version.
pub fn autoconf(text: &str) -> Result<Option<Claim>, String> {
    let code: String = text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with('#') || t.starts_with("dnl ") || t == "dnl")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let Some(start) = code.match_indices("AC_INIT(").map(|(i, _)| i).find(|&i| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    }) else {
        return Ok(None);
    };
    let args = m4_args(&code[start + "AC_INIT(".len()..]).ok_or("AC_INIT( is not closed")?;
    let raw = |i: usize| args.get(i).map(|a| a.trim().to_string());
    let macro_like = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
            && n.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let name = raw(0).map(|a| m4_unquote(&a)).filter(|n| {
        !n.is_empty()
            && !n.contains(['[', ']', '$', '(', ')'])
            && !n.contains("m4_")
            && !macro_like(n)
    });
    let (version, version_how) = match raw(1) {
        None => (None, "AC_INIT has no version argument".to_string()),
        Some(a) => {
            let v = m4_unquote(&a);
            if version_shaped(&v) && !v.chars().any(|c| c.is_ascii_uppercase()) {
                (Some(v), format!("AC_INIT version {a}"))
            } else {
                (
                    None,
                    format!("AC_INIT version {a} is an m4 expression, not a version literal"),
                )
            }
        }
    };
    Ok(Some(Claim {
        name,
        name_how: "AC_INIT package".into(),
        version,
        version_how,
    }))
}

/// The arguments of an m4 call from just after `(` to its `)`, each as written (quotes kept);
/// `None` when it is not closed.
fn m4_args(s: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut paren) = (0usize, 0usize);
    for c in s.chars() {
        match c {
            '[' => quote += 1,
            ']' => quote = quote.saturating_sub(1),
            '(' if quote == 0 => paren += 1,
            ')' if quote == 0 && paren == 0 => {
                args.push(cur);
                return Some(args);
            }
            ')' if quote == 0 => paren -= 1,
            ',' if quote == 0 && paren == 0 => {
                args.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    None
}

/// One level of m4 quotes removed from a whole argument (`[x]` → `x`); an argument that is not
/// quoted as a whole is returned as it is.
fn m4_unquote(a: &str) -> String {
    let a = a.trim();
    if let Some(inner) = a.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        // `[a]-[b]` is not one quoted string: the brackets must balance inside.
        let mut depth = 0i32;
        if inner.chars().all(|c| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            depth >= 0
        }) && depth == 0
        {
            return inner.to_string();
        }
    }
    a.to_string()
}

/// An archive's name without its suffix: Debian's `NAME_VERSION.orig` (and
/// `NAME_VERSION.orig-COMPONENT`), else `NAME-VERSION` ([`directory_name`]).
fn archive_stem(stem: &str) -> Option<Claim> {
    let debian = stem
        .rsplit_once(".orig")
        .filter(|(_, tail)| tail.is_empty() || tail.starts_with('-'))
        .and_then(|(nv, _)| nv.split_once('_'))
        .filter(|(n, v)| !n.is_empty() && version_shaped(v));
    if let Some((n, v)) = debian {
        return Some(Claim {
            name: Some(n.to_string()),
            name_how: "Debian's NAME_VERSION.orig".into(),
            version: Some(v.to_string()),
            version_how: "Debian's NAME_VERSION.orig".into(),
        });
    }
    directory_name(stem)
}

/// `NAME-VERSION`: split at the first `-` followed by a digit (or by `v` and a digit, the `v`
/// dropped) when what follows is version-shaped; otherwise the whole text is the name and
/// states no version.
fn directory_name(text: &str) -> Option<Claim> {
    let text = text.trim_end_matches('/');
    if text.is_empty() {
        return None;
    }
    let split = text.match_indices('-').find_map(|(i, _)| {
        let rest = &text[i + 1..];
        let v = rest
            .strip_prefix('v')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(rest);
        (i > 0 && version_shaped(v)).then(|| (&text[..i], v))
    });
    Some(match split {
        Some((n, v)) => Claim {
            name: Some(n.to_string()),
            name_how: "NAME-VERSION".into(),
            version: Some(v.to_string()),
            version_how: "NAME-VERSION".into(),
        },
        None => Claim {
            name: Some(text.to_string()),
            name_how: "the whole name".into(),
            version: None,
            version_how: "no -VERSION in the name".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_binary_distribution_is_what_its_root_programs_are() {
        let p = |path: &str, component: &str, version: &str| super::Program {
            path: path.into(),
            component: component.into(),
            version: version.into(),
        };
        let both = [
            p("python.exe", "cpython", "3.13.2"),
            p("pythonw.exe", "cpython", "3.13.2"),
        ];
        let (origin, c) = super::programs_claim(&both).unwrap();
        assert_eq!(
            (c.name.as_deref(), c.version.as_deref()),
            (Some(super::CPYTHON), Some("3.13.2"))
        );
        assert!(origin.contains("python.exe, pythonw.exe"), "{origin}");
        let i = super::infer(
            &Default::default(),
            &both,
            Some("python-3.13-embed-amd64.zip"),
            Some("cp313"),
        );
        assert_eq!(
            (
                i.name.as_ref().map(|f| f.value.as_str()),
                i.version.as_ref().map(|f| f.value.as_str())
            ),
            (Some("CPython"), Some("3.13.2"))
        );
        // Programs that disagree, or state no version, state nothing.
        assert!(
            super::programs_claim(&[both[0].clone(), p("py.exe", "pylauncher", "3.13.2")])
                .is_none()
        );
        assert!(super::programs_claim(&[p("tool.exe", "tool", "")]).is_none());
        assert!(super::programs_claim(&[]).is_none());
    }

    #[test]
    fn installed_cpython_headers_are_recognized() {
        for p in [
            "include/python3.11/patchlevel.h",
            "include/python3.13t/patchlevel.h",
            "include/python3.14/patchlevel.h",
        ] {
            assert!(super::installed_cpython_header(p), "{p}");
            assert!(super::reads(p), "{p}");
        }
        for p in [
            "include/python3.11/pyconfig.h",
            "include/python/patchlevel.h",
            "include/python3/patchlevel.h",
            "usr/include/python3.11/patchlevel.h",
            "include/python3.11/cpython/patchlevel.h",
        ] {
            assert!(!super::installed_cpython_header(p), "{p}");
        }
    }

    use super::*;

    fn nv(c: Option<Claim>) -> (Option<String>, Option<String>) {
        let c = c.expect("a claim");
        (c.name, c.version)
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn cpython_cpes_follow_nvd() {
        assert_eq!(
            cpython_cpe("3.13.5"),
            "cpe:2.3:a:python:python:3.13.5:*:*:*:*:*:*:*"
        );
        assert_eq!(
            cpython_cpe("3.14.0rc1"),
            "cpe:2.3:a:python:python:3.14.0:rc1:*:*:*:*:*:*"
        );
    }

    #[test]
    fn cpython_header() {
        let h = "#define PY_MAJOR_VERSION        3\n\
                 #define PY_VERSION_HEX 0x030d05f0\n\
                 /* Version as a string */\n\
                 #define PY_VERSION              \"3.13.5\"\n";
        assert_eq!(nv(cpython(h).unwrap()), (s("CPython"), s("3.13.5")));
        let rc = "#  define PY_VERSION \"3.14.0rc1\" /* comment */\n";
        assert_eq!(nv(cpython(rc).unwrap()), (s("CPython"), s("3.14.0rc1")));
        assert_eq!(
            nv(cpython("#define PY_VERSION VERSION_STR\n").unwrap()).1,
            None
        );
        assert_eq!(cpython("#define PY_VERSION_HEX 1\n").unwrap(), None);
        assert_eq!(cpython("int x;\n").unwrap(), None);
    }

    #[test]
    fn cargo_manifests() {
        let p = "[package]\nname = \"a\"\nversion = \"1.2.3\"\n";
        assert_eq!(nv(cargo(p).unwrap()), (s("a"), s("1.2.3")));
        let w = "[package]\nname = \"a\"\nversion.workspace = true\n\
                 [workspace.package]\nversion = \"4.5.6\"\n";
        assert_eq!(nv(cargo(w).unwrap()), (s("a"), s("4.5.6")));
        let w_missing = "[package]\nname = \"a\"\nversion = { workspace = true }\n";
        assert_eq!(nv(cargo(w_missing).unwrap()), (s("a"), None));
        assert_eq!(
            nv(cargo("[package]\nname = \"a\"\n").unwrap()),
            (s("a"), None)
        );
        assert_eq!(cargo("[workspace]\nmembers = []\n").unwrap(), None);
        assert!(cargo("[package\n").is_err());
        assert!(cargo("[package]\nversion = 3\n").is_err());
    }

    #[test]
    fn pyproject_and_package_json() {
        let p = "[project]\nname = \"Flask\"\nversion = \"3.2.0.dev\"\n";
        assert_eq!(nv(pyproject(p).unwrap()), (s("Flask"), s("3.2.0.dev")));
        let d = "[project]\nname = \"pytest\"\nversion = \"0\"\ndynamic = [\"version\"]\n";
        assert_eq!(nv(pyproject(d).unwrap()), (s("pytest"), None));
        assert_eq!(pyproject("[tool.black]\nx = 1\n").unwrap(), None);
        let j = r#"{"name": "json-server", "version": "0.17.1"}"#;
        assert_eq!(
            nv(package_json(j).unwrap()),
            (s("json-server"), s("0.17.1"))
        );
        assert_eq!(
            nv(package_json(r#"{"name": "x"}"#).unwrap()),
            (s("x"), None)
        );
        assert!(package_json("[1]").is_err());
        assert!(package_json("{").is_err());
    }

    #[test]
    fn meson_project() {
        let m =
            "# comment\nproject('fribidi', 'c', version: '1.0.10',\n  meson_version : '>= 0.48')\n";
        assert_eq!(nv(meson(m).unwrap()), (s("fribidi"), s("1.0.10")));
        let computed = "project('glib', 'c',\n  version : run_command('v.sh', check: true).stdout().strip(),\n)\n";
        assert_eq!(nv(meson(computed).unwrap()), (s("glib"), None));
        let escaped = "project('it\\'s', version : '''2.0''')";
        assert_eq!(nv(meson(escaped).unwrap()), (s("it's"), s("2.0")));
        assert_eq!(meson("x = 1\nproject('late')\n").unwrap(), None);
        assert!(meson("project('open', version: '1'").is_err());
    }

    #[test]
    fn cmake_project_command() {
        let c = "cmake_minimum_required(VERSION 3.1)\n##\n## PROJECT\nproject(nlohmann_json VERSION 3.10.4 LANGUAGES CXX)\n";
        assert_eq!(nv(cmake(c).unwrap()), (s("nlohmann_json"), s("3.10.4")));
        let var = "PROJECT(fmt VERSION ${FMT_VERSION} LANGUAGES CXX)";
        assert_eq!(nv(cmake(var).unwrap()), (s("fmt"), None));
        let old = "#[[ bracket\ncomment project(no) ]]\nproject(zlib C)\nset(VERSION \"1.3.1\")\n";
        assert_eq!(nv(cmake(old).unwrap()), (s("zlib"), None));
        let quoted = "project(\"json-c\" LANGUAGES C VERSION 0.18.99)";
        assert_eq!(nv(cmake(quoted).unwrap()), (s("json-c"), s("0.18.99")));
        assert_eq!(nv(cmake("project(x VERSION 1.2.3-rc1)").unwrap()).1, None);
        assert_eq!(cmake("set(A 1)\n").unwrap(), None);
        assert!(cmake("project(x VERSION 1").is_err());
    }

    #[test]
    fn autoconf_init() {
        let lit = "AC_PREREQ([2.69])\nAC_INIT([libb2], [0.98.1], [contact@blake2.net], [libb2], [https://blake2.net])\n";
        assert_eq!(nv(autoconf(lit).unwrap()), (s("libb2"), s("0.98.1")));
        let unquoted = "dnl AC_INIT([nope], [0])\nAC_INIT(GNU Hello, 2.12.1, bug-hello@gnu.org)\n";
        assert_eq!(
            nv(autoconf(unquoted).unwrap()),
            (s("GNU Hello"), s("2.12.1"))
        );
        let macro_version = "m4_define([PYTHON_VERSION], [3.13])\nAC_INIT([python],[PYTHON_VERSION],[https://github.com/python/cpython/issues/])\n";
        let c = autoconf(macro_version).unwrap().unwrap();
        assert_eq!(
            (c.name.as_deref(), c.version.as_deref()),
            (Some("python"), None)
        );
        assert!(
            c.version_how.contains("[PYTHON_VERSION]"),
            "{}",
            c.version_how
        );
        let esyscmd = "AC_INIT([GNU coreutils], m4_esyscmd([build-aux/git-version-gen .tarball-version]), [bug@gnu.org])";
        assert_eq!(nv(autoconf(esyscmd).unwrap()), (s("GNU coreutils"), None));
        for v in ["[-]", "[1.2.]MICRO", "1.2.MICRO", "[$VERSION]"] {
            let t = format!("AC_INIT([x], {v})");
            assert_eq!(nv(autoconf(&t).unwrap()), (s("x"), None), "{v}");
        }
        assert_eq!(
            nv(autoconf("AC_INIT(PACKAGE_NAME, [1.0])").unwrap()).0,
            None
        );
        assert_eq!(autoconf("AC_INIT_X(a)\n").unwrap(), None);
        assert!(autoconf("AC_INIT([a], [1.0]").is_err());
    }

    #[test]
    fn names_of_archives_and_directories() {
        let a = |n: &str| nv(archive_stem(n));
        assert_eq!(a("python3.13_3.13.5.orig"), (s("python3.13"), s("3.13.5")));
        assert_eq!(a("Python-3.13.5"), (s("Python"), s("3.13.5")));
        assert_eq!(
            a("python-dateutil-2.9.0"),
            (s("python-dateutil"), s("2.9.0"))
        );
        assert_eq!(a("ripgrep-v14.1.1"), (s("ripgrep"), s("14.1.1")));
        assert_eq!(a("cpython-subset"), (s("cpython-subset"), None));
        assert_eq!(a("Python-3.13.0rc1"), (s("Python"), s("3.13.0rc1")));
        assert_eq!(a("foo-1.0_bar"), (s("foo-1.0_bar"), None));
    }

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        list.iter()
            .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn precedence_contents_first_version_only_for_the_same_name() {
        let header = "#define PY_VERSION \"3.13.5\"\n";
        let ac = "AC_INIT([python],[PYTHON_VERSION])\n";
        let f = files(&[("Include/patchlevel.h", header), ("configure.ac", ac)]);
        let i = infer(
            &f,
            &[],
            Some("python3.13_3.13.15.orig.tar.xz"),
            Some("Python-3.13.15"),
        );
        assert_eq!(i.name.as_ref().unwrap().value, "CPython");
        assert_eq!(i.version.as_ref().unwrap().value, "3.13.5");
        assert_eq!(i.version.as_ref().unwrap().origin, "Include/patchlevel.h");
        // configure.ac names python without a version: the directory of the same name does.
        let f = files(&[("configure.ac", ac)]);
        let i = infer(&f, &[], None, Some("Python-3.13.5"));
        assert_eq!(i.name.as_ref().unwrap().value, "python");
        let v = i.version.unwrap();
        assert_eq!(
            (v.value.as_str(), v.origin.as_str()),
            ("3.13.5", "directory name Python-3.13.5")
        );
        assert_eq!(i.unstated.len(), 1);
        // ... but not one of another name.
        let i = infer(&f, &[], Some("renamed-9.9.tar.gz"), Some("other-1.0"));
        assert_eq!(i.name.unwrap().value, "python");
        assert_eq!(i.version, None);
        // Unreadable sources are passed over with a warning naming them.
        let f = files(&[
            ("Cargo.toml", "[package"),
            ("package.json", r#"{"name":"n","version":"1"}"#),
        ]);
        let i = infer(&f, &[], None, None);
        assert_eq!(i.name.unwrap().value, "n");
        assert!(
            i.warnings[0].starts_with("Cargo.toml: not TOML"),
            "{:?}",
            i.warnings
        );
        // Upper-case archive suffixes are archive suffixes.
        let i = infer(&BTreeMap::new(), &[], Some("zlib-1.3.1.TAR.GZ"), None);
        assert_eq!(i.version.unwrap().value, "1.3.1");
    }

    #[test]
    fn given_fields_win_and_every_field_says_where_it_came_from() {
        let f = files(&[("Include/patchlevel.h", "#define PY_VERSION \"3.13.5\"\n")]);
        let i = infer(&f, &[], Some("Python-3.13.5.tar.xz"), Some("Python-3.13.5"));
        let r = resolve(None, None, &i, "source");
        assert_eq!(
            (r.name.as_str(), r.version.as_deref()),
            ("CPython", Some("3.13.5"))
        );
        assert_eq!(
            r.comment,
            "Top package identity: name CPython and version 3.13.5 from Include/patchlevel.h \
             (CPython's version header; #define PY_VERSION \"3.13.5\")"
        );
        let flag = Given {
            value: "Python",
            origin: Some("--name"),
        };
        let r = resolve(Some(flag), None, &i, "source");
        assert_eq!(
            (r.name.as_str(), r.version.as_deref()),
            ("Python", Some("3.13.5"))
        );
        assert!(
            r.comment
                .contains("name Python given (--name); version 3.13.5 from Include/patchlevel.h"),
            "{}",
            r.comment
        );
        let r = resolve(None, None, &Inferred::default(), "source");
        assert_eq!((r.name.as_str(), r.version), ("source", None));
        assert!(
            r.comment.ends_with("version unknown: no source states one"),
            "{}",
            r.comment
        );
    }
}
