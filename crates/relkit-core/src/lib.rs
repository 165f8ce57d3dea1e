//! relkit-core: the small plumbing every relkit crate may use — today the checksum files
//! (`SHA256SUMS`/`SHA512SUMS` in GNU and BSD formats, checked like `sha256sum -c`).
//!
//! It must stay small and leaf-like: no signing, no network, no database, no terminal output,
//! so that a crate needing a sums file (relkit-source) does not pull in relkit-attest's
//! cryptography.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
