//! Verification policies (`policy.toml`): what the provenance and the signer must be.
//!
//! Every field is optional, but unknown fields are an error (a typo must not silently
//! weaken a policy). String values are exact, except `ref`, `builder_id` and `identity`,
//! which are glob patterns where `*` matches any run of characters.
//!
//! A `[signer]` table names the expected signer of keyless Sigstore bundles and must say both
//! who (`identity`, or `identity_regexp`) and which OIDC issuer (`issuer`, or
//! `issuer_regexp`): a certificate for any identity at a known issuer is no proof at all.
//! Regular expressions must match the whole value (they are anchored).
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
//!
//! [`ExpectedSigner`] is the checked form, also built from `relkit verify`'s
//! `--certificate-identity` / `--certificate-oidc-issuer` flags (exact matches, as in
//! sigstore-python and cosign).

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

/// Requirements on the Sigstore signer (the `[signer]` table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerPolicy {
    /// Glob pattern for the certificate identity (a SAN: e-mail or URI).
    pub identity: Option<String>,
    /// Regular expression (anchored) for the certificate identity.
    pub identity_regexp: Option<String>,
    /// Exact OIDC issuer.
    pub issuer: Option<String>,
    /// Regular expression (anchored) for the OIDC issuer.
    pub issuer_regexp: Option<String>,
}

/// How an expected value is compared with what a certificate says.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The exact string.
    Exact(String),
    /// A glob where `*` matches any run of characters.
    Glob(String),
    /// An anchored regular expression (its source, and the compiled form).
    Regexp(String, regex::Regex),
}

impl Matcher {
    /// An anchored regular expression (the whole value must match, as cosign's
    /// `--certificate-identity-regexp` is used); `what` names the value in the error. Perl
    /// classes and word boundaries are ASCII, as in Go's regexp (cosign) and the regex-lite
    /// engine used before (`ascii_perl_classes`).
    pub fn regexp(pattern: &str, what: &str) -> Result<Self, Error> {
        regex::Regex::new(&format!("^(?:{})$", ascii_perl_classes(pattern)))
            .map(|re| Matcher::Regexp(pattern.to_string(), re))
            .map_err(|e| {
                Error::policy_caused(
                    format!("{what} {pattern:?} is not a valid regular expression"),
                    e,
                )
            })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Glob(g) => glob_match(g, value),
            Matcher::Regexp(_, re) => re.is_match(value),
        }
    }

    /// Human-readable form for messages.
    pub fn describe(&self) -> String {
        match self {
            Matcher::Exact(s) => format!("{s:?}"),
            Matcher::Glob(g) => format!("{g:?} (glob)"),
            Matcher::Regexp(r, _) => format!("/{r}/ (regexp)"),
        }
    }
}

/// `pattern` with `\d`, `\w`, `\s` (and their negations) spelt as ASCII classes and `\b` as
/// an ASCII word boundary, so that the `regex` crate (Unicode-aware by default) matches them
/// as Go's regexp does; `.` and literals stay Unicode (one code point each).
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                let class = match next {
                    'd' => Some("0-9"),
                    'w' => Some("0-9A-Za-z_"),
                    's' => Some("\\t\\n\\x0B\\x0C\\r "),
                    _ => None,
                };
                let negated = match next {
                    'D' => Some("0-9"),
                    'W' => Some("0-9A-Za-z_"),
                    'S' => Some("\\t\\n\\x0B\\x0C\\r "),
                    _ => None,
                };
                match (class, negated) {
                    (Some(set), _) => out.push_str(&format!("[{set}]")),
                    (_, Some(set)) => out.push_str(&format!("[^{set}]")),
                    _ if next == 'b' && !in_class => out.push_str("(?-u:\\b)"),
                    _ => {
                        out.push(c);
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` (or `^]`) right after the opening bracket is a literal.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().expect("peeked"));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().expect("peeked"));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The expected signer of a keyless Sigstore bundle: a certificate identity (matched
/// against every e-mail, URI and Sigstore other-name SAN) and an OIDC issuer (the Fulcio
/// issuer extension, 1.3.6.1.4.1.57264.1.8, else the legacy 1.3.6.1.4.1.57264.1.1).
#[derive(Debug, Clone)]
pub struct ExpectedSigner {
    /// The identity.
    pub identity: Matcher,
    /// The OIDC issuer.
    pub issuer: Matcher,
}

impl ExpectedSigner {
    /// From `--certificate-identity[-regexp]` and `--certificate-oidc-issuer[-regexp]`: each
    /// side needs exactly one of its two forms.
    pub fn from_flags(
        identity: Option<&str>,
        identity_regexp: Option<&str>,
        issuer: Option<&str>,
        issuer_regexp: Option<&str>,
    ) -> Result<Self, Error> {
        let identity = match (identity, identity_regexp) {
            (Some(s), None) => Matcher::Exact(s.to_string()),
            (None, Some(r)) => Matcher::regexp(r, "--certificate-identity-regexp")?,
            (None, None) => {
                return Err(Error::Policy(
                    "the expected signer needs --certificate-identity (or --certificate-identity-regexp)".into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::Policy(
                    "give --certificate-identity or --certificate-identity-regexp, not both".into(),
                ));
            }
        };
        let issuer = match (issuer, issuer_regexp) {
            (Some(s), None) => Matcher::Exact(s.to_string()),
            (None, Some(r)) => Matcher::regexp(r, "--certificate-oidc-issuer-regexp")?,
            (None, None) => {
                return Err(Error::Policy(
                    "the expected signer needs --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)".into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::Policy(
                    "give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both"
                        .into(),
                ));
            }
        };
        Ok(ExpectedSigner { identity, issuer })
    }

    /// Ok with a sentence when one of `sans` matches the identity and `issuer` the issuer;
    /// otherwise every mismatch as a reason.
    pub fn check(&self, sans: &[String], issuer: &str) -> Result<String, Vec<String>> {
        let mut out = Vec::new();
        let matched = sans.iter().find(|s| self.identity.matches(s));
        if matched.is_none() {
            out.push(format!(
                "the signer identity is {}, the expected signer is {}",
                match sans {
                    [one] => format!("{one:?}"),
                    many => format!("one of {many:?}"),
                },
                self.identity.describe()
            ));
        }
        if !self.issuer.matches(issuer) {
            out.push(format!(
                "the OIDC issuer is {issuer:?}, the expected issuer is {}",
                self.issuer.describe()
            ));
        }
        match matched {
            Some(m) if out.is_empty() => Ok(format!(
                "identity {m:?} matches {} and issuer {issuer:?} matches {}",
                self.identity.describe(),
                self.issuer.describe()
            )),
            _ => Err(out),
        }
    }
}

impl Policy {
    /// Parses a policy; unknown fields and an empty policy are errors.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let p: Policy =
            toml::from_str(text).map_err(|e| Error::policy_caused("not a valid policy file", e))?;
        if p == Policy::default() {
            return Err(Error::Policy(
                "the policy requires nothing: add a [provenance] or [signer] table".into(),
            ));
        }
        if let Some(s) = &p.signer {
            s.expected()?;
        }
        Ok(p)
    }
}

/// Glob match with `*` only (anchored at both ends): [`relkit_core::glob::matches`].
pub use relkit_core::glob::matches as glob_match;

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
    /// The checked form; a table without an identity or without an issuer is an error.
    pub fn expected(&self) -> Result<ExpectedSigner, Error> {
        let identity = match (&self.identity, &self.identity_regexp) {
            (Some(g), None) => Matcher::Glob(g.clone()),
            (None, Some(r)) => Matcher::regexp(r, "[signer] identity_regexp")?,
            (None, None) => {
                return Err(Error::Policy(
                    "[signer] must name the expected identity (identity = \"...\" or identity_regexp = \"...\"); an issuer alone admits anyone who can log in there".into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::Policy(
                    "[signer] has both identity and identity_regexp: keep one".into(),
                ));
            }
        };
        let issuer = match (&self.issuer, &self.issuer_regexp) {
            (Some(s), None) => Matcher::Exact(s.clone()),
            (None, Some(r)) => Matcher::regexp(r, "[signer] issuer_regexp")?,
            (None, None) => {
                return Err(Error::Policy(
                    "[signer] must name the expected OIDC issuer (issuer = \"...\" or issuer_regexp = \"...\")".into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Error::Policy(
                    "[signer] has both issuer and issuer_regexp: keep one".into(),
                ));
            }
        };
        Ok(ExpectedSigner { identity, issuer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexps_are_anchored_with_ascii_perl_classes_as_in_go() {
        let m = |p: &str, v: &str| Matcher::regexp(p, "test").unwrap().matches(v);
        // Anchored: the whole value must match.
        assert!(m(
            r"https://github\.com/org/.*",
            "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1"
        ));
        assert!(!m(r"github\.com/org", "https://github.com/org"));
        assert!(!m("a|b", "ab"));
        // Perl classes and \b are ASCII (Go's regexp, regex-lite); `.` is one code point.
        assert!(m(r"\w+@example\.com", "release_bot@example.com"));
        assert!(!m(r"\w+@example\.com", "δ@example.com"));
        assert!(m(r"\W@x", "δ@x"));
        assert!(!m(r"\d", "᠕"));
        assert!(!m(r"\s", "\u{2000}"));
        assert!(m(r"\S", "\u{2000}"));
        assert!(m(r"[\w.-]+", "a.b-c_9"));
        assert!(!m(r"[\w]+", "δ"));
        assert!(m(r"[^\d]", "δ"));
        assert!(m(r"a.c", "aδc"));
        assert!(m(r"\bab\b.*", "ab δ"));
        assert!(m(r"\\w", "\\w"));
        assert!(m(r"[]a]+", "]a"));
    }

    #[test]
    fn unknown_fields_and_empty_policies_fail() {
        assert!(Policy::parse("[provenance]\nrepo = \"x\"\n").is_err());
        assert!(Policy::parse("colour = 1\n").is_err());
        assert!(Policy::parse("").is_err());
        // A signer needs both who and which issuer.
        assert!(Policy::parse("[signer]\nissuer = \"https://accounts.google.com\"\n").is_err());
        assert!(Policy::parse("[signer]\nidentity = \"thomas@python.org\"\n").is_err());
        assert!(
            Policy::parse(
                "[signer]\nidentity = \"thomas@python.org\"\nissuer = \"https://accounts.google.com\"\n"
            )
            .is_ok()
        );
        assert!(Policy::parse("[signer]\nidentity_regexp = \"(\"\nissuer = \"x\"\n").is_err());
    }

    #[test]
    fn expected_signer_matches_any_san_exactly_or_anchored() {
        let s = ExpectedSigner::from_flags(
            Some("thomas@python.org"),
            None,
            Some("https://accounts.google.com"),
            None,
        )
        .unwrap();
        let sans = vec!["thomas@python.org".to_string()];
        assert!(s.check(&sans, "https://accounts.google.com").is_ok());
        assert!(
            s.check(
                &["xthomas@python.org".into()],
                "https://accounts.google.com"
            )
            .is_err()
        );
        assert!(s.check(&sans, "https://accounts.google.com/").is_err());
        let r = ExpectedSigner::from_flags(
            None,
            Some(".*@python\\.org"),
            None,
            Some("https://accounts\\.google\\.com"),
        )
        .unwrap();
        assert!(r.check(&sans, "https://accounts.google.com").is_ok());
        // Anchored: a match inside the value is not a match.
        assert!(
            r.check(
                &["thomas@python.org.evil.example".into()],
                "https://accounts.google.com"
            )
            .is_err()
        );
        assert!(ExpectedSigner::from_flags(Some("a"), None, None, None).is_err());
        assert!(ExpectedSigner::from_flags(None, None, Some("b"), None).is_err());
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
