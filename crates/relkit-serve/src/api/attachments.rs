//! Material attached to a release file: SBOMs (checked like `relkit sbom check`, warnings
//! kept), signatures, Sigstore bundles and provenance (verified like `relkit verify` against
//! the file's digest with the project's key or trusted root). Uploads are verified before
//! anything is stored; the metadata step is one transaction under the release row's lock,
//! with the same outcomes as a file upload's (see [`super::files`]), and 409 `conflict` when
//! the file the material was verified against was replaced meanwhile.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use relkit_core::wire::UploadResult;

use super::audit::record;
use super::files::{
    changed_meanwhile, check_length, declared_digest, published_conflict, published_meanwhile,
    read_limited, send_blob, stored_file, stored_file_tx, stored_response, unchanged, upload_error,
};
use super::releases::{lock_release, published_at};
use super::{ApiError, ApiResult, St, check_names, projects};
use crate::AppState;
use crate::auth::{Principal, require_writer};
use crate::blobs::{Stored, UploadError};
use crate::db::{Stmt, Tx, Value};
use crate::now;
use crate::verify::{self, Kind, Verdict};

/// Where an attachment goes: project, version, file, attachment name.
struct Target {
    project: String,
    version: String,
    file: String,
    name: String,
}

impl Target {
    /// The attachments table's key of this attachment.
    fn key(&self) -> Vec<Value> {
        vec![
            Value::from(self.project.as_str()),
            self.version.as_str().into(),
            self.file.as_str().into(),
            self.name.as_str().into(),
        ]
    }
}

/// A stored attachment: (sha256, size, status).
type AttachmentRow = (String, i64, String);

/// PUT /api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}
pub async fn put_attachment(
    State(s): St,
    Path((project, version, file, kind, name)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let p = require_writer(&s, &headers, &project).await?;
    check_names(&[
        ("version", &version),
        ("file name", &file),
        ("attachment name", &name),
    ])?;
    let kind = Kind::parse(&kind).ok_or_else(|| {
        ApiError::not_found(format!(
            "no attachment kind {kind:?}: use sbom, signature, bundle or provenance"
        ))
    })?;
    let declared = declared_digest(&headers, false)?;
    check_length(&headers, s.limits.max_attachment)?;
    let t = Target {
        project,
        version,
        file,
        name,
    };
    let published = published_at(&s, &t.project, &t.version).await?;
    let (file_sha, _) = stored_file(&s, &t.project, &t.version, &t.file)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} {} has no file {}: upload the file before its {}",
                t.project,
                t.version,
                t.file,
                kind.as_str()
            ))
        })?;
    let bytes = read_limited(body, s.limits.max_attachment).await?;
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    if let Some(d) = declared.as_ref().filter(|d| **d != sha) {
        return Err(upload_error(UploadError::DigestMismatch {
            declared: d.clone(),
            actual: sha,
        }));
    }
    let existing: Option<AttachmentRow> = s
        .db
        .query_opt(
            "SELECT sha256, size, status FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND name = $4",
            t.key(),
        )
        .await?;
    match existing {
        Some((have, size, status)) if have == sha => {
            return Ok(unchanged(t.name, sha, size, status));
        }
        Some((have, _, _)) if published.is_some() => {
            return Err(published_conflict(&t.project, &t.version, &t.name, &have));
        }
        None if published.is_some() => {
            return Err(ApiError::immutable(format!(
                "{} {} is published: nothing can be attached",
                t.project, t.version
            )));
        }
        _ => {}
    }
    let verdict = check(&s, &t, kind, &bytes, &file_sha).await?;
    let stored = s.blobs.put_bytes(&bytes).await.map_err(upload_error)?;
    let mut tx = s.db.begin().await?;
    let published = lock_release(&mut tx, &t.project, &t.version).await?;
    let now: Option<AttachmentRow> = tx
        .query_opt(
            "SELECT sha256, size, status FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND name = $4",
            t.key(),
        )
        .await?;
    match &now {
        Some((have, size, status)) if *have == sha => {
            return Ok(unchanged(t.name, sha, *size, status.clone()));
        }
        _ if published.is_some() => return Err(published_meanwhile(&t.project, &t.version)),
        _ if now.as_ref().map(|n| &n.0) != existing.as_ref().map(|n| &n.0) => {
            return Err(changed_meanwhile(
                &t.name,
                now.as_ref().map(|n| n.0.as_str()),
            ));
        }
        _ => {}
    }
    let file_now = stored_file_tx(&mut tx, [&t.project, &t.version, &t.file]).await?;
    if file_now.as_ref().map(|f| f.0.as_str()) != Some(file_sha.as_str()) {
        return Err(changed_meanwhile(
            &t.file,
            file_now.as_ref().map(|f| f.0.as_str()),
        ));
    }
    let replaced = now.is_some();
    record_attachment(&mut tx, &p, &t, kind, &stored, &verdict).await?;
    tx.commit().await?;
    Ok(stored_response(
        t.name,
        stored,
        replaced,
        verdict.status.into(),
    ))
}

/// Verifies the material on a blocking thread: an SBOM with `relkit sbom check`, the rest
/// against the file (its digest; its bytes for detached signatures and message bundles)
/// with the project's rules.
async fn check(
    s: &AppState,
    t: &Target,
    kind: Kind,
    bytes: &[u8],
    file_sha: &str,
) -> ApiResult<Verdict> {
    let rules = projects::rules(&projects::config(s, &t.project).await?);
    let file_digest: [u8; 32] = hex::decode(file_sha)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", "bad digest"))?;
    // Detached signatures and ed25519 message bundles sign the bytes, not the digest.
    let file_bytes = if matches!(kind, Kind::Signature | Kind::Bundle) {
        Some(s.blobs.read(file_sha).await?)
    } else {
        None
    };
    let (name, file, bytes) = (t.name.clone(), t.file.clone(), bytes.to_vec());
    tokio::task::spawn_blocking(move || {
        if kind == Kind::Sbom {
            verify::check_sbom(&bytes, &name)
        } else {
            verify::check_material(
                kind,
                &bytes,
                &name,
                &file,
                file_digest,
                file_bytes.as_deref(),
                &rules,
            )
        }
    })
    .await
    .map_err(ApiError::task)?
    .map_err(|e| ApiError::rejected("verification_failed", e))
}

/// Writes a verified attachment's row (replacing a draft's one of the same name) and its
/// audit record in the upload's transaction.
async fn record_attachment(
    tx: &mut Tx,
    p: &Principal,
    t: &Target,
    kind: Kind,
    stored: &Stored,
    verdict: &Verdict,
) -> ApiResult<()> {
    let mut params = t.key();
    params.extend([
        kind.as_str().into(),
        stored.sha256.as_str().into(),
        (stored.size as i64).into(),
        verdict.status.into(),
        verdict.detail.as_str().into(),
        now().into(),
    ]);
    tx.execute_all(vec![
        Stmt {
            sql: "DELETE FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND name = $4",
            params: t.key(),
        },
        Stmt {
            sql: "INSERT INTO attachments (project, version, file, name, kind, sha256, size, status, detail, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            params,
        },
        record(
            &p.token_id,
            &format!("{}.upload", kind.as_str()),
            Some(&t.project),
            Some(&t.version),
            Some(&format!("{}/{}", t.file, t.name)),
            Some(&stored.sha256),
            verdict.status,
        ),
    ])
    .await?;
    Ok(())
}

/// GET /api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}
pub async fn get_attachment(
    State(s): St,
    Path((project, version, file, kind, name)): Path<(String, String, String, String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    let row: Option<(String,)> = s
        .db
        .query_opt(
            "SELECT sha256 FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND kind = $4 AND name = $5",
            vec![
                project.as_str().into(),
                version.as_str().into(),
                file.as_str().into(),
                kind.as_str().into(),
                name.as_str().into(),
            ],
        )
        .await?;
    let (sha,) = row.ok_or_else(|| ApiError::not_found(format!("{file} has no {kind} {name}")))?;
    let ct = if kind == "signature" {
        "application/octet-stream"
    } else {
        "application/json"
    };
    send_blob(&s, &sha, ct, &headers).await
}
