//! `relkit sign`: detached signatures (ed25519 raw 64 bytes; ECDSA P-256 ASN.1 DER over
//! SHA-256, as `openssl dgst -sha256 -sign` writes), minisign signatures, and Sigstore v0.3
//! key-based bundles.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_attest::Zeroizing;
use relkit_attest::keys::PrivateKey;
use relkit_attest::minisign;
use relkit_attest::sigstore::Bundle;

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

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// The minisign key id to use with a PKCS#8 ed25519 key: from a sibling NAME.minisign.pub
/// holding the same key (as `key import-minisign` writes), else derived from the key.
fn minisign_key_id(key_path: &Path, derived: &minisign::PublicKey) -> [u8; 8] {
    let sibling = key_path.with_extension("minisign.pub");
    if let Ok(text) = std::fs::read_to_string(sibling)
        && let Ok(pk) = minisign::PublicKey::parse(&text)
        && pk.key == derived.key
    {
        return pk.key_id;
    }
    derived.key_id
}

/// Runs `relkit sign`.
pub fn run(a: SignArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let data =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let (out_path, content) = if a.minisign {
        let text = Zeroizing::new(
            std::fs::read_to_string(&a.key)
                .with_context(|| format!("cannot read the key file {}", a.key.display()))?,
        );
        let (sk, key_id) = if text.starts_with("untrusted comment:") {
            let pass = a
                .passphrase_file
                .as_deref()
                .map(read_passphrase)
                .transpose()?;
            let sk = minisign::SecretKey::parse(&text, pass.as_ref().map(|p| p.as_slice()))
                .with_context(|| format!("cannot use the minisign key {}", a.key.display()))?;
            (sk.key, sk.key_id)
        } else {
            match read_private_key(&a.key, a.passphrase_file.as_deref())? {
                PrivateKey::Ed25519(k) => {
                    let vk = k.verifying_key();
                    let derived = minisign::PublicKey {
                        key_id: minisign::derived_key_id(&vk),
                        key: vk,
                    };
                    let id = minisign_key_id(&a.key, &derived);
                    (k, id)
                }
                PrivateKey::P256(_) => anyhow::bail!(
                    "{}: minisign signatures need an ed25519 key, this is a P-256 key",
                    a.key.display()
                ),
            }
        };
        let name = a
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let tc = a
            .trusted_comment
            .clone()
            .unwrap_or_else(|| format!("timestamp:{now}\tfile:{name}\thashed"));
        if tc.contains('\n') {
            anyhow::bail!("--trusted-comment must be a single line");
        }
        let sig = minisign::sign(&sk, &key_id, &data, &tc);
        ctx.info(format!("minisign key id {}", minisign::key_id_hex(&key_id)));
        (
            a.output
                .clone()
                .unwrap_or_else(|| with_ext(&a.file, ".minisig")),
            sig.into_bytes(),
        )
    } else {
        let key = read_private_key(&a.key, a.passphrase_file.as_deref())?;
        if a.bundle {
            let b = Bundle::sign_message(&key, &data);
            (
                a.output
                    .clone()
                    .unwrap_or_else(|| with_ext(&a.file, ".sigstore.json")),
                b.to_json().into_bytes(),
            )
        } else {
            (
                a.output
                    .clone()
                    .unwrap_or_else(|| with_ext(&a.file, ".sig")),
                key.sign(&data),
            )
        }
    };
    std::fs::write(&out_path, content)
        .with_context(|| format!("cannot write {}", out_path.display()))?;
    ctx.info(format!("wrote {}", out_path.display()));
    Ok(Outcome::Ok)
}
