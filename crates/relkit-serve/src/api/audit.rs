//! The audit log: every write is recorded ([`record`]) in the same transaction as the change;
//! admins read it newest first.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use relkit_core::wire::AuditEntry;

use super::{ApiResult, Page, St};
use crate::auth::require_admin;
use crate::db::{DbResult, FromRow, Row, Stmt};
use crate::now;

/// An audit-log insert for a transaction.
pub(crate) fn record(
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

impl FromRow for AuditEntry {
    fn from_row(row: Row) -> DbResult<Self> {
        let (id, at, actor, action, project, version, name, sha256, detail) =
            FromRow::from_row(row)?;
        Ok(AuditEntry {
            id,
            at,
            actor,
            action,
            project,
            version,
            name,
            sha256,
            detail,
        })
    }
}

/// GET /api/v1/audit (admin)
pub async fn get_audit(
    State(s): St,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    require_admin(&s, &headers).await?;
    let (limit, offset) = page.bounds(10000);
    Ok(Json(
        s.db.query(
            "SELECT id, at, actor, action, project, version, name, sha256, detail FROM audit ORDER BY id DESC LIMIT $1 OFFSET $2",
            vec![limit.into(), offset.into()],
        )
        .await?,
    ))
}
