//! `relkit sign`: detached signatures (ed25519 raw 64 bytes; ECDSA P-256 ASN.1 DER over
//! SHA-256, as `openssl dgst -sha256 -sign` writes), minisign signatures, and Sigstore v0.3
//! key-based bundles.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_attest::Zeroizing;
use relkit_attest::minisign;
use relkit_attest::sign::{Signer, Style, default_trusted_comment, sign_file};

use crate::cmd::key::{read_passphrase, read_private_key};
use crate::output::{Context, Outcome};

/// Arguments of `relkit sign`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit sign Python-3.13.5.tgz --key release.key              # Python-3.13.5.tgz.sig
  relkit sign Python-3.13.5.tgz --key release.key --minisign   # .minisig (minisign -V compatible)
  relkit sign Python-3.13.5.tgz --key release.key --bundle     # .sigstore.json (Sigstore v0.3)

Signature files: ed25519 = raw 64-byte signature; P-256 = DER ECDSA over SHA-256
(verify with `openssl dgst -sha256 -verify release.pub -signature FILE.sig FILE`).")]
pub struct SignArgs {
    /// The file to sign.
    pub file: PathBuf,
    /// Private key: PKCS#8 PEM (from `relkit key generate`) or, with --minisign, a minisign secret key.
    #[arg(long)]
    pub key: PathBuf,
    /// Passphrase file for an encrypted key.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Write a minisign signature (FILE.minisig) instead of a raw one (ed25519 keys only).
    #[arg(long, conflicts_with = "bundle")]
    pub minisign: bool,
    /// minisign trusted comment (default: timestamp and file name, like minisign).
    #[arg(long, requires = "minisign")]
    pub trusted_comment: Option<String>,
    /// Write a Sigstore v0.3 bundle with a public-key hint (FILE.sigstore.json).
    #[arg(long)]
    pub bundle: bool,
    /// Output path (default: FILE.sig, FILE.minisig or FILE.sigstore.json).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// Runs `relkit sign`.
pub fn run(a: SignArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let signer = if a.minisign {
        minisign_signer(&a)?
    } else {
        let key = read_private_key(&a.key, a.passphrase_file.as_deref())?;
        let style = if a.bundle { Style::Bundle } else { Style::Raw };
        Signer::new(style, key, &a.key)?
    };
    let trusted_comment = a.minisign.then(|| {
        a.trusted_comment.clone().unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            format!("timestamp:{now}\t{}", default_trusted_comment(&a.file))
        })
    });
    if trusted_comment.as_deref().is_some_and(|c| c.contains('\n')) {
        anyhow::bail!("--trusted-comment must be a single line");
    }
    if let Signer::Minisign(sk) = &signer {
        ctx.info(format!(
            "minisign key id {}",
            minisign::key_id_hex(&sk.key_id)
        ));
    }
    let out_path = sign_file(
        &signer,
        &a.file,
        a.output.as_deref(),
        trusted_comment.as_deref(),
    )?;
    ctx.info(format!("wrote {}", out_path.display()));
    Ok(Outcome::Ok)
}

/// The minisign signer of `--key`: a minisign secret key as it is, or a PKCS#8 ed25519 key with
/// the key id of [`relkit_attest::sign::minisign_key_id`].
fn minisign_signer(a: &SignArgs) -> anyhow::Result<Signer> {
    let text = Zeroizing::new(
        std::fs::read_to_string(&a.key)
            .with_context(|| format!("cannot read the key file {}", a.key.display()))?,
    );
    if text.starts_with("untrusted comment:") {
        let pass = a
            .passphrase_file
            .as_deref()
            .map(read_passphrase)
            .transpose()?;
        let sk = minisign::SecretKey::parse(&text, pass.as_ref().map(|p| p.as_slice()))
            .with_context(|| format!("cannot use the minisign key {}", a.key.display()))?;
        return Ok(Signer::Minisign(sk));
    }
    let key = read_private_key(&a.key, a.passphrase_file.as_deref())?;
    Ok(Signer::new(Style::Minisign, key, &a.key)?)
}
