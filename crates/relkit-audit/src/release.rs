//! The audit a release pipeline runs on its own output before publishing: the tarball relkit
//! built must be fully explained by the tag plus the configured prepare steps. The prepare
//! steps are re-run in a scratch copy of the tag (as `--regenerate`), and every member must
//! be identical to the tag, left out of the tarball, or reproduced by the prepare steps
//! (byte for byte, or but for volatile lines).

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::regenerate::RegenStatus;
use crate::tarball::{AuditOptions, Class, CorpusSpec, Reference, Severity, TarballReport};

/// The verdict of [`audit_release`].
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseAudit {
    /// The full classified report (serde form: see [`crate::tarball`]).
    pub report: TarballReport,
    /// Members of severity `critical`.
    pub critical: usize,
    /// Members of severity `warning`.
    pub warnings: usize,
    /// Members neither identical to the tag, nor left out, nor reproduced by the prepare
    /// steps: `path: why`, sorted by path.
    pub unexplained: Vec<String>,
}

impl ReleaseAudit {
    /// Whether the release may be published: nothing critical and every member explained
    /// by the tag plus the prepare steps.
    pub fn fully_explained(&self) -> bool {
        self.critical == 0 && self.unexplained.is_empty()
    }
}

/// Audits `tarball`, built by relkit from `reference` with the `prepare` shell commands
/// (run in order with `sh -c` in the export, with `env` set, as relkit's build runs them),
/// against the tag re-prepared in a scratch directory. `corpus` is usually
/// `CorpusSpec::default()` (the shipped corpus).
pub fn audit_release(
    tarball: &Path,
    reference: &Reference,
    prepare: &[String],
    env: &[(String, String)],
    corpus: &CorpusSpec,
) -> Result<ReleaseAudit> {
    let opts = AuditOptions {
        regenerate: (!prepare.is_empty()).then(|| {
            prepare
                .iter()
                .map(|c| format!("( {c} )"))
                .collect::<Vec<_>>()
                .join(" && ")
        }),
        env: env.to_vec(),
        // The prepare steps are what explains the release's generated files.
        auto_regenerate: false,
    };
    let report = crate::tarball::audit_tarball_with(tarball, reference, corpus, &opts)?;
    let count = |s: Severity| report.severities.get(&s).copied().unwrap_or(0);
    let unexplained = report
        .members
        .iter()
        .filter(|m| {
            let reproduced = m.regenerated.as_ref().is_some_and(|r| {
                matches!(r.status, RegenStatus::Identical | RegenStatus::VolatileOnly)
            });
            !matches!(m.class, Class::Same | Class::OnlyInReference) && !reproduced
        })
        .map(|m| {
            let why = m
                .regenerated
                .as_ref()
                .and_then(|r| r.explanation.clone())
                .map_or_else(
                    || m.detail.clone(),
                    |e| format!("{}; prepare steps: {e}", m.detail),
                );
            format!("{}: {why}", m.path)
        })
        .collect();
    Ok(ReleaseAudit {
        critical: count(Severity::Critical),
        warnings: count(Severity::Warning),
        unexplained,
        report,
    })
}
