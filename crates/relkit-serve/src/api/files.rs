//! Release files: streamed uploads hashed on the way in (same digest = no-op, another digest
//! replaces a draft's file, refused once published) and downloads; the upload helpers shared
//! with [`super::attachments`].
//!
//! Concurrency (several requests, possibly on several server processes): the body is
//! received without any lock; the metadata step is one transaction that locks the release
//! row ([`lock_release`]) and compares what is stored now with what the request saw when it
//! began. The same digest is a no-op (200 `unchanged`, also when a concurrent upload stored
//! it first); a release published meanwhile is 409 `immutable`; another digest stored under
//! the name meanwhile is 409 `conflict` (a replacement replaces only the content its
//! uploader saw: no lost update).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use relkit_core::wire::UploadResult;

use super::audit::record;
use super::releases::{lock_release, published_at};
use super::{ApiError, ApiResult, St, check_names, with_cause};
use crate::auth::{Principal, require_writer};
use crate::blobs::{ByteRange, Stored, UploadError};
use crate::db::{Stmt, Tx, Value};
use crate::{AppState, now as unix_now};

/// The declared digest header of uploads.
pub const DIGEST_HEADER: &str = "x-content-sha256";

/// The body's SHA-256 as the client declared it (lower-case hex), if it did.
pub(crate) fn declared_digest(headers: &HeaderMap, required: bool) -> ApiResult<Option<String>> {
    match headers.get(DIGEST_HEADER).and_then(|v| v.to_str().ok()) {
        Some(h) => {
            let h = h.strip_prefix("sha256:").unwrap_or(h);
            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(Some(h.to_ascii_lowercase()))
            } else {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_digest_header",
                    format!("{DIGEST_HEADER} must be 64 hex digits (the SHA-256 of the body)"),
                ))
            }
        }
        None if required => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_digest",
            format!("send the SHA-256 of the body in {DIGEST_HEADER}"),
        )),
        None => Ok(None),
    }
}

/// 413 before reading the body when its declared length is over `limit`.
pub(crate) fn check_length(headers: &HeaderMap, limit: u64) -> ApiResult<()> {
    let declared: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    match declared {
        Some(n) if n > limit => Err(upload_error(UploadError::TooLarge { limit })),
        _ => Ok(()),
    }
}

/// A stored file's digest and size.
pub(crate) async fn stored_file(
    s: &AppState,
    project: &str,
    version: &str,
    name: &str,
) -> ApiResult<Option<(String, i64)>> {
    Ok(s.db
        .query_opt(
            "SELECT sha256, size FROM files WHERE project = $1 AND version = $2 AND name = $3",
            vec![project.into(), version.into(), name.into()],
        )
        .await?)
}

/// 200 `unchanged`: the server already has these bytes under this name.
pub(crate) fn unchanged(
    name: String,
    sha256: String,
    size: i64,
    status: String,
) -> (StatusCode, Json<UploadResult>) {
    let outcome = "unchanged".into();
    let result = UploadResult {
        name,
        sha256,
        size,
        outcome,
        status,
    };
    (StatusCode::OK, Json(result))
}

/// The answer to a stored upload: 201 for a new name, 200 when it replaced a draft's.
pub(crate) fn stored_response(
    name: String,
    stored: Stored,
    replaced: bool,
    status: String,
) -> (StatusCode, Json<UploadResult>) {
    let code = if replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let result = UploadResult {
        name,
        sha256: stored.sha256,
        size: stored.size as i64,
        outcome: if replaced { "replaced" } else { "created" }.into(),
        status,
    };
    (code, Json(result))
}

/// 409: another digest for a name of a published release.
pub(crate) fn published_conflict(project: &str, version: &str, name: &str, have: &str) -> ApiError {
    ApiError::immutable(format!(
        "{project} {version} is published: {name} is stored with sha256 {have} and cannot be overwritten (publish a new version)"
    ))
}

/// 409 `immutable`: the release was published while the body was being received.
pub(crate) fn published_meanwhile(project: &str, version: &str) -> ApiError {
    ApiError::immutable(format!(
        "{project} {version} was published during the upload"
    ))
}

/// 409 `conflict`: another request stored other content under the name while this one was
/// being received.
pub(crate) fn changed_meanwhile(name: &str, now: Option<&str>) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        match now {
            Some(sha) => format!(
                "{name} was stored by another upload (sha256 {sha}) while this one was being received: nothing was changed; upload again to replace it"
            ),
            None => format!(
                "{name} was removed by another request while this one was being received: nothing was changed; upload again"
            ),
        },
    )
}

/// A stored file's digest and size, read in a transaction.
pub(crate) async fn stored_file_tx(
    tx: &mut Tx,
    [project, version, name]: [&str; 3],
) -> ApiResult<Option<(String, i64)>> {
    Ok(tx
        .query_opt(
            "SELECT sha256, size FROM files WHERE project = $1 AND version = $2 AND name = $3",
            vec![project.into(), version.into(), name.into()],
        )
        .await?)
}

/// The HTTP form of an upload refusal.
pub(crate) fn upload_error(e: UploadError) -> ApiError {
    let (status, code) = match e {
        UploadError::Io(io) => return io.into(),
        UploadError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        UploadError::DigestMismatch { .. } => (StatusCode::BAD_REQUEST, "digest_mismatch"),
        UploadError::Interrupted(_) => (StatusCode::BAD_REQUEST, "interrupted"),
    };
    ApiError {
        message: with_cause(&e),
        source: Some(Box::new(e)),
        ..ApiError::new(status, code, "")
    }
}

/// PUT /api/v1/projects/{project}/releases/{version}/files/{file}
pub async fn put_file(
    State(s): St,
    Path((project, version, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let p = require_writer(&s, &headers, &project).await?;
    check_names(&[("version", &version), ("file name", &name)])?;
    let declared = declared_digest(&headers, true)?.expect("required");
    check_length(&headers, s.limits.max_file)?;
    // Answered before the body is read when possible; decided again in the transaction.
    let published = published_at(&s, &project, &version).await?;
    let seen = stored_file(&s, &project, &version, &name).await?;
    match &seen {
        Some((have, size)) if *have == declared => {
            return Ok(unchanged(name, have.clone(), *size, String::new()));
        }
        Some((have, _)) if published.is_some() => {
            return Err(published_conflict(&project, &version, &name, have));
        }
        None if published.is_some() => {
            return Err(ApiError::immutable(format!(
                "{project} {version} is published: no file can be added"
            )));
        }
        _ => {}
    }
    let stored = s
        .blobs
        .receive(body, s.limits.max_file, &declared)
        .await
        .map_err(upload_error)?;
    let key = [project.as_str(), version.as_str(), name.as_str()];
    let mut tx = s.db.begin().await?;
    let published = lock_release(&mut tx, &project, &version).await?;
    let now = stored_file_tx(&mut tx, key).await?;
    match &now {
        Some((have, size)) if *have == stored.sha256 => {
            return Ok(unchanged(name, have.clone(), *size, String::new()));
        }
        _ if published.is_some() => return Err(published_meanwhile(&project, &version)),
        _ if now.as_ref().map(|n| &n.0) != seen.as_ref().map(|n| &n.0) => {
            return Err(changed_meanwhile(&name, now.as_ref().map(|n| n.0.as_str())));
        }
        _ => {}
    }
    let replaced = now.is_some();
    record_file(&mut tx, &p, key, &stored, replaced).await?;
    tx.commit().await?;
    Ok(stored_response(name, stored, replaced, String::new()))
}

/// Writes a received file's row (replacing a draft's file and its material) and its audit
/// record in the upload's transaction.
async fn record_file(
    tx: &mut Tx,
    p: &Principal,
    [project, version, name]: [&str; 3],
    stored: &Stored,
    replaced: bool,
) -> ApiResult<()> {
    let key = || vec![Value::from(project), version.into(), name.into()];
    let mut stmts = Vec::new();
    if replaced {
        stmts.push(Stmt {
            sql: "DELETE FROM attachments WHERE project = $1 AND version = $2 AND file = $3",
            params: key(),
        });
        stmts.push(Stmt {
            sql: "DELETE FROM files WHERE project = $1 AND version = $2 AND name = $3",
            params: key(),
        });
    }
    let mut params = key();
    params.extend([
        stored.sha256.as_str().into(),
        (stored.size as i64).into(),
        unix_now().into(),
    ]);
    stmts.push(Stmt {
        sql: "INSERT INTO files (project, version, name, sha256, size, created) VALUES ($1, $2, $3, $4, $5, $6)",
        params,
    });
    stmts.push(record(
        &p.token_id,
        if replaced {
            "file.replace"
        } else {
            "file.upload"
        },
        Some(project),
        Some(version),
        Some(name),
        Some(&stored.sha256),
        &format!("{} bytes", stored.size),
    ));
    tx.execute_all(stmts).await?;
    Ok(())
}

/// The byte range a download asks for: one `Range: bytes=…` range (RFC 9110 §14), honoured
/// unless `If-Range` names another representation. Several ranges, another unit or a
/// malformed header are ignored (the whole blob is sent, as the RFC allows).
fn wanted_range(headers: &HeaderMap, sha256: &str) -> Option<ByteRange> {
    let spec = headers.get(header::RANGE)?.to_str().ok()?.trim();
    if let Some(v) = headers.get(header::IF_RANGE)
        && v.to_str().ok()? != format!("\"{sha256}\"")
    {
        return None;
    }
    let spec = spec.strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, false) => Some(ByteRange::Suffix(num(b)?)),
        (false, true) => Some(ByteRange::From(num(a)?)),
        (false, false) => {
            let (a, b) = (num(a)?, num(b)?);
            (a <= b).then_some(ByteRange::Bounded(a, b))
        }
        (true, true) => None,
    }
}

/// Streams a stored blob with its digest in `X-Content-SHA256` and the ETag, from either
/// backend; a `Range` request gets 206 with `Content-Range` (or 416 when it is outside the
/// blob), for resumable downloads.
pub(crate) async fn send_blob(
    s: &AppState,
    sha256: &str,
    content_type: &'static str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let range = wanted_range(headers, sha256);
    let d = match s.blobs.get(sha256, range).await {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput && range.is_some() => {
            let size = s.blobs.size(sha256).await?;
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
        Err(e) => return Err(e.into()),
    };
    let len = d.range.end - d.range.start;
    let mut resp = Response::new(Body::from_stream(d.body));
    let h = resp.headers_mut();
    if range.is_some()
        && let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{}",
            d.range.start,
            d.range.end - 1,
            d.total
        ))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(sha256) {
        h.insert(DIGEST_HEADER, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        h.insert(header::ETAG, v);
    }
    if range.is_some() {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(resp)
}

/// GET /api/v1/projects/{project}/releases/{version}/files/{file}
pub async fn get_file(
    State(s): St,
    Path((project, version, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (sha, _) = stored_file(&s, &project, &version, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{project} {version} has no file {name}")))?;
    send_blob(&s, &sha, "application/octet-stream", &headers).await
}

/// Reads a whole (small) body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(body: Body, limit: u64) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| upload_error(UploadError::Interrupted(e)))?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(upload_error(UploadError::TooLarge { limit }));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
