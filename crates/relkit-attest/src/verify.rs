//! `relkit verify`: checks an artifact against any combination of a checksums file, a
//! detached or minisign signature, a Sigstore bundle, a provenance attestation and a policy,
//! and says in words what was proven. It fails closed: a piece that cannot be verified, or a
//! policy requirement without the material to check it, is a failed check with a reason. A
//! keyless Sigstore bundle needs an expected signer ([`VerifyOptions::signer`] or the
//! policy's `[signer]`): without one it fails unless [`VerifyOptions::any_signer`] is set.

use serde::Serialize;

use crate::Error;
use crate::checksum::{Algo, parse_sums};
use crate::dsse::Envelope;
use crate::intoto::{ProvenanceFacts, SLSA_PROVENANCE_V1, Statement, provenance_facts};
use crate::keys::PublicKey;
use crate::minisign;
use crate::policy::{ExpectedSigner, Policy};
use crate::sigstore::{
    Artifact, Bundle, BundleChecks, SignerCheck, SigstoreProof, TrustedRoot, check_subject,
    verify_keyless, verify_with_key,
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

/// How keyless Sigstore signatures are judged.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The expected signer (from `--certificate-identity` / `--certificate-oidc-issuer`); a
    /// policy's `[signer]` applies as well.
    pub signer: Option<ExpectedSigner>,
    /// Accept any signer when no expected signer is given (`--any-signer`): every other
    /// check still runs, the identity is reported as not checked.
    pub any_signer: bool,
}

/// The message for a keyless bundle without an expected signer.
pub const NO_SIGNER: &str = "a keyless Sigstore bundle proves only that someone signed: give the expected signer with --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer, or a --policy with a [signer] table; --any-signer accepts any signer";

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
    /// Which checks the Sigstore bundle (`--bundle`) passed, keyless or key-based.
    pub bundle_checks: Option<BundleChecks>,
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
        "signed by {} (OIDC issuer {}) with a Fulcio certificate that chains to the trusted root, was valid at {when} and carries a verified SCT from {}; recorded in the transparency log {} at index {} ({how}); expected signer: {}",
        p.identity, p.issuer, p.ct_log, p.log_url, p.log_index, p.identity_check
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

/// A verified bundle: the keyless proof (if keyless), the checks passed, the DSSE payload
/// (if any), and a sentence.
type BundleResult = Result<(Option<SigstoreProof>, BundleChecks, Option<Vec<u8>>, String), String>;

/// Whether a bundle is key-based (no certificate); unparsable text counts as keyless.
pub fn is_key_based(bundle_text: &str) -> bool {
    Bundle::parse(bundle_text).is_ok_and(|b| {
        let vm = &b.verification_material;
        vm.certificate.is_none() && vm.x509_certificate_chain.is_none() && vm.public_key.is_some()
    })
}

/// A bundle verified either keyless (trusted root + expected signer) or with the given key.
fn verify_any_bundle(
    inputs: &Inputs<'_>,
    opts: &VerifyOptions,
    path: &str,
    text: &str,
) -> BundleResult {
    let bundle = Bundle::parse(text).map_err(|e| format!("{path}: {}", e.chain_text()))?;
    let root = inputs.trusted_root.as_ref().map(|r| &r.content);
    if is_key_based(text) {
        let Some(VerifyKey::Pkix(key)) = &inputs.key else {
            return Err(format!(
                "{path}: a key-based bundle needs the signer's public key (--key PUB.pem)"
            ));
        };
        let proof = verify_with_key(&bundle, inputs.artifact, key, root)
            .map_err(|e| format!("{path}: {}", e.chain_text()))?;
        let log = match &proof.log {
            Some((url, index)) => format!(
                "recorded in the transparency log {url} at index {index} ({})",
                describe_checks(&proof.checks)
            ),
            None => "key-based bundle, no transparency log entry".to_string(),
        };
        let what = format!(
            "signed by the {} key {} ({log})",
            key.kind().name(),
            key.key_id()
        );
        return Ok((None, proof.checks, proof.dsse_payload, what));
    }
    let Some(root) = root else {
        return Err(format!(
            "{path}: a keyless Sigstore bundle needs a trusted root (--trusted-root trusted_root.json, or relkit's shipped --staging / production root)"
        ));
    };
    let policy_signer = match inputs
        .policy
        .as_ref()
        .and_then(|p| p.content.signer.as_ref())
    {
        Some(sp) => Some(sp.expected().map_err(|e| e.chain_text())?),
        None => None,
    };
    let expected: Vec<&ExpectedSigner> = opts.signer.iter().chain(policy_signer.iter()).collect();
    let check = match expected.first() {
        Some(e) => SignerCheck::Expect(e),
        None if opts.any_signer => SignerCheck::AnySigner,
        None => return Err(format!("{path}: {NO_SIGNER}")),
    };
    let proof = verify_keyless(&bundle, inputs.artifact, root, check)
        .map_err(|e| format!("{path}: {}", e.chain_text()))?;
    for e in expected.iter().skip(1) {
        e.check(&proof.identities, &proof.issuer)
            .map_err(|r| format!("{path}: {}", r.join("; ")))?;
    }
    let what = describe_signer(&proof);
    let payload = proof.dsse_payload.clone();
    let checks = proof.checks;
    Ok((Some(proof), checks, payload, what))
}

/// `name verified, name absent, …` for the checks a bundle went through.
fn describe_checks(c: &BundleChecks) -> String {
    c.pairs()
        .iter()
        .map(|(name, state)| {
            format!(
                "{name} {}",
                match state {
                    crate::sigstore::CheckState::Verified => "verified",
                    crate::sigstore::CheckState::Absent => "absent",
                    crate::sigstore::CheckState::NotChecked => "NOT CHECKED",
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs every check the inputs call for, with the default options (a keyless bundle needs
/// the policy's `[signer]`). `Err` only when there is nothing to verify.
pub fn verify(inputs: &Inputs<'_>) -> Result<Report, Error> {
    verify_with(inputs, &VerifyOptions::default())
}

/// Runs every check the inputs call for. `Err` only when there is nothing to verify.
pub fn verify_with(inputs: &Inputs<'_>, opts: &VerifyOptions) -> Result<Report, Error> {
    let digest_hex = hex::encode(inputs.artifact.sha256);
    let mut report = Report {
        artifact: inputs.name.clone(),
        sha256: digest_hex.clone(),
        checks: Vec::new(),
        signer: None,
        bundle_checks: None,
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
                    .map_err(|e| format!("{}: {}", sig.path, e.chain_text()))
            }
            (Some(VerifyKey::Pkix(k)), Some(bytes)) => k
                .verify(bytes, &sig.content)
                .map(|()| format!("signed by the {} key {}", k.kind().name(), k.key_id()))
                .map_err(|e| format!("{}: {}", sig.path, e.chain_text())),
        };
        report.push("signature", r);
    }

    if let Some(b) = &inputs.bundle {
        match verify_any_bundle(inputs, opts, &b.path, &b.content) {
            Ok((proof, checks, _, what)) => {
                report.signer = proof;
                report.bundle_checks = Some(checks);
                report.push("bundle", Ok(what));
            }
            Err(e) => report.push("bundle", Err(e)),
        }
    }

    if let Some(p) = &inputs.provenance {
        let r = verify_provenance(inputs, opts, &p.path, &p.content, &digest_hex);
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
                Some(s) => match sp.expected() {
                    Err(e) => reasons.push(format!("{}: {}", policy.path, e.chain_text())),
                    Ok(expected) => match expected.check(&s.identities, &s.issuer) {
                        Ok(_) => proven.push("the signer requirements"),
                        Err(v) => reasons.extend(v.into_iter().map(|r| format!("policy: {r}"))),
                    },
                },
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
    opts: &VerifyOptions,
    path: &str,
    text: &str,
    digest_hex: &str,
) -> ProvenanceResult {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{path}: not JSON: {e}"))?;
    if json.get("mediaType").is_some() {
        let (proof, _, payload, what) = verify_any_bundle(inputs, opts, path, text)?;
        let payload = payload
            .ok_or_else(|| format!("{path}: the bundle holds no DSSE envelope (no attestation)"))?;
        let st = check_subject(&payload, digest_hex)
            .map_err(|e| format!("{path}: {}", e.chain_text()))?;
        return Ok((st, proof, what));
    }
    let env: Envelope =
        serde_json::from_value(json).map_err(|e| format!("{path}: not a DSSE envelope: {e}"))?;
    let Some(VerifyKey::Pkix(key)) = &inputs.key else {
        return Err(format!(
            "{path}: a DSSE envelope needs the signer's public key (--key PUB.pem)"
        ));
    };
    let payload = env
        .verify(key)
        .map_err(|e| format!("{path}: {}", e.chain_text()))?;
    let st =
        check_subject(&payload, digest_hex).map_err(|e| format!("{path}: {}", e.chain_text()))?;
    Ok((
        st,
        None,
        format!("signed by the {} key {}", key.kind().name(), key.key_id()),
    ))
}
