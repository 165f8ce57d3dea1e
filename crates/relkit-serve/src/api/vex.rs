//! OpenVEX statements a project's maintainers publish about a release: `POST` an OpenVEX 0.2
//! document (or one statement, or an array of statements) to
//! `/api/v1/projects/{project}/releases/{version}/vex` with a token that may write to the
//! project; `GET` the same path (public, like the other release reads) answers the release's
//! OpenVEX document, every statement received, oldest first.
//!
//! Statements are read with relkit-vuln's OpenVEX reader ([`relkit_vuln::report::read_openvex`],
//! the one `relkit scan --vex` uses): a known status, a vulnerability, and for `not_affected` a
//! justification or an impact statement. A refused document changes nothing (400
//! `invalid_vex`, located by JSON path). Accepted statements are stored as sent, in one
//! transaction with their audit record (`vex.publish`).
//!
//! The latest statement about a finding decides ([`decide`]): when it is `not_affected`, the
//! finding leaves the release's and the project's vulnerability lists and the Atom feed
//! ([`crate::api::vulns`]), and is listed among the release's `suppressed` findings with the
//! statement's justification; a later `affected` statement brings it back.

use relkit_core::time::rfc3339_from_epoch as rfc3339;
use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use relkit_vuln::report::{VexStatement, product_matches, read_openvex};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::audit::record;
use super::{ApiError, ApiResult, St, check_names};
use crate::AppState;
use crate::db::Stmt;

/// Largest OpenVEX body accepted, bytes.
pub const MAX_BODY: usize = 1 << 20;

/// The OpenVEX 0.2 JSON-LD context.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// A finding as the statements are matched against it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FindingRef<'a> {
    /// Advisory id.
    pub advisory: &'a str,
    /// Space-separated other ids.
    pub aliases: &'a str,
    /// Component name.
    pub component: &'a str,
    /// Component PURL, when the SBOM gives one.
    pub purl: Option<&'a str>,
    /// Installed version.
    pub installed: &'a str,
}

/// Whether a product `@id` names the release itself (`project`, or a PURL of the project's
/// name with no version or this version): a statement about the release concerns every
/// component in it.
fn names_release(id: &str, project: &str, version: &str) -> bool {
    if id == project {
        return true;
    }
    relkit_ident::purl::Purl::parse(id).is_ok_and(|p| {
        p.name.eq_ignore_ascii_case(project) && p.version.as_deref().is_none_or(|v| v == version)
    })
}

/// Whether a statement concerns a finding of `project` `version`.
fn concerns(st: &VexStatement, project: &str, version: &str, f: &FindingRef<'_>) -> bool {
    let ids = std::iter::once(f.advisory).chain(f.aliases.split_whitespace());
    if !st.names_any(ids) {
        return false;
    }
    let m = |id: &str| product_matches(id, f.component, f.component, f.purl, Some(f.installed));
    st.products.is_empty()
        || st.products.iter().any(|p| {
            m(&p.id)
                || p.subcomponents.iter().any(|s| m(s))
                || (p.subcomponents.is_empty() && names_release(&p.id, project, version))
        })
}

/// The latest of a release's statements (oldest first) that concerns the finding.
pub(crate) fn decide<'a>(
    statements: &'a [VexStatement],
    project: &str,
    version: &str,
    f: &FindingRef<'_>,
) -> Option<&'a VexStatement> {
    statements
        .iter()
        .rev()
        .find(|st| concerns(st, project, version, f))
}

/// A stored statement: (version, JSON as sent, Unix time received).
type Row = (String, String, i64);

/// Every statement of a project's releases (one release when `version` is Some), oldest
/// first, by version: the JSON as sent, read again, and when it was received.
async fn rows(s: &AppState, project: &str, version: Option<&str>) -> ApiResult<Vec<Row>> {
    Ok(s.db
        .query(
            "SELECT version, statement, at FROM vex_statements WHERE project = $1 AND ($2 = '' OR version = $2) ORDER BY id",
            // A version is never empty (valid_name), so '' stands for "every release".
            vec![project.into(), version.unwrap_or("").into()],
        )
        .await?)
}

/// Reads stored statements back (they were validated by the same reader when received).
fn read_stored(statement: &str) -> ApiResult<VexStatement> {
    let v: Value = serde_json::from_str(statement).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_vex",
            format!("a stored VEX statement is not JSON: {e}"),
        )
    })?;
    let mut st = read_openvex(&json!({ "statements": [v] })).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_vex",
            format!("a stored VEX statement no longer reads: {e}"),
        )
    })?;
    Ok(st.remove(0))
}

/// The statements of a project's releases, by version, oldest first.
pub(crate) async fn statements(
    s: &AppState,
    project: &str,
    version: Option<&str>,
) -> ApiResult<BTreeMap<String, Vec<VexStatement>>> {
    let mut by: BTreeMap<String, Vec<VexStatement>> = BTreeMap::new();
    for (v, statement, _) in rows(s, project, version).await? {
        by.entry(v).or_default().push(read_stored(&statement)?);
    }
    Ok(by)
}

fn bad(path: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_vex",
        format!("OpenVEX at {path}: {message}"),
    )
}

/// The statements of a request body: an OpenVEX document (`statements`), one statement (an
/// object with `status`), or an array of statements.
fn body_statements(body: &[u8]) -> ApiResult<Vec<Value>> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad("$", e))?;
    let list = match v {
        Value::Object(mut o) if o.contains_key("statements") => {
            if let Some(c) = o.get("@context").and_then(Value::as_str)
                && !c.starts_with("https://openvex.dev/ns/")
            {
                return Err(bad(
                    "$.@context",
                    format!("{c:?} is not an OpenVEX context"),
                ));
            }
            match o.remove("statements") {
                Some(Value::Array(a)) => a,
                _ => return Err(bad("$.statements", "expected an array")),
            }
        }
        Value::Object(o) if o.contains_key("status") => vec![Value::Object(o)],
        Value::Array(a) => a,
        _ => {
            return Err(bad(
                "$",
                "expected an OpenVEX document, a statement or an array of statements",
            ));
        }
    };
    if list.is_empty() {
        return Err(bad("$.statements", "no statement"));
    }
    if let Some(i) = list.iter().position(|x| !x.is_object()) {
        return Err(bad(&format!("$.statements[{i}]"), "expected an object"));
    }
    read_openvex(&json!({ "statements": list.clone() })).map_err(|e| bad(&e.path, e.message))?;
    Ok(list)
}

/// 404 unless the release exists.
async fn release_exists(s: &AppState, project: &str, version: &str) -> ApiResult<()> {
    let found: Option<(String,)> =
        s.db.query_opt(
            "SELECT version FROM releases WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(format!(
            "no release {project} {version}"
        ))),
    }
}

/// The release's OpenVEX document: every statement as sent (with the time it was received
/// when it had none), `version` the number of statements (it grows with each change).
async fn document(s: &AppState, project: &str, version: &str) -> ApiResult<Value> {
    let rows = rows(s, project, version.into()).await?;
    let latest = rows.iter().map(|r| r.2).max();
    let statements: Vec<Value> = rows
        .iter()
        .map(|(_, text, at)| {
            let mut v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.entry("timestamp").or_insert_with(|| rfc3339(*at).into());
            }
            v
        })
        .collect();
    Ok(json!({
        "@context": CONTEXT,
        "@id": format!("tag:relkit-serve,2026:{project}/{version}/vex"),
        "author": format!("maintainers of {project} (relkit serve)"),
        "timestamp": rfc3339(latest.unwrap_or_else(crate::now)),
        "version": statements.len(),
        "statements": statements,
    }))
}

/// GET /api/v1/projects/{project}/releases/{version}/vex
pub async fn get_vex(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    release_exists(&s, &project, &version).await?;
    Ok(Json(document(&s, &project, &version).await?))
}

/// POST /api/v1/projects/{project}/releases/{version}/vex: the token is checked before the
/// body is read; answers the release's OpenVEX document with the new statements.
pub async fn post_vex(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let p = crate::auth::require_writer(&s, &headers, &project).await?;
    check_names(&[("project", &project), ("version", &version)])?;
    release_exists(&s, &project, &version).await?;
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("an OpenVEX body is at most {MAX_BODY} bytes (or it was interrupted)"),
        )
    })?;
    let list = body_statements(&bytes)?;
    let now = crate::now();
    let mut summary: Vec<String> = Vec::new();
    let mut stmts = Vec::new();
    for v in &list {
        let st = read_stored(&v.to_string())?;
        summary.push(format!(
            "{} {}{}",
            st.names[0],
            st.status,
            st.justification
                .as_deref()
                .map(|j| format!(" ({j})"))
                .unwrap_or_default()
        ));
        stmts.push(Stmt {
            sql: "INSERT INTO vex_statements (project, version, statement, at, actor) VALUES ($1, $2, $3, $4, $5)",
            params: vec![
                project.as_str().into(),
                version.as_str().into(),
                v.to_string().into(),
                now.into(),
                p.token_id.as_str().into(),
            ],
        });
    }
    let mut detail = format!("{} statement(s): {}", list.len(), summary.join("; "));
    if detail.len() > 2000 {
        let mut cut = 2000;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push('…');
    }
    stmts.push(record(
        &p.token_id,
        "vex.publish",
        Some(&project),
        Some(&version),
        None,
        Some(&hex::encode(Sha256::digest(&bytes))),
        &detail,
    ));
    s.db.transaction(stmts).await?;
    Ok(Json(document(&s, &project, &version).await?))
}
