//! Cataloging a whole tree: every dependency file of a source tree, an archive or an installed
//! environment, given as `(relative path, bytes)` pairs by whoever walked it (relkit-sbom's
//! tree walker reads directories and archives in one pass and keeps the bytes of the files
//! [`wanted`] selects).
//!
//! Files are read independently; what needs more than one file is decided here, where the
//! whole set is visible (a `go.sum` is read only when its directory has no `go.mod`, and then
//! says so). A file that cannot be read is an error in [`TreeCatalog::errors`], named by its
//! path: the caller decides whether that fails the run, but it is never dropped.

use crate::{Catalog, Error, cataloger_for};

/// Directory names under which a project keeps copies of other projects' code: a lockfile
/// found below one describes vendored code, not the project's own dependency resolution.
pub const VENDOR_DIRS: [&str; 4] = ["vendor", "third_party", "third-party", "node_modules"];

/// Every catalog of one tree, and the files that could not be read.
#[derive(Debug, Default)]
pub struct TreeCatalog {
    /// One catalog per dependency file read, in path order.
    pub catalogs: Vec<Catalog>,
    /// The files that could not be read, each error naming its file.
    pub errors: Vec<Error>,
}

/// Whether a cataloger reads the file at this relative path (`/`-separated), or it is a
/// manifest that tells which packages of a lockfile are the project's own (`Cargo.toml`): the
/// files a tree walker must keep the bytes of.
pub fn wanted(path: &str) -> bool {
    cataloger_for(path).is_some() || crate::file_name(path) == "Cargo.toml"
}

/// The vendored directory a path lies under (`vendor/`, `libs/third_party/`, the outermost
/// `node_modules/`), if any: the prefix up to and including that component.
pub fn vendored_under(path: &str) -> Option<String> {
    let mut prefix = String::new();
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        prefix.push_str(part);
        prefix.push('/');
        if VENDOR_DIRS.contains(&part) {
            return Some(prefix);
        }
    }
    None
}

/// Catalogs every wanted file among `files` (relative paths, `/`-separated; `label` turns a
/// relative path into the name used in messages and [`Catalog::file`], e.g. the archive name
/// and the member).
pub fn catalog_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    label: &dyn Fn(&str) -> String,
) -> TreeCatalog {
    let mut files: Vec<(&str, &[u8])> = files.into_iter().filter(|(p, _)| wanted(p)).collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = TreeCatalog::default();
    for (path, bytes) in &files {
        let Some(cataloger) = cataloger_for(path) else {
            continue;
        };
        if !cataloger.applies(path, &|p| files.iter().any(|(q, _)| *q == p)) {
            continue;
        }
        match cataloger.catalog(&label(path), bytes) {
            Ok(mut c) => {
                c.vendored = vendored_under(path);
                if crate::file_name(path) == "Cargo.lock" {
                    own_crates(path, &files, label, &mut c, &mut out.errors);
                }
                out.catalogs.push(c);
            }
            Err(e) => out.errors.push(e),
        }
    }
    out
}

/// Tells a `Cargo.lock`'s own crates from its path dependencies by the `Cargo.toml` beside it
/// (see [`crate::cargo_workspace`]); a manifest that cannot be read is an error and the
/// lockfile keeps the lockfile-only reading.
fn own_crates(
    lock: &str,
    files: &[(&str, &[u8])],
    label: &dyn Fn(&str) -> String,
    catalog: &mut Catalog,
    errors: &mut Vec<Error>,
) {
    let dir = lock.rsplit_once('/').map_or("", |(d, _)| d);
    match crate::cargo_workspace::workspace(dir, &crate::cargo_workspace::KeptFiles::new(files)) {
        Ok(Some(ws)) => {
            let ws = crate::cargo_workspace::Workspace {
                manifest: label(&ws.manifest),
                ..ws
            };
            crate::cargo_workspace::mark_own(catalog, &ws);
        }
        Ok(None) => crate::cargo_workspace::no_manifest(catalog),
        Err(e) => {
            crate::cargo_workspace::no_manifest(catalog);
            errors.push(e.relabeled(label));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_prefixes() {
        assert_eq!(vendored_under("Cargo.lock"), None);
        assert_eq!(
            vendored_under("vendor/foo/Cargo.lock"),
            Some("vendor/".into())
        );
        assert_eq!(
            vendored_under("web/node_modules/a/node_modules/b/package.json"),
            Some("web/node_modules/".into())
        );
        // The file itself named like a vendored dir does not count.
        assert_eq!(vendored_under("src/vendor"), None);
    }

    #[test]
    fn a_malformed_file_is_an_error_naming_it_and_the_others_are_read() {
        let good = b"version = 4\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n";
        let bad = b"{ not json";
        let files = [
            ("Cargo.lock", &good[..]),
            ("web/package-lock.json", &bad[..]),
            ("README.md", &b"hi"[..]),
        ];
        let t = catalog_files(files, &|p| format!("src.tar.gz!{p}"));
        assert_eq!(t.catalogs.len(), 1);
        assert_eq!(t.catalogs[0].file, "src.tar.gz!Cargo.lock");
        assert_eq!(t.errors.len(), 1);
        assert!(
            t.errors[0]
                .to_string()
                .starts_with("src.tar.gz!web/package-lock.json:")
        );
    }
}
