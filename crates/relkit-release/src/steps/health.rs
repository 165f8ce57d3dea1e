//! The health step: how critical and how looked-after the release's dependencies are.

use super::{Cx, StepError, StepOutput, fail, release_sbom, write_atomic};

/// `relkit health` on the release SBOM: every component's verdict in the report, the
/// critical-languishing and transition ones (and those without data) named in the notes.
pub(super) fn health(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let settings = cx
        .plan
        .health
        .as_ref()
        .expect("the step runs only with [health]");
    let policy = match &settings.policy {
        Some(p) => {
            let path = cx.repo.join(p);
            let text = std::fs::read_to_string(&path)
                .map_err(fail(format!("[health] policy {}", path.display())))?;
            relkit_health::Policy::parse(&text, &path.display().to_string())
                .map_err(fail("[health] policy"))?
        }
        None => relkit_health::Policy::default(),
    };
    let packages = settings
        .debian_packages
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((suite, file)) if !suite.is_empty() && !suite.contains('/') => {
                (suite.to_string(), cx.repo.join(file))
            }
            _ => {
                let path = cx.repo.join(spec);
                (relkit_health::report::suite_from_file_name(&path), path)
            }
        })
        .collect();
    let inputs = relkit_health::Inputs {
        sbom: release_sbom(cx)?,
        repos: settings.repos.as_ref().map(|r| cx.repo.join(r)),
        packages,
        maps: Vec::new(),
        policy,
        as_of: None,
        timeline: false,
        roots: relkit_health::debian::DEFAULT_ROOTS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cache: relkit_vuln::sample::cache_dir().join("health"),
    };
    let report = relkit_health::assess(&inputs, &|_| {}).map_err(fail("relkit health"))?;
    let report_path = cx.report_path("health");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&report).expect("report serializes"),
    )?;
    let summary: Vec<String> = report
        .summary
        .iter()
        .map(|(verdict, n)| format!("{n} {verdict}"))
        .collect();
    let mut notes = vec![format!(
        "{} components as of {}: {}; report {}",
        report.components.len(),
        report.as_of,
        summary.join(", "),
        report_path.display()
    )];
    use relkit_health::Verdict;
    for c in &report.components {
        let what = match c.verdict {
            Verdict::CriticalLanguishing | Verdict::Transition => c.reasons.join("; "),
            Verdict::NoData => format!("no data: {}", c.missing.join("; ")),
            _ => continue,
        };
        notes.push(format!(
            "warning: {} is {}: {what}",
            c.name,
            c.verdict.name()
        ));
    }
    if settings.fail_on_findings && report.has_findings() {
        return Err(StepError::Failed(
            format!(
                "components are critical-languishing or in transition (see {}): {}",
                report_path.display(),
                notes[1..].join("; ")
            ),
            None,
        ));
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}
