//! The SQLite vulnerability database: schema, import / update in one transaction, stats,
//! and indexed lookups by (ecosystem, package) and (CPE vendor, product).
//!
//! Records are stored once as JSON; two small index tables point at them, so a scan reads
//! only the candidate records of the components it looks at.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ecosystem;
use crate::input::{self, DocKind};
use crate::parse;
use crate::record::Record;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Database errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file is not a SQLite database (or is damaged).
    #[error(
        "{path}: not a readable SQLite database ({source}); delete it and run `relkit db import` again"
    )]
    Corrupt {
        /// DB path.
        path: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The DB was written by a newer relkit.
    #[error(
        "{path}: vulnerability DB schema version {found} is newer than this relkit understands ({SCHEMA_VERSION}); upgrade relkit or re-import into a new --db file"
    )]
    NewerSchema {
        /// DB path.
        path: String,
        /// Schema version in the file.
        found: i64,
    },
    /// A SQLite database that is not a relkit vulnerability DB.
    #[error(
        "{path}: this SQLite file is not a relkit vulnerability DB (no relkit_vuln meta table)"
    )]
    Foreign {
        /// DB path.
        path: String,
    },
    /// The DB does not exist.
    #[error(
        "{path}: no vulnerability DB here; run `relkit db import PATH…` first (or omit --db to use the bundled sample)"
    )]
    Missing {
        /// DB path.
        path: String,
    },
    /// Any other SQLite error.
    #[error("{path}: SQLite: {source}")]
    Sqlite {
        /// DB path.
        path: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// An input could not be read.
    #[error(transparent)]
    Input(#[from] input::InputError),
    /// `--strict` and a record was malformed.
    #[error("{0}\n(the import was rolled back; the DB is unchanged)")]
    Strict(Issue),
    /// A feed download being verified while imported ([`SourceImport::verify`]) holds a
    /// document that cannot be read at all.
    #[error("{0}\n(the import was rolled back; the DB is unchanged)")]
    Unreadable(Issue),
    /// A feed download being verified while imported holds no vulnerability record.
    #[error(
        "{input}: no vulnerability records (an empty or wrong export); the import was rolled back"
    )]
    NoRecords {
        /// The input.
        input: String,
    },
    /// A stored record does not deserialize.
    #[error("{path}: stored record {id} is damaged")]
    BadStored {
        /// DB path.
        path: String,
        /// Record id.
        id: String,
        /// Cause: not UTF-8, or not a record's JSON.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A problem with one input record (skipped unless strict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file}: {path}: {message}")]
pub struct Issue {
    /// File (or archive member) it came from.
    pub file: String,
    /// JSON path (or position) inside it.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Documents read.
    pub documents: u64,
    /// Records read.
    pub records: u64,
    /// Newly added records.
    pub added: u64,
    /// Replaced records.
    pub updated: u64,
    /// Records identical to (or not newer than, for update) the stored ones.
    pub unchanged: u64,
    /// Documents that were neither NVD nor OSV (skipped).
    pub unrecognized: u64,
    /// Malformed records, skipped.
    pub issues: Vec<Issue>,
    /// The newest `modified` value among the records read (imported or not).
    pub newest_modified: Option<String>,
}

/// What the DB records about one feed source (an OSV ecosystem export, NVD, RustSec, GHSA)
/// that `relkit db update` downloads: when it last completed and the newest record it brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SourceStatus {
    /// The source's name in the feeds configuration (`osv-PyPI`, `nvd`, `rustsec`).
    pub source: String,
    /// When its last successful update finished (RFC 3339, UTC); `None` while a first,
    /// multi-step update (NVD's windows) is under way.
    pub last_update: Option<String>,
    /// The newest `modified` value among the records it brought, as stored.
    pub newest_record: Option<String>,
}

/// One source's share of an update, written in the same transaction as its records.
#[derive(Debug, Clone)]
pub struct SourceImport<'a> {
    /// The source's name.
    pub source: &'a str,
    /// The updater's own state (validators, cursors), opaque here, stored as given.
    pub state: &'a str,
    /// Whether the source is now up to date (its `last_update` becomes now); `false` for a
    /// step of a longer update (one NVD window), which keeps the previous `last_update`.
    pub complete: bool,
    /// Verify the inputs in the import pass itself (one read of a download instead of a
    /// check before and the import after): a document that cannot be read at all (not JSON
    /// or YAML, markdown not UTF-8) fails the import instead of being skipped as malformed
    /// ([`DbError::Unreadable`]), and so does an input that yields no record, malformed ones
    /// counted ([`DbError::NoRecords`]); either rolls the whole import back.
    pub verify: bool,
}

/// Import behaviour.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Fail (and roll back) on the first malformed record.
    pub strict: bool,
    /// `db update`: skip records whose stored `modified` is not older than the input's.
    pub only_changed: bool,
}

/// Record counts of a DB.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// DB path.
    pub path: String,
    /// Schema version.
    pub schema_version: i64,
    /// Records per source (`nvd`, `osv`, `rustsec`).
    pub by_source: Vec<(String, u64)>,
    /// Records per OSV ecosystem (affected package entries).
    pub by_ecosystem: Vec<(String, u64)>,
    /// Withdrawn or rejected records (kept out of results).
    pub excluded: u64,
    /// Total records.
    pub total: u64,
    /// Latest `modified` value.
    pub latest_modified: Option<String>,
    /// When the last successful import finished (RFC 3339), if recorded.
    pub last_import: Option<String>,
    /// Per feed source, its last successful update and newest record (`relkit db update`).
    pub sources: Vec<SourceStatus>,
    /// Whether this is relkit's bundled sample DB (demo data).
    pub sample: bool,
}

/// The records a lookup found.
#[derive(Debug, Default)]
pub struct Candidates {
    /// Records in effect, sorted by id.
    pub records: Vec<Record>,
    /// Ids of withdrawn or rejected records indexed under the same key, sorted.
    pub excluded: Vec<String>,
}

/// An open vulnerability database.
pub struct Db {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS relkit_vuln_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT, digest TEXT NOT NULL,
  excluded INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS aliases(id TEXT NOT NULL, alias TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_alias ON aliases(alias);
CREATE INDEX IF NOT EXISTS aliases_id ON aliases(id);
CREATE TABLE IF NOT EXISTS pkg_index(ecosystem TEXT NOT NULL, name TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pkg_index_key ON pkg_index(ecosystem, name);
CREATE INDEX IF NOT EXISTS pkg_index_id ON pkg_index(id);
CREATE TABLE IF NOT EXISTS cpe_index(vendor TEXT NOT NULL, product TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cpe_index_key ON cpe_index(vendor, product);
CREATE INDEX IF NOT EXISTS cpe_index_id ON cpe_index(id);
";

impl Db {
    fn sql(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        |source| classify(&self.path, source)
    }

    /// Opens an existing DB for scanning; checks that it is a relkit DB of a known schema.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let p = path.display().to_string();
        if !path.exists() {
            return Err(DbError::Missing { path: p });
        }
        // Read-write when allowed, so that SQLite can roll back the hot journal an
        // interrupted import leaves behind; read-only otherwise.
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .or_else(|_| Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY))
            .map_err(|e| classify(&p, e))?;
        let db = Db { conn, path: p };
        db.check_schema(false)?;
        Ok(db)
    }

    /// Opens or creates a DB for writing.
    pub fn create(path: &Path) -> Result<Db, DbError> {
        let p = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| {
                DbError::Input(input::InputError::Io {
                    path: dir.display().to_string(),
                    source,
                })
            })?;
        }
        let conn = Connection::open(path).map_err(|e| classify(&p, e))?;
        let db = Db { conn, path: p };
        db.check_schema(true)?;
        Ok(db)
    }

    fn check_schema(&self, create: bool) -> Result<(), DbError> {
        let has_meta: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='relkit_vuln_meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(self.sql())?
            > 0;
        if !has_meta {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(self.sql())?;
            if tables > 0 || !create {
                return Err(DbError::Foreign {
                    path: self.path.clone(),
                });
            }
            self.conn.execute_batch(SCHEMA).map_err(self.sql())?;
            self.conn
                .execute(
                    "INSERT INTO relkit_vuln_meta(key, value) VALUES('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )
                .map_err(self.sql())?;
            return Ok(());
        }
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM relkit_vuln_meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?;
        let found: i64 = found.and_then(|v| v.parse().ok()).unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(DbError::NewerSchema {
                path: self.path.clone(),
                found,
            });
        }
        if found < 1 {
            return Err(DbError::Foreign {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// The DB path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Imports every document under `paths` in one transaction; on any error (or a
    /// malformed record with `strict`) nothing is written. `progress` gets record counts.
    pub fn import(
        &mut self,
        paths: &[PathBuf],
        opts: ImportOptions,
        progress: &dyn Fn(u64),
    ) -> Result<ImportReport, DbError> {
        self.import_inner(paths, opts, None, progress)
    }

    /// [`Db::import`] for one feed source: the records and the source's status and state are
    /// written in one transaction, so a failure leaves the records, the status and the state
    /// of the previous update (an empty `paths` records an update that found nothing new).
    pub fn import_source(
        &mut self,
        paths: &[PathBuf],
        opts: ImportOptions,
        source: &SourceImport,
        progress: &dyn Fn(u64),
    ) -> Result<ImportReport, DbError> {
        self.import_inner(paths, opts, Some(source), progress)
    }

    fn import_inner(
        &mut self,
        paths: &[PathBuf],
        opts: ImportOptions,
        source: Option<&SourceImport>,
        progress: &dyn Fn(u64),
    ) -> Result<ImportReport, DbError> {
        let path = self.path.clone();
        let sql = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut report = ImportReport::default();
        let verify = source.is_some_and(|s| s.verify);
        for p in paths {
            let before = report.records + report.issues.len() as u64;
            import_path(&tx, &path, p, opts, verify, &mut report, progress)?;
            if verify && report.records + report.issues.len() as u64 == before {
                return Err(DbError::NoRecords {
                    input: p.display().to_string(),
                });
            }
        }
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("the current time formats");
        if let Some(src) = source {
            write_source(&tx, src, &now, report.newest_modified.as_deref()).map_err(sql)?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO relkit_vuln_meta(key, value) VALUES('last_import', ?1)",
            [now],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(report)
    }

    /// The status of every feed source the DB records, sorted by name.
    pub fn sources(&self) -> Result<Vec<SourceStatus>, DbError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT key, value FROM relkit_vuln_meta WHERE key LIKE 'source:%' ORDER BY key",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (key, value) = row.map_err(self.sql())?;
            let status: SourceStatus =
                serde_json::from_str(&value).map_err(|e| DbError::BadStored {
                    path: self.path.clone(),
                    id: key,
                    source: e.into(),
                })?;
            out.push(status);
        }
        Ok(out)
    }

    /// The state the updater stored with a source's last import, `None` when never updated.
    pub fn source_state(&self, source: &str) -> Result<Option<String>, DbError> {
        self.meta(&format!("source-state:{source}"))
    }

    /// A meta value, `None` when absent.
    fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        self.conn
            .query_row(
                "SELECT value FROM relkit_vuln_meta WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())
    }

    /// Marks this DB as relkit's bundled sample (demo data), which release gates refuse unless
    /// asked for by name.
    pub fn mark_sample(&self) -> Result<(), DbError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO relkit_vuln_meta(key, value) VALUES('sample', 'true')",
                [],
            )
            .map(|_| ())
            .map_err(self.sql())
    }

    /// The times the DB records about itself: its last import and its newest record.
    pub fn freshness(&self) -> Result<crate::freshness::Freshness, DbError> {
        let newest_record: Option<String> = self
            .conn
            .query_row("SELECT max(modified) FROM records", [], |r| r.get(0))
            .map_err(self.sql())?;
        Ok(crate::freshness::Freshness {
            last_import: self.meta("last_import")?,
            newest_record,
            sources: self.sources()?,
            sample: self.meta("sample")?.as_deref() == Some("true"),
        })
    }

    /// Record counts.
    pub fn stats(&self) -> Result<Stats, DbError> {
        let mut by_source = Vec::new();
        let mut st = self
            .conn
            .prepare("SELECT source, count(*) FROM records GROUP BY source ORDER BY source")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.sql())?;
        for r in rows {
            by_source.push(r.map_err(self.sql())?);
        }
        let mut by_ecosystem = Vec::new();
        let mut st = self
            .conn
            .prepare("SELECT ecosystem, count(DISTINCT id) FROM pkg_index GROUP BY ecosystem ORDER BY ecosystem")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.sql())?;
        for r in rows {
            by_ecosystem.push(r.map_err(self.sql())?);
        }
        let (total, excluded, latest): (i64, i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT count(*), coalesce(sum(excluded), 0), max(modified) FROM records",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(self.sql())?;
        Ok(Stats {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            by_source,
            by_ecosystem,
            excluded: excluded as u64,
            total: total as u64,
            latest_modified: latest,
            last_import: self.meta("last_import")?,
            sources: self.sources()?,
            sample: self.meta("sample")?.as_deref() == Some("true"),
        })
    }

    /// Runs a lookup returning `(id, excluded, body)` rows (body only when not excluded) and
    /// decodes it: the non-excluded records and the ids of the excluded ones, each sorted by
    /// id and without duplicates. Sorting and de-duplicating here rather than with
    /// `SELECT DISTINCT … ORDER BY` keeps SQLite from copying every body into a temporary
    /// b-tree (that copy was most of SQLite's share of a scan).
    fn lookup(&self, sql_text: &str, a: &str, b: &str) -> Result<Candidates, DbError> {
        let mut st = self.conn.prepare_cached(sql_text).map_err(self.sql())?;
        let mut rows = st.query(params![a, b]).map_err(self.sql())?;
        let mut out = Candidates::default();
        while let Some(row) = rows.next().map_err(self.sql())? {
            let id: String = row.get(0).map_err(self.sql())?;
            let excluded: bool = row.get(1).map_err(self.sql())?;
            if excluded {
                out.excluded.push(id);
                continue;
            }
            let body = row.get_ref(2).map_err(self.sql())?;
            // One UTF-8 check of the whole body, then serde_json's `&str` reader, which does
            // not validate each string again (`from_slice` did: a tenth of a large scan).
            let body = body.as_str().map_err(|e| DbError::BadStored {
                path: self.path.clone(),
                id: id.clone(),
                source: e.into(),
            })?;
            let rec: Record = serde_json::from_str(body).map_err(|e| DbError::BadStored {
                path: self.path.clone(),
                id,
                source: e.into(),
            })?;
            out.records.push(rec);
        }
        out.records.sort_by(|x, y| x.id.cmp(&y.id));
        out.records.dedup_by(|x, y| x.id == y.id);
        out.excluded.sort();
        out.excluded.dedup();
        Ok(out)
    }

    /// Records that name the package (ecosystem, name) in `affected`.
    pub fn by_package(&self, ecosystem_name: &str, name: &str) -> Result<Candidates, DbError> {
        self.lookup(
            "SELECT r.id, r.excluded, CASE r.excluded WHEN 0 THEN r.body END \
             FROM pkg_index p JOIN records r ON r.id = p.id WHERE p.ecosystem = ?1 AND p.name = ?2",
            ecosystem::base(ecosystem_name),
            &ecosystem::normalize_name(ecosystem_name, name),
        )
    }

    /// Records with a configuration naming CPE vendor:product.
    pub fn by_cpe(&self, vendor: &str, product: &str) -> Result<Candidates, DbError> {
        self.lookup(
            "SELECT r.id, r.excluded, CASE r.excluded WHEN 0 THEN r.body END \
             FROM cpe_index c JOIN records r ON r.id = c.id WHERE c.vendor = ?1 AND c.product = ?2",
            &vendor.to_ascii_lowercase(),
            &product.to_ascii_lowercase(),
        )
    }

    /// A stored record by id (any status).
    pub fn get(&self, id: &str) -> Result<Option<Record>, DbError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT body FROM records WHERE id = ?1")
            .map_err(self.sql())?;
        let body: Option<String> = st
            .query_row([id], |r| r.get(0))
            .optional()
            .map_err(self.sql())?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| DbError::BadStored {
                path: self.path.clone(),
                id: id.to_string(),
                source: e.into(),
            })
        })
        .transpose()
    }
}

/// Imports the documents under one path into `tx`, counting into `report`.
fn import_path(
    tx: &rusqlite::Transaction,
    db_path: &str,
    p: &Path,
    opts: ImportOptions,
    verify: bool,
    report: &mut ImportReport,
    progress: &dyn Fn(u64),
) -> Result<(), DbError> {
    let sql = |e| classify(db_path, e);
    let mut unreadable: Option<Issue> = None;
    let mut strict_failure: Option<Issue> = None;
    let mut db_failure: Option<DbError> = None;
    input::walk(p, &mut |origin, kind, bytes| {
        report.documents += 1;
        let parsed = match read_document(kind, &bytes) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => {
                report.unrecognized += 1;
                return Ok(());
            }
            Err(e) if verify => {
                unreadable = Some(Issue {
                    file: origin.to_string(),
                    path: e.path,
                    message: e.message,
                });
                return Err("unreadable document".into());
            }
            Err(e) => vec![Err(e)],
        };
        for item in parsed {
            match item {
                Ok(rec) => {
                    report.records += 1;
                    if let Some(m) = &rec.modified
                        && report.newest_modified.as_ref().is_none_or(|n| m > n)
                    {
                        report.newest_modified = Some(m.clone());
                    }
                    match upsert(tx, &rec, opts.only_changed) {
                        Ok(Change::Added) => report.added += 1,
                        Ok(Change::Updated) => report.updated += 1,
                        Ok(Change::Unchanged) => report.unchanged += 1,
                        Err(e) => {
                            db_failure = Some(sql(e));
                            return Err("database write failed".into());
                        }
                    }
                    if report.records.is_multiple_of(1000) {
                        progress(report.records);
                    }
                }
                Err(e) => {
                    let issue = Issue {
                        file: origin.to_string(),
                        path: e.path,
                        message: e.message,
                    };
                    if opts.strict {
                        strict_failure = Some(issue);
                        return Err("strict".into());
                    }
                    report.issues.push(issue);
                }
            }
        }
        Ok(())
    })
    .map_err(
        |e| match (&strict_failure, db_failure.take(), unreadable.take()) {
            (Some(issue), _, _) => DbError::Strict(issue.clone()),
            (None, Some(dbe), _) => dbe,
            (None, None, Some(issue)) => DbError::Unreadable(issue),
            (None, None, None) => DbError::Input(e),
        },
    )
}

/// Writes a source's status (keeping the newer of the stored and the new newest record) and
/// its updater state.
fn write_source(
    tx: &rusqlite::Transaction,
    src: &SourceImport,
    now: &str,
    newest: Option<&str>,
) -> rusqlite::Result<()> {
    let key = format!("source:{}", src.source);
    let old: Option<SourceStatus> = tx
        .query_row(
            "SELECT value FROM relkit_vuln_meta WHERE key = ?1",
            [&key],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| serde_json::from_str(&v).ok());
    let old_newest = old.as_ref().and_then(|o| o.newest_record.clone());
    let newest_record = match (old_newest, newest) {
        (Some(o), Some(n)) if o.as_str() >= n => Some(o),
        (o, n) => n.map(str::to_string).or(o),
    };
    let status = SourceStatus {
        source: src.source.to_string(),
        last_update: if src.complete {
            Some(now.to_string())
        } else {
            old.and_then(|o| o.last_update)
        },
        newest_record,
    };
    let value = serde_json::to_string(&status).expect("a status serializes");
    tx.execute(
        "INSERT OR REPLACE INTO relkit_vuln_meta(key, value) VALUES(?1, ?2)",
        params![key, value],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO relkit_vuln_meta(key, value) VALUES(?1, ?2)",
        params![format!("source-state:{}", src.source), src.state],
    )?;
    Ok(())
}

fn classify(path: &str, e: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        )
    {
        return DbError::Corrupt {
            path: path.to_string(),
            source: e,
        };
    }
    DbError::Sqlite {
        path: path.to_string(),
        source: e,
    }
}

/// Parses one document; `Ok(None)` when it is neither NVD, OSV nor RustSec.
fn read_document(kind: DocKind, bytes: &[u8]) -> Result<Option<parse::Parsed>, parse::RecordError> {
    let value: serde_json::Value = match kind {
        DocKind::Json => serde_json::from_slice(bytes).map_err(|e| parse::RecordError {
            path: format!("line {} column {}", e.line(), e.column()),
            message: format!("malformed JSON: {e}"),
        })?,
        DocKind::Yaml => serde_yaml_ng::from_slice(bytes).map_err(|e| parse::RecordError {
            path: e
                .location()
                .map(|l| format!("line {} column {}", l.line(), l.column()))
                .unwrap_or_else(|| "document".into()),
            message: format!("malformed YAML: {e}"),
        })?,
        DocKind::Markdown => {
            let text = std::str::from_utf8(bytes).map_err(|e| parse::RecordError {
                path: format!("byte {}", e.valid_up_to()),
                message: "not UTF-8".into(),
            })?;
            if !parse::is_rustsec_markdown(text) {
                return Ok(None);
            }
            return Ok(Some(vec![parse::rustsec(text)]));
        }
    };
    Ok(parse::parse_value(&value))
}

enum Change {
    Added,
    Updated,
    Unchanged,
}

fn upsert(
    tx: &rusqlite::Transaction,
    rec: &Record,
    only_changed: bool,
) -> rusqlite::Result<Change> {
    let body = serde_json::to_string(rec).expect("records serialize");
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    let old: Option<(String, Option<String>)> = tx
        .prepare_cached("SELECT digest, modified FROM records WHERE id = ?1")?
        .query_row([&rec.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let change = match &old {
        None => Change::Added,
        Some((d, _)) if *d == digest => return Ok(Change::Unchanged),
        Some((_, Some(m))) if only_changed && rec.modified.as_ref().is_some_and(|n| n <= m) => {
            return Ok(Change::Unchanged);
        }
        Some(_) => Change::Updated,
    };
    if old.is_some() {
        for t in ["aliases", "pkg_index", "cpe_index"] {
            tx.prepare_cached(&format!("DELETE FROM {t} WHERE id = ?1"))?
                .execute([&rec.id])?;
        }
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO records(id, source, modified, digest, excluded, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        rec.id,
        rec.source.as_str(),
        rec.modified,
        digest,
        rec.excluded() as i64,
        body
    ])?;
    for a in &rec.aliases {
        tx.prepare_cached("INSERT INTO aliases(id, alias) VALUES(?1, ?2)")?
            .execute(params![rec.id, a])?;
    }
    let mut keys: Vec<(String, String)> = rec
        .affected
        .iter()
        .map(|a| {
            (
                ecosystem::base(&a.ecosystem).to_string(),
                ecosystem::normalize_name(&a.ecosystem, &a.name),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    for (e, n) in keys {
        tx.prepare_cached("INSERT INTO pkg_index(ecosystem, name, id) VALUES(?1, ?2, ?3)")?
            .execute(params![e, n, rec.id])?;
    }
    let mut cpes: Vec<(String, String)> = Vec::new();
    for c in &rec.configurations {
        for n in &c.nodes {
            for m in n.matches.iter().filter(|m| m.vulnerable) {
                if let Ok(w) = relkit_ident::cpe::Wfn::parse(&m.criteria)
                    && let (Some(v), Some(p)) = (w.vendor(), w.product())
                {
                    cpes.push((v.to_ascii_lowercase(), p.to_ascii_lowercase()));
                }
            }
        }
    }
    cpes.sort();
    cpes.dedup();
    for (v, p) in cpes {
        tx.prepare_cached("INSERT INTO cpe_index(vendor, product, id) VALUES(?1, ?2, ?3)")?
            .execute(params![v, p, rec.id])?;
    }
    Ok(change)
}
