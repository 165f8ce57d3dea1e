//! `relkit serve`: run the release server, and administer its data directory offline
//! (`relkit serve token create|revoke|list`, `relkit serve project set`, `relkit serve fsck`,
//! `relkit serve gc`, `relkit serve migrate`).
//!
//! JSON output (`--format json`): `token create` prints `{"id", "token", "project", "admin"}`
//! (the only time the secret is shown); `token list` prints `[{"id", "project", "admin",
//! "label", "created", "revoked"}]`; `fsck` prints `{"blobs", "corrupt": [sha256…],
//! "missing": [sha256…], "stale_scratch": ["tmp/NAME"…]}`; `migrate` prints `{"from", "to",
//! "applied": [version…], "latest"}`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use relkit_serve::{Admin, Config, Limits, ProjectConfig, Stopped};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit serve`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
#[command(after_help = "Examples:
  relkit serve --data /srv/relkit                        # SQLite in /srv/relkit
  relkit serve --data /srv/relkit --database postgres://relkit@localhost/relkit
  relkit serve token create --data /srv/relkit --project cpython > cpython.token
  relkit serve project set --data /srv/relkit --project cpython --key release.pub --require-sbom
  relkit serve token revoke --data /srv/relkit 3f9c0a1b2c3d4e5f

API: docs/openapi.yaml; HTML index at /. Operations: GET /healthz (alive), /readyz (database
and blob store usable, else 503), /metrics (Prometheus). SIGTERM/SIGINT: stop accepting, let
requests in flight finish within --grace-secs (a second signal stops at once), exit 0.

Replicas: any number of `relkit serve` processes may share one PostgreSQL database (or one
SQLite file on one machine) and one --data directory; every write is decided by the database.
Pending schema migrations are applied at start under a lock (safe when replicas start
together) unless --no-migrate; `relkit serve migrate` applies them explicitly.")]
pub struct ServeArgs {
    /// Administration of the data directory (works offline).
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Largest release file accepted, in MiB.
    #[arg(long, default_value_t = 4096)]
    pub max_file_mib: u64,
    /// On SIGTERM/SIGINT, how long requests in flight (uploads) may take to finish, seconds.
    #[arg(long, default_value_t = 30)]
    pub grace_secs: u64,
    /// A file holding a token that GET /metrics then requires (`Authorization: Bearer …`);
    /// without it /metrics is open, like /healthz and /readyz.
    #[arg(long)]
    pub metrics_token_file: Option<PathBuf>,
    /// Refuse to start (exit 2) when the database needs a schema migration, instead of
    /// applying it; run `relkit serve migrate` first.
    #[arg(long)]
    pub no_migrate: bool,
    /// A relkit vulnerability DB (made by `relkit db import` / `relkit db update`; the server
    /// only reads it): every published release's SBOMs are re-scanned when it changes, shown
    /// at /api/v1/projects/P/vulnerabilities and /projects/P/vulnerabilities.atom.
    #[arg(long, value_name = "PATH")]
    pub vuln_db: Option<PathBuf>,
    /// A URL projects may register as a webhook target (repeat for several; an entry ending
    /// with `/` allows the URLs under it). Without any, webhooks are refused. Deliveries are
    /// signed: `X-Relkit-Signature: sha256=HMAC-SHA256(secret, body)`.
    #[arg(long, value_name = "URL")]
    pub webhook_allow: Vec<String>,
    /// The first retry of a failed webhook delivery waits this long, each next one twice as
    /// long (8 attempts in all).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub webhook_backoff_secs: u64,
}

/// Where the server keeps its data.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory: blobs, server key, SQLite database (default: a new temporary directory).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Metadata database: `postgres://user:pass@host/db` (default: SQLite under --data).
    #[arg(long)]
    pub database: Option<String>,
    /// Where blobs are: `local` (DATA/blobs, the default) or `s3://bucket/prefix` in an
    /// S3-compatible store, configured by the usual environment (AWS_ENDPOINT_URL,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP=true for http://;
    /// RELKIT_S3_PART_MIB, the multipart part size, default 8) or by --blobs-env.
    #[arg(long, value_name = "local|s3://BUCKET/PREFIX", default_value = "local")]
    pub blobs: relkit_serve::blobs::Spec,
    /// A file of KEY=VALUE lines (the variables --blobs reads) overriding the environment,
    /// so that the S3 secret need not be in it.
    #[arg(long, value_name = "FILE")]
    pub blobs_env: Option<PathBuf>,
}

impl StoreArgs {
    fn admin(&self) -> anyhow::Result<Admin> {
        let data = self.data.as_ref().context(
            "give --data DIR (the server's data directory; administration works offline on it)",
        )?;
        Admin::open_blobs(data, self.database.as_deref(), &self.blob_spec()?)
            .with_context(|| format!("opening the server data in {}", data.display()))
    }

    /// `--blobs` with `--blobs-env`.
    fn blob_spec(&self) -> anyhow::Result<relkit_serve::blobs::Spec> {
        use relkit_serve::blobs::Spec;
        match (&self.blobs, &self.blobs_env) {
            (Spec::S3(s), env) => Ok(Spec::S3(relkit_serve::blobs::s3::S3Spec {
                env_file: env.clone(),
                ..s.clone()
            })),
            (Spec::Local, Some(_)) => {
                anyhow::bail!("--blobs-env configures an S3 store: give --blobs s3://BUCKET/PREFIX")
            }
            (Spec::Local, None) => Ok(Spec::Local),
        }
    }
}

/// Offline administration.
#[derive(clap::Subcommand, Debug)]
pub enum ServeCommand {
    /// Upload tokens: create (shown once), revoke, list.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Project settings.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Re-hash every stored blob, check that every blob the database names exists, name
    /// stale scratch files of killed uploads (exit 1 if a blob is corrupt or missing).
    Fsck {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Remove stale scratch files (uploads whose server process died; live uploads of
    /// running servers sharing the directory are kept) and orphan blobs: those no release
    /// names (replaced or deleted drafts' files, refused uploads), last written at least
    /// --min-age-secs ago. A blob of a release — published or draft — is never removed.
    Gc {
        #[command(flatten)]
        store: StoreArgs,
        /// Orphan blobs younger than this are kept (an upload may still be recording
        /// them), seconds.
        #[arg(long, default_value_t = 3600)]
        min_age_secs: u64,
    },
    /// Apply pending schema migrations (recorded in the schema_migrations table), under a
    /// lock: a second process migrating at the same time waits, then finds nothing to do.
    /// A database newer than this relkit is refused (exit 2).
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
        /// Stop at this schema version (default: the latest this relkit knows).
        #[arg(long)]
        to: Option<i64>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// The server's vulnerability DB (its --vuln-db).
    #[command(subcommand)]
    Db(ServeDbCommand),
}

/// `relkit serve db …`.
#[derive(clap::Subcommand, Debug)]
pub enum ServeDbCommand {
    /// Update the DB a running server reads (`--db` = its --vuln-db) with the importers and
    /// feeds of `relkit db update` (same arguments), on a copy that then replaces it in one
    /// rename: the server never reads a DB in the middle of an update, and re-scans the
    /// published releases when it sees the new file. Sources that failed keep their previous
    /// records (exit 2), as with `relkit db update`.
    Update(crate::cmd::db::UpdateArgs),
}

/// `relkit serve token …`.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for one project (or --admin); prints the secret once.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The project the token may write to (created if new).
        #[arg(long, required_unless_present = "admin", conflicts_with = "admin")]
        project: Option<String>,
        /// An admin token (all projects, deleting published releases, project settings).
        #[arg(long)]
        admin: bool,
        /// A label to recognize the token by.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// Token id (the 16 hex digits after `rk_`).
        id: String,
    },
    /// List tokens (ids and scopes; secrets are never stored).
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
}

/// `relkit serve project …`.
#[derive(clap::Subcommand, Debug)]
pub enum ProjectCommand {
    /// Set a project's verification key, trusted root, policy and requirements.
    Set {
        #[command(flatten)]
        store: StoreArgs,
        /// Project name.
        #[arg(long)]
        project: String,
        /// Public key (SPKI PEM or minisign) for signatures, key-based bundles, DSSE.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Sigstore trusted_root.json for keyless bundles; needs --policy with a [signer] table
        /// (identity and issuer): keyless bundles are never accepted from any signer.
        #[arg(long)]
        trusted_root: Option<PathBuf>,
        /// Policy TOML (see `relkit verify --help`), applied when publishing.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Every file needs an SBOM to publish.
        #[arg(long)]
        require_sbom: bool,
        /// Every file needs a verified signature or Sigstore bundle to publish.
        #[arg(long)]
        require_signature: bool,
        /// Every file needs verified provenance to publish.
        #[arg(long)]
        require_provenance: bool,
    },
}

fn read_opt(p: &Option<PathBuf>) -> anyhow::Result<Option<String>> {
    p.as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .transpose()
}

/// Runs `relkit serve`.
pub fn run(a: ServeArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    match a.command {
        None => serve(&a, ctx),
        Some(ServeCommand::Token(t)) => token(t, ctx),
        Some(ServeCommand::Project(ProjectCommand::Set {
            store,
            project,
            key,
            trusted_root,
            policy,
            require_sbom,
            require_signature,
            require_provenance,
        })) => {
            let cfg = ProjectConfig {
                policy: read_opt(&policy)?,
                verify_key: read_opt(&key)?,
                trusted_root: read_opt(&trusted_root)?,
                require_sbom,
                require_signature,
                require_provenance,
            };
            store
                .admin()?
                .set_project(&project, &cfg)
                .with_context(|| format!("setting project {project}"))?;
            ctx.info(format!("project {project} updated"));
            Ok(Outcome::Ok)
        }
        Some(ServeCommand::Fsck { store, report }) => {
            let f = store.admin()?.fsck()?;
            if report.format == OutputFormat::Json {
                print_json(&f)?;
            } else {
                for b in &f.corrupt {
                    println!("CORRUPT blob {b}");
                }
                for b in &f.missing {
                    println!("MISSING blob {b}");
                }
                for t in &f.stale_scratch {
                    println!("STALE scratch file {t} (remove with `relkit serve gc`)");
                }
                ctx.info(format!(
                    "{} blob(s) re-hashed, {} corrupt, {} missing, {} stale scratch file(s)",
                    f.blobs,
                    f.corrupt.len(),
                    f.missing.len(),
                    f.stale_scratch.len()
                ));
            }
            Ok(if f.clean() {
                Outcome::Ok
            } else {
                Outcome::Findings
            })
        }
        Some(ServeCommand::Gc {
            store,
            min_age_secs,
        }) => {
            let admin = store.admin()?;
            let removed = admin.gc()?;
            for t in &removed {
                println!("removed stale scratch file {t}");
            }
            let orphans = admin
                .collect_orphans(std::time::Duration::from_secs(min_age_secs), false)
                .with_context(|| format!("collecting orphan blobs in {}", admin.blobs()))?;
            for b in &orphans {
                println!("removed orphan blob {b}");
            }
            ctx.info(format!(
                "{} stale scratch file(s) and {} orphan blob(s) removed ({})",
                removed.len(),
                orphans.len(),
                admin.blobs()
            ));
            Ok(Outcome::Ok)
        }
        Some(ServeCommand::Db(ServeDbCommand::Update(a))) => db_update(a, ctx),
        Some(ServeCommand::Migrate { store, to, report }) => {
            let data = store
                .data
                .as_ref()
                .context("give --data DIR (the server's data directory; SQLite lives there)")?;
            let r = relkit_serve::migrate(data, store.database.as_deref(), to)
                .with_context(|| format!("migrating the server data in {}", data.display()))?;
            let latest = relkit_serve::db::LATEST;
            if report.format == OutputFormat::Json {
                print_json(&serde_json::json!({
                    "from": r.from, "to": r.to, "applied": r.applied, "latest": latest
                }))?;
            } else if r.applied.is_empty() {
                ctx.info(format!(
                    "schema at version {} (latest {latest}): nothing to apply",
                    r.to
                ));
            } else {
                ctx.info(format!(
                    "schema migrated from version {} to {} (applied {:?}; latest {latest})",
                    r.from, r.to, r.applied
                ));
            }
            Ok(Outcome::Ok)
        }
    }
}

fn serve(a: &ServeArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let (listen, store) = (a.listen, &a.store);
    let metrics_token = match &a.metrics_token_file {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("reading the metrics token {}", p.display()))?;
            let t = t.trim().to_string();
            anyhow::ensure!(
                !t.is_empty(),
                "the metrics token file {} is empty",
                p.display()
            );
            Some(t)
        }
        None => None,
    };
    let data = match store.data.clone() {
        Some(d) => d,
        None => {
            let d = tempfile::Builder::new()
                .prefix("relkit-serve-")
                .tempdir()
                .context("creating a temporary data directory")?
                .keep();
            ctx.info(format!(
                "no --data given: using {} (SQLite); create a token with `relkit serve token create --data {} --project NAME`",
                d.display(),
                d.display()
            ));
            d
        }
    };
    let cfg = Config {
        data_dir: data.clone(),
        database: store.database.clone(),
        limits: Limits {
            max_file: a.max_file_mib << 20,
            ..Limits::default()
        },
        metrics_token,
        grace: std::time::Duration::from_secs(a.grace_secs),
        migrate: if a.no_migrate {
            relkit_serve::db::MigrateMode::Refuse
        } else {
            relkit_serve::db::MigrateMode::Apply
        },
        vuln_db: a.vuln_db.clone(),
        blobs: store.blob_spec()?,
        webhooks: relkit_serve::webhooks::Settings {
            allow: a.webhook_allow.clone(),
            backoff: std::time::Duration::from_secs(a.webhook_backoff_secs.max(1)),
        },
    };
    let backend = if store.database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let blobs_shown = match &cfg.blobs {
        relkit_serve::blobs::Spec::Local => "the data directory".to_string(),
        relkit_serve::blobs::Spec::S3(s) if s.prefix.is_empty() => format!("s3://{}", s.bucket),
        relkit_serve::blobs::Spec::S3(s) => format!("s3://{}/{}", s.bucket, s.prefix),
    };
    let stopped = relkit_serve::run_blocking(&cfg, listen, |addr| {
        ctx.info(format!(
            "relkit serve: http://{addr}/ (data {}, {backend}, blobs in {blobs_shown}); Ctrl-C to stop",
            data.display()
        ))
    })
    .with_context(|| format!("serving on {listen}"))?;
    ctx.info(match stopped {
        Stopped::Drained => "relkit serve: stopped (requests in flight finished)".to_string(),
        Stopped::GraceExpired => format!(
            "relkit serve: stopped; requests still running after {} s were cut",
            a.grace_secs
        ),
        Stopped::Interrupted => {
            "relkit serve: stopped by a second signal; requests still running were cut".to_string()
        }
    });
    Ok(Outcome::Ok)
}

fn token(t: TokenCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match t {
        TokenCommand::Create {
            store,
            project,
            admin,
            label,
            report,
        } => {
            let scope = if admin { None } else { project.as_deref() };
            let tok = store.admin()?.create_token(scope, &label)?;
            if report.format == OutputFormat::Json {
                print_json(&tok)?;
            } else {
                // The secret goes to stdout alone, so `> file` captures exactly the token.
                println!("{}", tok.token);
                ctx.info(format!(
                    "token {} for {} created; it is shown only now",
                    tok.id,
                    tok.project.as_deref().unwrap_or("all projects (admin)")
                ));
            }
            Ok(Outcome::Ok)
        }
        TokenCommand::Revoke { store, id } => {
            if store.admin()?.revoke_token(&id)? {
                ctx.info(format!("token {id} revoked"));
                Ok(Outcome::Ok)
            } else {
                anyhow::bail!(
                    "no unrevoked token with id {id}: see `relkit serve token list --data DIR`"
                )
            }
        }
        TokenCommand::List { store, report } => {
            let list = store.admin()?.tokens()?;
            if report.format == OutputFormat::Json {
                print_json(&list)?;
            } else {
                for t in &list {
                    println!(
                        "{} {} {}{}",
                        t.id,
                        t.project.as_deref().unwrap_or("(admin)"),
                        if t.revoked.is_some() {
                            "revoked"
                        } else {
                            "active"
                        },
                        if t.label.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", t.label)
                        }
                    );
                }
            }
            Ok(Outcome::Ok)
        }
    }
}

/// `relkit serve db update`: `relkit db update` on a copy of the server's DB in the same
/// directory, then the copy renamed over it (atomic). The copy replaces the DB also when some
/// sources failed (each source is its own transaction: the copy is then the old DB with the
/// other sources updated, what `relkit db update` would have left in place), but only if it
/// still opens as a relkit DB.
fn db_update(mut a: crate::cmd::db::UpdateArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let target =
        a.db.clone()
            .context("give --db PATH: the vulnerability DB the server reads (its --vuln-db)")?;
    let name = target
        .file_name()
        .with_context(|| format!("{} names no file", target.display()))?
        .to_string_lossy()
        .into_owned();
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let tmp = dir.join(format!(".{name}.update-{}", std::process::id()));
    let cleanup = |p: &std::path::Path| {
        for suffix in ["", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    };
    cleanup(&tmp);
    if target.exists() {
        // Opening it rolls back a hot journal an interrupted writer left, so the copy is
        // of a consistent DB (the server only reads it).
        drop(
            relkit_vuln::Db::open(&target)
                .with_context(|| format!("opening {}", target.display()))?,
        );
        std::fs::copy(&target, &tmp)
            .with_context(|| format!("copying {} to {}", target.display(), tmp.display()))?;
    }
    a.db = Some(tmp.clone());
    let result = crate::cmd::db::run(crate::cmd::db::DbCommand::Update(a), ctx);
    let swap = (|| {
        drop(
            relkit_vuln::Db::open(&tmp)
                .with_context(|| format!("the updated copy {} does not open", tmp.display()))?,
        );
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, &target)
            .with_context(|| format!("renaming {} to {}", tmp.display(), target.display()))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok::<_, anyhow::Error>(())
    })();
    if let Err(e) = swap {
        cleanup(&tmp);
        return Err(match result {
            Err(first) => first.context(e.to_string()),
            Ok(_) => e,
        });
    }
    result
}
