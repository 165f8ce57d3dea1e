//! Test harness: a real server on loopback per test, on SQLite and on PostgreSQL (a fresh
//! database per test in the cluster at RELKIT_TEST_POSTGRES, default
//! postgres://relkit:relkit@127.0.0.1:5432/relkit_test, which `.ci/deps.d/80-serve.sh` sets up).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use relkit_attest::keys::{KeyKind, PrivateKey};
use relkit_serve::{Admin, Config, Limits, Server};

/// Which metadata backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether a missing service or oracle must fail the test (CI).
pub fn require_oracles() -> bool {
    relkit_testkit::oracles_required()
}

fn pg_base() -> String {
    std::env::var("RELKIT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://relkit:relkit@127.0.0.1:5432/relkit_test".into())
}

fn pg_exec(rt: &tokio::runtime::Runtime, url: &str, sql: &str) -> Result<(), String> {
    rt.block_on(async {
        let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let h = tokio::spawn(conn);
        let r = c.batch_execute(sql).await.map_err(|e| e.to_string());
        drop(c);
        let _ = h.await;
        r
    })
}

/// The backends to run on: SQLite always, PostgreSQL when reachable (required in CI).
pub fn backends() -> Vec<Backend> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    match pg_exec(&rt, &pg_base(), "SELECT 1") {
        Ok(()) => vec![Backend::Sqlite, Backend::Postgres],
        Err(e) if require_oracles() => panic!(
            "PostgreSQL is required (RELKIT_REQUIRE_ORACLES is set) but {} is unreachable: {e}; run .ci/deps.d/80-serve.sh",
            pg_base()
        ),
        Err(e) => {
            eprintln!(
                "SKIPPING the PostgreSQL half: {} unreachable ({e}); run .ci/deps.d/80-serve.sh",
                pg_base()
            );
            vec![Backend::Sqlite]
        }
    }
}

/// A running test server with tokens for two projects and an admin.
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<Server>,
    pub url: String,
    pub data: tempfile::TempDir,
    pub database: Option<String>,
    pub pg_name: Option<String>,
    pub admin: String,
    pub token_a: String,
    pub token_a_id: String,
    pub token_b: String,
    pub key: PrivateKey,
    pub backend: Backend,
}

impl Env {
    pub fn start(backend: Backend, limits: Limits) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let (database, pg_name) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let name = format!("relkit_t_{}", hex::encode(rand_bytes()));
                pg_exec(&rt, &pg_base(), &format!("CREATE DATABASE {name}")).unwrap();
                let base = pg_base();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                (Some(url), Some(name))
            }
        };
        let cfg = Config {
            data_dir: data.path().to_path_buf(),
            database: database.clone(),
            limits,
            metrics_token: None,
            grace: relkit_serve::DEFAULT_GRACE,
            migrate: relkit_serve::db::MigrateMode::Apply,
            vuln_db: None,
            blobs: Default::default(),
            webhooks: Default::default(),
        };
        let server = rt
            .block_on(Server::start(
                &cfg,
                "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            ))
            .unwrap();
        let url = format!("http://{}", server.addr);
        let admin = Admin::open(data.path(), database.as_deref()).unwrap();
        let adm = admin.create_token(None, "admin").unwrap();
        let a = admin.create_token(Some("alpha"), "ci").unwrap();
        let b = admin.create_token(Some("beta"), "ci").unwrap();
        Env {
            rt,
            server: Some(server),
            url,
            data,
            database,
            pg_name,
            admin: adm.token,
            token_a: a.token,
            token_a_id: a.id,
            token_b: b.token,
            key: PrivateKey::generate(KeyKind::Ed25519),
            backend,
        }
    }

    pub fn admin(&self) -> Admin {
        Admin::open(self.data.path(), self.database.as_deref()).unwrap()
    }

    /// Number of blobs on disk.
    pub fn blob_count(&self) -> usize {
        std::fs::read_dir(self.data.path().join("blobs/sha256"))
            .unwrap()
            .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
            .sum()
    }

    /// Entries left in the upload scratch directory.
    pub fn tmp_entries(&self) -> usize {
        std::fs::read_dir(self.data.path().join("tmp"))
            .unwrap()
            .count()
    }

    pub fn data_path(&self) -> PathBuf {
        self.data.path().to_path_buf()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = self.rt.block_on(s.stop());
        }
        if let Some(name) = &self.pg_name {
            let _ = pg_exec(
                &self.rt,
                &pg_base(),
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

pub fn rand_bytes() -> [u8; 8] {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    b
}

/// A raw HTTP agent that does not turn error statuses into errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    )
}

/// Status and body of a GET.
pub fn get(url: &str) -> (u16, String) {
    let mut r = agent().get(url).call().unwrap();
    let s = r.status().as_u16();
    (s, r.body_mut().read_to_string().unwrap())
}

/// Status and body of a PUT with an optional token and declared digest.
pub fn put(url: &str, token: Option<&str>, digest: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut req = agent().put(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    if let Some(d) = digest {
        req = req.header("X-Content-SHA256", d);
    }
    let mut r = req.send(body).unwrap();
    let s = r.status().as_u16();
    (s, r.body_mut().read_to_string().unwrap())
}

pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// A shared fixture's bytes (`relkit_testkit::fixture`: the SPDX and CycloneDX examples).
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(relkit_testkit::fixture(name)).unwrap()
}

/// Runs SQL on the test cluster's base database (as the test role).
pub fn pg_admin(sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    pg_exec(&rt, &pg_base(), sql)
}
