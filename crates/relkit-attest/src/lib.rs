//! relkit-attest: checksums (SHA256SUMS), keys, detached and minisign signatures, DSSE
//! envelopes with in-toto/SLSA statements, Sigstore bundles and offline verification
//! against a policy.
//!
//! The library does no terminal I/O: every function returns data or a typed [`Error`].
//! [`sign::sign_file`] is the one signing use case (`relkit sign` and the release's sign
//! step). It must not verify a keyless signature without an expected signer, put key
//! material in an error or a debug string, or reach the network (trusted roots and bundles
//! are given to it).

pub use relkit_core::checksum;
pub mod dsse;
pub mod intoto;
pub mod keys;
pub mod minisign;
pub mod policy;
pub mod sign;
pub mod sigstore;
pub mod verify;

/// Re-exported so callers can hold secrets (passphrases, key files) that are wiped on drop.
pub use zeroize::Zeroizing;

/// The underlying error of another library (I/O, JSON, DER, base64, …) kept as the cause of
/// an [`Error`], so that callers can show it as a `caused by:` line.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the attestation library. Messages never contain key material.
///
/// Each kind has a plain variant (a message of relkit's own) and a `…Caused` variant (a
/// message and the underlying error as its [`source`](std::error::Error::source)); both
/// display the same prefix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key could not be read, decrypted or encoded.
    #[error("key: {0}")]
    Key(String),
    /// A key could not be read, decrypted or encoded because of an underlying error.
    #[error("key: {context}")]
    KeyCaused {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: Cause,
    },
    /// A signature is malformed or does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// A minisign key or signature problem.
    #[error("minisign: {0}")]
    Minisign(String),
    /// A minisign key or signature problem caused by an underlying error.
    #[error("minisign: {context}")]
    MinisignCaused {
        /// What was being read.
        context: String,
        /// The underlying error.
        #[source]
        source: Cause,
    },
    /// A document is not in the expected format.
    #[error("format: {0}")]
    Format(String),
    /// A document is not in the expected format, as an underlying parser reported.
    #[error("format: {context}")]
    FormatCaused {
        /// What was being read.
        context: String,
        /// The underlying error.
        #[source]
        source: Cause,
    },
    /// A Sigstore verification step failed.
    #[error("{0}")]
    Verification(String),
    /// A Sigstore verification step failed because of an underlying error.
    #[error("{context}")]
    VerificationCaused {
        /// The step that failed.
        context: String,
        /// The underlying error.
        #[source]
        source: Cause,
    },
    /// A policy file is invalid.
    #[error("policy: {0}")]
    Policy(String),
    /// A policy file is invalid, as an underlying parser reported.
    #[error("policy: {context}")]
    PolicyCaused {
        /// What was being read.
        context: String,
        /// The underlying error.
        #[source]
        source: Cause,
    },
}

impl Error {
    pub(crate) fn key_caused(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::KeyCaused {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn minisign_caused(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::MinisignCaused {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn format_caused(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::FormatCaused {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn verification_caused(
        context: impl Into<String>,
        source: impl Into<Cause>,
    ) -> Self {
        Error::VerificationCaused {
            context: context.into(),
            source: source.into(),
        }
    }

    pub(crate) fn policy_caused(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::PolicyCaused {
            context: context.into(),
            source: source.into(),
        }
    }

    /// The message with its causes on one line, joined by `": "` — the form a verification
    /// report (one line per check) shows. Causes are followed through this library's errors
    /// down to the first error of another library, whose own message ends the line.
    pub fn chain_text(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c
                .downcast_ref::<Error>()
                .and_then(std::error::Error::source);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_underlying_error_is_kept_as_the_cause() {
        let e = policy::Policy::parse("[signer\n").unwrap_err();
        assert_eq!(e.to_string(), "policy: not a valid policy file");
        let cause = std::error::Error::source(&e).expect("the TOML error is the cause");
        assert!(cause.to_string().contains("TOML parse error"), "{cause}");
        assert_eq!(e.chain_text(), format!("{e}: {cause}"));
    }

    #[test]
    fn chain_text_follows_this_librarys_errors() {
        let inner = Error::format_caused("bad time", "x".parse::<u8>().unwrap_err());
        let outer = Error::verification_caused("checking", inner);
        assert_eq!(
            outer.chain_text(),
            "checking: format: bad time: invalid digit found in string"
        );
    }
}
