//! The scan step: the release SBOM scanned against a real, fresh vulnerability DB, and the
//! declared versions of vendored packages checked against the bytes.

use super::{
    Cx, StepError, StepOutput, fail, file_name, release_sbom, severity_threshold, write_atomic,
};

/// The DB the scan step may use: `[scan] db` (a path, or `"sample"` for the bundled demo DB),
/// else the user's imported DB; never the sample without being asked, never a DB older than
/// `[scan] max-age` (the rules are relkit-vuln's, shared with `relkit scan`).
fn db_choice(cx: &Cx<'_>) -> relkit_vuln::DbChoice {
    match cx.plan.scan.db.as_deref() {
        Some("sample") => relkit_vuln::DbChoice::Sample,
        Some(p) => relkit_vuln::DbChoice::Path(cx.repo.join(p)),
        None => relkit_vuln::DbChoice::Imported,
    }
}

/// A scan that could not run: a refused DB is the step's own failure (the message says what
/// to do); anything else keeps its cause.
fn scan_failed(e: relkit_vuln::ScanError) -> StepError {
    use relkit_vuln::{ScanError, choose::ChooseError};
    match e {
        ScanError::Choose(
            e @ (ChooseError::NoImportedDb(_)
            | ChooseError::SampleNotChosen(_)
            | ChooseError::Stale { .. }),
        ) => StepError::Failed(e.to_string(), None),
        ScanError::Choose(ChooseError::Sample(e)) => StepError::caused("the bundled sample DB", e),
        ScanError::Choose(ChooseError::Open { path, source }) => {
            StepError::caused(format!("opening {}", path.display()), source)
        }
        ScanError::Choose(ChooseError::Age { path, source }) => {
            StepError::caused(format!("reading the age of {}", path.display()), source)
        }
        ScanError::Scan { path, source } => {
            StepError::caused(format!("scanning with {}", path.display()), source)
        }
    }
}

pub(super) fn scan(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let sbom_path = release_sbom(cx)?;
    let (doc, _, _) = relkit_sbom::read_file(&sbom_path)
        .map_err(fail(format!("reading {}", sbom_path.display())))?;
    let gate =
        relkit_vuln::Gate::parse(&cx.plan.scan.max_age).expect("validated when the plan was read");
    let (report, chosen) = relkit_vuln::scan_sbom(
        &doc,
        &file_name(&sbom_path),
        &db_choice(cx),
        Some(&gate),
        &relkit_vuln::ScanOptions::default(),
    )
    .map_err(scan_failed)?;
    let (db, db_note) = (chosen.path, chosen.note);
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
