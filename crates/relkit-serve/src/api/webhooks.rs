//! A project's webhooks ([`crate::webhooks`]): registered, listed and deleted with a token
//! that may write to the project (the targets and deliveries are the project's settings,
//! not public), every change audited. A target must be among the server's allowed URLs
//! (`--webhook-allow`), else 403 `webhook_target_not_allowed`. The secret is in the creation
//! answer only.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::audit::record;
use super::{ApiError, ApiResult, Page, St, projects};
use crate::auth::require_writer;
use crate::db::{DbResult, FromRow, Row, Stmt};

/// Body of `POST /api/v1/projects/{project}/webhooks`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// The target URL (one the server allows).
    pub url: String,
}

/// A registered webhook (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    /// Its id.
    pub id: String,
    /// Project.
    pub project: String,
    /// Target URL.
    pub url: String,
    /// Creation time (Unix seconds).
    pub created: i64,
}

/// The answer to a creation: the webhook and its secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedWebhook {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 key of `X-Relkit-Signature` (its ASCII text); not stored in clear,
    /// never shown again.
    pub secret: String,
}

/// One delivery of an event to a webhook.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Delivery id (`X-Relkit-Delivery`).
    pub id: String,
    /// `release.affected` or `release.unaffected`.
    pub event: String,
    /// Release version.
    pub version: String,
    /// Advisory id.
    pub advisory: String,
    /// `pending`, `delivered`, `failed` (attempts exhausted) or `cancelled` (webhook deleted).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last attempt's HTTP status (null: none, or no answer).
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued (Unix seconds).
    pub created: i64,
    /// When the next attempt is due, while pending (Unix seconds).
    pub next_attempt: i64,
    /// When it was delivered (Unix seconds).
    pub delivered: Option<i64>,
}

impl FromRow for Webhook {
    fn from_row(row: Row) -> DbResult<Self> {
        let (id, project, url, created) = FromRow::from_row(row)?;
        Ok(Webhook {
            id,
            project,
            url,
            created,
        })
    }
}

/// Reads a delivery row: (uid, event, version, advisory, status, attempts, last_status,
/// last_error, created, next_attempt, delivered) in two parts (the row tuples stop at 9).
fn delivery(row: Row) -> DbResult<Delivery> {
    let mut row = row;
    let rest = row.split_off(6);
    let (id, event, version, advisory, status, attempts) = FromRow::from_row(row)?;
    let (last_status, last_error, created, next_attempt, delivered) = FromRow::from_row(rest)?;
    Ok(Delivery {
        id,
        event,
        version,
        advisory,
        status,
        attempts,
        last_status,
        last_error,
        created,
        next_attempt,
        delivered,
    })
}

/// A delivery row, read by [`delivery`].
struct DeliveryRow(Delivery);

impl FromRow for DeliveryRow {
    fn from_row(row: Row) -> DbResult<Self> {
        delivery(row).map(DeliveryRow)
    }
}

async fn project_exists(s: &crate::AppState, project: &str) -> ApiResult<()> {
    if projects::exists(s, project).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no project {project}")))
    }
}

/// POST /api/v1/projects/{project}/webhooks: 201 with the secret (shown once).
pub async fn create_webhook(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let p = require_writer(&s, &headers, &project).await?;
    project_exists(&s, &project).await?;
    let bytes = axum::body::to_bytes(body, 64 << 10).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "a webhook body is at most 64 KiB",
        )
    })?;
    let req: NewWebhook = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("expected {{\"url\": \"…\"}}: {e}"),
        )
    })?;
    if !s.webhooks.allowed(&req.url) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "webhook_target_not_allowed",
            format!(
                "{} is not among the server's allowed webhook URLs: ask its operator to start it with --webhook-allow",
                req.url
            ),
        ));
    }
    let id = crate::blobs::random_hex(8);
    let (secret, sealed) = crate::webhooks::new_secret(&s.key, &id);
    let created = crate::now();
    s.db.transaction(vec![
        Stmt {
            sql: "INSERT INTO webhooks (id, project, url, secret, created, actor) VALUES ($1, $2, $3, $4, $5, $6)",
            params: vec![
                id.as_str().into(),
                project.as_str().into(),
                req.url.as_str().into(),
                sealed.into(),
                created.into(),
                p.token_id.as_str().into(),
            ],
        },
        record(
            &p.token_id,
            "webhook.create",
            Some(&project),
            None,
            Some(&id),
            None,
            &req.url,
        ),
    ])
    .await?;
    let body = CreatedWebhook {
        webhook: Webhook {
            id,
            project,
            url: req.url,
            created,
        },
        secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// GET /api/v1/projects/{project}/webhooks
pub async fn list_webhooks(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<Webhook>>> {
    require_writer(&s, &headers, &project).await?;
    project_exists(&s, &project).await?;
    Ok(Json(
        s.db.query(
            "SELECT id, project, url, created FROM webhooks WHERE project = $1 ORDER BY created, id",
            vec![project.as_str().into()],
        )
        .await?,
    ))
}

/// DELETE /api/v1/projects/{project}/webhooks/{id}: 204; its pending deliveries are cancelled.
pub async fn delete_webhook(
    State(s): St,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let p = require_writer(&s, &headers, &project).await?;
    let mut tx = s.db.begin().await?;
    let n = tx
        .execute(
            "DELETE FROM webhooks WHERE project = $1 AND id = $2",
            vec![project.as_str().into(), id.as_str().into()],
        )
        .await?;
    if n == 0 {
        // Nothing deleted: the transaction is rolled back when dropped.
        return Err(ApiError::not_found(format!(
            "no webhook {id} in project {project}"
        )));
    }
    tx.execute_all(vec![
        Stmt {
            sql: "UPDATE webhook_deliveries SET status = 'cancelled', last_error = 'the webhook was deleted' WHERE webhook = $1 AND status = 'pending'",
            params: vec![id.as_str().into()],
        },
        record(
            &p.token_id,
            "webhook.delete",
            Some(&project),
            None,
            Some(&id),
            None,
            "",
        ),
    ])
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /api/v1/projects/{project}/webhooks/{id}/deliveries: newest first (`?limit=&offset=`).
pub async fn list_deliveries(
    State(s): St,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    Query(page): Query<Page>,
) -> ApiResult<Json<Vec<Delivery>>> {
    require_writer(&s, &headers, &project).await?;
    let (limit, offset) = page.bounds(1000);
    let rows: Vec<DeliveryRow> = s
        .db
        .query(
            "SELECT d.uid, d.event, d.version, d.advisory, d.status, d.attempts, d.last_status, d.last_error, d.created, d.next_attempt, d.delivered FROM webhook_deliveries d WHERE d.project = $1 AND d.webhook = $2 ORDER BY d.id DESC LIMIT $3 OFFSET $4",
            vec![
                project.as_str().into(),
                id.as_str().into(),
                limit.into(),
                offset.into(),
            ],
        )
        .await?;
    Ok(Json(rows.into_iter().map(|r| r.0).collect()))
}
