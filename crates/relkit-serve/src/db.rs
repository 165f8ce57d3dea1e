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

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// The schema, written for SQLite; [`pg_schema`] translates the two differences.
const SCHEMA: &[&str] = &[
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
];

/// The PostgreSQL form of a schema statement: 64-bit integers and a sequence for the audit id.
fn pg_schema(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}

/// The metadata database.
#[derive(Clone)]
pub enum Db {
    /// SQLite: one connection, used from blocking tasks (writes are serialized anyway).
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// PostgreSQL: a few lazily (re)connected clients.
    Postgres(Arc<PgPool>),
}

/// A tiny PostgreSQL pool: each slot reconnects when its connection was lost, so a database
/// restart makes the requests in flight fail and the next ones succeed.
pub struct PgPool {
    url: String,
    slots: Vec<tokio::sync::Mutex<Option<tokio_postgres::Client>>>,
    next: AtomicUsize,
}

impl PgPool {
    async fn client<'a>(
        &'a self,
    ) -> DbResult<tokio::sync::MutexGuard<'a, Option<tokio_postgres::Client>>> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut guard = self.slots[i].lock().await;
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

fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
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

impl Db {
    /// Opens (creating and migrating) the database: a `postgres://` / `postgresql://` URL,
    /// or else the SQLite file `data_dir/relkit-serve.sqlite3`.
    pub async fn open(database: Option<&str>, data_dir: &Path) -> DbResult<Db> {
        let db = match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Db::Postgres(Arc::new(PgPool {
                    url: url.to_string(),
                    slots: (0..8).map(|_| tokio::sync::Mutex::new(None)).collect(),
                    next: AtomicUsize::new(0),
                }))
            }
            other => {
                let path = other
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| data_dir.join("relkit-serve.sqlite3"));
                let conn = tokio::task::spawn_blocking(move || {
                    let conn = rusqlite::Connection::open(path)?;
                    conn.busy_timeout(std::time::Duration::from_secs(10))?;
                    conn.pragma_update(None, "journal_mode", "WAL")?;
                    conn.pragma_update(None, "synchronous", "FULL")?;
                    conn.pragma_update(None, "foreign_keys", "ON")?;
                    Ok::<_, rusqlite::Error>(conn)
                })
                .await??;
                Db::Sqlite(Arc::new(Mutex::new(conn)))
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    async fn migrate(&self) -> DbResult<()> {
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
            vec![],
        )
        .await?;
        let versions: Option<(i64,)> = self
            .query_opt("SELECT COUNT(*) FROM schema_version", vec![])
            .await?;
        if versions.is_some_and(|(n,)| n > 0) {
            return Ok(());
        }
        let mut stmts: Vec<String> = SCHEMA
            .iter()
            .map(|s| match self {
                Db::Sqlite(_) => s.to_string(),
                Db::Postgres(_) => pg_schema(s),
            })
            .collect();
        stmts.push("INSERT INTO schema_version (version) VALUES (1)".into());
        match self {
            Db::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = c.lock().unwrap_or_else(|p| p.into_inner());
                    let tx = conn.transaction()?;
                    for s in &stmts {
                        tx.execute(s, [])?;
                    }
                    tx.commit()
                })
                .await??;
            }
            Db::Postgres(p) => {
                let mut guard = p.client().await?;
                let client = guard.as_mut().expect("client() connects");
                let tx = client.transaction().await?;
                for s in &stmts {
                    tx.execute(s.as_str(), &[]).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Readiness check (`/readyz`): a trivial query on the schema through the server's own
    /// connection, and for SQLite also through a fresh connection that may not create the file,
    /// so a database file that was removed, replaced by something that is not a database, or
    /// held by an exclusive lock is noticed (the server's open handle alone would keep
    /// answering from an unlinked file). PostgreSQL: a pooled client, reconnected if lost.
    pub async fn ping(&self) -> DbResult<()> {
        let _: Option<(i64,)> = self
            .query_opt("SELECT COUNT(*) FROM schema_version", vec![])
            .await?;
        if let Db::Sqlite(c) = self {
            let c = c.clone();
            tokio::task::spawn_blocking(move || {
                let path = {
                    let conn = c.lock().unwrap_or_else(|p| p.into_inner());
                    conn.path().map(std::path::PathBuf::from)
                };
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
                    fresh.query_row("SELECT COUNT(*) FROM schema_version", [], |r| {
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

    /// Runs a query and returns every row untyped.
    async fn rows(&self, sql: &'static str, params: Vec<Value>) -> DbResult<Vec<Row>> {
        match self {
            Db::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || {
                    let conn = c.lock().unwrap_or_else(|p| p.into_inner());
                    sqlite_rows(&conn, sql, &params)
                })
                .await?
                .map_err(DbError::from)
            }
            Db::Postgres(p) => {
                let guard = p.client().await?;
                let client = guard.as_ref().expect("client() connects");
                let boxed = pg_params(&params);
                let refs: Vec<&(dyn ToSql + Sync)> = boxed
                    .iter()
                    .map(|b| b.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                let rows = client.query(sql, &refs).await?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Runs one statement; returns the number of rows changed.
    pub async fn execute(&self, sql: &'static str, params: Vec<Value>) -> DbResult<u64> {
        Ok(self.transaction(vec![Stmt { sql, params }]).await?[0])
    }

    /// Runs statements atomically; returns the rows changed by each.
    pub async fn transaction(&self, stmts: Vec<Stmt>) -> DbResult<Vec<u64>> {
        match self {
            Db::Sqlite(c) => {
                let c = c.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = c.lock().unwrap_or_else(|p| p.into_inner());
                    let tx = conn.transaction()?;
                    let mut counts = Vec::with_capacity(stmts.len());
                    for s in &stmts {
                        let mut st = tx.prepare_cached(s.sql)?;
                        counts
                            .push(st.execute(rusqlite::params_from_iter(s.params.iter()))? as u64);
                    }
                    tx.commit()?;
                    Ok::<_, rusqlite::Error>(counts)
                })
                .await?
                .map_err(DbError::from)
            }
            Db::Postgres(p) => {
                let mut guard = p.client().await?;
                let client = guard.as_mut().expect("client() connects");
                let tx = client.transaction().await?;
                let mut counts = Vec::with_capacity(stmts.len());
                for s in &stmts {
                    let boxed = pg_params(&s.params);
                    let refs: Vec<&(dyn ToSql + Sync)> = boxed
                        .iter()
                        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    counts.push(tx.execute(s.sql, &refs).await?);
                }
                tx.commit().await?;
                Ok(counts)
            }
        }
    }
}
