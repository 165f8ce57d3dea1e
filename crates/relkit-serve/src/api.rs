//! The HTTP API (`/api/v1/…`, documented in `docs/openapi.yaml`) and its handlers.
//!
//! Every write needs `Authorization: Bearer <token>` for the project (or an admin token), is
//! checked before the body is read where possible, and is recorded in the audit table in the
//! same transaction as the change. Errors are JSON `{"error": code, "message": text}`.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth::{self, Principal};
use crate::blobs::UploadError;
use crate::db::{DbError, Stmt, Value};
use crate::verify::{self, Kind, ProjectRules};
use crate::{AppState, now};

/// An API error: status, stable code and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            format!("the metadata database failed, retry later: {e}"),
        )
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            format!("blob storage: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

type St = State<Arc<AppState>>;

/// Validates a project, version, file or attachment name: it becomes part of URLs and page
/// text (never of a file system path: blobs are stored by digest), so only a conservative
/// set of characters is accepted, starting with a letter or digit (no `.`/`..`, no `/`).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-~".contains(&b))
}

fn check_names(names: &[(&str, &str)]) -> ApiResult<()> {
    for (what, n) in names {
        if !valid_name(n) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_name",
                format!(
                    "{what} {n:?} is not allowed: use letters, digits and . _ + - ~, starting with a letter or digit (no path separators)"
                ),
            ));
        }
    }
    Ok(())
}

/// Authenticates the request's bearer token.
pub async fn principal(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "this endpoint writes: send Authorization: Bearer <token>",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match auth::authenticate(&state.db, &state.key, token.trim()).await? {
        Some(p) => Ok(p),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the token is unknown or revoked: ask the server admin for a new one",
        )),
    }
}

async fn writer(state: &AppState, headers: &HeaderMap, project: &str) -> ApiResult<Principal> {
    let p = principal(state, headers).await?;
    if !p.may_write(project) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_project",
            format!("token {} may not write to project {project}", p.token_id),
        ));
    }
    Ok(p)
}

async fn admin(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let p = principal(state, headers).await?;
    if !p.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_required",
            "this needs an admin token",
        ));
    }
    Ok(p)
}

/// An audit-log insert for a transaction.
pub(crate) fn audit(
    actor: &str,
    action: &str,
    project: Option<&str>,
    version: Option<&str>,
    name: Option<&str>,
    sha256: Option<&str>,
    detail: &str,
) -> Stmt {
    Stmt {
        sql: "INSERT INTO audit (at, actor, action, project, version, name, sha256, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params: vec![
            now().into(),
            actor.into(),
            action.into(),
            project.map(str::to_string).into(),
            version.map(str::to_string).into(),
            name.map(str::to_string).into(),
            sha256.map(str::to_string).into(),
            detail.into(),
        ],
    }
}

/// A project as listed.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProjectSummary {
    /// Project name.
    pub name: String,
    /// Number of releases.
    pub releases: i64,
}

/// GET /api/v1/projects
pub async fn list_projects(State(s): St) -> ApiResult<Json<Vec<ProjectSummary>>> {
    Ok(Json(projects(&s).await?))
}

pub(crate) async fn projects(s: &AppState) -> ApiResult<Vec<ProjectSummary>> {
    let rows = s
        .db
        .query(
            "SELECT p.name, (SELECT COUNT(*) FROM releases r WHERE r.project = p.name) FROM projects p ORDER BY p.name",
            vec![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ProjectSummary {
            name: r[0].text(),
            releases: r[1].int(),
        })
        .collect())
}

/// A project's verification settings (PUT/GET /api/v1/projects/{project}).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Policy TOML (see `relkit verify --help`).
    #[serde(default)]
    pub policy: Option<String>,
    /// Public key (SPKI PEM or minisign) for signatures, key-based bundles and DSSE.
    #[serde(default)]
    pub verify_key: Option<String>,
    /// Sigstore trusted_root.json text, for keyless bundles.
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// Every file needs an SBOM before the release can be published.
    #[serde(default)]
    pub require_sbom: bool,
    /// Every file needs a verified signature or bundle.
    #[serde(default)]
    pub require_signature: bool,
    /// Every file needs verified provenance.
    #[serde(default)]
    pub require_provenance: bool,
}

impl ProjectConfig {
    fn rules(&self) -> ProjectRules {
        ProjectRules {
            policy: self.policy.clone(),
            verify_key: self.verify_key.clone(),
            trusted_root: self.trusted_root.clone(),
            require_sbom: self.require_sbom,
            require_signature: self.require_signature,
            require_provenance: self.require_provenance,
        }
    }
}

/// Creates or updates a project (used by the API and the offline CLI).
pub(crate) async fn set_project(
    s: &crate::Store,
    actor: &str,
    name: &str,
    cfg: &ProjectConfig,
) -> ApiResult<()> {
    check_names(&[("project", name)])?;
    verify::validate_rules(&cfg.rules())
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_config", e.0))?;
    let b = |x: bool| Value::Int(i64::from(x));
    s.db.transaction(vec![
        Stmt {
            sql: "INSERT INTO projects (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            params: vec![name.into(), now().into()],
        },
        Stmt {
            sql: "UPDATE projects SET policy = $1, verify_key = $2, trusted_root = $3, require_sbom = $4, require_signature = $5, require_provenance = $6 WHERE name = $7",
            params: vec![
                cfg.policy.clone().into(),
                cfg.verify_key.clone().into(),
                cfg.trusted_root.clone().into(),
                b(cfg.require_sbom),
                b(cfg.require_signature),
                b(cfg.require_provenance),
                name.into(),
            ],
        },
        audit(actor, "project.set", Some(name), None, None, None, "settings updated"),
    ])
    .await?;
    Ok(())
}

async fn project_config(s: &AppState, name: &str) -> ApiResult<ProjectConfig> {
    let rows = s
        .db
        .query(
            "SELECT policy, verify_key, trusted_root, require_sbom, require_signature, require_provenance FROM projects WHERE name = $1",
            vec![name.into()],
        )
        .await?;
    let r = rows
        .first()
        .ok_or_else(|| ApiError::not_found(format!("no project {name}")))?;
    Ok(ProjectConfig {
        policy: r[0].opt_text(),
        verify_key: r[1].opt_text(),
        trusted_root: r[2].opt_text(),
        require_sbom: r[3].int() != 0,
        require_signature: r[4].int() != 0,
        require_provenance: r[5].int() != 0,
    })
}

/// PUT /api/v1/projects/{project} (admin)
pub async fn put_project(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(cfg): Json<ProjectConfig>,
) -> ApiResult<Json<ProjectConfig>> {
    let p = admin(&s, &headers).await?;
    let _w = s.write_lock.lock().await;
    set_project(&s.store(), &p.token_id, &project, &cfg).await?;
    Ok(Json(cfg))
}

/// GET /api/v1/projects/{project}
pub async fn get_project(
    State(s): St,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectConfig>> {
    Ok(Json(project_config(&s, &project).await?))
}

/// A release as listed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseSummary {
    /// Version.
    pub version: String,
    /// Git tag.
    pub tag: String,
    /// Git commit.
    pub commit: String,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Publication time (Unix seconds), null while a draft.
    pub published: Option<i64>,
}

/// Paging of listings.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// At most this many (default 100, max 1000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// GET /api/v1/projects/{project}/releases
pub async fn list_releases(
    State(s): St,
    Path(project): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<ReleaseSummary>>> {
    Ok(Json(releases(&s, &project, page).await?))
}

pub(crate) async fn releases(
    s: &AppState,
    project: &str,
    page: Page,
) -> ApiResult<Vec<ReleaseSummary>> {
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let offset = page.offset.unwrap_or(0).max(0);
    let rows = s
        .db
        .query(
            "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 ORDER BY created DESC, version DESC LIMIT $2 OFFSET $3",
            vec![project.into(), limit.into(), offset.into()],
        )
        .await?;
    if rows.is_empty()
        && offset == 0
        && s.db
            .query(
                "SELECT name FROM projects WHERE name = $1",
                vec![project.into()],
            )
            .await?
            .is_empty()
    {
        return Err(ApiError::not_found(format!("no project {project}")));
    }
    Ok(rows
        .into_iter()
        .map(|r| ReleaseSummary {
            version: r[0].text(),
            tag: r[1].text(),
            commit: r[2].text(),
            created: r[3].int(),
            published: r[4].opt_int(),
        })
        .collect())
}

/// POST body of a new release.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// Version (a name: letters, digits, `._+-~`).
    pub version: String,
    /// Git tag.
    #[serde(default)]
    pub tag: String,
    /// Git commit.
    #[serde(default)]
    pub commit: String,
}

/// POST /api/v1/projects/{project}/releases
pub async fn create_release(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(r): Json<NewRelease>,
) -> ApiResult<(StatusCode, Json<ReleaseSummary>)> {
    let p = writer(&s, &headers, &project).await?;
    check_names(&[("project", &project), ("version", &r.version)])?;
    let _w = s.write_lock.lock().await;
    project_config(&s, &project).await?;
    let existing = s
        .db
        .query(
            "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 AND version = $2",
            vec![project.as_str().into(), r.version.as_str().into()],
        )
        .await?;
    if let Some(e) = existing.first() {
        let cur = ReleaseSummary {
            version: e[0].text(),
            tag: e[1].text(),
            commit: e[2].text(),
            created: e[3].int(),
            published: e[4].opt_int(),
        };
        if cur.tag == r.tag && cur.commit == r.commit {
            return Ok((StatusCode::OK, Json(cur)));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "release_exists",
            format!(
                "{project} {} already exists with tag {:?} and commit {:?}",
                r.version, cur.tag, cur.commit
            ),
        ));
    }
    let created = now();
    s.db.transaction(vec![
        Stmt {
            sql: "INSERT INTO releases (project, version, tag, commit_id, created) VALUES ($1, $2, $3, $4, $5)",
            params: vec![
                project.as_str().into(),
                r.version.as_str().into(),
                r.tag.as_str().into(),
                r.commit.as_str().into(),
                created.into(),
            ],
        },
        audit(
            &p.token_id,
            "release.create",
            Some(&project),
            Some(&r.version),
            None,
            None,
            &format!("tag {:?} commit {:?}", r.tag, r.commit),
        ),
    ])
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReleaseSummary {
            version: r.version,
            tag: r.tag,
            commit: r.commit,
            created,
            published: None,
        }),
    ))
}

/// An attachment of a file, as shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Attachment name (e.g. `x.tar.gz.spdx.json`).
    pub name: String,
    /// `sbom`, `signature`, `bundle` or `provenance`.
    pub kind: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// `verified` or `warnings`.
    pub status: String,
    /// Download path.
    pub url: String,
    /// What the check proved: the `relkit sbom check` report (with its warnings) for SBOMs,
    /// the `relkit verify` report for signatures, bundles and provenance.
    pub report: serde_json::Value,
}

/// A file of a release, as shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileInfo {
    /// File name.
    pub name: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Download path.
    pub url: String,
    /// SBOMs, signatures, bundles, provenance.
    pub attachments: Vec<AttachmentInfo>,
}

/// A release with its files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseDetail {
    /// Project.
    pub project: String,
    /// The release.
    #[serde(flatten)]
    pub release: ReleaseSummary,
    /// Files, by name.
    pub files: Vec<FileInfo>,
}

pub(crate) async fn release_detail(
    s: &AppState,
    project: &str,
    version: &str,
) -> ApiResult<ReleaseDetail> {
    let rows = s
        .db
        .query(
            "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?;
    let r = rows
        .first()
        .ok_or_else(|| ApiError::not_found(format!("no release {project} {version}")))?;
    let release = ReleaseSummary {
        version: r[0].text(),
        tag: r[1].text(),
        commit: r[2].text(),
        created: r[3].int(),
        published: r[4].opt_int(),
    };
    let base = format!("/api/v1/projects/{project}/releases/{version}/files");
    let mut files: Vec<FileInfo> = s
        .db
        .query(
            "SELECT name, sha256, size FROM files WHERE project = $1 AND version = $2 ORDER BY name",
            vec![project.into(), version.into()],
        )
        .await?
        .into_iter()
        .map(|f| FileInfo {
            url: format!("{base}/{}", f[0].text()),
            name: f[0].text(),
            sha256: f[1].text(),
            size: f[2].int(),
            attachments: Vec::new(),
        })
        .collect();
    let atts = s
        .db
        .query(
            "SELECT file, name, kind, sha256, size, status, detail FROM attachments WHERE project = $1 AND version = $2 ORDER BY file, name",
            vec![project.into(), version.into()],
        )
        .await?;
    for a in atts {
        if let Some(f) = files.iter_mut().find(|f| f.name == a[0].text()) {
            f.attachments.push(AttachmentInfo {
                url: format!("{base}/{}/{}/{}", a[0].text(), a[2].text(), a[1].text()),
                name: a[1].text(),
                kind: a[2].text(),
                sha256: a[3].text(),
                size: a[4].int(),
                status: a[5].text(),
                report: serde_json::from_str(&a[6].text()).unwrap_or_default(),
            });
        }
    }
    Ok(ReleaseDetail {
        project: project.to_string(),
        release,
        files,
    })
}

/// GET /api/v1/projects/{project}/releases/{version}
pub async fn get_release(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Json<ReleaseDetail>> {
    Ok(Json(release_detail(&s, &project, &version).await?))
}

/// The declared digest header of uploads.
pub const DIGEST_HEADER: &str = "x-content-sha256";

fn declared_digest(headers: &HeaderMap, required: bool) -> ApiResult<Option<String>> {
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

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn release_state(s: &AppState, project: &str, version: &str) -> ApiResult<Option<i64>> {
    let rows =
        s.db.query(
            "SELECT published FROM releases WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?;
    let r = rows
        .first()
        .ok_or_else(|| ApiError::not_found(format!("no release {project} {version}")))?;
    Ok(r[0].opt_int())
}

async fn file_row(
    s: &AppState,
    project: &str,
    version: &str,
    name: &str,
) -> ApiResult<Option<(String, i64)>> {
    let rows =
        s.db.query(
            "SELECT sha256, size FROM files WHERE project = $1 AND version = $2 AND name = $3",
            vec![project.into(), version.into(), name.into()],
        )
        .await?;
    Ok(rows.first().map(|r| (r[0].text(), r[1].int())))
}

/// Result of an upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadResult {
    /// Name stored.
    pub name: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// `created`, `unchanged` or `replaced`.
    pub outcome: String,
    /// `verified` / `warnings` for attachments, empty for files.
    pub status: String,
}

/// The answer to a stored upload: 201 for a new name, 200 when it replaced a draft's.
fn stored_response(
    name: String,
    stored: crate::blobs::Stored,
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

fn published_conflict(project: &str, version: &str, name: &str, have: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "immutable",
        format!(
            "{project} {version} is published: {name} is stored with sha256 {have} and cannot be overwritten (publish a new version)"
        ),
    )
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        UploadError::DigestMismatch { .. } => {
            ApiError::new(StatusCode::BAD_REQUEST, "digest_mismatch", e.to_string())
        }
        UploadError::Interrupted(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "interrupted", e.to_string())
        }
        UploadError::Io(io) => io.into(),
    }
}

/// PUT /api/v1/projects/{project}/releases/{version}/files/{file}
pub async fn put_file(
    State(s): St,
    Path((project, version, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let p = writer(&s, &headers, &project).await?;
    check_names(&[("version", &version), ("file name", &name)])?;
    let declared = declared_digest(&headers, true)?.expect("required");
    if content_length(&headers).is_some_and(|n| n > s.limits.max_file) {
        return Err(upload_error(UploadError::TooLarge {
            limit: s.limits.max_file,
        }));
    }
    let published = release_state(&s, &project, &version).await?;
    let existing = file_row(&s, &project, &version, &name).await?;
    if let Some((have, size)) = &existing {
        if *have == declared {
            return Ok((
                StatusCode::OK,
                Json(UploadResult {
                    name,
                    sha256: have.clone(),
                    size: *size,
                    outcome: "unchanged".into(),
                    status: String::new(),
                }),
            ));
        }
        if published.is_some() {
            return Err(published_conflict(&project, &version, &name, have));
        }
    } else if published.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "immutable",
            format!("{project} {version} is published: no file can be added"),
        ));
    }
    let stored = s
        .blobs
        .receive(body, s.limits.max_file, &declared)
        .await
        .map_err(upload_error)?;
    let _w = s.write_lock.lock().await;
    // Re-check under the write lock: the release may have been published meanwhile.
    if release_state(&s, &project, &version).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "immutable",
            format!("{project} {version} was published during the upload"),
        ));
    }
    let replaced = file_row(&s, &project, &version, &name).await?.is_some();
    let (pr, ve, na) = (
        Value::from(project.as_str()),
        Value::from(version.as_str()),
        Value::from(name.as_str()),
    );
    let mut stmts = Vec::new();
    if replaced {
        stmts.push(Stmt {
            sql: "DELETE FROM attachments WHERE project = $1 AND version = $2 AND file = $3",
            params: vec![pr.clone(), ve.clone(), na.clone()],
        });
        stmts.push(Stmt {
            sql: "DELETE FROM files WHERE project = $1 AND version = $2 AND name = $3",
            params: vec![pr.clone(), ve.clone(), na.clone()],
        });
    }
    stmts.push(Stmt {
        sql: "INSERT INTO files (project, version, name, sha256, size, created) VALUES ($1, $2, $3, $4, $5, $6)",
        params: vec![
            pr,
            ve,
            na,
            stored.sha256.as_str().into(),
            (stored.size as i64).into(),
            now().into(),
        ],
    });
    stmts.push(audit(
        &p.token_id,
        if replaced {
            "file.replace"
        } else {
            "file.upload"
        },
        Some(&project),
        Some(&version),
        Some(&name),
        Some(&stored.sha256),
        &format!("{} bytes", stored.size),
    ));
    s.db.transaction(stmts).await?;
    Ok(stored_response(name, stored, replaced, String::new()))
}

async fn read_limited(body: Body, limit: u64) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| upload_error(UploadError::Interrupted(e.to_string())))?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(upload_error(UploadError::TooLarge { limit }));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// PUT /api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}
pub async fn put_attachment(
    State(s): St,
    Path((project, version, file, kind, name)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    let p = writer(&s, &headers, &project).await?;
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
    if content_length(&headers).is_some_and(|n| n > s.limits.max_attachment) {
        return Err(upload_error(UploadError::TooLarge {
            limit: s.limits.max_attachment,
        }));
    }
    let published = release_state(&s, &project, &version).await?;
    let (file_sha, _) = file_row(&s, &project, &version, &file)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{project} {version} has no file {file}: upload the file before its {}",
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
    let existing = s
        .db
        .query(
            "SELECT sha256, size, status FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND name = $4",
            vec![
                project.as_str().into(),
                version.as_str().into(),
                file.as_str().into(),
                name.as_str().into(),
            ],
        )
        .await?;
    if let Some(e) = existing.first() {
        if e[0].text() == sha {
            return Ok((
                StatusCode::OK,
                Json(UploadResult {
                    name,
                    sha256: sha,
                    size: e[1].int(),
                    outcome: "unchanged".into(),
                    status: e[2].text(),
                }),
            ));
        }
        if published.is_some() {
            return Err(published_conflict(&project, &version, &name, &e[0].text()));
        }
    } else if published.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "immutable",
            format!("{project} {version} is published: nothing can be attached"),
        ));
    }
    let rules = project_config(&s, &project).await?.rules();
    let file_digest: [u8; 32] = hex::decode(&file_sha)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", "bad digest"))?;
    // Detached signatures and ed25519 message bundles sign the bytes, not the digest.
    let file_path = matches!(kind, Kind::Signature | Kind::Bundle).then(|| s.blobs.path(&file_sha));
    let (n2, f2) = (name.clone(), file.clone());
    let verdict = {
        let bytes = bytes.clone();
        tokio::task::spawn_blocking(move || {
            let file_bytes = match file_path {
                Some(p) => Some(std::fs::read(&p).map_err(|e| {
                    verify::Rejected(format!("cannot read the stored file {}: {e}", p.display()))
                })?),
                None => None,
            };
            if kind == Kind::Sbom {
                verify::check_sbom(&bytes, &n2)
            } else {
                verify::check_material(
                    kind,
                    &bytes,
                    &n2,
                    &f2,
                    file_digest,
                    file_bytes.as_deref(),
                    &rules,
                )
            }
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "task", e.to_string()))?
    }
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "verification_failed", e.0))?;
    let stored = s.blobs.put_bytes(&bytes).await.map_err(upload_error)?;
    let _w = s.write_lock.lock().await;
    if release_state(&s, &project, &version).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "immutable",
            format!("{project} {version} was published during the upload"),
        ));
    }
    let replaced = !existing.is_empty();
    let key = vec![
        Value::from(project.as_str()),
        version.as_str().into(),
        file.as_str().into(),
        name.as_str().into(),
    ];
    let mut stmts = vec![Stmt {
        sql: "DELETE FROM attachments WHERE project = $1 AND version = $2 AND file = $3 AND name = $4",
        params: key.clone(),
    }];
    let mut params = key;
    params.extend([
        kind.as_str().into(),
        stored.sha256.as_str().into(),
        (stored.size as i64).into(),
        verdict.status.into(),
        verdict.detail.into(),
        now().into(),
    ]);
    stmts.push(Stmt {
        sql: "INSERT INTO attachments (project, version, file, name, kind, sha256, size, status, detail, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params,
    });
    stmts.push(audit(
        &p.token_id,
        &format!("{}.upload", kind.as_str()),
        Some(&project),
        Some(&version),
        Some(&format!("{file}/{name}")),
        Some(&stored.sha256),
        verdict.status,
    ));
    s.db.transaction(stmts).await?;
    Ok(stored_response(
        name,
        stored,
        replaced,
        verdict.status.into(),
    ))
}

/// What blocks a publication.
#[derive(Debug, Serialize, Deserialize)]
pub struct PublishRefused {
    /// Always `not_publishable`.
    pub error: String,
    /// Summary.
    pub message: String,
    /// One entry per missing or failing piece: `file: what`.
    pub missing: Vec<String>,
}

/// POST /api/v1/projects/{project}/releases/{version}/publish
pub async fn publish(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ReleaseDetail>, Response> {
    let p = writer(&s, &headers, &project)
        .await
        .map_err(IntoResponse::into_response)?;
    let _w = s.write_lock.lock().await;
    let detail = release_detail(&s, &project, &version)
        .await
        .map_err(IntoResponse::into_response)?;
    if detail.release.published.is_some() {
        return Ok(Json(detail));
    }
    let rules = project_config(&s, &project)
        .await
        .map_err(IntoResponse::into_response)?
        .rules();
    let mut missing = Vec::new();
    if detail.files.is_empty() {
        missing.push("the release has no files".to_string());
    }
    for f in &detail.files {
        let has = |k: &str| f.attachments.iter().any(|a| a.kind == k);
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
        if rules.policy.is_some() {
            let mut material = Vec::new();
            for a in f
                .attachments
                .iter()
                .filter(|a| a.kind == "bundle" || a.kind == "provenance")
            {
                let text = tokio::fs::read_to_string(s.blobs.path(&a.sha256))
                    .await
                    .map_err(|e| ApiError::from(e).into_response())?;
                let k = Kind::parse(&a.kind).expect("stored kinds parse");
                material.push((k, a.name.clone(), text));
            }
            let digest: [u8; 32] = hex::decode(&f.sha256)
                .ok()
                .and_then(|v| v.try_into().ok())
                .unwrap_or([0; 32]);
            let (name, rules2) = (f.name.clone(), rules.clone());
            let r = tokio::task::spawn_blocking(move || {
                verify::check_policy(&name, digest, &material, &rules2)
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            if let Err(why) = r {
                missing.push(format!("{}: the project policy is not met: {why}", f.name));
            }
        }
    }
    if !missing.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(PublishRefused {
                error: "not_publishable".into(),
                message: format!(
                    "{project} {version} cannot be published: {} problem(s)",
                    missing.len()
                ),
                missing,
            }),
        )
            .into_response());
    }
    s.db.transaction(vec![
        Stmt {
            sql: "UPDATE releases SET published = $1 WHERE project = $2 AND version = $3 AND published IS NULL",
            params: vec![now().into(), project.as_str().into(), version.as_str().into()],
        },
        audit(
            &p.token_id,
            "release.publish",
            Some(&project),
            Some(&version),
            None,
            None,
            &format!("{} file(s)", detail.files.len()),
        ),
    ])
    .await
    .map_err(|e| ApiError::from(e).into_response())?;
    release_detail(&s, &project, &version)
        .await
        .map(Json)
        .map_err(IntoResponse::into_response)
}

/// DELETE /api/v1/projects/{project}/releases/{version}: a draft with the project's token,
/// a published release only with an admin token; always audited.
pub async fn delete_release(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let p = writer(&s, &headers, &project).await?;
    let _w = s.write_lock.lock().await;
    let published = release_state(&s, &project, &version).await?;
    if published.is_some() && !p.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_required",
            format!("{project} {version} is published: only an admin token can delete it"),
        ));
    }
    let key = || vec![Value::from(project.as_str()), version.as_str().into()];
    s.db.transaction(vec![
        Stmt {
            sql: "DELETE FROM attachments WHERE project = $1 AND version = $2",
            params: key(),
        },
        Stmt {
            sql: "DELETE FROM files WHERE project = $1 AND version = $2",
            params: key(),
        },
        Stmt {
            sql: "DELETE FROM releases WHERE project = $1 AND version = $2",
            params: key(),
        },
        audit(
            &p.token_id,
            "release.delete",
            Some(&project),
            Some(&version),
            None,
            None,
            if published.is_some() {
                "published release deleted by admin"
            } else {
                "draft deleted"
            },
        ),
    ])
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn send_blob(s: &AppState, sha256: &str, content_type: &'static str) -> ApiResult<Response> {
    let path = s.blobs.path(sha256);
    let file = tokio::fs::File::open(&path).await?;
    let len = file.metadata().await?.len();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(sha256) {
        h.insert(DIGEST_HEADER, v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

/// GET /api/v1/projects/{project}/releases/{version}/files/{file}
pub async fn get_file(
    State(s): St,
    Path((project, version, name)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let (sha, _) = file_row(&s, &project, &version, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{project} {version} has no file {name}")))?;
    send_blob(&s, &sha, "application/octet-stream").await
}

/// GET /api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}
pub async fn get_attachment(
    State(s): St,
    Path((project, version, file, kind, name)): Path<(String, String, String, String, String)>,
) -> ApiResult<Response> {
    let rows = s
        .db
        .query(
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
    let sha = rows
        .first()
        .map(|r| r[0].text())
        .ok_or_else(|| ApiError::not_found(format!("{file} has no {kind} {name}")))?;
    let ct = if kind == "signature" {
        "application/octet-stream"
    } else {
        "application/json"
    };
    send_blob(&s, &sha, ct).await
}

/// GET /api/v1/projects/{project}/releases/{version}/SHA256SUMS
pub async fn sha256sums(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let d = release_detail(&s, &project, &version).await?;
    let entries: Vec<(String, [u8; 32])> = d
        .files
        .iter()
        .filter_map(|f| {
            let b: [u8; 32] = hex::decode(&f.sha256).ok()?.try_into().ok()?;
            Some((f.name.clone(), b))
        })
        .collect();
    let text = relkit_attest::checksum::write_sums(&entries);
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// One audit record.
#[derive(Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Token id (or `cli` for offline administration).
    pub actor: String,
    /// e.g. `file.upload`, `release.publish`.
    pub action: String,
    /// Project.
    pub project: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// File or `file/attachment`.
    pub name: Option<String>,
    /// Digest written.
    pub sha256: Option<String>,
    /// Free text.
    pub detail: String,
}

/// GET /api/v1/audit (admin)
pub async fn get_audit(
    State(s): St,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    admin(&s, &headers).await?;
    let limit = page.limit.unwrap_or(100).clamp(1, 10000);
    let offset = page.offset.unwrap_or(0).max(0);
    let rows = s
        .db
        .query(
            "SELECT id, at, actor, action, project, version, name, sha256, detail FROM audit ORDER BY id DESC LIMIT $1 OFFSET $2",
            vec![limit.into(), offset.into()],
        )
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                id: r[0].int(),
                at: r[1].int(),
                actor: r[2].text(),
                action: r[3].text(),
                project: r[4].opt_text(),
                version: r[5].opt_text(),
                name: r[6].opt_text(),
                sha256: r[7].opt_text(),
                detail: r[8].text(),
            })
            .collect(),
    ))
}
