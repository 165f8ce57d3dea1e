//! The history metrics of one repository as of one date (definitions in [`crate::history`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::date::{self, DAY};
use crate::error::Result;
use crate::history::{ChangeKind, History, TagRec};
use crate::policy::Policy;

/// A person's share of a set of commits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Identity name.
    pub name: String,
    /// Commits.
    pub commits: usize,
    /// Fraction of the set (0..1, four decimals).
    pub share: f64,
}

/// A release and who made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    /// Tag name.
    pub tag: String,
    /// Tag date.
    pub date: String,
    /// Whether stable.
    pub stable: bool,
    /// Tagger (annotated tags).
    pub tagger: Option<String>,
    /// OpenPGP issuer key id, when signed.
    pub key: Option<String>,
}

/// A release whose signer differs from the previous release's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignerChange {
    /// The first release by the new signer.
    pub tag: String,
    /// Its date.
    pub date: String,
    /// New signer: key id, or `tagger:NAME` for an unsigned tag.
    pub signer: String,
    /// New tagger.
    pub tagger: Option<String>,
    /// Previous signer.
    pub previous_signer: String,
    /// Previous tagger.
    pub previous_tagger: Option<String>,
    /// Consecutive releases the previous signer had made up to the change.
    pub previous_run: usize,
}

/// The identity new to the project with the largest recent share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Newcomer {
    /// Identity name.
    pub name: String,
    /// Date of the first commit.
    pub first_commit: String,
    /// Commits in the last 12 months.
    pub commits_12m: usize,
    /// Share of the last 12 months' commits.
    pub share_12m: f64,
    /// Whether they tagged or signed the newest release.
    pub made_newest_release: bool,
}

/// Every raw number of a repository as of a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// The date evaluated (`YYYY-MM-DD`).
    pub as_of: String,
    /// Newest commit dated on or before `as_of`.
    pub last_commit: Option<String>,
    /// Days from it to `as_of`.
    pub days_since_last_commit: Option<i64>,
    /// Newest commit in the whole repository copy.
    pub newest_in_data: String,
    /// Whether the copy looks stale (see [`Policy::stale_days`]).
    pub stale: bool,
    /// Newest stable release on or before `as_of`.
    pub last_stable_release: Option<Release>,
    /// Days from it to `as_of`.
    pub days_since_last_stable_release: Option<i64>,
    /// Releases (stable and pre-releases) on or before `as_of`.
    pub releases: usize,
    /// Non-merge commits by people in the last 12 months.
    pub commits_12m: usize,
    /// … in the last 24 months.
    pub commits_24m: usize,
    /// Distinct people committing in the last 12 months.
    pub authors_12m: usize,
    /// … in the last 24 months.
    pub authors_24m: usize,
    /// Commits in the share window.
    pub window_commits: usize,
    /// The busiest people of the share window (at most 5).
    pub top_authors: Vec<Share>,
    /// Share of the busiest one.
    pub top1_share: f64,
    /// Share of the busiest two.
    pub top2_share: f64,
    /// CHAOSS contributor absence factor over the share window.
    pub contributor_absence_factor: usize,
    /// Truck factor (None when no source file is present).
    pub truck_factor: Option<usize>,
    /// The authors whose removal orphans more than half of the files.
    pub truck_factor_authors: Vec<String>,
    /// Source files considered for the truck factor.
    pub truck_factor_files: usize,
    /// Commits by bots in the last 12 months (left out of every share).
    pub bot_commits_12m: usize,
    /// Release signer changes on or before `as_of`, oldest first.
    pub signer_changes: Vec<SignerChange>,
    /// The newest release on or before `as_of` (any kind).
    pub newest_release: Option<Release>,
    /// The newcomer with the largest share of the last 12 months.
    pub newcomer: Option<Newcomer>,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn release(t: &TagRec) -> Release {
    Release {
        tag: t.name.clone(),
        date: t.date.clone(),
        stable: t.stable,
        tagger: t.tagger.clone(),
        key: t.signer.as_ref().map(|s| s.key_id.clone()),
    }
}

/// Who made a release: its key, or its tagger when unsigned.
fn signer_of(t: &TagRec) -> String {
    match (&t.signer, &t.tagger) {
        (Some(s), _) => s.key_id.clone(),
        (None, Some(tagger)) => format!("tagger:{tagger}"),
        (None, None) => "unsigned".to_string(),
    }
}

/// Source files for the truck factor: code, by extension (documentation, data, build and
/// test fixtures are not authorship a project depends on).
pub fn is_source_file(path: &str) -> bool {
    const EXT: &[&str] = &[
        "c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "s", "S", "asm", "inc", "py", "rs", "go",
        "java", "js", "ts", "sh", "pl", "rb", "m", "mm", "swift", "cs", "lua", "tcl", "f90",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => EXT.contains(&ext),
        _ => false,
    }
}

/// Per file: creator, and per identity its later changes; all changes.
#[derive(Default)]
struct FileState {
    creator: Option<u32>,
    changes: HashMap<u32, u32>,
    total: u32,
}

/// Avelino et al.'s truck factor over `files` from the human commits in `commits`.
fn truck_factor(h: &History, upto: i64, files: &[String]) -> (Option<usize>, Vec<String>, usize) {
    let wanted: HashSet<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|p| is_source_file(p))
        .collect();
    if wanted.is_empty() {
        return (None, Vec::new(), 0);
    }
    let mut state: HashMap<u32, FileState> = HashMap::new();
    for c in h.commits.iter().take_while(|c| c.time <= upto) {
        if c.merge || h.identities[c.author as usize].bot {
            continue;
        }
        for &(p, kind) in &c.changes {
            if !wanted.contains(h.paths[p as usize].as_str()) {
                continue;
            }
            let f = state.entry(p).or_default();
            match kind {
                ChangeKind::Deleted => *f = FileState::default(),
                ChangeKind::Added if f.creator.is_none() => {
                    f.creator = Some(c.author);
                    f.total += 1;
                }
                _ => {
                    *f.changes.entry(c.author).or_default() += 1;
                    f.total += 1;
                }
            }
        }
    }
    // Authors of each file.
    let mut authored: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut file_authors: Vec<Vec<u32>> = Vec::new();
    for f in state.values() {
        let mut people: HashSet<u32> = f.changes.keys().copied().collect();
        people.extend(f.creator);
        let doa = |d: u32| {
            let fa = f64::from(u8::from(f.creator == Some(d)));
            let dl = f64::from(f.changes.get(&d).copied().unwrap_or(0));
            let own = dl + fa;
            let ac = f64::from(f.total) - own;
            3.293 + 1.098 * fa + 0.164 * dl - 0.321 * (1.0 + ac).ln()
        };
        let scores: Vec<(u32, f64)> = people.iter().map(|&d| (d, doa(d))).collect();
        let max = scores.iter().map(|s| s.1).fold(f64::MIN, f64::max);
        let authors: Vec<u32> = scores
            .iter()
            .filter(|(_, s)| *s >= 3.293 && *s >= 0.75 * max)
            .map(|(d, _)| *d)
            .collect();
        for &a in &authors {
            authored
                .entry(a)
                .or_default()
                .push(file_authors.len() as u32);
        }
        file_authors.push(authors);
    }
    // Files never changed by a person in the data count as orphaned from the start.
    let total = wanted.len();
    let mut ranked: Vec<(u32, usize)> = authored.iter().map(|(a, f)| (*a, f.len())).collect();
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1).then_with(|| {
            h.identities[a.0 as usize]
                .name
                .cmp(&h.identities[b.0 as usize].name)
        })
    });
    let mut remaining: Vec<usize> = file_authors.iter().map(Vec::len).collect();
    let mut orphaned = total - file_authors.len() + remaining.iter().filter(|&&n| n == 0).count();
    let mut removed = Vec::new();
    for (a, _) in ranked {
        if orphaned * 2 > total {
            break;
        }
        removed.push(h.identities[a as usize].name.clone());
        for &f in &authored[&a] {
            remaining[f as usize] -= 1;
            if remaining[f as usize] == 0 {
                orphaned += 1;
            }
        }
    }
    (Some(removed.len()), removed, total)
}

/// The metrics of `h` as of `t` (Unix seconds, end of the day).
pub fn compute(h: &History, t: i64, policy: &Policy) -> Result<Metrics> {
    let upto: Vec<&crate::history::CommitRec> =
        h.commits.iter().take_while(|c| c.time <= t).collect();
    let last = upto.last().map(|c| c.time);
    let human = |c: &&&crate::history::CommitRec| !c.merge && !h.identities[c.author as usize].bot;
    let in_window = |days: i64| {
        let from = t - days * DAY;
        upto.iter().filter(move |c| c.time > from)
    };
    let count_people = |days: i64| {
        let list: Vec<u32> = in_window(days).filter(human).map(|c| c.author).collect();
        let set: HashSet<u32> = list.iter().copied().collect();
        (list.len(), set.len())
    };
    let (commits_12m, authors_12m) = count_people(365);
    let (commits_24m, authors_24m) = count_people(730);
    let bot_commits_12m = in_window(365)
        .filter(|c| !c.merge && h.identities[c.author as usize].bot)
        .count();

    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for c in in_window(policy.share_window_days).filter(human) {
        *counts.entry(c.author).or_default() += 1;
    }
    let window_commits: usize = counts.values().sum();
    let mut shares: Vec<Share> = counts
        .iter()
        .map(|(&a, &n)| Share {
            name: h.identities[a as usize].name.clone(),
            commits: n,
            share: round4(n as f64 / window_commits.max(1) as f64),
        })
        .collect();
    shares.sort_by(|a, b| b.commits.cmp(&a.commits).then(a.name.cmp(&b.name)));
    let top1 = shares.first().map_or(0, |s| s.commits);
    let top2 = top1 + shares.get(1).map_or(0, |s| s.commits);
    let mut acc = 0;
    let absence = shares
        .iter()
        .take_while(|s| {
            let before = acc;
            acc += s.commits;
            before * 2 < window_commits
        })
        .count();

    let files = h.files_at(t)?;
    let (truck, truck_authors, truck_files) = truck_factor(h, t, &files);

    let tags: Vec<&TagRec> = h.tags.iter().filter(|r| r.time <= t).collect();
    let last_stable = tags.iter().rev().find(|r| r.stable).map(|r| release(r));
    let days_since_last_stable_release = tags
        .iter()
        .rev()
        .find(|r| r.stable)
        .map(|r| date::days_between(r.time, t));
    let mut signer_changes = Vec::new();
    // Signer continuity over the signed releases (an unsigned tag in between does not break
    // a run); a project that never signs is followed by its taggers.
    let any_signed = tags.iter().any(|r| r.signer.is_some());
    let signed: Vec<&&TagRec> = tags
        .iter()
        .filter(|r| {
            if any_signed {
                r.signer.is_some()
            } else {
                r.annotated
            }
        })
        .collect();
    let mut run = 0;
    for w in signed.windows(2) {
        let (a, b) = (w[0], w[1]);
        run += 1;
        if signer_of(a) != signer_of(b) {
            signer_changes.push(SignerChange {
                tag: b.name.clone(),
                date: b.date.clone(),
                signer: signer_of(b),
                tagger: b.tagger.clone(),
                previous_signer: signer_of(a),
                previous_tagger: a.tagger.clone(),
                previous_run: run,
            });
            run = 0;
        }
    }
    let newest_release = tags.last().map(|r| release(r));
    let newest_maker = tags.last().and_then(|r| r.tagger_identity);

    let mut recent: HashMap<u32, usize> = HashMap::new();
    for c in in_window(365).filter(human) {
        *recent.entry(c.author).or_default() += 1;
    }
    let newcomer = recent
        .iter()
        .filter(|(a, _)| h.identities[**a as usize].first > t - policy.newcomer_window_days * DAY)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&a, &n)| Newcomer {
            name: h.identities[a as usize].name.clone(),
            first_commit: date::format(h.identities[a as usize].first),
            commits_12m: n,
            share_12m: round4(n as f64 / commits_12m.max(1) as f64),
            made_newest_release: newest_maker == Some(a),
        });

    let stale = date::days_between(h.newest, t) > policy.stale_days;
    Ok(Metrics {
        as_of: date::format(t),
        last_commit: last.map(date::format),
        days_since_last_commit: last.map(|l| date::days_between(l, t)),
        newest_in_data: date::format(h.newest),
        stale,
        last_stable_release: last_stable,
        days_since_last_stable_release,
        releases: tags.len(),
        commits_12m,
        commits_24m,
        authors_12m,
        authors_24m,
        window_commits,
        top1_share: round4(top1 as f64 / window_commits.max(1) as f64),
        top2_share: round4(top2 as f64 / window_commits.max(1) as f64),
        top_authors: shares.into_iter().take(5).collect(),
        contributor_absence_factor: absence,
        truck_factor: truck,
        truck_factor_authors: truck_authors,
        truck_factor_files: truck_files,
        bot_commits_12m,
        signer_changes,
        newest_release,
        newcomer,
    })
}
