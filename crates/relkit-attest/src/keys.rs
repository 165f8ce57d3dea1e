//! Signing keys: generation, PKCS#8 PEM (optionally passphrase-encrypted) private keys, SPKI
//! PEM public keys, and detached signatures with ed25519 or ECDSA P-256.
//!
//! Signature encodings: ed25519 signatures are the raw 64 bytes (RFC 8032); ECDSA P-256
//! signatures are ASN.1 DER over SHA-256 of the message, which is what
//! `openssl dgst -sha256 -verify pub.pem -signature sig` expects. Verification also accepts
//! the raw 64-byte `r || s` form for P-256. Key material never appears in error messages.

use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use p256::ecdsa::signature::{Signer, Verifier};
use pkcs8::LineEnding;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::Error;

/// PBKDF2 iterations for encrypted keys (OWASP 2023 recommendation for PBKDF2-HMAC-SHA256).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// The kinds of keys relkit generates and signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256.
    P256,
}

impl KeyKind {
    /// Lower-case name used in reports (`ed25519`, `p256`).
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::P256 => "p256",
        }
    }
}

/// A private signing key.
pub enum PrivateKey {
    /// Ed25519 signing key.
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA P-256 signing key.
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even in debug output.
        write!(f, "PrivateKey({})", self.kind().name())
    }
}

/// A public verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519 verifying key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA P-256 verifying key.
    P256(p256::ecdsa::VerifyingKey),
}

impl PrivateKey {
    /// Generates a fresh key from the OS random number generator.
    pub fn generate(kind: KeyKind) -> Self {
        match kind {
            KeyKind::Ed25519 => {
                PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
            }
            KeyKind::P256 => PrivateKey::P256(p256::ecdsa::SigningKey::random(&mut OsRng)),
        }
    }

    /// The key kind.
    pub fn kind(&self) -> KeyKind {
        match self {
            PrivateKey::Ed25519(_) => KeyKind::Ed25519,
            PrivateKey::P256(_) => KeyKind::P256,
        }
    }

    /// PKCS#8 PEM; encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC) when a passphrase is given.
    pub fn to_pem(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<String>, Error> {
        let enc = |e: pkcs8::Error| Error::key_caused("cannot encode private key", e);
        let der = match self {
            PrivateKey::Ed25519(k) => k.to_pkcs8_der().map_err(enc)?,
            PrivateKey::P256(k) => k.to_pkcs8_der().map_err(enc)?,
        };
        let Some(p) = passphrase else {
            let pem = der
                .to_pem("PRIVATE KEY", LineEnding::LF)
                .map_err(|e| enc(e.into()))?;
            return Ok(Zeroizing::new(pem.to_string()));
        };
        // PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, as `openssl pkcs8 -topk8 -v2 aes256`
        // writes: the pkcs8 crate's scrypt default needs more memory than OpenSSL allows.
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, &iv)
                .map_err(|e| {
                    Error::key_caused("cannot encrypt the private key", pkcs8::Error::from(e))
                })?;
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).map_err(enc)?;
        let enc_doc = info.encrypt_with_params(params, p).map_err(enc)?;
        let pem = enc_doc
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(|e| enc(e.into()))?;
        Ok(Zeroizing::new(pem.to_string()))
    }

    /// Reads a PKCS#8 PEM private key (plain or encrypted), detecting the algorithm.
    pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<Self, Error> {
        let encrypted = pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        if encrypted {
            let p = passphrase.ok_or_else(|| {
                Error::Key(
                    "the private key is encrypted: give its passphrase with --passphrase-file"
                        .into(),
                )
            })?;
            if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_encrypted_pem(pem, p) {
                return Ok(PrivateKey::Ed25519(k));
            }
            if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_encrypted_pem(pem, p) {
                return Ok(PrivateKey::P256(k));
            }
            return Err(Error::Key(
                "cannot decrypt the private key: wrong passphrase or unsupported algorithm (ed25519 and P-256 are supported)".into(),
            ));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(PrivateKey::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(PrivateKey::P256(k));
        }
        Err(Error::Key(
            "not a PKCS#8 PEM private key for ed25519 or P-256 (expected -----BEGIN PRIVATE KEY-----)".into(),
        ))
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        match self {
            PrivateKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
        }
    }

    /// Signs a message: raw 64 bytes for ed25519, DER ECDSA-SHA256 for P-256.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            PrivateKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            PrivateKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

impl PublicKey {
    /// The key kind.
    pub fn kind(&self) -> KeyKind {
        match self {
            PublicKey::Ed25519(_) => KeyKind::Ed25519,
            PublicKey::P256(_) => KeyKind::P256,
        }
    }

    /// SPKI DER encoding.
    pub fn to_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::P256(k) => k.to_public_key_der(),
        };
        doc.expect("encoding a valid public key cannot fail")
            .into_vec()
    }

    /// SPKI PEM encoding (`-----BEGIN PUBLIC KEY-----`).
    pub fn to_pem(&self) -> String {
        let pem = match self {
            PublicKey::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
        };
        pem.expect("encoding a valid public key cannot fail")
    }

    /// Reads an SPKI PEM public key, detecting the algorithm.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        Err(Error::Key(
            "not an SPKI PEM public key for ed25519 or P-256 (expected -----BEGIN PUBLIC KEY-----)"
                .into(),
        ))
    }

    /// Reads an SPKI DER public key, detecting the algorithm.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        Err(Error::Key(
            "not an SPKI DER public key for ed25519 or P-256".into(),
        ))
    }

    /// Key id: lower-case hex SHA-256 of the SPKI DER (the Sigstore public-key hint convention).
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(self.to_der()))
    }

    /// Verifies a detached signature (P-256: DER or raw `r || s`).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let bad = || {
            Error::Signature(format!(
                "the {} signature does not verify with this key",
                self.kind().name()
            ))
        };
        match self {
            PublicKey::Ed25519(k) => {
                let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| bad())?;
                k.verify_strict(msg, &sig).map_err(|_| bad())
            }
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                    .map_err(|_| bad())?;
                k.verify(msg, &sig).map_err(|_| bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_roundtrip_plain_and_encrypted_and_sign_verify() {
        for kind in [KeyKind::Ed25519, KeyKind::P256] {
            let k = PrivateKey::generate(kind);
            let pem = k.to_pem(None).unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            let back = PrivateKey::from_pem(&pem, None).unwrap();
            assert_eq!(back.public(), k.public());
            let enc = k.to_pem(Some(b"correct horse")).unwrap();
            assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
            assert!(PrivateKey::from_pem(&enc, Some(b"wrong")).is_err());
            assert!(PrivateKey::from_pem(&enc, None).is_err());
            let back = PrivateKey::from_pem(&enc, Some(b"correct horse")).unwrap();
            let sig = back.sign(b"hello");
            let public = PublicKey::from_pem(&k.public().to_pem()).unwrap();
            public.verify(b"hello", &sig).unwrap();
            assert!(public.verify(b"hellp", &sig).is_err());
            assert_eq!(public.key_id().len(), 64);
        }
    }
}
