//! Go modules: `go.sum` alone, as a fallback for a directory without a `go.mod` (where both
//! are present, [`crate::GoMod`] reads the module graph and this cataloger declines).
//!
//! A `go.sum` line is `MODULE VERSION[/go.mod] h1:BASE64`: a `/go.mod` line only authenticates
//! a module's `go.mod` (read while resolving the graph, never built), a line without it the
//! module's content, which the build downloaded. So the modules cataloged are those with a
//! content line; where one module has content lines for several versions (files kept since
//! before Go 1.17 pruned them), the highest version is cataloged — what minimal version
//! selection builds — and the others are named in a warning, as is the fact that the file was
//! read without its `go.mod` (no main module, no direct/indirect distinction, no edges).
//!
//! The `h1:` value (SHA-256 over the module's file list, Go's "dirhash") is carried as a
//! `SHA256` checksum in hex, as cdxgen does; it is not the hash of a downloadable file.
//! PURLs follow [`crate::GoMod`]: `pkg:golang/MODULE@VERSION` without the leading `v`.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::{Catalog, Cataloger, Checksum, Ecosystem, Error, Package, Scope, invalid};

/// One content line of a module: version, line number, `h1:` digest.
type ContentLine<'a> = (&'a str, usize, Vec<u8>);

/// Reads `go.sum` where there is no `go.mod` beside it.
pub struct GoSum;

impl Cataloger for GoSum {
    fn kind(&self) -> &'static str {
        "go.sum"
    }

    fn reads(&self, path: &str) -> bool {
        crate::file_name(path) == "go.sum"
    }

    fn applies(&self, path: &str, exists: &dyn Fn(&str) -> bool) -> bool {
        let dir = &path[..path.len() - crate::file_name(path).len()];
        !exists(&format!("{dir}go.mod"))
    }

    fn catalog(&self, file: &str, bytes: &[u8]) -> Result<Catalog, Error> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::Syntax {
            file: file.to_string(),
            format: "go.sum",
            source: e.into(),
        })?;
        // module → [(version, line, h1 digest)], content lines only, in file order.
        let mut modules: BTreeMap<&str, Vec<ContentLine>> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let place = format!("line {}", n + 1);
            let [path, version, hash] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                return Err(invalid(file, place, format!("malformed line {line:?}")));
            };
            if version.ends_with("/go.mod") {
                continue;
            }
            let digest = h1_digest(hash)
                .ok_or_else(|| invalid(file, &place, format!("malformed hash {hash:?}")))?;
            let versions = modules.entry(path).or_default();
            if versions.is_empty() {
                order.push(path);
            }
            versions.push((version, n + 1, digest));
        }
        let mut catalog = Catalog {
            file: file.to_string(),
            format: "go.sum (without go.mod)".into(),
            ..Catalog::default()
        };
        catalog.warnings.push(
            "read without a go.mod: the modules whose content go.sum authenticates, no main \
             module and no dependency edges"
                .into(),
        );
        for path in order {
            let versions = &modules[path];
            let best = versions
                .iter()
                .max_by(|a, b| compare_versions(a.0, b.0))
                .expect("a module has at least one version");
            for (version, line, _) in versions {
                if version != &best.0 {
                    catalog.warnings.push(format!(
                        "line {line}: {path} {version} not cataloged: {} is the highest \
                         version listed, the one minimal version selection builds",
                        best.0
                    ));
                }
            }
            let mut p = go_package(file, &format!("line {}", best.1), path, best.0, false)?;
            p.checksums.push(Checksum {
                algorithm: "SHA256",
                hex: hex::encode(&best.2),
            });
            catalog.packages.push(p);
        }
        Ok(catalog)
    }
}

/// The SHA-256 digest of an `h1:BASE64` module hash, `None` when malformed.
pub(crate) fn h1_digest(hash: &str) -> Option<Vec<u8>> {
    let b64 = hash.strip_prefix("h1:")?;
    let digest = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (digest.len() == 32).then_some(digest)
}

/// Orders Go module versions (`vMAJOR.MINOR.PATCH[-PRE][+META]`) by semantic-version
/// precedence; what is not a semantic version sorts below what is.
pub(crate) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> Option<(Vec<u64>, Option<Vec<&str>>)> {
        let v = v.strip_prefix('v')?;
        let v = v.split('+').next()?;
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p.split('.').collect())),
            None => (v, None),
        };
        let nums = core
            .split('.')
            .map(|n| n.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        Some((nums, pre))
    }
    fn pre_cmp(a: &Option<Vec<&str>>, b: &Option<Vec<&str>>) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (a, b) {
            (None, None) => Equal,
            (None, Some(_)) => Greater,
            (Some(_), None) => Less,
            (Some(a), Some(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Less,
                        (Err(_), Ok(_)) => Greater,
                        (Err(_), Err(_)) => x.cmp(y),
                    };
                    if o != Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
        }
    }
    match (key(a), key(b)) {
        (Some((na, pa)), Some((nb, pb))) => na.cmp(&nb).then_with(|| pre_cmp(&pa, &pb)),
        (Some(_), None) => std::cmp::Ordering::Greater,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (None, None) => a.cmp(b),
    }
}

/// A Go module as a package: `pkg:golang/PATH@VERSION` without the version's leading `v`, as
/// [`crate::GoMod`] writes it (the Go vulndb's and Trivy's form).
pub(crate) fn go_package(
    file: &str,
    place: &str,
    path: &str,
    version: &str,
    local: bool,
) -> Result<Package, Error> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let (namespace, name) = match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, path),
    };
    let purl = relkit_ident::purl::Purl::build(
        "golang",
        namespace,
        name,
        (!version.is_empty()).then_some(version),
        &BTreeMap::new(),
        None,
    )
    .map_err(|e| invalid(file, place, format!("no valid Package URL for {path}: {e}")))?
    .to_canonical();
    Ok(Package {
        ecosystem: Ecosystem::Golang,
        name: path.to_string(),
        version: version.to_string(),
        purl,
        source: None,
        checksums: Vec::new(),
        scope: Scope::Required,
        local,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("v1.10.0", "v1.9.9"), Greater);
        assert_eq!(compare_versions("v1.0.0-rc.1", "v1.0.0"), Less);
        assert_eq!(
            compare_versions(
                "v0.0.0-20210908233432-aa78b53d3365",
                "v0.0.0-20200101000000-aaaaaaaaaaaa"
            ),
            Greater
        );
        assert_eq!(compare_versions("v2.0.0+incompatible", "v1.5.0"), Greater);
    }

    #[test]
    fn declines_beside_go_mod() {
        assert!(!GoSum.applies("a/go.sum", &|p| p == "a/go.mod"));
        assert!(GoSum.applies("a/go.sum", &|p| p == "go.mod"));
        assert!(!GoSum.applies("go.sum", &|p| p == "go.mod"));
    }
}
