//! The typed errors of the health library: each names the input at fault (file and line,
//! repository, component) and says what to do.

use std::path::PathBuf;

/// Why a health computation could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A compressed Debian `Packages` index could not be decompressed.
    #[error("cannot decompress {path}")]
    Decompress {
        /// The index file.
        path: PathBuf,
        /// Why.
        #[source]
        source: relkit_archive::read::DecompressError,
    },
    /// A Debian `Packages` index is corrupt at a known place.
    #[error(
        "{path}:{line}: corrupt Debian Packages index: {detail}; re-download the index (apt's Packages files are RFC 822 stanzas)"
    )]
    Packages {
        /// The index file.
        path: PathBuf,
        /// 1-based line number in the (decompressed) index.
        line: usize,
        /// What was wrong.
        detail: String,
    },
    /// A git repository could not be opened or read.
    #[error("{repo}: {detail}")]
    Git {
        /// The repository path.
        repo: PathBuf,
        /// What went wrong and what to do.
        detail: String,
    },
    /// The SBOM could not be read or holds nothing to assess.
    #[error("{path}: {detail}")]
    Sbom {
        /// The SBOM file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A policy or mapping file is invalid.
    #[error("{path}: {detail}")]
    Config {
        /// The file (or `<built-in>`).
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// A date argument is not `YYYY-MM-DD`.
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    Date(String),
    /// `--explain NAME` names no component of the SBOM.
    #[error("no component named {0:?} in the SBOM")]
    NoSuchComponent(String),
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
