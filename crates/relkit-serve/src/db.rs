//! Metadata store: one small SQL subset run on SQLite (the default, one file under the data
//! directory) or on PostgreSQL (`postgres://…`).
//!
//! Why not sqlx: we need a handful of plain statements, no compile-time checked queries and no
//! macros; rusqlite is already in the workspace (relkit-vuln) and tokio-postgres only adds the
//! wire protocol, which keeps the 2-core CI build short. Why an enum and not a trait: there
//! are exactly two backends and async trait methods would need boxing for nothing.
//!
//! Statements use `$1, $2, …` placeholders, numbered in order of first appearance: SQLite
//! binds `$N` as a named parameter whose index is its first appearance, PostgreSQL by number,
//! so the same text binds the same way on both.
//!
//! Concurrency: several server processes may share one database. Every check-then-write is
//! one [`Tx`]; the database enforces it (primary keys, `INSERT … ON CONFLICT`, the release row
//! locked with `SELECT … FOR UPDATE` on PostgreSQL, the single writer of `BEGIN IMMEDIATE` on
//! SQLite). The schema is versioned ([`MIGRATIONS`], recorded in `schema_migrations`) and
//! migrated under a lock (see [`Db::open`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::types::{ToSql, Type};

/// A database error, with which backend and statement it came from.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("SQLite")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (connection lost, statement refused, …).
    #[error("PostgreSQL")]
    Postgres(#[from] tokio_postgres::Error),
    /// A PostgreSQL column of a type the schema does not use came back.
    #[error("unexpected column type {0} (the schema is out of date?)")]
    Type(String),
    /// A value came back that the column's Rust type cannot hold (NULL in a non-optional
    /// column, text for a number, a missing column).
    #[error("column {column}: expected {expected}, found {found} (the schema is out of date?)")]
    Column {
        /// Zero-based column index in the statement's result.
        column: usize,
        /// What the reader expected.
        expected: &'static str,
        /// What the database returned.
        found: &'static str,
    },
    /// The blocking SQLite task panicked or was cancelled.
    #[error("database task failed")]
    Task(#[from] tokio::task::JoinError),
    /// The database's schema is newer than this binary knows.
    #[error(
        "the database is at schema version {database}, newer than this relkit knows (versions 1 to {known}): run a relkit at least as new as the one that migrated it"
    )]
    TooNew {
        /// The database's schema version.
        database: i64,
        /// The latest version this binary knows.
        known: i64,
    },
    /// The database needs a migration and this process was told not to apply it.
    #[error(
        "the database is at schema version {database}, this relkit needs version {latest}: run `relkit serve migrate` first"
    )]
    NeedsMigration {
        /// The database's schema version (0: empty).
        database: i64,
        /// The version this binary needs.
        latest: i64,
    },
}

impl DbError {
    /// Whether a UNIQUE or PRIMARY KEY constraint refused the write (another writer was
    /// first): the API answers 409, never 5xx.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Postgres(e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            _ => false,
        }
    }
}

/// Result of a database operation.
pub type DbResult<T> = Result<T, DbError>;

/// A statement parameter or result value (the schema uses only integers and text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A 64-bit integer.
    Int(i64),
    /// UTF-8 text.
    Text(String),
    /// SQL NULL (only ever bound to text columns).
    Null,
}

impl Value {
    /// The SQL type's name, for errors.
    fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Null => "NULL",
        }
    }
}

/// A Rust type a column is read into: NULL only into an `Option`, never as `""` or 0.
pub trait FromValue: Sized {
    /// What the type needs, for errors.
    const EXPECTED: &'static str;
    /// The value as this type, or None when it does not fit.
    fn from_value(v: Value) -> Option<Self>;
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "text";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Flags are stored as INTEGER 0 / 1.
impl FromValue for bool {
    const EXPECTED: &'static str = "a 0/1 flag";
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A result row read into a typed struct or tuple, column by column.
pub trait FromRow: Sized {
    /// Converts the row, failing on a missing column or a value of the wrong type.
    fn from_row(row: Row) -> DbResult<Self>;
}

/// Column `i` of a row as `T`.
fn column<T: FromValue>(row: &mut std::vec::IntoIter<Value>, i: usize) -> DbResult<T> {
    let v = row.next().ok_or(DbError::Column {
        column: i,
        expected: T::EXPECTED,
        found: "no such column",
    })?;
    let found = v.type_name();
    T::from_value(v).ok_or(DbError::Column {
        column: i,
        expected: T::EXPECTED,
        found,
    })
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: Row) -> DbResult<Self> {
                let mut it = row.into_iter();
                Ok(($(column::<$t>(&mut it, $i)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        s.map(Value::Text).unwrap_or(Value::Null)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// One result row.
pub type Row = Vec<Value>;

/// A statement with its parameters, for [`Db::transaction`].
#[derive(Debug, Clone)]
pub struct Stmt {
    /// SQL text with `$N` placeholders.
    pub sql: &'static str,
    /// Parameters in placeholder order.
    pub params: Vec<Value>,
}

/// Migration 1, today's schema as first released (written for SQLite; [`pg_schema`]
/// translates the two differences), with the `schema_version` table that relkit before
/// versioned migrations created.
const SCHEMA_V1: &[&str] = &[
    "CREATE TABLE projects (name TEXT PRIMARY KEY, policy TEXT, verify_key TEXT, trusted_root TEXT,
        require_sbom INTEGER NOT NULL DEFAULT 0, require_signature INTEGER NOT NULL DEFAULT 0,
        require_provenance INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL)",
    "CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL, project TEXT, admin INTEGER NOT NULL,
        label TEXT NOT NULL, created INTEGER NOT NULL, revoked INTEGER)",
    "CREATE TABLE releases (project TEXT NOT NULL REFERENCES projects(name), version TEXT NOT NULL,
        tag TEXT NOT NULL, commit_id TEXT NOT NULL, created INTEGER NOT NULL, published INTEGER,
        PRIMARY KEY (project, version))",
    "CREATE INDEX releases_by_created ON releases (project, created)",
    "CREATE TABLE files (project TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL,
        sha256 TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER NOT NULL,
        PRIMARY KEY (project, version, name),
        FOREIGN KEY (project, version) REFERENCES releases (project, version))",
    "CREATE TABLE attachments (project TEXT NOT NULL, version TEXT NOT NULL, file TEXT NOT NULL,
        name TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
        status TEXT NOT NULL, detail TEXT NOT NULL, created INTEGER NOT NULL,
        PRIMARY KEY (project, version, file, name),
        FOREIGN KEY (project, version, file) REFERENCES files (project, version, name))",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
        action TEXT NOT NULL, project TEXT, version TEXT, name TEXT, sha256 TEXT, detail TEXT NOT NULL)",
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
];

/// Migration 2: blob digests indexed (fsck's and gc's "which rows use this blob"), and the
/// pre-migration `schema_version` table dropped, so that a relkit from before versioned
/// migrations refuses this database at start (it would recreate its tables and fail)
/// instead of running on a schema it does not know.
const SCHEMA_V2: &[&str] = &[
    "CREATE INDEX files_by_sha256 ON files (sha256)",
    "CREATE INDEX attachments_by_sha256 ON attachments (sha256)",
    "DROP TABLE schema_version",
];

/// Migration 3: what the vulnerability watcher ([`crate::watch`]) found in published releases.
/// `vuln_findings` holds one row per (release, advisory, component, installed version), with
/// when it first appeared (kept across re-scans); `vuln_scans` says, per release, which state
/// of the vulnerability DB it was last scanned against and whether that scan failed.
const SCHEMA_V3: &[&str] = &[
    "CREATE TABLE vuln_findings (project TEXT NOT NULL, version TEXT NOT NULL, advisory TEXT NOT NULL,
        component TEXT NOT NULL, installed TEXT NOT NULL, severity TEXT NOT NULL, aliases TEXT NOT NULL,
        summary TEXT, first_seen INTEGER NOT NULL,
        PRIMARY KEY (project, version, advisory, component, installed))",
    "CREATE INDEX vuln_findings_by_advisory ON vuln_findings (project, advisory)",
    "CREATE TABLE vuln_scans (project TEXT NOT NULL, version TEXT NOT NULL, stamp TEXT NOT NULL,
        scanned INTEGER NOT NULL, error TEXT, PRIMARY KEY (project, version))",
];

/// Migration 4: OpenVEX statements maintainers publish for a release ([`crate::api::vex`]),
/// one row per statement in the order received (the latest statement about a finding
/// decides), kept as the validated JSON the maintainer sent; and the PURL of each finding's
/// component, which a statement's products are matched against (every release is re-scanned
/// to fill it in; first-seen times are kept).
const SCHEMA_V4: &[&str] = &[
    "ALTER TABLE vuln_findings ADD COLUMN purl TEXT",
    "CREATE TABLE vex_statements (id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL,
        version TEXT NOT NULL, statement TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL)",
    "CREATE INDEX vex_statements_by_release ON vex_statements (project, version)",
    // Every release is scanned again, so that the findings get their PURLs.
    "DELETE FROM vuln_scans",
];

/// Migration 5: webhooks of projects ([`crate::webhooks`]; the secret stored sealed with the
/// server key) and their deliveries: one row per event and webhook, queued in the
/// transaction that changed a release's findings, claimed by one process before it is sent,
/// with its attempts and their outcome.
const SCHEMA_V5: &[&str] = &[
    "CREATE TABLE webhooks (id TEXT PRIMARY KEY, project TEXT NOT NULL, url TEXT NOT NULL,
        secret TEXT NOT NULL, created INTEGER NOT NULL, actor TEXT NOT NULL)",
    "CREATE INDEX webhooks_by_project ON webhooks (project)",
    "CREATE TABLE webhook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE,
        webhook TEXT NOT NULL, project TEXT NOT NULL, version TEXT NOT NULL, advisory TEXT NOT NULL,
        event TEXT NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL, next_attempt INTEGER NOT NULL, claim TEXT, claimed_until INTEGER,
        last_status INTEGER, last_error TEXT, delivered INTEGER)",
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt)",
    "CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook, id)",
];

/// One numbered schema migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version (1, 2, …: the schema version once applied).
    pub version: i64,
    /// What it does, for `relkit serve migrate`.
    pub name: &'static str,
    /// Its statements (SQLite dialect; translated for PostgreSQL).
    stmts: &'static [&'static str],
}

/// Every migration, in order; the last one's version is [`LATEST`].
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        stmts: SCHEMA_V1,
    },
    Migration {
        version: 2,
        name: "blob digest indexes; schema_version replaced by schema_migrations",
        stmts: SCHEMA_V2,
    },
    Migration {
        version: 3,
        name: "vulnerability findings of published releases (vuln_findings, vuln_scans)",
        stmts: SCHEMA_V3,
    },
    Migration {
        version: 4,
        name: "OpenVEX statements of releases (vex_statements); findings' PURLs",
        stmts: SCHEMA_V4,
    },
    Migration {
        version: 5,
        name: "webhooks of projects and their deliveries (webhooks, webhook_deliveries)",
        stmts: SCHEMA_V5,
    },
];

/// The schema version this binary writes and reads.
pub const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// The PostgreSQL form of a schema statement: 64-bit integers and a sequence for the audit id.
fn pg_schema(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}

/// The PostgreSQL advisory lock key that serialises migrations ("relkit" in ASCII).
const MIGRATION_LOCK: i64 = 0x7265_6c6b_6974;

/// What [`Db::open`] does about pending migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrateMode {
    /// Applies every pending migration (under the migration lock).
    Apply,
    /// Applies pending migrations up to this version only (`relkit serve migrate --to`).
    UpTo(i64),
    /// Applies nothing: a database that needs a migration is refused
    /// ([`DbError::NeedsMigration`]).
    Refuse,
}

/// The outcome of a migration run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// The schema version before.
    pub from: i64,
    /// The schema version after.
    pub to: i64,
    /// The versions applied by this run (empty when another process had applied them).
    pub applied: Vec<i64>,
}

/// The metadata database.
#[derive(Clone)]
pub enum Db {
    /// SQLite: one connection per process, used from blocking tasks; several processes on
    /// one file take turns through SQLite's own write lock (WAL, `BEGIN IMMEDIATE`).
    Sqlite(Arc<tokio::sync::Mutex<rusqlite::Connection>>),
    /// PostgreSQL: a few lazily (re)connected clients.
    Postgres(Arc<PgPool>),
}

/// A pooled PostgreSQL connection, held for a statement or a transaction.
type PgSlot = tokio::sync::OwnedMutexGuard<Option<tokio_postgres::Client>>;

/// A tiny PostgreSQL pool: each slot reconnects when its connection was lost, so a database
/// restart makes the requests in flight fail and the next ones succeed.
pub struct PgPool {
    url: String,
    slots: Vec<Arc<tokio::sync::Mutex<Option<tokio_postgres::Client>>>>,
    next: AtomicUsize,
}

impl PgPool {
    async fn client(&self) -> DbResult<PgSlot> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut guard = Arc::clone(&self.slots[i]).lock_owned().await;
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                // The connection ends when the server goes away; the slot notices is_closed().
                let _ = conn.await;
            });
            *guard = Some(client);
        }
        Ok(guard)
    }
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    params
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                Value::Int(i) => Box::new(*i),
                Value::Text(s) => Box::new(s.clone()),
                Value::Null => Box::new(None::<String>),
            }
        })
        .collect()
}

fn pg_row(row: &tokio_postgres::Row) -> DbResult<Row> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *t == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|x| Value::Int(i64::from(x)))
        } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(DbError::Type(t.name().to_string()));
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// Runs a statement on a PostgreSQL client; rows for a query, the count for the rest.
async fn pg_run(
    client: &tokio_postgres::Client,
    sql: &str,
    params: &[Value],
    query: bool,
) -> DbResult<(Vec<Row>, u64)> {
    let boxed = pg_params(params);
    let refs: Vec<&(dyn ToSql + Sync)> = boxed
        .iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect();
    if query {
        let rows = client.query(sql, &refs).await?;
        Ok((rows.iter().map(pg_row).collect::<DbResult<_>>()?, 0))
    } else {
        Ok((Vec::new(), client.execute(sql, &refs).await?))
    }
}

/// The SQLite form of a statement: row locks (`FOR UPDATE`) dropped, SQLite has one writer
/// at a time and every transaction here begins `IMMEDIATE` (takes the write lock first).
fn sqlite_sql(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.contains(" FOR UPDATE") {
        sql.replace(" FOR UPDATE", "").into()
    } else {
        sql.into()
    }
}

fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(&sqlite_sql(sql))?;
    let n = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            use rusqlite::types::ValueRef;
            row.push(match r.get_ref(i)? {
                ValueRef::Integer(x) => Value::Int(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                _ => Value::Null,
            });
        }
        out.push(row);
    }
    Ok(out)
}

fn sqlite_execute(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<u64> {
    let mut st = conn.prepare_cached(&sqlite_sql(sql))?;
    Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
}

/// An SQLite connection inside `BEGIN IMMEDIATE`; rolled back when dropped uncommitted
/// (an error, a panic, or the request's future dropped).
struct SqliteTx {
    conn: tokio::sync::OwnedMutexGuard<rusqlite::Connection>,
    open: bool,
}

impl SqliteTx {
    /// Marks the transaction as ended (committed).
    fn close(&mut self) {
        self.open = false;
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

enum TxInner {
    Sqlite(SqliteTx),
    Postgres(PgSlot),
}

/// A database transaction: on PostgreSQL a pooled connection inside `BEGIN` (read
/// committed; writers take row locks with `SELECT … FOR UPDATE`), on SQLite the connection
/// inside `BEGIN IMMEDIATE` (the database's single write lock, shared with every other
/// process on the file). Dropped without [`Tx::commit`], it is rolled back.
pub struct Tx {
    inner: Option<TxInner>,
}

impl Tx {
    async fn run(
        &mut self,
        sql: &'static str,
        params: Vec<Value>,
        query: bool,
    ) -> DbResult<(Vec<Row>, u64)> {
        match self.inner.as_mut().expect("a transaction in use is open") {
            TxInner::Postgres(slot) => {
                let client = slot.as_ref().expect("a transaction holds a connection");
                pg_run(client, sql, &params, query).await
            }
            TxInner::Sqlite(_) => {
                let Some(TxInner::Sqlite(t)) = self.inner.take() else {
                    unreachable!("matched above")
                };
                let (t, r) = tokio::task::spawn_blocking(move || {
                    let r = if query {
                        sqlite_rows(&t.conn, sql, &params).map(|rows| (rows, 0))
                    } else {
                        sqlite_execute(&t.conn, sql, &params).map(|n| (Vec::new(), n))
                    };
                    (t, r)
                })
                .await?;
                self.inner = Some(TxInner::Sqlite(t));
                Ok(r?)
            }
        }
    }

    /// Runs a query in the transaction and reads every row into `T`.
    pub async fn query<T: FromRow>(
        &mut self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> DbResult<Vec<T>> {
        self.run(sql, params, true)
            .await?
            .0
            .into_iter()
            .map(T::from_row)
            .collect()
    }

    /// Runs a query in the transaction and reads its first row, if any, into `T`.
    pub async fn query_opt<T: FromRow>(
        &mut self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> DbResult<Option<T>> {
        self.run(sql, params, true)
            .await?
            .0
            .into_iter()
            .next()
            .map(T::from_row)
            .transpose()
    }

    /// Runs one statement in the transaction; returns the number of rows changed.
    pub async fn execute(&mut self, sql: &'static str, params: Vec<Value>) -> DbResult<u64> {
        Ok(self.run(sql, params, false).await?.1)
    }

    /// Runs statements in order in the transaction.
    pub async fn execute_all(&mut self, stmts: Vec<Stmt>) -> DbResult<Vec<u64>> {
        let mut counts = Vec::with_capacity(stmts.len());
        for s in stmts {
            counts.push(self.execute(s.sql, s.params).await?);
        }
        Ok(counts)
    }

    /// Runs a statement of the schema (not a `'static` statement: translated per backend).
    async fn ddl(&mut self, sql: &str) -> DbResult<()> {
        match self.inner.as_mut().expect("a transaction in use is open") {
            TxInner::Postgres(slot) => {
                let client = slot.as_ref().expect("a transaction holds a connection");
                client.batch_execute(&pg_schema(sql)).await?;
            }
            TxInner::Sqlite(_) => {
                let Some(TxInner::Sqlite(t)) = self.inner.take() else {
                    unreachable!("matched above")
                };
                let sql = sql.to_string();
                let (t, r) = tokio::task::spawn_blocking(move || {
                    let r = t.conn.execute_batch(&sql);
                    (t, r)
                })
                .await?;
                self.inner = Some(TxInner::Sqlite(t));
                r?;
            }
        }
        Ok(())
    }

    /// Commits.
    pub async fn commit(mut self) -> DbResult<()> {
        match self.inner.take().expect("a transaction is committed once") {
            TxInner::Postgres(slot) => {
                let r = slot
                    .as_ref()
                    .expect("a transaction holds a connection")
                    .batch_execute("COMMIT")
                    .await;
                if r.is_err() {
                    // The connection's state is unknown: drop it (the server rolls back).
                    let mut slot = slot;
                    *slot = None;
                }
                r?;
            }
            TxInner::Sqlite(mut t) => {
                tokio::task::spawn_blocking(move || {
                    let r = t.conn.execute_batch("COMMIT");
                    if r.is_ok() {
                        t.close();
                    }
                    // Rolled back by SqliteTx's drop when COMMIT failed.
                    r
                })
                .await??;
            }
        }
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(TxInner::Postgres(mut slot)) = self.inner.take() {
            // Roll back on the same connection before anyone else may use it; without a
            // runtime (or if that fails), drop the connection: the server rolls back.
            match tokio::runtime::Handle::try_current() {
                Ok(h) => {
                    h.spawn(async move {
                        let ok = match slot.as_ref() {
                            Some(c) => c.batch_execute("ROLLBACK").await.is_ok(),
                            None => true,
                        };
                        if !ok {
                            *slot = None;
                        }
                    });
                }
                Err(_) => *slot = None,
            }
        }
        // SQLite: SqliteTx's own drop rolls back.
    }
}

impl Db {
    /// Opens the database — a `postgres://` / `postgresql://` URL, or else the SQLite file
    /// `data_dir/relkit-serve.sqlite3` — and brings its schema to [`LATEST`] (or refuses,
    /// see [`MigrateMode`]). A database newer than this binary is always refused.
    pub async fn open(
        database: Option<&str>,
        data_dir: &Path,
        mode: MigrateMode,
    ) -> DbResult<(Db, MigrationReport)> {
        let db = Db::connect(database, data_dir).await?;
        let report = db.migrate(mode).await?;
        Ok((db, report))
    }

    /// Connects without looking at the schema.
    async fn connect(database: Option<&str>, data_dir: &Path) -> DbResult<Db> {
        Ok(match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Db::Postgres(Arc::new(PgPool {
                    url: url.to_string(),
                    slots: (0..8)
                        .map(|_| Arc::new(tokio::sync::Mutex::new(None)))
                        .collect(),
                    next: AtomicUsize::new(0),
                }))
            }
            other => {
                let path = other
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("relkit-serve.sqlite3"));
                let conn = tokio::task::spawn_blocking(move || open_sqlite(&path)).await??;
                Db::Sqlite(Arc::new(tokio::sync::Mutex::new(conn)))
            }
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Begins a transaction (see [`Tx`]).
    pub async fn begin(&self) -> DbResult<Tx> {
        let inner = match self {
            Db::Sqlite(c) => {
                let conn = Arc::clone(c).lock_owned().await;
                let t = tokio::task::spawn_blocking(move || {
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    Ok::<_, rusqlite::Error>(SqliteTx { conn, open: true })
                })
                .await??;
                TxInner::Sqlite(t)
            }
            Db::Postgres(p) => {
                let mut slot = p.client().await?;
                let r = slot
                    .as_ref()
                    .expect("client() connects")
                    .batch_execute("BEGIN")
                    .await;
                if r.is_err() {
                    *slot = None;
                }
                r?;
                TxInner::Postgres(slot)
            }
        };
        Ok(Tx { inner: Some(inner) })
    }

    /// Applies pending migrations as `mode` says, in one transaction under the migration
    /// lock: PostgreSQL `pg_advisory_xact_lock` (a second process waits, then finds nothing
    /// to do), SQLite `BEGIN IMMEDIATE` (the file's write lock). Every applied version is
    /// recorded in `schema_migrations (version, applied_at)`. A database of relkit before
    /// versioned migrations (a `schema_version` table) is recorded as version 1 first.
    async fn migrate(&self, mode: MigrateMode) -> DbResult<MigrationReport> {
        let mut tx = self.begin().await?;
        if let Db::Postgres(_) = self {
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                vec![MIGRATION_LOCK.into()],
            )
            .await?;
        }
        tx.ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        )
        .await?;
        let mut applied: Vec<i64> = tx
            .query::<(i64,)>(
                "SELECT version FROM schema_migrations ORDER BY version",
                vec![],
            )
            .await?
            .into_iter()
            .map(|(v,)| v)
            .collect();
        if applied.is_empty() {
            let legacy: Option<(i64,)> = match self {
                Db::Sqlite(_) => {
                    tx.query_opt(
                        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                        vec![],
                    )
                    .await?
                }
                Db::Postgres(_) => {
                    tx.query_opt(
                        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_version'",
                        vec![],
                    )
                    .await?
                }
            };
            if legacy.is_some_and(|(n,)| n > 0) {
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (1, $1)",
                    vec![crate::now().into()],
                )
                .await?;
                applied.push(1);
            }
        }
        let from = applied.last().copied().unwrap_or(0);
        if from > LATEST {
            return Err(DbError::TooNew {
                database: from,
                known: LATEST,
            });
        }
        let target = match mode {
            MigrateMode::Apply => LATEST,
            MigrateMode::UpTo(v) => v.clamp(0, LATEST),
            MigrateMode::Refuse => {
                if from < LATEST {
                    return Err(DbError::NeedsMigration {
                        database: from,
                        latest: LATEST,
                    });
                }
                LATEST
            }
        };
        let mut done = Vec::new();
        for m in MIGRATIONS
            .iter()
            .filter(|m| m.version > from && m.version <= target)
        {
            for s in m.stmts {
                tx.ddl(s).await?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                vec![m.version.into(), crate::now().into()],
            )
            .await?;
            done.push(m.version);
        }
        tx.commit().await?;
        Ok(MigrationReport {
            from,
            to: done.last().copied().unwrap_or(from),
            applied: done,
        })
    }

    /// The applied schema versions, oldest first (for `relkit serve migrate --status`).
    pub async fn versions(&self) -> DbResult<Vec<(i64, i64)>> {
        self.query(
            "SELECT version, applied_at FROM schema_migrations ORDER BY version",
            vec![],
        )
        .await
    }

    /// Readiness check (`/readyz`): a trivial query on the schema through the server's own
    /// connection, and for SQLite also through a fresh connection that may not create the file,
    /// so a database file that was removed, replaced by something that is not a database, or
    /// held by an exclusive lock is noticed (the server's open handle alone would keep
    /// answering from an unlinked file). PostgreSQL: a pooled client, reconnected if lost.
    pub async fn ping(&self) -> DbResult<()> {
        let _: Option<(i64,)> = self
            .query_opt("SELECT COUNT(*) FROM schema_migrations", vec![])
            .await?;
        if let Db::Sqlite(c) = self {
            let path = {
                let conn = c.lock().await;
                conn.path().map(std::path::PathBuf::from)
            };
            tokio::task::spawn_blocking(move || {
                let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
                    return Ok(());
                };
                // SQLite's messages name the file by its full path: readiness answers name
                // only the file.
                let full = path.display().to_string();
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let scrub = |e: rusqlite::Error| match e {
                    rusqlite::Error::SqliteFailure(code, Some(m)) => {
                        rusqlite::Error::SqliteFailure(code, Some(m.replace(&full, &file)))
                    }
                    e => e,
                };
                let check = || {
                    let fresh = rusqlite::Connection::open_with_flags(
                        &path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    fresh.busy_timeout(std::time::Duration::from_secs(1))?;
                    fresh.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| {
                        r.get::<_, i64>(0)
                    })?;
                    Ok::<_, rusqlite::Error>(())
                };
                check().map_err(scrub)
            })
            .await??;
        }
        Ok(())
    }

    /// Runs a query and reads every row into `T` (a tuple, or a struct implementing
    /// [`FromRow`]).
    pub async fn query<T: FromRow>(
        &self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> DbResult<Vec<T>> {
        self.rows(sql, params)
            .await?
            .into_iter()
            .map(T::from_row)
            .collect()
    }

    /// Runs a query and reads its first row, if any, into `T`.
    pub async fn query_opt<T: FromRow>(
        &self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> DbResult<Option<T>> {
        self.rows(sql, params)
            .await?
            .into_iter()
            .next()
            .map(T::from_row)
            .transpose()
    }

    /// Runs a query (outside any transaction) and returns every row untyped.
    async fn rows(&self, sql: &'static str, params: Vec<Value>) -> DbResult<Vec<Row>> {
        match self {
            Db::Sqlite(c) => {
                let conn = Arc::clone(c).lock_owned().await;
                tokio::task::spawn_blocking(move || sqlite_rows(&conn, sql, &params))
                    .await?
                    .map_err(DbError::from)
            }
            Db::Postgres(p) => {
                let slot = p.client().await?;
                let client = slot.as_ref().expect("client() connects");
                Ok(pg_run(client, sql, &params, true).await?.0)
            }
        }
    }

    /// Runs one statement; returns the number of rows changed.
    pub async fn execute(&self, sql: &'static str, params: Vec<Value>) -> DbResult<u64> {
        Ok(self.transaction(vec![Stmt { sql, params }]).await?[0])
    }

    /// Runs statements atomically; returns the rows changed by each.
    pub async fn transaction(&self, stmts: Vec<Stmt>) -> DbResult<Vec<u64>> {
        let mut tx = self.begin().await?;
        let counts = tx.execute_all(stmts).await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// Opens the SQLite file for a replica: busy timeout, WAL, full sync, foreign keys. Switching
/// a file to WAL takes its exclusive lock, and SQLite answers "database is locked" at once —
/// without the busy handler — when another process is switching it too (two replicas starting
/// on a fresh file: 1 start in 15 failed so): the switch is retried for up to 10 s.
fn open_sqlite(path: &std::path::Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let busy = |e: &rusqlite::Error| {
        matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    };
    let started = std::time::Instant::now();
    loop {
        let attempt = (|| {
            let conn = rusqlite::Connection::open(path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok::<_, rusqlite::Error>(conn)
        })();
        match attempt {
            Err(e) if busy(&e) && started.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}
