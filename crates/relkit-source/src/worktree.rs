//! The state of a git work tree, read with gitoxide (never the `git` binary): which tracked
//! files have uncommitted changes, and when a directory was last changed by a commit.
//!
//! Both answers feed trust decisions (the release refuses a dirty tree; an SBOM's creation time
//! is the commit time of its directory), so every failure is an error with its cause — never
//! "no changes" or "no time" because a tool was missing.

use std::path::{Path, PathBuf};

use gix::bstr::ByteSlice;

/// What is wrong with a tracked file in the work tree or the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The index differs from `HEAD` (something was staged: added, changed, removed, renamed).
    Staged,
    /// The work-tree file differs from the index (content, mode or type).
    Modified,
    /// The file is in the index but not in the work tree.
    Deleted,
    /// The index entry has an unresolved merge conflict.
    Conflict,
    /// A submodule's checkout differs from what is recorded.
    Submodule,
}

/// One uncommitted change to a tracked path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct WorktreeChange {
    /// The path relative to the top of the work tree, `/`-separated.
    pub path: String,
    /// What kind of change.
    pub kind: ChangeKind,
}

/// Errors from reading a work tree's state.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    /// The path is not inside a git work tree that can be opened.
    #[error("{path} is not in a git work tree (or it cannot be opened)")]
    NotAWorktree {
        /// The path given.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The repository is bare: it has no work tree to check.
    #[error("{0} is a bare repository: it has no work tree")]
    Bare(PathBuf),
    /// Reading the index, a tree, a commit or a file failed.
    #[error("reading the git state of {path}: {what}")]
    Read {
        /// The repository or directory.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn read_err<E: std::error::Error + Send + Sync + 'static>(
    path: &Path,
    what: &str,
) -> impl FnOnce(E) -> WorktreeError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| WorktreeError::Read {
        path,
        what,
        source: Box::new(e),
    }
}

/// Opens the repository whose work tree holds `dir`, isolated from the user's and the system's
/// git configuration (the repository's own `.git/config` still counts).
fn discover(dir: &Path) -> Result<gix::Repository, WorktreeError> {
    let trust = gix::sec::trust::Mapping {
        full: gix::open::Options::isolated(),
        reduced: gix::open::Options::isolated(),
    };
    gix::ThreadSafeRepository::discover_opts(dir, Default::default(), trust)
        .map(gix::Repository::from)
        .map_err(|e| WorktreeError::NotAWorktree {
            path: dir.to_path_buf(),
            source: Box::new(e),
        })
}

/// The tracked paths of the work tree at `repo` with uncommitted changes — staged (index vs
/// `HEAD`), modified or deleted (work tree vs index), conflicted — like `git status
/// --untracked-files=no`, sorted by path. Untracked files are not changes.
///
/// An error means the state could not be read; callers must not take it as "clean".
pub fn worktree_changes(repo: &Path) -> Result<Vec<WorktreeChange>, WorktreeError> {
    use gix::status::index_worktree::Item as WtItem;
    use gix::status::plumbing::index_as_worktree::{Change, EntryStatus};

    let handle = discover(repo)?;
    if handle.workdir().is_none() {
        return Err(WorktreeError::Bare(repo.to_path_buf()));
    }
    let iter = handle
        .status(gix::progress::Discard)
        .map_err(read_err(repo, "the status settings"))?
        .untracked_files(gix::status::UntrackedFiles::None)
        .into_iter(Vec::new())
        .map_err(read_err(repo, "the index"))?;
    let mut changes = Vec::new();
    for item in iter {
        let item = item.map_err(read_err(repo, "a tracked file"))?;
        let kind = match &item {
            gix::status::Item::TreeIndex(_) => Some(ChangeKind::Staged),
            gix::status::Item::IndexWorktree(WtItem::Modification { status, .. }) => match status {
                EntryStatus::Conflict { .. } => Some(ChangeKind::Conflict),
                EntryStatus::Change(Change::Removed) => Some(ChangeKind::Deleted),
                EntryStatus::Change(Change::SubmoduleModification(_)) => {
                    Some(ChangeKind::Submodule)
                }
                EntryStatus::Change(_) => Some(ChangeKind::Modified),
                // Stat data changed but the content did not: not a change (git agrees).
                EntryStatus::NeedsUpdate(_) => None,
                EntryStatus::IntentToAdd => Some(ChangeKind::Staged),
            },
            gix::status::Item::IndexWorktree(WtItem::Rewrite { .. }) => Some(ChangeKind::Modified),
            // Untracked and ignored files are not asked for; a directory entry is not a change.
            gix::status::Item::IndexWorktree(WtItem::DirectoryContents { .. }) => None,
        };
        if let Some(kind) = kind {
            changes.push(WorktreeChange {
                path: item.location().to_str_lossy().into_owned(),
                kind,
            });
        }
    }
    changes.sort();
    changes.dedup();
    Ok(changes)
}

/// The committer time (seconds since the epoch) of the newest commit reachable from `HEAD`
/// that changed `dir` — what `git log -1 --format=%ct -- DIR` prints: commits are visited
/// newest first, and a commit counts when the tree entry at `dir` differs from that of every
/// parent (a merge that kept one side's version is not a change, as in git's default history
/// simplification); a root commit counts when it has the entry. In a shallow clone (`git clone
/// --depth N`, a CI checkout) the boundary commits' parents are not there: like git, the walk
/// takes those commits for root commits.
///
/// `Ok(None)` when `dir` is in a work tree but no commit holds it (untracked, or `HEAD`
/// unborn); an error when `dir` is not in a git work tree or the history cannot be read.
pub fn commit_time_of_path(dir: &Path) -> Result<Option<i64>, WorktreeError> {
    let handle = discover(dir)?;
    let Some(workdir) = handle.workdir() else {
        return Err(WorktreeError::Bare(dir.to_path_buf()));
    };
    let canon = |p: &Path| std::fs::canonicalize(p).map_err(read_err(p, "the path"));
    let (top, target) = (canon(workdir)?, canon(dir)?);
    let rel = target
        .strip_prefix(&top)
        .map_err(read_err(dir, "the path inside the work tree"))?
        .to_path_buf();
    let head = match handle.head_id() {
        Ok(id) => id.detach(),
        Err(_) if handle.head().map(|h| h.is_unborn()).unwrap_or(false) => return Ok(None),
        Err(e) => return Err(read_err(dir, "HEAD")(e)),
    };
    let shallow: std::collections::HashSet<gix::ObjectId> = handle
        .shallow_commits()
        .map_err(read_err(dir, "the shallow boundary (.git/shallow)"))?
        .map(|c| c.iter().copied().collect())
        .unwrap_or_default();
    let walk = handle
        .rev_walk([head])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(read_err(dir, "the history"))?;
    for info in walk {
        let info = info.map_err(read_err(dir, "a commit"))?;
        let commit = info.object().map_err(read_err(dir, "a commit"))?;
        let mine = entry_id(
            &handle,
            commit.tree_id().ok().map(|t| t.detach()),
            &rel,
            dir,
        )?;
        let changed = if info.parent_ids.is_empty() || shallow.contains(&info.id) {
            mine.is_some()
        } else {
            let mut differs_from_all = true;
            for parent in &info.parent_ids {
                let pc = handle
                    .find_commit(*parent)
                    .map_err(read_err(dir, "a parent commit"))?;
                let theirs = entry_id(&handle, pc.tree_id().ok().map(|t| t.detach()), &rel, dir)?;
                if theirs == mine {
                    differs_from_all = false;
                    break;
                }
            }
            differs_from_all
        };
        if changed {
            let time = commit.time().map_err(read_err(dir, "a commit time"))?;
            return Ok(Some(time.seconds));
        }
    }
    Ok(None)
}

/// The object id at `rel` in `tree` (the tree itself for an empty path), `None` when absent.
fn entry_id(
    repo: &gix::Repository,
    tree: Option<gix::ObjectId>,
    rel: &Path,
    dir: &Path,
) -> Result<Option<gix::ObjectId>, WorktreeError> {
    let Some(tree) = tree else {
        return Ok(None);
    };
    if rel.as_os_str().is_empty() {
        return Ok(Some(tree));
    }
    let tree = repo
        .find_tree(tree)
        .map_err(read_err(dir, "a commit's tree"))?;
    let entry = tree
        .lookup_entry_by_path(rel)
        .map_err(read_err(dir, "a commit's tree"))?;
    Ok(entry.map(|e| e.object_id()))
}
