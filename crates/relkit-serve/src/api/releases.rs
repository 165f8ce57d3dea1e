//! Releases of a project: listing, creation (idempotent), the detail with files and
//! material, deletion, and the generated SHA256SUMS. Publication is in [`super::publish`].

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use relkit_core::wire::{AttachmentInfo, FileInfo, NewRelease, Release, ReleaseDetail};

use super::audit::record;
use super::{ApiError, ApiResult, Page, St, check_names, projects};
use crate::auth::{require_admin_for_published, require_writer};
use crate::db::{DbResult, FromRow, Row, Stmt, Tx, Value};
use crate::{AppState, now};

impl FromRow for Release {
    fn from_row(row: Row) -> DbResult<Self> {
        let (version, tag, commit, created, published) = FromRow::from_row(row)?;
        Ok(Release {
            version,
            tag,
            commit,
            created,
            published,
        })
    }
}

/// GET /api/v1/projects/{project}/releases
pub async fn list_releases(
    State(s): St,
    Path(project): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<Release>>> {
    Ok(Json(list(&s, &project, page).await?))
}

/// A page of a project's releases, newest first; 404 when there is no such project.
pub(crate) async fn list(s: &AppState, project: &str, page: Page) -> ApiResult<Vec<Release>> {
    let (limit, offset) = page.bounds(1000);
    let rows: Vec<Release> = s
        .db
        .query(
            "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 ORDER BY created DESC, version DESC LIMIT $2 OFFSET $3",
            vec![project.into(), limit.into(), offset.into()],
        )
        .await?;
    if rows.is_empty() && offset == 0 && !projects::exists(s, project).await? {
        return Err(ApiError::not_found(format!("no project {project}")));
    }
    Ok(rows)
}

/// One release, if it exists.
async fn find(s: &AppState, project: &str, version: &str) -> ApiResult<Option<Release>> {
    Ok(s.db
        .query_opt(
            "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?)
}

/// POST /api/v1/projects/{project}/releases
pub async fn create_release(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(r): Json<NewRelease>,
) -> ApiResult<(StatusCode, Json<Release>)> {
    let p = require_writer(&s, &headers, &project).await?;
    check_names(&[("project", &project), ("version", &r.version)])?;
    // One transaction; the primary key decides between concurrent creations (on PostgreSQL
    // the second INSERT waits for the first to commit, then does nothing).
    let mut tx = s.db.begin().await?;
    let exists: Option<(String,)> = tx
        .query_opt(
            "SELECT name FROM projects WHERE name = $1",
            vec![project.as_str().into()],
        )
        .await?;
    if exists.is_none() {
        return Err(ApiError::not_found(format!("no project {project}")));
    }
    let created = now();
    let inserted = tx
        .execute(
            "INSERT INTO releases (project, version, tag, commit_id, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, version) DO NOTHING",
            vec![
                project.as_str().into(),
                r.version.as_str().into(),
                r.tag.as_str().into(),
                r.commit.as_str().into(),
                created.into(),
            ],
        )
        .await?;
    if inserted == 0 {
        let cur: Release = tx
            .query_opt(
                "SELECT version, tag, commit_id, created, published FROM releases WHERE project = $1 AND version = $2",
                vec![project.as_str().into(), r.version.as_str().into()],
            )
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("{project} {} was deleted while being created: retry", r.version),
                )
            })?;
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
    tx.execute_all(vec![record(
        &p.token_id,
        "release.create",
        Some(&project),
        Some(&r.version),
        None,
        None,
        &format!("tag {:?} commit {:?}", r.tag, r.commit),
    )])
    .await?;
    tx.commit().await?;
    let release = Release {
        version: r.version,
        tag: r.tag,
        commit: r.commit,
        created,
        published: None,
    };
    Ok((StatusCode::CREATED, Json(release)))
}

/// A stored file: (name, sha256, size).
type FileRow = (String, String, i64);
/// A stored attachment: (file, name, kind, sha256, size, status, detail JSON).
type AttachmentRow = (String, String, String, String, i64, String, String);

/// A release with its files and their material; 404 when there is no such release.
pub(crate) async fn detail(s: &AppState, project: &str, version: &str) -> ApiResult<ReleaseDetail> {
    let release = find(s, project, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no release {project} {version}")))?;
    let base = format!("/api/v1/projects/{project}/releases/{version}/files");
    let files: Vec<FileRow> = s
        .db
        .query(
            "SELECT name, sha256, size FROM files WHERE project = $1 AND version = $2 ORDER BY name",
            vec![project.into(), version.into()],
        )
        .await?;
    let mut files: Vec<FileInfo> = files
        .into_iter()
        .map(|(name, sha256, size)| FileInfo {
            url: format!("{base}/{name}"),
            name,
            sha256,
            size,
            attachments: Vec::new(),
        })
        .collect();
    let atts: Vec<AttachmentRow> = s
        .db
        .query(
            "SELECT file, name, kind, sha256, size, status, detail FROM attachments WHERE project = $1 AND version = $2 ORDER BY file, name",
            vec![project.into(), version.into()],
        )
        .await?;
    for (file, name, kind, sha256, size, status, detail) in atts {
        if let Some(f) = files.iter_mut().find(|f| f.name == file) {
            f.attachments.push(AttachmentInfo {
                url: format!("{base}/{file}/{kind}/{name}"),
                name,
                kind,
                sha256,
                size,
                status,
                report: serde_json::from_str(&detail).unwrap_or_default(),
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
    Ok(Json(detail(&s, &project, &version).await?))
}

/// A release's publication time (None for a draft); 404 when there is no such release.
pub(crate) async fn published_at(
    s: &AppState,
    project: &str,
    version: &str,
) -> ApiResult<Option<i64>> {
    let row: Option<(Option<i64>,)> =
        s.db.query_opt(
            "SELECT published FROM releases WHERE project = $1 AND version = $2",
            vec![project.into(), version.into()],
        )
        .await?;
    row.map(|(published,)| published)
        .ok_or_else(|| ApiError::not_found(format!("no release {project} {version}")))
}

/// Locks a release's row for the rest of the transaction and returns its publication time
/// (None for a draft); 404 when there is no such release. Every write to a release's files,
/// material or state takes this lock first (PostgreSQL: `SELECT … FOR UPDATE`, a row lock
/// held until commit, shared by every replica; SQLite: the transaction already holds the
/// database's write lock), so they serialise per release whichever process runs them.
pub(crate) async fn lock_release(
    tx: &mut Tx,
    project: &str,
    version: &str,
) -> ApiResult<Option<i64>> {
    let row: Option<(Option<i64>,)> = tx
        .query_opt(
            "SELECT published FROM releases WHERE project = $1 AND version = $2 FOR UPDATE",
            vec![project.into(), version.into()],
        )
        .await?;
    row.map(|(published,)| published)
        .ok_or_else(|| ApiError::not_found(format!("no release {project} {version}")))
}

/// DELETE /api/v1/projects/{project}/releases/{version}: a draft with the project's token,
/// a published release only with an admin token; always audited.
pub async fn delete_release(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let p = require_writer(&s, &headers, &project).await?;
    let mut tx = s.db.begin().await?;
    let published = lock_release(&mut tx, &project, &version).await?;
    if published.is_some() {
        require_admin_for_published(&p, &project, &version)?;
    }
    let key = || vec![Value::from(project.as_str()), version.as_str().into()];
    tx.execute_all(vec![
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
        record(
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
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/v1/projects/{project}/releases/{version}/SHA256SUMS
pub async fn sha256sums(
    State(s): St,
    Path((project, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let d = detail(&s, &project, &version).await?;
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
