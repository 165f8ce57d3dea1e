//! `relkit verify`: check an artifact against its checksums, signature, Sigstore bundle,
//! provenance and a policy, offline, and say in words what was proven.
//!
//! JSON output (`--format json`) is the [`relkit_attest::verify::Report`] structure:
//! `{"artifact", "sha256", "checks": [{"check", "passed", "detail"}], "signer":
//! {"identity", "issuer", "integrated_time", "time_source": "log" | {"timestamp": TSA_URI},
//! "ct_log", "log_index", "log_url", "inclusion_proof", "checkpoint", "signed_entry_timestamp"}
//! | null, "provenance": {"build_type", "repository", "git_ref",
//! "workflow_path", "commit", "builder_id", "invocation_id"} | null, "passed"}`.
//! Exit code 0 when every check passed, 1 when any failed, 2 on usage/input errors.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_attest::checksum::{parse_sha256_hex, sha256};
use relkit_attest::policy::Policy;
use relkit_attest::sigstore::{Artifact, TrustedRoot};
use relkit_attest::verify::{Input, Inputs, VerifyKey, verify};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit verify`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit verify Python-3.12.5.tgz --bundle Python-3.12.5.tgz.sigstore --trusted-root trusted_root.json \\
      --policy policy.toml
  relkit verify dist/x.tgz --checksums SHA256SUMS --signature dist/x.tgz.minisig --key release.minisign.pub
  relkit verify dist/x.tgz --provenance provenance.dsse.json --key release.pub --policy policy.toml
  relkit verify sha256:38dc4e2c…d405 --bundle Python-3.12.5.tgz.sigstore --trusted-root trusted_root.json

policy.toml (unknown fields are an error):
  [provenance]
  repository = \"https://github.com/python/release-tools\"
  ref = \"refs/tags/v3.*\"
  workflow = \".github/workflows/build-release.yml\"
  builder_id = \"https://github.com/python/release-tools/*\"
  [signer]
  identity = \"thomas@python.org\"
  issuer = \"https://accounts.google.com\"")]
pub struct VerifyArgs {
    /// The artifact file, or `sha256:HEX` when only its digest is known.
    pub artifact: String,
    /// SHA256SUMS file that must list the artifact.
    #[arg(long)]
    pub checksums: Option<PathBuf>,
    /// Detached signature (raw/DER from `relkit sign`, or a .minisig).
    #[arg(long, requires = "key")]
    pub signature: Option<PathBuf>,
    /// Public key: SPKI PEM (ed25519 / P-256) or a minisign public key.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Sigstore bundle (keyless with --trusted-root, or key-based with --key).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Provenance: a DSSE envelope (with --key) or a Sigstore bundle holding one.
    #[arg(long)]
    pub provenance: Option<PathBuf>,
    /// Policy TOML the provenance and signer must satisfy.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Sigstore trusted_root.json for keyless bundles.
    #[arg(long)]
    pub trusted_root: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

fn read(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}

fn input<T>(p: &Path, content: T) -> Input<T> {
    Input {
        path: p.display().to_string(),
        content,
    }
}

/// Runs `relkit verify`.
pub fn run(a: VerifyArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let bytes;
    let (name, artifact) = match a.artifact.strip_prefix("sha256:") {
        Some(h) => {
            let d = parse_sha256_hex(h).with_context(|| {
                format!("{:?} is not sha256: followed by 64 hex digits", a.artifact)
            })?;
            (
                String::new(),
                Artifact {
                    sha256: d,
                    bytes: None,
                },
            )
        }
        None => {
            let p = Path::new(&a.artifact);
            bytes = std::fs::read(p)
                .with_context(|| format!("cannot read the artifact {}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                name,
                Artifact {
                    sha256: sha256(&bytes),
                    bytes: Some(&bytes),
                },
            )
        }
    };
    let key = match &a.key {
        Some(p) => Some(
            VerifyKey::parse(&read(p)?)
                .with_context(|| format!("cannot use the public key {}", p.display()))?,
        ),
        None => None,
    };
    let policy = match &a.policy {
        Some(p) => Some(input(
            p,
            Policy::parse(&read(p)?).with_context(|| format!("{}", p.display()))?,
        )),
        None => None,
    };
    let trusted_root = match &a.trusted_root {
        Some(p) => Some(input(
            p,
            TrustedRoot::parse(&read(p)?).with_context(|| format!("{}", p.display()))?,
        )),
        None => None,
    };
    let inputs = Inputs {
        name,
        artifact,
        checksums: a
            .checksums
            .as_deref()
            .map(|p| read(p).map(|c| input(p, c)))
            .transpose()?,
        signature: match &a.signature {
            Some(p) => Some(input(
                p,
                std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
            )),
            None => None,
        },
        key,
        bundle: a
            .bundle
            .as_deref()
            .map(|p| read(p).map(|c| input(p, c)))
            .transpose()?,
        provenance: a
            .provenance
            .as_deref()
            .map(|p| read(p).map(|c| input(p, c)))
            .transpose()?,
        policy,
        trusted_root,
    };
    let report = verify(&inputs)?;
    match a.report.format {
        OutputFormat::Json => print_json(&report)?,
        OutputFormat::Text => {
            let subject = if report.artifact.is_empty() {
                format!("sha256:{}", report.sha256)
            } else {
                format!("{} (sha256 {})", report.artifact, report.sha256)
            };
            for c in &report.checks {
                if c.passed {
                    if !ctx.quiet() {
                        println!("ok     {}: {}", c.check, c.detail);
                    }
                } else {
                    println!("FAILED {}: {}", c.check, c.detail);
                }
            }
            if !ctx.quiet() {
                if report.passed {
                    println!("VERIFIED {subject}");
                } else {
                    println!(
                        "NOT VERIFIED {subject}: {} of {} checks failed",
                        report.checks.iter().filter(|c| !c.passed).count(),
                        report.checks.len()
                    );
                }
            }
        }
    }
    Ok(if report.passed {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
