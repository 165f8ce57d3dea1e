//! The HTTP API (`/api/v1/…`, documented in `docs/openapi.yaml`), one module per resource:
//! [`projects`], [`releases`] (with publication in [`publish`]), [`files`], [`attachments`]
//! and the [`audit`] log, and the operational endpoints in [`ops`] (`/healthz`, `/readyz`,
//! `/metrics`); who may write is decided in [`crate::auth`]. The JSON bodies are
//! [`relkit_core::wire`]'s types, shared with relkit-client.
//!
//! Every write needs `Authorization: Bearer <token>` for the project (or an admin token), is
//! checked before the body is read where possible, and is recorded in the audit table in the
//! same transaction as the change. Errors are JSON [`ErrorBody`] `{"error": code,
//! "message": text}`.
//!
//! To add an endpoint: a handler in the resource's module, a line in [`routes!`]'s table
//! below, its body types in `relkit_core::wire`, and the path in `docs/openapi.yaml` (a test
//! fails until the table and the document agree).

pub mod attachments;
pub mod audit;
pub mod files;
pub mod ops;
pub mod projects;
pub mod publish;
pub mod query;
pub mod releases;
pub mod vex;
pub mod vulns;
pub mod webhooks;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use relkit_core::wire::ErrorBody;
use serde::Deserialize;

use crate::AppState;
use crate::db::DbError;
use crate::verify::Rejected;

pub use projects::set_project;

/// An API error: status, stable code, a message saying what to do, and the error behind it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable explanation (sent to the client).
    pub message: String,
    /// The underlying failure (database, storage, checker), kept for the error chain.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            source: None,
        }
    }

    /// 404 `not_found`.
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 409 `immutable`.
    pub(crate) fn immutable(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "immutable", what)
    }

    /// 422 with a checker's rejection (`invalid_config`, `verification_failed`).
    pub(crate) fn rejected(code: &'static str, r: Rejected) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message: r.message(),
            source: Some(Box::new(r)),
        }
    }

    /// 500 `task`: a blocking verification task panicked.
    pub(crate) fn task(e: tokio::task::JoinError) -> Self {
        ApiError {
            message: e.to_string(),
            source: Some(Box::new(e)),
            ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "task", "")
        }
    }
}

/// `e: its cause` (one level, the form the server's messages have always had).
pub(crate) fn with_cause(e: &(dyn std::error::Error + 'static)) -> String {
    match e.source() {
        Some(c) => format!("{e}: {c}"),
        None => e.to_string(),
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_unique_violation() {
            // Another request (on this or another server process) wrote the same key first.
            return ApiError {
                message: format!(
                    "another request wrote this first; nothing was changed (read it back, then retry if still needed): {}",
                    with_cause(&e)
                ),
                source: Some(Box::new(e)),
                ..ApiError::new(StatusCode::CONFLICT, "conflict", "")
            };
        }
        ApiError {
            message: format!(
                "the metadata database failed, retry later: {}",
                with_cause(&e)
            ),
            source: Some(Box::new(e)),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "")
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        if crate::blobs::Unavailable::is(&e) {
            // The object store is down or failing (after the client's retries): temporary.
            return ApiError {
                message: format!("blob storage: {e}"),
                source: Some(Box::new(e)),
                ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "blobs_unavailable", "")
            };
        }
        ApiError {
            message: format!("blob storage: {e}"),
            source: Some(Box::new(e)),
            ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", "")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
            missing: Vec::new(),
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut()
            .insert(crate::metrics::ErrorCode(self.code));
        resp
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// The handlers' state extractor.
pub(crate) type St = State<Arc<AppState>>;

/// Paging of listings (`?limit=&offset=`).
#[derive(Debug, Deserialize)]
pub struct Page {
    /// At most this many (default 100; at most 1000, or 10000 for the audit log).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

impl Page {
    /// The limit (default 100, clamped to 1..=max) and the offset (at least 0).
    pub fn bounds(&self, max: i64) -> (i64, i64) {
        (
            self.limit.unwrap_or(100).clamp(1, max),
            self.offset.unwrap_or(0).max(0),
        )
    }
}

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

/// 400 `invalid_name` for the first of `(what, name)` that is not a [`valid_name`].
pub(crate) fn check_names(names: &[(&str, &str)]) -> ApiResult<()> {
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

/// One route the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// HTTP method (`GET` routes answer `HEAD` too).
    pub method: &'static str,
    /// Path, with `{param}` segments (axum's syntax, which is OpenAPI's).
    pub path: &'static str,
}

/// The route table: `METHOD "path" => handler`; [`ROUTES`] lists it, [`router`] serves it,
/// so the two cannot disagree.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:expr,)*) => {
        /// Every route the server answers, in registration order.
        pub const ROUTES: &[Route] = &[$(Route { method: stringify!($method), path: $path }),*];

        fn method_routers() -> Vec<(&'static str, MethodRouter<Arc<AppState>>)> {
            vec![$(($path, on(MethodFilter::$method, $handler))),*]
        }
    };
}

routes! {
    GET "/healthz" => ops::healthz,
    GET "/readyz" => ops::readyz,
    GET "/metrics" => ops::metrics,
    GET "/" => crate::html::index,
    GET "/p/{project}" => crate::html::project,
    GET "/p/{project}/{version}" => crate::html::release,
    GET "/api/v1/projects" => projects::list_projects,
    GET "/api/v1/projects/{project}" => projects::get_project,
    PUT "/api/v1/projects/{project}" => projects::put_project,
    GET "/api/v1/projects/{project}/releases" => releases::list_releases,
    POST "/api/v1/projects/{project}/releases" => releases::create_release,
    GET "/api/v1/projects/{project}/releases/{version}" => releases::get_release,
    DELETE "/api/v1/projects/{project}/releases/{version}" => releases::delete_release,
    POST "/api/v1/projects/{project}/releases/{version}/publish" => publish::publish,
    GET "/api/v1/projects/{project}/releases/{version}/SHA256SUMS" => releases::sha256sums,
    PUT "/api/v1/projects/{project}/releases/{version}/files/{file}" => files::put_file,
    GET "/api/v1/projects/{project}/releases/{version}/files/{file}" => files::get_file,
    PUT "/api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}" => attachments::put_attachment,
    GET "/api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}" => attachments::get_attachment,
    GET "/api/v1/projects/{project}/releases/{version}/vulnerabilities" => vulns::release_vulns,
    GET "/api/v1/projects/{project}/releases/{version}/vex" => vex::get_vex,
    POST "/api/v1/projects/{project}/releases/{version}/vex" => vex::post_vex,
    GET "/api/v1/projects/{project}/vulnerabilities" => vulns::project_vulns,
    GET "/api/v1/projects/{project}/components" => query::components,
    GET "/projects/{project}/vulnerabilities.atom" => vulns::atom,
    GET "/api/v1/projects/{project}/webhooks" => webhooks::list_webhooks,
    POST "/api/v1/projects/{project}/webhooks" => webhooks::create_webhook,
    DELETE "/api/v1/projects/{project}/webhooks/{id}" => webhooks::delete_webhook,
    GET "/api/v1/projects/{project}/webhooks/{id}/deliveries" => webhooks::list_deliveries,
    GET "/api/v1/audit" => audit::get_audit,
}

/// The routes whose handlers take their JSON body with axum's `Json` extractor, which reads
/// the body before the handler checks the token: their bodies are bounded by
/// [`JSON_BODY_LIMIT`] (413 above it), so an unauthenticated client cannot make the server
/// buffer an unbounded body. Uploads stream to the blob store under their own limits; the
/// VEX and webhook handlers check the token first and read a bounded body themselves.
const JSON_BODY_ROUTES: [&str; 2] = [
    "/api/v1/projects/{project}",
    "/api/v1/projects/{project}/releases",
];

/// The largest JSON body of the [`JSON_BODY_ROUTES`] (a project's configuration, a new
/// release: a few hundred bytes in practice).
pub const JSON_BODY_LIMIT: usize = 64 << 10;

/// The HTTP routes of [`ROUTES`], with their handlers; each route tags its answers with its
/// template and the outermost layer records them in [`crate::metrics`].
pub fn router(state: Arc<AppState>) -> Router {
    let metrics = Arc::clone(&state.metrics);
    method_routers()
        .into_iter()
        .fold(Router::new(), |r, (path, m)| {
            // A route's own limit is the innermost, so it wins over the router-wide one.
            let m = if JSON_BODY_ROUTES.contains(&path) {
                m.layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
            } else {
                m
            };
            r.route(
                path,
                m.layer(from_fn(move |req, next| {
                    crate::metrics::tag(path, req, next)
                })),
            )
        })
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn(move |req, next| {
            crate::metrics::track(Arc::clone(&metrics), req, next)
        }))
        .with_state(state)
}
