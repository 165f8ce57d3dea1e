//! Sigstore bundles (v0.1–v0.3 JSON): writing key-based bundles and verifying keyless
//! (Fulcio certificate + Rekor log) and key-based bundles fully offline against a
//! `trusted_root.json` (the public-good production and staging roots ship with relkit:
//! [`TrustedRoot::production`], [`TrustedRoot::staging`]).
//!
//! Offline verification of a keyless bundle follows the Sigstore client specification, in
//! sigstore-python's order, and passes every offline `bundle-verify` case of the Sigstore
//! conformance suite (`crates/relkit/tests/attest_cli.rs`):
//! 1. the media type is a known bundle version; v0.3 bundles carry the leaf certificate,
//!    older ones a chain that must not contain a root CA; exactly one log entry;
//! 2. the log entry is from a log of the trusted root; its RFC 6962 inclusion proof leads to
//!    a root hash the log signed in a checkpoint (required from v0.2 on); its signed entry
//!    timestamp (SET) verifies (required for v0.1);
//! 3. the signing times are the integrated time authenticated by the SET and every RFC 3161
//!    timestamp over the signature (each must verify against a TSA of the trusted root);
//!    at least one is required (Rekor v2 entries have no integrated time);
//! 4. at each signing time the log key was valid and the leaf chained to a Fulcio CA of the
//!    trusted root with every certificate valid (closed intervals throughout);
//! 5. the leaf's embedded SCT verifies against a CT log of the trusted root (SCT extensions
//!    are signed data, not an error);
//! 6. the leaf is a code-signing, digitalSignature, non-CA certificate, and its identity
//!    (any e-mail / URI / Sigstore other-name SAN, exact) and OIDC issuer (extension
//!    1.3.6.1.4.1.57264.1.8, else .1.1) match the expected signer ([`SignerCheck`]);
//! 7. the signature verifies over the artifact digest (message signature) or the DSSE
//!    pre-authentication encoding (whose statement must name the artifact), and the log
//!    entry body records this signature, certificate and digest (CVE-2022-36056).
//!
//! [`BundleChecks`] says which of these a bundle passed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use der::{Decode, Encode};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha384};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

use crate::Error;
use crate::dsse::{Envelope, pae};
use crate::keys::{PrivateKey, PublicKey};

/// Media type of bundles relkit writes.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const KNOWN_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03,
];
/// Fulcio extension: OIDC issuer (v1, raw string value).
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio extension: OIDC issuer (v2, DER UTF8String value).
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_SAN: &str = "2.5.29.17";
const OID_EKU: &str = "2.5.29.37";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";

/// Base64 bytes wrapper used throughout the bundle and trusted root formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// Base64 (standard alphabet) of the bytes.
    pub raw_bytes: String,
}

/// A Sigstore bundle (only the fields relkit reads or writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Bundle media type with version.
    pub media_type: String,
    /// Certificate or key hint, and log entries.
    pub verification_material: VerificationMaterial,
    /// A signature over an artifact digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    /// A DSSE envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

/// Verification material of a bundle.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// v0.3 leaf certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    /// v0.1/v0.2 certificate chain (leaf first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertChain>,
    /// Key-based signing: a hint naming the public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyHint>,
    /// Transparency log entries.
    #[serde(default)]
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 timestamps (read only to explain why a bundle is unsupported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<Value>,
}

/// A certificate chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertChain {
    /// Certificates, leaf first.
    #[serde(default)]
    pub certificates: Vec<RawBytes>,
}

/// Public key hint for key-based bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyHint {
    /// relkit writes the lower-case hex SHA-256 of the SPKI DER.
    pub hint: String,
}

/// A message signature with the digest it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The artifact digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<MessageDigest>,
    /// Base64 signature.
    pub signature: String,
}

/// A digest in protobuf-specs JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDigest {
    /// `SHA2_256`.
    pub algorithm: String,
    /// Base64 digest bytes.
    pub digest: String,
}

/// A Rekor transparency log entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    /// Global log index (decimal string).
    pub log_index: String,
    /// Log id (SHA-256 of the log's SPKI).
    pub log_id: LogId,
    /// Entry kind and version.
    pub kind_version: KindVersion,
    /// Unix seconds when the log integrated the entry (absent in Rekor v2).
    #[serde(default)]
    pub integrated_time: Option<String>,
    /// Signed entry timestamp.
    #[serde(default)]
    pub inclusion_promise: Option<InclusionPromise>,
    /// Merkle inclusion proof.
    #[serde(default)]
    pub inclusion_proof: Option<InclusionProof>,
    /// Base64 of the canonical JSON entry body.
    pub canonicalized_body: String,
}

/// Log id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// Base64 key id.
    pub key_id: String,
}

/// Entry kind/version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindVersion {
    /// e.g. `hashedrekord`.
    pub kind: String,
    /// e.g. `0.0.1`.
    pub version: String,
}

/// Signed entry timestamp.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// Base64 DER ECDSA signature.
    pub signed_entry_timestamp: String,
}

/// RFC 6962 inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index of the leaf in this log shard.
    pub log_index: String,
    /// Base64 root hash.
    pub root_hash: String,
    /// Tree size (decimal string).
    pub tree_size: String,
    /// Base64 audit path hashes.
    #[serde(default)]
    pub hashes: Vec<String>,
    /// Signed checkpoint.
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
}

/// A signed note checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed note text.
    pub envelope: String,
}

/// A validity window in a trusted root.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ValidFor {
    /// RFC 3339 start.
    #[serde(default)]
    pub start: Option<String>,
    /// RFC 3339 end (absent = still valid).
    #[serde(default)]
    pub end: Option<String>,
}

/// A transparency log in the trusted root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedLog {
    /// Log URL.
    pub base_url: String,
    /// Log key.
    pub public_key: TrustedKey,
    /// Log id.
    pub log_id: LogId,
}

/// A key in the trusted root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedKey {
    /// Base64 SPKI DER.
    pub raw_bytes: String,
    /// e.g. `PKIX_ECDSA_P256_SHA_256`.
    #[serde(default)]
    pub key_details: String,
    /// Validity (absent = always, as protobuf-specs allows for keys).
    #[serde(default)]
    pub valid_for: Option<ValidFor>,
}

/// A certificate authority in the trusted root.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedCa {
    /// CA URL.
    #[serde(default)]
    pub uri: String,
    /// Chain, intermediate(s) first, root last.
    pub cert_chain: CertChain,
    /// Validity.
    #[serde(default)]
    pub valid_for: Option<ValidFor>,
}

/// A Sigstore `trusted_root.json` (the parts used for offline verification).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    /// Media type.
    pub media_type: String,
    /// Rekor logs.
    #[serde(default)]
    pub tlogs: Vec<TrustedLog>,
    /// Fulcio CAs.
    #[serde(default)]
    pub certificate_authorities: Vec<TrustedCa>,
    /// RFC 3161 timestamp authorities (leaf first, root last).
    #[serde(default)]
    pub timestamp_authorities: Vec<TrustedCa>,
    /// Certificate transparency logs (for the SCTs embedded in Fulcio certificates).
    #[serde(default)]
    pub ctlogs: Vec<TrustedLog>,
}

/// The Sigstore public-good production trusted root shipped with relkit (see
/// `data/PROVENANCE.md`).
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../data/trusted_root.production.json");
/// The Sigstore public-good staging trusted root shipped with relkit.
pub const STAGING_TRUSTED_ROOT: &str = include_str!("../data/trusted_root.staging.json");

impl TrustedRoot {
    /// Parses a trusted root JSON document. Every validity window must have a start (the
    /// protobuf-specs `TimeRange`): a missing bound is refused, never read as "always".
    pub fn parse(text: &str) -> Result<Self, Error> {
        let root: TrustedRoot =
            serde_json::from_str(text).map_err(|e| Error::Format(format!("trusted root: {e}")))?;
        if !root
            .media_type
            .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(Error::Format(format!(
                "trusted root: $.mediaType {:?} is not a Sigstore trusted root",
                root.media_type
            )));
        }
        let windows = root
            .tlogs
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    format!("$.tlogs[{i}].publicKey.validFor"),
                    &l.public_key.valid_for,
                )
            })
            .chain(root.ctlogs.iter().enumerate().map(|(i, l)| {
                (
                    format!("$.ctlogs[{i}].publicKey.validFor"),
                    &l.public_key.valid_for,
                )
            }))
            .chain(
                root.certificate_authorities
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (
                            format!("$.certificateAuthorities[{i}].validFor"),
                            &c.valid_for,
                        )
                    }),
            )
            .chain(root.timestamp_authorities.iter().enumerate().map(|(i, c)| {
                (
                    format!("$.timestampAuthorities[{i}].validFor"),
                    &c.valid_for,
                )
            }));
        for (path, v) in windows {
            match v {
                None => {}
                Some(ValidFor { start: None, .. }) => {
                    return Err(Error::Format(format!(
                        "trusted root: {path} has no start: a validity window must say when it begins"
                    )));
                }
                Some(ValidFor {
                    start: Some(s),
                    end,
                }) => {
                    rfc3339(s)?;
                    if let Some(e) = end {
                        rfc3339(e)?;
                    }
                }
            }
        }
        Ok(root)
    }

    /// The Sigstore public-good production root shipped with relkit.
    pub fn production() -> Self {
        Self::parse(PRODUCTION_TRUSTED_ROOT).expect("the shipped production root parses")
    }

    /// The Sigstore public-good staging root shipped with relkit.
    pub fn staging() -> Self {
        Self::parse(STAGING_TRUSTED_ROOT).expect("the shipped staging root parses")
    }
}

impl Bundle {
    /// Parses a bundle JSON document.
    pub fn parse(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::Format(format!("Sigstore bundle: {e}")))
    }

    /// A v0.3 key-based bundle: message signature over the artifact and a public-key hint.
    pub fn sign_message(key: &PrivateKey, artifact: &[u8]) -> Self {
        let digest = Sha256::digest(artifact);
        Bundle {
            media_type: BUNDLE_V03.into(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyHint {
                    hint: key.public().key_id(),
                }),
                ..Default::default()
            },
            message_signature: Some(MessageSignature {
                message_digest: Some(MessageDigest {
                    algorithm: "SHA2_256".into(),
                    digest: B64.encode(digest),
                }),
                signature: B64.encode(key.sign(artifact)),
            }),
            dsse_envelope: None,
        }
    }

    /// A v0.3 key-based bundle around a DSSE envelope.
    pub fn from_envelope(key: &PublicKey, envelope: Envelope) -> Self {
        Bundle {
            media_type: BUNDLE_V03.into(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyHint { hint: key.key_id() }),
                ..Default::default()
            },
            message_signature: None,
            dsse_envelope: Some(envelope),
        }
    }

    /// Serializes as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("bundle serializes")
    }
}

/// What the artifact is, for verification: its SHA-256 and, when available, its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    /// SHA-256 of the artifact.
    pub sha256: [u8; 32],
    /// The artifact bytes (needed for ed25519 message signatures only).
    pub bytes: Option<&'a [u8]>,
}

/// The state of one check of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// The material was present and verified.
    Verified,
    /// The bundle does not carry this material (and nothing required it).
    Absent,
    /// Deliberately not checked (the identity under `--any-signer`).
    NotChecked,
}

impl CheckState {
    fn from_bool(verified: bool) -> Self {
        if verified {
            CheckState::Verified
        } else {
            CheckState::Absent
        }
    }
}

/// Which checks a verified bundle passed (stable JSON field names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BundleChecks {
    /// The Fulcio certificate chains to a CA of the trusted root and it and the chain were
    /// valid at every proven signing time (`absent` for key-based bundles).
    pub certificate_chain: CheckState,
    /// The certificate's embedded SCT verifies against a CT log of the trusted root.
    pub sct: CheckState,
    /// The RFC 6962 inclusion proof leads from the log entry to the proof's root hash.
    pub inclusion_proof: CheckState,
    /// The log signed a checkpoint for that root hash.
    pub checkpoint: CheckState,
    /// The log's signed entry timestamp (SET) over the entry and its integrated time.
    pub signed_entry_timestamp: CheckState,
    /// An RFC 3161 timestamp over the signature from a TSA of the trusted root.
    pub rfc3161_timestamp: CheckState,
    /// The signature verifies over the artifact's digest (or the DSSE envelope naming it), and
    /// the log entry records this signature, key/certificate and digest.
    pub artifact_digest: CheckState,
    /// The certificate's identity and issuer match the expected signer.
    pub identity: CheckState,
}

impl BundleChecks {
    /// `name: state` pairs in a fixed order, for text output.
    pub fn pairs(&self) -> [(&'static str, CheckState); 8] {
        [
            ("certificate_chain", self.certificate_chain),
            ("sct", self.sct),
            ("inclusion_proof", self.inclusion_proof),
            ("checkpoint", self.checkpoint),
            ("signed_entry_timestamp", self.signed_entry_timestamp),
            ("rfc3161_timestamp", self.rfc3161_timestamp),
            ("artifact_digest", self.artifact_digest),
            ("identity", self.identity),
        ]
    }
}

/// Whose signature a keyless bundle must carry.
#[derive(Debug, Clone, Copy)]
pub enum SignerCheck<'a> {
    /// The certificate must match this identity and issuer.
    Expect(&'a crate::policy::ExpectedSigner),
    /// Anyone (`--any-signer`): everything else is verified, the identity is reported only.
    AnySigner,
}

/// What a verified keyless bundle proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigstoreProof {
    /// The signer identity: the SAN that matched the expected signer (else the first SAN).
    pub identity: String,
    /// Every identity SAN of the certificate (e-mail, URI, Sigstore other-name).
    pub identities: Vec<String>,
    /// OIDC issuer from the Fulcio extension.
    pub issuer: String,
    /// How the identity was checked: a sentence, or that it was not (`--any-signer`).
    pub identity_check: String,
    /// Which checks passed.
    pub checks: BundleChecks,
    /// The proven signing time (Unix seconds): the log's integrated time or an RFC 3161 time.
    pub integrated_time: i64,
    /// Where the signing time comes from.
    pub time_source: TimeSource,
    /// The certificate transparency log whose embedded SCT was verified.
    pub ct_log: String,
    /// Global log index.
    pub log_index: u64,
    /// Log URL.
    pub log_url: String,
    /// Whether the RFC 6962 inclusion proof was verified.
    pub inclusion_proof: bool,
    /// Whether a log-signed checkpoint for the proof's root was verified.
    pub checkpoint: bool,
    /// Whether the signed entry timestamp was verified.
    pub signed_entry_timestamp: bool,
    /// The DSSE payload (an in-toto statement) when the bundle holds an envelope.
    #[serde(skip)]
    pub dsse_payload: Option<Vec<u8>>,
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>, Error> {
    B64.decode(s.trim())
        .map_err(|e| Error::Format(format!("Sigstore bundle: {what} is not base64: {e}")))
}

fn fail(msg: impl Into<String>) -> Error {
    Error::Verification(msg.into())
}

fn parse_u64(s: &str, what: &str) -> Result<u64, Error> {
    s.parse()
        .map_err(|_| Error::Format(format!("Sigstore bundle: {what} {s:?} is not an integer")))
}

/// Parses an RFC 3339 time into Unix seconds.
fn rfc3339(s: &str) -> Result<i64, Error> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| Error::Format(format!("trusted root: bad time {s:?}: {e}")))
}

/// Whether `t` is inside the closed window `[start, end]` (no window: always).
fn valid_at(v: &Option<ValidFor>, t: i64) -> Result<bool, Error> {
    let Some(v) = v else { return Ok(true) };
    if let Some(s) = &v.start
        && rfc3339(s)? > t
    {
        return Ok(false);
    }
    if let Some(e) = &v.end
        && rfc3339(e)? < t
    {
        return Ok(false);
    }
    Ok(true)
}

/// A public key found in a certificate or a trusted root.
enum AnyKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA (PKCS #1 v1.5 signatures): modulus, public exponent, modulus length in bytes.
    Rsa(num_bigint::BigUint, num_bigint::BigUint, usize),
}

const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";

/// The DER DigestInfo prefix of PKCS #1 v1.5 (RFC 8017 §9.2 note 1) for a digest length.
fn digest_info_prefix(digest_len: usize) -> Option<&'static [u8]> {
    Some(match digest_len {
        32 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        48 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        64 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => return None,
    })
}

impl AnyKey {
    /// An RSA key from an SPKI whose algorithm is rsaEncryption.
    fn rsa_from_spki_der(der: &[u8]) -> Option<Self> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
        if spki.algorithm.oid.to_string() != OID_RSA_ENCRYPTION {
            return None;
        }
        let bits = spki.subject_public_key.as_bytes()?;
        let mut r = der::SliceReader::new(bits).ok()?;
        let (n, e) = der::Reader::sequence(&mut r, |r| {
            let n = der::asn1::UintRef::decode(r)?;
            let e = der::asn1::UintRef::decode(r)?;
            Ok((n.as_bytes().to_vec(), e.as_bytes().to_vec()))
        })
        .ok()?;
        let n = num_bigint::BigUint::from_bytes_be(&n);
        let len = n.bits().div_ceil(8) as usize;
        (len >= 256).then(|| AnyKey::Rsa(n, num_bigint::BigUint::from_bytes_be(&e), len))
    }

    /// RSASSA-PKCS1-v1_5 verification by re-encoding (RFC 8017 §8.2.2): the signature
    /// raised to e mod n must equal 00 01 FF…FF 00 DigestInfo(digest) byte for byte.
    fn verify_rsa_pkcs1(&self, digest: &[u8], sig: &[u8]) -> bool {
        let AnyKey::Rsa(n, e, k) = self else {
            return false;
        };
        let Some(prefix) = digest_info_prefix(digest.len()) else {
            return false;
        };
        let t_len = prefix.len() + digest.len();
        if sig.len() != *k || *k < t_len + 11 {
            return false;
        }
        let s = num_bigint::BigUint::from_bytes_be(sig);
        if &s >= n {
            return false;
        }
        let m = s.modpow(e, n).to_bytes_be();
        let mut em = vec![0u8; k - m.len()];
        em.extend_from_slice(&m);
        let mut want = vec![0x00, 0x01];
        want.resize(k - t_len - 1, 0xff);
        want.push(0x00);
        want.extend_from_slice(prefix);
        want.extend_from_slice(digest);
        em == want
    }

    fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        use p256::pkcs8::DecodePublicKey;
        if let Some(k) = Self::rsa_from_spki_der(der) {
            return Ok(k);
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::P384(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::Ed25519(k));
        }
        Err(fail(
            "unsupported public key algorithm (P-256, P-384, ed25519 and RSA ≥ 2048 bits are supported)",
        ))
    }

    /// Verifies an ECDSA DER signature over a prehashed digest (any length ≥ half the field).
    fn verify_prehash(&self, digest: &[u8], sig: &[u8]) -> bool {
        match self {
            AnyKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            AnyKey::P384(k) => p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            AnyKey::Ed25519(_) | AnyKey::Rsa(..) => false,
        }
    }

    /// Verifies a signature over a message, hashing with SHA-256 for ECDSA.
    fn verify_message_sha256(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            AnyKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            AnyKey::Rsa(..) => self.verify_rsa_pkcs1(&Sha256::digest(msg), sig),
            _ => self.verify_prehash(&Sha256::digest(msg), sig),
        }
    }
}

fn cert_key(cert: &Certificate) -> Result<AnyKey, Error> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| fail(format!("certificate public key: {e}")))?;
    AnyKey::from_spki_der(&spki)
}

/// Checks that `parent` signed `child` (ECDSA with SHA-256 or SHA-384).
fn verify_cert_signature(child: &Certificate, parent: &Certificate) -> Result<(), Error> {
    if child.tbs_certificate.issuer != parent.tbs_certificate.subject {
        return Err(fail("certificate issuer does not match the CA subject"));
    }
    let tbs = child
        .tbs_certificate
        .to_der()
        .map_err(|e| fail(format!("certificate: {e}")))?;
    let oid = child.signature_algorithm.oid.to_string();
    let (rsa, digest): (bool, Vec<u8>) = match oid.as_str() {
        OID_ECDSA_SHA256 => (false, Sha256::digest(&tbs).to_vec()),
        OID_ECDSA_SHA384 => (false, Sha384::digest(&tbs).to_vec()),
        OID_RSA_SHA256 => (true, Sha256::digest(&tbs).to_vec()),
        OID_RSA_SHA384 => (true, Sha384::digest(&tbs).to_vec()),
        OID_RSA_SHA512 => (true, sha2::Sha512::digest(&tbs).to_vec()),
        other => {
            return Err(fail(format!(
                "unsupported certificate signature algorithm {other}"
            )));
        }
    };
    let sig = child.signature.raw_bytes();
    let key = cert_key(parent)?;
    let ok = if rsa {
        key.verify_rsa_pkcs1(&digest, sig)
    } else {
        key.verify_prehash(&digest, sig)
    };
    if ok {
        Ok(())
    } else {
        Err(fail(
            "certificate signature does not verify with the CA key",
        ))
    }
}

fn cert_validity(cert: &Certificate) -> (i64, i64) {
    let v = &cert.tbs_certificate.validity;
    (
        v.not_before.to_unix_duration().as_secs() as i64,
        v.not_after.to_unix_duration().as_secs() as i64,
    )
}

fn fmt_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Verifies the leaf against the trusted CAs at time `t`; returns the CA URI.
/// Verifies the leaf against the trusted CAs at time `t`; returns the CA URI and the
/// issuing certificate (for the SCT's issuer key hash).
fn verify_chain(
    leaf: &Certificate,
    root: &TrustedRoot,
    t: i64,
) -> Result<(String, Certificate), Error> {
    let (nb, na) = cert_validity(leaf);
    if t < nb || t > na {
        return Err(fail(format!(
            "the signing certificate was not valid at the proven signing time {} (valid {} to {})",
            fmt_time(t),
            fmt_time(nb),
            fmt_time(na)
        )));
    }
    let mut reasons = Vec::new();
    for ca in &root.certificate_authorities {
        if !valid_at(&ca.valid_for, t)? {
            continue;
        }
        let mut chain = Vec::new();
        for c in &ca.cert_chain.certificates {
            let der = b64(&c.raw_bytes, "trusted root certificate")?;
            chain.push(
                Certificate::from_der(&der)
                    .map_err(|e| Error::Format(format!("trusted root certificate: {e}")))?,
            );
        }
        let mut child = leaf;
        let mut ok = true;
        for parent in &chain {
            let (pb, pa) = cert_validity(parent);
            if let Err(e) = verify_cert_signature(child, parent) {
                reasons.push(format!("{}: {e}", ca.uri));
                ok = false;
                break;
            }
            if t < pb || t > pa {
                reasons.push(format!(
                    "{}: CA certificate not valid at {}",
                    ca.uri,
                    fmt_time(t)
                ));
                ok = false;
                break;
            }
            child = parent;
        }
        if ok && let Some(last) = chain.last() {
            // The anchor must be self-signed.
            if verify_cert_signature(last, last).is_ok() {
                return Ok((ca.uri.clone(), chain[0].clone()));
            }
            reasons.push(format!("{}: root is not self-signed", ca.uri));
        }
    }
    Err(fail(format!(
        "the signing certificate does not chain to any Fulcio CA of the trusted root valid at {}{}",
        fmt_time(t),
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    )))
}

/// Sigstore's other-name SAN type (a UTF8String identity, e.g. for SPIFFE-less usernames).
const OID_OTHERNAME_SIGSTORE: &str = "1.3.6.1.4.1.57264.1.7";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// The signing certificate's identity SANs and OIDC issuer, after the Sigstore X.509
/// profile checks (digitalSignature key usage, codeSigning EKU, not a CA).
fn leaf_identity(leaf: &Certificate) -> Result<(Vec<String>, String), Error> {
    let mut identities = Vec::new();
    let mut issuer_v1 = None;
    let mut issuer_v2 = None;
    let mut code_signing = false;
    let mut digital_signature = false;
    for ext in leaf.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_SAN => {
                let san = SubjectAltName::from_der(value)
                    .map_err(|e| fail(format!("certificate SAN: {e}")))?;
                for name in san.0 {
                    match name {
                        GeneralName::Rfc822Name(s) => identities.push(s.to_string()),
                        GeneralName::UniformResourceIdentifier(s) => identities.push(s.to_string()),
                        GeneralName::OtherName(o)
                            if o.type_id.to_string() == OID_OTHERNAME_SIGSTORE =>
                        {
                            let v = o
                                .value
                                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                                .map_err(|e| fail(format!("certificate other-name SAN: {e}")))?;
                            identities.push(v.as_str().to_string());
                        }
                        _ => {}
                    }
                }
            }
            OID_EKU => {
                let eku = ExtendedKeyUsage::from_der(value)
                    .map_err(|e| fail(format!("certificate extended key usage: {e}")))?;
                code_signing = eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING);
            }
            OID_KEY_USAGE => {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(value)
                    .map_err(|e| fail(format!("certificate key usage: {e}")))?;
                digital_signature = ku.digital_signature();
            }
            OID_ISSUER_V1 => issuer_v1 = Some(String::from_utf8_lossy(value).into_owned()),
            OID_ISSUER_V2 => {
                let s = der::asn1::Utf8StringRef::from_der(value)
                    .map_err(|e| fail(format!("certificate issuer extension: {e}")))?;
                issuer_v2 = Some(s.as_str().to_string());
            }
            _ => {}
        }
    }
    if is_ca(leaf)? {
        return Err(fail(
            "the signing certificate is a CA certificate, not a leaf",
        ));
    }
    if !digital_signature {
        return Err(fail(
            "the signing certificate's key usage is not digitalSignature",
        ));
    }
    if !code_signing {
        return Err(fail(
            "the signing certificate is not for code signing (no codeSigning EKU)",
        ));
    }
    if identities.is_empty() {
        return Err(fail(
            "the signing certificate has no e-mail, URI or Sigstore identity SAN",
        ));
    }
    let issuer = issuer_v2
        .or(issuer_v1)
        .ok_or_else(|| fail("the signing certificate has no OIDC issuer extension"))?;
    Ok((identities, issuer))
}

/// Whether a certificate is a CA (basicConstraints cA, or keyCertSign key usage).
fn is_ca(cert: &Certificate) -> Result<bool, Error> {
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_BASIC_CONSTRAINTS => {
                let bc = x509_cert::ext::pkix::BasicConstraints::from_der(value)
                    .map_err(|e| fail(format!("certificate basic constraints: {e}")))?;
                if bc.ca {
                    return Ok(true);
                }
            }
            OID_KEY_USAGE => {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(value)
                    .map_err(|e| fail(format!("certificate key usage: {e}")))?;
                if ku.key_cert_sign() {
                    return Ok(true);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}

/// RFC 6962 / RFC 9162 §2.1.3.2 inclusion proof verification.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
    root: &[u8],
) -> bool {
    if index >= size {
        return false;
    }
    let node = |l: &[u8], r: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().into()
    };
    let (mut fnode, mut snode, mut r) = (index, size - 1, leaf);
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r.as_slice() == root
}

/// RFC 6962 leaf hash.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// Verifies a signed-note checkpoint (C2SP signed note / Rekor checkpoint) with the log key;
/// returns (tree size, root hash). A signature line counts when it names the log (its host
/// name, e.g. `rekor.sigstore.dev`), its 4-byte key hint is the log id's first four bytes and
/// it verifies over the note text; other lines (witness cosignatures) are ignored.
fn verify_checkpoint(
    note: &str,
    key: &AnyKey,
    key_id: &[u8],
    log_name: &str,
) -> Result<(u64, Vec<u8>), Error> {
    if note.matches("\n\n").count() != 1 {
        return Err(fail(
            "checkpoint: the note must have exactly one blank line between its text and its signatures",
        ));
    }
    let split = note.find("\n\n").expect("counted above");
    let body = &note[..split + 1];
    let sigs = &note[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(fail(
            "checkpoint: the signature block is empty or does not end with a newline",
        ));
    }
    let lines: Vec<&str> = body.trim().split('\n').collect();
    if lines.len() < 3 {
        return Err(fail(
            "checkpoint: the note needs an origin, a tree size and a root hash",
        ));
    }
    if lines[0].is_empty() {
        return Err(fail("checkpoint: empty origin line"));
    }
    let size = lines[1].parse::<u64>().map_err(|_| {
        fail(format!(
            "checkpoint: tree size {:?} is not an integer",
            lines[1]
        ))
    })?;
    let root = B64.decode(lines[2]).map_err(|_| {
        fail(format!(
            "checkpoint: root hash {:?} is not base64",
            lines[2]
        ))
    })?;
    let mut tried = 0;
    for sig_line in sigs.lines() {
        let Some(rest) = sig_line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let mut parts = rest.split(' ');
        let (Some(name), Some(sig_b64), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if name != log_name {
            continue;
        }
        let raw = B64
            .decode(sig_b64)
            .map_err(|_| fail("checkpoint: a signature is not base64"))?;
        if raw.len() < 5 {
            return Err(fail("checkpoint: a signature is too short"));
        }
        if key_id.len() < 4 || raw[..4] != key_id[..4] {
            continue;
        }
        tried += 1;
        if key.verify_message_sha256(body.as_bytes(), &raw[4..]) {
            return Ok((size, root));
        }
    }
    Err(fail(if tried == 0 {
        "checkpoint: no signature by the log (no signature line carries its name and key hint)"
            .to_string()
    } else {
        "checkpoint: the log's signature on the checkpoint does not verify".to_string()
    }))
}

/// What a verified log entry established.
struct TlogResult {
    log_url: String,
    set: bool,
    proof: bool,
    checkpoint: bool,
    /// The log's integrated time, only when a verified SET authenticates it.
    integrated_time: Option<i64>,
    /// Validity window of the log key, checked against the proven signing time.
    key_valid_for: Option<ValidFor>,
}

/// Verifies one log entry against the trusted logs: inclusion proof with its signed
/// checkpoint (required from bundle v0.2 on) and the SET (required for v0.1).
fn verify_tlog(entry: &TlogEntry, root: &TrustedRoot, v01: bool) -> Result<TlogResult, Error> {
    if !matches!(entry.kind_version.version.as_str(), "0.0.1" | "0.0.2") {
        return Err(fail(format!(
            "unsupported log entry version {} {}",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    let key_id = b64(&entry.log_id.key_id, "logId.keyId")?;
    let log = root
        .tlogs
        .iter()
        .find(|l| B64.decode(&l.log_id.key_id).is_ok_and(|k| k == key_id))
        .ok_or_else(|| {
            fail(format!(
                "the log entry is from a log ({}) that is not in the trusted root",
                entry.log_id.key_id
            ))
        })?;
    let integrated = entry
        .integrated_time
        .as_deref()
        .map(|s| parse_u64(s, "integratedTime").map(|v| v as i64))
        .transpose()?
        .filter(|t| *t != 0);
    let key = AnyKey::from_spki_der(&b64(&log.public_key.raw_bytes, "trusted log key")?)?;
    let body = b64(&entry.canonicalized_body, "canonicalizedBody")?;
    let log_index = parse_u64(&entry.log_index, "logIndex")?;
    let mut set_ok = false;
    if let Some(p) = &entry.inclusion_promise {
        let integrated = integrated.ok_or_else(|| {
            fail("the log entry has a signed entry timestamp but no integrated time")
        })?;
        // The SET signs the canonical JSON of the entry (keys sorted, no spaces).
        let payload = format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
            serde_json::to_string(&B64.encode(&body)).expect("string serializes"),
            integrated,
            hex::encode(&key_id),
            log_index
        );
        let sig = b64(&p.signed_entry_timestamp, "signedEntryTimestamp")?;
        if !key.verify_message_sha256(payload.as_bytes(), &sig) {
            return Err(fail(
                "the signed entry timestamp (SET) does not verify with the log key",
            ));
        }
        set_ok = true;
    }
    let mut proof_ok = false;
    let mut checkpoint_ok = false;
    if let Some(p) = &entry.inclusion_proof {
        let index = parse_u64(&p.log_index, "inclusionProof.logIndex")?;
        let size = parse_u64(&p.tree_size, "inclusionProof.treeSize")?;
        let root_hash = b64(&p.root_hash, "inclusionProof.rootHash")?;
        let mut hashes = Vec::new();
        for h in &p.hashes {
            let v = b64(h, "inclusionProof.hashes")?;
            hashes.push(
                <[u8; 32]>::try_from(v.as_slice())
                    .map_err(|_| fail("inclusion proof hash is not 32 bytes"))?,
            );
        }
        if !verify_inclusion(index, size, leaf_hash(&body), &hashes, &root_hash) {
            return Err(fail(format!(
                "the inclusion proof does not lead from the entry (index {index}) to the root hash of the tree of size {size}"
            )));
        }
        match &p.checkpoint {
            Some(c) => {
                // The note signer name is the log's host name (e.g. rekor.sigstore.dev).
                let log_name = log
                    .base_url
                    .split_once("://")
                    .map_or(log.base_url.as_str(), |(_, rest)| rest)
                    .trim_end_matches('/');
                let (csize, croot) = verify_checkpoint(&c.envelope, &key, &key_id, log_name)?;
                if csize != size || croot != root_hash {
                    return Err(fail(
                        "the signed checkpoint is for a different tree than the inclusion proof",
                    ));
                }
                checkpoint_ok = true;
            }
            None if !v01 => {
                return Err(fail(
                    "the inclusion proof has no signed checkpoint: its root hash is unauthenticated",
                ));
            }
            None => {}
        }
        proof_ok = true;
    }
    if v01 && !set_ok {
        return Err(fail(
            "a v0.1 bundle needs the log's signed entry timestamp (inclusion promise), and it has none",
        ));
    }
    if !v01 && !proof_ok {
        return Err(fail(
            "this bundle version requires an inclusion proof, and it has none",
        ));
    }
    Ok(TlogResult {
        log_url: log.base_url.clone(),
        set: set_ok,
        proof: proof_ok,
        checkpoint: checkpoint_ok,
        integrated_time: if set_ok { integrated } else { None },
        key_valid_for: log.public_key.valid_for.clone(),
    })
}

fn pem_to_der(pem_b64: &str) -> Result<Vec<u8>, Error> {
    let pem = String::from_utf8(b64(pem_b64, "log entry certificate or key")?)
        .map_err(|_| fail("log entry certificate or key is not PEM text"))?;
    let b: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64(&b, "log entry certificate PEM")
}

/// Who signed, as the log entry records it: a certificate or a public key (DER).
#[derive(Clone, Copy)]
enum Verifier<'a> {
    Cert(&'a [u8]),
    Key(&'a [u8]),
}

impl Verifier<'_> {
    fn der(&self) -> &[u8] {
        match self {
            Verifier::Cert(d) | Verifier::Key(d) => d,
        }
    }

    /// The DER a Rekor v2 verifier object carries for this kind of verifier.
    fn v2_der(&self, v: &Value) -> Result<Vec<u8>, Error> {
        let raw = match self {
            Verifier::Cert(_) => v["x509Certificate"]["rawBytes"].as_str(),
            Verifier::Key(_) => v["publicKey"]["rawBytes"].as_str(),
        };
        b64(raw.unwrap_or_default(), "log entry verifier")
    }

    fn what(&self) -> &'static str {
        match self {
            Verifier::Cert(_) => "certificate",
            Verifier::Key(_) => "public key",
        }
    }
}

/// Checks the log entry body is about this signature, certificate (or key) and artifact
/// digest: the binding that defeats CVE-2022-36056.
fn verify_body(
    entry: &TlogEntry,
    verifier: Verifier<'_>,
    sig: &[u8],
    digest_hex: &str,
    envelope: Option<&Envelope>,
) -> Result<(), Error> {
    let body: Value = serde_json::from_slice(&b64(&entry.canonicalized_body, "canonicalizedBody")?)
        .map_err(|e| fail(format!("log entry body is not JSON: {e}")))?;
    let kind = body["kind"].as_str().unwrap_or_default();
    let version = body["apiVersion"].as_str().unwrap_or_default();
    if kind != entry.kind_version.kind || version != entry.kind_version.version {
        return Err(fail(format!(
            "log entry body is {kind} {version} but the bundle says {} {}",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    let spec = &body["spec"];
    let mismatch = |what: &str| {
        fail(format!(
            "the log entry is not for this {what} (it records another signing)"
        ))
    };
    match (kind, version) {
        ("hashedrekord", "0.0.1") => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"] != digest_hex
            {
                return Err(mismatch("artifact digest"));
            }
            if b64(
                spec["signature"]["content"].as_str().unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if pem_to_der(
                spec["signature"]["publicKey"]["content"]
                    .as_str()
                    .unwrap_or_default(),
            )? != verifier.der()
            {
                return Err(mismatch(verifier.what()));
            }
        }
        ("dsse", "0.0.1") => {
            let env = envelope
                .ok_or_else(|| fail("a dsse log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            if spec["payloadHash"]["algorithm"] != "sha256"
                || spec["payloadHash"]["value"] != hex::encode(Sha256::digest(&payload))
            {
                return Err(mismatch("DSSE payload"));
            }
            let sigs = spec["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the dsse log entry must have exactly one signature"));
            };
            if b64(s["signature"].as_str().unwrap_or_default(), "log signature")? != sig {
                return Err(mismatch("signature"));
            }
            if pem_to_der(s["verifier"].as_str().unwrap_or_default())? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("intoto", "0.0.2") => {
            // Rekor v1's in-toto type: the envelope with its payload and signatures each
            // base64-encoded once more, the signer as base64 PEM.
            let env = envelope
                .ok_or_else(|| fail("an intoto log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            let content = &spec["content"];
            if content["payloadHash"]["algorithm"] != "sha256"
                || content["payloadHash"]["value"] != hex::encode(Sha256::digest(&payload))
            {
                return Err(mismatch("DSSE payload"));
            }
            let logged = &content["envelope"];
            if let Some(p) = logged["payload"].as_str()
                && b64(
                    std::str::from_utf8(&b64(p, "log payload")?).unwrap_or_default(),
                    "log payload",
                )? != payload
            {
                return Err(mismatch("DSSE payload"));
            }
            if logged["payloadType"].as_str() != Some(env.payload_type.as_str()) {
                return Err(mismatch("DSSE payload type"));
            }
            let sigs = logged["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the intoto log entry must have exactly one signature"));
            };
            let logged_sig = b64(s["sig"].as_str().unwrap_or_default(), "log signature")?;
            if b64(
                std::str::from_utf8(&logged_sig).unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if pem_to_der(s["publicKey"].as_str().unwrap_or_default())? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("hashedrekord", "0.0.2") => {
            // Rekor v2: the digest is of the artifact, or of PAE(type, payload) for DSSE.
            let v = &spec["hashedRekordV002"];
            let want = match envelope {
                Some(env) => Sha256::digest(pae(&env.payload_type, &env.payload_bytes()?)).to_vec(),
                None => hex::decode(digest_hex).expect("hex we produced"),
            };
            if v["data"]["algorithm"] != "SHA2_256"
                || b64(
                    v["data"]["digest"].as_str().unwrap_or_default(),
                    "log digest",
                )? != want
            {
                return Err(mismatch(if envelope.is_some() {
                    "DSSE envelope"
                } else {
                    "artifact digest"
                }));
            }
            if b64(
                v["signature"]["content"].as_str().unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if verifier.v2_der(&v["signature"]["verifier"])? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("dsse", "0.0.2") => {
            let v = &spec["dsseV002"];
            let env = envelope
                .ok_or_else(|| fail("a dsse log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            if v["payloadHash"]["algorithm"] != "SHA2_256"
                || b64(
                    v["payloadHash"]["digest"].as_str().unwrap_or_default(),
                    "log payload hash",
                )? != Sha256::digest(&payload).to_vec()
            {
                return Err(mismatch("DSSE payload"));
            }
            let sigs = v["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the dsse log entry must have exactly one signature"));
            };
            if b64(s["content"].as_str().unwrap_or_default(), "log signature")? != sig {
                return Err(mismatch("signature"));
            }
            if verifier.v2_der(&s["verifier"])? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        _ => return Err(fail(format!("unsupported log entry kind {kind} {version}"))),
    }
    Ok(())
}

/// Checks the media type; true for a v0.1 bundle (SET required, proof optional).
fn bundle_version_is_v01(bundle: &Bundle) -> Result<bool, Error> {
    if !KNOWN_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(fail(format!(
            "unsupported bundle media type {:?}",
            bundle.media_type
        )));
    }
    Ok(bundle.media_type.ends_with("version=0.1"))
}

/// The DER of the signing certificate: v0.3 bundles carry it alone, older ones a chain
/// whose first entry is the leaf and which must not hold a root CA (protobuf-specs).
fn signing_certificate_der(bundle: &Bundle) -> Result<Vec<u8>, Error> {
    let vm = &bundle.verification_material;
    let key_based =
        "this is a key-based bundle (public key hint, no certificate): verify it with --key";
    let v03 = bundle.media_type == BUNDLE_V03 || bundle.media_type.ends_with("version=0.3");
    if v03 {
        let c = vm.certificate.as_ref().ok_or_else(|| {
            fail(if vm.public_key.is_some() {
                key_based
            } else {
                "the v0.3 bundle has no signing certificate"
            })
        })?;
        return b64(&c.raw_bytes, "certificate");
    }
    let chain = vm.x509_certificate_chain.as_ref().ok_or_else(|| {
        fail(if vm.public_key.is_some() {
            key_based
        } else {
            "the bundle has no signing certificate chain"
        })
    })?;
    let Some((leaf, rest)) = chain.certificates.split_first() else {
        return Err(fail("the bundle's certificate chain is empty"));
    };
    for c in rest {
        let cert = Certificate::from_der(&b64(&c.raw_bytes, "chain certificate")?)
            .map_err(|e| fail(format!("a chain certificate is not valid DER X.509: {e}")))?;
        if cert.tbs_certificate.subject == cert.tbs_certificate.issuer && is_ca(&cert)? {
            return Err(fail(
                "the bundle's certificate chain contains a root CA: trust anchors come only from the trusted root",
            ));
        }
    }
    b64(&leaf.raw_bytes, "certificate")
}

/// The one signature of the bundle: the message signature or the DSSE envelope's.
fn bundle_signature(bundle: &Bundle) -> Result<Vec<u8>, Error> {
    match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(ms), None) => b64(&ms.signature, "messageSignature.signature"),
        (None, Some(env)) if env.signatures.len() == 1 => {
            b64(&env.signatures[0].sig, "dsseEnvelope signature")
        }
        (None, Some(_)) => Err(fail("the DSSE envelope must have exactly one signature")),
        _ => Err(fail(
            "the bundle must hold exactly one of messageSignature and dsseEnvelope",
        )),
    }
}

/// The verified signing times: the log's integrated time when a SET authenticates it, and
/// every RFC 3161 timestamp of the bundle (each must verify: an unverifiable timestamp is a
/// failure, not something to skip). At least one is required, and the log key must have
/// been valid at each.
fn signing_times(
    tlog: &TlogResult,
    bundle: &Bundle,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<(i64, TimeSource)>, Error> {
    let mut times = Vec::new();
    if let Some(t) = tlog.integrated_time {
        times.push((t, TimeSource::Log));
    }
    for (t, tsa) in verify_timestamps(
        bundle
            .verification_material
            .timestamp_verification_data
            .as_ref(),
        signature,
        root,
    )? {
        times.push((t, TimeSource::Timestamp(tsa)));
    }
    if times.is_empty() {
        return Err(fail(
            "no verified signing time: the log entry has no signed entry timestamp (Rekor v2 entries never do) and the bundle has no RFC 3161 timestamp",
        ));
    }
    for (t, _) in &times {
        if !valid_at(&tlog.key_valid_for, *t)? {
            return Err(fail(format!(
                "the log key of {} was not valid at {}",
                tlog.log_url,
                fmt_time(*t)
            )));
        }
    }
    Ok(times)
}

/// Verifies the signature over the artifact and the log entry's binding to it; returns the
/// DSSE payload for envelopes (whose statement must name the artifact).
fn verify_signature_and_binding(
    bundle: &Bundle,
    entry: &TlogEntry,
    artifact: Artifact<'_>,
    key: &AnyKey,
    verifier: Verifier<'_>,
) -> Result<Option<Vec<u8>>, Error> {
    let digest_hex = hex::encode(artifact.sha256);
    match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(ms), None) => {
            if let Some(md) = &ms.message_digest
                && (md.algorithm != "SHA2_256"
                    || b64(&md.digest, "messageDigest")? != artifact.sha256)
            {
                return Err(fail(
                    "the bundle's message digest is not the artifact's SHA-256",
                ));
            }
            let sig = b64(&ms.signature, "messageSignature.signature")?;
            let ok = match (key, artifact.bytes) {
                (AnyKey::Ed25519(_), Some(bytes)) => key.verify_message_sha256(bytes, &sig),
                (AnyKey::Ed25519(_), None) => false,
                _ => key.verify_prehash(&artifact.sha256, &sig),
            };
            if !ok {
                return Err(fail(format!(
                    "the signature does not verify over the artifact with the {}'s key",
                    verifier.what()
                )));
            }
            verify_body(entry, verifier, &sig, &digest_hex, None)?;
            Ok(None)
        }
        (None, Some(env)) => {
            let [s] = env.signatures.as_slice() else {
                return Err(fail("the DSSE envelope must have exactly one signature"));
            };
            let sig = b64(&s.sig, "dsseEnvelope signature")?;
            let payload = env.payload_bytes()?;
            if !key.verify_message_sha256(&pae(&env.payload_type, &payload), &sig) {
                return Err(fail(format!(
                    "the DSSE signature does not verify with the {}'s key",
                    verifier.what()
                )));
            }
            verify_body(entry, verifier, &sig, &digest_hex, Some(env))?;
            check_subject(&payload, &digest_hex)?;
            Ok(Some(payload))
        }
        _ => Err(fail(
            "the bundle must hold exactly one of messageSignature and dsseEnvelope",
        )),
    }
}

/// Verifies a keyless bundle offline for an artifact, following the Sigstore client
/// specification in sigstore-python's order (see the module docs for what is proven).
/// `signer` says whose signature it must be; [`SignerCheck::AnySigner`] verifies everything
/// else and reports the identity as not checked.
pub fn verify_keyless(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    root: &TrustedRoot,
    signer: SignerCheck<'_>,
) -> Result<SigstoreProof, Error> {
    let v01 = bundle_version_is_v01(bundle)?;
    let leaf_der = signing_certificate_der(bundle)?;
    let leaf = Certificate::from_der(&leaf_der).map_err(|e| {
        fail(format!(
            "the signing certificate is not valid DER X.509: {e}"
        ))
    })?;
    let vm = &bundle.verification_material;
    let [entry] = vm.tlog_entries.as_slice() else {
        return Err(fail(format!(
            "expected exactly one transparency log entry, the bundle has {}",
            vm.tlog_entries.len()
        )));
    };
    let signature = bundle_signature(bundle)?;
    let tlog = verify_tlog(entry, root, v01)?;
    let times = signing_times(&tlog, bundle, &signature, root)?;
    let mut issuer_cert = None;
    for (t, _) in &times {
        issuer_cert = Some(verify_chain(&leaf, root, *t)?.1);
    }
    let issuer_cert = issuer_cert.expect("signing_times returns at least one time");
    let ct_log = verify_sct(&leaf, &issuer_cert, root)?;
    let (identities, issuer) = leaf_identity(&leaf)?;
    let (identity, identity_check, identity_state) = match signer {
        SignerCheck::Expect(expected) => match expected.check(&identities, &issuer) {
            Ok(how) => (
                identities
                    .iter()
                    .find(|i| expected.identity.matches(i))
                    .cloned()
                    .unwrap_or_default(),
                how,
                CheckState::Verified,
            ),
            Err(reasons) => return Err(fail(reasons.join("; "))),
        },
        SignerCheck::AnySigner => (
            identities[0].clone(),
            "not checked (--any-signer): anyone can obtain a certificate for their own identity"
                .to_string(),
            CheckState::NotChecked,
        ),
    };
    let key = cert_key(&leaf)?;
    let dsse_payload =
        verify_signature_and_binding(bundle, entry, artifact, &key, Verifier::Cert(&leaf_der))?;
    let (time, time_source) = times[0].clone();
    let checks = BundleChecks {
        certificate_chain: CheckState::Verified,
        sct: CheckState::Verified,
        inclusion_proof: CheckState::from_bool(tlog.proof),
        checkpoint: CheckState::from_bool(tlog.checkpoint),
        signed_entry_timestamp: CheckState::from_bool(tlog.set),
        rfc3161_timestamp: CheckState::from_bool(
            times
                .iter()
                .any(|(_, s)| matches!(s, TimeSource::Timestamp(_))),
        ),
        artifact_digest: CheckState::Verified,
        identity: identity_state,
    };
    Ok(SigstoreProof {
        identity,
        identities,
        issuer,
        identity_check,
        checks,
        integrated_time: time,
        time_source,
        ct_log,
        log_index: parse_u64(&entry.log_index, "logIndex")?,
        log_url: tlog.log_url,
        inclusion_proof: tlog.proof,
        checkpoint: tlog.checkpoint,
        signed_entry_timestamp: tlog.set,
        dsse_payload,
    })
}

const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

/// Verifies an embedded SCT (RFC 6962 §3.2, precertificate entry) of the leaf against the
/// trusted CT logs; returns the CT log URL. The signed data is the leaf's TBSCertificate
/// without the SCT list extension, prefixed by the SHA-256 of the issuer's public key.
fn verify_sct(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<String, Error> {
    let exts = leaf
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let sct_ext = exts
        .iter()
        .find(|e| e.extn_id.to_string() == OID_SCT_LIST)
        .ok_or_else(|| {
            fail("the signing certificate has no embedded SCT (certificate transparency)")
        })?;
    let list = der::asn1::OctetString::from_der(sct_ext.extn_value.as_bytes())
        .map_err(|e| fail(format!("SCT list: {e}")))?;
    let list = list.as_bytes();
    let bad = || fail("SCT list: malformed TLS encoding");
    let u16_at = |b: &[u8], i: usize| -> Result<usize, Error> {
        Ok(
            u16::from_be_bytes([*b.get(i).ok_or_else(bad)?, *b.get(i + 1).ok_or_else(bad)?])
                as usize,
        )
    };
    if u16_at(list, 0)? + 2 != list.len() {
        return Err(bad());
    }
    let mut tbs = leaf.tbs_certificate.clone();
    tbs.extensions = Some(
        exts.iter()
            .filter(|e| e.extn_id.to_string() != OID_SCT_LIST)
            .cloned()
            .collect(),
    );
    let tbs_der = tbs
        .to_der()
        .map_err(|e| fail(format!("SCT: re-encoding the certificate: {e}")))?;
    let issuer_spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| fail(format!("SCT: issuer key: {e}")))?;
    let issuer_key_hash = Sha256::digest(&issuer_spki);
    let mut pos = 2;
    let mut reasons = Vec::new();
    while pos < list.len() {
        let len = u16_at(list, pos)?;
        let sct = list.get(pos + 2..pos + 2 + len).ok_or_else(bad)?;
        pos += 2 + len;
        // version(1) log_id(32) timestamp(8) extensions(2+n) hash(1) sig(1) sig_len(2) sig
        if sct.len() < 47 || sct[0] != 0 {
            reasons.push("unsupported SCT version".to_string());
            continue;
        }
        let log_id = &sct[1..33];
        let timestamp = &sct[33..41];
        let ext_len = u16_at(sct, 41)?;
        let ext = sct.get(43..43 + ext_len).ok_or_else(bad)?;
        let rest = &sct[43 + ext_len..];
        if rest.len() < 4 || u16_at(rest, 2)? + 4 != rest.len() {
            return Err(bad());
        }
        let sig = &rest[4..];
        let Some(log) = root
            .ctlogs
            .iter()
            .find(|l| B64.decode(&l.log_id.key_id).is_ok_and(|k| k == log_id))
        else {
            reasons.push(format!(
                "SCT from a CT log not in the trusted root ({})",
                B64.encode(log_id)
            ));
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_key_hash);
        let n = tbs_der.len();
        signed.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        signed.extend_from_slice(&tbs_der);
        signed.extend_from_slice(&(ext_len as u16).to_be_bytes());
        signed.extend_from_slice(ext);
        let key = AnyKey::from_spki_der(&b64(&log.public_key.raw_bytes, "trusted CT log key")?)?;
        if key.verify_message_sha256(&signed, sig) {
            return Ok(log.base_url.clone());
        }
        reasons.push(format!(
            "the SCT signature of {} does not verify",
            log.base_url
        ));
    }
    Err(fail(format!(
        "no embedded SCT of the signing certificate verifies against a trusted CT log ({})",
        reasons.join("; ")
    )))
}

/// Where a proven signing time comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The transparency log's integrated time (Rekor v1), authenticated by its SET.
    Log,
    /// An RFC 3161 timestamp from this timestamp authority (its URI in the trusted root).
    Timestamp(String),
}

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";

fn digest_by_oid(oid: &str, data: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match oid {
        OID_SHA256 => Sha256::digest(data).to_vec(),
        OID_SHA384 => Sha384::digest(data).to_vec(),
        OID_SHA512 => sha2::Sha512::digest(data).to_vec(),
        other => {
            return Err(fail(format!(
                "timestamp: unsupported digest algorithm {other}"
            )));
        }
    })
}

/// Parses `YYYYMMDDHHMMSS[.fff]Z` (RFC 3161 genTime may carry fractions, which the `der`
/// crate's GeneralizedTime rejects) into Unix seconds.
fn parse_generalized_time(s: &str) -> Result<i64, Error> {
    let bad = || fail(format!("timestamp: bad genTime {s:?}"));
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let whole = s.split('.').next().unwrap_or_default();
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |a: usize, b: usize| whole[a..b].parse::<u32>().map_err(|_| bad());
    let month = time::Month::try_from(n(4, 6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(n(0, 4)? as i32, month, n(6, 8)? as u8)
        .map_err(|_| bad())?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8)
        .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp())
}

/// Reads messageImprint (algorithm OID, hash) and genTime from a DER TSTInfo.
fn parse_tst_info(tst: &[u8]) -> Result<(String, Vec<u8>, i64), Error> {
    use der::{SliceReader, Tagged};
    let e = |e: der::Error| fail(format!("timestamp: TSTInfo: {e}"));
    let mut r = SliceReader::new(tst).map_err(e)?;
    let _seq = der::Header::decode(&mut r).map_err(e)?;
    let _version = der::asn1::Int::decode(&mut r).map_err(e)?;
    let _policy = der::asn1::ObjectIdentifier::decode(&mut r).map_err(e)?;
    let _imprint = der::Header::decode(&mut r).map_err(e)?;
    let alg = spki::AlgorithmIdentifierOwned::decode(&mut r).map_err(e)?;
    let hashed = der::asn1::OctetString::decode(&mut r).map_err(e)?;
    let _serial = der::asn1::Int::decode(&mut r).map_err(e)?;
    let gen_time = der::asn1::AnyRef::decode(&mut r).map_err(e)?;
    if gen_time.tag() != der::Tag::GeneralizedTime {
        return Err(fail("timestamp: TSTInfo genTime is not a GeneralizedTime"));
    }
    let gen_time = std::str::from_utf8(gen_time.value())
        .map_err(|_| fail("timestamp: genTime is not ASCII"))?;
    Ok((
        alg.oid.to_string(),
        hashed.as_bytes().to_vec(),
        parse_generalized_time(gen_time)?,
    ))
}

/// Verifies one RFC 3161 timestamp token over `signature` against the trusted TSAs; returns
/// the time and the TSA URI.
fn verify_timestamp(
    token: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(i64, String), Error> {
    use cms::content_info::ContentInfo;
    use cms::signed_data::SignedData;
    let e = |what: &str, err: der::Error| fail(format!("timestamp: {what}: {err}"));
    // Bundles carry either the TimeStampToken (a ContentInfo) or the whole TimeStampResp
    // `SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }`.
    let ci = match ContentInfo::from_der(token) {
        Ok(ci) => ci,
        Err(_) => {
            use der::{Reader, SliceReader};
            let mut r = SliceReader::new(token).map_err(|err| e("not DER", err))?;
            let resp = der::Header::decode(&mut r).map_err(|err| e("TimeStampResp", err))?;
            let status_hdr = der::Header::decode(&mut r).map_err(|err| e("PKIStatusInfo", err))?;
            let resp_len = resp.encoded_len().map_err(|err| e("TimeStampResp", err))? + resp.length;
            if resp.tag != der::Tag::Sequence
                || status_hdr.tag != der::Tag::Sequence
                || resp_len.map_err(|err| e("TimeStampResp", err))?
                    != der::Length::try_from(token.len()).map_err(|err| e("TimeStampResp", err))?
            {
                return Err(fail("timestamp: malformed TimeStampResp"));
            }
            let status = der::asn1::Int::decode(&mut r).map_err(|err| e("PKIStatus", err))?;
            // Only `granted` (0) with no statusString / failInfo is accepted.
            if status.as_bytes() != [0] || status_hdr.length != der::Length::new(3) {
                return Err(fail(
                    "timestamp: the timestamp response status is not a plain \"granted\"",
                ));
            }
            let ci = ContentInfo::decode(&mut r).map_err(|err| e("not a CMS ContentInfo", err))?;
            if !r.is_finished() {
                return Err(fail("timestamp: trailing data after the timestamp token"));
            }
            ci
        }
    };
    if ci.content_type.to_string() != OID_SIGNED_DATA {
        return Err(fail("timestamp: not CMS SignedData"));
    }
    let sd = SignedData::from_der(&ci.content.to_der().map_err(|err| e("content", err))?)
        .map_err(|err| e("SignedData", err))?;
    if sd.encap_content_info.econtent_type.to_string() != OID_TST_INFO {
        return Err(fail("timestamp: the signed content is not a TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| fail("timestamp: no TSTInfo content"))?;
    if der::Tagged::tag(econtent) != der::Tag::OctetString {
        return Err(fail(
            "timestamp: the TSTInfo content is not an OCTET STRING",
        ));
    }
    let tst = econtent.value().to_vec();
    let (imprint_alg, imprint, gen_time) = parse_tst_info(&tst)?;
    if digest_by_oid(&imprint_alg, signature)? != imprint {
        return Err(fail(
            "timestamp: it does not timestamp this signature (message imprint differs)",
        ));
    }
    let [si] = sd.signer_infos.0.as_slice() else {
        return Err(fail("timestamp: expected exactly one signer"));
    };
    // RFC 5652: SignedData v3 (TSTInfo content), SignerInfo v1 (issuer and serial number).
    if sd.version != cms::content_info::CmsVersion::V3
        || si.version != cms::content_info::CmsVersion::V1
    {
        return Err(fail(
            "timestamp: unexpected SignedData / SignerInfo version",
        ));
    }
    if sd.crls.is_some() || si.unsigned_attrs.is_some() {
        return Err(fail(
            "timestamp: unexpected CRLs or unsigned attributes in the token",
        ));
    }
    if !sd
        .digest_algorithms
        .iter()
        .any(|a| a.oid == si.digest_alg.oid)
    {
        return Err(fail(
            "timestamp: the signer's digest algorithm is not listed in SignedData",
        ));
    }
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| fail("timestamp: no signed attributes"))?;
    let md = attrs
        .iter()
        .find(|a| a.oid.to_string() == OID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .ok_or_else(|| fail("timestamp: no messageDigest attribute"))?;
    if md.value() != digest_by_oid(&si.digest_alg.oid.to_string(), &tst)? {
        return Err(fail(
            "timestamp: the messageDigest attribute does not match the TSTInfo",
        ));
    }
    let signed = attrs.to_der().map_err(|err| e("signed attributes", err))?;
    let digest = match si.signature_algorithm.oid.to_string().as_str() {
        OID_ECDSA_SHA256 => Sha256::digest(&signed).to_vec(),
        OID_ECDSA_SHA384 => Sha384::digest(&signed).to_vec(),
        other => {
            return Err(fail(format!(
                "timestamp: unsupported signature algorithm {other}"
            )));
        }
    };
    let mut reasons = Vec::new();
    for tsa in &root.timestamp_authorities {
        let mut chain = Vec::new();
        for c in &tsa.cert_chain.certificates {
            chain.push(
                Certificate::from_der(&b64(&c.raw_bytes, "trusted TSA certificate")?)
                    .map_err(|err| Error::Format(format!("trusted root TSA certificate: {err}")))?,
            );
        }
        let Some(leaf) = chain.first() else { continue };
        if !cert_key(leaf)?.verify_prehash(&digest, si.signature.as_bytes()) {
            continue;
        }
        // The unsigned parts of the token must agree with the trusted TSA: the signer id is
        // the TSA certificate, and any embedded certificate is one of the trusted chain.
        let sid_ok = match &si.sid {
            cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == leaf.tbs_certificate.issuer
                    && ias.serial_number == leaf.tbs_certificate.serial_number
            }
            cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(_) => false,
        };
        let embedded_ok = sd
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .all(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => chain.contains(c),
                cms::cert::CertificateChoices::Other(_) => false,
            });
        if !sid_ok || !embedded_ok {
            reasons.push(format!(
                "{}: the token's signer id or embedded certificates are not the trusted TSA's",
                tsa.uri
            ));
            continue;
        }
        if !valid_at(&tsa.valid_for, gen_time)? {
            reasons.push(format!("{}: not valid at {}", tsa.uri, fmt_time(gen_time)));
            continue;
        }
        let mut ok = true;
        for pair in chain.windows(2) {
            let (nb, na) = cert_validity(&pair[0]);
            ok &= verify_cert_signature(&pair[0], &pair[1]).is_ok()
                && nb <= gen_time
                && gen_time <= na;
        }
        if let Some(last) = chain.last() {
            ok &= verify_cert_signature(last, last).is_ok();
        }
        if ok {
            return Ok((gen_time, tsa.uri.clone()));
        }
        reasons.push(format!(
            "{}: the TSA certificate chain does not verify at {}",
            tsa.uri,
            fmt_time(gen_time)
        ));
    }
    Err(fail(format!(
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root{}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    )))
}

/// At most this many RFC 3161 timestamps are read (as sigstore-go and sigstore-python).
const MAX_TIMESTAMPS: usize = 32;

/// Verifies every RFC 3161 timestamp of the bundle; returns their times and TSA URIs.
fn verify_timestamps(
    data: Option<&Value>,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<(i64, String)>, Error> {
    let tokens: Vec<&str> = data
        .and_then(|d| d["rfc3161Timestamps"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t["signedTimestamp"].as_str())
        .collect();
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    if tokens.len() > MAX_TIMESTAMPS {
        return Err(fail(format!(
            "the bundle has {} RFC 3161 timestamps, more than the {MAX_TIMESTAMPS} a verifier reads",
            tokens.len()
        )));
    }
    if tokens
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        != tokens.len()
    {
        return Err(fail("the bundle has the same RFC 3161 timestamp twice"));
    }
    if root.timestamp_authorities.is_empty() {
        return Err(fail(
            "the bundle has an RFC 3161 timestamp but the trusted root has no timestamp authority to verify it",
        ));
    }
    tokens
        .into_iter()
        .map(|t| verify_timestamp(&b64(t, "signedTimestamp")?, signature, root))
        .collect()
}

/// Checks an in-toto statement names the artifact's SHA-256 among its subjects.
pub fn check_subject(payload: &[u8], digest_hex: &str) -> Result<crate::intoto::Statement, Error> {
    let st = crate::intoto::Statement::parse(payload)?;
    if st.subject.iter().any(|s| {
        s.digest
            .get("sha256")
            .is_some_and(|d| d.eq_ignore_ascii_case(digest_hex))
    }) {
        Ok(st)
    } else {
        Err(fail(format!(
            "no subject of the statement has the artifact's sha256 {digest_hex}"
        )))
    }
}

/// What a verified key-based bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProof {
    /// Which checks passed (no certificate, SCT or identity for a key).
    pub checks: BundleChecks,
    /// The transparency log and index, when the bundle carries a log entry.
    pub log: Option<(String, u64)>,
    /// The DSSE payload (an in-toto statement) when the bundle holds an envelope.
    pub dsse_payload: Option<Vec<u8>>,
}

/// Verifies a key-based ("managed key") bundle with the given public key. The bundle's
/// `publicKey.hint` is opaque and never compared. A bundle with a transparency log entry
/// (cosign, sigstore-go) has it verified as a keyless one's is, against `root` (inclusion
/// proof + checkpoint, SET or RFC 3161 time, the entry bound to this key, signature and
/// digest); relkit's own key bundles carry none.
pub fn verify_with_key(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    key: &PublicKey,
    root: Option<&TrustedRoot>,
) -> Result<KeyProof, Error> {
    let v01 = bundle_version_is_v01(bundle)?;
    let vm = &bundle.verification_material;
    if vm.certificate.is_some() || vm.x509_certificate_chain.is_some() {
        return Err(fail(
            "this is a keyless bundle (it carries a certificate), not a key-based one",
        ));
    }
    let spki = key.to_der();
    let any_key = AnyKey::from_spki_der(&spki)?;
    let mut checks = BundleChecks {
        certificate_chain: CheckState::Absent,
        sct: CheckState::Absent,
        inclusion_proof: CheckState::Absent,
        checkpoint: CheckState::Absent,
        signed_entry_timestamp: CheckState::Absent,
        rfc3161_timestamp: CheckState::Absent,
        artifact_digest: CheckState::Verified,
        identity: CheckState::Absent,
    };
    let entry = match vm.tlog_entries.as_slice() {
        [] => None,
        [e] => Some(e),
        many => {
            return Err(fail(format!(
                "expected at most one transparency log entry, the bundle has {}",
                many.len()
            )));
        }
    };
    let Some(entry) = entry else {
        let dsse_payload = verify_without_log(bundle, artifact, key, &any_key)?;
        return Ok(KeyProof {
            checks,
            log: None,
            dsse_payload,
        });
    };
    let root = root.ok_or_else(|| {
        fail("the bundle carries a transparency log entry, which needs a trusted root to verify")
    })?;
    let signature = bundle_signature(bundle)?;
    let tlog = verify_tlog(entry, root, v01)?;
    let times = signing_times(&tlog, bundle, &signature, root)?;
    let dsse_payload =
        verify_signature_and_binding(bundle, entry, artifact, &any_key, Verifier::Key(&spki))?;
    checks.inclusion_proof = CheckState::from_bool(tlog.proof);
    checks.checkpoint = CheckState::from_bool(tlog.checkpoint);
    checks.signed_entry_timestamp = CheckState::from_bool(tlog.set);
    checks.rfc3161_timestamp = CheckState::from_bool(
        times
            .iter()
            .any(|(_, s)| matches!(s, TimeSource::Timestamp(_))),
    );
    Ok(KeyProof {
        checks,
        log: Some((tlog.log_url, parse_u64(&entry.log_index, "logIndex")?)),
        dsse_payload,
    })
}

/// A key-based bundle without a log entry: the signature (and digest hint) only.
fn verify_without_log(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    key: &PublicKey,
    any_key: &AnyKey,
) -> Result<Option<Vec<u8>>, Error> {
    match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(ms), None) => {
            if let Some(md) = &ms.message_digest
                && (md.algorithm != "SHA2_256"
                    || b64(&md.digest, "messageDigest")? != artifact.sha256)
            {
                return Err(fail(
                    "the bundle's message digest is not the artifact's SHA-256",
                ));
            }
            let sig = b64(&ms.signature, "messageSignature.signature")?;
            let ok = match key {
                PublicKey::P256(_) => any_key.verify_prehash(&artifact.sha256, &sig),
                PublicKey::Ed25519(_) => {
                    artifact.bytes.is_some_and(|b| key.verify(b, &sig).is_ok())
                }
            };
            if ok {
                Ok(None)
            } else {
                Err(fail(
                    "the signature does not verify over the artifact with the given key",
                ))
            }
        }
        (None, Some(env)) => {
            let payload = env.verify(key)?;
            check_subject(&payload, &hex::encode(artifact.sha256))?;
            Ok(Some(payload))
        }
        _ => Err(fail(
            "the bundle must hold exactly one of messageSignature and dsseEnvelope",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_leaf_and_root() -> (Certificate, TrustedRoot, i64) {
        let fix = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sigstore/");
        let b = Bundle::parse(
            &std::fs::read_to_string(format!("{fix}bundle_v3.txt.sigstore")).unwrap(),
        )
        .unwrap();
        let der = B64
            .decode(&b.verification_material.certificate.unwrap().raw_bytes)
            .unwrap();
        let root = TrustedRoot::parse(
            &std::fs::read_to_string(format!("{fix}trusted_root.staging.json")).unwrap(),
        )
        .unwrap();
        let t: i64 = b.verification_material.tlog_entries[0]
            .integrated_time
            .as_deref()
            .unwrap()
            .parse()
            .unwrap();
        (Certificate::from_der(&der).unwrap(), root, t)
    }

    #[test]
    fn certificate_expired_or_not_yet_valid_at_signing_time_fails() {
        let (leaf, root, t) = fixture_leaf_and_root();
        assert!(verify_chain(&leaf, &root, t).is_ok());
        let (nb, na) = cert_validity(&leaf);
        for when in [na + 1, nb - 1, t + 86_400] {
            let e = verify_chain(&leaf, &root, when).unwrap_err().to_string();
            assert!(
                e.contains("was not valid at the proven signing time"),
                "{e}"
            );
        }
        // A trusted root without the signing CA does not anchor the chain.
        let mut empty = root.clone();
        empty.certificate_authorities.clear();
        assert!(
            verify_chain(&leaf, &empty, t)
                .unwrap_err()
                .to_string()
                .contains("does not chain")
        );
        let (identities, issuer) = leaf_identity(&leaf).unwrap();
        assert_eq!(
            (identities, issuer.as_str()),
            (
                vec!["william@yossarian.net".to_string()],
                "https://github.com/login/oauth"
            )
        );
    }

    #[test]
    fn inclusion_proof_small_trees() {
        // A 3-leaf tree: root = H(H(l0,l1), l2).
        let l: Vec<[u8; 32]> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        let n = |a: &[u8], b: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(a);
            h.update(b);
            h.finalize().into()
        };
        let n01 = n(&l[0], &l[1]);
        let root = n(&n01, &l[2]);
        assert!(verify_inclusion(0, 3, l[0], &[l[1], l[2]], &root));
        assert!(verify_inclusion(2, 3, l[2], &[n01], &root));
        assert!(!verify_inclusion(1, 3, l[1], &[l[1], l[2]], &root));
        assert!(!verify_inclusion(3, 3, l[2], &[n01], &root));
    }
}
