//! Operational endpoints, unauthenticated unless configured: `GET /healthz` (alive: the
//! process answers, nothing else is checked), `GET /readyz` (ready: the metadata database
//! answers and the blob store is writable) and `GET /metrics` (Prometheus text, see
//! [`crate::metrics`]; a bearer token when the server was started with one).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{ApiError, St, with_cause};

/// How long one readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One readiness check's result.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `database` or `blobs`.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was checked, or why it failed (no credentials, no full paths).
    pub detail: String,
}

/// The `/readyz` answer: `ready` with every check; when not ready also `error` =
/// `not_ready` and a `message` naming the failed checks (the API's error convention).
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// Whether every check passed.
    pub ready: bool,
    /// The checks, in a fixed order.
    pub checks: Vec<Check>,
    /// `not_ready` when a check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// The failed checks and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

async fn timed<F: std::future::Future<Output = Result<String, String>>>(
    name: &'static str,
    f: F,
) -> Check {
    let r = match tokio::time::timeout(CHECK_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer within {} s",
            CHECK_TIMEOUT.as_secs_f64()
        )),
    };
    match r {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
        },
        Err(detail) => Check {
            name,
            ok: false,
            detail,
        },
    }
}

/// GET /healthz
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// GET /readyz
pub async fn readyz(s: St) -> Response {
    let db = timed("database", async {
        s.db.ping()
            .await
            .map(|()| format!("{} answers", s.db.backend()))
            .map_err(|e| format!("{}: {}", s.db.backend(), with_cause(&e)))
    });
    let blobs = timed("blobs", async { s.blobs.probe().await });
    let (db, blobs) = tokio::join!(db, blobs);
    let checks = vec![db, blobs];
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    let ready = failed.is_empty();
    let body = Readiness {
        ready,
        checks,
        error: (!ready).then_some("not_ready"),
        message: (!ready).then(|| failed.join("; ")),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Whether the request carries the metrics token (compared as SHA-256 digests, so the
/// comparison's time says nothing about the token).
fn metrics_authorized(expected: &str, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

/// GET /metrics
pub async fn metrics(s: St, headers: HeaderMap) -> Response {
    if let Some(t) = &s.metrics_token
        && !metrics_authorized(t, &headers)
    {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this server's /metrics needs `Authorization: Bearer <metrics token>` (the token given to relkit serve --metrics-token-file)",
        )
        .into_response();
    }
    let mut resp = s.metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
