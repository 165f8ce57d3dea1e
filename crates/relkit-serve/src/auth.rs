//! Authentication: upload tokens `rk_<id>_<secret>`, random, shown once, stored only as
//! HMAC-SHA256(server key, token) (the key is `DATA/server.key`, 32 random bytes, mode 0600),
//! scoped to one project or admin, revocable; and the checks every handler that writes runs
//! first ([`require_writer`], [`require_admin`]). Tokens are never logged or stored in clear;
//! the audit log names the token id only.

use std::path::Path;

use axum::http::{HeaderMap, StatusCode, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::api::{ApiError, ApiResult};
use crate::blobs::random_hex;
use crate::db::{Db, DbResult, FromRow, Row, Value};

type HmacSha256 = Hmac<Sha256>;

/// The server secret used to hash tokens.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(…)")
    }
}

impl ServerKey {
    /// Reads `DATA/server.key`, creating it (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join("server.key");
        match std::fs::read(&path) {
            Ok(b) if b.len() == 32 => {
                let mut k = [0u8; 32];
                k.copy_from_slice(&b);
                Ok(ServerKey(k))
            }
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not 32 bytes: restore it from a backup (tokens hashed with it stop working otherwise)",
                    path.display()
                ),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Written whole under a private name, then linked to server.key: the link
                // fails when another process (a replica starting at the same time) was first,
                // and then its key is the one (a reader never sees a partial key).
                let mut k = [0u8; 32];
                getrandom::fill(&mut k).expect("the OS random source works");
                let tmp = data_dir.join(format!(".server.key.{}", random_hex(8)));
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                use std::io::Write;
                let written = opts.open(&tmp).and_then(|mut f| {
                    f.write_all(&k)?;
                    f.sync_all()
                });
                let linked = written.and_then(|()| std::fs::hard_link(&tmp, &path));
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => Ok(ServerKey(k)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        ServerKey::load_or_create(data_dir)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn mac(&self, token: &str) -> HmacSha256 {
        let mut m = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(token.as_bytes());
        m
    }

    /// The stored form of a token.
    pub fn hash(&self, token: &str) -> String {
        hex::encode(self.mac(token).finalize().into_bytes())
    }

    /// Constant-time comparison of a presented token against a stored hash.
    pub fn matches(&self, token: &str, stored_hex: &str) -> bool {
        match hex::decode(stored_hex) {
            Ok(b) => self.mac(token).verify_slice(&b).is_ok(),
            Err(_) => false,
        }
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token id (public part, used in the audit log).
    pub token_id: String,
    /// The project the token may write to (None for admin tokens).
    pub project: Option<String>,
    /// Whether the token is an admin token.
    pub admin: bool,
}

impl Principal {
    /// Whether this principal may write to the project.
    pub fn may_write(&self, project: &str) -> bool {
        self.admin || self.project.as_deref() == Some(project)
    }
}

/// A freshly created token (the secret is shown once).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    /// Public id (for revocation and the audit log).
    pub id: String,
    /// The full token: give it to the uploader, it cannot be shown again.
    pub token: String,
    /// Its project, or null for an admin token.
    pub project: Option<String>,
    /// Whether it is an admin token.
    pub admin: bool,
}

/// A stored token's public facts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    /// Public id.
    pub id: String,
    /// Project, or null for admin.
    pub project: Option<String>,
    /// Admin token.
    pub admin: bool,
    /// Free-text label.
    pub label: String,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Revocation time (Unix seconds), if revoked.
    pub revoked: Option<i64>,
}

/// Splits `rk_<id>_<secret>` into its id.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("rk_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 16 && secret.len() == 64).then_some(id)
}

/// Creates a token; the caller has already created the project when `project` is given.
pub async fn create(
    db: &Db,
    key: &ServerKey,
    project: Option<&str>,
    label: &str,
    now: i64,
) -> DbResult<NewToken> {
    let id = random_hex(8);
    let token = format!("rk_{id}_{}", random_hex(32));
    db.execute(
        "INSERT INTO tokens (id, hash, project, admin, label, created) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            id.clone().into(),
            key.hash(&token).into(),
            project.map(str::to_string).into(),
            Value::Int(i64::from(project.is_none())),
            label.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(NewToken {
        id,
        token,
        project: project.map(str::to_string),
        admin: project.is_none(),
    })
}

/// Revokes a token by id; false when no such (unrevoked) token exists.
pub async fn revoke(db: &Db, id: &str, now: i64) -> DbResult<bool> {
    let n = db
        .execute(
            "UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL",
            vec![now.into(), id.into()],
        )
        .await?;
    Ok(n > 0)
}

impl FromRow for TokenInfo {
    fn from_row(row: Row) -> DbResult<Self> {
        let (id, project, admin, label, created, revoked) = FromRow::from_row(row)?;
        Ok(TokenInfo {
            id,
            project,
            admin,
            label,
            created,
            revoked,
        })
    }
}

/// Lists every token (never their secrets).
pub async fn list(db: &Db) -> DbResult<Vec<TokenInfo>> {
    db.query(
        "SELECT id, project, admin, label, created, revoked FROM tokens ORDER BY created, id",
        vec![],
    )
    .await
}

/// A stored token's hash and scope: (hash, project, admin, revoked).
type TokenRow = (String, Option<String>, bool, Option<i64>);

/// Checks a presented token: Some(principal) when valid and not revoked.
pub async fn authenticate(db: &Db, key: &ServerKey, token: &str) -> DbResult<Option<Principal>> {
    let Some(id) = token_id(token) else {
        return Ok(None);
    };
    let row: Option<TokenRow> = db
        .query_opt(
            "SELECT hash, project, admin, revoked FROM tokens WHERE id = $1",
            vec![id.into()],
        )
        .await?;
    let Some((hash, project, admin, revoked)) = row else {
        return Ok(None);
    };
    if revoked.is_some() || !key.matches(token, &hash) {
        return Ok(None);
    }
    Ok(Some(Principal {
        token_id: id.to_string(),
        project,
        admin,
    }))
}

/// Authenticates the request's bearer token: 401 when it is missing, unknown or revoked.
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
    match authenticate(&state.db, &state.key, token.trim()).await? {
        Some(p) => Ok(p),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the token is unknown or revoked: ask the server admin for a new one",
        )),
    }
}

/// The request's principal, if it may write to `project` (403 `wrong_project` otherwise).
pub async fn require_writer(
    state: &AppState,
    headers: &HeaderMap,
    project: &str,
) -> ApiResult<Principal> {
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

/// The request's principal, if it is an admin (403 `admin_required` otherwise).
pub async fn require_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
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

/// Only an admin may delete a published release (403 `admin_required` otherwise).
pub fn require_admin_for_published(p: &Principal, project: &str, version: &str) -> ApiResult<()> {
    if !p.admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_required",
            format!("{project} {version} is published: only an admin token can delete it"),
        ));
    }
    Ok(())
}
