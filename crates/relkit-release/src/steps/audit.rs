//! The audit step: the built tarball audited against the tag.

use relkit_source::Format;

use super::{Cx, StepError, StepOutput, extension, fail, file_name, write_atomic};

pub(super) fn audit(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let archives = cx.source_archives();
    let tarball = archives
        .iter()
        .find(|p| {
            matches!(
                Format::parse(&extension(p)),
                Some(Format::TarGz | Format::TarXz | Format::Tar)
            )
        })
        .cloned()
        .ok_or_else(|| StepError::Failed("no tar source archive to audit".into(), None))?;
    let reference = relkit_audit::Reference::Git {
        repo: cx.repo.to_path_buf(),
        rev: cx.commit.to_string(),
    };
    // The tarball relkit built must be fully explained by the tag plus the prepare steps
    // (re-run on a fresh export, with the build's environment), and nothing in it may be
    // critical (e.g. a vendored macro that differs from every known upstream copy).
    let env = [
        ("SOURCE_DATE_EPOCH", cx.commit_time.to_string()),
        ("TZ", "UTC".to_string()),
        ("LC_ALL", "C.UTF-8".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let audit = relkit_audit::audit_release(
        &tarball,
        &reference,
        &cx.plan.source.prepare,
        &env,
        &Default::default(),
    )
    .map_err(fail(format!("auditing {}", tarball.display())))?;
    let report_path = cx.report_path("audit");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&audit).expect("report serializes"),
    )?;
    let counts: Vec<String> = audit
        .report
        .severities
        .iter()
        .map(|(s, n)| format!("{n} {s:?}").to_lowercase())
        .collect();
    if !audit.fully_explained() {
        let shown: Vec<&str> = audit
            .unexplained
            .iter()
            .take(10)
            .map(String::as_str)
            .collect();
        return Err(StepError::Failed(
            format!(
                "{} is not fully explained by {} plus the [source] prepare steps ({} critical; {} unexplained: {}{}); see {}",
                file_name(&tarball),
                cx.rev,
                audit.critical,
                audit.unexplained.len(),
                shown.join("; "),
                if audit.unexplained.len() > shown.len() {
                    "; …"
                } else {
                    ""
                },
                report_path.display()
            ),
            None,
        ));
    }
    Ok(StepOutput {
        notes: vec![format!(
            "{} against {}: {}",
            file_name(&tarball),
            cx.rev,
            counts.join(", ")
        )],
        ..StepOutput::default()
    })
}
