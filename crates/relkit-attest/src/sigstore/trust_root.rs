//! The Sigstore `trusted_root.json`: logs, CAs, CT logs, TSAs and their validity windows;
//! the public-good production and staging roots shipped with relkit.

use super::*;

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
pub const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../../data/trusted_root.production.json");
/// The Sigstore public-good staging trusted root shipped with relkit.
pub const STAGING_TRUSTED_ROOT: &str = include_str!("../../data/trusted_root.staging.json");

impl TrustedRoot {
    /// Parses a trusted root JSON document. Every validity window must have a start (the
    /// protobuf-specs `TimeRange`): a missing bound is refused, never read as "always".
    pub fn parse(text: &str) -> Result<Self, Error> {
        let root: TrustedRoot =
            serde_json::from_str(text).map_err(|e| Error::format_caused("trusted root", e))?;
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
