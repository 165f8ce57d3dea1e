//! Plain server-rendered HTML pages: projects, a project's releases, a release's files with
//! size, SHA-256, links to the file, its SBOMs, signatures, bundles and provenance, and the
//! verification status. No JavaScript, one small inline stylesheet.

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
.ok{{color:#070}}.warn{{color:#a60}}.draft{{color:#666}}</style></head>\
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
    Ok(page(&project, &b))
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
    Ok(page(&format!("{project} {version}"), &b))
}
