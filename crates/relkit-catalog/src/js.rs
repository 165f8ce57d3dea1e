//! What the JavaScript readers other than `package-lock.json` share (yarn, pnpm, installed
//! `node_modules`): npm Package URLs built exactly like the package-lock reader builds them
//! (`@scope` as the namespace, percent-encoded `%40scope` in the canonical form), Subresource
//! Integrity values as hex checksums, and the scope of packages reached only through optional
//! edges.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;

use crate::{Checksum, Ecosystem, Error, Package, Scope, invalid};

/// An npm package (`name` may be `@scope/name`) with its canonical Package URL.
pub(crate) fn npm_package(
    file: &str,
    place: &str,
    name: &str,
    version: &str,
    scope: Scope,
    local: bool,
) -> Result<Package, Error> {
    let (namespace, bare) = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, bare)) => (Some(format!("@{scope}")), bare),
        None => (None, name),
    };
    let purl = relkit_ident::purl::Purl::build(
        "npm",
        namespace.as_deref(),
        bare,
        (!version.is_empty()).then_some(version),
        &BTreeMap::new(),
        None,
    )
    .map_err(|err| {
        invalid(
            file,
            place,
            format!("no valid Package URL for {name:?}: {err}"),
        )
    })?
    .to_canonical();
    Ok(Package {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version: version.to_string(),
        purl,
        source: None,
        checksums: Vec::new(),
        scope,
        local,
    })
}

/// Subresource Integrity values (`sha512-BASE64`, space-separated) as hex checksums; unknown
/// algorithms are ignored, as SRI says.
pub(crate) fn sri(file: &str, place: &str, value: &str) -> Result<Vec<Checksum>, Error> {
    let mut out = Vec::new();
    for item in value.split_whitespace() {
        let (alg, b64) = item.split_once('-').unwrap_or((item, ""));
        let algorithm = match alg {
            "sha512" => "SHA512",
            "sha384" => "SHA384",
            "sha256" => "SHA256",
            "sha1" => "SHA1",
            _ => continue,
        };
        let b64 = b64.split('?').next().unwrap_or(b64); // SRI options
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| invalid(file, place, format!("integrity {item:?}: {e}")))?;
        out.push(Checksum {
            algorithm,
            hex: hex::encode(bytes),
        });
    }
    Ok(out)
}

/// Splits an npm descriptor `name@range` (`@scope/name@range`) at the `@` after the name.
pub(crate) fn split_descriptor(descriptor: &str) -> Option<(&str, &str)> {
    let start = usize::from(descriptor.starts_with('@'));
    let at = descriptor[start..].find('@')? + start;
    Some((&descriptor[..at], &descriptor[at + 1..]))
}

/// Marks [`Scope::Optional`] the packages (not already dev, not local) whose every incoming
/// edge is an optional one (`optional_edges` ⊆ `edges`). Only the lockfile's own optional
/// edges count: what an optional package depends on in turn stays required, because the
/// lockfile does not say it is reached through the optional package alone.
pub(crate) fn optional_by_edges(
    packages: &mut [Package],
    edges: &[(usize, usize)],
    optional_edges: &BTreeSet<(usize, usize)>,
) {
    let mut required_in = vec![false; packages.len()];
    let mut optional_in = vec![false; packages.len()];
    for e in edges {
        if optional_edges.contains(e) {
            optional_in[e.1] = true;
        } else {
            required_in[e.1] = true;
        }
    }
    for (i, p) in packages.iter_mut().enumerate() {
        if optional_in[i] && !required_in[i] && !p.local && p.scope == Scope::Required {
            p.scope = Scope::Optional;
        }
    }
}

/// A mapping's entries in document order, each value read as `T` straight from the parser
/// (so a YAML plain scalar such as `4` or `1.10` read as a `String` keeps its text, which a
/// detour through `serde_yaml_ng::Value` would turn into a number).
pub(crate) struct Ordered<T>(pub(crate) Vec<(String, T)>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Ordered<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, T>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// A YAML scalar as text (numbers and booleans as the parser read them; anything else empty).
pub(crate) fn yaml_scalar(v: &serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_split_after_the_scope() {
        assert_eq!(split_descriptor("@a/b@^1"), Some(("@a/b", "^1")));
        assert_eq!(split_descriptor("a@npm:b@^1"), Some(("a", "npm:b@^1")));
        assert_eq!(split_descriptor("a"), None);
    }
}
