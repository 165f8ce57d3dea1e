//! Plain server-rendered HTML pages: projects, a project's releases, a release's files with
//! size, SHA-256, links to the file, its SBOMs, signatures, bundles and provenance, and the
//! verification status; with `--vuln-db`, which advisories affect a published release (and
//! which its OpenVEX statements declare it not affected by, with their justification), and
//! on a project's page which of its published releases each advisory affects. No JavaScript,
//! one small inline stylesheet.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::api::{ApiResult, Page, projects, releases};

/// Escapes text for HTML element content and attribute values ([`relkit_core::html::escape`]).
pub use relkit_core::html::escape as esc;

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — relkit</title>\
<meta name=\"viewport\" content=\"width=device-width\">\
<style>body{{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}\
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}code{{font-size:12px}}\
.ok{{color:#070}}.warn{{color:#a60}}.draft{{color:#666}}.bad{{color:#b00}}</style></head>\
<body><p><a href=\"/\">relkit</a></p><h1>{t}</h1>\n{body}</body></html>\n",
        t = esc(title)
    ))
}

fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// GET /
pub async fn index(State(s): State<Arc<AppState>>) -> ApiResult<Html<String>> {
    let ps = projects::summaries(&s).await?;
    let mut b = String::from("<table><tr><th>project</th><th>releases</th></tr>\n");
    for p in &ps {
        let _ = writeln!(
            b,
            "<tr><td><a href=\"/p/{n}\">{n}</a></td><td>{}</td></tr>",
            p.releases,
            n = esc(&p.name)
        );
    }
    b.push_str("</table>\n");
    if ps.is_empty() {
        b.push_str("<p>No projects yet.</p>\n");
    }
    Ok(page("Projects", &b))
}

/// GET /p/{project}
pub async fn project(
    State(s): State<Arc<AppState>>,
    Path(project): Path<String>,
    Query(p): Query<Page>,
) -> ApiResult<Html<String>> {
    let (limit, offset) = p.bounds(1000);
    let rs = releases::list(&s, &project, p).await?;
    let mut b =
        String::from("<table><tr><th>version</th><th>tag</th><th>commit</th><th>state</th></tr>\n");
    for r in &rs {
        let state = match r.published {
            Some(t) => format!("<span class=\"ok\">published {}</span>", when(t)),
            None => "<span class=\"draft\">draft</span>".into(),
        };
        let _ = writeln!(
            b,
            "<tr><td><a href=\"/p/{p}/{v}\">{v}</a></td><td>{}</td><td><code>{}</code></td><td>{state}</td></tr>",
            esc(&r.tag),
            esc(&r.commit),
            p = esc(&project),
            v = esc(&r.version),
        );
    }
    b.push_str("</table>\n");
    if rs.len() as i64 == limit {
        let _ = writeln!(
            b,
            "<p><a href=\"/p/{}?offset={}\">older releases</a></p>",
            esc(&project),
            offset + limit
        );
    }
    vulns_of_project(&s, &project, &mut b).await?;
    Ok(page(&project, &b))
}

/// The project page's vulnerability section (nothing without `--vuln-db`).
async fn vulns_of_project(s: &AppState, project: &str, b: &mut String) -> ApiResult<()> {
    let Some(w) = s.vuln.as_deref() else {
        return Ok(());
    };
    let advisories = crate::api::vulns::project_advisories(s, project).await?;
    let _ = writeln!(
        b,
        "<h2>Vulnerabilities of published releases</h2>\n<p>{} · <a href=\"/projects/{p}/vulnerabilities.atom\">Atom feed</a> · <a href=\"/api/v1/projects/{p}/vulnerabilities\">JSON</a></p>",
        db_line(w.state().await.as_ref()),
        p = esc(project)
    );
    if advisories.is_empty() {
        b.push_str("<p class=\"ok\" id=\"no-advisories\">No known advisory affects a published release.</p>\n");
        return Ok(());
    }
    b.push_str("<table id=\"advisories\"><tr><th>advisory</th><th>severity</th><th>affected releases</th><th>summary</th></tr>\n");
    for a in &advisories {
        let releases: Vec<String> = a
            .releases
            .iter()
            .map(|r| {
                format!(
                    "<a href=\"/p/{p}/{v}\">{v}</a> ({} {})",
                    esc(&r.component),
                    esc(&r.installed),
                    p = esc(project),
                    v = esc(&r.version)
                )
            })
            .collect();
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td class=\"bad\">{}</td><td>{}</td><td>{}</td></tr>",
            advisory_link(&a.advisory, &a.aliases),
            esc(&a.severity),
            releases.join("<br>"),
            esc(a.summary.as_deref().unwrap_or(""))
        );
    }
    b.push_str("</table>\n");
    Ok(())
}

/// An advisory id linked to its public record, with its aliases.
fn advisory_link(id: &str, aliases: &[String]) -> String {
    let url = if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    };
    let mut out = format!("<a href=\"{}\">{}</a>", esc(&url), esc(id));
    if !aliases.is_empty() {
        let _ = write!(out, "<br><small>{}</small>", esc(&aliases.join(", ")));
    }
    out
}

/// What the server knows of its vulnerability DB, in one line.
fn db_line(st: Option<&crate::watch::DbState>) -> String {
    match st {
        None => "The vulnerability DB is not loaded yet.".into(),
        Some(st) => {
            let mut out = format!(
                "Vulnerability DB imported {}",
                esc(st.last_import.as_deref().unwrap_or("at an unknown time"))
            );
            if let Some(e) = &st.error {
                let _ = write!(out, " — <span class=\"bad\">{}</span>", esc(e));
            }
            out
        }
    }
}

/// The release page's vulnerability section (nothing without `--vuln-db`, or for a draft).
async fn vulns_of_release(
    s: &AppState,
    project: &str,
    version: &str,
    b: &mut String,
) -> ApiResult<()> {
    let Some(w) = s.vuln.as_deref() else {
        return Ok(());
    };
    let found = crate::api::vulns::findings(s, project, Some(version)).await?;
    let scan: Option<(i64, Option<String>)> =
        s.db.query_opt(
            "SELECT scanned, error FROM vuln_scans WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?;
    let _ = writeln!(
        b,
        "<h2>Vulnerabilities</h2>\n<p>{} · {} · <a href=\"/api/v1/projects/{p}/releases/{v}/vulnerabilities\">JSON</a> · <a href=\"/api/v1/projects/{p}/releases/{v}/vex\">OpenVEX</a></p>",
        db_line(w.state().await.as_ref()),
        match &scan {
            None => "not scanned yet".to_string(),
            Some((t, None)) => format!("scanned {}", when(*t)),
            Some((t, Some(e))) => format!(
                "<span class=\"bad\">the scan of {} failed: {}</span>",
                when(*t),
                esc(e)
            ),
        },
        p = esc(project),
        v = esc(version)
    );
    let (shown, suppressed): (Vec<_>, Vec<_>) =
        found.into_iter().partition(|f| f.suppressed.is_none());
    if shown.is_empty() {
        b.push_str(
            "<p class=\"ok\" id=\"no-findings\">No known advisory affects this release.</p>\n",
        );
    } else {
        b.push_str("<table id=\"findings\"><tr><th>advisory</th><th>severity</th><th>component</th><th>summary</th><th>found</th></tr>\n");
        for f in &shown {
            let v = &f.finding;
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=\"bad\">{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                advisory_link(&v.advisory, &v.aliases),
                esc(&v.severity),
                esc(&v.component),
                esc(&v.installed),
                esc(v.summary.as_deref().unwrap_or("")),
                when(v.first_seen)
            );
        }
        b.push_str("</table>\n");
    }
    if !suppressed.is_empty() {
        b.push_str("<h3>Not affected (OpenVEX)</h3>\n<table id=\"not-affected\"><tr><th>advisory</th><th>component</th><th>justification</th><th>impact statement</th></tr>\n");
        for f in &suppressed {
            let (justification, statement) = f.suppressed.clone().unwrap_or_default();
            let v = &f.finding;
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                advisory_link(&v.advisory, &v.aliases),
                esc(&v.component),
                esc(&v.installed),
                esc(justification.as_deref().unwrap_or("")),
                esc(statement.as_deref().unwrap_or(""))
            );
        }
        b.push_str("</table>\n");
    }
    Ok(())
}

/// GET /p/{project}/{version}
pub async fn release(
    State(s): State<Arc<AppState>>,
    Path((project, version)): Path<(String, String)>,
) -> Result<Html<String>, Response> {
    let d = releases::detail(&s, &project, &version)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p>tag <code>{}</code>, commit <code>{}</code>, {}. <a href=\"/api/v1/projects/{p}/releases/{v}/SHA256SUMS\">SHA256SUMS</a> · <a href=\"/api/v1/projects/{p}/releases/{v}\">JSON</a></p>",
        esc(&d.release.tag),
        esc(&d.release.commit),
        match d.release.published {
            Some(t) => format!("published {}", when(t)),
            None => "draft (not published)".into(),
        },
        p = esc(&project),
        v = esc(&version),
    );
    b.push_str("<table><tr><th>file</th><th>size</th><th>SHA-256</th><th>SBOM, signatures, provenance</th></tr>\n");
    for f in &d.files {
        let mut atts = String::new();
        for a in &f.attachments {
            let class = if a.status == "verified" { "ok" } else { "warn" };
            let _ = write!(
                atts,
                "<a href=\"{}\">{}</a> ({}, <span class=\"{class}\">{}</span>)<br>",
                esc(&a.url),
                esc(&a.name),
                esc(&a.kind),
                esc(&a.status)
            );
            let problems = a.report["problems"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if !problems.is_empty() {
                let _ = write!(
                    atts,
                    "<details><summary>{} warning(s)</summary><ul>",
                    problems.len()
                );
                for p in problems {
                    let _ = write!(
                        atts,
                        "<li><code>{}</code> {}</li>",
                        esc(p["path"].as_str().unwrap_or_default()),
                        esc(p["message"].as_str().unwrap_or_default())
                    );
                }
                atts.push_str("</ul></details>");
            }
        }
        if atts.is_empty() {
            atts.push_str("<span class=\"draft\">none</span>");
        }
        let _ = writeln!(
            b,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td><code>{}</code></td><td>{atts}</td></tr>",
            esc(&f.url),
            esc(&f.name),
            f.size,
            esc(&f.sha256),
        );
    }
    b.push_str("</table>\n");
    if d.release.published.is_some() {
        vulns_of_release(&s, &project, &version, &mut b)
            .await
            .map_err(IntoResponse::into_response)?;
    }
    Ok(page(&format!("{project} {version}"), &b))
}
