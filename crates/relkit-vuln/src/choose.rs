//! The one use case "scan this SBOM with the DB the user chose", shared by `relkit scan` and
//! the release pipeline's scan step: which DB ([`DbChoice`]), whether it must be real and
//! fresh ([`Gate`]), and a note saying which DB was used and how old it is.
//!
//! The rules, in one place:
//! - the bundled sample DB is used only when chosen ([`DbChoice::Sample`]), or as the CLI's
//!   announced fallback ([`DbChoice::ImportedOrSample`], which a gate refuses);
//! - under a [`Gate`], a DB that is the sample (even named by its path) or older than the
//!   maximum age is refused with the reason.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use crate::db::{Db, DbError};
use crate::scan::{Report, ScanOptions, scan_document};
use crate::{freshness, sample};

/// Which vulnerability DB a scan uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbChoice {
    /// This DB file.
    Path(PathBuf),
    /// The user's imported DB (`relkit db import` / `relkit db update`); it must exist.
    Imported,
    /// The user's imported DB when it exists, else the bundled sample, said in the note
    /// (`relkit scan` without `--db`). Refused under a [`Gate`].
    ImportedOrSample,
    /// The bundled sample DB (demo data), chosen on purpose.
    Sample,
}

/// What a gate (the release pipeline) requires of the DB: real data, at most this old.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The largest age of the last import and of the newest record.
    pub max_age: Duration,
    /// The age limit as the user wrote it (`7d`), for messages.
    pub max_age_text: String,
}

/// Why no DB could be chosen. The messages are the ones users and scripts see.
#[derive(Debug, thiserror::Error)]
pub enum ChooseError {
    /// The imported DB was required and does not exist.
    #[error(
        "no vulnerability DB: {} does not exist; run `relkit db update` (or `relkit db import FILES`), or set [scan] db = PATH in the plan ([scan] db = \"sample\" scans against demo data only)",
        .0.display()
    )]
    NoImportedDb(PathBuf),
    /// A gate met the sample DB that was not chosen by name.
    #[error(
        "{} is relkit's bundled sample DB (demo data); use a real DB, or write [scan] db = \"sample\" to scan against demo data on purpose",
        .0.display()
    )]
    SampleNotChosen(PathBuf),
    /// A gate met a DB older than its maximum age.
    #[error("{}: {why}; or raise [scan] max-age", .path.display())]
    Stale {
        /// The DB.
        path: PathBuf,
        /// The ages, in words.
        why: String,
    },
    /// The sample DB could not be built in the cache.
    #[error("the bundled sample DB")]
    Sample(#[source] Box<DbError>),
    /// The DB could not be opened.
    #[error("opening {}", .path.display())]
    Open {
        /// The DB.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<DbError>,
    },
    /// The DB's age could not be read.
    #[error("reading the age of {}", .path.display())]
    Age {
        /// The DB.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<DbError>,
    },
}

/// An opened DB and what the report should say about it.
pub struct ChosenDb {
    /// The DB file.
    pub path: PathBuf,
    /// The open DB.
    pub db: Db,
    /// Which DB this is and how old, for the user (a warning for the sample).
    pub note: String,
    /// Whether it is the bundled sample DB.
    pub sample: bool,
}

impl std::fmt::Debug for ChosenDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChosenDb")
            .field("path", &self.path)
            .field("note", &self.note)
            .field("sample", &self.sample)
            .finish_non_exhaustive()
    }
}

/// Opens the DB `choice` names and, under a `gate`, proves it real and fresh at `now`.
pub fn open_db(
    choice: &DbChoice,
    gate: Option<&Gate>,
    now: OffsetDateTime,
) -> Result<ChosenDb, ChooseError> {
    let (path, sample_chosen) = match choice {
        DbChoice::Sample => (
            sample::sample_db().map_err(|e| ChooseError::Sample(Box::new(e)))?,
            true,
        ),
        DbChoice::Path(p) => (p.clone(), false),
        DbChoice::Imported => {
            let user = sample::default_db_path();
            if !user.exists() {
                return Err(ChooseError::NoImportedDb(user));
            }
            (user, false)
        }
        DbChoice::ImportedOrSample => {
            let user = sample::default_db_path();
            if user.exists() {
                (user, false)
            } else {
                (
                    sample::sample_db().map_err(|e| ChooseError::Sample(Box::new(e)))?,
                    gate.is_none(),
                )
            }
        }
    };
    let db = Db::open(&path).map_err(|source| ChooseError::Open {
        path: path.clone(),
        source: Box::new(source),
    })?;
    let note = match gate {
        None => ungated_note(&path, sample_chosen),
        Some(gate) => gated_note(&db, &path, sample_chosen, gate, now)?,
    };
    Ok(ChosenDb {
        path,
        db,
        note,
        sample: sample_chosen,
    })
}

fn ungated_note(path: &Path, sample: bool) -> String {
    if sample {
        format!(
            "using the bundled sample DB {} (run `relkit db import` for a full one)",
            path.display()
        )
    } else {
        format!("using the DB {}", path.display())
    }
}

fn gated_note(
    db: &Db,
    path: &Path,
    sample_chosen: bool,
    gate: &Gate,
    now: OffsetDateTime,
) -> Result<String, ChooseError> {
    if sample_chosen {
        return Ok("warning: scanned against relkit's bundled sample DB (demo data, as [scan] db = \"sample\" asks): this is no vulnerability gate".into());
    }
    let fresh = db.freshness().map_err(|source| ChooseError::Age {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    if fresh.sample {
        return Err(ChooseError::SampleNotChosen(path.to_path_buf()));
    }
    fresh
        .check(gate.max_age, now)
        .map_err(|why| ChooseError::Stale {
            path: path.to_path_buf(),
            why,
        })?;
    Ok(format!(
        "DB imported {}, newest record {} (max age {})",
        fresh.last_import.as_deref().unwrap_or("?"),
        fresh.newest_record.as_deref().unwrap_or("?"),
        gate.max_age_text
    ))
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No usable DB.
    #[error(transparent)]
    Choose(#[from] ChooseError),
    /// The scan itself failed.
    #[error("scanning with {}", .path.display())]
    Scan {
        /// The DB.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<DbError>,
    },
}

/// Scans `doc` (named `target` in the report) with the chosen DB: the use case of `relkit
/// scan` and of the release's scan step. Returns the report and the DB that was used.
pub fn scan_sbom(
    doc: &relkit_sbom::Document,
    target: &str,
    choice: &DbChoice,
    gate: Option<&Gate>,
    opts: &ScanOptions,
) -> Result<(Report, ChosenDb), ScanError> {
    let chosen = open_db(choice, gate, OffsetDateTime::now_utc())?;
    let report =
        scan_document(doc, target, &chosen.db, opts).map_err(|source| ScanError::Scan {
            path: chosen.path.clone(),
            source: Box::new(source),
        })?;
    Ok((report, chosen))
}

impl Gate {
    /// A gate from a `max-age` as plans write it (`7d`, `36h`); the text is kept for messages.
    pub fn parse(max_age: &str) -> Result<Gate, String> {
        Ok(Gate {
            max_age: freshness::parse_max_age(max_age)?,
            max_age_text: max_age.to_string(),
        })
    }
}
