//! Exporting a git revision into a directory with gitoxide, as `git archive` would:
//! the tree as committed (never the work tree), `export-ignore` honoured, symbolic links
//! kept as links, the executable bit kept, and `.gitattributes` conversions applied.
//!
//! The repository is opened isolated (no global or system git configuration), so a
//! user's `core.autocrlf` or filter drivers cannot change the exported bytes.

use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;
use serde::{Deserialize, Serialize};

/// What to do when the tree contains a submodule (a gitlink entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubmodulePolicy {
    /// Refuse to export (the default: a release missing a submodule is rarely intended).
    #[default]
    Error,
    /// Leave submodules out and list them in the result.
    Omit,
    /// Export each submodule's recorded commit in its place, from its repository under
    /// `.git/modules/<path>` or the checked-out `<path>` (run `git submodule update --init`).
    Include,
}

/// Settings for [`export_rev`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Submodule handling.
    pub submodules: SubmodulePolicy,
}

/// What [`export_rev`] produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    /// The full commit id the revision resolved to.
    pub commit: String,
    /// The committer time of that commit (seconds since the epoch).
    pub commit_time: i64,
    /// The tree id exported.
    pub tree: String,
    /// Number of files and links written.
    pub entries: usize,
    /// Submodule paths left out (only with [`SubmodulePolicy::Omit`]).
    pub omitted_submodules: Vec<String>,
    /// Submodules exported in place: path and commit (only with [`SubmodulePolicy::Include`]).
    pub included_submodules: Vec<(String, String)>,
}

/// Errors from exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The path is not a git repository.
    #[error("{path} is not a git repository (or cannot be opened): {message}")]
    NotARepo {
        /// The path given.
        path: PathBuf,
        /// Why opening failed.
        message: String,
    },
    /// The revision does not name a commit.
    #[error(
        "revision {rev:?} not found in {repo}: {message}; check the tag or branch name (`git tag -l`)"
    )]
    UnknownRev {
        /// The revision as given.
        rev: String,
        /// The repository.
        repo: PathBuf,
        /// Why resolving failed.
        message: String,
    },
    /// An object could not be read or decoded.
    #[error(
        "cannot read git objects of {rev:?} in {repo}: {message}; the repository may be corrupt (try `git fsck`)"
    )]
    Objects {
        /// The revision being exported.
        rev: String,
        /// The repository.
        repo: PathBuf,
        /// The underlying message.
        message: String,
    },
    /// The tree holds a submodule and the policy says error.
    #[error(
        "the tree contains submodule {path:?}; set `[source] submodules = \"omit\"` in relkit.toml to leave it out"
    )]
    Submodule {
        /// The submodule's path.
        path: String,
    },
    /// A submodule to include has no repository here.
    #[error(
        "submodule {path:?} (commit {commit}) cannot be included: no repository at .git/modules/{path} or {path}; run `git submodule update --init` first"
    )]
    SubmoduleMissing {
        /// The submodule's path.
        path: String,
        /// The commit the tree records for it.
        commit: String,
    },
    /// A tree entry name that would escape the export directory.
    #[error("the tree contains an unsafe path {path:?}; refusing to export it")]
    UnsafePath {
        /// The offending path.
        path: String,
    },
    /// Writing the exported tree failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Opens `repo` isolated from the user's and the system's git configuration.
fn open_isolated(repo: &Path) -> Result<gix::Repository, ExportError> {
    gix::open_opts(repo, gix::open::Options::isolated()).map_err(|e| ExportError::NotARepo {
        path: repo.to_path_buf(),
        message: e.to_string(),
    })
}

/// The commit `rev` names in `handle` (the repository at `repo`, for messages).
fn peel_commit<'r>(
    handle: &'r gix::Repository,
    repo: &Path,
    rev: &str,
) -> Result<gix::Commit<'r>, ExportError> {
    let unknown = |message: String| ExportError::UnknownRev {
        rev: rev.to_string(),
        repo: repo.to_path_buf(),
        message,
    };
    handle
        .rev_parse_single(rev.as_bytes().as_bstr())
        .map_err(|e| unknown(e.to_string()))?
        .object()
        .map_err(|e| ExportError::Objects {
            rev: rev.to_string(),
            repo: repo.to_path_buf(),
            message: e.to_string(),
        })?
        .peel_to_commit()
        .map_err(|e| unknown(format!("it does not point to a commit ({e})")))
}

/// What a revision resolves to, without exporting anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedRev {
    /// The full commit id.
    pub commit: String,
    /// The committer time (seconds since the epoch).
    pub commit_time: i64,
    /// The full name of the tag the revision names (`refs/tags/…`), if it names one.
    pub tag: Option<String>,
}

/// Resolves `rev` in the repository at `repo` to its commit, and says whether it is a tag.
pub fn resolve_rev(repo: &Path, rev: &str) -> Result<ResolvedRev, ExportError> {
    let handle = open_isolated(repo)?;
    let commit = peel_commit(&handle, repo, rev)?;
    let commit_time = commit
        .time()
        .map_err(|e| ExportError::Objects {
            rev: rev.to_string(),
            repo: repo.to_path_buf(),
            message: e.to_string(),
        })?
        .seconds;
    let short = rev.strip_prefix("refs/tags/").unwrap_or(rev);
    let tag_name = format!("refs/tags/{short}");
    let tag = handle
        .try_find_reference(tag_name.as_str())
        .ok()
        .flatten()
        .map(|_| tag_name);
    Ok(ResolvedRev {
        commit: commit.id.to_string(),
        commit_time,
        tag,
    })
}

/// Reads the file at `path` (`/`-separated) in the tree of `rev`, without exporting.
pub fn read_file_at(repo: &Path, rev: &str, path: &str) -> Result<Vec<u8>, ExportError> {
    let handle = open_isolated(repo)?;
    let objects = |message: String| ExportError::Objects {
        rev: rev.to_string(),
        repo: repo.to_path_buf(),
        message,
    };
    let commit = peel_commit(&handle, repo, rev)?;
    let tree = commit.tree().map_err(|e| objects(e.to_string()))?;
    let entry = tree
        .lookup_entry_by_path(path)
        .map_err(|e| objects(e.to_string()))?
        .ok_or_else(|| objects(format!("{path} is not in the tree of {rev}")))?;
    let object = entry.object().map_err(|e| objects(e.to_string()))?;
    Ok(object.detach().data)
}

/// The subject line (first line of the message) of every commit reachable from `rev`,
/// by full commit id.
pub fn commit_subjects(
    repo: &Path,
    rev: &str,
) -> Result<std::collections::HashMap<String, String>, ExportError> {
    let handle = open_isolated(repo)?;
    let objects = |e: &dyn std::fmt::Display| ExportError::Objects {
        rev: rev.to_string(),
        repo: repo.to_path_buf(),
        message: e.to_string(),
    };
    let commit = peel_commit(&handle, repo, rev)?;
    let walk = handle
        .rev_walk([commit.id])
        .all()
        .map_err(|e| objects(&e))?;
    let mut out = std::collections::HashMap::new();
    for info in walk {
        let info = info.map_err(|e| objects(&e))?;
        let object = info.object().map_err(|e| objects(&e))?;
        let subject = object
            .message_raw_sloppy()
            .lines()
            .next()
            .map(|l| l.to_str_lossy().trim_end().to_string())
            .unwrap_or_default();
        out.insert(info.id.to_string(), subject);
    }
    Ok(out)
}

/// The short names of the repository's tags, sorted.
pub fn list_tags(repo: &Path) -> Result<Vec<String>, ExportError> {
    let not_a_repo = |message: String| ExportError::NotARepo {
        path: repo.to_path_buf(),
        message,
    };
    let handle = open_isolated(repo)?;
    let refs = handle.references().map_err(|e| not_a_repo(e.to_string()))?;
    let mut tags: Vec<String> = refs
        .tags()
        .map_err(|e| not_a_repo(e.to_string()))?
        .filter_map(Result::ok)
        .map(|r| r.name().shorten().to_string())
        .collect();
    tags.sort();
    Ok(tags)
}

/// What a tree entry of [`RevFile`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevFileKind {
    /// A directory (no content).
    Dir,
    /// A regular file.
    File,
    /// A file with the executable bit.
    Executable,
    /// A symbolic link; the content is its target.
    Symlink,
}

/// One entry of a revision as [`walk_rev`] yields it: what `git archive` would write.
#[derive(Debug, Clone, Copy)]
pub struct RevFile<'a> {
    /// Path relative to the tree root, `/`-separated (below its submodule's path for
    /// included submodules).
    pub path: &'a [u8],
    /// Directory, file, executable or symlink.
    pub kind: RevFileKind,
    /// The git object id of the blob (hex); may name an object of a submodule's repository.
    pub id: &'a str,
    /// The content after `.gitattributes` conversions (a symlink's target).
    pub content: &'a [u8],
}

/// Streams `rev` of the repository at `repo` to `visit`, entry by entry, without writing
/// anything: the same entries, conversions and submodule handling as [`export_rev`].
/// Returns what [`export_rev`] would (its `entries` counts files and links).
pub fn walk_rev(
    repo: &Path,
    rev: &str,
    opts: &ExportOptions,
    visit: &mut dyn FnMut(RevFile<'_>) -> Result<(), ExportError>,
) -> Result<Exported, ExportError> {
    walk_rev_below(repo, rev, opts, &[], visit)
}

/// [`walk_rev`] with every path put below `prefix` (an included submodule's place).
fn walk_rev_below(
    repo: &Path,
    rev: &str,
    opts: &ExportOptions,
    prefix: &[u8],
    visit: &mut dyn FnMut(RevFile<'_>) -> Result<(), ExportError>,
) -> Result<Exported, ExportError> {
    let objects_err = |e: &dyn std::fmt::Display| ExportError::Objects {
        rev: rev.to_string(),
        repo: repo.to_path_buf(),
        message: e.to_string(),
    };
    let handle = open_isolated(repo)?;
    let commit = peel_commit(&handle, repo, rev)?;
    let commit_time = commit.time().map_err(|e| objects_err(&e))?.seconds;
    let tree_id = commit.tree_id().map_err(|e| objects_err(&e))?.detach();
    let mut submodules = Vec::new();
    find_submodules(&handle, tree_id, &[], &mut submodules).map_err(|e| objects_err(&e))?;
    if let (SubmodulePolicy::Error, Some((path, _))) = (opts.submodules, submodules.first()) {
        return Err(ExportError::Submodule {
            path: prefixed(prefix, path.as_bytes())
                .to_str_lossy()
                .into_owned(),
        });
    }
    let (mut stream, _index) = handle
        .worktree_stream(tree_id)
        .map_err(|e| objects_err(&e))?;
    let mut result = Exported {
        commit: commit.id.to_string(),
        commit_time,
        tree: tree_id.to_string(),
        entries: 0,
        omitted_submodules: Vec::new(),
        included_submodules: Vec::new(),
    };
    let mut buf = Vec::new();
    while let Some(mut entry) = stream.next_entry().map_err(|e| objects_err(&e))? {
        let kind = match entry.mode.kind() {
            EntryKind::Tree => RevFileKind::Dir,
            EntryKind::Commit => continue,
            EntryKind::Link => RevFileKind::Symlink,
            EntryKind::Blob => RevFileKind::File,
            EntryKind::BlobExecutable => RevFileKind::Executable,
        };
        let path = prefixed(prefix, entry.relative_path());
        let id = entry.id.to_string();
        buf.clear();
        entry.read_to_end(&mut buf).map_err(|e| objects_err(&e))?;
        visit(RevFile {
            path: &path,
            kind,
            id: &id,
            content: &buf,
        })?;
        if kind != RevFileKind::Dir {
            result.entries += 1;
        }
    }
    for (rel_str, commit) in submodules {
        let full = prefixed(prefix, rel_str.as_bytes())
            .to_str_lossy()
            .into_owned();
        match opts.submodules {
            SubmodulePolicy::Error => unreachable!("refused above"),
            SubmodulePolicy::Omit => result.omitted_submodules.push(full),
            SubmodulePolicy::Include => {
                let candidates = [
                    Some(handle.git_dir().join("modules").join(&rel_str)),
                    handle.workdir().map(|w| w.join(&rel_str)),
                ];
                let sub_repo = candidates
                    .into_iter()
                    .flatten()
                    .find(|p| gix::open_opts(p, gix::open::Options::isolated()).is_ok())
                    .ok_or_else(|| ExportError::SubmoduleMissing {
                        path: full.clone(),
                        commit: commit.clone(),
                    })?;
                visit(RevFile {
                    path: full.as_bytes(),
                    kind: RevFileKind::Dir,
                    id: &commit,
                    content: &[],
                })?;
                let sub = walk_rev_below(&sub_repo, &commit, opts, full.as_bytes(), visit)?;
                result.entries += sub.entries;
                result.included_submodules.extend(sub.included_submodules);
                result.omitted_submodules.extend(sub.omitted_submodules);
                result.included_submodules.push((full, commit));
            }
        }
    }
    Ok(result)
}

/// `prefix/path`, or `path` when the prefix is empty.
fn prefixed(prefix: &[u8], path: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    if !out.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(path);
    out
}

/// Exports `rev` of the repository at `repo` into `dest` (created; must not exist or be empty).
pub fn export_rev(
    repo: &Path,
    rev: &str,
    dest: &Path,
    opts: &ExportOptions,
) -> Result<Exported, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    fs::create_dir_all(dest).map_err(io(dest))?;
    let result = walk_rev(repo, rev, opts, &mut |file| {
        let target = safe_join(dest, file.path).ok_or_else(|| ExportError::UnsafePath {
            path: file.path.to_str_lossy().into_owned(),
        })?;
        if file.kind == RevFileKind::Dir {
            return fs::create_dir_all(&target).map_err(io(&target));
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        match file.kind {
            RevFileKind::Symlink => {
                let link = std::ffi::OsStr::from_bytes(file.content);
                std::os::unix::fs::symlink(link, &target).map_err(io(&target))
            }
            RevFileKind::File | RevFileKind::Executable => {
                fs::write(&target, file.content).map_err(io(&target))?;
                let mode = if file.kind == RevFileKind::Executable {
                    0o755
                } else {
                    0o644
                };
                fs::set_permissions(&target, fs::Permissions::from_mode(mode)).map_err(io(&target))
            }
            RevFileKind::Dir => unreachable!("handled above"),
        }
    })?;
    normalize_dirs(dest)?;
    Ok(result)
}

/// Reads the blob `id` (hex) of the repository at `repo`, as stored (no conversions).
pub fn read_blob(repo: &Path, id: &str) -> Result<Vec<u8>, ExportError> {
    let objects = |message: String| ExportError::Objects {
        rev: id.to_string(),
        repo: repo.to_path_buf(),
        message,
    };
    let handle = open_isolated(repo)?;
    let oid = gix::ObjectId::from_hex(id.as_bytes()).map_err(|e| objects(e.to_string()))?;
    let object = handle
        .find_object(oid)
        .map_err(|e| objects(e.to_string()))?;
    Ok(object.detach().data)
}

/// Collects `(path, commit)` of every gitlink (submodule) below `tree`, in tree order.
fn find_submodules(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    prefix: &[u8],
    out: &mut Vec<(String, String)>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let tree = repo.find_tree(tree)?;
    let mut subtrees = Vec::new();
    for entry in tree.iter() {
        let entry = entry?;
        let mut path = prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(entry.filename());
        match entry.mode().kind() {
            EntryKind::Commit => out.push((
                path.to_str_lossy().into_owned(),
                entry.object_id().to_string(),
            )),
            EntryKind::Tree => subtrees.push((entry.object_id(), path)),
            _ => {}
        }
    }
    for (id, path) in subtrees {
        find_submodules(repo, id, &path, out)?;
    }
    Ok(())
}

/// Gives every directory mode 0755 whatever the umask was.
fn normalize_dirs(dir: &Path) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).map_err(io)?;
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_type().map_err(io)?.is_dir() {
            normalize_dirs(&entry.path())?;
        }
    }
    Ok(())
}

/// Joins a tree path to `base`, refusing empty, `.`, `..` and `.git` components.
fn safe_join(base: &Path, rel: &[u8]) -> Option<PathBuf> {
    let mut out = base.to_path_buf();
    for part in rel.split(|&b| b == b'/') {
        if part.is_empty() || part == b"." || part == b".." || part.eq_ignore_ascii_case(b".git") {
            return None;
        }
        out.push(std::ffi::OsStr::from_bytes(part));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        let base = Path::new("/tmp/x");
        assert!(safe_join(base, b"a/../b").is_none());
        assert!(safe_join(base, b".git/config").is_none());
        assert!(safe_join(base, b"a//b").is_none());
        assert_eq!(safe_join(base, b"a/b").unwrap(), Path::new("/tmp/x/a/b"));
    }
}
