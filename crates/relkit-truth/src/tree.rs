//! Read access to what `--against` names for source verification: a directory (files are
//! opened directly, nothing else is read) or an archive (members are listed once, then only
//! the wanted ones are fetched in a single second pass through relkit-archive's readers).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use relkit_archive::read as archive;

use crate::error::{Error, Result};

/// Evidence files larger than this are read only up to it (version records sit at the top).
pub const MAX_READ: u64 = 64 << 20;

/// A source tree: a directory or an archive, with an optional single top directory that SBOM
/// paths are relative to (`Python-3.13.5/` in a release tarball).
pub enum Tree {
    /// A directory on disk; `root` already includes the detected top directory.
    Dir {
        /// The directory SBOM paths are relative to.
        root: PathBuf,
        /// All regular files, relative, `/`-separated (walked on first use).
        listing: OnceLock<std::result::Result<Vec<String>, String>>,
    },
    /// An archive file.
    Archive {
        /// The archive.
        path: PathBuf,
        /// Member path (top directory stripped) → (position, size), regular files only.
        members: BTreeMap<String, (usize, u64)>,
    },
}

fn strip_first(p: &str) -> Option<&str> {
    p.split_once('/').map(|(_, rest)| rest)
}

impl Tree {
    /// Opens `path`; `probe` are SBOM file paths used to decide whether a single top
    /// directory is the root.
    pub fn open(path: &Path, probe: &[&str]) -> Result<Tree> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let mut root = path.to_path_buf();
            let entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?
                .filter_map(|e| e.ok())
                .collect();
            if let [only] = entries.as_slice()
                && only.path().is_dir()
            {
                let sub = only.path();
                let here = probe.iter().filter(|p| path.join(p).exists()).count();
                let below = probe.iter().filter(|p| sub.join(p).exists()).count();
                if below > here || probe.is_empty() {
                    root = sub;
                }
            }
            return Ok(Tree::Dir {
                root,
                listing: OnceLock::new(),
            });
        }
        let ar = archive::read_path(path).map_err(|e| Error::Input {
            path: path.display().to_string(),
            message: format!("not a readable directory or archive (tar, tar.gz, tar.xz, zip): {e}"),
        })?;
        let files: Vec<(String, usize, u64)> = ar
            .members
            .iter()
            .filter(|m| m.kind == archive::MemberKind::File)
            .map(|m| (m.display_path(), m.position, m.size))
            .collect();
        let first: BTreeSet<&str> = files
            .iter()
            .map(|(p, _, _)| p.split('/').next().unwrap_or(""))
            .collect();
        let all_nested = files.iter().all(|(p, _, _)| p.contains('/'));
        let names: BTreeSet<&str> = files.iter().map(|(p, _, _)| p.as_str()).collect();
        let stripped: BTreeSet<&str> = files
            .iter()
            .filter_map(|(p, _, _)| strip_first(p))
            .collect();
        let strip = first.len() == 1
            && all_nested
            && (probe.is_empty()
                || probe.iter().filter(|p| stripped.contains(*p)).count()
                    > probe.iter().filter(|p| names.contains(*p)).count());
        let members = files
            .into_iter()
            .map(|(p, pos, size)| {
                let key = if strip {
                    strip_first(&p).unwrap_or(&p).to_string()
                } else {
                    p
                };
                (key, (pos, size))
            })
            .collect();
        Ok(Tree::Archive {
            path: path.to_path_buf(),
            members,
        })
    }

    /// Whether the tree holds a regular file at this relative path.
    pub fn exists(&self, rel: &str) -> bool {
        match self {
            Tree::Dir { root, .. } => root.join(rel).is_file(),
            Tree::Archive { members, .. } => members.contains_key(rel),
        }
    }

    /// All regular files (relative paths), sorted. Walks a directory on first use.
    pub fn listing(&self) -> std::result::Result<Vec<&str>, String> {
        match self {
            Tree::Dir { root, listing } => {
                let l = listing.get_or_init(|| {
                    let mut out = Vec::new();
                    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
                        let e = e.map_err(|e| format!("walking {}: {e}", root.display()))?;
                        if e.file_type().is_file()
                            && let Ok(rel) = e.path().strip_prefix(root)
                        {
                            out.push(rel.to_string_lossy().replace('\\', "/"));
                        }
                    }
                    Ok(out)
                });
                l.as_ref()
                    .map(|v| v.iter().map(String::as_str).collect())
                    .map_err(Clone::clone)
            }
            Tree::Archive { members, .. } => Ok(members.keys().map(String::as_str).collect()),
        }
    }

    /// Reads the wanted files (each up to [`MAX_READ`] bytes); a file that cannot be read
    /// maps to an error message naming it.
    pub fn read_many(
        &self,
        wanted: &BTreeSet<String>,
    ) -> BTreeMap<String, std::result::Result<Vec<u8>, String>> {
        match self {
            Tree::Dir { root, .. } => wanted
                .iter()
                .map(|rel| {
                    let full = root.join(rel);
                    let r = std::fs::File::open(&full)
                        .and_then(|f| {
                            let mut buf = Vec::new();
                            f.take(MAX_READ).read_to_end(&mut buf)?;
                            Ok(buf)
                        })
                        .map_err(|e| format!("cannot read {}: {e}", full.display()));
                    (rel.clone(), r)
                })
                .collect(),
            Tree::Archive { path, members } => {
                let mut by_pos: BTreeMap<usize, Range<u64>> = BTreeMap::new();
                let mut name_of: BTreeMap<usize, &String> = BTreeMap::new();
                for rel in wanted {
                    if let Some((pos, size)) = members.get(rel) {
                        by_pos.insert(*pos, 0..(*size).min(MAX_READ));
                        name_of.insert(*pos, rel);
                    }
                }
                let mut out: BTreeMap<String, std::result::Result<Vec<u8>, String>> = wanted
                    .iter()
                    .map(|w| (w.clone(), Err(format!("{w}: not in {}", path.display()))))
                    .collect();
                match archive::fetch_ranges(path, &by_pos) {
                    Ok(got) => {
                        for (pos, bytes) in got {
                            if let Some(name) = name_of.get(&pos) {
                                out.insert((*name).clone(), Ok(bytes));
                            }
                        }
                    }
                    Err(e) => {
                        for name in name_of.values() {
                            out.insert(
                                (*name).clone(),
                                Err(format!("cannot read {name} from {}: {e}", path.display())),
                            );
                        }
                    }
                }
                out
            }
        }
    }
}
