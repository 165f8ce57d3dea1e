//! One run of `relkit db update`: each configured source in turn, downloaded, verified and
//! imported in its own transaction.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use relkit_vuln::db::{Db, ImportOptions, ImportReport, SourceImport};

use crate::config::{FeedsConfig, Source, SourceKind};
use crate::error::{ErrorKind, UpdateError, redact};
use crate::http::{Fetched, Http, Validators};
use crate::nvd::{ApiKey, Nvd, NvdState};
use crate::{Event, Progress};

/// What happened to one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// New data was downloaded, verified and imported.
    Updated,
    /// The source did not change (HTTP 304, same commit, no NVD changes): nothing imported.
    Unchanged,
    /// The update failed; the source's previous records are kept.
    Failed,
}

/// One source's share of the run.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// The source.
    pub source: String,
    /// Its URL or path, credentials removed.
    pub url: String,
    /// What happened.
    pub outcome: Outcome,
    /// HTTP requests answered (304s and retries included).
    pub requests: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Records verified in the download(s).
    pub verified_records: u64,
    /// The import(s), summed.
    pub import: ImportReport,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct UpdateReport {
    /// Per source, in configuration order.
    pub sources: Vec<SourceReport>,
}

impl UpdateReport {
    /// Sources whose update failed.
    pub fn failed(&self) -> usize {
        self.sources
            .iter()
            .filter(|s| s.outcome == Outcome::Failed)
            .count()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct GitState {
    commit: String,
}

/// Updates every source of `cfg` in `db`, in order; a failed source does not stop the others.
/// Returns the report and the errors (one per failed source).
pub fn update(
    db: &mut Db,
    cfg: &FeedsConfig,
    opts: ImportOptions,
    progress: &Progress,
) -> (UpdateReport, Vec<UpdateError>) {
    let http = Http::new(&cfg.http);
    let tmp = tmp_dir(db);
    let mut report = UpdateReport::default();
    let mut errors = Vec::new();
    for src in &cfg.sources {
        let url = redact(&source_url(cfg, src));
        progress(Event::Source {
            name: src.name.clone(),
            url: url.clone(),
        });
        let mut r = SourceReport {
            source: src.name.clone(),
            url: url.clone(),
            outcome: Outcome::Unchanged,
            requests: 0,
            bytes: 0,
            verified_records: 0,
            import: ImportReport::default(),
            error: None,
        };
        let run = Run {
            db: &mut *db,
            http: &http,
            cfg,
            tmp: &tmp,
            opts,
            progress,
        };
        if let Err((at, kind)) = run.source(src, &mut r) {
            let e = UpdateError {
                source_name: src.name.clone(),
                url: redact(&at),
                kind,
            };
            r.outcome = Outcome::Failed;
            r.error = Some(error_chain(&e));
            errors.push(e);
        }
        report.sources.push(r);
    }
    (report, errors)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Downloads go next to the DB (same file system, and not a small `/tmp`).
fn tmp_dir(db: &Db) -> PathBuf {
    Path::new(db.path())
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where an interrupted download of `src` is kept for the next run: next to the DB, named
/// after the DB and the source (`vuln.sqlite.partial-osv-PyPI.zip`, its validators and
/// length in `… .zip.meta`), with the URL's archive suffix.
fn partial_path(db: &str, dir: &Path, source: &str, url: &str) -> PathBuf {
    let db_name = Path::new(db)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "relkit-db".into());
    let safe: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!(
        "{db_name}.partial-{safe}{}",
        crate::http::archive_suffix(url)
    ))
}

fn source_url(cfg: &FeedsConfig, src: &Source) -> String {
    match &src.kind {
        SourceKind::Osv { url } | SourceKind::Archive { url } => url.clone(),
        SourceKind::Nvd => cfg.nvd.url.clone(),
        SourceKind::Git { path } => path.display().to_string(),
    }
}

type Failure = (String, ErrorKind);

struct Run<'a> {
    db: &'a mut Db,
    http: &'a Http,
    cfg: &'a FeedsConfig,
    tmp: &'a Path,
    opts: ImportOptions,
    progress: &'a Progress<'a>,
}

impl Run<'_> {
    fn source(self, src: &Source, r: &mut SourceReport) -> Result<(), Failure> {
        match &src.kind {
            SourceKind::Osv { url } | SourceKind::Archive { url } => self.download(src, url, r),
            SourceKind::Git { path } => self.git(src, path, r),
            SourceKind::Nvd => self.nvd(src, r),
        }
    }

    fn state<T: for<'de> Deserialize<'de> + Default>(
        &self,
        src: &Source,
        at: &str,
    ) -> Result<T, Failure> {
        let text = self
            .db
            .source_state(&src.name)
            .map_err(|e| (at.to_string(), ErrorKind::Db(Box::new(e))))?;
        // A state this version cannot read (an older layout) means: download afresh.
        Ok(text
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    fn import(
        &mut self,
        src: &Source,
        at: &str,
        paths: &[PathBuf],
        state: &str,
        complete: bool,
        r: &mut SourceReport,
    ) -> Result<(), Failure> {
        self.import_with(src, at, paths, state, complete, false, r)
    }

    /// Imports one download that was not verified before: the import verifies it.
    fn import_verified(
        &mut self,
        src: &Source,
        at: &str,
        path: &Path,
        state: &str,
        r: &mut SourceReport,
    ) -> Result<(), Failure> {
        self.import_with(src, at, &[path.to_path_buf()], state, true, true, r)
    }

    #[allow(clippy::too_many_arguments)]
    fn import_with(
        &mut self,
        src: &Source,
        at: &str,
        paths: &[PathBuf],
        state: &str,
        complete: bool,
        verify: bool,
        r: &mut SourceReport,
    ) -> Result<(), Failure> {
        (self.progress)(Event::Importing);
        let progress = self.progress;
        let rep = self
            .db
            .import_source(
                paths,
                self.opts,
                &SourceImport {
                    source: &src.name,
                    state,
                    complete,
                    verify,
                },
                &|n| progress(Event::Records(n)),
            )
            .map_err(|e| (at.to_string(), ErrorKind::Db(Box::new(e))))?;
        add(&mut r.import, rep);
        Ok(())
    }

    /// An OSV export or an archive: conditional download, verification, import.
    fn download(mut self, src: &Source, url: &str, r: &mut SourceReport) -> Result<(), Failure> {
        let old: Option<Validators> = self.state::<Option<Validators>>(src, url)?;
        let fail = |k| (url.to_string(), k);
        r.requests += u64::from(!url.starts_with("file://"));
        let partial = partial_path(self.db.path(), self.tmp, &src.name, url);
        let fetched = self
            .http
            .fetch(url, old.as_ref(), &partial, self.progress)
            .map_err(fail)?;
        let (file, validators, bytes) = match fetched {
            Fetched::NotModified => {
                let state = serde_json::to_string(&old).expect("validators serialize");
                return self.import(src, url, &[], &state, true, r);
            }
            Fetched::File {
                file,
                validators,
                bytes,
            } => (file, validators, bytes),
        };
        r.bytes += bytes;
        // Verified in the import pass, inside the source's transaction: a download that is
        // not a complete archive, holds a document that cannot be read or no record at all
        // is rolled back whole (one read of the download instead of two).
        let state = serde_json::to_string(&Some(validators)).expect("validators serialize");
        let path = file.path().to_path_buf();
        self.import_verified(src, url, &path, &state, r)
            .map_err(|(at, kind)| (at, unwrap_verification(kind, &path)))?;
        r.verified_records = r.import.records + r.import.issues.len() as u64;
        r.outcome = Outcome::Updated;
        Ok(())
    }

    /// A local git repository: unchanged when HEAD is the commit imported last time.
    fn git(mut self, src: &Source, path: &Path, r: &mut SourceReport) -> Result<(), Failure> {
        let at = path.display().to_string();
        let fail = |k| (at.clone(), k);
        let old: GitState = self.state(src, &at)?;
        let (repo, commit) = crate::git::head(path).map_err(fail)?;
        let state = serde_json::to_string(&GitState {
            commit: commit.to_string(),
        })
        .expect("state serializes");
        if old.commit.as_bytes() == commit.to_hex().to_string().as_bytes() {
            return self.import(src, &at, &[], &state, true, r);
        }
        let dir = tempfile::Builder::new()
            .prefix("git-")
            .tempdir_in(self.tmp)
            .map_err(|source| {
                fail(ErrorKind::Io {
                    path: self.tmp.display().to_string(),
                    source,
                })
            })?;
        crate::git::export(&repo, commit, dir.path()).map_err(fail)?;
        self.import_verified(src, &at, dir.path(), &state, r)
            .map_err(|(at, kind)| (at, unwrap_verification(kind, dir.path())))?;
        r.verified_records = r.import.records + r.import.issues.len() as u64;
        r.outcome = Outcome::Updated;
        Ok(())
    }

    /// NVD: the full walk on a first run without `since`, else the windows from the cursor
    /// (or `since`) to now, each imported as soon as its pages are verified.
    fn nvd(mut self, src: &Source, r: &mut SourceReport) -> Result<(), Failure> {
        let url = self.cfg.nvd.url.clone();
        let old: NvdState = self.state(src, &url)?;
        let key = ApiKey::find(&self.cfg.nvd).map_err(|k| (url.clone(), k))?;
        let now = OffsetDateTime::now_utc()
            .replace_millisecond(0)
            .expect("0 ms is valid");
        let mut client = Nvd {
            cfg: &self.cfg.nvd,
            http: self.http,
            limiter: Nvd::limiter(&self.cfg.nvd, key.is_some()),
            key,
            tmp: self.tmp,
        };
        let start = old
            .cursor
            .as_deref()
            .or(self.cfg.nvd.since.as_deref())
            .and_then(relkit_vuln::freshness::parse_time);
        let state = |t: OffsetDateTime| {
            serde_json::to_string(&NvdState {
                cursor: Some(t.format(&Rfc3339).expect("times format")),
            })
            .expect("state serializes")
        };
        let Some(start) = start else {
            let w = client.fetch(None, self.progress)?;
            self.count(r, &w);
            let pages = vec![w.dir.path().to_path_buf()];
            self.import(src, &url, &pages, &state(now), true, r)?;
            r.outcome = Outcome::Updated;
            return Ok(());
        };
        let windows = crate::nvd::windows(start, now, self.cfg.nvd.window_days);
        if windows.is_empty() {
            return self.import(src, &url, &[], &state(start), true, r);
        }
        let last = windows.len() - 1;
        for (i, (a, b)) in windows.into_iter().enumerate() {
            let w = client.fetch(Some((a, b)), self.progress)?;
            self.count(r, &w);
            let pages = if w.records > 0 {
                vec![w.dir.path().to_path_buf()]
            } else {
                Vec::new()
            };
            self.import(src, &url, &pages, &state(b), i == last, r)?;
        }
        if r.import.added + r.import.updated > 0 {
            r.outcome = Outcome::Updated;
        }
        Ok(())
    }

    fn count(&self, r: &mut SourceReport, w: &crate::nvd::Window) {
        r.requests += w.requests;
        r.bytes += w.bytes;
        r.verified_records += w.records;
    }
}

/// A verification failure found by the import, said as the verification says it: the
/// download is not a complete archive, a member cannot be read (named inside the download or
/// the exported tree), or it holds no records.
fn unwrap_verification(kind: ErrorKind, download: &Path) -> ErrorKind {
    let ErrorKind::Db(e) = kind else { return kind };
    match *e {
        relkit_vuln::DbError::Unreadable(issue) => {
            let top = download.display().to_string();
            let member = [format!("{top}!"), format!("{top}/")]
                .iter()
                .find_map(|p| issue.file.strip_prefix(p.as_str()))
                .unwrap_or(&issue.file)
                .to_string();
            ErrorKind::Unreadable {
                member,
                at: issue.path,
                message: issue.message,
            }
        }
        relkit_vuln::DbError::NoRecords { .. } => ErrorKind::Empty,
        relkit_vuln::DbError::Input(relkit_vuln::input::InputError::Archive { source, .. }) => {
            ErrorKind::Archive(source)
        }
        other => ErrorKind::Db(Box::new(other)),
    }
}

fn add(total: &mut ImportReport, r: ImportReport) {
    total.documents += r.documents;
    total.records += r.records;
    total.added += r.added;
    total.updated += r.updated;
    total.unchanged += r.unchanged;
    total.unrecognized += r.unrecognized;
    total.issues.extend(r.issues);
    if r.newest_modified > total.newest_modified {
        total.newest_modified = r.newest_modified;
    }
}
