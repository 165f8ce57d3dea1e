//! The scan step: the release SBOM scanned against a real, fresh vulnerability DB, and the
//! declared versions of vendored packages checked against the bytes.

use std::path::PathBuf;

use super::{
    Cx, StepError, StepOutput, fail, file_name, release_sbom, severity_threshold, write_atomic,
};

/// The DB the scan step may use, and a note saying which and how old: `[scan] db` (a path, or
/// `"sample"` for the bundled demo DB), else the user's imported DB; never the sample without
/// being asked, never a DB older than `[scan] max-age`.
pub(super) fn scan_db(cx: &Cx<'_>) -> Result<(PathBuf, String), StepError> {
    let refuse = |msg: String| StepError::Failed(msg, None);
    let path = match cx.plan.scan.db.as_deref() {
        Some("sample") => {
            let path = relkit_vuln::sample::sample_db().map_err(fail("the bundled sample DB"))?;
            return Ok((
                path,
                "warning: scanned against relkit's bundled sample DB (demo data, as [scan] db = \"sample\" asks): this is no vulnerability gate".into(),
            ));
        }
        Some(p) => cx.repo.join(p),
        None => {
            let user = relkit_vuln::sample::default_db_path();
            if !user.exists() {
                return Err(refuse(format!(
                    "no vulnerability DB: {} does not exist; run `relkit db update` (or `relkit db import FILES`), or set [scan] db = PATH in the plan ([scan] db = \"sample\" scans against demo data only)",
                    user.display()
                )));
            }
            user
        }
    };
    let db = relkit_vuln::Db::open(&path).map_err(fail(format!("opening {}", path.display())))?;
    let fresh = db
        .freshness()
        .map_err(fail(format!("reading the age of {}", path.display())))?;
    if fresh.sample {
        return Err(refuse(format!(
            "{} is relkit's bundled sample DB (demo data); use a real DB, or write [scan] db = \"sample\" to scan against demo data on purpose",
            path.display()
        )));
    }
    let max_age = relkit_vuln::freshness::parse_max_age(&cx.plan.scan.max_age)
        .expect("validated when the plan was read");
    fresh
        .check(max_age, time::OffsetDateTime::now_utc())
        .map_err(|why| {
            refuse(format!(
                "{}: {why}; or raise [scan] max-age",
                path.display()
            ))
        })?;
    Ok((
        path,
        format!(
            "DB imported {}, newest record {} (max age {})",
            fresh.last_import.as_deref().unwrap_or("?"),
            fresh.newest_record.as_deref().unwrap_or("?"),
            cx.plan.scan.max_age
        ),
    ))
}

pub(super) fn scan(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let sbom_path = release_sbom(cx)?;
    let (doc, _, _) = relkit_sbom::read_file(&sbom_path)
        .map_err(fail(format!("reading {}", sbom_path.display())))?;
    let (db, db_note) = scan_db(cx)?;
    let report = relkit_vuln::scan_with_db(
        &doc,
        &file_name(&sbom_path),
        &db,
        &relkit_vuln::ScanOptions::default(),
    )
    .map_err(fail(format!("scanning with {}", db.display())))?;
    let report_path = cx.report_path("scan");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&report).expect("report serializes"),
    )?;
    let mut notes = vec![format!(
        "{} components, {} finding(s) with {}; report {}",
        report.components,
        report.findings.len(),
        db.display(),
        report_path.display()
    )];
    notes.push(db_note);
    for f in &report.findings {
        notes.push(format!(
            "{} in {} {} ({})",
            f.id,
            f.component,
            f.installed.as_deref().unwrap_or("?"),
            format!("{:?}", f.severity).to_lowercase()
        ));
    }
    // The declared versions of vendored packages, proven against the bytes of the archive.
    let archive = cx.source_archive(None)?;
    let source_sbom = cx.dist.join(format!("{}.spdx.json", file_name(&archive)));
    {
        let (source_doc, _, _) = relkit_sbom::read_file(&source_sbom).map_err(fail(format!(
            "reading the source SBOM {} to check the declared versions of vendored packages",
            source_sbom.display()
        )))?;
        let truth = relkit_truth::verify(&source_doc, &archive).map_err(fail(format!(
            "checking declared versions in {}",
            archive.display()
        )))?;
        for p in truth
            .packages
            .iter()
            .filter(|p| p.verdict == relkit_truth::Verdict::Contradicted)
        {
            notes.push(format!(
                "warning: {} is declared as {} but its files say {}",
                p.name,
                p.declared_version.as_deref().unwrap_or("?"),
                p.found_version.as_deref().unwrap_or("?")
            ));
        }
    }
    let threshold = severity_threshold(&cx.plan.scan.fail_on).expect("validated with the plan");
    if let Some(level) = threshold {
        let stopping: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity >= level)
            .map(|f| {
                format!(
                    "{} ({} {})",
                    f.id,
                    f.component,
                    f.installed.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if !stopping.is_empty() {
            return Err(StepError::Failed(
                format!(
                    "{} finding(s) at or above {}: {}; fix them, or set [scan] fail-on; report {}",
                    stopping.len(),
                    cx.plan.scan.fail_on,
                    stopping.join(", "),
                    report_path.display()
                ),
                None,
            ));
        }
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}
