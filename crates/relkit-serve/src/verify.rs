//! Verification on arrival, reusing relkit's own checkers: SBOMs go through
//! `relkit_sbom::check` (what `relkit sbom check` runs), signatures, Sigstore bundles and
//! provenance through `relkit_attest::verify` (what `relkit verify` runs) against the file's
//! digest and the project's key / trusted root; the project policy is applied at publish time
//! over all of a file's material together.

use relkit_attest::policy::Policy;
use relkit_attest::sigstore::{Artifact, TrustedRoot};
use relkit_attest::verify::{Input, Inputs, VerifyKey, VerifyOptions, verify, verify_with};

/// The kinds of material attached to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SPDX 2.3 or CycloneDX JSON SBOM.
    Sbom,
    /// Detached signature (raw/DER ed25519 / P-256, or minisign).
    Signature,
    /// Sigstore bundle over the file.
    Bundle,
    /// Provenance: DSSE envelope or Sigstore bundle holding an in-toto SLSA statement.
    Provenance,
}

impl Kind {
    /// Parses the URL segment.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "sbom" => Kind::Sbom,
            "signature" => Kind::Signature,
            "bundle" => Kind::Bundle,
            "provenance" => Kind::Provenance,
            _ => return None,
        })
    }

    /// The URL segment / stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sbom => "sbom",
            Kind::Signature => "signature",
            Kind::Bundle => "bundle",
            Kind::Provenance => "provenance",
        }
    }
}

/// A project's verification settings.
#[derive(Debug, Clone, Default)]
pub struct ProjectRules {
    /// Policy TOML text.
    pub policy: Option<String>,
    /// Public key (SPKI PEM or minisign) for signatures, key-based bundles, DSSE.
    pub verify_key: Option<String>,
    /// Sigstore trusted_root.json for keyless bundles.
    pub trusted_root: Option<String>,
    /// Every file needs an SBOM before publishing.
    pub require_sbom: bool,
    /// Every file needs a verified signature or bundle before publishing.
    pub require_signature: bool,
    /// Every file needs verified provenance before publishing.
    pub require_provenance: bool,
}

/// Why a piece of material or a setting was rejected (HTTP 422 with [`Rejected::message`]).
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct Rejected {
    /// What was rejected and why, in the server's words.
    pub context: String,
    /// The checker's error behind it, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Rejected {
    /// A rejection with no underlying error.
    pub fn new(context: impl Into<String>) -> Self {
        Rejected {
            context: context.into(),
            source: None,
        }
    }

    /// A rejection caused by a checker's error.
    pub fn because(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Rejected {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The text sent to the client: the context, then its causes, each once
    /// (`context: cause: its cause`).
    pub fn message(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.context.is_empty() {
            parts.push(self.context.clone());
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static));
        while let Some(c) = cause {
            let text = c.to_string();
            if !parts.last().is_some_and(|p| p.ends_with(&text)) {
                parts.push(text);
            }
            cause = c.source();
        }
        parts.join(": ")
    }
}

/// The accepted outcome: `verified` or `warnings`, and a JSON detail shown on the pages.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// `verified` (no problem) or `warnings` (SBOM accepted with warnings).
    pub status: &'static str,
    /// JSON: the SBOM check report or the verification report.
    pub detail: String,
}

/// Checks that the settings parse (called when a project is configured and when the server
/// starts). A trusted root (keyless bundles) needs a policy with a `[signer]`: a keyless
/// signature proves nothing until it is someone's in particular.
pub fn validate_rules(r: &ProjectRules) -> Result<(), Rejected> {
    let policy = match &r.policy {
        Some(p) => Some(Policy::parse(p).map_err(|e| Rejected::because("policy", e))?),
        None => None,
    };
    if r.trusted_root.is_some() && policy.as_ref().is_none_or(|p| p.signer.is_none()) {
        return Err(Rejected::new(
            "trusted_root: keyless Sigstore bundles need an expected signer: give the project a policy with a [signer] table (identity and issuer), e.g. [signer] identity = \"thomas@python.org\" issuer = \"https://accounts.google.com\"",
        ));
    }
    if let Some(k) = &r.verify_key {
        VerifyKey::parse(k).map_err(|e| Rejected::because("verify_key", e))?;
    }
    if let Some(t) = &r.trusted_root {
        TrustedRoot::parse(t).map_err(|e| Rejected::because("trusted_root", e))?;
    }
    Ok(())
}

/// Runs `relkit sbom check` on an uploaded SBOM: errors reject it, warnings are kept.
pub fn check_sbom(bytes: &[u8], name: &str) -> Result<Verdict, Rejected> {
    let report =
        relkit_sbom::check::check_bytes(bytes, name).map_err(|e| Rejected::because(name, e))?;
    let detail = serde_json::to_string(&report).expect("reports serialize");
    if !report.valid {
        let first: Vec<String> = report
            .problems
            .iter()
            .filter(|p| p.severity == relkit_sbom::check::Severity::Error)
            .take(5)
            .map(|p| format!("{} [{}] {}", p.path, p.rule, p.message))
            .collect();
        return Err(Rejected::new(format!(
            "{name}: the SBOM fails `relkit sbom check` with {} error(s): {}",
            report.errors,
            first.join("; ")
        )));
    }
    Ok(Verdict {
        status: if report.warnings > 0 {
            "warnings"
        } else {
            "verified"
        },
        detail,
    })
}

fn key_of(rules: &ProjectRules) -> Result<Option<VerifyKey>, Rejected> {
    rules
        .verify_key
        .as_deref()
        .map(|k| VerifyKey::parse(k).map_err(|e| Rejected::because("project key", e)))
        .transpose()
}

fn root_of(rules: &ProjectRules) -> Result<Option<Input<TrustedRoot>>, Rejected> {
    rules
        .trusted_root
        .as_deref()
        .map(|t| {
            TrustedRoot::parse(t)
                .map(|root| Input {
                    path: "the project's trusted root".into(),
                    content: root,
                })
                .map_err(|e| Rejected::because("project trusted root", e))
        })
        .transpose()
}

/// Verifies a signature, bundle or provenance against the file's digest (and bytes, for
/// detached signatures) with the project's key / trusted root.
pub fn check_material(
    kind: Kind,
    material: &[u8],
    material_name: &str,
    file_name: &str,
    file_sha256: [u8; 32],
    file_bytes: Option<&[u8]>,
    rules: &ProjectRules,
) -> Result<Verdict, Rejected> {
    if rules.verify_key.is_none() && rules.trusted_root.is_none() {
        return Err(Rejected::new(format!(
            "{material_name}: the project has no verification key or trusted root, so it cannot be verified; an admin sets them with PUT /api/v1/projects/{{project}}"
        )));
    }
    let text = || {
        String::from_utf8(material.to_vec())
            .map_err(|_| Rejected::new(format!("{material_name}: not UTF-8 JSON")))
    };
    let input = |content: String| Input {
        path: material_name.to_string(),
        content,
    };
    let mut inputs = Inputs {
        name: file_name.to_string(),
        artifact: Artifact {
            sha256: file_sha256,
            bytes: file_bytes,
        },
        checksums: None,
        signature: None,
        key: key_of(rules)?,
        bundle: None,
        provenance: None,
        policy: None,
        trusted_root: root_of(rules)?,
    };
    match kind {
        Kind::Sbom => return check_sbom(material, material_name),
        Kind::Signature => {
            inputs.signature = Some(Input {
                path: material_name.to_string(),
                content: material.to_vec(),
            })
        }
        Kind::Bundle => inputs.bundle = Some(input(text()?)),
        Kind::Provenance => inputs.provenance = Some(input(text()?)),
    }
    // Keyless bundles are verified against the project policy's [signer] on arrival.
    let signer = match rules.policy.as_deref().map(Policy::parse).transpose() {
        Ok(p) => p
            .and_then(|p| p.signer)
            .map(|s| s.expected())
            .transpose()
            .map_err(|e| Rejected::because("project policy", e))?,
        Err(e) => return Err(Rejected::because("project policy", e)),
    };
    let opts = VerifyOptions {
        signer,
        any_signer: false,
    };
    let report = verify_with(&inputs, &opts).map_err(|e| Rejected::because(material_name, e))?;
    if !report.passed {
        let why: Vec<String> = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.detail.clone())
            .collect();
        return Err(Rejected::new(format!(
            "{material_name} does not verify for {file_name} (sha256 {}): {}",
            report.sha256,
            why.join("; ")
        )));
    }
    Ok(Verdict {
        status: "verified",
        detail: serde_json::to_string(&report).expect("reports serialize"),
    })
}

/// Applies the project policy to one file with all its bundles and provenance at once.
/// Ok(description) when satisfied (or when there is no policy); the rejection says why not.
pub fn check_policy(
    file_name: &str,
    file_sha256: [u8; 32],
    material: &[(Kind, String, String)],
    rules: &ProjectRules,
) -> Result<String, Rejected> {
    let Some(policy_text) = &rules.policy else {
        return Ok("no project policy".into());
    };
    let policy = Policy::parse(policy_text).map_err(|e| Rejected::because("project policy", e))?;
    let key = key_of(rules)?;
    let root = root_of(rules)?;
    // verify() takes one bundle and one provenance: try each combination until one passes,
    // so a file with several bundles is judged on its best evidence. Bundles matter only for
    // [signer] requirements (keyless); they were verified against the file on upload.
    let bundles: Vec<Option<&(Kind, String, String)>> = if policy.signer.is_none() {
        vec![None]
    } else {
        let b: Vec<_> = material
            .iter()
            .filter(|m| m.0 == Kind::Bundle)
            .map(Some)
            .collect();
        if b.is_empty() { vec![None] } else { b }
    };
    let provs: Vec<Option<&(Kind, String, String)>> = {
        let p: Vec<_> = material
            .iter()
            .filter(|m| m.0 == Kind::Provenance)
            .map(Some)
            .collect();
        if p.is_empty() { vec![None] } else { p }
    };
    let mut last = Rejected::new("no bundle or provenance to check the policy against");
    for b in &bundles {
        for p in &provs {
            if b.is_none() && p.is_none() {
                continue;
            }
            let inputs = Inputs {
                name: file_name.to_string(),
                artifact: Artifact {
                    sha256: file_sha256,
                    bytes: None,
                },
                checksums: None,
                signature: None,
                key: key.clone(),
                bundle: b.map(|m| Input {
                    path: m.1.clone(),
                    content: m.2.clone(),
                }),
                provenance: p.map(|m| Input {
                    path: m.1.clone(),
                    content: m.2.clone(),
                }),
                policy: Some(Input {
                    path: "the project policy".into(),
                    content: policy.clone(),
                }),
                trusted_root: root.clone(),
            };
            match verify(&inputs) {
                Ok(r) if r.passed => {
                    return Ok(r
                        .checks
                        .iter()
                        .find(|c| c.check == "policy")
                        .map(|c| c.detail.clone())
                        .unwrap_or_default());
                }
                Ok(r) => {
                    last = Rejected::new(
                        r.checks
                            .iter()
                            .filter(|c| !c.passed)
                            .map(|c| c.detail.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                }
                Err(e) => last = Rejected::because("", e),
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../relkit-attest/tests/fixtures/sigstore/"
    );
    /// SHA-256 of CPython's Python-3.12.5.tgz, signed keyless by its release manager.
    const CPYTHON: &str = "38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405";

    fn rules(policy: Option<&str>) -> ProjectRules {
        ProjectRules {
            policy: policy.map(str::to_string),
            trusted_root: Some(relkit_attest::sigstore::PRODUCTION_TRUSTED_ROOT.to_string()),
            ..Default::default()
        }
    }

    fn upload(r: &ProjectRules) -> Result<Verdict, Rejected> {
        let bundle = std::fs::read(format!("{FIX}Python-3.12.5.tgz.sigstore")).unwrap();
        let digest: [u8; 32] = hex::decode(CPYTHON).unwrap().try_into().unwrap();
        check_material(
            Kind::Bundle,
            &bundle,
            "Python-3.12.5.tgz.sigstore",
            "Python-3.12.5.tgz",
            digest,
            None,
            r,
        )
    }

    #[test]
    fn keyless_bundles_need_a_signer_policy() {
        // A trusted root without a [signer] policy is refused when the project is configured.
        for policy in [
            None,
            Some("[provenance]\nrepository = \"https://github.com/python/cpython\"\n"),
        ] {
            let e = validate_rules(&rules(policy)).unwrap_err().message();
            assert!(e.contains("[signer]"), "{e}");
            // And an upload under such (older) settings fails closed.
            let e = upload(&rules(policy)).unwrap_err().message();
            assert!(e.contains("expected signer"), "{e}");
        }
        let thomas = "[signer]\nidentity = \"thomas@python.org\"\nissuer = \"https://accounts.google.com\"\n";
        validate_rules(&rules(Some(thomas))).unwrap();
        let v = upload(&rules(Some(thomas))).unwrap();
        assert_eq!(v.status, "verified");
        let hugo =
            "[signer]\nidentity = \"hugo@python.org\"\nissuer = \"https://accounts.google.com\"\n";
        let e = upload(&rules(Some(hugo))).unwrap_err().message();
        assert!(
            e.contains("the signer identity is \"thomas@python.org\""),
            "{e}"
        );
    }
}
