//! Projects: the listing, and each project's verification settings (`PUT` by an admin).

use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::HeaderMap;
use relkit_core::wire::{ProjectConfig, ProjectSummary};

use super::{ApiError, ApiResult, St, check_names};
use crate::auth::require_admin;
use crate::db::{DbError, DbResult, FromRow, Row, Stmt, Value};
use crate::verify::{self, ProjectRules, Rejected};
use crate::{AppState, now};

impl FromRow for ProjectSummary {
    fn from_row(row: Row) -> DbResult<Self> {
        let (name, releases) = FromRow::from_row(row)?;
        Ok(ProjectSummary { name, releases })
    }
}

impl FromRow for ProjectConfig {
    fn from_row(row: Row) -> DbResult<Self> {
        let (policy, verify_key, trusted_root, require_sbom, require_signature, require_provenance) =
            FromRow::from_row(row)?;
        Ok(ProjectConfig {
            policy,
            verify_key,
            trusted_root,
            require_sbom,
            require_signature,
            require_provenance,
        })
    }
}

/// The verification rules of a project's settings.
pub(crate) fn rules(cfg: &ProjectConfig) -> ProjectRules {
    ProjectRules {
        policy: cfg.policy.clone(),
        verify_key: cfg.verify_key.clone(),
        trusted_root: cfg.trusted_root.clone(),
        require_sbom: cfg.require_sbom,
        require_signature: cfg.require_signature,
        require_provenance: cfg.require_provenance,
    }
}

/// GET /api/v1/projects
pub async fn list_projects(State(s): St) -> ApiResult<Json<Vec<ProjectSummary>>> {
    Ok(Json(summaries(&s).await?))
}

/// Every project with its number of releases, by name.
pub(crate) async fn summaries(s: &AppState) -> ApiResult<Vec<ProjectSummary>> {
    Ok(s.db
        .query(
            "SELECT p.name, (SELECT COUNT(*) FROM releases r WHERE r.project = p.name) FROM projects p ORDER BY p.name",
            vec![],
        )
        .await?)
}

/// Why a project's settings were not stored.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The project name is not a [`super::valid_name`].
    #[error(
        "project name {0:?}: use letters, digits and . _ + - ~, starting with a letter or digit"
    )]
    Name(String),
    /// The policy, key or trusted root does not parse, or a trusted root has no signer.
    #[error("project {project}: settings refused")]
    Invalid {
        /// The project.
        project: String,
        /// What is wrong.
        source: Rejected,
    },
    /// The database failed.
    #[error("database")]
    Db(#[from] DbError),
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Name(n) => match check_names(&[("project", &n)]) {
                Err(e) => e,
                Ok(()) => unreachable!("refused names fail check_names"),
            },
            SettingsError::Invalid { source, .. } => ApiError::rejected("invalid_config", source),
            SettingsError::Db(e) => e.into(),
        }
    }
}

/// Creates or updates a project (used by the API and the offline CLI).
pub async fn set_project(
    s: &crate::Store,
    actor: &str,
    name: &str,
    cfg: &ProjectConfig,
) -> Result<(), SettingsError> {
    if !super::valid_name(name) {
        return Err(SettingsError::Name(name.to_string()));
    }
    verify::validate_rules(&rules(cfg)).map_err(|source| SettingsError::Invalid {
        project: name.to_string(),
        source,
    })?;
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
        super::audit::record(actor, "project.set", Some(name), None, None, None, "settings updated"),
    ])
    .await?;
    Ok(())
}

/// A project's settings; 404 when there is no such project.
pub(crate) async fn config(s: &AppState, name: &str) -> ApiResult<ProjectConfig> {
    s.db.query_opt(
        "SELECT policy, verify_key, trusted_root, require_sbom, require_signature, require_provenance FROM projects WHERE name = $1",
        vec![name.into()],
    )
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no project {name}")))
}

/// Whether a project exists.
pub(crate) async fn exists(s: &AppState, name: &str) -> ApiResult<bool> {
    let row: Option<(String,)> =
        s.db.query_opt(
            "SELECT name FROM projects WHERE name = $1",
            vec![name.into()],
        )
        .await?;
    Ok(row.is_some())
}

/// PUT /api/v1/projects/{project} (admin)
pub async fn put_project(
    State(s): St,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(cfg): Json<ProjectConfig>,
) -> ApiResult<Json<ProjectConfig>> {
    let p = require_admin(&s, &headers).await?;
    set_project(&s.store(), &p.token_id, &project, &cfg).await?;
    Ok(Json(cfg))
}

/// GET /api/v1/projects/{project}
pub async fn get_project(
    State(s): St,
    Path(project): Path<String>,
) -> ApiResult<Json<ProjectConfig>> {
    Ok(Json(config(&s, &project).await?))
}
