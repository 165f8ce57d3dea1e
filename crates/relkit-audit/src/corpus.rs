//! The reference corpus: every known upstream copy of the macros and helper scripts that
//! projects copy into their release tarballs (gnulib and gettext `m4/*.m4`, libtool,
//! automake's `build-aux/*`, gettext's `po/` infrastructure), keyed by file name, with
//! the version each copy announces (`# serial N`, `scriptversion=…`, `timestamp='…'`),
//! its SHA-256, where it was seen, and (when kept) its bytes for diffs.
//!
//! On disk (format v3) a corpus is laid out so that an audit reads only what it needs:
//! - the line `relkit-audit-corpus v3`;
//! - one JSON line `{"files":[[name, offset, length], …],"shas":N}`: every file name with
//!   the place of its group in the group area;
//! - the SHA-256 table: N records of 36 bytes (the 32-byte SHA-256 of a known copy, then the
//!   index of its file name, u32 little-endian), sorted, searched in place;
//! - the group area: per file name, one xz stream holding its known copies, each a JSON
//!   line `{"version":{"serial":5},"sources":["…"],"size":N}` followed by its N bytes and a
//!   newline (`"size":null` and a `"sha256"` field when the bytes are not stored).
//!
//! Opening a corpus parses only the name list; [`Corpus::load_for`] then decompresses the
//! groups of the file names a tarball holds and of the names under which its files' SHA-256
//! are known (an audit never decompresses the groups of names its tarball does not hold). Each stored
//! copy's SHA-256 is computed on load and must be in the table, so a damaged file is
//! reported with the group and record at fault.
//!
//! A prebuilt corpus (gnulib's whole m4 history; gettext 0.21, 0.23.1 and 1.0; libtool
//! 2.4.7 and 2.5.4; automake 1.16.5 and 1.17; pkgconf 1.8.1; autoconf-archive 20220903) is
//! compiled into the library: [`Corpus::shipped`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use rayon::prelude::*;
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, io};

/// Largest decompressed corpus group accepted.
const GROUP_LIMIT: u64 = 1 << 30;

/// The prebuilt corpus shipped with relkit (see the module docs for what it holds).
static SHIPPED: &[u8] = include_bytes!("../data/corpus.rkc");

/// The first line of every corpus file.
const MAGIC: &str = "relkit-audit-corpus v3";
/// Bytes per record of the SHA-256 table.
const SHA_REC: usize = 36;

/// The version a macro or script announces about itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// An m4 `# serial N` line (aclocal's upgrade rule).
    Serial(u64),
    /// A script's date stamp: automake's `scriptversion=` or config.guess's `timestamp=`.
    Stamp(String),
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Version::Serial(n) => write!(f, "serial {n}"),
            Version::Stamp(s) => write!(f, "version {s}"),
        }
    }
}

impl Version {
    /// Whether `self` is newer than `other`; `None` when they are not comparable.
    pub fn newer_than(&self, other: &Version) -> Option<bool> {
        match (self, other) {
            (Version::Serial(a), Version::Serial(b)) => Some(a > b),
            (Version::Stamp(a), Version::Stamp(b)) => Some(a > b),
            _ => None,
        }
    }
}

fn serial_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?m)^[ \t]*(?:#|dnl)[ \t]*(?:[^\s]+[ \t]+)?serial[ \t]+([0-9]+)")
            .expect("static regex")
    })
}

fn stamp_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?m)^(?:scriptversion=([0-9][0-9.-]*[0-9])|timestamp='([0-9][0-9-]*)')"#)
            .expect("static regex")
    })
}

fn libtool_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"(?m)^VERSION="?([0-9][^\s"]*)"#).expect("static regex"))
}

/// Reads the version a file announces in its first 8 KiB, if any. libtool's `ltmain.sh`
/// embeds helper libraries with their own `scriptversion=`, so its `VERSION=` is used (quoted
/// by distributions: Debian's reads `VERSION="2.4.7 Debian-2.4.7-7~deb12u1"`, giving `2.4.7`).
pub fn parse_version(content: &[u8]) -> Option<Version> {
    let head = &content[..content.len().min(8192)];
    if crate::generated::contains(head, b"\n# libtool (GNU libtool) ")
        && let Some(c) = libtool_re().captures(&content[..content.len().min(64 << 10)])
    {
        return Some(Version::Stamp(String::from_utf8_lossy(&c[1]).into_owned()));
    }
    if let Some(c) = serial_re().captures(head) {
        let n = std::str::from_utf8(&c[1]).ok()?.parse().ok()?;
        return Some(Version::Serial(n));
    }
    let c = stamp_re().captures(head)?;
    let m = c.get(1).or_else(|| c.get(2))?;
    Some(Version::Stamp(
        String::from_utf8_lossy(m.as_bytes()).into_owned(),
    ))
}

/// The source label of a copy taken from gnulib's commit history (`gnulib <commit> (<date>)`),
/// as opposed to a release tarball or an installed directory.
pub(crate) fn history_source(commit: &str, date: &str) -> String {
    format!("gnulib {commit} ({date})")
}

/// Whether a source label names a commit of gnulib's history (see `history_source`): a
/// file name with such copies has every upstream state in the corpus, not only releases.
pub fn is_history_source(source: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^gnulib [0-9a-f]{7,40} \([0-9]{4}-[0-9]{2}-[0-9]{2}\)$").expect("static regex")
    })
    .is_match(source.as_bytes())
}

/// Names of helper scripts, gettext infrastructure files and the `INSTALL`/`COPYING` texts
/// that `automake --add-missing --copy` adds, all copied verbatim.
const COPIED_NAMES: &[&str] = &[
    "ABOUT-NLS",
    "ar-lib",
    "boldquot.sed",
    "compile",
    "config.guess",
    "config.rpath",
    "config.sub",
    "COPYING",
    "depcomp",
    "en@boldquot.header",
    "en@quot.header",
    "insert-header.sed",
    "insert-header.sin",
    "INSTALL",
    "install-sh",
    "ltmain.sh",
    "Makefile.in.in",
    "mdate-sh",
    "missing",
    "mkinstalldirs",
    "py-compile",
    "quot.sed",
    "remove-potcdate.sed",
    "remove-potcdate.sin",
    "Rules-quot",
    "tap-driver.sh",
    "test-driver",
    "texinfo.tex",
    "ylwrap",
];

/// Whether a file name is of the kind projects copy from upstream (an `.m4` macro file or
/// a known helper script); only such files are imported into a corpus. `aclocal.m4` is
/// generated per project by aclocal, never copied, so it is not one of them.
pub fn is_copied_name(name: &str) -> bool {
    (name.ends_with(".m4") && name != "aclocal.m4") || COPIED_NAMES.contains(&name)
}

/// One known upstream copy of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownCopy {
    /// The file name (no directory), e.g. `build-to-host.m4`.
    pub file: String,
    /// The version the copy announces, if any.
    pub version: Option<Version>,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Where this exact content was seen, e.g. `gnulib 7b08932 (2025-01-01)`.
    pub sources: Vec<String>,
}

impl KnownCopy {
    /// A short description: version and first source, e.g. `serial 5 from gnulib …`.
    pub fn describe(&self) -> String {
        let version = self
            .version
            .as_ref()
            .map_or_else(|| "no version".to_string(), |v| v.to_string());
        let mut text = format!("{version} from {}", self.sources.first().map_or("?", |s| s));
        if self.sources.len() > 1 {
            text.push_str(&format!(" (+{} more sources)", self.sources.len() - 1));
        }
        text
    }
}

/// Which file names' groups to load when opening a corpus (more can be loaded later with
/// [`Corpus::load_files`] or [`Corpus::load_for`]).
#[derive(Debug, Clone)]
pub enum Blobs {
    /// Every group (needed for statistics and to write a corpus back).
    All,
    /// Only the groups of these file names.
    Only(BTreeSet<String>),
}

/// Summary figures of a corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorpusStats {
    /// Distinct file names.
    pub files: usize,
    /// Known copies (distinct (file, content) pairs).
    pub copies: usize,
    /// Copies whose bytes are stored (for diffs).
    pub blobs: usize,
    /// Number of copies per source family (the first word of each source).
    pub by_source: BTreeMap<String, usize>,
}

/// The reference corpus (see the module docs): the copies loaded so far, and the corpus
/// files (or the shipped one) whose other groups can still be loaded.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    by_file: BTreeMap<String, Vec<KnownCopy>>,
    by_sha: HashMap<String, (String, usize)>,
    blobs: HashMap<String, Vec<u8>>,
    stored: Vec<Stored>,
}

/// The bytes of a corpus file and the groups not loaded yet.
#[derive(Debug, Clone)]
struct Stored {
    label: String,
    bytes: std::borrow::Cow<'static, [u8]>,
    /// File names, in file order (the SHA-256 table refers to them by index).
    names: Vec<String>,
    /// Unloaded groups: name → byte range in `bytes`.
    pending: HashMap<String, std::ops::Range<usize>>,
    /// Where the SHA-256 table is in `bytes`.
    shas: std::ops::Range<usize>,
}

/// A known copy as a group stores it, with its bytes when kept.
type StoredCopy = (KnownCopy, Option<Vec<u8>>);

/// One record of a group.
#[derive(Serialize, Deserialize)]
struct GroupRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<Version>,
    sources: Vec<String>,
    size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Stored {
    fn corrupt(&self, location: String, detail: String) -> Error {
        Error::CorruptCorpus {
            path: self.label.clone(),
            location,
            detail,
        }
    }

    /// Parses the header and the name list; nothing is decompressed.
    fn open(label: &str, bytes: std::borrow::Cow<'static, [u8]>) -> Result<Stored> {
        let mut st = Stored {
            label: label.to_string(),
            bytes,
            names: Vec::new(),
            pending: HashMap::new(),
            shas: 0..0,
        };
        let b = &st.bytes;
        let line1 = b.iter().position(|&c| c == b'\n').unwrap_or(b.len());
        if &b[..line1] != MAGIC.as_bytes() {
            return Err(st.corrupt(
                "line 1".into(),
                format!(
                    "expected the header `{MAGIC}`, found {:?}",
                    String::from_utf8_lossy(&b[..line1.min(40)])
                ),
            ));
        }
        let rest = &b[line1 + 1..];
        let Some(len2) = rest.iter().position(|&c| c == b'\n') else {
            return Err(st.corrupt("line 2".into(), "the file ends in its name list".into()));
        };
        #[derive(Deserialize)]
        struct Header {
            files: Vec<(String, usize, usize)>,
            shas: usize,
        }
        let header: Header = serde_json::from_slice(&rest[..len2])
            .map_err(|e| st.corrupt("line 2".into(), format!("bad JSON name list: {e}")))?;
        let table = line1 + 1 + len2 + 1;
        let area = table + header.shas * SHA_REC;
        if area > b.len() {
            return Err(st.corrupt(
                "the SHA-256 table".into(),
                format!("{} records announced, the file is cut short", header.shas),
            ));
        }
        st.shas = table..area;
        for (name, offset, length) in header.files {
            let range = area + offset..area + offset + length;
            if range.end > st.bytes.len() {
                return Err(st.corrupt(
                    format!("group {name}"),
                    format!(
                        "bytes {}..{} lie past the end of the file ({} bytes): the file is cut short",
                        range.start,
                        range.end,
                        st.bytes.len()
                    ),
                ));
            }
            st.names.push(name.clone());
            st.pending.insert(name, range);
        }
        Ok(st)
    }

    /// Index numbers of the file names under which `sha` (32 bytes) is known.
    fn names_of(&self, sha: &[u8]) -> Vec<usize> {
        let table = &self.bytes[self.shas.clone()];
        let n = table.len() / SHA_REC;
        let at = |i: usize| &table[i * SHA_REC..i * SHA_REC + 32];
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if at(mid) < sha {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mut out = Vec::new();
        while lo < n && at(lo) == sha {
            let rec = &table[lo * SHA_REC + 32..(lo + 1) * SHA_REC];
            out.push(u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]) as usize);
            lo += 1;
        }
        out
    }

    /// Decompresses and checks the group of `name` held in `range`: its copies, each with
    /// its bytes when stored.
    fn parse_group(&self, name: &str, range: std::ops::Range<usize>) -> Result<Vec<StoredCopy>> {
        let index = self.names.iter().position(|n| n == name);
        // A group holds a few copies of one file (each ≤ 4 MiB when imported).
        let raw = relkit_archive::read::decompress(
            relkit_archive::read::Compression::Xz,
            &self.bytes[range],
            GROUP_LIMIT,
        )
        .map_err(|e| self.corrupt(format!("group {name}"), format!("cannot decompress: {e}")))?;
        let mut copies = Vec::new();
        let mut pos = 0;
        let mut record = 0;
        while pos < raw.len() {
            record += 1;
            let at = format!("group {name} record {record}");
            let end = raw[pos..]
                .iter()
                .position(|&c| c == b'\n')
                .map(|i| pos + i)
                .ok_or_else(|| self.corrupt(at.clone(), "record not ended by a newline".into()))?;
            let rec: GroupRecord = serde_json::from_slice(&raw[pos..end])
                .map_err(|e| self.corrupt(at.clone(), format!("bad JSON record: {e}")))?;
            pos = end + 1;
            let (sha256, blob) = match rec.size {
                Some(size) => {
                    let Some(blob) = raw.get(pos..pos + size) else {
                        return Err(self.corrupt(at, format!("the {size}-byte copy is cut short")));
                    };
                    if raw.get(pos + size) != Some(&b'\n') {
                        return Err(self.corrupt(at, "copy not followed by a newline".into()));
                    }
                    pos += size + 1;
                    (sha256_hex(blob), Some(blob.to_vec()))
                }
                None => (rec.sha256.clone().unwrap_or_default(), None),
            };
            let listed = hex::decode(&sha256)
                .ok()
                .is_some_and(|sha| index.is_some_and(|i| self.names_of(&sha).contains(&i)));
            if !listed {
                return Err(self.corrupt(
                    at,
                    format!(
                        "copy of {name} has SHA-256 {sha256}, which the corpus's SHA-256 table does not list for {name}"
                    ),
                ));
            }
            copies.push((
                KnownCopy {
                    file: name.to_string(),
                    version: rec.version,
                    sha256,
                    sources: rec.sources,
                },
                blob,
            ));
        }
        Ok(copies)
    }
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Self {
        Corpus::default()
    }

    /// The corpus compiled into relkit, with the groups of `blobs` loaded.
    pub fn shipped(blobs: &Blobs) -> Result<Corpus> {
        let stored = Stored::open("<shipped corpus>", std::borrow::Cow::Borrowed(SHIPPED))?;
        Corpus::from_stored(stored, blobs)
    }

    /// Opens a corpus file written by [`Corpus::write`], with the groups of `blobs` loaded.
    pub fn load(path: &Path, blobs: &Blobs) -> Result<Corpus> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        let stored = Stored::open(&path.display().to_string(), std::borrow::Cow::Owned(bytes))?;
        Corpus::from_stored(stored, blobs)
    }

    fn from_stored(stored: Stored, blobs: &Blobs) -> Result<Corpus> {
        let mut corpus = Corpus {
            stored: vec![stored],
            ..Corpus::default()
        };
        match blobs {
            Blobs::All => corpus.load_all()?,
            Blobs::Only(names) => corpus.load_files(names.iter().map(String::as_str))?,
        }
        Ok(corpus)
    }

    /// Loads every group still pending.
    pub fn load_all(&mut self) -> Result<()> {
        let names: BTreeSet<String> = self
            .stored
            .iter()
            .flat_map(|s| s.pending.keys().cloned())
            .collect();
        self.load_files(names.iter().map(String::as_str))
    }

    /// Loads the groups (known copies and their bytes) of these file names.
    /// Groups are decompressed in parallel and added in the order of `names` (and of the
    /// corpus files for one name), so the result does not depend on timing.
    pub fn load_files<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let mut wanted: Vec<(usize, &str, std::ops::Range<usize>)> = Vec::new();
        for name in names {
            for (i, s) in self.stored.iter_mut().enumerate() {
                if let Some(range) = s.pending.remove(name) {
                    wanted.push((i, name, range));
                }
            }
        }
        let stored = &self.stored;
        let parsed: Vec<Result<Vec<StoredCopy>>> = wanted
            .into_par_iter()
            .map(|(i, name, range)| stored[i].parse_group(name, range))
            .collect();
        for group in parsed {
            for (copy, blob) in group? {
                if let Some(blob) = blob {
                    self.blobs.entry(copy.sha256.clone()).or_insert(blob);
                }
                self.insert(copy);
            }
        }
        Ok(())
    }

    /// Loads what an audit of these files needs: the groups of their names, and of every
    /// name under which their SHA-256 (lowercase hex) is known.
    pub fn load_for<'a>(
        &mut self,
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<()> {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for (name, sha) in files {
            names.insert(name.to_string());
            let Ok(sha) = hex::decode(sha) else { continue };
            for s in &self.stored {
                for i in s.names_of(&sha) {
                    if let Some(n) = s.names.get(i) {
                        names.insert(n.clone());
                    }
                }
            }
        }
        self.load_files(names.iter().map(String::as_str))
    }
    fn insert(&mut self, copy: KnownCopy) {
        if let Some((file, idx)) = self.by_sha.get(&copy.sha256)
            && *file == copy.file
        {
            let known = &mut self.by_file.get_mut(file).expect("indexed file")[*idx];
            for s in copy.sources {
                if !known.sources.contains(&s) {
                    known.sources.push(s);
                }
            }
            return;
        }
        let list = self.by_file.entry(copy.file.clone()).or_default();
        if let Some(idx) = list.iter().position(|c| c.sha256 == copy.sha256) {
            for s in copy.sources {
                if !list[idx].sources.contains(&s) {
                    list[idx].sources.push(s);
                }
            }
            return;
        }
        self.by_sha
            .entry(copy.sha256.clone())
            .or_insert((copy.file.clone(), list.len()));
        list.push(copy);
    }

    /// Adds one upstream copy of `file` with its bytes, seen in `source`.
    pub fn add(&mut self, file: &str, content: &[u8], source: &str) {
        let sha256 = sha256_hex(content);
        self.blobs
            .entry(sha256.clone())
            .or_insert_with(|| content.to_vec());
        self.insert(KnownCopy {
            file: file.to_string(),
            version: parse_version(content),
            sha256,
            sources: vec![source.to_string()],
        });
    }

    /// Adds every copy of another corpus (with the blobs it holds, and its pending groups).
    pub fn merge(&mut self, other: Corpus) {
        self.stored.extend(other.stored);
        self.blobs.extend(other.blobs);
        for (_, list) in other.by_file {
            for copy in list {
                self.insert(copy);
            }
        }
    }

    /// The known copies of a file name.
    pub fn copies(&self, file: &str) -> &[KnownCopy] {
        self.by_file.get(file).map_or(&[], |v| v.as_slice())
    }

    /// A known copy with this SHA-256, preferring the given file name.
    pub fn find_sha(&self, file: &str, sha256: &str) -> Option<&KnownCopy> {
        self.copies(file)
            .iter()
            .find(|c| c.sha256 == sha256)
            .or_else(|| {
                let (f, idx) = self.by_sha.get(sha256)?;
                self.by_file.get(f).map(|l| &l[*idx])
            })
    }

    /// The stored bytes of a copy, if kept.
    pub fn blob(&self, sha256: &str) -> Option<&[u8]> {
        self.blobs.get(sha256).map(|v| v.as_slice())
    }

    /// Summary figures of the loaded copies (call [`Corpus::load_all`] first for the whole).
    pub fn stats(&self) -> CorpusStats {
        let mut by_source = BTreeMap::new();
        let mut copies = 0;
        for copy in self.by_file.values().flatten() {
            copies += 1;
            let mut families: Vec<&str> = copy
                .sources
                .iter()
                .map(|s| s.split_whitespace().next().unwrap_or(""))
                .collect();
            families.sort_unstable();
            families.dedup();
            for f in families {
                *by_source.entry(f.to_string()).or_insert(0) += 1;
            }
        }
        CorpusStats {
            files: self.by_file.len(),
            copies,
            blobs: self.blobs.len(),
            by_source,
        }
    }

    /// Writes the loaded copies (call [`Corpus::load_all`] first) to `path` in format v3;
    /// each group is one xz stream (preset 9e, dictionary sized to the group). Copies whose
    /// bytes are not held are written with `size: null` and their SHA-256.
    pub fn write(&self, path: &Path) -> Result<()> {
        let bytes = self.encode().map_err(io(path))?;
        let mut file = File::create(path).map_err(io(path))?;
        file.write_all(&bytes).map_err(io(path))?;
        file.flush().map_err(io(path))
    }

    fn encode(&self) -> std::io::Result<Vec<u8>> {
        let mut files = Vec::new();
        let mut table: Vec<[u8; SHA_REC]> = Vec::new();
        let mut area = Vec::new();
        for (index, (file, list)) in self.by_file.iter().enumerate() {
            let mut sorted: Vec<&KnownCopy> = list.iter().collect();
            sorted.sort_by(|a, b| a.version.cmp(&b.version).then(a.sha256.cmp(&b.sha256)));
            let mut raw = Vec::new();
            for copy in sorted {
                let blob = self.blobs.get(&copy.sha256);
                let rec = GroupRecord {
                    version: copy.version.clone(),
                    sources: copy.sources.clone(),
                    size: blob.map(Vec::len),
                    sha256: blob.is_none().then(|| copy.sha256.clone()),
                };
                serde_json::to_writer(&mut raw, &rec)?;
                raw.push(b'\n');
                if let Some(blob) = blob {
                    raw.extend_from_slice(blob);
                    raw.push(b'\n');
                }
                let mut rec = [0u8; SHA_REC];
                let sha = hex::decode(&copy.sha256).map_err(std::io::Error::other)?;
                rec[..32].copy_from_slice(&sha);
                rec[32..].copy_from_slice(&(index as u32).to_le_bytes());
                table.push(rec);
            }
            let start = area.len();
            let dict = (raw.len() as u32).next_power_of_two().clamp(4096, 64 << 20);
            let mut opts =
                liblzma::stream::LzmaOptions::new_preset(9 | liblzma::stream::PRESET_EXTREME)
                    .map_err(std::io::Error::other)?;
            opts.dict_size(dict);
            let mut filters = liblzma::stream::Filters::new();
            filters.lzma2(&opts);
            let stream = liblzma::stream::Stream::new_stream_encoder(
                &filters,
                liblzma::stream::Check::Crc32,
            )
            .map_err(std::io::Error::other)?;
            let mut enc = liblzma::write::XzEncoder::new_stream(&mut area, stream);
            enc.write_all(&raw)?;
            enc.finish()?;
            files.push((file.clone(), start, area.len() - start));
        }
        table.sort_unstable();
        let mut out = Vec::new();
        writeln!(out, "{MAGIC}")?;
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"files": files, "shas": table.len()}),
        )?;
        out.push(b'\n');
        for rec in &table {
            out.extend_from_slice(rec);
        }
        out.extend_from_slice(&area);
        Ok(out)
    }
}
