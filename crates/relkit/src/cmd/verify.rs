//! `relkit verify`: check an artifact against its checksums, signature, Sigstore bundle,
//! provenance and a policy, offline, and say in words what was proven.
//!
//! JSON output (`--format json`) is the [`relkit_attest::verify::Report`] structure; the
//! field list is at the end of `AFTER_HELP` (shown by `relkit verify --help`).
//! Exit code 0 when every check passed, 1 when any failed, 2 on usage/input errors
//! (including a keyless bundle without an expected signer and without `--any-signer`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_attest::checksum::{parse_sha256_hex, sha256};
use relkit_attest::policy::{ExpectedSigner, Policy};
use relkit_attest::sigstore::{Artifact, Bundle, CheckState, TrustedRoot};
use relkit_attest::verify::{
    Input, Inputs, NO_SIGNER, VerifyKey, VerifyOptions, is_key_based, verify_with,
};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit verify`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
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
    /// Sigstore bundle: keyless (with an expected signer), or key-based (with --key).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Provenance: a DSSE envelope (with --key) or a Sigstore bundle holding one.
    #[arg(long)]
    pub provenance: Option<PathBuf>,
    /// Policy TOML the provenance and signer must satisfy.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Sigstore trusted_root.json (default: the public-good production root shipped with
    /// relkit; --staging: the staging root).
    #[arg(long)]
    pub trusted_root: Option<PathBuf>,
    /// Use the shipped Sigstore staging trusted root (ignored with --trusted-root).
    #[arg(long)]
    pub staging: bool,
    /// Expected signer identity of a keyless bundle: exactly one of the certificate's SANs
    /// (e-mail or URI).
    #[arg(
        long,
        value_name = "IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// Expected signer identity as a regular expression (anchored: it must match a whole SAN).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// Expected OIDC issuer of a keyless bundle's certificate (exact).
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// Expected OIDC issuer as a regular expression (anchored).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Accept a keyless bundle from ANY signer (prints a warning): everything else is still
    /// verified, but anyone can get a valid certificate for their own identity.
    #[arg(long)]
    pub any_signer: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The verify command's help epilogue: examples, policy file, JSON fields.
const AFTER_HELP: &str = concat!(
    "Examples:
  relkit verify Python-3.12.5.tgz --bundle Python-3.12.5.tgz.sigstore \\
      --certificate-identity thomas@python.org --certificate-oidc-issuer https://accounts.google.com
  relkit verify sha256:38dc4e2c…d405 --bundle Python-3.12.5.tgz.sigstore --policy policy.toml
  relkit verify dist/x.tgz --checksums SHA256SUMS --signature dist/x.tgz.minisig --key release.minisign.pub
  relkit verify dist/x.tgz --provenance provenance.dsse.json --key release.pub --policy policy.toml

Keyless Sigstore bundles need an expected signer (--certificate-identity[-regexp] and
--certificate-oidc-issuer[-regexp], or a policy's [signer]); without one relkit exits 2.
--any-signer verifies everything else and warns. The trusted root defaults to the Sigstore
public-good production root shipped with relkit (sigstore-python 4.5.1's copy).

policy.toml (unknown fields are an error):
  [provenance]
  repository = \"https://github.com/python/release-tools\"
  ref = \"refs/tags/v3.*\"
  workflow = \".github/workflows/build-release.yml\"
  builder_id = \"https://github.com/python/release-tools/*\"
  [signer]
  identity = \"thomas@python.org\"          # glob; or identity_regexp = \"...\"
  issuer = \"https://accounts.google.com\"  # exact; or issuer_regexp = \"...\"

",
    "JSON (--format json): {\"artifact\", \"sha256\", \"checks\": [{\"check\", \"passed\", \"detail\"}],
  \"signer\": {\"identity\", \"identities\", \"issuer\", \"identity_check\", \"checks\",
    \"integrated_time\", \"time_source\": \"log\" | {\"timestamp\": TSA_URI}, \"ct_log\",
    \"log_index\", \"log_url\", \"inclusion_proof\", \"checkpoint\", \"signed_entry_timestamp\"} | null,
  \"bundle_checks\": {\"certificate_chain\", \"sct\", \"inclusion_proof\", \"checkpoint\",
    \"signed_entry_timestamp\", \"rfc3161_timestamp\", \"artifact_digest\", \"identity\"} | null,
    each \"verified\" | \"absent\" | \"not_checked\",
  \"provenance\": {\"build_type\", \"repository\", \"git_ref\", \"workflow_path\", \"commit\",
    \"builder_id\", \"invocation_id\"} | null, \"passed\"}"
);

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
    let digest = a
        .artifact
        .strip_prefix("sha256:")
        .filter(|_| !Path::new(&a.artifact).exists());
    let (name, artifact) = match digest {
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
    let trusted_root = Some(match &a.trusted_root {
        Some(p) => input(
            p,
            TrustedRoot::parse(&read(p)?).with_context(|| format!("{}", p.display()))?,
        ),
        None if a.staging => Input {
            path: "relkit's shipped Sigstore staging root".into(),
            content: TrustedRoot::staging(),
        },
        None => Input {
            path: "relkit's shipped Sigstore production root".into(),
            content: TrustedRoot::production(),
        },
    });
    let opts = signer_options(&a, policy.as_ref().map(|p| &p.content))?;
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
    check_signer_given(&inputs, &opts)?;
    let report = verify_with(&inputs, &opts)?;
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
            if let Some(checks) = &report.bundle_checks
                && !ctx.quiet()
            {
                for (name, state) in checks.pairs() {
                    let state = match state {
                        CheckState::Verified => "verified",
                        CheckState::Absent => "absent",
                        CheckState::NotChecked => "NOT CHECKED",
                    };
                    println!("         bundle {name}: {state}");
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

/// The expected signer from the flags, `--any-signer`, and the warning it deserves.
fn signer_options(a: &VerifyArgs, policy: Option<&Policy>) -> anyhow::Result<VerifyOptions> {
    let any_flag = a.certificate_identity.is_some()
        || a.certificate_identity_regexp.is_some()
        || a.certificate_oidc_issuer.is_some()
        || a.certificate_oidc_issuer_regexp.is_some();
    let signer = if any_flag {
        Some(ExpectedSigner::from_flags(
            a.certificate_identity.as_deref(),
            a.certificate_identity_regexp.as_deref(),
            a.certificate_oidc_issuer.as_deref(),
            a.certificate_oidc_issuer_regexp.as_deref(),
        )?)
    } else {
        None
    };
    let has_signer = signer.is_some() || policy.is_some_and(|p| p.signer.is_some());
    if a.any_signer && has_signer {
        anyhow::bail!(
            "--any-signer contradicts the expected signer given (--certificate-* or the policy's [signer]): drop one"
        );
    }
    Ok(VerifyOptions {
        signer,
        any_signer: a.any_signer,
    })
}

/// A keyless bundle (or keyless provenance bundle) without an expected signer is a usage
/// error; with `--any-signer` it is verified after a loud warning.
fn check_signer_given(inputs: &Inputs<'_>, opts: &VerifyOptions) -> anyhow::Result<()> {
    let has_signer = opts.signer.is_some()
        || inputs
            .policy
            .as_ref()
            .is_some_and(|p| p.content.signer.is_some());
    if has_signer {
        return Ok(());
    }
    let keyless = inputs
        .bundle
        .iter()
        .chain(
            inputs
                .provenance
                .iter()
                .filter(|p| p.content.contains("\"mediaType\"")),
        )
        .any(|b| Bundle::parse(&b.content).is_ok() && !is_key_based(&b.content));
    if !keyless {
        return Ok(());
    }
    if opts.any_signer {
        eprintln!(
            "WARNING: --any-signer: the keyless Sigstore signature is accepted from ANY signer. \
             Anyone can get a valid certificate for their own identity; this proves only that \
             someone signed. Pass --certificate-identity and --certificate-oidc-issuer to know who."
        );
        return Ok(());
    }
    anyhow::bail!("{NO_SIGNER}")
}
