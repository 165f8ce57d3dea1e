//! The typed errors of the audit library: each names the file (and record or member) at
//! fault and says what to do.

use std::path::PathBuf;

/// Why an audit or a corpus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An archive could not be read (corrupt, unsupported or unsafe paths).
    #[error(transparent)]
    Archive(#[from] relkit_archive::read::Error),
    /// The tag could not be exported.
    #[error(transparent)]
    Export(#[from] relkit_source::export::ExportError),
    /// A member uses a symbolic link to point or write outside the tree.
    #[error(
        "{archive}: member '{member}' {reason}; relkit refuses archives whose links could escape the extraction directory"
    )]
    UnsafeLink {
        /// The archive label.
        archive: String,
        /// The member path.
        member: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A corpus file is corrupt or not a corpus file.
    #[error(
        "{path}: corrupt reference corpus at {location}: {detail}; re-create it with `relkit audit corpus import`"
    )]
    CorruptCorpus {
        /// The corpus file (or `<shipped>` for the built-in one).
        path: String,
        /// Where: record number, line or member.
        location: String,
        /// What was wrong.
        detail: String,
    },
    /// The regeneration command failed.
    #[error(
        "--regenerate {cmd:?} failed in the scratch copy of the tag ({status}): {stderr}; check that the command works in a fresh export of the tag"
    )]
    Regenerate {
        /// The command.
        cmd: String,
        /// Its exit status.
        status: String,
        /// The last lines of its standard error.
        stderr: String,
    },
    /// A git operation of the history audit failed.
    #[error("{repo}: {detail}")]
    Git {
        /// The repository.
        repo: PathBuf,
        /// What failed and what to do.
        detail: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Io`] mapper for a path.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
