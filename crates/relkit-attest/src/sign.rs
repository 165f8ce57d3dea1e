//! Signing a file, the one use case behind `relkit sign` and the release pipeline's sign step:
//! the style (raw detached signature, minisign, Sigstore bundle), the signature file's name,
//! and the minisign key-id rule (an imported minisign key keeps its own id).

use std::path::{Path, PathBuf};

use crate::keys::{PrivateKey, PublicKey};
use crate::minisign;
use crate::sigstore::Bundle;
use crate::verify::VerifyKey;

/// How a file is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A detached signature: ed25519 raw 64 bytes, P-256 DER ECDSA over SHA-256 (`FILE.sig`).
    Raw,
    /// A minisign signature (`FILE.minisig`, ed25519 keys only).
    Minisign,
    /// A Sigstore v0.3 bundle with a public-key hint (`FILE.sigstore.json`).
    Bundle,
}

impl Style {
    /// The style named in `relkit.toml` (`raw`, `minisign`, `bundle`); anything else is a bundle,
    /// as the plan has always read it.
    pub fn from_plan(name: &str) -> Self {
        match name {
            "minisign" => Style::Minisign,
            "raw" => Style::Raw,
            _ => Style::Bundle,
        }
    }

    /// What is appended to the signed file's name to name its signature.
    pub fn extension(self) -> &'static str {
        match self {
            Style::Raw => ".sig",
            Style::Minisign => ".minisig",
            Style::Bundle => ".sigstore.json",
        }
    }
}

/// A key ready to sign in one style.
#[derive(Debug)]
pub enum Signer {
    /// Detached raw signatures.
    Raw(PrivateKey),
    /// minisign signatures naming `key_id`.
    Minisign(minisign::SecretKey),
    /// Sigstore bundles.
    Bundle(PrivateKey),
}

/// Why a file could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// minisign signs with ed25519 keys only.
    #[error("{path}: minisign signatures need an ed25519 key, this is a {kind} key")]
    NotEd25519 {
        /// The key file.
        path: PathBuf,
        /// The kind of key it holds.
        kind: &'static str,
    },
    /// A minisign trusted comment must be one line.
    #[error("the minisign trusted comment must be a single line")]
    MultiLineComment,
    /// The file to sign cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The signature cannot be written.
    #[error("cannot write {path}")]
    Write {
        /// The signature file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The minisign key id of the ed25519 key read from `key_path`: the id of the sibling
/// `NAME.minisign.pub` when it holds the same key (as `relkit key import-minisign` writes it,
/// keeping the id of the imported minisign key), else the id derived from the key.
pub fn minisign_key_id(key_path: &Path, key: &ed25519_dalek::SigningKey) -> [u8; 8] {
    let vk = key.verifying_key();
    let sibling = key_path.with_extension("minisign.pub");
    if let Ok(text) = std::fs::read_to_string(sibling)
        && let Ok(pk) = minisign::PublicKey::parse(&text)
        && pk.key == vk
    {
        return pk.key_id;
    }
    minisign::derived_key_id(&vk)
}

impl Signer {
    /// `key`, read from `key_path`, ready to sign in `style`; a minisign signer takes its key id
    /// from [`minisign_key_id`].
    pub fn new(style: Style, key: PrivateKey, key_path: &Path) -> Result<Self, SignError> {
        Ok(match style {
            Style::Raw => Signer::Raw(key),
            Style::Bundle => Signer::Bundle(key),
            Style::Minisign => match key {
                PrivateKey::Ed25519(sk) => Signer::Minisign(minisign::SecretKey {
                    key_id: minisign_key_id(key_path, &sk),
                    key: sk,
                }),
                PrivateKey::P256(_) => {
                    return Err(SignError::NotEd25519 {
                        path: key_path.to_path_buf(),
                        kind: "P-256",
                    });
                }
            },
        })
    }

    /// The style this signer writes.
    pub fn style(&self) -> Style {
        match self {
            Signer::Raw(_) => Style::Raw,
            Signer::Minisign(_) => Style::Minisign,
            Signer::Bundle(_) => Style::Bundle,
        }
    }

    /// The signer's public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Signer::Minisign(sk) => PublicKey::Ed25519(sk.key.verifying_key()),
            Signer::Raw(k) | Signer::Bundle(k) => k.public(),
        }
    }

    /// The key a verifier of these signatures trusts: the minisign public key with the same
    /// key id, or the PKIX public key.
    pub fn verify_key(&self) -> VerifyKey {
        match self {
            Signer::Minisign(sk) => VerifyKey::Minisign(sk.public()),
            Signer::Raw(k) | Signer::Bundle(k) => VerifyKey::Pkix(k.public()),
        }
    }

    /// The signature of `data`; `trusted_comment` is minisign's (ignored by other styles).
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> Result<Vec<u8>, SignError> {
        Ok(match self {
            Signer::Raw(key) => key.sign(data),
            Signer::Bundle(key) => Bundle::sign_message(key, data).to_json().into_bytes(),
            Signer::Minisign(sk) => {
                if trusted_comment.contains('\n') {
                    return Err(SignError::MultiLineComment);
                }
                minisign::sign(&sk.key, &sk.key_id, data, trusted_comment).into_bytes()
            }
        })
    }
}

/// The trusted comment relkit writes when none is given: `file:NAME\thashed` (no timestamp, so
/// that a release's signatures are reproducible).
pub fn default_trusted_comment(file: &Path) -> String {
    format!("file:{}\thashed", file_name(file))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Signs `file` with `signer` and writes the signature (through a temporary file and a rename)
/// to `output`, or beside the file with the style's extension; returns the signature's path.
/// `trusted_comment` is minisign's (default [`default_trusted_comment`]).
pub fn sign_file(
    signer: &Signer,
    file: &Path,
    output: Option<&Path>,
    trusted_comment: Option<&str>,
) -> Result<PathBuf, SignError> {
    let data = std::fs::read(file).map_err(|source| SignError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let comment = trusted_comment
        .map(str::to_string)
        .unwrap_or_else(|| default_trusted_comment(file));
    let bytes = signer.sign(&data, &comment)?;
    let path = output.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut s = file.as_os_str().to_owned();
        s.push(signer.style().extension());
        PathBuf::from(s)
    });
    relkit_core::fs::write_atomic(&path, &bytes).map_err(|source| SignError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
