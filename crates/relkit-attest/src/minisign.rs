//! minisign-compatible keys and signatures (<https://jedisct1.github.io/minisign/>).
//!
//! Written here rather than taken from a crate because the format is small and we need exact
//! control: legacy `Ed` (pure ed25519 over the file) and prehashed `ED` (ed25519 over
//! BLAKE2b-512 of the file) signatures, the trusted comment and its global signature
//! (ed25519 over `signature || trusted_comment`), and secret keys encrypted with scrypt
//! (libsodium `crypto_pwhash_scryptsalsa208sha256` parameters) and checked with BLAKE2b-256.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Blake2b512, Digest};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::Error;

/// A minisign public key: 8-byte key id and ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Key id as stored (little-endian on the wire; shown as upper-case hex of the reversed bytes).
    pub key_id: [u8; 8],
    /// The ed25519 key.
    pub key: VerifyingKey,
}

/// A minisign secret key (decrypted).
pub struct SecretKey {
    /// Key id.
    pub key_id: [u8; 8],
    /// The ed25519 signing key.
    pub key: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", key_id_hex(&self.key_id))
    }
}

/// The key id as minisign prints it (upper-case hex, most significant byte first).
pub fn key_id_hex(id: &[u8; 8]) -> String {
    let mut r = *id;
    r.reverse();
    hex::encode_upper(r)
}

/// Derives a key id for an ed25519 key that has none (first 8 bytes of SHA-256 of the key).
pub fn derived_key_id(key: &VerifyingKey) -> [u8; 8] {
    let d = sha2::Sha256::digest(key.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(&d[..8]);
    id
}

/// The base64 payload line of a minisign file (the first line that is not a comment).
fn payload_line(text: &str, what: &str) -> Result<Vec<u8>, Error> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .ok_or_else(|| Error::Minisign(format!("{what}: no base64 line found")))?;
    B64.decode(line)
        .map_err(|e| Error::minisign_caused(format!("{what}: invalid base64"), e))
}

impl PublicKey {
    /// Parses a minisign public key file (or the bare base64 line of `minisign -P`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let raw = payload_line(text, "minisign public key")?;
        if raw.len() != 42 || &raw[..2] != b"Ed" {
            return Err(Error::Minisign(
                "minisign public key: expected 42 bytes starting with \"Ed\"".into(),
            ));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&raw[2..10]);
        let key =
            VerifyingKey::from_bytes(raw[10..42].try_into().expect("32 bytes")).map_err(|_| {
                Error::Minisign("minisign public key: not a valid ed25519 point".into())
            })?;
        Ok(PublicKey { key_id, key })
    }

    /// The public key file text, as `minisign -G` writes it.
    pub fn to_file(&self) -> String {
        let mut raw = b"Ed".to_vec();
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "untrusted comment: minisign public key {}\n{}\n",
            key_id_hex(&self.key_id),
            B64.encode(raw)
        )
    }
}

/// libsodium's `pickparams` for scrypt: (log2 N, r, p) from opslimit / memlimit.
fn scrypt_params(opslimit: u64, memlimit: u64) -> (u8, u32, u32) {
    let ops = opslimit.max(32768);
    let r: u64 = 8;
    let (n_log2, p);
    if ops < memlimit / 32 {
        p = 1;
        let max_n = ops / (r * 4);
        n_log2 = (1..63).find(|&n| (1u64 << n) > max_n / 2).unwrap_or(63);
    } else {
        let max_n = memlimit / (r * 128);
        n_log2 = (1..63).find(|&n| (1u64 << n) > max_n / 2).unwrap_or(63);
        let max_rp = ((ops / 4) / (1u64 << n_log2)).min(0x3fff_ffff);
        p = max_rp / r;
    }
    (n_log2 as u8, r as u32, p as u32)
}

impl SecretKey {
    /// Parses and (when encrypted) decrypts a minisign secret key file.
    pub fn parse(text: &str, password: Option<&[u8]>) -> Result<Self, Error> {
        let raw = zeroize::Zeroizing::new(payload_line(text, "minisign secret key")?);
        if raw.len() != 158 || &raw[..2] != b"Ed" || &raw[4..6] != b"B2" {
            return Err(Error::Minisign(
                "minisign secret key: expected 158 bytes (Ed, kdf, B2 checksum)".into(),
            ));
        }
        let mut keynum = zeroize::Zeroizing::new(raw[54..158].to_vec());
        match &raw[2..4] {
            b"Sc" => {
                let password = password.ok_or_else(|| {
                    Error::Minisign(
                        "the minisign secret key is encrypted: a password is needed".into(),
                    )
                })?;
                let salt = &raw[6..38];
                let ops = u64::from_le_bytes(raw[38..46].try_into().expect("8 bytes"));
                let mem = u64::from_le_bytes(raw[46..54].try_into().expect("8 bytes"));
                let (n, r, p) = scrypt_params(ops, mem);
                // The length argument only matters for PHC strings; the output is 104 bytes.
                let params = scrypt::Params::new(n, r, p, scrypt::Params::RECOMMENDED_LEN)
                    .map_err(|_| {
                        Error::Minisign("minisign secret key: bad scrypt parameters".into())
                    })?;
                let mut stream = zeroize::Zeroizing::new([0u8; 104]);
                scrypt::scrypt(password, salt, &params, stream.as_mut())
                    .map_err(|_| Error::Minisign("minisign secret key: scrypt failed".into()))?;
                for (b, s) in keynum.iter_mut().zip(stream.iter()) {
                    *b ^= s;
                }
            }
            [0, 0] => {}
            _ => return Err(Error::Minisign("minisign secret key: unknown KDF".into())),
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&keynum[..8]);
        let mut h = Blake2b::<U32>::new();
        h.update(b"Ed");
        h.update(&keynum[..72]);
        // minisign 0.11 leaves the checksum zero in unencrypted (-W) keys; the public-half
        // check below still catches a damaged key.
        let unchecked = raw[2..4] == [0, 0] && keynum[72..104].iter().all(|&b| b == 0);
        if !unchecked && h.finalize().as_slice() != &keynum[72..104] {
            return Err(Error::Minisign(
                "minisign secret key: checksum mismatch (wrong password?)".into(),
            ));
        }
        let seed: [u8; 32] = keynum[8..40].try_into().expect("32 bytes");
        let key = SigningKey::from_bytes(&seed);
        if key.verifying_key().as_bytes() != &keynum[40..72] {
            return Err(Error::Minisign(
                "minisign secret key: public half does not match".into(),
            ));
        }
        Ok(SecretKey { key_id, key })
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }
}

/// Creates a minisign signature file (prehashed `ED`, as minisign ≥ 0.10 does by default).
pub fn sign(key: &SigningKey, key_id: &[u8; 8], data: &[u8], trusted_comment: &str) -> String {
    let digest = Blake2b512::digest(data);
    let sig = key.sign(&digest).to_bytes();
    let mut raw = b"ED".to_vec();
    raw.extend_from_slice(key_id);
    raw.extend_from_slice(&sig);
    let mut global = sig.to_vec();
    global.extend_from_slice(trusted_comment.as_bytes());
    let gsig = key.sign(&global).to_bytes();
    format!(
        "untrusted comment: signature from relkit secret key\n{}\ntrusted comment: {}\n{}\n",
        B64.encode(raw),
        trusted_comment,
        B64.encode(gsig)
    )
}

/// Verifies a minisign signature file over `data`; returns the trusted comment.
pub fn verify(key: &PublicKey, data: &[u8], sig_text: &str) -> Result<String, Error> {
    let mut lines = sig_text.lines();
    let first = lines.next().unwrap_or_default();
    if !first.starts_with("untrusted comment:") {
        return Err(Error::Minisign(
            "signature: line 1 must start with \"untrusted comment:\"".into(),
        ));
    }
    let raw = B64
        .decode(lines.next().unwrap_or_default().trim())
        .map_err(|e| Error::minisign_caused("signature: line 2 is not base64", e))?;
    if raw.len() != 74 {
        return Err(Error::Minisign(
            "signature: line 2 must decode to 74 bytes".into(),
        ));
    }
    let tc_line = lines.next().unwrap_or_default();
    let trusted = tc_line.strip_prefix("trusted comment: ").ok_or_else(|| {
        Error::Minisign("signature: line 3 must start with \"trusted comment: \"".into())
    })?;
    let gsig = B64
        .decode(lines.next().unwrap_or_default().trim())
        .map_err(|e| Error::minisign_caused("signature: line 4 is not base64", e))?;
    if raw[2..10] != key.key_id {
        return Err(Error::Minisign(format!(
            "signature key id {} is not the key id of the public key {}",
            key_id_hex(raw[2..10].try_into().expect("8 bytes")),
            key_id_hex(&key.key_id)
        )));
    }
    let sig = ed25519_dalek::Signature::from_slice(&raw[10..74])
        .map_err(|_| Error::Minisign("signature: malformed ed25519 signature".into()))?;
    let ok = match &raw[..2] {
        b"ED" => key.key.verify_strict(&Blake2b512::digest(data), &sig),
        b"Ed" => key.key.verify_strict(data, &sig),
        _ => {
            return Err(Error::Minisign(
                "signature: unknown algorithm (expected Ed or ED)".into(),
            ));
        }
    };
    ok.map_err(|_| Error::Minisign("signature does not verify: the file or signature was changed, or another key signed it".into()))?;
    let gsig = ed25519_dalek::Signature::from_slice(&gsig)
        .map_err(|_| Error::Minisign("signature: malformed global signature".into()))?;
    let mut global = raw[10..74].to_vec();
    global.extend_from_slice(trusted.as_bytes());
    key.key.verify_strict(&global, &gsig).map_err(|_| {
        Error::Minisign(
            "the trusted comment's global signature does not verify (comment changed?)".into(),
        )
    })?;
    Ok(trusted.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let pk = PublicKey {
            key_id: derived_key_id(&sk.verifying_key()),
            key: sk.verifying_key(),
        };
        let s = sign(&sk, &pk.key_id, b"data", "timestamp:1 file:x");
        assert_eq!(verify(&pk, b"data", &s).unwrap(), "timestamp:1 file:x");
        assert!(verify(&pk, b"datb", &s).is_err());
        let t = s.replace("file:x", "file:y");
        assert!(verify(&pk, b"data", &t).is_err());
        assert_eq!(PublicKey::parse(&pk.to_file()).unwrap(), pk);
    }

    #[test]
    fn libsodium_interactive_params() {
        // minisign's defaults: opslimit 33554432, memlimit 1073741824 -> N=2^20, r=8, p=1.
        assert_eq!(scrypt_params(33_554_432, 1_073_741_824), (20, 8, 1));
    }
}
