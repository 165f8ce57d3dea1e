//! The Sigstore bundle JSON format (v0.1–v0.3): the fields relkit reads and writes, and
//! writing key-based bundles.

use super::*;

/// Media type of bundles relkit writes.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub(super) const KNOWN_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    BUNDLE_V03,
];

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

impl Bundle {
    /// Parses a bundle JSON document.
    pub fn parse(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::format_caused("Sigstore bundle", e))
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
