//! Typed errors of the SBOM library.

use std::path::PathBuf;

/// Everything that can go wrong reading, generating or writing an SBOM.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A lockfile could not be cataloged (relkit-catalog says where and why).
    #[error(transparent)]
    Catalog(Box<relkit_catalog::Error>),
    /// The input is not well-formed JSON.
    #[error("{origin}: malformed JSON at line {line}, column {column}: {message}")]
    Json {
        /// Where the JSON came from.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document is neither SPDX nor CycloneDX, or a version relkit does not read.
    #[error("{origin}: {message}")]
    UnsupportedFormat {
        /// Where the document came from.
        origin: String,
        /// What was found and what is supported.
        message: String,
    },
    /// A field has the wrong shape for the model.
    #[error("{origin}: at {path}: {message}")]
    Invalid {
        /// Where the document came from.
        origin: String,
        /// JSON path of the problem.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Vendored files declared in the in-tree SBOM do not match the tree.
    #[error("in-tree SBOM {sbom}: {} vendored file(s) do not match the tree:\n{}", problems.len(), problems.join("\n"))]
    VendoredMismatch {
        /// Path of the in-tree SBOM.
        sbom: String,
        /// One line per file: the file, the expected and the actual hash (or "missing").
        problems: Vec<String>,
    },
    /// An archive member or file is unsafe or unreadable (path traversal, bomb, bad name).
    #[error("{origin}: {message}")]
    Archive {
        /// The archive.
        origin: String,
        /// What was refused and why.
        message: String,
    },
    /// relkit-archive's reader refused or could not read an archive (its message names the
    /// archive, the member and what to do).
    #[error(transparent)]
    ArchiveRead(Box<relkit_archive::read::Error>),
    /// A wheel (a zip archive) could not be read.
    #[error("{origin}: not a valid wheel")]
    Wheel {
        /// The wheel.
        origin: String,
        /// relkit-archive's reason.
        #[source]
        source: Box<relkit_archive::read::Error>,
    },
    /// The CPE dictionary of the identity check could not be read.
    #[error("CPE dictionary: {0}")]
    Dictionary(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A binary could not be parsed.
    #[error("{file}: {message}")]
    Binary {
        /// The binary file.
        file: String,
        /// The parse problem.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
