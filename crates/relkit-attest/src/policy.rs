//! Verification policies (`policy.toml`): what the provenance and the signer must be.
//!
//! Every field is optional, but unknown fields are an error (a typo must not silently
//! weaken a policy). String values are exact, except `ref` and `identity`, which are glob
//! patterns where `*` matches any run of characters.
//!
//! ```toml
//! [provenance]
//! repository = "https://github.com/python/release-tools"
//! ref = "refs/tags/v3.*"
//! workflow = ".github/workflows/build-release.yml"
//! builder_id = "https://github.com/python/release-tools/.github/workflows/build-release.yml@*"
//!
//! [signer]
//! identity = "thomas@python.org"
//! issuer = "https://accounts.google.com"
//! ```

use serde::Deserialize;

use crate::Error;
use crate::intoto::ProvenanceFacts;

/// A verification policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Requirements on the SLSA provenance.
    #[serde(default)]
    pub provenance: Option<ProvenancePolicy>,
    /// Requirements on the Sigstore signer.
    #[serde(default)]
    pub signer: Option<SignerPolicy>,
}

/// Requirements on the SLSA provenance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvenancePolicy {
    /// Exact source repository URL.
    pub repository: Option<String>,
    /// Glob pattern for the git ref.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Exact workflow path.
    pub workflow: Option<String>,
    /// Glob pattern for the builder id.
    pub builder_id: Option<String>,
}

/// Requirements on the Sigstore signer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerPolicy {
    /// Glob pattern for the certificate identity (SAN).
    pub identity: Option<String>,
    /// Exact OIDC issuer.
    pub issuer: Option<String>,
}

impl Policy {
    /// Parses a policy; unknown fields and an empty policy are errors.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let p: Policy = toml::from_str(text).map_err(|e| Error::Policy(e.to_string()))?;
        if p == Policy::default() {
            return Err(Error::Policy(
                "the policy requires nothing: add a [provenance] or [signer] table".into(),
            ));
        }
        Ok(p)
    }
}

/// Glob match with `*` only (anchored at both ends).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn check(out: &mut Vec<String>, what: &str, want: &Option<String>, got: &str, glob: bool) {
    if let Some(w) = want {
        let ok = if glob { glob_match(w, got) } else { w == got };
        if !ok {
            out.push(format!(
                "policy: {what} is {got:?}, the policy requires {w:?}"
            ));
        }
    }
}

impl ProvenancePolicy {
    /// Every violated requirement, as a reason; empty when the provenance satisfies it.
    pub fn violations(&self, f: &ProvenanceFacts) -> Vec<String> {
        let mut out = Vec::new();
        check(
            &mut out,
            "the source repository",
            &self.repository,
            &f.repository,
            false,
        );
        check(&mut out, "the git ref", &self.git_ref, &f.git_ref, true);
        check(
            &mut out,
            "the workflow path",
            &self.workflow,
            &f.workflow_path,
            false,
        );
        check(
            &mut out,
            "the builder id",
            &self.builder_id,
            &f.builder_id,
            true,
        );
        out
    }
}

impl SignerPolicy {
    /// Every violated requirement for a signer identity and issuer.
    pub fn violations(&self, identity: &str, issuer: &str) -> Vec<String> {
        let mut out = Vec::new();
        check(
            &mut out,
            "the signer identity",
            &self.identity,
            identity,
            true,
        );
        check(&mut out, "the OIDC issuer", &self.issuer, issuer, false);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_empty_policies_fail() {
        assert!(Policy::parse("[provenance]\nrepo = \"x\"\n").is_err());
        assert!(Policy::parse("colour = 1\n").is_err());
        assert!(Policy::parse("").is_err());
        assert!(Policy::parse("[signer]\nissuer = \"https://accounts.google.com\"\n").is_ok());
    }

    #[test]
    fn globs() {
        assert!(glob_match("refs/tags/v3.*", "refs/tags/v3.13.5"));
        assert!(!glob_match("refs/tags/v3.*", "refs/heads/main"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("exact", "exact"));
    }
}
