//! Deterministic archive writers: tar (GNU tar's POSIX layout), gzip, xz and zip.
//!
//! [`tar::write_tar`] streams a tar; [`pipeline::compress_tar`] feeds one tar stream to
//! several compressors at once on separate threads so a `.tar.gz` and a `.tar.xz` cost one
//! walk of the tree; [`zip::write_zip`] compresses members in parallel and writes them in
//! order, so its bytes do not depend on the number of threads.

pub mod gzip;
pub mod pipeline;
pub mod tar;
pub mod xz;
pub mod zip;

/// Errors from writing an archive.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Reading a member's content failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that failed.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A member's content changed size while it was being archived.
    #[error(
        "{path} changed while being archived (expected {expected} bytes); try again on a quiet tree"
    )]
    Changed {
        /// The file that changed.
        path: std::path::PathBuf,
        /// The size seen when the tree was walked.
        expected: u64,
    },
    /// Writing the output failed.
    #[error("cannot write the archive: {0}")]
    Write(#[from] std::io::Error),
    /// An entry cannot be represented in this format.
    #[error("{path}: {message}")]
    Unrepresentable {
        /// The member path (lossy UTF-8).
        path: String,
        /// Why it cannot be written.
        message: String,
    },
}
