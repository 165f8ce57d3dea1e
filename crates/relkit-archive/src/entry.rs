//! The entry model shared by the tree walker and every archive writer.

use std::path::PathBuf;

/// A point in time with nanosecond precision (seconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second (0..1e9).
    pub nanos: u32,
}

impl Timestamp {
    /// A timestamp of whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file whose bytes are read from [`Entry::source`].
    File,
    /// A symbolic link with its raw target.
    Symlink(Vec<u8>),
    /// A hard link to an earlier entry (archive path, without any prefix change).
    Hardlink(Vec<u8>),
}

/// One member to write into an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, `/`-separated, without a trailing slash; raw bytes so
    /// non-UTF-8 names survive.
    pub path: Vec<u8>,
    /// Type of the member.
    pub kind: EntryKind,
    /// Permission bits (`0o7777` at most), already normalized.
    pub mode: u32,
    /// Modification time, already clamped.
    pub mtime: Timestamp,
    /// Content size in bytes (0 for everything but files).
    pub size: u64,
    /// Where the content of a file is read from.
    pub source: Option<PathBuf>,
}

impl Entry {
    /// The path as written in archives: directories end with `/`.
    pub fn archive_name(&self) -> Vec<u8> {
        let mut name = self.path.clone();
        if self.kind == EntryKind::Dir {
            name.push(b'/');
        }
        name
    }
}
