//! `audit history`: what changed between two releases that deserves a human look, and who
//! changed it. Read with gitoxide only (no `git` binary):
//! - new or changed **opaque files** (binary or high-entropy: Shannon entropy ≥ 7.0
//!   bits/byte) with size, entropy, magic type, the commits that touched them, and which
//!   files of the release reference them by name (a test file nobody references is odd);
//! - changes to **build machinery**: autotools, m4 macros, CMake, build-aux scripts, CI;
//! - **people**: each author's and committer's share in the range, those new to the project
//!   or new to touching build files, who tagged each release around the range and when that
//!   changed, and per calendar year the share of the busiest people and the bus factor
//!   (fewest people making half of the commits), over the whole history up to `to`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use serde::Serialize;

use crate::error::{Error, Result};

/// Entropy (bits per byte) from which a file counts as opaque.
const HIGH_ENTROPY: f64 = 7.0;
/// Commits listed per file (the counts are complete).
const MAX_COMMITS: usize = 20;
/// Largest text blob scanned for references.
const MAX_SCAN: usize = 2 << 20;

/// One commit, as shown in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitRef {
    /// The commit id (full hex).
    pub id: String,
    /// Author name.
    pub author: String,
    /// Committer name.
    pub committer: String,
    /// Author date, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// First line of the message.
    pub subject: String,
}

/// A new or changed binary or high-entropy file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpaqueFile {
    /// Path at `to`.
    pub path: String,
    /// `added` (not at `from`) or `modified`.
    pub status: String,
    /// Size at `to`, bytes.
    pub size: u64,
    /// Shannon entropy at `to`, bits per byte (two decimals).
    pub entropy: f64,
    /// Whether it holds a NUL byte or is not UTF-8.
    pub binary: bool,
    /// Magic type from the first bytes: `xz`, `lzma`, `gzip`, `ELF`, … or `data`.
    pub magic: String,
    /// Files at `to` that mention its file name (tests, build scripts, docs).
    pub referenced_by: Vec<String>,
    /// Whether one of those is a test or build file.
    pub referenced_by_test_or_build: bool,
    /// Commits in the range that added or changed it (oldest first).
    pub commits: Vec<CommitRef>,
}

/// A changed build-machinery file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildChange {
    /// Path.
    pub path: String,
    /// `autotools`, `m4`, `cmake`, `build-aux`, `build-script` or `ci`.
    pub category: String,
    /// `added`, `modified` or `deleted` over the whole range.
    pub status: String,
    /// Number of commits in the range touching it.
    pub commit_count: usize,
    /// Those commits (oldest first; at most 20).
    pub commits: Vec<CommitRef>,
}

/// A person's commits in a set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Name as recorded.
    pub name: String,
    /// Commits.
    pub commits: usize,
    /// Percentage of the set's commits (one decimal).
    pub percent: f64,
}

/// A release tag and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagInfo {
    /// Tag name.
    pub tag: String,
    /// Tagger name (annotated tags) or the commit's committer (lightweight tags).
    pub tagger: String,
    /// Tag date, `YYYY-MM-DD`.
    pub date: String,
    /// The tagged commit.
    pub commit: String,
}

/// A release whose tagger differs from the previous release's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaggerChange {
    /// The tag.
    pub tag: String,
    /// Who tagged the release before it.
    pub previous: String,
    /// Who tagged this one.
    pub tagger: String,
}

/// Commit shares in one calendar year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    /// The year.
    pub year: i32,
    /// Commits that year (reachable from `to`).
    pub commits: usize,
    /// Fewest people whose commits make at least half of the year's.
    pub bus_factor: usize,
    /// The people with the most commits (at most 5).
    pub top: Vec<Share>,
}

/// Who made the changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct People {
    /// Authors in the range, most commits first.
    pub authors: Vec<Share>,
    /// Committers in the range, most commits first.
    pub committers: Vec<Share>,
    /// Authors in the range with no commit before `from`.
    pub new_authors: Vec<String>,
    /// Committers in the range who never committed before `from`.
    pub new_committers: Vec<String>,
    /// Authors who changed build machinery in the range and never did before `from`.
    pub new_to_build_files: Vec<String>,
    /// Tags dated from `from`'s date to `to`'s, oldest first.
    pub release_tags: Vec<TagInfo>,
    /// Where the tagger changed in that list.
    pub tagger_changes: Vec<TaggerChange>,
    /// Shares per year over the whole history up to `to`.
    pub timeline: Vec<Period>,
}

/// The result of [`audit_history`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReport {
    /// The repository.
    pub repo: String,
    /// The older release.
    pub from: String,
    /// The newer release.
    pub to: String,
    /// The commit `from` resolves to.
    pub from_commit: String,
    /// The commit `to` resolves to.
    pub to_commit: String,
    /// Commits reachable from `to` and not from `from`.
    pub commits: usize,
    /// New or changed opaque files.
    pub opaque_files: Vec<OpaqueFile>,
    /// Changed build machinery.
    pub build_changes: Vec<BuildChange>,
    /// Who.
    pub people: People,
}

/// The build-machinery category of a path, if it is one.
pub fn build_category(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with(".github/")
        || path.starts_with(".circleci/")
        || matches!(
            name,
            ".gitlab-ci.yml"
                | ".travis.yml"
                | "appveyor.yml"
                | ".cirrus.yml"
                | "azure-pipelines.yml"
        )
    {
        Some("ci")
    } else if name.ends_with(".m4") {
        Some("m4")
    } else if matches!(
        name,
        "configure.ac" | "configure.in" | "autogen.sh" | "bootstrap"
    ) || name.ends_with(".am")
    {
        Some("autotools")
    } else if name == "CMakeLists.txt" || name.ends_with(".cmake") || path.starts_with("cmake/") {
        Some("cmake")
    } else if path.starts_with("build-aux/") {
        Some("build-aux")
    } else if matches!(
        name,
        "meson.build" | "Makefile" | "GNUmakefile" | "build.sh"
    ) || name.ends_with(".mk")
    {
        Some("build-script")
    } else {
        None
    }
}

/// Whether a path is a build file or a test program/script (documentation under tests/,
/// such as a README listing the test files, does not count).
fn is_test_or_build(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let doc = name.starts_with("README")
        || [".md", ".txt", ".rst", ".html"]
            .iter()
            .any(|e| name.ends_with(e));
    let in_tests =
        path.starts_with("tests/") || path.contains("/tests/") || path.starts_with("test/");
    build_category(path).is_some() || (in_tests && !doc)
}

/// Shannon entropy of `data` in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u64; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether `data` is text: no NUL byte, and UTF-8 or 8-bit text (ISO-8859-x, Windows-125x,
/// as old sources often are: a `©` in Latin-1): no control character but tab, line and
/// page breaks and escape. Compressed or executable data fails within its first bytes.
pub fn is_text(data: &[u8]) -> bool {
    !data.contains(&0)
        && (std::str::from_utf8(data).is_ok()
            || data
                .iter()
                .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)))
}

/// The type of `data` from its first bytes.
pub fn magic(data: &[u8]) -> &'static str {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        "xz"
    } else if data.len() >= 13 && data[0] < 225 && {
        let dict = u32::from_le_bytes([data[1], data[2], data[3], data[4]]);
        dict.is_power_of_two()
            || (dict & (dict >> 1)).is_power_of_two()
                && (dict ^ (dict & (dict >> 1))).count_ones() == 1
    } {
        "lzma"
    } else if starts(&[0x1f, 0x8b]) {
        "gzip"
    } else if starts(b"BZh") {
        "bzip2"
    } else if starts(b"LZIP") {
        "lzip"
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "zstd"
    } else if starts(&[0x04, 0x22, 0x4d, 0x18]) {
        "lz4"
    } else if starts(b"!<arch>\n") {
        "ar archive"
    } else if starts(b"\0asm") {
        "WebAssembly"
    } else if starts(b"SQLite format 3\0") {
        "SQLite database"
    } else if starts(&[0xcf, 0xfa, 0xed, 0xfe]) || starts(&[0xce, 0xfa, 0xed, 0xfe]) {
        "Mach-O"
    } else if starts(b"PK\x03\x04") {
        "zip"
    } else if starts(b"7z\xbc\xaf\x27\x1c") {
        "7z"
    } else if starts(b"\x7fELF") {
        "ELF"
    } else if starts(b"MZ") {
        "PE/DOS executable"
    } else if starts(b"\x89PNG") {
        "PNG"
    } else if starts(b"\xff\xd8\xff") {
        "JPEG"
    } else if starts(b"GIF8") {
        "GIF"
    } else if starts(b"%PDF") {
        "PDF"
    } else if data.get(257..262) == Some(b"ustar") {
        "tar"
    } else if is_text(data) {
        "text"
    } else {
        "data"
    }
}

fn date(secs: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm): no date crate needed.
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A file changed between two trees.
struct Change {
    path: String,
}

struct Git<'a> {
    repo: &'a gix::Repository,
    path: &'a Path,
}

impl Git<'_> {
    fn err(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Git {
            repo: self.path.to_path_buf(),
            detail: format!("{what}: {e}; the repository may be corrupt (try `git fsck`)"),
        }
    }

    /// (name, mode, id) of a tree's entries.
    fn entries(
        &self,
        tree: ObjectId,
    ) -> Result<Vec<(String, gix::objs::tree::EntryMode, ObjectId)>> {
        let t = self
            .repo
            .find_tree(tree)
            .map_err(|e| self.err("cannot read a tree", e))?;
        let decoded = t
            .decode()
            .map_err(|e| self.err("cannot decode a tree", e))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| {
                (
                    e.filename.to_str_lossy().into_owned(),
                    e.mode,
                    e.oid.to_owned(),
                )
            })
            .collect())
    }

    /// File-level changes from `old` to `new`, skipping identical subtrees.
    fn diff(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        prefix: &str,
        out: &mut Vec<Change>,
    ) -> Result<()> {
        if old == new {
            return Ok(());
        }
        let list = |t: Option<ObjectId>| -> Result<BTreeMap<String, (bool, ObjectId)>> {
            Ok(match t {
                Some(t) => self
                    .entries(t)?
                    .into_iter()
                    .filter(|(_, m, _)| !m.is_commit())
                    .map(|(n, m, id)| (n, (m.is_tree(), id)))
                    .collect(),
                None => BTreeMap::new(),
            })
        };
        let (a, b) = (list(old)?, list(new)?);
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let (ea, eb) = (a.get(name), b.get(name));
            if ea == eb {
                continue;
            }
            let path = format!("{prefix}{name}");
            let tree_of = |e: Option<&(bool, ObjectId)>| e.filter(|(t, _)| *t).map(|(_, id)| *id);
            let blob_of = |e: Option<&(bool, ObjectId)>| e.filter(|(t, _)| !*t).map(|(_, id)| *id);
            if tree_of(ea).is_some() || tree_of(eb).is_some() {
                self.diff(tree_of(ea), tree_of(eb), &format!("{path}/"), out)?;
            }
            let (ba, bb) = (blob_of(ea), blob_of(eb));
            if ba != bb {
                out.push(Change { path });
            }
        }
        Ok(())
    }

    /// Every blob path under a tree.
    fn flatten(
        &self,
        tree: ObjectId,
        prefix: &str,
        out: &mut BTreeMap<String, ObjectId>,
    ) -> Result<()> {
        for (name, mode, id) in self.entries(tree)? {
            if mode.is_tree() {
                self.flatten(id, &format!("{prefix}{name}/"), out)?;
            } else if mode.is_blob() {
                out.insert(format!("{prefix}{name}"), id);
            }
        }
        Ok(())
    }

    fn blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        let b = self
            .repo
            .find_blob(id)
            .map_err(|e| self.err("cannot read a blob", e))?;
        Ok(b.data.clone())
    }
}

/// One commit with its changes, read once.
struct Commit {
    info: CommitRef,
    time: i64,
    changes: Vec<Change>,
}

/// Audits the history between releases `from` and `to` of the repository at `repo`: the
/// commits in the range (read once, each with its first-parent changes), the opaque files and
/// build changes they brought, and the people who made them.
pub fn audit_history(repo_path: &Path, from: &str, to: &str) -> Result<HistoryReport> {
    let repo =
        gix::open_opts(repo_path, gix::open::Options::isolated()).map_err(|e| Error::Git {
            repo: repo_path.to_path_buf(),
            detail: format!("not a git repository (or cannot be opened): {e}"),
        })?;
    let git = Git {
        repo: &repo,
        path: repo_path,
    };
    let resolve = |rev: &str| -> Result<ObjectId> {
        let id = repo
            .rev_parse_single(format!("{rev}^{{commit}}").as_str())
            .map_err(|e| Error::Git {
                repo: repo_path.to_path_buf(),
                detail: format!(
                    "revision {rev:?} not found: {e}; check the tag name (`git tag -l`)"
                ),
            })?;
        Ok(id.detach())
    };
    let (from_id, to_id) = (resolve(from)?, resolve(to)?);
    let (all, order) = commits_of(&git, to_id)?;
    let (before, before_extra) = ancestors_of(&git, from_id, &all)?;
    let mut range: Vec<&Commit> = order
        .iter()
        .filter(|id| !before.contains(*id))
        .map(|id| &all[id])
        .collect();
    range.sort_by_key(|c| c.time);
    let (opaque_files, build_changes) = changed_files(&git, from_id, to_id, &range)?;
    let mut people = people(&range, &all, &before, &before_extra);
    (people.release_tags, people.tagger_changes) = tags(&git, from, to)?;
    Ok(HistoryReport {
        repo: repo_path.display().to_string(),
        from: from.to_string(),
        to: to.to_string(),
        from_commit: from_id.to_string(),
        to_commit: to_id.to_string(),
        commits: range.len(),
        opaque_files,
        build_changes,
        people,
    })
}

/// Every commit reachable from `to`, with its first-parent changes, and their walk order.
fn commits_of(git: &Git<'_>, to: ObjectId) -> Result<(HashMap<ObjectId, Commit>, Vec<ObjectId>)> {
    let walk = git
        .repo
        .rev_walk([to])
        .all()
        .map_err(|e| git.err("cannot walk the history", e))?;
    let mut all: HashMap<ObjectId, Commit> = HashMap::new();
    let mut order = Vec::new();
    for info in walk {
        let info = info.map_err(|e| git.err("cannot walk the history", e))?;
        let c = info
            .object()
            .map_err(|e| git.err("cannot read a commit", e))?;
        let author = c
            .author()
            .map_err(|e| git.err("cannot decode a commit", e))?;
        let committer = c
            .committer()
            .map_err(|e| git.err("cannot decode a commit", e))?;
        let time = author.seconds();
        let message = c.message_raw_sloppy();
        let subject = message
            .lines()
            .next()
            .map(|l| l.to_str_lossy().into_owned())
            .unwrap_or_default();
        let tree = c
            .tree_id()
            .map_err(|e| git.err("cannot decode a commit", e))?
            .detach();
        let parent_tree = match c.parent_ids().next() {
            Some(p) => Some(
                p.object()
                    .map_err(|e| git.err("cannot read a commit", e))?
                    .into_commit()
                    .tree_id()
                    .map_err(|e| git.err("cannot decode a commit", e))?
                    .detach(),
            ),
            None => None,
        };
        let mut changes = Vec::new();
        git.diff(parent_tree, Some(tree), "", &mut changes)?;
        let entry = Commit {
            info: CommitRef {
                id: info.id.to_string(),
                author: author.name.to_str_lossy().trim().to_string(),
                committer: committer.name.to_str_lossy().trim().to_string(),
                date: date(time),
                subject,
            },
            time,
            changes,
        };
        order.push(info.id);
        all.insert(info.id, entry);
    }
    Ok((all, order))
}

/// Author and committer names of an ancestor of `from` that `to` does not reach.
type ExtraAncestor = (String, String, bool);

/// The ancestors of `from` (all reachable from `to` when `from` is an ancestor; otherwise
/// walked separately, their people kept).
fn ancestors_of(
    git: &Git<'_>,
    from: ObjectId,
    all: &HashMap<ObjectId, Commit>,
) -> Result<(HashSet<ObjectId>, Vec<ExtraAncestor>)> {
    let mut before: HashSet<ObjectId> = HashSet::new();
    let walk = git
        .repo
        .rev_walk([from])
        .all()
        .map_err(|e| git.err("cannot walk the history", e))?;
    let mut before_extra: Vec<ExtraAncestor> = Vec::new();
    for info in walk {
        let info = info.map_err(|e| git.err("cannot walk the history", e))?;
        if !all.contains_key(&info.id) {
            let c = info
                .object()
                .map_err(|e| git.err("cannot read a commit", e))?;
            let a = c
                .author()
                .map_err(|e| git.err("cannot decode a commit", e))?
                .name
                .to_str_lossy()
                .trim()
                .to_string();
            let m = c
                .committer()
                .map_err(|e| git.err("cannot decode a commit", e))?
                .name
                .to_str_lossy()
                .trim()
                .to_string();
            before_extra.push((a, m, false));
        }
        before.insert(info.id);
    }
    Ok((before, before_extra))
}

/// Every blob path of a commit's tree.
fn files_at(git: &Git<'_>, commit: ObjectId) -> Result<BTreeMap<String, ObjectId>> {
    let tree = git
        .repo
        .find_commit(commit)
        .map_err(|e| git.err("cannot read a commit", e))?
        .tree_id()
        .map_err(|e| git.err("cannot decode a commit", e))?
        .detach();
    let mut files = BTreeMap::new();
    git.flatten(tree, "", &mut files)?;
    Ok(files)
}

/// The opaque files (binary or high-entropy) and build-system changes that the commits of
/// `range` brought between `from` and `to`.
fn changed_files(
    git: &Git<'_>,
    from: ObjectId,
    to: ObjectId,
    range: &[&Commit],
) -> Result<(Vec<OpaqueFile>, Vec<BuildChange>)> {
    let at_to = files_at(git, to)?;
    let at_from = files_at(git, from)?;
    let mut touched: BTreeMap<&str, Vec<&CommitRef>> = BTreeMap::new();
    for c in range {
        for ch in &c.changes {
            touched.entry(ch.path.as_str()).or_default().push(&c.info);
        }
    }
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for (p, id) in &at_to {
        let data = git.blob(*id)?;
        if data.len() <= MAX_SCAN && !data.contains(&0) {
            texts.push((p.clone(), data));
        }
    }
    let mut opaque_files = Vec::new();
    let mut build_changes = Vec::new();
    for (path, commits) in &touched {
        let status = match (at_from.get(*path), at_to.get(*path)) {
            (None, Some(_)) => "added",
            (Some(a), Some(b)) if a != b => "modified",
            (Some(_), None) => "deleted",
            _ => continue,
        };
        let listed: Vec<CommitRef> = commits
            .iter()
            .take(MAX_COMMITS)
            .map(|c| (*c).clone())
            .collect();
        if let Some(cat) = build_category(path) {
            build_changes.push(BuildChange {
                path: path.to_string(),
                category: cat.into(),
                status: status.into(),
                commit_count: commits.len(),
                commits: listed.clone(),
            });
        }
        let Some(id) = at_to.get(*path) else { continue };
        let data = git.blob(*id)?;
        if let Some(file) = opaque_file(path, status, &data, &texts, listed) {
            opaque_files.push(file);
        }
    }
    Ok((opaque_files, build_changes))
}

/// `data` at `path` as an opaque file (binary, or at least 256 bytes of high entropy), with
/// the text files naming it; `None` when it is ordinary text.
fn opaque_file(
    path: &str,
    status: &str,
    data: &[u8],
    texts: &[(String, Vec<u8>)],
    commits: Vec<CommitRef>,
) -> Option<OpaqueFile> {
    let binary = !is_text(data);
    let h = entropy(data);
    if !(binary || (data.len() >= 256 && h >= HIGH_ENTROPY)) {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let referenced_by: Vec<String> = texts
        .iter()
        .filter(|(p, t)| p != path && crate::generated::contains(t, name.as_bytes()))
        .map(|(p, _)| p.clone())
        .collect();
    Some(OpaqueFile {
        path: path.to_string(),
        status: status.into(),
        size: data.len() as u64,
        entropy: (h * 100.0).round() / 100.0,
        binary,
        magic: magic(data).into(),
        referenced_by_test_or_build: referenced_by.iter().any(|p| is_test_or_build(p)),
        referenced_by,
        commits,
    })
}

/// Each name's share of `total` commits, most commits first.
fn shares(counts: BTreeMap<&str, usize>, total: usize) -> Vec<Share> {
    let mut v: Vec<Share> = counts
        .into_iter()
        .map(|(n, c)| Share {
            name: n.to_string(),
            commits: c,
            percent: (c as f64 * 1000.0 / total.max(1) as f64).round() / 10.0,
        })
        .collect();
    v.sort_by(|a, b| b.commits.cmp(&a.commits).then(a.name.cmp(&b.name)));
    v
}

/// Who made the range: authors and committers with their shares, those new in the range
/// (and new to the build files), and the yearly timeline of the whole history. The tags are
/// filled in by the caller.
fn people(
    range: &[&Commit],
    all: &HashMap<ObjectId, Commit>,
    before: &HashSet<ObjectId>,
    before_extra: &[ExtraAncestor],
) -> People {
    let mut authors = BTreeMap::new();
    let mut committers = BTreeMap::new();
    for c in range {
        *authors.entry(c.info.author.as_str()).or_insert(0) += 1;
        *committers.entry(c.info.committer.as_str()).or_insert(0) += 1;
    }
    let mut old_authors: HashSet<String> = before_extra.iter().map(|(a, _, _)| a.clone()).collect();
    let mut old_committers: HashSet<String> =
        before_extra.iter().map(|(_, m, _)| m.clone()).collect();
    let mut old_build: HashSet<&str> = HashSet::new();
    for id in before {
        if let Some(c) = all.get(id) {
            old_authors.insert(c.info.author.clone());
            old_committers.insert(c.info.committer.clone());
            if c.changes
                .iter()
                .any(|ch| build_category(&ch.path).is_some())
            {
                old_build.insert(&c.info.author);
            }
        }
    }
    let new_authors: BTreeSet<String> = authors
        .keys()
        .filter(|a| !old_authors.contains(**a))
        .map(|a| a.to_string())
        .collect();
    let new_committers: BTreeSet<String> = committers
        .keys()
        .filter(|a| !old_committers.contains(**a))
        .map(|a| a.to_string())
        .collect();
    let new_to_build_files: BTreeSet<String> = range
        .iter()
        .filter(|c| {
            c.changes
                .iter()
                .any(|ch| build_category(&ch.path).is_some())
        })
        .map(|c| c.info.author.clone())
        .filter(|a| !old_build.contains(a.as_str()))
        .collect();
    People {
        authors: shares(authors, range.len()),
        committers: shares(committers, range.len()),
        new_authors: new_authors.into_iter().collect(),
        new_committers: new_committers.into_iter().collect(),
        new_to_build_files: new_to_build_files.into_iter().collect(),
        release_tags: Vec::new(),
        tagger_changes: Vec::new(),
        timeline: timeline(all),
    }
}

/// Commits per year of the whole history, with the bus factor and the top five authors.
fn timeline(all: &HashMap<ObjectId, Commit>) -> Vec<Period> {
    let mut years: BTreeMap<i32, BTreeMap<&str, usize>> = BTreeMap::new();
    for c in all.values() {
        let year: i32 = c.info.date[..4].parse().unwrap_or(0);
        *years
            .entry(year)
            .or_default()
            .entry(c.info.author.as_str())
            .or_insert(0) += 1;
    }
    years
        .into_iter()
        .map(|(year, counts)| {
            let total: usize = counts.values().sum();
            let shares = shares(counts, total);
            let mut acc = 0;
            let bus_factor = shares
                .iter()
                .take_while(|s| {
                    let before = acc;
                    acc += s.commits;
                    before * 2 < total
                })
                .count();
            Period {
                year,
                commits: total,
                bus_factor,
                top: shares.into_iter().take(5).collect(),
            }
        })
        .collect()
}

/// Tags dated between the `from` and `to` tags (inclusive), with taggers and changes.
fn tags(git: &Git<'_>, from: &str, to: &str) -> Result<(Vec<TagInfo>, Vec<TaggerChange>)> {
    let repo = git.repo;
    let refs = repo
        .references()
        .map_err(|e| git.err("cannot list references", e))?;
    let mut list: Vec<(i64, TagInfo)> = Vec::new();
    for r in refs.tags().map_err(|e| git.err("cannot list tags", e))? {
        let r = r.map_err(|e| git.err("cannot read a tag", e))?;
        let name = r.name().shorten().to_str_lossy().into_owned();
        let obj = r
            .id()
            .object()
            .map_err(|e| git.err("cannot read a tag", e))?;
        let (tagger, time) = if obj.kind == gix::object::Kind::Tag {
            let tag = obj.clone().into_tag();
            match tag
                .tagger()
                .map_err(|e| git.err("cannot decode a tag", e))?
            {
                Some(s) => (s.name.to_str_lossy().trim().to_string(), s.seconds()),
                None => (String::new(), 0),
            }
        } else {
            (String::new(), 0)
        };
        let commit = obj
            .peel_to_commit()
            .map_err(|e| git.err("cannot peel a tag", e))?;
        let (tagger, time) = if tagger.is_empty() {
            let c = commit
                .committer()
                .map_err(|e| git.err("cannot decode a commit", e))?;
            (c.name.to_str_lossy().trim().to_string(), c.seconds())
        } else {
            (tagger, time)
        };
        list.push((
            time,
            TagInfo {
                tag: name,
                tagger,
                date: date(time),
                commit: commit.id.to_string(),
            },
        ));
    }
    list.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.tag.cmp(&b.1.tag)));
    let time_of = |t: &str| list.iter().find(|(_, i)| i.tag == t).map(|(s, _)| *s);
    let (Some(lo), Some(hi)) = (time_of(from), time_of(to)) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let in_range: Vec<TagInfo> = list
        .into_iter()
        .filter(|(t, _)| *t >= lo && *t <= hi)
        .map(|(_, i)| i)
        .collect();
    let changes = in_range
        .windows(2)
        .filter(|w| w[0].tagger != w[1].tagger)
        .map(|w| TaggerChange {
            tag: w[1].tag.clone(),
            previous: w[0].tagger.clone(),
            tagger: w[1].tagger.clone(),
        })
        .collect();
    Ok((in_range, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_sources_are_text_and_compressed_data_is_not() {
        // The head of zlib's contrib/dotzlib/DotZLib/ChecksumImpl.cs: ISO-8859-1, CRLF.
        let latin1 = b"//\r\n// \xa9 Copyright Henrik Ravn 2004\r\n//\r\n";
        assert!(is_text(latin1));
        assert_eq!(magic(latin1), "text");
        assert!(is_text("// © UTF-8\n".as_bytes()));
        // xz's tests/files/good-1-check-crc32.xz starts like every .xz file.
        let xz = b"\xfd7zXZ\x00\x00\x01\x69\x22\xde\x36\x02\x00\x21\x01";
        assert!(!is_text(xz));
        assert!(!is_text(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"));
        // xz's tests/files/good-1-v1.lz (lzip) and a zstd frame.
        assert_eq!(magic(b"LZIP\x01\x0c\x00\x20"), "lzip");
        assert_eq!(magic(&[0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x05]), "zstd");
    }
}
