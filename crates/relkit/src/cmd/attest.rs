//! `relkit attest`: DSSE envelopes holding in-toto Statement v1 with SLSA provenance v1
//! (from GitHub Actions environment variables when present, else from flags), or an SBOM
//! attestation binding an SPDX / CycloneDX document to the artifacts.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_attest::checksum::sha256_file;
use relkit_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use relkit_attest::intoto::{
    BuildInfo, Subject, check_rfc3339, now_rfc3339, provenance_statement, sbom_statement,
};
use relkit_attest::sigstore::Bundle;

use crate::cmd::key::read_private_key;
use crate::output::{Context, Outcome};

/// Arguments of `relkit attest`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  # in GitHub Actions: repository, ref, commit, workflow, builder and run id come from GITHUB_*
  relkit attest dist/*.tar.gz --key release.key -o provenance.dsse.json
  # elsewhere, say it explicitly
  relkit attest dist/x.tgz --key release.key --repository https://github.com/o/r \\
      --ref refs/tags/v1.0 --commit 0123abcd... --workflow .github/workflows/release.yml \\
      --builder-id https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0
  relkit attest dist/x.tgz --key release.key --sbom x.spdx.json -o sbom.dsse.json")]
pub struct AttestArgs {
    /// Artifacts to attest (the statement's subjects: file name + SHA-256).
    #[arg(required = true)]
    pub artifacts: Vec<PathBuf>,
    /// Signing key (PKCS#8 PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// Passphrase file for an encrypted key.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Attest this SBOM (SPDX or CycloneDX JSON) instead of build provenance.
    #[arg(long)]
    pub sbom: Option<PathBuf>,
    /// Source repository URL (overrides GITHUB_SERVER_URL/GITHUB_REPOSITORY).
    #[arg(long)]
    pub repository: Option<String>,
    /// Git ref built (overrides GITHUB_REF).
    #[arg(long = "ref")]
    pub git_ref: Option<String>,
    /// Commit SHA built (overrides GITHUB_SHA).
    #[arg(long)]
    pub commit: Option<String>,
    /// Workflow path in the repository (overrides GITHUB_WORKFLOW_REF).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Builder id URI.
    #[arg(long)]
    pub builder_id: Option<String>,
    /// Invocation id (overrides the GitHub run URL).
    #[arg(long)]
    pub invocation_id: Option<String>,
    /// Build start time, RFC 3339.
    #[arg(long)]
    pub started_on: Option<String>,
    /// Build finish time, RFC 3339 (default: now).
    #[arg(long)]
    pub finished_on: Option<String>,
    /// Wrap the envelope in a Sigstore v0.3 key-based bundle.
    #[arg(long)]
    pub bundle: bool,
    /// Output file (default: provenance.dsse.json, or sbom.dsse.json with --sbom).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Build information from the environment and the flags (flags win).
fn build_info(a: &AttestArgs) -> anyhow::Result<BuildInfo> {
    let mut b = BuildInfo::from_github_env(|k| std::env::var(k).ok()).unwrap_or_default();
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *field = v.clone();
        }
    };
    set(&mut b.repository, &a.repository);
    set(&mut b.git_ref, &a.git_ref);
    set(&mut b.commit, &a.commit);
    set(&mut b.workflow_path, &a.workflow);
    set(&mut b.builder_id, &a.builder_id);
    set(&mut b.invocation_id, &a.invocation_id);
    set(&mut b.started_on, &a.started_on);
    b.finished_on = match &a.finished_on {
        Some(v) => v.clone(),
        None => now_rfc3339(),
    };
    for (flag, v) in [
        ("--started-on", &b.started_on),
        ("--finished-on", &b.finished_on),
    ] {
        if !v.is_empty() {
            check_rfc3339(flag, v)?;
        }
    }
    let missing: Vec<&str> = [
        ("--repository", &b.repository),
        ("--ref", &b.git_ref),
        ("--commit", &b.commit),
        ("--builder-id", &b.builder_id),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_empty())
    .map(|(f, _)| f)
    .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "not running in GitHub Actions and no {} given: provenance must say where the artifacts came from",
            missing.join(", ")
        );
    }
    Ok(b)
}

/// Runs `relkit attest`.
pub fn run(a: AttestArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let key = read_private_key(&a.key, a.passphrase_file.as_deref())?;
    let mut subjects = Vec::new();
    for p in &a.artifacts {
        let d = sha256_file(p).with_context(|| format!("cannot read {}", p.display()))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        subjects.push(Subject::sha256(&name, &d));
    }
    let (statement, default_out) = match &a.sbom {
        Some(path) => {
            let text =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let doc: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let st =
                sbom_statement(subjects, doc).with_context(|| format!("{}", path.display()))?;
            (st, "sbom.dsse.json")
        }
        None => (
            provenance_statement(subjects, &build_info(&a)?),
            "provenance.dsse.json",
        ),
    };
    let payload = serde_json::to_vec(&statement)?;
    let envelope = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &payload);
    let out = a
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(default_out));
    let text = if a.bundle {
        Bundle::from_envelope(&key.public(), envelope).to_json()
    } else {
        serde_json::to_string_pretty(&envelope)?
    };
    std::fs::write(&out, text + "\n").with_context(|| format!("cannot write {}", out.display()))?;
    ctx.info(format!(
        "wrote {} ({} for {} subject(s), signed by {} key {})",
        out.display(),
        statement.predicate_type,
        statement.subject.len(),
        key.kind().name(),
        key.public().key_id()
    ));
    Ok(Outcome::Ok)
}
