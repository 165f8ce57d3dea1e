//! `relkit verify`: checks an artifact against any combination of a checksums file, a
//! detached or minisign signature, a Sigstore bundle, a provenance attestation and a policy,
//! and says in words what was proven. It fails closed: a piece that cannot be verified, or a
//! policy requirement without the material to check it, is a failed check with a reason.

use serde::Serialize;

use crate::Error;
use crate::checksum::{Algo, parse_sums};
use crate::dsse::Envelope;
use crate::intoto::{ProvenanceFacts, SLSA_PROVENANCE_V1, Statement, provenance_facts};
use crate::keys::PublicKey;
use crate::minisign;
use crate::policy::Policy;
use crate::sigstore::{
    Artifact, Bundle, SigstoreProof, TrustedRoot, check_subject, verify_keyless, verify_with_key,
};

/// A verification key: a PKIX (SPKI PEM) key or a minisign public key.
#[derive(Debug, Clone)]
pub enum VerifyKey {
    /// ed25519 or P-256 SPKI key.
    Pkix(PublicKey),
    /// minisign public key.
    Minisign(minisign::PublicKey),
}

impl VerifyKey {
    /// Parses an SPKI PEM or a minisign public key file.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            PublicKey::from_pem(text).map(VerifyKey::Pkix)
        } else {
            minisign::PublicKey::parse(text).map(VerifyKey::Minisign)
        }
    }
}

/// A named input document (its path for messages, and its content).
#[derive(Debug, Clone)]
pub struct Input<T> {
    /// Where it came from (shown in reasons).
    pub path: String,
    /// The content.
    pub content: T,
}

/// Everything `verify` may be given.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// Artifact name as listed in checksum files and statements (its file name).
    pub name: String,
    /// The artifact digest (and bytes when available).
    pub artifact: Artifact<'a>,
    /// A SHA256SUMS file.
    pub checksums: Option<Input<String>>,
    /// A detached signature (raw/DER bytes, or minisign text).
    pub signature: Option<Input<Vec<u8>>>,
    /// The public key for signatures, key-based bundles and DSSE envelopes.
    pub key: Option<VerifyKey>,
    /// A Sigstore bundle over the artifact.
    pub bundle: Option<Input<String>>,
    /// A provenance attestation: DSSE envelope or Sigstore bundle with a DSSE envelope.
    pub provenance: Option<Input<String>>,
    /// A policy.
    pub policy: Option<Input<Policy>>,
    /// A Sigstore trusted root for keyless bundles.
    pub trusted_root: Option<Input<TrustedRoot>>,
}

/// One check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `checksums`, `signature`, `bundle`, `provenance`, `policy`.
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was proven, or why it failed.
    pub detail: String,
}

/// The verification report (stable JSON for `--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Artifact name.
    pub artifact: String,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Every check performed, in order.
    pub checks: Vec<Check>,
    /// The signer proven by a Sigstore bundle, if any.
    pub signer: Option<SigstoreProof>,
    /// The provenance proven by an attestation, if any.
    pub provenance: Option<ProvenanceFacts>,
    /// True only when at least one check ran and every check passed.
    pub passed: bool,
}

impl Report {
    fn push(&mut self, check: &str, r: Result<String, String>) {
        let (passed, detail) = match r {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.checks.push(Check {
            check: check.into(),
            passed,
            detail,
        });
    }
}

fn describe_signer(p: &SigstoreProof) -> String {
    let when = time::OffsetDateTime::from_unix_timestamp(p.integrated_time)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let mut how = Vec::new();
    if p.inclusion_proof {
        how.push("inclusion proof");
    }
    if p.checkpoint {
        how.push("signed checkpoint");
    }
    if p.signed_entry_timestamp {
        how.push("signed entry timestamp");
    }
    let mut how = format!("{} verified", how.join(", "));
    if let crate::sigstore::TimeSource::Timestamp(tsa) = &p.time_source {
        how.push_str(&format!(
            "; signing time from an RFC 3161 timestamp by {tsa}"
        ));
    }
    format!(
        "signed by {} (OIDC issuer {}) with a Fulcio certificate that chains to the trusted root, was valid at {when} and carries a verified SCT from {}; recorded in the transparency log {} at index {} ({how})",
        p.identity, p.issuer, p.ct_log, p.log_url, p.log_index
    )
}

fn describe_provenance(f: &ProvenanceFacts) -> String {
    format!(
        "built by workflow {} of {} at commit {} (ref {}), builder {}",
        or_unknown(&f.workflow_path),
        or_unknown(&f.repository),
        or_unknown(&f.commit),
        or_unknown(&f.git_ref),
        or_unknown(&f.builder_id)
    )
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "(not stated)" } else { s }
}

/// A verified bundle: the keyless proof (if keyless), the DSSE payload (if any), and a sentence.
type BundleResult = Result<(Option<SigstoreProof>, Option<Vec<u8>>, String), String>;

/// A bundle verified either keyless (trusted root) or with the given key.
fn verify_any_bundle(inputs: &Inputs<'_>, path: &str, text: &str) -> BundleResult {
    let bundle = Bundle::parse(text).map_err(|e| format!("{path}: {e}"))?;
    if bundle.verification_material.public_key.is_some() {
        let Some(VerifyKey::Pkix(key)) = &inputs.key else {
            return Err(format!(
                "{path}: a key-based bundle needs the signer's public key (--key PUB.pem)"
            ));
        };
        let payload =
            verify_with_key(&bundle, inputs.artifact, key).map_err(|e| format!("{path}: {e}"))?;
        let what = format!(
            "signed by the {} key {} (key-based bundle, no transparency log entry)",
            key.kind().name(),
            key.key_id()
        );
        return Ok((None, payload, what));
    }
    let Some(root) = &inputs.trusted_root else {
        return Err(format!(
            "{path}: a keyless Sigstore bundle needs --trusted-root trusted_root.json"
        ));
    };
    let proof = verify_keyless(&bundle, inputs.artifact, &root.content)
        .map_err(|e| format!("{path}: {e}"))?;
    let what = describe_signer(&proof);
    let payload = proof.dsse_payload.clone();
    Ok((Some(proof), payload, what))
}

/// Runs every check the inputs call for. `Err` only when there is nothing to verify.
pub fn verify(inputs: &Inputs<'_>) -> Result<Report, Error> {
    let digest_hex = hex::encode(inputs.artifact.sha256);
    let mut report = Report {
        artifact: inputs.name.clone(),
        sha256: digest_hex.clone(),
        checks: Vec::new(),
        signer: None,
        provenance: None,
        passed: false,
    };

    if let Some(sums) = &inputs.checksums {
        let parsed = parse_sums(Algo::Sha256, &sums.content);
        let r = match parsed.lines.iter().find(|l| l.name == inputs.name) {
            None => Err(format!("{}: {} is not listed", sums.path, inputs.name)),
            Some(l) if l.hex.eq_ignore_ascii_case(&digest_hex) => Ok(format!(
                "its SHA-256 {digest_hex} matches line {} of {}",
                l.line_no, sums.path
            )),
            Some(l) => Err(format!(
                "{}: line {} lists SHA-256 {} but the artifact's is {digest_hex}",
                sums.path, l.line_no, l.hex
            )),
        };
        report.push("checksums", r);
    }

    if let Some(sig) = &inputs.signature {
        let r = match (&inputs.key, inputs.artifact.bytes) {
            (None, _) => Err(format!("{}: a signature needs --key", sig.path)),
            (Some(_), None) => {
                Err("a detached signature needs the artifact file itself".to_string())
            }
            (Some(VerifyKey::Minisign(k)), Some(bytes)) => {
                let text = String::from_utf8_lossy(&sig.content);
                minisign::verify(k, bytes, &text)
                    .map(|tc| {
                        format!(
                            "minisign signature by key {} verified (trusted comment: {tc})",
                            minisign::key_id_hex(&k.key_id)
                        )
                    })
                    .map_err(|e| format!("{}: {e}", sig.path))
            }
            (Some(VerifyKey::Pkix(k)), Some(bytes)) => k
                .verify(bytes, &sig.content)
                .map(|()| format!("signed by the {} key {}", k.kind().name(), k.key_id()))
                .map_err(|e| format!("{}: {e}", sig.path)),
        };
        report.push("signature", r);
    }

    if let Some(b) = &inputs.bundle {
        match verify_any_bundle(inputs, &b.path, &b.content) {
            Ok((proof, _, what)) => {
                report.signer = proof;
                report.push("bundle", Ok(what));
            }
            Err(e) => report.push("bundle", Err(e)),
        }
    }

    if let Some(p) = &inputs.provenance {
        let r = verify_provenance(inputs, &p.path, &p.content, &digest_hex);
        match r {
            Ok((st, proof, what)) => {
                if report.signer.is_none() {
                    report.signer = proof;
                }
                if st.predicate_type.starts_with(SLSA_PROVENANCE_V1) {
                    let facts = provenance_facts(&st.predicate);
                    report.push(
                        "provenance",
                        Ok(format!(
                            "{}; attestation {what}",
                            describe_provenance(&facts)
                        )),
                    );
                    report.provenance = Some(facts);
                } else {
                    report.push(
                        "provenance",
                        Err(format!(
                            "{}: predicate type {} is not SLSA provenance v1",
                            p.path, st.predicate_type
                        )),
                    );
                }
            }
            Err(e) => report.push("provenance", Err(e)),
        }
    }

    if let Some(policy) = &inputs.policy {
        let mut reasons = Vec::new();
        let mut proven = Vec::new();
        if let Some(pp) = &policy.content.provenance {
            match &report.provenance {
                None => reasons.push(format!(
                    "{}: the policy has [provenance] requirements but no verified provenance was given (--provenance)",
                    policy.path
                )),
                Some(f) => {
                    let v = pp.violations(f);
                    if v.is_empty() {
                        proven.push("the provenance requirements");
                    }
                    reasons.extend(v);
                }
            }
        }
        if let Some(sp) = &policy.content.signer {
            match &report.signer {
                None => reasons.push(format!(
                    "{}: the policy has [signer] requirements but no verified keyless Sigstore signature was given",
                    policy.path
                )),
                Some(s) => {
                    let v = sp.violations(&s.identity, &s.issuer);
                    if v.is_empty() {
                        proven.push("the signer requirements");
                    }
                    reasons.extend(v);
                }
            }
        }
        let r = if reasons.is_empty() {
            Ok(format!(
                "{} satisfied: {}",
                policy.path,
                proven.join(" and ")
            ))
        } else {
            Err(reasons.join("; "))
        };
        report.push("policy", r);
    }

    if report.checks.is_empty() {
        return Err(Error::Verification(
            "nothing to verify: give --checksums, --signature with --key, --bundle or --provenance"
                .into(),
        ));
    }
    report.passed = report.checks.iter().all(|c| c.passed);
    Ok(report)
}

type ProvenanceResult = Result<(Statement, Option<SigstoreProof>, String), String>;

fn verify_provenance(
    inputs: &Inputs<'_>,
    path: &str,
    text: &str,
    digest_hex: &str,
) -> ProvenanceResult {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{path}: not JSON: {e}"))?;
    if json.get("mediaType").is_some() {
        let (proof, payload, what) = verify_any_bundle(inputs, path, text)?;
        let payload = payload
            .ok_or_else(|| format!("{path}: the bundle holds no DSSE envelope (no attestation)"))?;
        let st = check_subject(&payload, digest_hex).map_err(|e| format!("{path}: {e}"))?;
        return Ok((st, proof, what));
    }
    let env: Envelope =
        serde_json::from_value(json).map_err(|e| format!("{path}: not a DSSE envelope: {e}"))?;
    let Some(VerifyKey::Pkix(key)) = &inputs.key else {
        return Err(format!(
            "{path}: a DSSE envelope needs the signer's public key (--key PUB.pem)"
        ));
    };
    let payload = env.verify(key).map_err(|e| format!("{path}: {e}"))?;
    let st = check_subject(&payload, digest_hex).map_err(|e| format!("{path}: {e}"))?;
    Ok((
        st,
        None,
        format!("signed by the {} key {}", key.kind().name(), key.key_id()),
    ))
}
