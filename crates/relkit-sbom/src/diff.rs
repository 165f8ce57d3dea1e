//! `sbom diff OLD NEW`: which components were added, removed, upgraded, or changed CPE/PURL.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Document;

/// A component as the diff sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// CPEs.
    pub cpes: Vec<String>,
    /// PURLs.
    pub purls: Vec<String>,
}

/// A component present on both sides with differences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Name.
    pub name: String,
    /// Old side.
    pub old: Component,
    /// New side.
    pub new: Component,
    /// What changed: `version`, `cpe`, `purl`.
    pub changes: Vec<&'static str>,
}

/// The differences between two SBOMs' components (files are not compared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Only in NEW.
    pub added: Vec<Component>,
    /// Only in OLD.
    pub removed: Vec<Component>,
    /// In both, different.
    pub changed: Vec<Changed>,
}

impl Diff {
    /// Whether the two SBOMs differ.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn components(doc: &Document) -> BTreeMap<String, Vec<Component>> {
    let mut m: BTreeMap<String, Vec<Component>> = BTreeMap::new();
    for p in &doc.packages {
        m.entry(p.name.to_ascii_lowercase())
            .or_default()
            .push(Component {
                name: p.name.clone(),
                version: p.version.clone(),
                cpes: p.cpes.clone(),
                purls: p.purls.clone(),
            });
    }
    for v in m.values_mut() {
        v.sort();
        v.dedup();
    }
    m
}

/// Compares the packages of two documents by (case-insensitive) name. When a name occurs once
/// on each side, differences are reported as a change; otherwise versions are matched exactly
/// and the rest is added/removed.
pub fn diff(old: &Document, new: &Document) -> Diff {
    let (a, b) = (components(old), components(new));
    let mut d = Diff::default();
    for (name, olds) in &a {
        let Some(news) = b.get(name) else {
            d.removed.extend(olds.iter().cloned());
            continue;
        };
        if olds.len() == 1 && news.len() == 1 {
            let (o, n) = (&olds[0], &news[0]);
            let mut changes = Vec::new();
            if o.version != n.version {
                changes.push("version");
            }
            if o.cpes != n.cpes {
                changes.push("cpe");
            }
            if o.purls != n.purls {
                changes.push("purl");
            }
            if !changes.is_empty() {
                d.changed.push(Changed {
                    name: n.name.clone(),
                    old: o.clone(),
                    new: n.clone(),
                    changes,
                });
            }
        } else {
            d.removed.extend(
                olds.iter()
                    .filter(|o| !news.iter().any(|n| n.version == o.version))
                    .cloned(),
            );
            d.added.extend(
                news.iter()
                    .filter(|n| !olds.iter().any(|o| o.version == n.version))
                    .cloned(),
            );
        }
    }
    for (name, news) in &b {
        if !a.contains_key(name) {
            d.added.extend(news.iter().cloned());
        }
    }
    d
}
