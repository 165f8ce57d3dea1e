//! Deciding whether one installed version is affected: OSV ranges evaluated as the OSV
//! schema's algorithm says, RustSec requirement lists, and NVD configurations (nodes,
//! AND/OR, negate, `vulnerable`, version start/end bounds, platform conditions).

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use relkit_ident::cpe::{AttrValue, Attribute, Wfn};

use crate::record::{Affected, Configuration, CpeMatch, Event};
use crate::version::{Scheme, Version};

/// The verdict for one installed version against one affected package or configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Affected; `reason` names the range; `fixed` is the first fixed version above, if any.
    Affected {
        /// Which range or list matched, e.g. `ECOSYSTEM >= 0, < 23.3`.
        reason: String,
        /// The fixed version that ends the matching range.
        fixed: Option<String>,
        /// A condition that the SBOM cannot prove (NVD "running on" platforms).
        condition: Option<String>,
    },
    /// Not affected.
    NotAffected,
    /// Cannot be decided from a version (GIT-only ranges, unparsable versions).
    Unevaluable(String),
}

/// Evaluates an OSV `affected` entry for `installed` per the OSV schema (§ Evaluation):
/// affected when listed in `versions` or inside any ECOSYSTEM/SEMVER range.
pub fn osv_affected(a: &Affected, installed: &str) -> Verdict {
    if let Some(rs) = &a.rustsec {
        return rustsec_affected(rs, installed);
    }
    let scheme_of = |kind: &str| {
        if kind == "SEMVER" && Scheme::for_ecosystem(&a.ecosystem) != Scheme::Go {
            Scheme::Semver
        } else {
            Scheme::for_ecosystem(&a.ecosystem)
        }
    };
    // OSV lists exact versions; the ecosystem's own equality decides (PEP 440 `1.0` = `1.0.0`,
    // Go's `v` prefix), as the one judge does for every other comparison.
    let listed_scheme = scheme_of("ECOSYSTEM");
    if a.versions
        .iter()
        .any(|v| v == installed || crate::version::same_in(listed_scheme, v, installed))
    {
        return Verdict::Affected {
            reason: format!("{installed} is listed in versions"),
            fixed: first_fixed(a, scheme_of, installed),
            condition: None,
        };
    }
    let mut problems = Vec::new();
    let mut git_only = true;
    for r in &a.ranges {
        if r.kind == "GIT" {
            continue;
        }
        git_only = false;
        let scheme = scheme_of(&r.kind);
        let v = match Version::parse(scheme, installed) {
            Ok(v) => v,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        match included_in_range(&v, scheme, &r.events) {
            Ok(Some((reason, fixed))) => {
                return Verdict::Affected {
                    reason: format!("{} {reason}", r.kind),
                    fixed,
                    condition: None,
                };
            }
            Ok(None) => {}
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Verdict::Unevaluable(problems.join("; "));
    }
    if git_only && !a.ranges.is_empty() && a.versions.is_empty() {
        let repos: Vec<&str> = a.ranges.iter().filter_map(|r| r.repo.as_deref()).collect();
        return Verdict::Unevaluable(format!(
            "only GIT ranges (commits in {}): not evaluable by version",
            if repos.is_empty() {
                "an unnamed repository".to_string()
            } else {
                repos.join(", ")
            }
        ));
    }
    Verdict::NotAffected
}

fn first_fixed(
    a: &Affected,
    scheme_of: impl Fn(&str) -> Scheme,
    installed: &str,
) -> Option<String> {
    let mut best: Option<(Version, String)> = None;
    for r in a.ranges.iter().filter(|r| r.kind != "GIT") {
        let scheme = scheme_of(&r.kind);
        let Ok(v) = Version::parse(scheme, installed) else {
            continue;
        };
        for e in &r.events {
            if let Event::Fixed(f) = e
                && let Ok(fv) = Version::parse(scheme, f)
                && fv.compare(&v) == Some(Ordering::Greater)
                && best
                    .as_ref()
                    .is_none_or(|(b, _)| fv.compare(b) == Some(Ordering::Less))
            {
                best = Some((fv, f.clone()));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// The OSV algorithm for one range: sort events by version (`0` lowest), walk them,
/// introduced turns vulnerable on, fixed (`v >= fixed`) and last_affected (`v > last`)
/// turn it off; `limit` events cap the range. Returns the matched interval and its fix.
fn included_in_range(
    v: &Version,
    scheme: Scheme,
    events: &[Event],
) -> Result<Option<(String, Option<String>)>, String> {
    let mut parsed: Vec<(Option<Version>, &Event)> = Vec::new();
    for e in events {
        let text = match e {
            Event::Introduced(t) | Event::Fixed(t) | Event::LastAffected(t) | Event::Limit(t) => t,
        };
        let pv = if (matches!(e, Event::Introduced(_)) && text == "0")
            || (matches!(e, Event::Limit(_)) && text == "*")
        {
            None
        } else {
            Some(Version::parse(scheme, text).map_err(|err| format!("range event {err}"))?)
        };
        parsed.push((pv, e));
    }
    let limits: Vec<&Option<Version>> = parsed
        .iter()
        .filter(|(_, e)| matches!(e, Event::Limit(_)))
        .map(|(p, _)| p)
        .collect();
    if !limits.is_empty()
        && !limits.iter().any(|l| match l {
            None => true,
            Some(lv) => v.compare(lv) == Some(Ordering::Less),
        })
    {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by(|&i, &j| match (&parsed[i].0, &parsed[j].0) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.compare(b).unwrap_or(Ordering::Equal),
    });
    let mut vulnerable = false;
    let mut since = String::new();
    for &i in &order {
        let (pv, e) = &parsed[i];
        match e {
            Event::Introduced(t) => {
                if pv
                    .as_ref()
                    .is_none_or(|iv| v.compare(iv) != Some(Ordering::Less))
                {
                    vulnerable = true;
                    since = t.clone();
                }
            }
            Event::Fixed(_) => {
                if pv
                    .as_ref()
                    .is_some_and(|fv| v.compare(fv) != Some(Ordering::Less))
                {
                    vulnerable = false;
                }
            }
            Event::LastAffected(_) => {
                if pv
                    .as_ref()
                    .is_some_and(|lv| v.compare(lv) == Some(Ordering::Greater))
                {
                    vulnerable = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    if !vulnerable {
        return Ok(None);
    }
    // The end of the interval: the first fixed / last_affected event above `since`.
    let mut end: Option<(&Version, &Event)> = None;
    for &i in &order {
        if let (Some(pv), e @ (Event::Fixed(_) | Event::LastAffected(_))) =
            (&parsed[i].0, parsed[i].1)
        {
            let above = match e {
                Event::Fixed(_) => pv.compare(v) == Some(Ordering::Greater),
                _ => pv.compare(v) != Some(Ordering::Less),
            };
            if above && end.is_none() {
                end = Some((pv, e));
            }
        }
    }
    let (reason, fixed) = match end {
        Some((_, Event::Fixed(f))) => (format!(">= {since}, < {f}"), Some(f.clone())),
        Some((_, Event::LastAffected(l))) => (format!(">= {since}, <= {l} (last_affected)"), None),
        _ => (format!(">= {since}"), None),
    };
    Ok(Some((reason, fixed)))
}

/// RustSec: affected unless a `patched` or `unaffected` SemVer requirement matches.
fn rustsec_affected(rs: &crate::record::RustsecVersions, installed: &str) -> Verdict {
    let v = match semver::Version::parse(installed) {
        Ok(v) => v,
        Err(e) => {
            return Verdict::Unevaluable(format!("{installed:?} is not a SemVer version: {e}"));
        }
    };
    for r in rs.patched.iter().chain(&rs.unaffected) {
        if semver::VersionReq::parse(r).is_ok_and(|req| req.matches(&v)) {
            return Verdict::NotAffected;
        }
    }
    let fixed = rs
        .patched
        .iter()
        .filter_map(|r| semver::VersionReq::parse(r).ok().map(|q| (r, q)))
        .filter_map(|(r, q)| {
            q.comparators.first().and_then(|c| {
                let cv = semver::Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
                (cv > v).then_some((cv, r))
            })
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(cv, _)| cv.to_string());
    Verdict::Affected {
        reason: format!(
            "RustSec: not in patched [{}] nor unaffected [{}]",
            rs.patched.join(", "),
            rs.unaffected.join(", ")
        ),
        fixed,
        condition: None,
    }
}

/// A component identity for NVD matching: its CPE and the version to compare.
#[derive(Debug, Clone)]
pub struct CpeTarget {
    /// The component's CPE as a WFN.
    pub wfn: Wfn,
    /// The CPE string as given.
    pub text: String,
    /// The version (from the CPE, else the package version).
    pub version: Option<String>,
}

fn attr_eq(criteria: &AttrValue, target: &AttrValue) -> bool {
    match (criteria, target) {
        (AttrValue::Any, _) => true,
        (AttrValue::Na, AttrValue::Na) => true,
        (AttrValue::Value(_), AttrValue::Value(_)) => {
            criteria.unquoted().map(|s| s.to_ascii_lowercase())
                == target.unquoted().map(|s| s.to_ascii_lowercase())
        }
        _ => false,
    }
}

/// Parsed cpeMatch criteria, shared across the records of one scan: most records of a
/// product use the same few criteria strings (`cpe:2.3:a:openssl:openssl:*:…`), and parsing
/// each one again for every record was a tenth of a large scan's time.
#[derive(Debug, Default)]
pub struct CriteriaCache(RefCell<HashMap<String, Option<Rc<Wfn>>>>);

impl CriteriaCache {
    /// An empty cache.
    pub fn new() -> CriteriaCache {
        CriteriaCache::default()
    }

    /// The criteria parsed as a WFN (`None` when it does not parse).
    pub fn get(&self, criteria: &str) -> Option<Rc<Wfn>> {
        if let Some(hit) = self.0.borrow().get(criteria) {
            return hit.clone();
        }
        let parsed = Wfn::parse(criteria).ok().map(Rc::new);
        self.0
            .borrow_mut()
            .insert(criteria.to_string(), parsed.clone());
        parsed
    }
}

/// Whether one cpeMatch covers the target; returns the range text when it does.
pub fn cpe_match(m: &CpeMatch, target: &CpeTarget, cache: &CriteriaCache) -> Option<String> {
    cpe_match_as(m, target, false, cache)
}

/// Like [`cpe_match`]; as a `platform` ("running on") criterion a `-` (NA) version such as
/// `cpe:2.3:o:microsoft:windows:-` stands for the platform in any version.
fn cpe_match_as(
    m: &CpeMatch,
    target: &CpeTarget,
    platform: bool,
    cache: &CriteriaCache,
) -> Option<String> {
    let c = cache.get(&m.criteria)?;
    for attr in [Attribute::Part, Attribute::Vendor, Attribute::Product] {
        if !attr_eq(c.get(attr), target.wfn.get(attr)) {
            return None;
        }
    }
    // A component CPE with `*` for these says nothing: accept. A specific update
    // (`3.13.0:alpha0`) only matches that update: a plain release is not a pre-release.
    match (c.get(Attribute::Update), target.wfn.get(Attribute::Update)) {
        (AttrValue::Any, _) | (AttrValue::Na, AttrValue::Any | AttrValue::Na) => {}
        (cu @ AttrValue::Value(_), tu @ AttrValue::Value(_)) if attr_eq(cu, tu) => {}
        _ => return None,
    }
    for attr in [
        Attribute::TargetSw,
        Attribute::TargetHw,
        Attribute::Language,
    ] {
        if let (AttrValue::Value(_), AttrValue::Value(_)) = (c.get(attr), target.wfn.get(attr))
            && !attr_eq(c.get(attr), target.wfn.get(attr))
        {
            return None;
        }
    }
    if platform && *c.get(Attribute::Version) == AttrValue::Na {
        return Some("any version".into());
    }
    let installed = target.version.as_deref()?;
    let iv = Version::parse(Scheme::Generic, installed).ok()?;
    let cmp = |bound: &str| {
        Version::parse(Scheme::Generic, bound)
            .ok()
            .and_then(|b| iv.compare(&b))
    };
    match c.get(Attribute::Version) {
        AttrValue::Any => {}
        AttrValue::Na => return None,
        cv @ AttrValue::Value(_) => {
            let exact = cv.unquoted()?;
            if exact.contains(['*', '?']) {
                return None;
            }
            if cmp(&exact) != Some(Ordering::Equal) {
                return None;
            }
            return Some(m.describe(Some(&exact)));
        }
    }
    if let Some(b) = &m.start_including
        && !matches!(cmp(b), Some(Ordering::Greater | Ordering::Equal))
    {
        return None;
    }
    if let Some(b) = &m.start_excluding
        && cmp(b) != Some(Ordering::Greater)
    {
        return None;
    }
    if let Some(b) = &m.end_including
        && !matches!(cmp(b), Some(Ordering::Less | Ordering::Equal))
    {
        return None;
    }
    if let Some(b) = &m.end_excluding
        && cmp(b) != Some(Ordering::Less)
    {
        return None;
    }
    Some(m.describe(None))
}

/// Evaluates an NVD configuration for one component. `platforms` are the other CPEs of
/// the SBOM, used to decide "running on" conditions; a condition the SBOM cannot prove
/// becomes [`Verdict::Affected`] with `condition` set.
pub fn nvd_affected(
    conf: &Configuration,
    target: &CpeTarget,
    platforms: &[CpeTarget],
    cache: &CriteriaCache,
) -> Verdict {
    // Find a vulnerable cpeMatch covering the component in some node.
    let mut hit: Option<(usize, String, Option<String>)> = None;
    for (ni, node) in conf.nodes.iter().enumerate() {
        if node.negate {
            continue;
        }
        for m in node.matches.iter().filter(|m| m.vulnerable) {
            if let Some(reason) = cpe_match(m, target, cache) {
                hit = Some((
                    ni,
                    format!("{} {reason}", m.criteria),
                    m.end_excluding.clone(),
                ));
                break;
            }
        }
        if hit.is_some() {
            break;
        }
    }
    let Some((hit_node, reason, fixed)) = hit else {
        return Verdict::NotAffected;
    };
    if conf.negate {
        return Verdict::NotAffected;
    }
    if !conf.and || conf.nodes.len() < 2 {
        return Verdict::Affected {
            reason,
            fixed,
            condition: None,
        };
    }
    // AND: every other node must hold too; they are platform ("running on") conditions.
    let mut unproven = Vec::new();
    for (ni, node) in conf.nodes.iter().enumerate() {
        if ni == hit_node {
            continue;
        }
        let holds = |m: &CpeMatch| {
            platforms
                .iter()
                .any(|p| cpe_match_as(m, p, true, cache).is_some())
        };
        let present = if node.and {
            node.matches.iter().all(holds)
        } else {
            node.matches.iter().any(holds)
        };
        let listed: Vec<&str> = node.matches.iter().map(|m| m.criteria.as_str()).collect();
        match (node.negate, present) {
            (false, true) | (true, false) => {}
            (false, false) => unproven.push(format!(
                "running on {}{}",
                if node.and { "all of " } else { "one of " },
                listed.join(", ")
            )),
            (true, true) => return Verdict::NotAffected,
        }
    }
    Verdict::Affected {
        reason,
        fixed,
        condition: (!unproven.is_empty()).then(|| unproven.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Range, RustsecVersions};

    fn aff(eco: &str, ranges: Vec<Range>, versions: &[&str]) -> Affected {
        Affected {
            ecosystem: eco.into(),
            name: "x".into(),
            ranges,
            versions: versions.iter().map(|s| s.to_string()).collect(),
            rustsec: None,
        }
    }

    fn range(kind: &str, ev: Vec<Event>) -> Range {
        Range {
            kind: kind.into(),
            repo: Some("https://example.org/repo".into()),
            events: ev,
        }
    }

    #[test]
    fn osv_algorithm() {
        let r = range(
            "ECOSYSTEM",
            vec![
                Event::Introduced("0".into()),
                Event::Fixed("1.0".into()),
                Event::Introduced("2.0".into()),
                Event::LastAffected("2.2".into()),
            ],
        );
        let a = aff("PyPI", vec![r], &[]);
        assert!(
            matches!(osv_affected(&a, "0.5"), Verdict::Affected { fixed: Some(f), .. } if f == "1.0")
        );
        assert_eq!(osv_affected(&a, "1.0"), Verdict::NotAffected);
        assert_eq!(osv_affected(&a, "1.5"), Verdict::NotAffected);
        assert!(matches!(
            osv_affected(&a, "2.2"),
            Verdict::Affected { fixed: None, .. }
        ));
        assert_eq!(osv_affected(&a, "2.2.1"), Verdict::NotAffected);
        assert!(matches!(
            osv_affected(&a, "garbage!"),
            Verdict::Unevaluable(_)
        ));
        let g = aff(
            "PyPI",
            vec![range("GIT", vec![Event::Introduced("abc".into())])],
            &[],
        );
        assert!(matches!(osv_affected(&g, "1.0"), Verdict::Unevaluable(m) if m.contains("GIT")));
        let l = aff(
            "Go",
            vec![range(
                "SEMVER",
                vec![Event::Introduced("0".into()), Event::Limit("1.5.0".into())],
            )],
            &[],
        );
        assert!(matches!(
            osv_affected(&l, "v1.4.0"),
            Verdict::Affected { .. }
        ));
        assert_eq!(osv_affected(&l, "v1.5.0"), Verdict::NotAffected);
        let rs = Affected {
            rustsec: Some(RustsecVersions {
                patched: vec!["^0.3.26".into(), ">= 0.4.4".into()],
                unaffected: vec![],
            }),
            ..aff("crates.io", vec![], &[])
        };
        assert!(
            matches!(osv_affected(&rs, "0.4.3"), Verdict::Affected { fixed: Some(f), .. } if f == "0.4.4")
        );
        assert_eq!(osv_affected(&rs, "0.3.26"), Verdict::NotAffected);
        assert_eq!(osv_affected(&rs, "0.4.4"), Verdict::NotAffected);
    }
}
