//! DSSE envelopes (Dead Simple Signing Envelope, <https://github.com/secure-systems-lab/dsse>).
//!
//! The signature is over the pre-authentication encoding
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, with lengths as
//! ASCII decimal byte counts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::keys::{PrivateKey, PublicKey};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Pre-authentication encoding, exactly as the DSSE v1 protocol defines it.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope in its JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the payload bytes.
    pub payload: String,
    /// Media type of the payload.
    pub payload_type: String,
    /// One or more signatures over PAE(payloadType, payload).
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature in an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Optional key id hint (not authenticated).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 signature bytes.
    pub sig: String,
}

impl Envelope {
    /// Signs a payload and wraps it in an envelope; the key id is the SPKI SHA-256 hex.
    pub fn sign(key: &PrivateKey, payload_type: &str, payload: &[u8]) -> Self {
        let sig = key.sign(&pae(payload_type, payload));
        Envelope {
            payload: B64.encode(payload),
            payload_type: payload_type.to_string(),
            signatures: vec![EnvelopeSignature {
                keyid: key.public().key_id(),
                sig: B64.encode(sig),
            }],
        }
    }

    /// The decoded payload bytes.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, Error> {
        B64.decode(&self.payload)
            .map_err(|e| Error::format_caused("DSSE envelope: $.payload is not base64", e))
    }

    /// Verifies that at least one signature is valid for `key`; returns the payload bytes.
    pub fn verify(&self, key: &PublicKey) -> Result<Vec<u8>, Error> {
        let payload = self.payload_bytes()?;
        let msg = pae(&self.payload_type, &payload);
        if self.signatures.is_empty() {
            return Err(Error::Signature("DSSE envelope has no signatures".into()));
        }
        for s in &self.signatures {
            if let Ok(sig) = B64.decode(&s.sig)
                && key.verify(&msg, &sig).is_ok()
            {
                return Ok(payload);
            }
        }
        Err(Error::Signature(format!(
            "no signature in the DSSE envelope verifies with the {} key {}",
            key.kind().name(),
            key.key_id()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // From the DSSE protocol document: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
