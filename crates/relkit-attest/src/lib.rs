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

/// Errors of the attestation library. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key could not be read, decrypted or encoded.
    #[error("key: {0}")]
    Key(String),
    /// A signature is malformed or does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// A minisign key or signature problem.
    #[error("minisign: {0}")]
    Minisign(String),
    /// A document is not in the expected format.
    #[error("format: {0}")]
    Format(String),
    /// A Sigstore verification step failed.
    #[error("{0}")]
    Verification(String),
    /// A policy file is invalid.
    #[error("policy: {0}")]
    Policy(String),
}
