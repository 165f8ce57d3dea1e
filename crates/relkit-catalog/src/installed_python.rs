//! Python: installed distributions, as `pip`, `uv` and `installer` leave them in a
//! `site-packages` directory or a virtual environment: `NAME-VERSION.dist-info/METADATA`
//! (core metadata, `Metadata-Version` 1.0 to 2.x; a later major version is an error, as the
//! core metadata specification asks), and the older setuptools `NAME.egg-info/PKG-INFO` (same
//! header format).
//!
//! One file is one installed package, `pkg:pypi/NAME@VERSION` from its `Name` and `Version`
//! headers (the directory name is not trusted: it is escaped and may be stale). What is not
//! read: `Requires-Dist` (requirements, not resolved versions: the installed version of a
//! requirement is another file's, so the edges are for whoever sees the whole environment),
//! `RECORD` (hashes of installed files, not of the package), `.egg` archives and `.pth`
//! links (not metadata files).

use crate::{Catalog, Cataloger, Error, Scope, invalid};

/// Reads `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`.
pub struct InstalledPython;

impl Cataloger for InstalledPython {
    fn kind(&self) -> &'static str {
        "installed Python distribution"
    }

    fn reads(&self, path: &str) -> bool {
        let mut parts = path.rsplit(['/', '\\']);
        match (parts.next(), parts.next()) {
            (Some("METADATA"), Some(dir)) => dir.ends_with(".dist-info"),
            (Some("PKG-INFO"), Some(dir)) => dir.ends_with(".egg-info"),
            _ => false,
        }
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let kind = if crate::file_name(file) == "PKG-INFO" {
            "PKG-INFO"
        } else {
            "METADATA"
        };
        // Core metadata is UTF-8 (a few old PKG-INFO files are not: read them lossily, the
        // fields relkit reads are ASCII in practice and checked below).
        let text = String::from_utf8_lossy(bytes);
        let headers = headers(&text);
        let get = |key: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim())
        };
        let meta_version =
            get("Metadata-Version").ok_or_else(|| invalid(file, "Metadata-Version", "missing"))?;
        let major = meta_version.split('.').next().unwrap_or_default();
        if !matches!(major, "1" | "2") {
            return Err(Error::UnsupportedVersion {
                file: file.to_string(),
                format: "core metadata",
                version: meta_version.to_string(),
                supported: "1.0 to 2.x",
            });
        }
        let name = get("Name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| invalid(file, "Name", "missing"))?;
        let version = get("Version")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(file, "Version", "missing"))?;
        let package =
            crate::pylock::pypi_package(file, "Name", name, version, Scope::Required, false)?;
        Ok(Catalog {
            file: file.to_string(),
            format: format!("{kind} (Metadata-Version {meta_version})"),
            packages: vec![package],
            ..Catalog::default()
        })
    }
}

/// The RFC 822-style header fields before the first empty line (continuation lines, which
/// start with white space, joined to their field).
fn headers(text: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim(), v.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read() {
        let c = InstalledPython;
        assert!(c.reads("venv/lib/python3.12/site-packages/idna-3.10.dist-info/METADATA"));
        assert!(c.reads("site-packages\\six.egg-info\\PKG-INFO"));
        assert!(!c.reads("idna-3.10/PKG-INFO"));
        assert!(!c.reads("METADATA"));
        assert!(!c.reads("x.dist-info/RECORD"));
    }

    #[test]
    fn bad_files_are_located_errors() {
        let c = InstalledPython;
        let e = c
            .catalog("a.dist-info/METADATA", b"Name: a\nVersion: 1\n")
            .unwrap_err();
        assert!(e.to_string().contains("Metadata-Version: missing"), "{e}");
        let e = c
            .catalog(
                "a.dist-info/METADATA",
                b"Metadata-Version: 3.0\nName: a\nVersion: 1\n",
            )
            .unwrap_err();
        assert!(matches!(e, Error::UnsupportedVersion { .. }), "{e}");
        let e = c
            .catalog(
                "a.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: a\n\nVersion: 1\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("Version: missing"), "{e}");
    }
}
