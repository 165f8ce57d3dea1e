//! relkit-core: the small plumbing every relkit crate may use — the checksum files
//! (`SHA256SUMS`/`SHA512SUMS` in GNU and BSD formats, checked like `sha256sum -c`) and civil
//! time (RFC 3339 and calendar dates on the `time` crate), the SARIF 2.1.0 log envelope,
//! atomic file writes (`fs::write_atomic`), `*`-only name patterns (`glob`), HTML escaping
//! (`html`), one-line error text (`error::chain`) and the release server's wire types (`wire`), shared by server and client.
//!
//! It must stay small and leaf-like: no signing, no network, no database, no terminal output,
//! so that a crate needing a sums file (relkit-source) does not pull in relkit-attest's
//! cryptography.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
pub mod error;
pub mod fs;
pub mod glob;
pub mod html;
pub mod sarif;
pub mod time;
pub mod wire;
