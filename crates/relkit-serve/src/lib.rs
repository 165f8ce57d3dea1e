//! relkit-serve: the release server behind `relkit serve`.
//!
//! A project's pipeline uploads a release's files, SBOMs, signatures, Sigstore bundles and
//! provenance over an authenticated JSON API; each piece is verified on arrival with relkit's
//! own checkers (`relkit_sbom::check`, `relkit_attest::verify`), a release is published only
//! when every file has the material the project requires and satisfies its policy, and is
//! immutable afterwards. Files are served with their SHA256SUMS and material, on plain HTML
//! pages too.
//!
//! Storage: metadata in SQLite (`DATA/relkit-serve.sqlite3`, the default) or PostgreSQL
//! (`postgres://…`), see [`db`]; blobs content-addressed by SHA-256 under `DATA/blobs/` or in
//! an S3-compatible bucket (`--blobs s3://bucket/prefix`), see [`blobs`]; upload tokens HMAC-hashed with `DATA/server.key`, see [`auth`].
//!
//! The API is documented in `docs/openapi.yaml`; its JSON bodies are `relkit_core::wire`'s
//! types (shared with relkit-client), its routes the table in [`api`] (one module per
//! resource), authentication in [`auth`]. Entry points: [`Server::start`] (async, in a tokio
//! runtime) and [`run_blocking`]; offline administration with [`Admin`].
//!
//! It must not: verify anything with checks of its own (relkit-sbom and relkit-attest decide),
//! accept a keyless bundle without an expected signer, store or log a token in clear, let a
//! published release change, or print (the CLI does).

pub mod api;
pub mod auth;
pub mod blobs;
pub mod db;
pub mod html;
pub mod metrics;
pub mod verify;
pub mod watch;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;

pub use auth::{NewToken, TokenInfo};
pub use relkit_core::wire::ProjectConfig;

/// Errors of starting or administering the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data directory or a blob could not be used.
    #[error("{path}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database could not be opened or queried.
    #[error("database")]
    Db(#[from] db::DbError),
    /// A stored project's settings fail today's rules.
    #[error("project {project}: fix it with `relkit serve project set`")]
    Project {
        /// The project.
        project: String,
        /// What is wrong with its settings.
        source: verify::Rejected,
    },
    /// A project's name or settings were refused (offline administration).
    #[error(transparent)]
    Settings(#[from] api::projects::SettingsError),
}

/// Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Size limits of uploads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest release file, bytes.
    pub max_file: u64,
    /// Largest SBOM / signature / bundle / provenance, bytes.
    pub max_attachment: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file: 4 << 30,
            max_attachment: 64 << 20,
        }
    }
}

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory (blobs, server key, SQLite file).
    pub data_dir: PathBuf,
    /// `postgres://…` URL, or None for SQLite under the data directory.
    pub database: Option<String>,
    /// Upload limits.
    pub limits: Limits,
    /// Bearer token `/metrics` requires; None: `/metrics` is open like `/healthz` (it holds
    /// counts by route template, never names or secrets).
    pub metrics_token: Option<String>,
    /// How long a shutdown waits for requests in flight (uploads) before cutting them.
    pub grace: std::time::Duration,
    /// What the start does about pending schema migrations (default: apply them, under the
    /// migration lock, so replicas starting together are safe).
    pub migrate: db::MigrateMode,
    /// A relkit vulnerability DB (`relkit db import`/`update`) the server reads, re-scanning
    /// published releases when it changes ([`watch`]); None: no monitoring.
    pub vuln_db: Option<PathBuf>,
    /// Which webhook targets projects may register, and the retry backoff ([`webhooks`]).
    pub webhooks: webhooks::Settings,
    /// Where blobs are kept (default: the local directory under `data_dir`).
    pub blobs: blobs::Spec,
}

/// Default of [`Config::grace`].
pub const DEFAULT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The data directory, database and key, without HTTP (shared by the server and [`Admin`]).
#[derive(Clone)]
pub struct Store {
    /// Metadata database.
    pub db: db::Db,
    /// Blob store.
    pub blobs: blobs::BlobStore,
    /// Token hashing key.
    pub key: auth::ServerKey,
}

impl Store {
    /// Opens the data directory (creating it) and the database (migrating it).
    pub async fn open(data_dir: &Path, database: Option<&str>) -> Result<Store, Error> {
        Store::open_with(data_dir, database, db::MigrateMode::Apply).await
    }

    /// Opens the data directory (creating it) and the database, handling pending migrations
    /// as `mode` says.
    pub async fn open_with(
        data_dir: &Path,
        database: Option<&str>,
        mode: db::MigrateMode,
    ) -> Result<Store, Error> {
        Store::open_blobs(data_dir, database, mode, &blobs::Spec::Local).await
    }

    /// [`Store::open_with`] with blobs where `spec` says.
    pub async fn open_blobs(
        data_dir: &Path,
        database: Option<&str>,
        mode: db::MigrateMode,
        spec: &blobs::Spec,
    ) -> Result<Store, Error> {
        let io = |source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let blobs = blobs::BlobStore::open_with(data_dir, spec).map_err(io)?;
        let key = auth::ServerKey::load_or_create(data_dir).map_err(io)?;
        let (db, _) = db::Db::open(database, data_dir, mode).await?;
        Ok(Store { db, blobs, key })
    }
}

/// Shared state of the request handlers.
pub struct AppState {
    /// Metadata database.
    pub db: db::Db,
    /// Blob store.
    pub blobs: blobs::BlobStore,
    /// Token hashing key.
    pub key: auth::ServerKey,
    /// Upload limits.
    pub limits: Limits,
    /// Request, byte and verification-failure counters (`/metrics`).
    pub metrics: Arc<metrics::Metrics>,
    /// The token `/metrics` requires, if any.
    pub metrics_token: Option<String>,
    /// The vulnerability DB watcher, when the server has one (`--vuln-db`).
    pub vuln: Option<Arc<watch::Watch>>,
    /// Webhook settings (allowed targets, backoff).
    pub webhooks: webhooks::Settings,
}

impl AppState {
    fn store(&self) -> Store {
        Store {
            db: self.db.clone(),
            blobs: self.blobs.clone(),
            key: self.key.clone(),
        }
    }
}

/// The HTTP routes ([`api::ROUTES`]) with their handlers.
pub fn router(state: Arc<AppState>) -> Router {
    api::router(state)
}

/// Refuses to start when a stored project's settings fail today's rules (e.g. a trusted root
/// for keyless bundles without a `[signer]` policy, configured by an older relkit).
async fn check_projects(db: &db::Db) -> Result<(), Error> {
    let rows: Vec<(String, Option<String>, Option<String>)> = db
        .query("SELECT name, policy, trusted_root FROM projects", vec![])
        .await?;
    for (project, policy, trusted_root) in rows {
        let rules = verify::ProjectRules {
            policy,
            trusted_root,
            ..Default::default()
        };
        verify::validate_rules(&rules).map_err(|source| Error::Project { project, source })?;
    }
    Ok(())
}

/// A running server.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    watcher: Option<tokio::task::JoinHandle<()>>,
    deliverer: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        if let Some(d) = self.deliverer.take() {
            d.abort();
        }
    }
}

impl Server {
    /// Opens the store and starts serving on `listen` (port 0 picks a free port).
    pub async fn start(cfg: &Config, listen: SocketAddr) -> Result<Server, Error> {
        let store = Store::open_blobs(
            &cfg.data_dir,
            cfg.database.as_deref(),
            cfg.migrate,
            &cfg.blobs,
        )
        .await?;
        check_projects(&store.db).await?;
        // Scratch files of uploads whose process died (a killed earlier run of this server,
        // or a replica); live uploads of running replicas hold their lock and stay.
        store
            .blobs
            .stale_scratch(true)
            .map_err(|source| Error::Io {
                path: cfg.data_dir.join("tmp"),
                source,
            })?;
        let state = Arc::new(AppState {
            db: store.db,
            blobs: store.blobs,
            key: store.key,
            limits: cfg.limits,
            metrics: Arc::new(metrics::Metrics::new()),
            metrics_token: cfg.metrics_token.clone(),
            vuln: cfg.vuln_db.clone().map(|p| Arc::new(watch::Watch::new(p))),
            webhooks: cfg.webhooks.clone(),
        });
        let watcher = state
            .vuln
            .clone()
            .map(|w| watch::spawn(Arc::clone(&state), w));
        // Deliveries are sent only to allowed targets: with none allowed there is nothing to do.
        let deliverer =
            (!cfg.webhooks.allow.is_empty()).then(|| webhooks::spawn(Arc::clone(&state)));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Io {
                path: PathBuf::from(listen.to_string()),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            path: PathBuf::from(listen.to_string()),
            source,
        })?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Server {
            addr,
            shutdown: Some(tx),
            task,
            watcher,
            deliverer,
        })
    }

    /// Stops accepting connections and waits for requests in flight.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.map_err(std::io::Error::other)?
    }

    /// Graceful shutdown: stops accepting connections at once (the listening socket is
    /// closed, new connections are refused), closes idle connections, and waits up to `grace`
    /// for the requests in flight (uploads) to finish. Requests still running after `grace`
    /// are cut (their connections are dropped with the runtime; an interrupted upload leaves
    /// nothing but a scratch file, removed at the next start).
    pub async fn shutdown(mut self, grace: std::time::Duration) -> std::io::Result<Stopped> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(r) => r.map_err(std::io::Error::other)?.map(|()| Stopped::Drained),
            Err(_) => {
                self.task.abort();
                Ok(Stopped::GraceExpired)
            }
        }
    }
}

/// How a graceful shutdown ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every request in flight finished within the grace period.
    Drained,
    /// The grace period expired with requests still in flight; they were cut.
    GraceExpired,
    /// A second SIGTERM/SIGINT during the grace period: requests still in flight were cut.
    Interrupted,
}

/// Runs the server until SIGINT (Ctrl-C) or SIGTERM, on its own multi-threaded runtime, then
/// shuts it down gracefully within [`Config::grace`] (see [`Server::shutdown`]); a second
/// signal during the grace period stops at once. `ready` is called with the bound address
/// once it listens.
pub fn run_blocking(
    cfg: &Config,
    listen: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> Result<Stopped, Error> {
    let rt = runtime()?;
    rt.block_on(async {
        // Both handlers are installed before the address is announced, so a signal sent as
        // soon as the server is up is a graceful stop, never the default (killing) action.
        use tokio::signal::unix::{SignalKind, signal};
        let sig = |kind| {
            signal(kind).map_err(|source| Error::Io {
                path: "signal".into(),
                source,
            })
        };
        let (mut term, mut int) = (sig(SignalKind::terminate())?, sig(SignalKind::interrupt())?);
        let server = Server::start(cfg, listen).await?;
        ready(server.addr);
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        let stopped = tokio::select! {
            r = server.shutdown(cfg.grace) => r,
            _ = int.recv() => Ok(Stopped::Interrupted),
            _ = term.recv() => Ok(Stopped::Interrupted),
        };
        // Requests still running (cut) end with the runtime, when this function returns.
        stopped.map_err(|source| Error::Io {
            path: listen.to_string().into(),
            source,
        })
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "tokio runtime".into(),
            source,
        })
}

/// Offline administration of a data directory (tokens, project settings), blocking.
pub struct Admin {
    rt: tokio::runtime::Runtime,
    store: Store,
}

/// A single-threaded runtime for the blocking entry points (offline administration, migrate).
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "tokio runtime".into(),
            source,
        })
}

/// The actor recorded in the audit log for offline administration.
pub const CLI_ACTOR: &str = "cli";

impl Admin {
    /// Opens the data directory and database.
    pub fn open(data_dir: &Path, database: Option<&str>) -> Result<Admin, Error> {
        Admin::open_blobs(data_dir, database, &blobs::Spec::Local)
    }

    /// Opens the data directory, database and the blob store `blobs` names.
    pub fn open_blobs(
        data_dir: &Path,
        database: Option<&str>,
        blobs: &blobs::Spec,
    ) -> Result<Admin, Error> {
        let rt = current_thread_runtime()?;
        let store = rt.block_on(Store::open_blobs(
            data_dir,
            database,
            db::MigrateMode::Apply,
            blobs,
        ))?;
        Ok(Admin { rt, store })
    }

    /// Where the blobs are, for people (never a credential).
    pub fn blobs(&self) -> String {
        self.store.blobs.describe()
    }

    /// Creates a token for a project (creating the project if needed), or an admin token
    /// when `project` is None. The returned secret is not stored anywhere.
    pub fn create_token(&self, project: Option<&str>, label: &str) -> Result<NewToken, Error> {
        self.rt.block_on(async {
            if let Some(p) = project {
                if !api::valid_name(p) {
                    return Err(api::projects::SettingsError::Name(p.to_string()).into());
                }
                self.store
                    .db
                    .execute(
                        "INSERT INTO projects (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                        vec![p.into(), now().into()],
                    )
                    .await?;
            }
            let t = auth::create(&self.store.db, &self.store.key, project, label, now()).await?;
            self.store
                .db
                .transaction(vec![api::audit::record(
                    CLI_ACTOR,
                    "token.create",
                    project,
                    None,
                    Some(&t.id),
                    None,
                    if t.admin { "admin token" } else { "project token" },
                )])
                .await?;
            Ok(t)
        })
    }

    /// Revokes a token by id; false when there is no such unrevoked token.
    pub fn revoke_token(&self, id: &str) -> Result<bool, Error> {
        self.rt.block_on(async {
            let ok = auth::revoke(&self.store.db, id, now()).await?;
            if ok {
                self.store
                    .db
                    .transaction(vec![api::audit::record(
                        CLI_ACTOR,
                        "token.revoke",
                        None,
                        None,
                        Some(id),
                        None,
                        "revoked",
                    )])
                    .await?;
            }
            Ok(ok)
        })
    }

    /// Lists tokens (ids and scopes, never secrets).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        Ok(self.rt.block_on(auth::list(&self.store.db))?)
    }

    /// Sets a project's verification settings (creating the project).
    pub fn set_project(&self, name: &str, cfg: &ProjectConfig) -> Result<(), Error> {
        Ok(self
            .rt
            .block_on(api::set_project(&self.store, CLI_ACTOR, name, cfg))?)
    }

    /// Re-hashes every stored blob (streamed, from either backend) and checks that every
    /// blob the database names exists; names stale scratch files (of uploads whose process
    /// died; see [`blobs`]).
    pub fn fsck(&self) -> Result<Fsck, Error> {
        let io = |path: PathBuf| move |source| Error::Io { path, source };
        let blobs = &self.store.blobs;
        let list = self
            .rt
            .block_on(blobs.list())
            .map_err(io(blobs.describe().into()))?;
        let mut corrupt = Vec::new();
        for b in &list {
            let d = self
                .rt
                .block_on(blobs.hash(&b.sha256))
                .map_err(io(if blobs.is_local() {
                    blobs.path(&b.sha256)
                } else {
                    format!("{} blob {}", blobs.describe(), b.sha256).into()
                }))?;
            if d != b.sha256 {
                corrupt.push(b.sha256.clone());
            }
        }
        let used = self.used()?;
        let mut missing = Vec::new();
        for sha in used {
            if list
                .binary_search_by(|b| b.sha256.as_str().cmp(&sha))
                .is_err()
            {
                missing.push(sha);
            }
        }
        let stale_scratch = self
            .store
            .blobs
            .stale_scratch(false)
            .map_err(io("tmp".into()))?;
        Ok(Fsck {
            blobs: list.len(),
            corrupt,
            missing,
            stale_scratch,
        })
    }

    /// Every digest the database names (files and attachments of every release), sorted.
    fn used(&self) -> Result<Vec<String>, Error> {
        let used: Vec<(String,)> = self.rt.block_on(self.store.db.query(
            "SELECT sha256 FROM files UNION SELECT sha256 FROM attachments ORDER BY 1",
            vec![],
        ))?;
        Ok(used.into_iter().map(|(s,)| s).collect())
    }

    /// Removes stale scratch files (uploads whose process died); returns their names. Live
    /// uploads of running servers sharing the directory are never touched.
    pub fn gc(&self) -> Result<Vec<String>, Error> {
        self.store
            .blobs
            .stale_scratch(true)
            .map_err(|source| Error::Io {
                path: "tmp".into(),
                source,
            })
    }

    /// Removes orphan blobs — those no file or attachment of any release names (a replaced
    /// or deleted draft's, an upload refused after its body was stored) — last written at
    /// least `min_age` ago (so that an upload whose metadata step is still running keeps
    /// its blob; see [`blobs`]); a blob of a release, published or not, is never removed.
    /// Returns their digests. `dry_run` only names them.
    pub fn collect_orphans(
        &self,
        min_age: std::time::Duration,
        dry_run: bool,
    ) -> Result<Vec<String>, Error> {
        let blobs = &self.store.blobs;
        let io = |source| Error::Io {
            path: blobs.describe().into(),
            source,
        };
        // Listed before the database is read (see BlobStore::orphans).
        let list = self.rt.block_on(blobs.list()).map_err(io)?;
        let used = self.used()?;
        self.rt
            .block_on(blobs.orphans(&list, &used, min_age.as_secs() as i64, now(), !dry_run))
            .map_err(io)
    }
}

/// What [`Admin::fsck`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fsck {
    /// Blobs re-hashed.
    pub blobs: usize,
    /// Blobs whose content does not hash to their name.
    pub corrupt: Vec<String>,
    /// Digests the database names that no blob holds.
    pub missing: Vec<String>,
    /// Scratch files no process is writing (`tmp/NAME`): `relkit serve gc` removes them.
    pub stale_scratch: Vec<String>,
}

impl Fsck {
    /// No corrupt and no missing blob (stale scratch files are harmless leftovers).
    pub fn clean(&self) -> bool {
        self.corrupt.is_empty() && self.missing.is_empty()
    }
}

/// `relkit serve migrate`: opens the database (creating the data directory for SQLite) and
/// applies pending migrations up to `to` (default: all), under the migration lock (a second
/// process migrating at the same time waits, then finds nothing to do). A database newer
/// than this binary is refused ([`db::DbError::TooNew`]).
pub fn migrate(
    data_dir: &Path,
    database: Option<&str>,
    to: Option<i64>,
) -> Result<db::MigrationReport, Error> {
    std::fs::create_dir_all(data_dir).map_err(|source| Error::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let mode = to.map_or(db::MigrateMode::Apply, db::MigrateMode::UpTo);
    let rt = current_thread_runtime()?;
    Ok(rt.block_on(async { db::Db::open(database, data_dir, mode).await.map(|(_, r)| r) })?)
}
