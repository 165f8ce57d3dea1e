//! Read access to what `--against` names for source verification: a directory (files are
//! opened directly, nothing else is read) or an archive — every format relkit-archive reads
//! (tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, zip), detected by magic.
//!
//! Archives are read in one streaming pass of relkit-archive's reader
//! ([`relkit_archive::read::read_path_observed`]) that lists every member and keeps the
//! content of only those whose file name a rule can ask for.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
    /// An archive, read once (or members handed over, [`Tree::from_members`]).
    Archive {
        /// The archive (or the label of the handed-over members).
        path: PathBuf,
        /// Regular-file member paths (top directory stripped).
        members: BTreeSet<String>,
        /// Content of the members the rules may ask for.
        content: BTreeMap<String, std::result::Result<Vec<u8>, String>>,
    },
}

fn strip_first(p: &str) -> Option<&str> {
    p.split_once('/').map(|(_, rest)| rest)
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Reads at most [`MAX_READ`] bytes.
fn read_capped(r: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_READ).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Normalizes a member name: `/`-separated, no `./` prefix, no trailing `/`.
fn clean(name: &str) -> String {
    name.replace('\\', "/")
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_string()
}

/// Keeps (up to [`MAX_READ`] bytes of) the content of the file members whose file name
/// `keep` accepts, as relkit-archive's reader streams them.
struct Keeper<'k> {
    keep: &'k dyn Fn(&str) -> bool,
    current: Option<(String, Vec<u8>)>,
    content: BTreeMap<String, std::result::Result<Vec<u8>, String>>,
}

impl relkit_archive::read::ContentObserver for Keeper<'_> {
    fn begin(&mut self, member: &relkit_archive::read::Member) {
        let name = clean(&String::from_utf8_lossy(&member.path));
        self.current = (self.keep)(file_name(&name)).then(|| (name, Vec::new()));
    }

    fn content(&mut self, bytes: &[u8]) {
        if let Some((_, buf)) = &mut self.current {
            let room = (MAX_READ as usize).saturating_sub(buf.len());
            buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    fn done(&mut self, _member: &relkit_archive::read::Member) {
        if let Some((name, buf)) = self.current.take() {
            self.content.insert(name, Ok(buf));
        }
    }
}

impl Tree {
    /// Opens `path`. `probe` are SBOM file paths used to decide whether a single top
    /// directory is the root; `keep(file_name)` says which archive members to keep.
    pub fn open(path: &Path, probe: &[&str], keep: &dyn Fn(&str) -> bool) -> Result<Tree> {
        let label = path.display().to_string();
        let io = |source| Error::Io {
            path: label.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut root = path.to_path_buf();
            let entries: Vec<_> = std::fs::read_dir(path)
                .map_err(io)?
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
        // Archives go through relkit-archive's one reader (every format `sbom generate` and
        // `diff` read, detected by magic, with its safety limits), in one pass that keeps the
        // content of the members a rule may ask for.
        let mut keeper = Keeper {
            keep,
            current: None,
            content: BTreeMap::new(),
        };
        let archive =
            relkit_archive::read::read_path_observed(path, &mut keeper).map_err(|source| {
                Error::Archive {
                    path: label.clone(),
                    what: "not a readable directory or archive (tar, tar.gz, tar.xz, tar.bz2, tar.zst, zip)",
                    source: Box::new(source),
                }
            })?;
        let content = keeper.content;
        let names: Vec<String> = archive
            .members
            .iter()
            .filter(|m| m.kind == relkit_archive::read::MemberKind::File)
            .map(|m| clean(&String::from_utf8_lossy(&m.path)))
            .collect();
        let first: BTreeSet<&str> = names
            .iter()
            .map(|p| p.split('/').next().unwrap_or(""))
            .collect();
        let all_nested = names.iter().all(|p| p.contains('/'));
        let set: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let stripped: BTreeSet<&str> = names.iter().filter_map(|p| strip_first(p)).collect();
        let strip = first.len() == 1
            && all_nested
            && (probe.is_empty()
                || probe.iter().filter(|p| stripped.contains(*p)).count()
                    > probe.iter().filter(|p| set.contains(*p)).count());
        let key = |p: String| {
            if strip {
                strip_first(&p).unwrap_or(&p).to_string()
            } else {
                p
            }
        };
        Ok(Tree::Archive {
            path: path.to_path_buf(),
            members: names.into_iter().map(key).collect(),
            content: content.into_iter().map(|(k, v)| (key(k), v)).collect(),
        })
    }

    /// A tree handed over as its members (paths relative to the root, as in the SBOM) and
    /// the content of those the rules may read: nothing is opened. `label` names it in notes.
    pub fn from_members(
        label: &str,
        files: BTreeSet<String>,
        content: BTreeMap<String, Vec<u8>>,
    ) -> Tree {
        let content: BTreeMap<String, std::result::Result<Vec<u8>, String>> = content
            .into_iter()
            .map(|(k, mut v)| {
                v.truncate(MAX_READ as usize);
                (k, Ok(v))
            })
            .collect();
        let members = files.into_iter().chain(content.keys().cloned()).collect();
        Tree::Archive {
            path: PathBuf::from(label),
            members,
            content,
        }
    }

    /// Whether the tree holds a regular file at this relative path.
    pub fn exists(&self, rel: &str) -> bool {
        match self {
            Tree::Dir { root, .. } => root.join(rel).is_file(),
            Tree::Archive { members, .. } => members.contains(rel),
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
            Tree::Archive { members, .. } => Ok(members.iter().map(String::as_str).collect()),
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
                    let r = File::open(&full)
                        .and_then(|mut f| read_capped(&mut f))
                        .map_err(|e| format!("cannot read {}: {e}", full.display()));
                    (rel.clone(), r)
                })
                .collect(),
            Tree::Archive { path, content, .. } => wanted
                .iter()
                .map(|w| {
                    let r = content
                        .get(w)
                        .cloned()
                        .unwrap_or_else(|| Err(format!("{w}: not read from {}", path.display())));
                    (w.clone(), r)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GNU tar stores a file with holes as a sparse member (type `S`); it is a file of the
    /// tree, readable like any other.
    #[test]
    fn sparse_members_of_gnu_tar_are_files() {
        let Some(tar) = relkit_testkit::oracle("tar") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("xz-5.6.1/src/liblzma/api/lzma");
        std::fs::create_dir_all(&src).unwrap();
        let header = src.join("version.h");
        let f = std::fs::File::create(&header).unwrap();
        f.set_len(1 << 20).unwrap();
        drop(f);
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&header)
                .unwrap();
            f.write_all(b"#define LZMA_VERSION_MAJOR 5\n").unwrap();
        }
        let archive = dir.path().join("xz.tar");
        relkit_testkit::run_ok(
            std::process::Command::new(tar)
                .args(["--format=gnu", "-S", "-cf"])
                .arg(&archive)
                .arg("-C")
                .arg(dir.path())
                .arg("xz-5.6.1"),
        );
        let raw = std::fs::read(&archive).unwrap();
        let member = raw
            .chunks(512)
            .find(|b| {
                b.len() == 512 && b[..100].starts_with(b"xz-5.6.1/src/liblzma/api/lzma/version.h")
            })
            .expect("version.h header");
        assert_eq!(member[156], b'S', "GNU tar did not write a sparse member");
        let tree = Tree::open(&archive, &[], &|name| name == "version.h").unwrap();
        assert!(tree.exists("src/liblzma/api/lzma/version.h"));
        let wanted = BTreeSet::from(["src/liblzma/api/lzma/version.h".to_string()]);
        let read = tree.read_many(&wanted);
        let bytes = read["src/liblzma/api/lzma/version.h"].as_ref().unwrap();
        assert!(bytes.ends_with(b"#define LZMA_VERSION_MAJOR 5\n"));
    }
}
