//! The member-level diff engine behind `relkit diff A B` and `relkit rebuild`.
//!
//! [`diff_paths`] reads both sides with [`crate::read`] (directories, `.tar`, `.tar.gz`,
//! `.tar.xz`, `.zip`, in any pairing), matches members by normalized path and reports,
//! in a [`DiffReport`]:
//!
//! - **container** differences (`format`; `top_directory` when both sides had a single
//!   top directory stripped and the names differ; `gzip.name`, `gzip.mtime`, `gzip.os`,
//!   `gzip.xfl` (level hint), `gzip.flags`, `gzip.comment`, `gzip.extra`, `gzip.members`,
//!   `gzip.trailing_bytes`; `xz.check`, `xz.blocks`, `xz.lzma2_dict_size`; `zip.comment`;
//!   `tar.pax_global`). When the members are all the same, `tar.sha256`/`tar.size` say the
//!   uncompressed tar streams still differ (unless the top directories differ), and, when
//!   nothing else explains it,
//!   `file.sha256`/`file.size` say "same members but different compressed bytes";
//! - members **only in A** / **only in B**;
//! - per-member differences: `type`, `mode`, `mtime`, `uid`, `gid`, `uname`, `gname`,
//!   `link_target`, the raw format details when both sides are the same family
//!   (`tar.format`, `tar.typeflag`, `tar.pax.<key>`; `zip.method`, `zip.central_extra`,
//!   `zip.local_extra`, `zip.external_attrs`, `zip.dos_time`, ...), and **content**: both
//!   sizes, both SHA-256, the first differing byte offset, and a unified text diff when both
//!   sides are UTF-8 text of at most 64 KiB;
//! - member **order** differences (same members, different sequence).
//!
//! ## Top-level directory and directories versus archives
//!
//! Release archives put everything under one directory (`Python-3.13.5/`). With
//! [`DiffOptions::strip_components`] = `Some(n)`, `n` leading components are removed from
//! every member of each *archive* side (never from a directory side) and members with no
//! more than `n` components are dropped, like `tar --strip-components`. With `None`
//! (the default), each side whose members all live under one single top directory may have
//! that directory stripped: of the four choices (strip neither, A, B, both) the one that
//! matches the most members wins, ties going to stripping less. So `foo-1.0.tar.gz` against
//! `foo-1.1.tar.gz` compares `foo-1.0/x` with `foo-1.1/x`, and an unpacked tree compares
//! with its tarball. The report records what was stripped.
//!
//! When either side is a directory, only members are compared: a directory has no container,
//! its order is just name order, and its owners are those of whoever unpacked it, so
//! container fields, member order and owners (`uid`, `gid`, `uname`, `gname`) are not
//! compared; directory entries that an archive only implies (it lists `a/b` but not `a/`)
//! are not reported missing; a tar hard link is compared by the content of its target. The
//! report's `notes` say so.
//!
//! Times: zip entries with an extended-timestamp (`UT`) field give exact Unix times; without
//! one (`zip -X`) only the DOS date/time is stored, with no zone, and it is read as UTC.
//!
//! ## JSON (stable)
//!
//! `{ "identical": bool, "a": Side, "b": Side, "notes": [string], "container": [Field],
//! "only_in_a": [MemberRef], "only_in_b": [MemberRef], "members": [MemberDiff],
//! "order": Order | null }` where `Side = { path, format, members, strip_components,
//! stripped_prefix, container }`, `Field = { field, a, b }` (values are strings or null when
//! absent), `MemberRef = { path, path_hex, kind }`, `MemberDiff = { path, path_hex, fields:
//! [Field], content: Content | null }`, `Content = { size_a, size_b, sha256_a, sha256_b,
//! first_difference, text_diff }`, `Order = { common, moved, first_mismatch, a_member,
//! b_member, moved_members }`. `path` is UTF-8 (invalid bytes as `\xNN`); `path_hex` is the
//! exact bytes in hex, present only when the name is not valid UTF-8. Fields may be added;
//! none are renamed or removed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::read::util::{escape_bytes, format_time, hex};
use crate::read::{self, Archive, CHUNK_SIZE, Container, Error, Format, Member, MemberKind};

/// Largest member (per side) whose whole content is fetched for a text diff.
pub const TEXT_DIFF_LIMIT: u64 = 64 * 1024;

/// How many moved members the order section lists by name.
const MOVED_LISTED: usize = 50;

/// Options for [`diff_paths`].
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Leading path components to strip from archive members; `None` = auto-detect a single
    /// common top directory per side (see the module docs).
    pub strip_components: Option<usize>,
    /// Paths (after stripping) to leave out, each with everything below it.
    pub ignore: Vec<String>,
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// The path as given.
    pub path: String,
    /// The detected format.
    pub format: Format,
    /// Number of members read.
    pub members: usize,
    /// Leading components stripped from member paths.
    pub strip_components: usize,
    /// The single top directory stripped, when auto-detected.
    pub stripped_prefix: Option<String>,
    /// Container facts (gzip header, xz check, zip comment, hashes).
    pub container: Container,
}

/// A field whose value differs; `None` means absent on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDiff {
    /// The field name, e.g. `mode`, `gzip.mtime`, `zip.central_extra`.
    pub field: String,
    /// The value in A.
    pub a: Option<String>,
    /// The value in B.
    pub b: Option<String>,
}

/// A member present on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRef {
    /// The path (after stripping), UTF-8 with invalid bytes as `\xNN`.
    pub path: String,
    /// Hex of the exact path bytes when they are not valid UTF-8.
    pub path_hex: Option<String>,
    /// The member kind.
    pub kind: String,
}

/// How two members' contents differ.
#[derive(Debug, Clone, Serialize)]
pub struct ContentDiff {
    /// Size in A.
    pub size_a: u64,
    /// Size in B.
    pub size_b: u64,
    /// SHA-256 in A.
    pub sha256_a: String,
    /// SHA-256 in B.
    pub sha256_b: String,
    /// Offset of the first differing byte (the shorter size when one is a prefix).
    pub first_difference: Option<u64>,
    /// Unified diff when both sides are UTF-8 text of at most [`TEXT_DIFF_LIMIT`] bytes.
    pub text_diff: Option<String>,
}

/// All differences of one member present on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct MemberDiff {
    /// The path (after stripping), UTF-8 with invalid bytes as `\xNN`.
    pub path: String,
    /// Hex of the exact path bytes when they are not valid UTF-8.
    pub path_hex: Option<String>,
    /// Metadata fields that differ.
    pub fields: Vec<FieldDiff>,
    /// Content difference, if any.
    pub content: Option<ContentDiff>,
    /// The match key (exact path bytes, occurrence), for the second pass.
    #[serde(skip)]
    key: Key,
}

/// The members common to both sides appear in a different order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderDiff {
    /// Number of members on both sides.
    pub common: usize,
    /// Number of members outside the longest common subsequence (i.e. moved).
    pub moved: usize,
    /// Index (among common members) of the first mismatch.
    pub first_mismatch: usize,
    /// The member A has at that index.
    pub a_member: String,
    /// The member B has at that index.
    pub b_member: String,
    /// Up to 50 moved members, in B's order.
    pub moved_members: Vec<String>,
}

/// The result of comparing two archives or trees.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// Whether nothing differs (same as [`DiffReport::is_identical`]).
    pub identical: bool,
    /// Side A.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// What was compared and how (stripping, directory rules, duplicates).
    pub notes: Vec<String>,
    /// Container-level differences.
    pub container: Vec<FieldDiff>,
    /// Members only in A.
    pub only_in_a: Vec<MemberRef>,
    /// Members only in B.
    pub only_in_b: Vec<MemberRef>,
    /// Members present on both sides that differ.
    pub members: Vec<MemberDiff>,
    /// Order difference of the common members.
    pub order: Option<OrderDiff>,
}

impl DiffReport {
    /// True when no difference of any kind was found.
    pub fn is_identical(&self) -> bool {
        self.container.is_empty()
            && self.only_in_a.is_empty()
            && self.only_in_b.is_empty()
            && self.members.is_empty()
            && self.order.is_none()
    }
}

/// Match key: path after stripping, and its occurrence number (duplicates in tar).
type Key = (Vec<u8>, usize);

/// Compares two archives or directories.
pub fn diff_paths(a: &Path, b: &Path, opts: &DiffOptions) -> Result<DiffReport, Error> {
    let arch_a = read::read_path(a)?;
    let arch_b = read::read_path(b)?;
    let mut report = diff_archives(&arch_a, &arch_b, opts);
    fill_content_details(&mut report, a, b, &arch_a, &arch_b)?;
    report.identical = report.is_identical();
    Ok(report)
}

/// Removes `n` leading components; `None` when nothing is left.
fn strip(path: &[u8], n: usize) -> Option<Vec<u8>> {
    if n == 0 {
        return Some(path.to_vec());
    }
    let mut parts = path.splitn(n + 1, |&b| b == b'/');
    for _ in 0..n {
        parts.next()?;
    }
    parts.next().map(<[u8]>::to_vec)
}

/// The single top directory all members live under, if there is one.
fn single_top_dir(members: &[Member]) -> Option<Vec<u8>> {
    let first = members.first()?;
    let top = first.path.split(|&b| b == b'/').next()?.to_vec();
    let mut has_child = false;
    for m in members {
        if m.path == top {
            if m.kind != MemberKind::Dir {
                return None;
            }
        } else if m.path.starts_with(&top) && m.path.get(top.len()) == Some(&b'/') {
            has_child = true;
        } else {
            return None;
        }
    }
    has_child.then_some(top)
}

fn ignored(path: &[u8], ignore: &[String]) -> bool {
    ignore.iter().any(|p| {
        let p = p.trim_end_matches('/').as_bytes();
        !p.is_empty() && path.starts_with(p) && (path.len() == p.len() || path[p.len()] == b'/')
    })
}

/// Members keyed after stripping and ignoring, in archive order: (key, member index).
fn keyed(members: &[Member], n: usize, ignore: &[String]) -> Vec<(Key, usize)> {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut out = Vec::with_capacity(members.len());
    for (i, m) in members.iter().enumerate() {
        let Some(path) = strip(&m.path, n) else {
            continue;
        };
        if ignored(&path, ignore) {
            continue;
        }
        let count = seen.entry(path.clone()).or_insert(0);
        out.push(((path, *count), i));
        *count += 1;
    }
    out
}

fn path_hex(path: &[u8]) -> Option<String> {
    std::str::from_utf8(path).is_err().then(|| hex(path))
}

fn key_name(key: &Key) -> String {
    if key.1 == 0 {
        escape_bytes(&key.0)
    } else {
        format!("{} (occurrence {})", escape_bytes(&key.0), key.1 + 1)
    }
}

fn field(name: &str, a: Option<String>, b: Option<String>) -> Option<FieldDiff> {
    (a != b).then(|| FieldDiff {
        field: name.to_string(),
        a,
        b,
    })
}

/// Chooses the strip counts (A, B) per [`DiffOptions::strip_components`].
fn choose_strip(a: &Archive, b: &Archive, opts: &DiffOptions) -> (usize, usize) {
    let is_dir = |x: &Archive| x.container.format == Format::Directory;
    if let Some(n) = opts.strip_components {
        return (if is_dir(a) { 0 } else { n }, if is_dir(b) { 0 } else { n });
    }
    let can_a = single_top_dir(&a.members).is_some();
    let can_b = single_top_dir(&b.members).is_some();
    let mut best = (0, 0);
    let mut best_common = None;
    for (sa, sb) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        if (sa == 1 && !can_a) || (sb == 1 && !can_b) {
            continue;
        }
        let ka: BTreeSet<Key> = keyed(&a.members, sa, &opts.ignore)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let common = keyed(&b.members, sb, &opts.ignore)
            .into_iter()
            .filter(|(k, _)| ka.contains(k))
            .count();
        if best_common.is_none_or(|c| common > c) {
            best_common = Some(common);
            best = (sa, sb);
        }
    }
    best
}

fn side(arch: &Archive, n: usize, auto: bool) -> Side {
    Side {
        path: arch.label.clone(),
        format: arch.container.format,
        members: arch.members.len(),
        strip_components: n,
        stripped_prefix: if auto && n == 1 {
            single_top_dir(&arch.members).map(|t| format!("{}/", escape_bytes(&t)))
        } else {
            None
        },
        container: arch.container.clone(),
    }
}

/// Compares container-level facts of two archives (not directories).
fn container_diffs(a: &Container, b: &Container) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    let mut push = |d: Option<FieldDiff>| out.extend(d);
    push(field(
        "format",
        Some(a.format.name().into()),
        Some(b.format.name().into()),
    ));
    if let (Some(x), Some(y)) = (&a.gzip, &b.gzip) {
        push(field("gzip.name", x.name.clone(), y.name.clone()));
        push(field(
            "gzip.mtime",
            Some(x.mtime.to_string()),
            Some(y.mtime.to_string()),
        ));
        push(field(
            "gzip.os",
            Some(x.os.to_string()),
            Some(y.os.to_string()),
        ));
        push(field(
            "gzip.xfl",
            Some(format!("{} ({})", x.xfl, x.level_hint())),
            Some(format!("{} ({})", y.xfl, y.level_hint())),
        ));
        push(field(
            "gzip.flags",
            Some(format!("{:#04x}", x.flags)),
            Some(format!("{:#04x}", y.flags)),
        ));
        push(field("gzip.comment", x.comment.clone(), y.comment.clone()));
        push(field("gzip.extra", x.extra.clone(), y.extra.clone()));
        push(field(
            "gzip.members",
            Some(x.members.to_string()),
            Some(y.members.to_string()),
        ));
        push(field(
            "gzip.trailing_bytes",
            Some(x.trailing_bytes.to_string()),
            Some(y.trailing_bytes.to_string()),
        ));
    }
    if let (Some(x), Some(y)) = (&a.xz, &b.xz) {
        push(field(
            "xz.check",
            Some(x.check.clone()),
            Some(y.check.clone()),
        ));
        push(field(
            "xz.blocks",
            x.blocks.map(|v| v.to_string()),
            y.blocks.map(|v| v.to_string()),
        ));
        push(field(
            "xz.lzma2_dict_size",
            x.lzma2_dict_size.map(|v| v.to_string()),
            y.lzma2_dict_size.map(|v| v.to_string()),
        ));
    }
    if let (Some(x), Some(y)) = (&a.zip, &b.zip) {
        push(field(
            "zip.comment",
            Some(x.comment.clone()),
            Some(y.comment.clone()),
        ));
    }
    if a.format.is_tar() && b.format.is_tar() {
        push(field(
            "tar.pax_global",
            Some(a.pax_global.join("; ")),
            Some(b.pax_global.join("; ")),
        ));
    }
    out
}

/// The member holding the content of `m`: itself, or for a hard link its target.
fn content_holder<'a>(arch: &'a Archive, m: &'a Member) -> Option<&'a Member> {
    match m.kind {
        MemberKind::File => Some(m),
        MemberKind::Hardlink => {
            let target = m.link_target.as_deref()?;
            arch.members
                .iter()
                .find(|t| t.path == target && t.kind == MemberKind::File)
        }
        _ => None,
    }
}

fn opt_bytes(v: &Option<Vec<u8>>) -> Option<String> {
    v.as_deref().map(escape_bytes)
}

/// Compares the metadata of two members (content is handled separately).
fn member_fields(ma: &Member, mb: &Member, dir_mode: bool, same_family: bool) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    let mut push = |d: Option<FieldDiff>| out.extend(d);
    let link_vs_file = dir_mode
        && matches!(
            (&ma.kind, &mb.kind),
            (MemberKind::Hardlink, MemberKind::File) | (MemberKind::File, MemberKind::Hardlink)
        );
    if !link_vs_file {
        push(field("type", Some(ma.kind.name()), Some(mb.kind.name())));
    }
    if let (Some(x), Some(y)) = (ma.mode, mb.mode) {
        push(field(
            "mode",
            Some(format!("{x:04o}")),
            Some(format!("{y:04o}")),
        ));
    }
    push(field(
        "mtime",
        Some(format_time(ma.mtime)),
        Some(format_time(mb.mtime)),
    ));
    if !dir_mode {
        if let (Some(x), Some(y)) = (ma.uid, mb.uid) {
            push(field("uid", Some(x.to_string()), Some(y.to_string())));
        }
        if let (Some(x), Some(y)) = (ma.gid, mb.gid) {
            push(field("gid", Some(x.to_string()), Some(y.to_string())));
        }
        if ma.uname.is_some() && mb.uname.is_some() {
            push(field("uname", opt_bytes(&ma.uname), opt_bytes(&mb.uname)));
        }
        if ma.gname.is_some() && mb.gname.is_some() {
            push(field("gname", opt_bytes(&ma.gname), opt_bytes(&mb.gname)));
        }
    }
    if !link_vs_file {
        push(field(
            "link_target",
            opt_bytes(&ma.link_target),
            opt_bytes(&mb.link_target),
        ));
    }
    if same_family {
        let keys: BTreeSet<&String> = ma.details.keys().chain(mb.details.keys()).collect();
        for k in keys {
            push(field(
                k,
                ma.details.get(k).cloned(),
                mb.details.get(k).cloned(),
            ));
        }
    }
    out
}

/// All parent directories of the given paths.
fn ancestors<'a>(paths: impl Iterator<Item = &'a Vec<u8>>) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for p in paths {
        for (i, &b) in p.iter().enumerate() {
            if b == b'/' {
                out.insert(p[..i].to_vec());
            }
        }
    }
    out
}

/// The metadata part of the comparison (content offsets and text diffs come later).
fn diff_archives(a: &Archive, b: &Archive, opts: &DiffOptions) -> DiffReport {
    let dir_mode =
        a.container.format == Format::Directory || b.container.format == Format::Directory;
    let (na, nb) = choose_strip(a, b, opts);
    let auto = opts.strip_components.is_none();
    let side_a = side(a, na, auto);
    let side_b = side(b, nb, auto);
    let mut notes = Vec::new();
    for (name, s) in [("A", &side_a), ("B", &side_b)] {
        if let Some(p) = &s.stripped_prefix {
            notes.push(format!("{name}: stripped the top directory '{p}'"));
        } else if s.strip_components > 0 {
            notes.push(format!(
                "{name}: stripped {} leading path component(s)",
                s.strip_components
            ));
        }
    }
    if dir_mode {
        notes.push(
            "a side is a directory: container fields, member order and owners (uid, gid, uname, gname) are not compared; directories implied by archive members are not reported missing; hard links are compared by content".into(),
        );
    }
    let ka = keyed(&a.members, na, &opts.ignore);
    let kb = keyed(&b.members, nb, &opts.ignore);
    for (name, k) in [("A", &ka), ("B", &kb)] {
        let dups = k.iter().filter(|((_, n), _)| *n > 0).count();
        if dups > 0 {
            notes.push(format!(
                "{name} has {dups} repeated member name(s); repeats are matched by occurrence"
            ));
        }
    }
    let map_a: BTreeMap<&Key, usize> = ka.iter().map(|(k, i)| (k, *i)).collect();
    let map_b: BTreeMap<&Key, usize> = kb.iter().map(|(k, i)| (k, *i)).collect();
    let implied_a = ancestors(ka.iter().map(|((p, _), _)| p));
    let implied_b = ancestors(kb.iter().map(|((p, _), _)| p));
    let only = |from: &[(Key, usize)],
                arch: &Archive,
                other: &BTreeMap<&Key, usize>,
                other_implied: &BTreeSet<Vec<u8>>| {
        from.iter()
            .filter(|(k, i)| {
                let implied = dir_mode
                    && arch.members[*i].kind == MemberKind::Dir
                    && other_implied.contains(&k.0);
                !other.contains_key(k) && !implied
            })
            .map(|(k, i)| MemberRef {
                path: key_name(k),
                path_hex: path_hex(&k.0),
                kind: arch.members[*i].kind.name(),
            })
            .collect::<Vec<_>>()
    };
    let only_in_a = only(&ka, a, &map_b, &implied_b);
    let only_in_b = only(&kb, b, &map_a, &implied_a);
    let same_family = !dir_mode && (a.container.format.is_tar() == b.container.format.is_tar());
    let mut members = Vec::new();
    for (k, ia) in &ka {
        let Some(&ib) = map_b.get(k) else { continue };
        let (ma, mb) = (&a.members[*ia], &b.members[ib]);
        let fields = member_fields(ma, mb, dir_mode, same_family);
        let holders = if dir_mode {
            (content_holder(a, ma), content_holder(b, mb))
        } else {
            (
                (ma.kind == MemberKind::File).then_some(ma),
                (mb.kind == MemberKind::File).then_some(mb),
            )
        };
        let content = match holders {
            (Some(ca), Some(cb)) if ca.sha256 != cb.sha256 || ca.size != cb.size => {
                Some(ContentDiff {
                    size_a: ca.size,
                    size_b: cb.size,
                    sha256_a: ca.sha256.map(|h| hex(&h)).unwrap_or_default(),
                    sha256_b: cb.sha256.map(|h| hex(&h)).unwrap_or_default(),
                    first_difference: None,
                    text_diff: None,
                })
            }
            _ => None,
        };
        if !fields.is_empty() || content.is_some() {
            members.push(MemberDiff {
                path: key_name(k),
                path_hex: path_hex(&k.0),
                fields,
                content,
                key: k.clone(),
            });
        }
    }
    let order = if dir_mode {
        None
    } else {
        order_diff(&ka, &map_b, &kb, &map_a)
    };
    let mut container = if dir_mode {
        Vec::new()
    } else {
        container_diffs(&a.container, &b.container)
    };
    let top_dirs = (
        side_a.stripped_prefix.clone(),
        side_b.stripped_prefix.clone(),
    );
    let renamed_top = top_dirs.0.is_some() && top_dirs.1.is_some() && top_dirs.0 != top_dirs.1;
    if !dir_mode && renamed_top {
        container.extend(field("top_directory", top_dirs.0, top_dirs.1));
    }
    let members_same =
        only_in_a.is_empty() && only_in_b.is_empty() && members.is_empty() && order.is_none();
    if !dir_mode && members_same && !renamed_top {
        let tar_differs = a.container.tar_sha256.is_some()
            && b.container.tar_sha256.is_some()
            && a.container.tar_sha256 != b.container.tar_sha256;
        if tar_differs {
            container.extend(field(
                "tar.size",
                a.container.tar_size.map(|v| v.to_string()),
                b.container.tar_size.map(|v| v.to_string()),
            ));
            container.extend(field(
                "tar.sha256",
                a.container.tar_sha256.clone(),
                b.container.tar_sha256.clone(),
            ));
        }
        if container.is_empty() {
            container.extend(field(
                "file.size",
                a.container.size.map(|v| v.to_string()),
                b.container.size.map(|v| v.to_string()),
            ));
            container.extend(field(
                "file.sha256",
                a.container.sha256.clone(),
                b.container.sha256.clone(),
            ));
        }
    }
    DiffReport {
        identical: false,
        a: side_a,
        b: side_b,
        notes,
        container,
        only_in_a,
        only_in_b,
        members,
        order,
    }
}

/// Compares the order of the members common to both sides.
fn order_diff(
    ka: &[(Key, usize)],
    map_b: &BTreeMap<&Key, usize>,
    kb: &[(Key, usize)],
    map_a: &BTreeMap<&Key, usize>,
) -> Option<OrderDiff> {
    let seq_a: Vec<&Key> = ka
        .iter()
        .map(|(k, _)| k)
        .filter(|k| map_b.contains_key(k))
        .collect();
    let seq_b: Vec<&Key> = kb
        .iter()
        .map(|(k, _)| k)
        .filter(|k| map_a.contains_key(k))
        .collect();
    let first = seq_a.iter().zip(&seq_b).position(|(x, y)| x != y)?;
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &seq_a, &seq_b);
    let mut moved = Vec::new();
    for op in ops {
        if let similar::DiffOp::Insert {
            new_index, new_len, ..
        } = op
        {
            moved.extend(
                seq_b[new_index..new_index + new_len]
                    .iter()
                    .map(|k| key_name(k)),
            );
        }
        if let similar::DiffOp::Replace {
            new_index, new_len, ..
        } = op
        {
            moved.extend(
                seq_b[new_index..new_index + new_len]
                    .iter()
                    .map(|k| key_name(k)),
            );
        }
    }
    let count = moved.len();
    moved.truncate(MOVED_LISTED);
    Some(OrderDiff {
        common: seq_a.len(),
        moved: count,
        first_mismatch: first,
        a_member: key_name(seq_a[first]),
        b_member: key_name(seq_b[first]),
        moved_members: moved,
    })
}

/// The byte range to fetch for a content difference and whether it is the whole content:
/// the whole content when both sides are small (a text diff may be wanted), else the first
/// chunk whose CRC differs.
fn fetch_range(ca: &Member, cb: &Member) -> (std::ops::Range<u64>, bool) {
    if ca.size <= TEXT_DIFF_LIMIT && cb.size <= TEXT_DIFF_LIMIT {
        return (0..TEXT_DIFF_LIMIT, true);
    }
    let chunk = ca
        .chunk_crcs
        .iter()
        .zip(&cb.chunk_crcs)
        .position(|(x, y)| x != y)
        .unwrap_or(ca.chunk_crcs.len().min(cb.chunk_crcs.len())) as u64;
    (chunk * CHUNK_SIZE..(chunk + 1) * CHUNK_SIZE, false)
}

fn is_text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Second pass: re-reads only the needed ranges of the differing members to find the
/// exact first differing byte and build text diffs.
fn fill_content_details(
    report: &mut DiffReport,
    path_a: &Path,
    path_b: &Path,
    a: &Archive,
    b: &Archive,
) -> Result<(), Error> {
    let ka: HashMap<Key, usize> = keyed(&a.members, report.a.strip_components, &[])
        .into_iter()
        .collect();
    let kb: HashMap<Key, usize> = keyed(&b.members, report.b.strip_components, &[])
        .into_iter()
        .collect();
    let dir_mode =
        a.container.format == Format::Directory || b.container.format == Format::Directory;
    let holder = |arch: &'_ Archive, i: usize| -> Option<Member> {
        let m = &arch.members[i];
        if dir_mode {
            content_holder(arch, m).cloned()
        } else {
            Some(m.clone())
        }
    };
    // (index in report.members, position in A, position in B, range, whole content?)
    let mut jobs = Vec::new();
    let mut want_a = BTreeMap::new();
    let mut want_b = BTreeMap::new();
    for (idx, md) in report.members.iter().enumerate() {
        if md.content.is_none() {
            continue;
        }
        let (Some(&ia), Some(&ib)) = (ka.get(&md.key), kb.get(&md.key)) else {
            continue;
        };
        let (Some(ca), Some(cb)) = (holder(a, ia), holder(b, ib)) else {
            continue;
        };
        let (range, whole) = fetch_range(&ca, &cb);
        want_a.insert(ca.position, range.clone());
        want_b.insert(cb.position, range.clone());
        jobs.push((idx, ca.position, cb.position, range, whole));
    }
    if jobs.is_empty() {
        return Ok(());
    }
    let got_a = read::fetch_ranges(path_a, &want_a)?;
    let got_b = read::fetch_ranges(path_b, &want_b)?;
    for (idx, pa, pb, range, whole) in jobs {
        let (Some(da), Some(db)) = (got_a.get(&pa), got_b.get(&pb)) else {
            continue;
        };
        let md = &mut report.members[idx];
        let Some(content) = md.content.as_mut() else {
            continue;
        };
        let within = da.iter().zip(db).position(|(x, y)| x != y);
        content.first_difference = match within {
            Some(off) => Some(range.start + off as u64),
            None if da.len() != db.len() => Some(range.start + da.len().min(db.len()) as u64),
            // Equal bytes in the fetched chunk: a CRC-32 collision hid the real chunk.
            None => None,
        };
        if let (true, Some(ta), Some(tb)) = (whole, is_text(da), is_text(db)) {
            let diff = similar::TextDiff::from_lines(ta, tb)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", md.path), &format!("b/{}", md.path))
                .to_string();
            content.text_diff = Some(diff);
        }
    }
    Ok(())
}

/// A human-readable summary of a report, one finding per line, ending with a newline.
pub fn render_text(r: &DiffReport) -> String {
    let mut s = String::new();
    for (name, side) in [("A", &r.a), ("B", &r.b)] {
        let _ = writeln!(
            s,
            "{name}: {} ({}, {} members)",
            side.path,
            side.format.name(),
            side.members
        );
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    if r.is_identical() {
        s.push_str("identical\n");
        return s;
    }
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(absent)".into());
    if !r.container.is_empty() {
        s.push_str("container differences:\n");
        for f in &r.container {
            let _ = writeln!(s, "  {}: {} | {}", f.field, show(&f.a), show(&f.b));
        }
    }
    for (title, list) in [("only in A", &r.only_in_a), ("only in B", &r.only_in_b)] {
        if !list.is_empty() {
            let _ = writeln!(s, "{title} ({}):", list.len());
            for m in list {
                let _ = writeln!(s, "  {} ({})", m.path, m.kind);
            }
        }
    }
    if !r.members.is_empty() {
        let _ = writeln!(s, "members that differ ({}):", r.members.len());
        for m in &r.members {
            let _ = writeln!(s, "  {}", m.path);
            if let Some(c) = &m.content {
                let at = c
                    .first_difference
                    .map_or(String::new(), |o| format!(", first difference at byte {o}"));
                let _ = writeln!(
                    s,
                    "    content: size {} | {}, sha256 {} | {}{at}",
                    c.size_a, c.size_b, c.sha256_a, c.sha256_b
                );
                if let Some(t) = &c.text_diff {
                    for line in t.lines() {
                        let _ = writeln!(s, "      {line}");
                    }
                }
            }
            for f in &m.fields {
                let _ = writeln!(s, "    {}: {} | {}", f.field, show(&f.a), show(&f.b));
            }
        }
    }
    if let Some(o) = &r.order {
        let _ = writeln!(
            s,
            "order: {} of {} common members are in a different order; first at index {}: A has '{}', B has '{}'",
            o.moved, o.common, o.first_mismatch, o.a_member, o.b_member
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_components() {
        assert_eq!(strip(b"a/b/c", 1), Some(b"b/c".to_vec()));
        assert_eq!(strip(b"a", 1), None);
        assert_eq!(strip(b"a/b", 0), Some(b"a/b".to_vec()));
    }

    #[test]
    fn ignore_matches_whole_components() {
        let ig = vec!["docs/".to_string()];
        assert!(ignored(b"docs", &ig));
        assert!(ignored(b"docs/x", &ig));
        assert!(!ignored(b"docsx", &ig));
    }
}
