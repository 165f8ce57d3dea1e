//! Typed errors of the truth check.

/// Everything that stops a verification or a fix as a whole (per-file problems are notes in
/// the report instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The `--against` input could not be read as a directory or archive.
    #[error("{path}: {message}")]
    Input {
        /// The input.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// Reading or writing the SBOM failed.
    #[error(transparent)]
    Sbom(#[from] relkit_sbom::Error),
    /// The SBOM JSON to fix does not have the shape its format requires.
    #[error("{origin}: at {path}: {message}")]
    Fix {
        /// The SBOM file.
        origin: String,
        /// JSON path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;
