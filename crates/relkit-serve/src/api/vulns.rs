//! Vulnerabilities of published releases, as the watcher ([`crate::watch`]) found them: per
//! release, per project (which releases each advisory affects), and an Atom feed per project
//! (one entry per release and advisory). Reads, public like the other release reads; 503
//! `no_vuln_db` when the server runs without `--vuln-db`.
//!
//! A finding whose latest OpenVEX statement ([`super::vex`]) is `not_affected` is left out of
//! all three, and listed among the release's `suppressed` findings with its justification.

use relkit_core::time::rfc3339_from_epoch as rfc3339;
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::vex::{FindingRef, decide};
use super::{ApiError, ApiResult, St, projects};
use crate::AppState;
use crate::watch::DbState;

/// One finding of one release.
#[derive(Debug, Clone, Serialize)]
pub struct VulnFinding {
    /// Advisory id (a CVE when known, else GHSA, else the record's id).
    pub advisory: String,
    /// Other ids of the same vulnerability.
    pub aliases: Vec<String>,
    /// Component name, as the SBOM names it.
    pub component: String,
    /// The component's version in the release.
    pub installed: String,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    /// One-line summary.
    pub summary: Option<String>,
    /// When the server first found it (Unix seconds).
    pub first_seen: i64,
}

/// `GET /api/v1/projects/{project}/releases/{version}/vulnerabilities`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseVulns {
    /// Project.
    pub project: String,
    /// Version.
    pub version: String,
    /// The vulnerability DB the server uses (null before its first load).
    pub database: Option<DbState>,
    /// When the release was last scanned (Unix seconds); null: not scanned yet.
    pub scanned: Option<i64>,
    /// Why the last scan failed (the findings are then from an earlier scan).
    pub scan_error: Option<String>,
    /// Findings, by advisory then component (without those a VEX statement suppresses).
    pub findings: Vec<VulnFinding>,
    /// Findings the release's latest OpenVEX statement about them says it is not affected by.
    pub suppressed: Vec<SuppressedFinding>,
}

/// A finding an OpenVEX `not_affected` statement suppresses.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressedFinding {
    /// The finding.
    pub finding: VulnFinding,
    /// The statement's status (`not_affected`).
    pub status: String,
    /// Its justification (OpenVEX 0.2 values), if given.
    pub justification: Option<String>,
    /// Its impact statement, if given.
    pub impact_statement: Option<String>,
}

/// A release an advisory affects.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedRelease {
    /// Version of the release.
    pub version: String,
    /// The affected component.
    pub component: String,
    /// Its version in the release.
    pub installed: String,
    /// When the server first found it (Unix seconds).
    pub first_seen: i64,
}

/// One advisory and the published releases it affects.
#[derive(Debug, Clone, Serialize)]
pub struct AdvisoryReleases {
    /// Advisory id.
    pub advisory: String,
    /// Other ids.
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: String,
    /// Summary.
    pub summary: Option<String>,
    /// Affected releases, by version.
    pub releases: Vec<AffectedRelease>,
}

/// `GET /api/v1/projects/{project}/vulnerabilities`.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectVulns {
    /// Project.
    pub project: String,
    /// The vulnerability DB the server uses.
    pub database: Option<DbState>,
    /// Advisories affecting published releases, by id.
    pub advisories: Vec<AdvisoryReleases>,
}

fn watch(s: &AppState) -> ApiResult<&crate::watch::Watch> {
    s.vuln.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_vuln_db",
            "this server watches no vulnerability DB: start it with `relkit serve --vuln-db PATH`",
        )
    })
}

type Row9 = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
);

/// One finding of a release, with the VEX statement that suppresses it, if one does.
pub(crate) struct Found {
    /// The release's version.
    pub version: String,
    /// The finding.
    pub finding: VulnFinding,
    /// The `not_affected` statement that suppresses it: (justification, impact statement).
    pub suppressed: Option<(Option<String>, Option<String>)>,
}

/// Findings of a project's published releases (one release when `version` is Some), each
/// with the VEX statement that suppresses it, if the latest one about it does.
pub(crate) async fn findings(
    s: &AppState,
    project: &str,
    version: Option<&str>,
) -> ApiResult<Vec<Found>> {
    let rows: Vec<Row9> = s
        .db
        .query(
            "SELECT f.version, f.advisory, f.aliases, f.component, f.installed, f.severity, f.summary, f.first_seen, f.purl FROM vuln_findings f JOIN releases r ON r.project = f.project AND r.version = f.version WHERE f.project = $1 AND r.published IS NOT NULL AND ($2 = '' OR f.version = $2) ORDER BY f.advisory, f.version, f.component, f.installed",
            // A version is never empty (valid_name), so '' stands for "every release".
            vec![project.into(), version.unwrap_or("").into()],
        )
        .await?;
    let vex = super::vex::statements(s, project, version).await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                version,
                advisory,
                aliases,
                component,
                installed,
                severity,
                summary,
                first_seen,
                purl,
            )| {
                let st = vex.get(&version).and_then(|sts| {
                    decide(
                        sts,
                        project,
                        &version,
                        &FindingRef {
                            advisory: &advisory,
                            aliases: &aliases,
                            component: &component,
                            purl: purl.as_deref(),
                            installed: &installed,
                        },
                    )
                });
                let suppressed = st
                    .filter(|st| st.status == "not_affected")
                    .map(|st| (st.justification.clone(), st.impact_statement.clone()));
                Found {
                    version,
                    finding: VulnFinding {
                        advisory,
                        aliases: split_aliases(&aliases),
                        component,
                        installed,
                        severity,
                        summary,
                        first_seen,
                    },
                    suppressed,
                }
            },
        )
        .collect())
}

fn split_aliases(a: &str) -> Vec<String> {
    a.split_whitespace().map(str::to_string).collect()
}

/// GET /api/v1/projects/{project}/releases/{version}/vulnerabilities
pub async fn release_vulns(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Json<ReleaseVulns>> {
    let w = watch(&s)?;
    let published: Option<(Option<i64>,)> =
        s.db.query_opt(
            "SELECT published FROM releases WHERE project = $1 AND version = $2",
            vec![project.as_str().into(), version.as_str().into()],
        )
        .await?;
    match published {
        None => {
            return Err(ApiError::not_found(format!(
                "no release {project} {version}"
            )));
        }
        Some((None,)) => {
            return Err(ApiError::not_found(format!(
                "{project} {version} is not published: only published releases are watched"
            )));
        }
        Some(_) => {}
    }
    let scan: Option<(i64, Option<String>)> =
        s.db.query_opt(
            "SELECT scanned, error FROM vuln_scans WHERE project = $1 AND version = $2",
            vec![project.as_str().into(), version.as_str().into()],
        )
        .await?;
    let mut shown = Vec::new();
    let mut suppressed = Vec::new();
    for f in findings(&s, &project, Some(&version)).await? {
        match f.suppressed {
            None => shown.push(f.finding),
            Some((justification, impact_statement)) => suppressed.push(SuppressedFinding {
                finding: f.finding,
                status: "not_affected".into(),
                justification,
                impact_statement,
            }),
        }
    }
    Ok(Json(ReleaseVulns {
        database: w.state().await,
        scanned: scan.as_ref().map(|x| x.0),
        scan_error: scan.and_then(|x| x.1),
        findings: shown,
        suppressed,
        project,
        version,
    }))
}

/// The advisories affecting a project's published releases (without VEX-suppressed findings).
pub(crate) async fn project_advisories(
    s: &AppState,
    project: &str,
) -> ApiResult<Vec<AdvisoryReleases>> {
    if !projects::exists(s, project).await? {
        return Err(ApiError::not_found(format!("no project {project}")));
    }
    let mut by: BTreeMap<String, AdvisoryReleases> = BTreeMap::new();
    for Found {
        version, finding, ..
    } in findings(s, project, None)
        .await?
        .into_iter()
        .filter(|f| f.suppressed.is_none())
    {
        let VulnFinding {
            advisory,
            aliases,
            component,
            installed,
            severity,
            summary,
            first_seen,
        } = finding;
        by.entry(advisory.clone())
            .or_insert_with(|| AdvisoryReleases {
                advisory,
                aliases,
                severity,
                summary,
                releases: Vec::new(),
            })
            .releases
            .push(AffectedRelease {
                version,
                component,
                installed,
                first_seen,
            });
    }
    Ok(by.into_values().collect())
}

/// GET /api/v1/projects/{project}/vulnerabilities
pub async fn project_vulns(
    State(s): St,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectVulns>> {
    let w = watch(&s)?;
    let advisories = project_advisories(&s, &project).await?;
    Ok(Json(ProjectVulns {
        project,
        database: w.state().await,
        advisories,
    }))
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// The stable id of a feed entry (one per release and advisory) or of the feed.
fn tag(project: &str, rest: &str) -> String {
    format!("tag:relkit-serve,2026:{}{rest}", xml(project))
}

/// GET /projects/{project}/vulnerabilities.atom: one entry per (published release,
/// advisory); `updated` is when the finding first appeared, so a re-scan that finds the same
/// thing does not make feed readers show it again.
pub async fn atom(State(s): St, Path(project): Path<String>) -> ApiResult<Response> {
    watch(&s)?;
    let advisories = project_advisories(&s, &project).await?;
    let mut entries = Vec::new();
    for a in &advisories {
        let mut per_release: BTreeMap<&str, Vec<&AffectedRelease>> = BTreeMap::new();
        for r in &a.releases {
            per_release.entry(&r.version).or_default().push(r);
        }
        for (version, rs) in per_release {
            let first = rs.iter().map(|r| r.first_seen).min().unwrap_or(0);
            let comps: Vec<String> = rs
                .iter()
                .map(|r| format!("{} {}", r.component, r.installed))
                .collect();
            let title = format!("{project} {version}: {} ({})", a.advisory, a.severity);
            let summary = format!(
                "{} affects {project} {version} through {}.{}",
                a.advisory,
                comps.join(", "),
                a.summary
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default()
            );
            entries.push((first, version.to_string(), a, title, summary));
        }
    }
    entries.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(&y.1)));
    let updated = entries.iter().map(|e| e.0).max().unwrap_or(0);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "  <id>{}</id>\n  <title>{}: vulnerabilities of published releases</title>\n  <updated>{}</updated>\n  <author><name>relkit serve</name></author>\n  <link rel=\"self\" href=\"/projects/{}/vulnerabilities.atom\"/>\n",
        tag(&project, "/vulnerabilities"),
        xml(&project),
        rfc3339(updated),
        xml(&project)
    ));
    for (first, version, a, title, summary) in &entries {
        out.push_str(&format!(
            "  <entry>\n    <id>{}</id>\n    <title>{}</title>\n    <updated>{}</updated>\n    <link rel=\"alternate\" href=\"/api/v1/projects/{}/releases/{}/vulnerabilities\"/>\n    <category term=\"{}\"/>\n    <summary>{}</summary>\n  </entry>\n",
            tag(&project, &format!("/{}/{}", xml(version), xml(&a.advisory))),
            xml(title),
            rfc3339(*first),
            xml(&project),
            xml(version),
            xml(&a.severity),
            xml(summary)
        ));
    }
    out.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        out,
    )
        .into_response())
}
