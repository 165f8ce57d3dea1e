//! Scanning an SBOM: every package is looked up by each PURL (OSV records of its
//! ecosystem) and each CPE (NVD configurations), and hits for the same vulnerability
//! (linked by ids and aliases) become one finding per component.
//!
//! The JSON form of [`Report`] is stable (`schema: "relkit-scan/1"`): findings sorted by
//! component then id, each with `id`, `aliases`, `component`, `component_ref`, `purl`,
//! `installed`, `fixed`, `severity`, `score`, `vector`, `summary`, `condition` and
//! `reasons[]` (`record`, `via` = `purl`|`cpe`, `identifier`, `range`); `suppressed[]`
//! (finding + VEX `status`, `justification`, `statement`); `notes[]` (what could not be
//! evaluated and why).

use std::collections::BTreeSet;

use relkit_ident::cpe::{AttrValue, Wfn};
use relkit_ident::purl::Purl;
use relkit_sbom::Document;
use serde::Serialize;

use crate::db::{Db, DbError};
use crate::ecosystem;
use crate::matching::{self, CpeTarget, CriteriaCache, Verdict};
use crate::record::{Level, Record};

/// Scan settings.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Keep only findings that have a fixed version.
    pub only_fixed: bool,
}

/// Why a component matched a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The record that matched.
    pub record: String,
    /// `purl` or `cpe`.
    pub via: &'static str,
    /// The PURL or CPE of the component that matched.
    pub identifier: String,
    /// The range or criteria that covered the version.
    pub range: String,
}

/// One vulnerability of one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Primary id (a CVE when one is known, else GHSA, else the first record id).
    pub id: String,
    /// All other ids of this vulnerability (CVE, GHSA, PYSEC, GO, RUSTSEC, …).
    pub aliases: Vec<String>,
    /// Component name.
    pub component: String,
    /// SBOM element id of the component.
    pub component_ref: String,
    /// First PURL of the component.
    pub purl: Option<String>,
    /// Installed version: the one the matching PURL (else CPE) carried.
    pub installed: Option<String>,
    /// Version that fixes it, when known.
    pub fixed: Option<String>,
    /// Severity rating.
    pub severity: Level,
    /// CVSS base score.
    pub score: Option<f64>,
    /// CVSS vector.
    pub vector: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// Set when the match depends on something the SBOM cannot show (NVD "running on").
    pub condition: Option<String>,
    /// Matches that produced this finding.
    pub reasons: Vec<Reason>,
    /// Where the component was found: the files its SBOM evidence names (a lockfile, a
    /// binary, a manifest), sorted; empty when the SBOM records none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// Set for an informational advisory (RustSec `unmaintained`, `unsound`, `notice`): the
    /// finding is in [`Report::warnings`], not a vulnerability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
}

impl Finding {
    /// The primary id and all aliases.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A finding suppressed by a VEX statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// VEX status (`not_affected`).
    pub status: String,
    /// VEX justification.
    pub justification: Option<String>,
    /// VEX impact statement.
    pub statement: Option<String>,
}

/// Something that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Component name.
    pub component: String,
    /// The PURL / CPE concerned.
    pub identifier: Option<String>,
    /// The record concerned.
    pub record: Option<String>,
    /// What happened.
    pub message: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Format id of this JSON.
    pub schema: &'static str,
    /// The scanned SBOM (path or name).
    pub target: String,
    /// The DB used.
    pub database: String,
    /// Packages scanned.
    pub components: usize,
    /// Findings, sorted by component then id.
    pub findings: Vec<Finding>,
    /// Informational advisories that apply (RustSec `unmaintained`, `unsound`, `notice`):
    /// reported as cargo-audit reports them, as warnings; they are not vulnerabilities and
    /// never count for a severity threshold.
    pub warnings: Vec<Finding>,
    /// Findings suppressed by VEX.
    pub suppressed: Vec<Suppressed>,
    /// Evaluation notes.
    pub notes: Vec<Note>,
    /// Components no advisory could be looked up for (`name version`): no PURL of an
    /// ecosystem the DB covers and no CPE with a version. A scan is silent about them, so it
    /// says so (the project's own packages and the document's subject are not listed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl Report {
    /// Findings at or above `level`.
    pub fn at_least(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.severity >= level).count()
    }
}

struct Hit<'r> {
    record: &'r Record,
    version: String,
    reason: Reason,
    fixed: Option<String>,
    condition: Option<String>,
}

/// A hit before its record is borrowed: record index, version, reason, fixed, condition.
type RawHit = (usize, String, Reason, Option<String>, Option<String>);

/// Scans every package of `doc` against `db`.
pub fn scan_document(
    doc: &Document,
    target: &str,
    db: &Db,
    opts: &ScanOptions,
) -> Result<Report, DbError> {
    let platforms: Vec<CpeTarget> = doc
        .packages
        .iter()
        .flat_map(|p| {
            p.cpes
                .iter()
                .filter_map(|c| cpe_target(c, p.version.as_deref()))
        })
        .collect();
    let criteria = CriteriaCache::new();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut unchecked = Vec::new();
    for pkg in &doc.packages {
        // Whether any identifier of the package reached an advisory lookup.
        let mut looked_up = false;
        let note = |identifier: Option<&str>, record: Option<&str>, message: String| Note {
            component: pkg.name.clone(),
            identifier: identifier.map(str::to_string),
            record: record.map(str::to_string),
            message,
        };
        let mut records: Vec<Record> = Vec::new();
        let mut raw_hits: Vec<RawHit> = Vec::new();
        let own = is_own_package(pkg);
        if own {
            notes.push(note(
                pkg.purls.first().map(String::as_str),
                None,
                "the project's own package (a workspace member or path dependency, no download location): not matched against registry advisories, as cargo-audit and npm audit skip it".into(),
            ));
        }
        for text in pkg.purls.iter().filter(|_| !own) {
            let purl = match Purl::parse(text) {
                Ok(p) => p,
                Err(e) => {
                    notes.push(note(Some(text), None, format!("unparsable PURL: {e}")));
                    continue;
                }
            };
            let Some((eco, name)) = ecosystem::from_purl(&purl) else {
                notes.push(note(
                    Some(text),
                    None,
                    format!(
                        "unknown ecosystem for PURL type {:?}: not matched by PURL{}",
                        purl.ty,
                        if pkg.cpes.is_empty() {
                            ""
                        } else {
                            " (still matched by CPE)"
                        }
                    ),
                ));
                continue;
            };
            let Some(version) = purl.version.clone().or_else(|| pkg.version.clone()) else {
                notes.push(note(
                    Some(text),
                    None,
                    "no version: not matched by PURL".into(),
                ));
                continue;
            };
            looked_up = true;
            let candidates = db.by_package(eco, &name)?;
            for id in candidates.excluded {
                notes.push(note(
                    Some(text),
                    Some(&id),
                    "withdrawn or rejected record ignored".into(),
                ));
            }
            let key = ecosystem::normalize_name(eco, &name);
            let release = ecosystem::distro_release(&purl);
            for rec in candidates.records {
                let idx = records.len();
                let mut used = false;
                for a in &rec.affected {
                    if ecosystem::base(&a.ecosystem) != eco
                        || ecosystem::normalize_name(&a.ecosystem, &a.name) != key
                    {
                        continue;
                    }
                    // `Debian:11` ranges say nothing about a bookworm package.
                    if let (Some(want), Some(have)) = (&release, a.ecosystem.split(':').nth(1))
                        && want != have
                    {
                        continue;
                    }
                    match matching::osv_affected(a, &version) {
                        Verdict::Affected {
                            reason,
                            fixed,
                            condition,
                        } => {
                            raw_hits.push((
                                idx,
                                version.clone(),
                                Reason {
                                    record: rec.id.clone(),
                                    via: "purl",
                                    identifier: text.clone(),
                                    range: format!("{} {reason}", a.ecosystem),
                                },
                                fixed,
                                condition,
                            ));
                            used = true;
                            break;
                        }
                        Verdict::Unevaluable(why) => {
                            notes.push(note(Some(text), Some(&rec.id), why));
                        }
                        Verdict::NotAffected => {}
                    }
                }
                if used {
                    records.push(rec);
                }
            }
        }
        for text in &pkg.cpes {
            let Some(t) = cpe_target(text, pkg.version.as_deref()) else {
                notes.push(note(
                    Some(text),
                    None,
                    "unparsable CPE or no vendor/product: not matched by CPE".into(),
                ));
                continue;
            };
            if t.version.is_none() {
                notes.push(note(
                    Some(text),
                    None,
                    "no version: not matched by CPE".into(),
                ));
                continue;
            }
            let (Some(vendor), Some(product)) = (t.wfn.vendor(), t.wfn.product()) else {
                continue;
            };
            looked_up = true;
            for rec in db.by_cpe(&vendor, &product)?.records {
                let idx = records.len();
                let mut used = false;
                for conf in &rec.configurations {
                    if let Verdict::Affected {
                        reason,
                        fixed,
                        condition,
                    } = matching::nvd_affected(conf, &t, &platforms, &criteria)
                    {
                        raw_hits.push((
                            idx,
                            t.version.clone().unwrap_or_default(),
                            Reason {
                                record: rec.id.clone(),
                                via: "cpe",
                                identifier: text.clone(),
                                range: reason,
                            },
                            fixed,
                            condition,
                        ));
                        used = true;
                        break;
                    }
                }
                if used {
                    records.push(rec);
                }
            }
        }
        if !looked_up && !own && !doc.describes.contains(&pkg.id) {
            unchecked.push(format!(
                "{} {}",
                pkg.name,
                pkg.version.as_deref().unwrap_or("(no version)")
            ));
        }
        let hits: Vec<Hit> = raw_hits
            .into_iter()
            .map(|(i, version, reason, fixed, condition)| Hit {
                record: &records[i],
                version,
                reason,
                fixed,
                condition,
            })
            .collect();
        for group in group_by_alias(&hits) {
            let f = merge(pkg, &group);
            if opts.only_fixed && f.fixed.is_none() {
                continue;
            }
            if f.informational.is_some() {
                warnings.push(f);
            } else {
                findings.push(f);
            }
        }
    }
    warnings.sort_by(|a, b| {
        (&a.component, &a.component_ref, &a.id).cmp(&(&b.component, &b.component_ref, &b.id))
    });
    findings.sort_by(|a, b| {
        (&a.component, &a.component_ref, &a.id).cmp(&(&b.component, &b.component_ref, &b.id))
    });
    Ok(Report {
        schema: "relkit-scan/1",
        target: target.to_string(),
        database: db.path().to_string(),
        components: doc.packages.len(),
        findings,
        warnings,
        suppressed: Vec::new(),
        notes,
        unchecked,
    })
}

/// Whether the SBOM says the package is the project's own code: cataloged by relkit from a
/// lockfile (manifest evidence) with no download location (`NONE`): a workspace member or a
/// path dependency, which a registry advisory for a same-named package does not concern.
fn is_own_package(pkg: &relkit_sbom::model::Package) -> bool {
    pkg.download_location.as_deref() == Some("NONE") && pkg.evidence.iter().any(|e| e.is_manifest())
}

/// A component CPE as a match target; the version falls back to the package version.
fn cpe_target(text: &str, pkg_version: Option<&str>) -> Option<CpeTarget> {
    let wfn = Wfn::parse(text).ok()?;
    wfn.vendor()?;
    wfn.product()?;
    let version = match wfn.get(relkit_ident::cpe::Attribute::Version) {
        v @ AttrValue::Value(_) => v.unquoted(),
        _ => pkg_version.map(str::to_string),
    };
    Some(CpeTarget {
        wfn,
        text: text.to_string(),
        version,
    })
}

/// Groups hits whose records share an id or alias (union of overlapping id sets).
fn group_by_alias<'h, 'r>(hits: &'h [Hit<'r>]) -> Vec<Vec<&'h Hit<'r>>> {
    let ids = |h: &Hit| -> BTreeSet<String> {
        std::iter::once(h.record.id.clone())
            .chain(h.record.aliases.iter().cloned())
            .collect()
    };
    let mut groups: Vec<(BTreeSet<String>, Vec<&Hit>)> = Vec::new();
    for h in hits {
        let mut set = ids(h);
        let mut members = vec![h];
        let mut i = 0;
        while i < groups.len() {
            if !groups[i].0.is_disjoint(&set) {
                let (s, m) = groups.swap_remove(i);
                set.extend(s);
                members.extend(m);
            } else {
                i += 1;
            }
        }
        groups.push((set, members));
    }
    groups.into_iter().map(|(_, m)| m).collect()
}

fn merge(pkg: &relkit_sbom::model::Package, group: &[&Hit]) -> Finding {
    let mut all: BTreeSet<String> = BTreeSet::new();
    for h in group {
        all.insert(h.record.id.clone());
        all.extend(h.record.aliases.iter().cloned());
    }
    let pick = |prefix: &str| all.iter().find(|i| i.starts_with(prefix)).cloned();
    let id = pick("CVE-")
        .or_else(|| pick("GHSA-"))
        .unwrap_or_else(|| all.iter().next().cloned().unwrap_or_default());
    let aliases = all.iter().filter(|i| **i != id).cloned().collect();
    // Severity: the rated record with the highest level (NVD's own rating when present).
    let sev = group
        .iter()
        .filter_map(|h| h.record.severity.as_ref())
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then(a.score.is_some().cmp(&b.score.is_some()))
        });
    let fixed = group
        .iter()
        .filter(|h| h.reason.via == "purl")
        .chain(group.iter().filter(|h| h.reason.via == "cpe"))
        .find_map(|h| h.fixed.clone());
    let summary = group
        .iter()
        .find(|h| h.record.id == id)
        .or_else(|| group.first())
        .and_then(|h| h.record.summary.clone());
    let condition = if group.iter().all(|h| h.condition.is_some()) {
        group.iter().find_map(|h| h.condition.clone())
    } else {
        None
    };
    // Informational only when every record of the group is (a vulnerability that RustSec also
    // calls unsound stays a vulnerability).
    let informational = group
        .iter()
        .map(|h| h.record.informational.clone())
        .collect::<Option<Vec<_>>>()
        .and_then(|kinds| kinds.into_iter().next());
    let mut reasons: Vec<Reason> = group.iter().map(|h| h.reason.clone()).collect();
    reasons.sort_by(|a, b| (&a.record, a.via).cmp(&(&b.record, b.via)));
    reasons.dedup();
    Finding {
        id,
        aliases,
        component: pkg.name.clone(),
        component_ref: pkg.id.clone(),
        purl: pkg.purls.first().cloned(),
        installed: group
            .iter()
            .find(|h| h.reason.via == "purl")
            .or_else(|| group.first())
            .map(|h| h.version.clone())
            .or_else(|| pkg.version.clone()),
        fixed,
        severity: sev.map(|s| s.level).unwrap_or_default(),
        score: sev.and_then(|s| s.score),
        vector: sev.and_then(|s| s.vector.clone()),
        summary,
        condition,
        reasons,
        locations: pkg
            .evidence
            .iter()
            .map(|e| e.file.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        informational,
    }
}
