//! Walking a directory into the sorted, normalized entry list that the writers take.
//!
//! The order is GNU tar's `--sort=name`: each directory's children sorted by their raw
//! name bytes, depth first, a directory right before its contents. That is not the same
//! as sorting whole paths (`a/b` comes before `a-c` here), and it is what CPython's
//! release tarballs use, so relkit can reproduce them byte for byte.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::entry::{Entry, EntryKind, Timestamp};

/// How permission bits found on disk become the bits written into archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModePolicy {
    /// GNU tar's `--mode=go+u,go-w` (CPython's release.py): group and other get the
    /// owner's bits, then lose write. 0644/0600 become 0644, 0755/0700 become 0755.
    #[default]
    GoPlusUGoMinusW,
    /// Keep the bits found on disk.
    Keep,
}

impl ModePolicy {
    /// Applies the policy to permission bits (`0o7777` range).
    pub fn apply(self, mode: u32) -> u32 {
        let mode = mode & 0o7777;
        match self {
            ModePolicy::Keep => mode,
            ModePolicy::GoPlusUGoMinusW => {
                let user = (mode >> 6) & 0o7;
                let with_user = mode | (user << 3) | user;
                with_user & !0o022
            }
        }
    }
}

/// Settings for [`collect_tree`].
#[derive(Debug, Clone, Default)]
pub struct TreeOptions {
    /// Name of the top-level directory in the archive (the walked root becomes this
    /// entry); `None` puts the root's children at the top level with no root entry.
    pub prefix: Option<Vec<u8>>,
    /// The `--mtime` time; `None` keeps the times found on disk.
    pub mtime: Option<Timestamp>,
    /// With `mtime`: only lower newer times to it (GNU `--clamp-mtime`) instead of
    /// setting every time to it.
    pub clamp: bool,
    /// Permission normalization.
    pub mode: ModePolicy,
    /// Glob patterns of paths (relative to the root, `/`-separated) to leave out; a
    /// matching directory is left out with everything below it.
    pub exclude: Vec<String>,
}

/// Errors from walking a tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A FIFO, socket or device node, which a source release cannot hold.
    #[error(
        "{path}: special files (FIFO, socket, device) cannot be archived; remove it or exclude it"
    )]
    Special {
        /// The offending path.
        path: PathBuf,
    },
    /// An exclude pattern is not a valid glob.
    #[error("invalid exclude pattern {pattern:?}: {message}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A time before the Unix epoch, which the tar and zip headers cannot hold here.
    #[error("{path}: modification time is before 1970; pass --mtime to set one")]
    NegativeTime {
        /// The offending path.
        path: PathBuf,
    },
}

/// Walks `root` and returns its entries in archive order, with modes and times normalized.
///
/// Symbolic links are recorded as links, never followed (so a link loop cannot hang the
/// walk). Files with several hard links inside the tree become one file and hard-link
/// entries, like GNU tar.
pub fn collect_tree(root: &Path, opts: &TreeOptions) -> Result<Vec<Entry>, TreeError> {
    let exclude = build_globset(&opts.exclude)?;
    let mut walker = Walker {
        opts,
        exclude,
        out: Vec::new(),
        links: HashMap::new(),
    };
    let meta = fs::symlink_metadata(root).map_err(|source| TreeError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    match &opts.prefix {
        Some(prefix) => {
            walker.push(root, prefix.clone(), &meta)?;
            if meta.is_dir() {
                walker.walk_dir(root, prefix, &[])?;
            }
        }
        None => walker.walk_dir(root, &[], &[])?,
    }
    Ok(walker.out)
}

fn build_globset(patterns: &[String]) -> Result<GlobSet, TreeError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_matches('/');
        let glob = GlobBuilder::new(trimmed)
            .literal_separator(true)
            .build()
            .map_err(|e| TreeError::BadPattern {
                pattern: pattern.clone(),
                message: e.kind().to_string(),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| TreeError::BadPattern {
        pattern: patterns.join(", "),
        message: e.to_string(),
    })
}

struct Walker<'a> {
    opts: &'a TreeOptions,
    exclude: GlobSet,
    out: Vec<Entry>,
    links: HashMap<(u64, u64), Vec<u8>>,
}

fn join(base: &[u8], name: &[u8]) -> Vec<u8> {
    if base.is_empty() {
        return name.to_vec();
    }
    let mut path = Vec::with_capacity(base.len() + 1 + name.len());
    path.extend_from_slice(base);
    path.push(b'/');
    path.extend_from_slice(name);
    path
}

impl Walker<'_> {
    fn walk_dir(
        &mut self,
        dir: &Path,
        archive_dir: &[u8],
        rel_dir: &[u8],
    ) -> Result<(), TreeError> {
        let io = |source| TreeError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut children = Vec::new();
        for entry in fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            children.push(entry.file_name());
        }
        children.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in children {
            let rel = join(rel_dir, name.as_bytes());
            if !self.exclude.is_empty()
                && self
                    .exclude
                    .is_match(Path::new(std::ffi::OsStr::from_bytes(&rel)))
            {
                continue;
            }
            let path = dir.join(&name);
            let meta = fs::symlink_metadata(&path).map_err(|source| TreeError::Io {
                path: path.clone(),
                source,
            })?;
            let archive_path = join(archive_dir, name.as_bytes());
            self.push(&path, archive_path.clone(), &meta)?;
            if meta.is_dir() {
                self.walk_dir(&path, &archive_path, &rel)?;
            }
        }
        Ok(())
    }

    fn push(
        &mut self,
        path: &Path,
        archive_path: Vec<u8>,
        meta: &fs::Metadata,
    ) -> Result<(), TreeError> {
        let file_type = meta.file_type();
        let found = Timestamp {
            secs: meta.mtime(),
            nanos: meta.mtime_nsec() as u32,
        };
        let mtime = match (self.opts.mtime, self.opts.clamp) {
            (Some(t), true) => found.min(t),
            (Some(t), false) => t,
            (None, _) => found,
        };
        if mtime.secs < 0 {
            return Err(TreeError::NegativeTime {
                path: path.to_path_buf(),
            });
        }
        let mode = self.opts.mode.apply(meta.mode());
        let (kind, size, source) = if file_type.is_dir() {
            (EntryKind::Dir, 0, None)
        } else if file_type.is_symlink() {
            let target = fs::read_link(path).map_err(|source| TreeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            (
                EntryKind::Symlink(target.as_os_str().as_bytes().to_vec()),
                0,
                None,
            )
        } else if file_type.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    self.out.push(Entry {
                        path: archive_path,
                        kind: EntryKind::Hardlink(first.clone()),
                        mode,
                        mtime,
                        size: 0,
                        source: None,
                    });
                    return Ok(());
                }
                self.links.insert(key, archive_path.clone());
            }
            (EntryKind::File, meta.len(), Some(path.to_path_buf()))
        } else {
            return Err(TreeError::Special {
                path: path.to_path_buf(),
            });
        };
        self.out.push(Entry {
            path: archive_path,
            kind,
            mode,
            mtime,
            size,
            source,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_mode_go_plus_u_go_minus_w() {
        let p = ModePolicy::GoPlusUGoMinusW;
        assert_eq!(p.apply(0o644), 0o644);
        assert_eq!(p.apply(0o600), 0o644);
        assert_eq!(p.apply(0o666), 0o644);
        assert_eq!(p.apply(0o700), 0o755);
        assert_eq!(p.apply(0o777), 0o755);
        assert_eq!(p.apply(0o100755), 0o755);
        assert_eq!(p.apply(0o470), 0o454);
    }

    #[test]
    fn sort_is_per_directory_like_gnu_tar() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/b"), "x").unwrap();
        fs::write(dir.path().join("a-c"), "y").unwrap();
        fs::write(dir.path().join("B"), "z").unwrap();
        let entries = collect_tree(dir.path(), &TreeOptions::default()).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        assert_eq!(names, ["B", "a", "a/b", "a-c"]);
    }

    #[test]
    fn excludes_prune_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        fs::write(dir.path().join(".github/workflows/ci.yml"), "x").unwrap();
        fs::write(dir.path().join("keep"), "y").unwrap();
        let opts = TreeOptions {
            exclude: vec![".github".into()],
            ..Default::default()
        };
        let entries = collect_tree(dir.path(), &opts).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].path, b"keep");
    }
}
