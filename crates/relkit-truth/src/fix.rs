//! `--fix`: rewrites the versions, CPE versions and PURL versions of contradicted packages
//! from the evidence, editing the SBOM's own JSON (so every field relkit's model does not
//! carry survives), and writes the result atomically (temporary file, then rename).

use std::path::Path;

use relkit_ident::cpe::{AttrValue, Attribute, Binding, Wfn};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::{Report, Verdict, same_version};

/// One edit made by [`fix`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Package id.
    pub package: String,
    /// JSON path of the edited value.
    pub path: String,
    /// Old value.
    pub old: String,
    /// New value.
    pub new: String,
}

/// The edits, plus fields that still mention the old version and need a human look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FixResult {
    /// Every change made.
    pub changes: Vec<Change>,
    /// Fields left alone that mention an old version (download locations, comments).
    pub review: Vec<String>,
}

/// Replaces the version of a CPE (FS or URI binding kept), clearing a version-like update.
fn cpe_with_version(cpe: &str, version: &str) -> Option<String> {
    let (mut w, binding) = Wfn::parse_with_binding(cpe).ok()?;
    w.set(Attribute::Version, AttrValue::literal(version))
        .ok()?;
    Some(match binding {
        Binding::Uri => w.to_uri(),
        _ => w.to_fs(),
    })
}

/// Percent-encodes a PURL version (everything but unreserved characters).
fn purl_escape(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._~-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Replaces (or adds) the `@version` of a PURL, leaving everything else as written.
fn purl_with_version(purl: &str, version: &str) -> String {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    let (head, tail) = purl.split_at(end);
    let base = match head.rfind('@') {
        Some(at) if head[at..].find('/').is_none() => &head[..at],
        _ => head,
    };
    format!("{base}@{}{tail}", purl_escape(version))
}

struct Target<'a> {
    id: &'a str,
    new: &'a str,
    old: Option<&'a str>,
}

/// Applies the evidence to the SBOM JSON `value` (SPDX 2.x or CycloneDX): for every package
/// whose evidence names a version (contradicted, or confirmed with wrong identifiers), sets
/// the version and the versions in its CPEs and PURLs.
pub fn fix(value: &mut Value, report: &Report, origin: &str) -> Result<FixResult> {
    let targets: Vec<Target> = report
        .packages
        .iter()
        .filter(|p| {
            p.verdict == Verdict::Contradicted
                || (p.verdict == Verdict::Confirmed && p.inconsistent())
        })
        .filter_map(|p| {
            Some(Target {
                id: &p.id,
                new: p.found_version.as_deref()?,
                old: p.declared_version.as_deref(),
            })
        })
        .collect();
    let mut out = FixResult::default();
    let fmt = relkit_sbom::detect(value).ok_or_else(|| Error::Fix {
        origin: origin.into(),
        path: "$".into(),
        message: "neither an SPDX nor a CycloneDX JSON document".into(),
    })?;
    match fmt {
        relkit_sbom::Format::SpdxJson => {
            let pkgs = value
                .get_mut("packages")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| Error::Fix {
                    origin: origin.into(),
                    path: "$.packages".into(),
                    message: "missing or not an array".into(),
                })?;
            for (i, p) in pkgs.iter_mut().enumerate() {
                let Some(t) = targets
                    .iter()
                    .find(|t| p.get("SPDXID").and_then(Value::as_str) == Some(t.id))
                else {
                    continue;
                };
                let base = format!("$.packages[{i}]");
                set_str(p, "versionInfo", t, &base, &mut out);
                if let Some(refs) = p.get_mut("externalRefs").and_then(Value::as_array_mut) {
                    for (j, r) in refs.iter_mut().enumerate() {
                        let kind = r
                            .get("referenceType")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let path = format!("{base}.externalRefs[{j}].referenceLocator");
                        if kind.starts_with("cpe") {
                            edit_identifier(r, "referenceLocator", t, &path, true, &mut out);
                        } else if kind == "purl" {
                            edit_identifier(r, "referenceLocator", t, &path, false, &mut out);
                        }
                    }
                }
                review(
                    p,
                    &base,
                    &["downloadLocation", "comment", "sourceInfo"],
                    t,
                    &mut out,
                );
            }
        }
        relkit_sbom::Format::CycloneDxJson => {
            if let Some(c) = value.pointer_mut("/metadata/component") {
                cdx_component(c, "$.metadata.component", &targets, &mut out);
            }
            if let Some(cs) = value.get_mut("components").and_then(Value::as_array_mut) {
                for (i, c) in cs.iter_mut().enumerate() {
                    cdx_component(c, &format!("$.components[{i}]"), &targets, &mut out);
                }
            }
        }
    }
    Ok(out)
}

fn cdx_component(c: &mut Value, base: &str, targets: &[Target], out: &mut FixResult) {
    let id = c.get("bom-ref").and_then(Value::as_str).map(String::from);
    if let Some(t) = targets.iter().find(|t| id.as_deref() == Some(t.id)) {
        set_str(c, "version", t, base, out);
        edit_identifier(c, "cpe", t, &format!("{base}.cpe"), true, out);
        edit_identifier(c, "purl", t, &format!("{base}.purl"), false, out);
        review(c, base, &["description"], t, out);
    }
    if let Some(cs) = c.get_mut("components").and_then(Value::as_array_mut) {
        for (i, child) in cs.iter_mut().enumerate() {
            cdx_component(child, &format!("{base}.components[{i}]"), targets, out);
        }
    }
}

fn set_str(obj: &mut Value, key: &str, t: &Target, base: &str, out: &mut FixResult) {
    let old = obj.get(key).and_then(Value::as_str).map(String::from);
    if old.as_deref() == Some(t.new) {
        return;
    }
    obj[key] = Value::String(t.new.to_string());
    out.changes.push(Change {
        package: t.id.into(),
        path: format!("{base}.{key}"),
        old: old.unwrap_or_default(),
        new: t.new.into(),
    });
}

fn edit_identifier(
    obj: &mut Value,
    key: &str,
    t: &Target,
    path: &str,
    cpe: bool,
    out: &mut FixResult,
) {
    let Some(old) = obj.get(key).and_then(Value::as_str).map(String::from) else {
        return;
    };
    let new = if cpe {
        let current = Wfn::parse(&old).ok().and_then(|w| w.version());
        if current.as_deref().is_some_and(|v| same_version(v, t.new)) {
            return;
        }
        match cpe_with_version(&old, t.new) {
            Some(n) => n,
            None => {
                out.review
                    .push(format!("{path}: {old} is not a valid CPE; not changed"));
                return;
            }
        }
    } else {
        let current = relkit_ident::purl::Purl::parse(&old)
            .ok()
            .and_then(|p| p.version);
        if current.as_deref().is_some_and(|v| same_version(v, t.new)) {
            return;
        }
        purl_with_version(&old, t.new)
    };
    obj[key] = Value::String(new.clone());
    out.changes.push(Change {
        package: t.id.into(),
        path: path.into(),
        old,
        new,
    });
}

fn review(obj: &Value, base: &str, keys: &[&str], t: &Target, out: &mut FixResult) {
    let Some(old) = t.old.filter(|o| !o.is_empty()) else {
        return;
    };
    for k in keys {
        if let Some(v) = obj.get(*k).and_then(Value::as_str)
            && mentions(v, old)
        {
            out.review.push(format!(
                "{base}.{k} still mentions {old} ({v}); the file checksums and this field may need a refresh too"
            ));
        }
    }
}

/// Whether `text` holds `version` as a whole version (`0.98` is not in `0.98.1`).
fn mentions(text: &str, version: &str) -> bool {
    text.match_indices(version).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let mut after = text[at + version.len()..].chars();
        let next = after.next();
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        !digit(before)
            && before != Some('.')
            && match next {
                Some('.') => !digit(after.next()),
                n => !digit(n),
            }
    })
}

/// Writes `bytes` to `dest` through a temporary file in the same directory and a rename
/// ([`relkit_core::fs::write_atomic`]), so a reader never sees a half-written SBOM.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    relkit_core::fs::write_atomic(dest, bytes).map_err(|source| Error::Io {
        path: dest.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_version_mentions() {
        let url =
            "https://github.com/libexpat/libexpat/releases/download/R_2_6_3/expat-2.6.3.tar.gz";
        assert!(mentions(url, "2.6.3"));
        assert!(!mentions(url, "2.6"));
        assert!(mentions("see v1.0.", "1.0"));
        assert!(!mentions("libb2-0.98.1.tar.gz", "0.98"));
    }

    #[test]
    fn cpe_and_purl_versions_are_replaced() {
        assert_eq!(
            cpe_with_version(
                "cpe:2.3:a:libexpat_project:libexpat:2.6.3:*:*:*:*:*:*:*",
                "2.7.1"
            )
            .as_deref(),
            Some("cpe:2.3:a:libexpat_project:libexpat:2.7.1:*:*:*:*:*:*:*")
        );
        assert_eq!(
            purl_with_version("pkg:pypi/macholib@1.0?x=y#sub", "1.1"),
            "pkg:pypi/macholib@1.1?x=y#sub"
        );
        assert_eq!(
            purl_with_version("pkg:generic/zlib", "1.3.1"),
            "pkg:generic/zlib@1.3.1"
        );
        assert_eq!(
            purl_with_version("pkg:pypi/x@1", "1.0+local"),
            "pkg:pypi/x@1.0%2Blocal"
        );
    }
}
