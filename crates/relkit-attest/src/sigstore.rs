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

mod bundle;
mod rekor;
mod sct;
mod trust_root;
mod tsa;
mod x509;

pub use bundle::*;
pub use rekor::*;
use sct::*;
pub use trust_root::*;
use tsa::*;
use x509::*;

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
        .map_err(|e| Error::format_caused(format!("Sigstore bundle: {what} is not base64"), e))
}

fn fail(msg: impl Into<String>) -> Error {
    Error::Verification(msg.into())
}

fn fail_from(msg: impl Into<String>, source: impl Into<crate::Cause>) -> Error {
    Error::verification_caused(msg, source)
}

fn parse_u64(s: &str, what: &str) -> Result<u64, Error> {
    s.parse()
        .map_err(|_| Error::Format(format!("Sigstore bundle: {what} {s:?} is not an integer")))
}

/// Parses an RFC 3339 time into Unix seconds.
fn rfc3339(s: &str) -> Result<i64, Error> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| Error::format_caused(format!("trusted root: bad time {s:?}"), e))
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

fn fmt_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
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
            .map_err(|e| fail_from("a chain certificate is not valid DER X.509", e))?;
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
    let leaf = Certificate::from_der(&leaf_der)
        .map_err(|e| fail_from("the signing certificate is not valid DER X.509", e))?;
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

/// Where a proven signing time comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The transparency log's integrated time (Rekor v1), authenticated by its SET.
    Log,
    /// An RFC 3161 timestamp from this timestamp authority (its URI in the trusted root).
    Timestamp(String),
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
