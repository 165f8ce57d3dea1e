//! The typed errors of the readers: every variant names the archive and, where it
//! applies, the member and the offset, and says what to do.

/// Why an archive or directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file or directory could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The magic bytes match none of the supported formats.
    #[error(
        "{archive}: not a supported archive (first bytes {magic}); relkit reads directories, .tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst and .zip"
    )]
    UnknownFormat {
        /// The archive label.
        archive: String,
        /// Hex of the first bytes (or an explanation).
        magic: String,
    },
    /// The archive is truncated or corrupt.
    #[error(
        "{archive}: truncated or corrupt {layer} archive{}: {detail}; check that the file was downloaded completely",
        location(.member, .offset)
    )]
    Corrupt {
        /// The archive label.
        archive: String,
        /// The format being read: `tar`, `tar.gz`, `tar.xz` or `zip`.
        layer: &'static str,
        /// The member being read, if any.
        member: Option<String>,
        /// Offset: in the uncompressed tar stream for the tar family, in the file for zip.
        offset: Option<u64>,
        /// What went wrong.
        detail: String,
    },
    /// A member path is absolute or contains `..`.
    #[error(
        "{archive}: member '{member}' has an unsafe path ({reason}); relkit refuses archives whose members could escape the extraction directory (path traversal)"
    )]
    UnsafePath {
        /// The archive label.
        archive: String,
        /// The member path as stored (non-UTF-8 bytes escaped as `\xNN`).
        member: String,
        /// Why it is unsafe.
        reason: &'static str,
    },
}

fn location(member: &Option<String>, offset: &Option<u64>) -> String {
    match (member, offset) {
        (Some(m), Some(o)) => format!(" at member '{m}' (offset {o})"),
        (Some(m), None) => format!(" at member '{m}'"),
        (None, Some(o)) => format!(" at offset {o}"),
        (None, None) => String::new(),
    }
}
