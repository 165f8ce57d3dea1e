//! Source evidence: for each package, the files the SBOM assigns to it decide where to look;
//! the rules table decides which files to read and how. Planning comes first (which files,
//! for all packages), then one batch read, then the verdicts — so an archive is read twice
//! at most and a directory only where the rules point.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use relkit_sbom::Document;
use relkit_sbom::model::Package;

use crate::error::Result;
use crate::rules::{FileRule, normalize_name, rules};
use crate::tree::Tree;
use crate::{Evidence, FilesInfo, PackageReport, judge};

/// At most this many name matches below a package directory are read per rule.
const MAX_SEARCH_HITS: usize = 4;

/// Where a package's evidence is looked for.
struct Plan<'a> {
    pkg: &'a Package,
    /// Ids of the packages the SBOM places this file-less package inside.
    inside: Vec<&'a str>,
    files: FilesInfo,
    /// (rule, candidate paths) of the library rows, then of the generic rows.
    library: Vec<(&'static FileRule, Vec<String>)>,
    generic: Vec<(&'static FileRule, Vec<String>)>,
    /// The lockfile (or installed-package metadata) the SBOM names as the package's evidence,
    /// when it is in the tree: read again and asked for the package.
    manifest: Option<String>,
    looked_for: Vec<String>,
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map_or("", |(d, _)| d)
}

fn common_dir<'a>(paths: &[&'a str]) -> Option<&'a str> {
    let first = parent(paths.first()?);
    let mut common = first;
    for p in &paths[1..] {
        while !(common.is_empty()
            || parent(p) == common
            || parent(p).starts_with(&format!("{common}/")))
        {
            common = parent(common);
        }
    }
    Some(common)
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

fn under<'a>(listing: &'a [&'a str], dir: Option<&str>) -> impl Iterator<Item = &'a str> + 'a {
    let prefix = dir.filter(|d| !d.is_empty()).map(|d| format!("{d}/"));
    listing.iter().copied().filter(move |p| {
        prefix
            .as_ref()
            .is_none_or(|pre| p.starts_with(pre.as_str()))
    })
}

fn ends_with_path(p: &str, suffix: &str) -> bool {
    p == suffix || p.ends_with(&format!("/{suffix}"))
}

/// The file names any rule may ask for (wheels aside): archives keep only these members'
/// content.
fn wanted_names() -> BTreeSet<&'static str> {
    rules()
        .libraries
        .iter()
        .flat_map(|l| &l.evidence)
        .chain(&rules().generic)
        .filter_map(|r| r.file.as_deref())
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect()
}

/// Whether the source rules may read a member with this path (or file name): a file one of
/// the rules names, or a wheel.
pub(crate) fn may_read(path: &str) -> bool {
    static NAMES: std::sync::OnceLock<BTreeSet<&'static str>> = std::sync::OnceLock::new();
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".whl")
        || NAMES.get_or_init(wanted_names).contains(name)
        || relkit_catalog::tree::wanted(path)
}

/// Each package with the paths of the files the SBOM assigns to it (`CONTAINS`).
fn assigned_files(doc: &Document) -> Vec<(&Package, Vec<&str>)> {
    let name_of: BTreeMap<&str, &str> = doc
        .files
        .iter()
        .map(|f| (f.id.as_str(), f.name.trim_start_matches("./")))
        .collect();
    let by_package = doc.contained_files_by_package();
    doc.packages
        .iter()
        .map(|p| {
            let files = by_package
                .get(p.id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|id| name_of.get(id).copied())
                .collect();
            (p, files)
        })
        .collect()
}

/// Verifies every package of `doc` against a source tree or archive.
pub(crate) fn verify(doc: &Document, against: &Path) -> Result<(Vec<PackageReport>, Vec<String>)> {
    // Up to 50 of the SBOM's file paths (by file id) decide whether a single top directory
    // is the root.
    let name_of: BTreeMap<&str, &str> = doc
        .files
        .iter()
        .map(|f| (f.id.as_str(), f.name.trim_start_matches("./")))
        .collect();
    let probe: Vec<&str> = name_of.values().copied().take(50).collect();
    let tree = Tree::open(against, &probe, &may_read)?;
    Ok(verify_tree(doc, &tree))
}

/// Verifies every package of `doc` against an opened tree: plan where to look for every
/// package, read all wanted files in one batch, then judge.
pub(crate) fn verify_tree(doc: &Document, tree: &Tree) -> (Vec<PackageReport>, Vec<String>) {
    let mut notes = Vec::new();
    let listing_cell: std::cell::OnceCell<(Vec<&str>, Option<String>)> = std::cell::OnceCell::new();
    let listing = || {
        &listing_cell
            .get_or_init(|| match tree.listing() {
                Ok(l) => (l, None),
                Err(e) => (Vec::new(), Some(e)),
            })
            .0
    };
    // Packages the document describes are the tree itself: their directory is the root.
    let top: BTreeSet<&str> = doc.describes.iter().map(String::as_str).collect();
    let parents = parents_of(doc, &top);
    let plans: Vec<Plan> = assigned_files(doc)
        .iter()
        .map(|(pkg, files)| {
            let inside = if files.is_empty() {
                parents.get(pkg.id.as_str()).cloned().unwrap_or_default()
            } else {
                Vec::new()
            };
            plan(
                pkg,
                files,
                inside,
                top.contains(pkg.id.as_str()),
                tree,
                &listing,
            )
        })
        .collect();
    if let Some((_, Some(e))) = listing_cell.get() {
        notes.push(e.clone());
    }
    let wanted: BTreeSet<String> = plans
        .iter()
        .flat_map(|p| p.library.iter().chain(&p.generic))
        .flat_map(|(_, c)| c.iter().cloned())
        .chain(plans.iter().filter_map(|p| p.manifest.clone()))
        .collect();
    let content = tree.read_many(&wanted);
    for (path, r) in &content {
        if let Err(e) = r {
            notes.push(format!("{path}: {e}"));
        }
    }
    (judge_all(plans, &content), notes)
}

/// Packages the SBOM places inside another package (pip DEPENDS_ON its vendored idna), with
/// the packages they are inside: their evidence is inside the parent, not anywhere in the tree.
fn parents_of<'d>(doc: &'d Document, top: &BTreeSet<&str>) -> BTreeMap<&'d str, Vec<&'d str>> {
    let package_ids: BTreeSet<&str> = doc.packages.iter().map(|p| p.id.as_str()).collect();
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &doc.relationships {
        if matches!(r.kind.as_str(), "DEPENDS_ON" | "CONTAINS")
            && package_ids.contains(r.from.as_str())
            && package_ids.contains(r.to.as_str())
            && !top.contains(r.from.as_str())
        {
            parents
                .entry(r.to.as_str())
                .or_default()
                .push(r.from.as_str());
        }
    }
    parents
}

/// Where to look for one package's evidence: its files present in the tree, its directory,
/// the library rows of the rules table, then the generic rows.
fn plan<'a>(
    pkg: &'a Package,
    files: &[&str],
    inside: Vec<&'a str>,
    is_top: bool,
    tree: &Tree,
    listing: &dyn Fn() -> &'a Vec<&'a str>,
) -> Plan<'a> {
    let present: Vec<&str> = files.iter().copied().filter(|f| tree.exists(f)).collect();
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !present.contains(f))
        .take(20)
        .map(|f| f.to_string())
        .collect();
    let info = FilesInfo {
        assigned: files.len(),
        present: present.len(),
        missing,
    };
    let root: Option<&str> = if is_top { Some("") } else { common_dir(files) };
    let mut looked_for = Vec::new();
    match (files.len(), present.len()) {
        (0, _) if !inside.is_empty() => looked_for.push(format!(
            "the SBOM assigns no files to this package and places it inside {}: looked in their wheels' */_vendor/vendor.txt",
            inside.join(", ")
        )),
        (0, _) if root.is_none() => looked_for.push(
            "the SBOM assigns no files to this package: searched the whole tree by file name"
                .to_string(),
        ),
        (n, 0) if n > 0 => looked_for.push(format!(
            "none of the {n} files the SBOM assigns to this package is in the tree"
        )),
        _ => {}
    }
    let where_ = Where {
        files,
        present: &present,
        root,
        inside: &inside,
    };
    let library = plan_library(pkg, &where_, tree, listing, &mut looked_for);
    let generic = plan_generic(pkg, &where_, tree, listing, &mut looked_for);
    let manifest = pkg
        .evidence
        .iter()
        .find(|e| e.is_manifest() && relkit_catalog::cataloger_for(&e.file).is_some())
        .map(|e| e.file.trim_start_matches("./").to_string());
    if let Some(m) = &manifest {
        if tree.exists(m) {
            looked_for.push(format!(
                "read {m} again (the SBOM names it as the evidence)"
            ));
        } else {
            looked_for.push(format!(
                "the SBOM names {m} as the evidence, but it is not in the tree"
            ));
        }
    }
    Plan {
        pkg,
        inside,
        files: info,
        library,
        generic,
        manifest: manifest.filter(|m| tree.exists(m)),
        looked_for,
    }
}

/// Where a package's files are, for planning.
struct Where<'w> {
    /// The paths the SBOM assigns to it.
    files: &'w [&'w str],
    /// Those present in the tree.
    present: &'w [&'w str],
    /// Its directory (`Some("")`: the tree root), `None` when unknown.
    root: Option<&'w str>,
    /// The packages it is vendored inside.
    inside: &'w [&'w str],
}

/// The candidate files of the package's library rows (a rule table entry matched by name or
/// CPE vendor:product).
fn plan_library<'a>(
    pkg: &Package,
    w: &Where<'_>,
    tree: &Tree,
    listing: &dyn Fn() -> &'a Vec<&'a str>,
    looked_for: &mut Vec<String>,
) -> Vec<(&'static FileRule, Vec<String>)> {
    let cpe_vp: Vec<String> = pkg
        .cpes
        .iter()
        .filter_map(|c| {
            let w = relkit_ident::cpe::Wfn::parse(c).ok()?;
            Some(format!("{}:{}", w.vendor()?, w.product()?))
        })
        .collect();
    let mut library = Vec::new();
    let Some(lib) = rules().library_for(&pkg.name, &cpe_vp) else {
        return library;
    };
    let root = w.root;
    for rule in &lib.evidence {
        let file = rule.file.as_deref().expect("library rows name a file");
        let mut cands: Vec<String> = w
            .present
            .iter()
            .filter(|p| ends_with_path(p, file))
            .map(|p| p.to_string())
            .collect();
        if cands.is_empty()
            && let Some(r) = root
            && tree.exists(&join(r, file))
        {
            cands.push(join(r, file));
        }
        if cands.is_empty()
            && w.inside.is_empty()
            && (root.is_some_and(|r| !r.is_empty()) || w.files.is_empty())
        {
            let mut hits: Vec<&str> = under(listing(), root)
                .filter(|p| ends_with_path(p, file))
                .collect();
            hits.sort_by_key(|p| (p.matches('/').count(), *p));
            cands.extend(hits.into_iter().take(MAX_SEARCH_HITS).map(String::from));
        }
        if !w.inside.is_empty() {
            continue;
        }
        looked_for.push(format!(
            "{} in {}",
            rule.describe(),
            match root {
                Some("") => "the tree root".to_string(),
                Some(r) => r.to_string(),
                None => "the whole tree".to_string(),
            }
        ));
        library.push((rule, cands));
    }
    library
}

/// The candidate files of the generic rows (in the package's directory), or, for a package
/// without a directory, its bundled wheel anywhere in the tree.
fn plan_generic<'a>(
    pkg: &Package,
    w: &Where<'_>,
    tree: &Tree,
    listing: &dyn Fn() -> &'a Vec<&'a str>,
    looked_for: &mut Vec<String>,
) -> Vec<(&'static FileRule, Vec<String>)> {
    let mut generic = Vec::new();
    let pname = normalize_name(&pkg.name);
    let is_wheel_of = |p: &str| {
        p.ends_with(".whl")
            && wheel_name_version(p).is_some_and(|(n, _)| normalize_name(n) == pname)
    };
    if let Some(r) = w.root {
        for rule in &rules().generic {
            let cands: Vec<String> = if rule.wheel {
                let mut found: Vec<String> = w
                    .present
                    .iter()
                    .filter(|p| {
                        wheel_name_version(p).is_some_and(|(n, _)| normalize_name(n) == pname)
                    })
                    .map(|p| p.to_string())
                    .collect();
                if found.is_empty() {
                    found = under(listing(), Some(r))
                        .filter(|p| is_wheel_of(p))
                        .map(String::from)
                        .collect();
                }
                found
            } else {
                let f = join(r, rule.file.as_deref().expect("non-wheel rows name a file"));
                if tree.exists(&f) { vec![f] } else { Vec::new() }
            };
            generic.push((rule, cands));
        }
        looked_for.push(format!(
            "generic fallback: {} in {}",
            rules()
                .generic
                .iter()
                .map(FileRule::describe)
                .collect::<Vec<_>>()
                .join(", "),
            if r.is_empty() { "the tree root" } else { r }
        ));
    } else if w.inside.is_empty() {
        // Bundled wheels need no assigned files: the name decides.
        let wheel = rules().generic.iter().find(|g| g.wheel).expect("wheel row");
        let found: Vec<String> = listing()
            .iter()
            .filter(|p| is_wheel_of(p))
            .map(|p| p.to_string())
            .collect();
        looked_for.push(format!("{} in the whole tree", wheel.describe()));
        generic.push((wheel, found));
    }
    generic
}

/// The evidence of every planned package (library rows first, the generic rows when they
/// found nothing, then the vendor.txt of the wheels it is inside) and its verdict.
fn judge_all(
    plans: Vec<Plan<'_>>,
    content: &BTreeMap<String, std::result::Result<Vec<u8>, String>>,
) -> Vec<PackageReport> {
    let mut evidence_of: Vec<Vec<Evidence>> = Vec::new();
    for plan in &plans {
        let mut evidence = collect(&plan.library, content);
        if evidence.is_empty() {
            evidence = collect(&plan.generic, content);
        }
        evidence_of.push(evidence);
    }
    // The wheels that evidence each package (for the packages vendored inside them).
    let wheels_of: BTreeMap<&str, BTreeSet<&str>> = plans
        .iter()
        .zip(&evidence_of)
        .map(|(p, ev)| {
            let wheels = ev
                .iter()
                .filter(|e| e.method == "wheel-filename")
                .map(|e| e.file.as_str())
                .collect();
            (p.pkg.id.as_str(), wheels)
        })
        .collect();
    let mut vendored: Vec<Vec<Evidence>> = Vec::new();
    for plan in &plans {
        let mut ev = Vec::new();
        for parent in &plan.inside {
            for wheel in wheels_of.get(parent).into_iter().flatten() {
                if let Some(Ok(bytes)) = content.get(*wheel) {
                    ev.extend(vendor_txt_evidence(wheel, bytes, &plan.pkg.name));
                }
            }
        }
        vendored.push(ev);
    }
    let mut catalogs = ManifestCache::default();
    let mut reports = Vec::new();
    for ((plan, mut evidence), v) in plans.into_iter().zip(evidence_of).zip(vendored) {
        evidence.extend(v);
        if let Some(m) = &plan.manifest {
            evidence.extend(catalogs.evidence(m, content, plan.pkg));
        }
        reports.push(judge(plan.pkg, evidence, plan.files, plan.looked_for));
    }
    reports
}

/// Lockfiles read again, once each, for the packages that name them as evidence.
#[derive(Default)]
struct ManifestCache {
    read: BTreeMap<String, Option<relkit_catalog::Catalog>>,
}

impl ManifestCache {
    /// What the lockfile `path` says about the package: the version of each entry with the
    /// package's PURL (without its version), so a different version contradicts it.
    fn evidence(
        &mut self,
        path: &str,
        content: &BTreeMap<String, std::result::Result<Vec<u8>, String>>,
        pkg: &Package,
    ) -> Vec<Evidence> {
        let catalog = self.read.entry(path.to_string()).or_insert_with(|| {
            let Some(Ok(bytes)) = content.get(path) else {
                return None;
            };
            relkit_catalog::cataloger_for(path)?
                .catalog(path, bytes)
                .ok()
        });
        let Some(catalog) = catalog else {
            return Vec::new();
        };
        let unversioned = |purl: &str| purl.split(['@', '?', '#']).next().unwrap_or("").to_string();
        let wanted: BTreeSet<String> = pkg.purls.iter().map(|p| unversioned(p)).collect();
        // An entry with the very PURL confirms it (a lockfile may hold several versions of
        // one package); without one, every entry of that name shows its own version.
        let exact: Vec<&relkit_catalog::Package> = catalog
            .packages
            .iter()
            .filter(|p| pkg.purls.contains(&p.purl))
            .take(1)
            .collect();
        let same_name = || {
            catalog
                .packages
                .iter()
                .filter(|p| wanted.contains(&unversioned(&p.purl)) && !p.version.is_empty())
                .collect::<Vec<_>>()
        };
        let entries = if exact.is_empty() { same_name() } else { exact };
        entries
            .into_iter()
            .map(|p| Evidence {
                file: path.to_string(),
                line: None,
                offset: None,
                method: format!("lockfile: {}", catalog.format),
                text: format!("{} {}", p.name, p.version),
                version: p.version.clone(),
            })
            .collect()
    }
}

fn collect(
    rules: &[(&FileRule, Vec<String>)],
    content: &BTreeMap<String, std::result::Result<Vec<u8>, String>>,
) -> Vec<Evidence> {
    let mut out = Vec::new();
    for (rule, cands) in rules {
        for path in cands {
            let Some(Ok(bytes)) = content.get(path) else {
                continue;
            };
            if rule.wheel {
                out.extend(wheel_evidence(path, bytes));
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            if let Some(e) = rule.extract(&text) {
                out.push(Evidence {
                    file: path.clone(),
                    line: Some(e.line),
                    offset: Some(e.offset),
                    method: format!("source-rule: {}", rule.describe()),
                    text: e.text,
                    version: e.version,
                });
            }
        }
    }
    out
}

/// Evidence from a wheel's `*/_vendor/vendor.txt` (pip's list of the projects it vendors):
/// the `name==version` line of the package.
fn vendor_txt_evidence(wheel: &str, bytes: &[u8], package: &str) -> Vec<Evidence> {
    let Ok(members) = wheel_members(wheel, bytes, &|n| n.ends_with("/_vendor/vendor.txt")) else {
        return Vec::new();
    };
    let want = normalize_name(package);
    let mut out = Vec::new();
    for list in members
        .names
        .iter()
        .filter(|n| n.ends_with("/_vendor/vendor.txt"))
    {
        let Some(Ok(text)) = members.content.get(list).map(|b| std::str::from_utf8(b)) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let spec = line.split('#').next().unwrap_or("").trim();
            if let Some((name, version)) = spec.split_once("==")
                && normalize_name(name.trim()) == want
            {
                out.push(Evidence {
                    file: format!("{wheel}!{list}"),
                    line: Some(i as u64 + 1),
                    offset: None,
                    method: "wheel-vendor.txt".into(),
                    text: line.trim().to_string(),
                    version: version.trim().to_string(),
                });
            }
        }
    }
    out
}

/// The members of a wheel found in the tree (its file members' names, and up to 1 MiB of
/// those `keep` selects), read through relkit-archive like every archive.
fn wheel_members(
    wheel: &str,
    bytes: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> relkit_sbom::Result<relkit_sbom::wheel::Members> {
    relkit_sbom::wheel::read_members(bytes, wheel, keep, 1 << 20)
}

/// `(distribution, version)` from a wheel file name (`pip-25.1.1-py3-none-any.whl`).
fn wheel_name_version(path: &str) -> Option<(&str, &str)> {
    let name = path.rsplit('/').next()?.strip_suffix(".whl")?;
    let mut parts = name.split('-');
    let dist = parts.next()?;
    let version = parts.next()?;
    (parts.count() >= 3).then_some((dist, version))
}

/// Evidence from a bundled wheel: its file name and its `*.dist-info/METADATA` `Version:`.
fn wheel_evidence(path: &str, bytes: &[u8]) -> Vec<Evidence> {
    let mut out = Vec::new();
    if let Some((_, v)) = wheel_name_version(path) {
        out.push(Evidence {
            file: path.to_string(),
            line: None,
            offset: None,
            method: "wheel-filename".into(),
            text: path.rsplit('/').next().unwrap_or(path).to_string(),
            version: v.to_string(),
        });
    }
    let is_metadata = |n: &str| n.matches('/').count() == 1 && n.ends_with(".dist-info/METADATA");
    let Ok(members) = wheel_members(path, bytes, &is_metadata) else {
        return out;
    };
    let meta = members.names.iter().find(|n| is_metadata(n));
    if let Some(meta) = meta
        && let Some(bytes) = members.content.get(meta)
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Version:") {
                out.push(Evidence {
                    file: format!("{path}!{meta}"),
                    line: Some(i as u64 + 1),
                    offset: None,
                    method: "wheel-metadata".into(),
                    text: line.to_string(),
                    version: v.trim().to_string(),
                });
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_directory_of_package_files() {
        assert_eq!(
            common_dir(&[
                "Modules/_hacl/Hacl_Hash_MD5.c",
                "Modules/_hacl/include/krml/x.h"
            ]),
            Some("Modules/_hacl")
        );
        assert_eq!(common_dir(&["a/b/c.h", "a/d/e.h"]), Some("a"));
        assert_eq!(common_dir(&["x.h", "a/d/e.h"]), Some(""));
        assert_eq!(common_dir(&[]), None);
    }

    #[test]
    fn wheel_names() {
        assert_eq!(
            wheel_name_version("Lib/ensurepip/_bundled/pip-25.1.1-py3-none-any.whl"),
            Some(("pip", "25.1.1"))
        );
        assert_eq!(wheel_name_version("x/notawheel.whl"), None);
    }
}
