//! The attest step: signed SLSA provenance over the release's files.

use std::path::PathBuf;

use relkit_attest::checksum::sha256_file;
use relkit_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use relkit_attest::intoto::{BuildInfo, Subject, now_rfc3339, provenance_statement};
use relkit_attest::sigstore::Bundle;

use super::sign::release_files;
use super::{Cx, StepError, StepOutput, fail, file_name, write_atomic};

pub(super) fn provenance_path(cx: &Cx<'_>) -> PathBuf {
    cx.dist.join(format!(
        "{}-{}.provenance.sigstore.json",
        cx.name, cx.version
    ))
}

pub(super) fn attest(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let key = cx.signing_key()?;
    let mut subjects = Vec::new();
    for file in release_files(cx) {
        let digest = sha256_file(&file).map_err(fail(file.display()))?;
        subjects.push(Subject::sha256(&file_name(&file), &digest));
    }
    let mut info = BuildInfo::from_github_env(|k| std::env::var(k).ok()).unwrap_or_default();
    let settings = &cx.plan.attest;
    if let Some(r) = &settings.repository {
        info.repository = r.clone();
    }
    if info.repository.is_empty() {
        let abs = std::fs::canonicalize(cx.repo).unwrap_or_else(|_| cx.repo.to_path_buf());
        info.repository = format!("file://{}", abs.display());
    }
    if let Some(b) = &settings.builder_id {
        info.builder_id = b.clone();
    }
    if info.builder_id.is_empty() {
        info.builder_id = "https://relkit.dev/release-run/local".into();
    }
    if info.git_ref.is_empty() {
        info.git_ref = cx
            .tag_ref
            .map(str::to_string)
            .unwrap_or_else(|| cx.rev.to_string());
    }
    info.commit = cx.commit.to_string();
    if info.started_on.is_empty() {
        info.started_on = cx
            .state
            .steps
            .get("verify-input")
            .map(|r| r.started.clone())
            .unwrap_or_else(now_rfc3339);
    }
    info.finished_on = now_rfc3339();
    let statement = provenance_statement(subjects, &info);
    let payload = serde_json::to_vec(&statement).expect("statement serializes");
    let envelope = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &payload);
    let path = provenance_path(cx);
    let mut bytes = Bundle::from_envelope(&key.public(), envelope)
        .to_json()
        .into_bytes();
    bytes.push(b'\n');
    write_atomic(&path, &bytes)?;
    Ok(StepOutput {
        notes: vec![format!(
            "SLSA provenance for {} subject(s): {} at {}",
            statement.subject.len(),
            info.git_ref,
            info.commit
        )],
        outputs: vec![path],
        ..StepOutput::default()
    })
}
