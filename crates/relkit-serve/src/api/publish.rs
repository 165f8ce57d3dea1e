//! Publication: a release becomes public and immutable only when every file has the material
//! its project requires and meets the project policy; otherwise 422 with what is missing.
//!
//! Publishing a published release is idempotent (200 with the release, nothing recorded).
//! Concurrency: the checks run on the release as read, outside any lock (they may read
//! blobs and run verifiers); the publication is then one transaction that locks the release
//! row ([`lock_release`]) and publishes only if the files and material are still exactly the
//! ones checked (their names and digests); otherwise it checks again (a few times, then 409
//! `conflict`). So a release is never published with a file or material that was not checked,
//! whichever server process changed it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use relkit_core::wire::{ErrorBody, FileInfo, ReleaseDetail};

use super::audit::record;
use super::releases::{detail, lock_release};
use super::{ApiError, ApiResult, St, projects};
use crate::auth::require_writer;
use crate::db::{Stmt, Tx};
use crate::verify::{self, Kind, ProjectRules, Rejected};
use crate::{AppState, now};

/// POST /api/v1/projects/{project}/releases/{version}/publish
pub async fn publish(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ReleaseDetail>, Response> {
    let p = require_writer(&s, &headers, &project)
        .await
        .map_err(IntoResponse::into_response)?;
    let e = IntoResponse::into_response;
    for _ in 0..ATTEMPTS {
        let d = detail(&s, &project, &version).await.map_err(e)?;
        if d.release.published.is_some() {
            return Ok(Json(d));
        }
        let missing = missing(&s, &d).await.map_err(e)?;
        if !missing.is_empty() {
            let body = ErrorBody {
                error: "not_publishable".into(),
                message: format!(
                    "{project} {version} cannot be published: {} problem(s)",
                    missing.len()
                ),
                missing,
            };
            return Err((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
        let mut tx = s.db.begin().await.map_err(|x| e(x.into()))?;
        let published = lock_release(&mut tx, &project, &version).await.map_err(e)?;
        if published.is_some()
            || contents(&mut tx, &project, &version).await.map_err(e)? != checked(&d)
        {
            // Published or changed by another request since it was read: read it again.
            continue;
        }
        tx.execute_all(vec![
            Stmt {
                sql: "UPDATE releases SET published = $1 WHERE project = $2 AND version = $3 AND published IS NULL",
                params: vec![now().into(), project.as_str().into(), version.as_str().into()],
            },
            record(
                &p.token_id,
                "release.publish",
                Some(&project),
                Some(&version),
                None,
                None,
                &format!("{} file(s)", d.files.len()),
            ),
        ])
        .await
        .map_err(|x| e(x.into()))?;
        tx.commit().await.map_err(|x| e(x.into()))?;
        return detail(&s, &project, &version).await.map(Json).map_err(e);
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("{project} {version} kept changing while it was being published: retry"),
    )
    .into_response())
}

/// How many times a publication re-checks a release that changed under it.
const ATTEMPTS: usize = 3;

/// What a publication checked: every file and piece of material, by name and digest.
type Contents = Vec<(String, String, String)>;

/// The checked release's [`Contents`]: (file, "" or material name, digest), sorted.
fn checked(d: &ReleaseDetail) -> Contents {
    let mut v = Vec::new();
    for f in &d.files {
        v.push((f.name.clone(), String::new(), f.sha256.clone()));
        for a in &f.attachments {
            v.push((
                f.name.clone(),
                format!("{}/{}", a.kind, a.name),
                a.sha256.clone(),
            ));
        }
    }
    v.sort();
    v
}

/// The release's [`Contents`] as stored now, read in the publication's transaction.
async fn contents(tx: &mut Tx, project: &str, version: &str) -> ApiResult<Contents> {
    let key = || vec![project.into(), version.into()];
    let files: Vec<(String, String)> = tx
        .query(
            "SELECT name, sha256 FROM files WHERE project = $1 AND version = $2",
            key(),
        )
        .await?;
    let atts: Vec<(String, String, String, String)> = tx
        .query(
            "SELECT file, kind, name, sha256 FROM attachments WHERE project = $1 AND version = $2",
            key(),
        )
        .await?;
    let mut v: Contents = files
        .into_iter()
        .map(|(f, sha)| (f, String::new(), sha))
        .collect();
    v.extend(
        atts.into_iter()
            .map(|(f, kind, name, sha)| (f, format!("{kind}/{name}"), sha)),
    );
    v.sort();
    Ok(v)
}

/// What blocks the publication of a release: one entry per missing or failing piece,
/// `file: what`; empty when it can be published.
async fn missing(s: &AppState, d: &ReleaseDetail) -> ApiResult<Vec<String>> {
    let rules = projects::rules(&projects::config(s, &d.project).await?);
    let mut missing = Vec::new();
    if d.files.is_empty() {
        missing.push("the release has no files".to_string());
    }
    for f in &d.files {
        missing.extend(required_material(f, &rules));
        if rules.policy.is_some()
            && let Err(why) = policy(s, f, &rules).await?
        {
            missing.push(format!(
                "{}: the project policy is not met: {}",
                f.name,
                why.message()
            ));
        }
    }
    Ok(missing)
}

/// The kinds of material the project requires that a file lacks.
fn required_material(f: &FileInfo, rules: &ProjectRules) -> Vec<String> {
    let has = |k: &str| f.attachments.iter().any(|a| a.kind == k);
    let mut missing = Vec::new();
    if rules.require_sbom && !has("sbom") {
        missing.push(format!("{}: no SBOM (the project requires one)", f.name));
    }
    if rules.require_signature && !has("signature") && !has("bundle") {
        missing.push(format!(
            "{}: no verified signature or Sigstore bundle (the project requires one)",
            f.name
        ));
    }
    if rules.require_provenance && !has("provenance") {
        missing.push(format!(
            "{}: no verified provenance (the project requires it)",
            f.name
        ));
    }
    missing
}

/// Applies the project policy to a file with all its bundles and provenance (read from the
/// blob store), on a blocking thread.
async fn policy(
    s: &AppState,
    f: &FileInfo,
    rules: &ProjectRules,
) -> ApiResult<Result<String, Rejected>> {
    let mut material = Vec::new();
    for a in f
        .attachments
        .iter()
        .filter(|a| a.kind == "bundle" || a.kind == "provenance")
    {
        let text = String::from_utf8(s.blobs.read(&a.sha256).await?)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let k = Kind::parse(&a.kind).expect("stored kinds parse");
        material.push((k, a.name.clone(), text));
    }
    let digest: [u8; 32] = hex::decode(&f.sha256)
        .ok()
        .and_then(|v| v.try_into().ok())
        .unwrap_or([0; 32]);
    let (name, rules) = (f.name.clone(), rules.clone());
    Ok(
        tokio::task::spawn_blocking(move || verify::check_policy(&name, digest, &material, &rules))
            .await
            .unwrap_or_else(|e| Err(Rejected::because("", e))),
    )
}
