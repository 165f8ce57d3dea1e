//! Health from git history: one pass over a repository (commits, the files each one changed,
//! release tags and their signers), then metrics as of any date from that data.
//!
//! The pass walks every commit reachable from a branch or a tag (`refs/heads`, `refs/tags`,
//! `refs/remotes`; not `refs/pull/*` and other unmerged proposals) and reads commits and
//! trees only, never blobs (except `.mailmap` at HEAD): per
//! non-merge commit, the tree diff against its first parent (gitoxide's tree diff, the work
//! of `git log --name-status`). Merge commits count for "last commit" but not for authorship
//! (like `git log --no-merges`). Dates are committer dates: when a change became part of the
//! project (zlib 1.2.12 merged in 2022 contributions authored in 2019), as `git log --since`.
//!
//! Metric definitions (as of `T`, the end of the `--as-of` day):
//! - **days since last commit**: from the newest commit dated ≤ T; **stale input**: the
//!   newest commit in the whole repository is more than `stale_days` before T, so the copy
//!   may simply be old and dormancy is not concluded.
//! - **last stable release**: the newest release tag dated ≤ T (tag date: tagger date of an
//!   annotated tag, else the commit's); a release tag is `PREFIX` + digits separated by `.`
//!   or `_`; with a suffix such as `alpha`, `beta`, `rc` or `pre` it is a pre-release and
//!   does not count as stable.
//! - **commits / authors in 12 and 24 months**: non-merge commits by people (bots apart)
//!   with T − 365 (730) days < date ≤ T, and the distinct identities making them.
//! - **top-1 / top-2 share**: the share of those commits (window `share_window_days`) made
//!   by the busiest one / two identities.
//! - **contributor absence factor** (CHAOSS): the fewest identities making at least 50% of
//!   the commits of the same window.
//! - **truck factor** (Avelino et al., 2016): degree of authorship of identity `d` on file
//!   `f`: DOA = 3.293 + 1.098·FA + 0.164·DL − 0.321·ln(1 + AC), where FA = 1 if `d` created
//!   `f`, DL = `d`'s later changes to `f`, AC = changes to `f` by others (creation included).
//!   `d` is an author of `f` when DOA ≥ 3.293 and DOA ≥ 0.75 × the file's highest DOA. Files:
//!   the source files (by extension) present at T on the default branch. The truck factor is
//!   the number of top authors (most files first) to remove before more than half of the
//!   files have no author left. Renames are not followed (a rename is a deletion and a
//!   creation), since following them needs the blobs.
//! - **identities**: `.mailmap` (at HEAD) first, then identities with an equal e-mail
//!   (case-insensitive) or an equal name (case- and space-insensitive) are one person.
//!   Bots (`[bot]` in the name or e-mail, dependabot, renovate, github-actions) are never
//!   merged with people and are left out of every share.
//! - **release signers**: per annotated release tag, the tagger and the OpenPGP issuer key
//!   of its signature ([`crate::openpgp`]); a **signer change** is a signed release whose key
//!   differs from the previous signed release's (unsigned tags in between are skipped; a
//!   project that never signs is followed by its annotated tags' taggers), with the number of
//!   consecutive releases the previous key had signed.
//! - **newcomer**: of the identities whose first commit is within `newcomer_window_days`
//!   before T, the one with the most commits in the last 12 months, with that share.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::objs::FindExt;
use serde::Serialize;

use crate::date;
use crate::error::{Error, Result};
use crate::openpgp::{self, Issuer};

/// How a commit touched a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The file was created.
    Added,
    /// The file was changed.
    Modified,
    /// The file was removed.
    Deleted,
}

/// One commit as the metrics need it.
#[derive(Debug, Clone)]
pub struct CommitRec {
    /// Committer date (Unix seconds).
    pub time: i64,
    /// Index into [`History::identities`].
    pub author: u32,
    /// Whether it has more than one parent (no diff is taken).
    pub merge: bool,
    /// Files changed against the first parent: (index into [`History::paths`], kind).
    pub changes: Vec<(u32, ChangeKind)>,
}

/// A person (or bot) after unifying names and e-mails.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// The name shown (the `.mailmap` name, else the most used one).
    pub name: String,
    /// Every e-mail seen (lower case).
    pub emails: Vec<String>,
    /// Whether it is a bot.
    pub bot: bool,
    /// Date of the first commit (Unix seconds).
    #[serde(skip)]
    pub first: i64,
}

/// A release tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagRec {
    /// Tag name.
    pub name: String,
    /// Version part of the name.
    pub version: String,
    /// Whether it is a stable release (not alpha, beta, rc, pre).
    pub stable: bool,
    /// Tag date (Unix seconds): tagger date, else commit date.
    #[serde(skip)]
    pub time: i64,
    /// Tag date `YYYY-MM-DD`.
    pub date: String,
    /// Whether it is an annotated tag.
    pub annotated: bool,
    /// Tagger `Name <email>` (annotated tags).
    pub tagger: Option<String>,
    /// The tagger's identity, when the tagger also committed.
    #[serde(skip)]
    pub tagger_identity: Option<u32>,
    /// The OpenPGP signature's issuer, when signed.
    pub signer: Option<Issuer>,
    /// Why a signature present could not be read.
    pub signature_error: Option<String>,
}

/// The result of one pass over a repository.
pub struct History {
    /// The path given (directory or bundle).
    pub source: PathBuf,
    /// Why the history is incomplete (shallow clone, bundle with prerequisites).
    pub incomplete: Option<String>,
    /// Unified identities.
    pub identities: Vec<Identity>,
    /// Commits, oldest first.
    pub commits: Vec<CommitRec>,
    /// Interned paths.
    pub paths: Vec<String>,
    /// Release tags (stable and pre-releases), oldest first.
    pub tags: Vec<TagRec>,
    /// Every tag name that is not a release tag.
    pub other_tags: usize,
    /// Date of the newest commit (Unix seconds).
    pub newest: i64,
    /// The default branch's first-parent chain: (commit date, tree), oldest first.
    chain: Vec<(i64, ObjectId)>,
    repo: gix::Repository,
}

/// A commit read by the walk, before its diff.
struct Pending {
    time: i64,
    rid: usize,
    merge: bool,
    tree: ObjectId,
    parent: Option<ObjectId>,
}

/// FNV-1a: the path table is hashed once per changed file, where SipHash showed in profiles.
#[derive(Default, Clone, Copy)]
struct FastHash;

/// The FNV-1a state.
struct Fnv(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A commit's index and its blob-level changes.
type Diffed = (usize, Vec<(gix::bstr::BString, ChangeKind)>);

/// The blob-level changes of each (index, parent tree, tree) job.
fn diff_jobs<'a>(
    repo: &gix::Repository,
    path: &Path,
    jobs: impl Iterator<Item = &'a (usize, Option<ObjectId>, ObjectId)>,
) -> Result<Vec<Diffed>> {
    use gix::diff::tree::recorder::Change as C;
    let mut state = gix::diff::tree::State::default();
    let (mut buf1, mut buf2) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for &(i, parent_tree, tree) in jobs {
        let lhs = match parent_tree {
            Some(t) => repo
                .objects
                .find_tree_iter(&t, &mut buf1)
                .map_err(|x| err(path, "cannot read a tree", x))?,
            None => gix::objs::TreeRefIter::from_bytes(&[], gix::hash::Kind::Sha1),
        };
        let rhs = repo
            .objects
            .find_tree_iter(&tree, &mut buf2)
            .map_err(|x| err(path, "cannot read a tree", x))?;
        // A fresh recorder per diff: a reused one keeps its path prefixes.
        let mut recorder = gix::diff::tree::Recorder::default();
        gix::diff::tree(lhs, rhs, &mut state, &repo.objects, &mut recorder)
            .map_err(|x| err(path, "cannot diff trees", x))?;
        let mut list = Vec::new();
        for rec in recorder.records.drain(..) {
            let (mode, p, kind) = match rec {
                C::Addition {
                    entry_mode, path, ..
                } => (entry_mode, path, ChangeKind::Added),
                C::Deletion {
                    entry_mode, path, ..
                } => (entry_mode, path, ChangeKind::Deleted),
                C::Modification {
                    entry_mode, path, ..
                } => (entry_mode, path, ChangeKind::Modified),
            };
            if !(mode.is_tree() || mode.is_commit()) {
                list.push((p, kind));
            }
        }
        out.push((i, list));
    }
    Ok(out)
}

fn err(repo: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Git {
        repo: repo.to_path_buf(),
        detail: format!("{what}: {e}; the repository may be corrupt (try `git fsck`)"),
    }
}

/// Whether a (mapped) name/e-mail is a bot's.
pub fn is_bot(name: &str, email: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("[bot]")
        || email.contains("[bot]")
        || n.starts_with("dependabot")
        || n.starts_with("renovate")
        || n == "github-actions"
        || n == "github action"
}

/// (commit e-mail, commit name, proper name, proper e-mail).
type MailmapEntry = (String, Option<String>, Option<String>, Option<String>);

/// A `.mailmap`: (commit e-mail, optional commit name) → (proper name, proper e-mail).
#[derive(Debug, Default)]
pub struct Mailmap {
    entries: Vec<MailmapEntry>,
}

impl Mailmap {
    /// Parses `.mailmap` text (git's four forms; `#` comments).
    pub fn parse(text: &str) -> Mailmap {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            // Split into (name before <, email) pairs.
            let mut pairs: Vec<(Option<String>, String)> = Vec::new();
            let mut rest = line;
            while let Some(open) = rest.find('<') {
                let Some(close) = rest[open..].find('>') else {
                    break;
                };
                let name = rest[..open].trim();
                let email = rest[open + 1..open + close].trim().to_lowercase();
                pairs.push(((!name.is_empty()).then(|| name.to_string()), email));
                rest = &rest[open + close + 1..];
            }
            match pairs.as_slice() {
                [(Some(name), email)] => {
                    entries.push((email.clone(), None, Some(name.clone()), None));
                }
                [(proper_name, proper_email), (commit_name, commit_email)] => entries.push((
                    commit_email.clone(),
                    commit_name.clone(),
                    proper_name.clone(),
                    Some(proper_email.clone()),
                )),
                _ => {}
            }
        }
        Mailmap { entries }
    }

    /// The proper (name, e-mail) of a commit's (name, e-mail).
    pub fn resolve(&self, name: &str, email: &str) -> (String, String) {
        let email_l = email.to_lowercase();
        let hit = self
            .entries
            .iter()
            .filter(|(e, n, _, _)| *e == email_l && n.as_deref().is_none_or(|n| n == name))
            .max_by_key(|(_, n, _, _)| n.is_some());
        match hit {
            Some((_, _, pn, pe)) => (
                pn.clone().unwrap_or_else(|| name.to_string()),
                pe.clone().unwrap_or(email_l),
            ),
            None => (name.to_string(), email_l),
        }
    }
}

/// Union-find over raw identities.
struct Unify {
    parent: Vec<usize>,
}

impl Unify {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

fn norm_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The version of a release tag and whether it is stable, or `None` when the tag is not a
/// release tag. `prefixes` are tried longest first (`v`, `R_`, `xz-`, …; the empty prefix too).
pub fn release_version(tag: &str, prefixes: &[String]) -> Option<(String, bool)> {
    let mut sorted: Vec<&String> = prefixes.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for prefix in sorted {
        let Some(rest) = tag.strip_prefix(prefix.as_str()) else {
            continue;
        };
        let digits_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        let (version, suffix) = rest.split_at(digits_end);
        let version = version.trim_end_matches(['.', '_']);
        if version.is_empty() || !version.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        if !version.contains(['.', '_']) {
            continue; // a bare number is not a version
        }
        let s = suffix
            .trim_start_matches(['-', '.', '_', '~'])
            .to_ascii_lowercase();
        if s.is_empty() {
            return Some((version.replace('_', "."), true));
        }
        let pre = ["alpha", "beta", "rc", "pre", "a", "b"].iter().any(|p| {
            s.starts_with(p)
                && s[p.len()..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.')
        });
        if pre {
            return Some((format!("{}{}", version.replace('_', "."), suffix), false));
        }
    }
    None
}

/// The default release-tag prefixes for a project named `name`.
pub fn default_prefixes(name: &str) -> Vec<String> {
    let mut v: Vec<String> = ["", "v", "V", "R_", "release-", "release_", "rel-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.push(format!("{name}-"));
    v.push(format!("{name}_"));
    v
}

impl History {
    /// Reads the history of an opened repository. `tag_prefixes`: see [`release_version`].
    pub fn read(opened: crate::repo::Opened, tag_prefixes: &[String]) -> Result<History> {
        let crate::repo::Opened {
            repo,
            source,
            incomplete,
        } = opened;
        let path = source.as_path();
        let e = |what: &str| {
            let what = what.to_string();
            move |x: Box<dyn std::error::Error + Send + Sync>| err(path, &what, x)
        };
        // Tips: every branch and tag.
        let mut tips: Vec<ObjectId> = Vec::new();
        let mut tag_refs: Vec<(String, ObjectId)> = Vec::new();
        {
            let platform = repo
                .references()
                .map_err(|x| e("cannot list references")(x.into()))?;
            let all = platform
                .all()
                .map_err(|x| e("cannot list references")(x.into()))?;
            for r in all {
                let mut r = r.map_err(|x| e("cannot read a reference")(x.into()))?;
                let name = r.name().as_bstr().to_str_lossy().into_owned();
                let direct = r.target().try_id().map(|i| i.to_owned());
                let target = r
                    .peel_to_id()
                    .map_err(|x| e("cannot resolve a reference")(x.into()))?
                    .detach();
                if let Some(tag) = name.strip_prefix("refs/tags/") {
                    tag_refs.push((tag.to_string(), direct.unwrap_or(target)));
                }
                // Branches and tags are the project's history; `refs/pull/*` and the like
                // are proposals nobody accepted (zlib's mirror has hundreds).
                if !["refs/heads/", "refs/tags/", "refs/remotes/"]
                    .iter()
                    .any(|p| name.starts_with(p))
                {
                    continue;
                }
                let Ok(obj) = repo.find_object(target) else {
                    continue;
                };
                if obj.kind == gix::object::Kind::Commit {
                    tips.push(target);
                }
            }
        }
        if tips.is_empty() {
            return Err(Error::Git {
                repo: path.to_path_buf(),
                detail: "the repository has no commits (no branch or tag)".into(),
            });
        }
        tips.sort();
        tips.dedup();

        // The mailmap at HEAD.
        let mailmap = repo
            .head_commit()
            .ok()
            .and_then(|c| c.tree().ok())
            .and_then(|t| t.find_entry(".mailmap").map(|e| e.object_id()))
            .and_then(|id| {
                repo.find_blob(id)
                    .ok()
                    .map(|b| b.data.to_str_lossy().into_owned())
            })
            .map(|t| Mailmap::parse(&t))
            .unwrap_or_default();

        // The walk: every commit's author, tree and first parent (sequential), then the tree
        // diffs (in parallel: each thread with its own object cache).
        let walk = repo
            .rev_walk(tips.iter().copied())
            .all()
            .map_err(|x| e("cannot walk the history")(x.into()))?;
        let mut raw_ids: HashMap<(String, String), usize> = HashMap::new();
        let mut raw: Vec<(String, String)> = Vec::new();
        let mut pending: Vec<Pending> = Vec::new();
        let mut trees: gix::hashtable::HashMap<ObjectId, ObjectId> = Default::default();
        let mut cbuf = Vec::new();
        let mut newest = i64::MIN;
        for info in walk {
            let info = info.map_err(|x| e("cannot walk the history")(x.into()))?;
            let commit = repo
                .objects
                .find_commit(&info.id, &mut cbuf)
                .map_err(|x| e("cannot read a commit")(x.into()))?;
            let author = commit
                .author()
                .map_err(|x| e("cannot decode a commit")(x.into()))?;
            // When the change landed in the repository (a contribution merged in 2022 with
            // a 2019 author date was not part of the project in 2019).
            let time = commit
                .committer()
                .map_err(|x| e("cannot decode a commit")(x.into()))?
                .seconds();
            newest = newest.max(time);
            let name = author.name.to_str_lossy();
            let email = author.email.to_str_lossy();
            let key = mailmap.resolve(name.trim(), email.trim());
            let rid = match raw_ids.get(&key) {
                Some(&i) => i,
                None => {
                    raw.push(key.clone());
                    raw_ids.insert(key, raw.len() - 1);
                    raw.len() - 1
                }
            };
            trees.insert(info.id, commit.tree());
            pending.push(Pending {
                time,
                rid,
                merge: commit.parents.len() > 1,
                tree: commit.tree(),
                parent: commit.parents().next(),
            });
        }
        let mut jobs: Vec<(usize, Option<ObjectId>, ObjectId)> = Vec::new();
        for (i, p) in pending.iter().enumerate() {
            if p.merge {
                continue;
            }
            let parent_tree = match p.parent {
                None => None,
                Some(pid) => match trees.get(&pid) {
                    Some(t) => Some(*t),
                    // Beyond a shallow boundary: the parent is missing, diff against nothing.
                    None => repo
                        .objects
                        .find_commit(&pid, &mut cbuf)
                        .ok()
                        .map(|c| c.tree()),
                },
            };
            jobs.push((i, parent_tree, p.tree));
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let results: Vec<Result<Vec<Diffed>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let repo = repo.clone();
                    let jobs = &jobs;
                    scope
                        .spawn(move || diff_jobs(&repo, path, jobs.iter().skip(t).step_by(threads)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("diff thread panicked"))
                .collect()
        });
        let mut changes_of: Vec<Vec<(u32, ChangeKind)>> = vec![Vec::new(); pending.len()];
        let mut path_ids: HashMap<gix::bstr::BString, u32, FastHash> = HashMap::default();
        let mut paths: Vec<String> = Vec::new();
        let mut all: Vec<Diffed> = Vec::new();
        for r in results {
            all.extend(r?);
        }
        all.sort_by_key(|(i, _)| *i);
        for (i, list) in all {
            changes_of[i] = list
                .into_iter()
                .map(|(path, kind)| {
                    let id = match path_ids.get(&path) {
                        Some(&id) => id,
                        None => {
                            paths.push(path.to_str_lossy().into_owned());
                            let id = (paths.len() - 1) as u32;
                            path_ids.insert(path, id);
                            id
                        }
                    };
                    (id, kind)
                })
                .collect();
        }
        let mut commits: Vec<(CommitRec, usize)> = pending
            .iter()
            .zip(changes_of)
            .map(|(p, changes)| {
                (
                    CommitRec {
                        time: p.time,
                        author: 0,
                        merge: p.merge,
                        changes,
                    },
                    p.rid,
                )
            })
            .collect();

        // Identities.
        let mut u = Unify {
            parent: (0..raw.len()).collect(),
        };
        let mut by_email: HashMap<&str, usize> = HashMap::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, (name, email)) in raw.iter().enumerate() {
            if !email.is_empty() {
                match by_email.get(email.as_str()) {
                    Some(&j) => u.union(i, j),
                    None => {
                        by_email.insert(email, i);
                    }
                }
            }
            if !is_bot(name, email) && !name.is_empty() {
                match by_name.get(&norm_name(name)) {
                    Some(&j) if !is_bot(&raw[j].0, &raw[j].1) => u.union(i, j),
                    Some(_) => {}
                    None => {
                        by_name.insert(norm_name(name), i);
                    }
                }
            }
        }
        let mut root_to_id: HashMap<usize, u32> = HashMap::new();
        let mut identities: Vec<Identity> = Vec::new();
        let mut name_counts: Vec<BTreeMap<String, usize>> = Vec::new();
        let mut raw_to_id = vec![0u32; raw.len()];
        for i in 0..raw.len() {
            let r = u.find(i);
            let id = *root_to_id.entry(r).or_insert_with(|| {
                identities.push(Identity {
                    name: String::new(),
                    emails: Vec::new(),
                    bot: false,
                    first: i64::MAX,
                });
                name_counts.push(BTreeMap::new());
                (identities.len() - 1) as u32
            });
            raw_to_id[i] = id;
            let ident = &mut identities[id as usize];
            if !ident.emails.contains(&raw[i].1) {
                ident.emails.push(raw[i].1.clone());
            }
            ident.bot |= is_bot(&raw[i].0, &raw[i].1);
        }
        for (c, rid) in &mut commits {
            let id = raw_to_id[*rid];
            c.author = id;
            *name_counts[id as usize]
                .entry(raw[*rid].0.clone())
                .or_default() += 1;
            let ident = &mut identities[id as usize];
            ident.first = ident.first.min(c.time);
        }
        for (ident, counts) in identities.iter_mut().zip(&name_counts) {
            ident.name = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(n, _)| n.clone())
                .unwrap_or_default();
            ident.emails.sort();
        }
        let mut commits: Vec<CommitRec> = commits.into_iter().map(|(c, _)| c).collect();
        commits.sort_by_key(|c| c.time);

        // Tags.
        let mut tags = Vec::new();
        let mut other_tags = 0;
        for (name, id) in tag_refs {
            let Some((version, stable)) = release_version(&name, tag_prefixes) else {
                other_tags += 1;
                continue;
            };
            let obj = repo
                .find_object(id)
                .map_err(|x| e("cannot read a tag")(x.into()))?;
            let mut rec = TagRec {
                name: name.clone(),
                version,
                stable,
                time: 0,
                date: String::new(),
                annotated: false,
                tagger: None,
                tagger_identity: None,
                signer: None,
                signature_error: None,
            };
            if obj.kind == gix::object::Kind::Tag {
                let tag = obj.clone().into_tag();
                let decoded = tag
                    .decode()
                    .map_err(|x| e("cannot decode a tag")(x.into()))?;
                rec.annotated = true;
                if let Some(t) = decoded
                    .tagger()
                    .map_err(|x| e("cannot decode a tag")(x.into()))?
                {
                    rec.time = t.seconds();
                    let (n, m) = mailmap
                        .resolve(t.name.to_str_lossy().trim(), t.email.to_str_lossy().trim());
                    rec.tagger = Some(format!("{n} <{m}>"));
                    rec.tagger_identity = raw_ids.get(&(n, m)).map(|&r| raw_to_id[r]);
                }
                let signed: Option<&BStr> = decoded.signature;
                let text: Vec<u8> = match signed {
                    Some(s) => s.to_vec(),
                    None => decoded.message.to_vec(),
                };
                match openpgp::tag_signer(&text) {
                    Ok(s) => rec.signer = s,
                    Err(x) => rec.signature_error = Some(x),
                }
            }
            if rec.time == 0 {
                let commit = obj
                    .peel_to_commit()
                    .map_err(|x| e("cannot peel a tag")(x.into()))?;
                rec.time = commit
                    .committer()
                    .map_err(|x| e("cannot decode a commit")(x.into()))?
                    .seconds();
            }
            rec.date = date::format(rec.time);
            tags.push(rec);
        }
        tags.sort_by(|a, b| a.time.cmp(&b.time).then(a.name.cmp(&b.name)));

        // The default branch's first-parent chain (for the files present at a date).
        let mut chain = Vec::new();
        if let Ok(mut c) = repo.head_commit() {
            loop {
                let time = c.time().map(|t| t.seconds).unwrap_or(0);
                let tree = c
                    .tree_id()
                    .map_err(|x| e("cannot decode a commit")(x.into()))?
                    .detach();
                chain.push((time, tree));
                let Some(p) = c.parent_ids().next() else {
                    break;
                };
                c = match p.object() {
                    Ok(o) => o.into_commit(),
                    // The shallow boundary: the parent is not in the repository.
                    Err(_) if incomplete.is_some() => break,
                    Err(x) => return Err(e("cannot read a commit")(x.into())),
                };
            }
        }
        chain.reverse();
        Ok(History {
            source,
            incomplete,
            identities,
            commits,
            paths,
            tags,
            other_tags,
            newest,
            chain,
            repo,
        })
    }

    /// The files (blob paths) of the default branch at `t`: its newest first-parent commit
    /// committed at or before `t`.
    pub fn files_at(&self, t: i64) -> Result<Vec<String>> {
        let Some(&(_, tree)) = self.chain.iter().rev().find(|(ct, _)| *ct <= t) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut stack = vec![(tree, String::new())];
        let mut buf = Vec::new();
        while let Some((id, prefix)) = stack.pop() {
            let iter = self
                .repo
                .objects
                .find_tree_iter(&id, &mut buf)
                .map_err(|x| err(&self.source, "cannot read a tree", x))?;
            for entry in iter {
                let entry = entry.map_err(|x| err(&self.source, "cannot decode a tree", x))?;
                let name = format!("{prefix}{}", entry.filename.to_str_lossy());
                if entry.mode.is_tree() {
                    stack.push((entry.oid.to_owned(), format!("{name}/")));
                } else if !entry.mode.is_commit() {
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
