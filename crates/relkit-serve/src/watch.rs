//! Published releases watched after they ship: `relkit serve --vuln-db PATH` names a relkit
//! vulnerability DB (made by `relkit db import` / `relkit db update`, which the server only
//! reads), and a task re-scans every published release's SBOM attachments against it with
//! relkit-vuln's scanner whenever the DB changes (its file's modification time and size, and
//! the import time the DB records), at start, and when a release is published.
//!
//! Per release, the findings (advisory, component, installed version, severity) replace the
//! previous ones in one transaction (`vuln_findings`); a finding seen before keeps the time it
//! first appeared. `vuln_scans` records which DB state each release was scanned against, so
//! replicas sharing a database do not repeat each other's work, and a scan that failed (an SBOM
//! that cannot be read) is recorded with its reason, never taken for "no findings".
//!
//! Read by the JSON API and the Atom feed in [`crate::api::vulns`].

use relkit_core::error::chain as error_chain;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::AppState;
use crate::db::{DbResult, Value};

/// How often the DB file is looked at (one `stat`; the DB is opened only when it changed).
pub const POLL: Duration = Duration::from_secs(1);

/// The DB state the server last loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbState {
    /// When the DB's last import finished (RFC 3339), as the DB records it.
    pub last_import: Option<String>,
    /// The newest `modified` time among its records.
    pub newest_record: Option<String>,
    /// Seconds since the last import, at the time of the answer.
    pub age_seconds: Option<i64>,
    /// When this server last (re)loaded the DB (Unix seconds).
    pub loaded: i64,
    /// Why the DB could not be used, if it could not (findings are then from an earlier state).
    pub error: Option<String>,
    /// What the DB's state was recognised by (file mtime and size, recorded import time);
    /// not served.
    #[serde(skip)]
    pub stamp: String,
}

/// The watcher's shared state.
#[derive(Debug)]
pub struct Watch {
    /// The DB file.
    pub path: PathBuf,
    state: tokio::sync::RwLock<Option<DbState>>,
}

impl Watch {
    /// A watcher of the DB at `path` (nothing loaded yet).
    pub fn new(path: PathBuf) -> Watch {
        Watch {
            path,
            state: tokio::sync::RwLock::new(None),
        }
    }

    /// The DB state last loaded (None before the first load), its age computed now.
    pub async fn state(&self) -> Option<DbState> {
        let mut st = self.state.read().await.clone()?;
        st.age_seconds = st.last_import.as_deref().and_then(|t| {
            let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .ok()?;
            Some(crate::now() - t.unix_timestamp())
        });
        Some(st)
    }
}

/// Starts the watcher task; it runs until the runtime ends.
pub fn spawn(s: Arc<AppState>, w: Arc<Watch>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tick(&s, &w).await;
            tokio::time::sleep(POLL).await;
        }
    })
}

/// One finding as stored.
#[derive(Debug, Clone)]
struct Found {
    advisory: String,
    component: String,
    installed: String,
    severity: String,
    aliases: String,
    summary: Option<String>,
    purl: Option<String>,
}

fn file_stamp(path: &std::path::Path) -> Result<String, String> {
    let m = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(format!("{mtime}:{}", m.len()))
}

async fn set_error(w: &Watch, error: String) {
    let mut st = w.state.write().await;
    match st.as_mut() {
        Some(s) => s.error = Some(error),
        None => {
            *st = Some(DbState {
                last_import: None,
                newest_record: None,
                age_seconds: None,
                loaded: crate::now(),
                error: Some(error),
                stamp: String::new(),
            })
        }
    }
}

/// Looks at the DB file; reloads it when it changed; scans the published releases not yet
/// scanned against the current DB state. Failures are recorded in the state (the API shows
/// them), and retried at the next tick.
async fn tick(s: &AppState, w: &Watch) {
    let file = match file_stamp(&w.path) {
        Ok(f) => f,
        Err(e) => return set_error(w, format!("the vulnerability DB cannot be read: {e}")).await,
    };
    let known = w.state.read().await.clone();
    let stamp = match known {
        Some(st) if st.error.is_none() && st.stamp.starts_with(&format!("{file}|")) => st.stamp,
        _ => {
            let path = w.path.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                let db = relkit_vuln::Db::open(&path).map_err(|e| error_chain(&e))?;
                db.freshness().map_err(|e| error_chain(&e))
            })
            .await;
            match loaded {
                Ok(Ok(f)) => {
                    let stamp = format!("{file}|{}", f.last_import.as_deref().unwrap_or(""));
                    *w.state.write().await = Some(DbState {
                        last_import: f.last_import,
                        newest_record: f.newest_record,
                        age_seconds: None,
                        loaded: crate::now(),
                        error: None,
                        stamp: stamp.clone(),
                    });
                    stamp
                }
                Ok(Err(e)) => {
                    return set_error(w, format!("the vulnerability DB cannot be opened: {e}"))
                        .await;
                }
                Err(e) => return set_error(w, format!("loading the vulnerability DB: {e}")).await,
            }
        }
    };
    if let Err(e) = rescan(s, w, &stamp).await {
        set_error(
            w,
            format!("re-scanning published releases: {}", error_chain(&e)),
        )
        .await;
    }
}

/// Scans every published release whose last scan was not against `stamp`.
async fn rescan(s: &AppState, w: &Watch, stamp: &str) -> DbResult<()> {
    let todo: Vec<(String, String)> = s
        .db
        .query(
            "SELECT r.project, r.version FROM releases r LEFT JOIN vuln_scans v ON v.project = r.project AND v.version = r.version WHERE r.published IS NOT NULL AND (v.stamp IS NULL OR v.stamp <> $1) ORDER BY r.project, r.version",
            vec![stamp.into()],
        )
        .await?;
    for (project, version) in todo {
        let sboms = release_sboms(s, &project, &version).await?;
        let db_path = w.path.clone();
        let result = tokio::task::spawn_blocking(move || scan_release(&db_path, &sboms))
            .await
            .unwrap_or_else(|e| Err(format!("the scan task failed: {e}")));
        store(s, &project, &version, stamp, result).await?;
    }
    Ok(())
}

/// A release's SBOM attachments: (`FILE/sbom/NAME`, its bytes read from the blob store — a
/// local file or an S3 object — or why they could not be read).
pub(crate) async fn release_sboms(
    s: &AppState,
    project: &str,
    version: &str,
) -> DbResult<Vec<(String, Result<Vec<u8>, String>)>> {
    let sboms: Vec<(String, String, String)> = s
        .db
        .query(
            "SELECT file, name, sha256 FROM attachments WHERE project = $1 AND version = $2 AND kind = 'sbom' ORDER BY file, name",
            vec![project.into(), version.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(sboms.len());
    for (file, name, sha) in sboms {
        let name = format!("{file}/sbom/{name}");
        let bytes = s
            .blobs
            .read(&sha)
            .await
            .map_err(|e| format!("{name}: blob sha256:{sha}: {e}"));
        out.push((name, bytes));
    }
    Ok(out)
}

/// Reads one stored SBOM (blocking: parsing) with relkit-sbom; errors name it.
pub(crate) fn read_sbom(
    name: &str,
    bytes: &Result<Vec<u8>, String>,
) -> Result<relkit_sbom::model::Document, String> {
    let bytes = bytes.as_ref().map_err(Clone::clone)?;
    let value = relkit_sbom::json::parse(bytes, name).map_err(|e| error_chain(&e))?;
    let (doc, _, _) = relkit_sbom::read(&value, name).map_err(|e| error_chain(&e))?;
    Ok(doc)
}

/// Scans a release's SBOMs (name, bytes) with the DB; findings deduplicated.
fn scan_release(
    db_path: &std::path::Path,
    sboms: &[(String, Result<Vec<u8>, String>)],
) -> Result<Vec<Found>, String> {
    if sboms.is_empty() {
        return Err("no SBOM is attached to this release: it cannot be monitored".into());
    }
    let db = relkit_vuln::Db::open(db_path).map_err(|e| error_chain(&e))?;
    let mut found: BTreeMap<(String, String, String), Found> = BTreeMap::new();
    for (name, bytes) in sboms {
        let doc = read_sbom(name, bytes)?;
        let report =
            relkit_vuln::scan::scan_document(&doc, name, &db, &relkit_vuln::ScanOptions::default())
                .map_err(|e| format!("scanning {name}: {}", error_chain(&e)))?;
        for f in report.findings {
            let installed = f.installed.clone().unwrap_or_default();
            found
                .entry((f.id.clone(), f.component.clone(), installed.clone()))
                .or_insert(Found {
                    advisory: f.id,
                    component: f.component,
                    installed,
                    severity: f.severity.as_str().to_string(),
                    aliases: f.aliases.join(" "),
                    summary: f.summary,
                    purl: f.purl,
                });
        }
    }
    Ok(found.into_values().collect())
}

/// A stored finding: advisory, component, installed, first seen, aliases, severity, summary.
type OldRow = (String, String, String, i64, String, String, Option<String>);

/// The advisories a release gained (affected) and lost (unaffected) between two scans.
fn changes(old: &[OldRow], new: &[Found]) -> Vec<crate::webhooks::Change> {
    use crate::webhooks::{Change, EventComponent};
    let mut before: BTreeMap<&str, Change> = BTreeMap::new();
    for (advisory, component, installed, _, aliases, severity, summary) in old {
        before
            .entry(advisory)
            .or_insert_with(|| Change {
                affected: false,
                advisory: advisory.clone(),
                aliases: aliases.clone(),
                severity: severity.clone(),
                summary: summary.clone(),
                components: Vec::new(),
            })
            .components
            .push(EventComponent {
                component: component.clone(),
                installed: installed.clone(),
            });
    }
    let mut after: BTreeMap<&str, Change> = BTreeMap::new();
    for f in new {
        after
            .entry(&f.advisory)
            .or_insert_with(|| Change {
                affected: true,
                advisory: f.advisory.clone(),
                aliases: f.aliases.clone(),
                severity: f.severity.clone(),
                summary: f.summary.clone(),
                components: Vec::new(),
            })
            .components
            .push(EventComponent {
                component: f.component.clone(),
                installed: f.installed.clone(),
            });
    }
    let mut out: Vec<Change> = after
        .iter()
        .filter(|(a, _)| !before.contains_key(*a))
        .map(|(_, c)| c.clone())
        .collect();
    out.extend(
        before
            .into_iter()
            .filter(|(a, _)| !after.contains_key(a))
            .map(|(_, c)| c),
    );
    out
}

/// Replaces a release's findings (keeping first-seen times), queues webhook events for the
/// advisories it gained or lost ([`crate::webhooks`]) and records the scan, in one
/// transaction. A failed scan keeps the previous findings and records the reason.
async fn store(
    s: &AppState,
    project: &str,
    version: &str,
    stamp: &str,
    result: Result<Vec<Found>, String>,
) -> DbResult<()> {
    let now = crate::now();
    let mut tx = s.db.begin().await?;
    let error = match result {
        Ok(found) => {
            // The release row is locked (PostgreSQL; SQLite has one writer), so that of two
            // replicas scanning it at once, the second sees the first one's findings as the
            // old ones and queues no webhook event twice.
            let _: Option<(Option<i64>,)> = tx
                .query_opt(
                    "SELECT published FROM releases WHERE project = $1 AND version = $2 FOR UPDATE",
                    vec![project.into(), version.into()],
                )
                .await?;
            let old: Vec<OldRow> = tx
                .query(
                    "SELECT advisory, component, installed, first_seen, aliases, severity, summary FROM vuln_findings WHERE project = $1 AND version = $2",
                    vec![project.into(), version.into()],
                )
                .await?;
            let changes = changes(&old, &found);
            let first: BTreeMap<(String, String, String), i64> = old
                .into_iter()
                .map(|(a, c, i, t, ..)| ((a, c, i), t))
                .collect();
            tx.execute(
                "DELETE FROM vuln_findings WHERE project = $1 AND version = $2",
                vec![project.into(), version.into()],
            )
            .await?;
            for f in found {
                let seen = first
                    .get(&(f.advisory.clone(), f.component.clone(), f.installed.clone()))
                    .copied()
                    .unwrap_or(now);
                tx.execute(
                    "INSERT INTO vuln_findings (project, version, advisory, component, installed, severity, aliases, summary, first_seen, purl) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    vec![
                        project.into(),
                        version.into(),
                        f.advisory.into(),
                        f.component.into(),
                        f.installed.into(),
                        f.severity.into(),
                        f.aliases.into(),
                        f.summary.into(),
                        Value::Int(seen),
                        f.purl.into(),
                    ],
                )
                .await?;
            }
            crate::webhooks::enqueue(&mut tx, project, version, &changes).await?;
            None
        }
        Err(e) => Some(e),
    };
    tx.execute(
        "INSERT INTO vuln_scans (project, version, stamp, scanned, error) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, version) DO UPDATE SET stamp = excluded.stamp, scanned = excluded.scanned, error = excluded.error",
        vec![
            project.into(),
            version.into(),
            stamp.into(),
            now.into(),
            error.into(),
        ],
    )
    .await?;
    tx.commit().await
}
