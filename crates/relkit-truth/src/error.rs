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
    /// The `--against` archive could not be read (relkit-archive's reason is the source).
    #[error("{path}: {what}")]
    Archive {
        /// The input.
        path: String,
        /// What it was read as, e.g. "not a readable archive".
        what: &'static str,
        /// relkit-archive's error.
        #[source]
        source: Box<relkit_archive::read::Error>,
    },
    /// A wheel carries no PEP 770 SBOM: nothing is declared, so nothing can be verified.
    #[error(
        "{path}: holds no PEP 770 SBOM (*.dist-info/sboms/*.json): nothing is declared to verify (`relkit sbom generate` inventories it)"
    )]
    NothingDeclared {
        /// The wheel.
        path: String,
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
