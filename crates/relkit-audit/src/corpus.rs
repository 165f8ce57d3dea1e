//! The reference corpus: every known upstream copy of the macros and helper scripts that
//! projects copy into their release tarballs (gnulib and gettext `m4/*.m4`, libtool,
//! automake's `build-aux/*`, gettext's `po/` infrastructure), keyed by file name, with
//! the version each copy announces (`# serial N`, `scriptversion=…`, `timestamp='…'`),
//! its SHA-256, where it was seen, and (when kept) its bytes for diffs.
//!
//! On disk a corpus is one xz-compressed stream: the line `relkit-audit-corpus v1`, then
//! one JSON line per known copy, sorted by file name and version so that neighbouring
//! versions compress well:
//! `{"file":"build-to-host.m4","version":{"serial":5},"sha256":"…","sources":["…"],"size":N}`
//! followed, the first time a SHA-256 appears, by exactly `size` raw bytes and a newline
//! (`"size": null` when the bytes are not stored). Every stored blob is checked against its
//! SHA-256 on load, so a damaged file is reported with its record number.
//!
//! A prebuilt corpus (gnulib's whole m4 history; gettext 0.21, 0.23.1 and 1.0; libtool
//! 2.4.7 and 2.5.4; automake 1.16.5 and 1.17) is compiled into the library:
//! [`Corpus::shipped`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, io};

/// The prebuilt corpus shipped with relkit (see the module docs for what it holds).
static SHIPPED: &[u8] = include_bytes!("../data/corpus.rkc.xz");

/// The first line of every corpus file.
const MAGIC: &str = "relkit-audit-corpus v2";
/// The line between the index and the blobs.
const BLOBS_LINE: &str = "blobs\n";

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

/// Names of helper scripts and gettext infrastructure files that are copied verbatim.
const COPIED_NAMES: &[&str] = &[
    "ABOUT-NLS",
    "ar-lib",
    "boldquot.sed",
    "compile",
    "config.guess",
    "config.rpath",
    "config.sub",
    "depcomp",
    "en@boldquot.header",
    "en@quot.header",
    "insert-header.sed",
    "install-sh",
    "ltmain.sh",
    "Makefile.in.in",
    "mdate-sh",
    "missing",
    "mkinstalldirs",
    "py-compile",
    "quot.sed",
    "remove-potcdate.sed",
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

/// Which blobs to keep in memory when loading a corpus.
#[derive(Debug, Clone)]
pub enum Blobs {
    /// Keep every blob (needed to write a corpus back).
    All,
    /// Keep only the blobs of these file names (what an audit needs for diffs).
    Only(BTreeSet<String>),
}

impl Blobs {
    fn wants(&self, file: &str) -> bool {
        match self {
            Blobs::All => true,
            Blobs::Only(set) => set.contains(file),
        }
    }
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

/// The reference corpus (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    by_file: BTreeMap<String, Vec<KnownCopy>>,
    by_sha: HashMap<String, (String, usize)>,
    blobs: HashMap<String, Vec<u8>>,
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Self {
        Corpus::default()
    }

    /// The corpus compiled into relkit.
    pub fn shipped(blobs: &Blobs) -> Result<Corpus> {
        let dec = liblzma::read::XzDecoder::new(SHIPPED);
        Corpus::read_from(BufReader::new(dec), "<shipped corpus>", blobs)
    }

    /// Loads a corpus file written by [`Corpus::write`].
    pub fn load(path: &Path, blobs: &Blobs) -> Result<Corpus> {
        let file = File::open(path).map_err(io(path))?;
        let dec = liblzma::read::XzDecoder::new(BufReader::new(file));
        Corpus::read_from(BufReader::new(dec), &path.display().to_string(), blobs)
    }

    fn read_from<R: BufRead>(mut r: R, label: &str, blobs: &Blobs) -> Result<Corpus> {
        let corrupt = |location: String, detail: String| Error::CorruptCorpus {
            path: label.to_string(),
            location,
            detail,
        };
        let mut line = Vec::new();
        let read_line = |r: &mut R, line: &mut Vec<u8>, at: &str| -> Result<usize> {
            line.clear();
            r.read_until(b'\n', line)
                .map_err(|e| corrupt(at.to_string(), format!("cannot decompress: {e}")))
        };
        read_line(&mut r, &mut line, "line 1")?;
        if line.strip_suffix(b"\n") != Some(MAGIC.as_bytes()) {
            return Err(corrupt(
                "line 1".into(),
                format!(
                    "expected the header `{MAGIC}`, found {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(40)])
                ),
            ));
        }
        let mut corpus = Corpus::new();
        let mut record = 0usize;
        // The index: one record per known copy, up to the `blobs` line.
        loop {
            record += 1;
            let at = format!("record {record}");
            if read_line(&mut r, &mut line, &at)? == 0 {
                return Err(corrupt(
                    at,
                    "the file ends before its `blobs` section".into(),
                ));
            }
            if line == BLOBS_LINE.as_bytes() {
                break;
            }
            let copy: KnownCopy = serde_json::from_slice(&line)
                .map_err(|e| corrupt(at.clone(), format!("bad JSON record: {e}")))?;
            corpus.insert(copy);
        }
        let wanted_any = match blobs {
            Blobs::All => true,
            Blobs::Only(set) => set.iter().any(|f| corpus.by_file.contains_key(f)),
        };
        if !wanted_any {
            // Nothing wanted: the rest of the stream is never decompressed.
            return Ok(corpus);
        }
        // The blobs: `{"file":…,"sha256":…,"size":N}`, N bytes and a newline each.
        loop {
            record += 1;
            let at = format!("record {record}");
            if read_line(&mut r, &mut line, &at)? == 0 {
                break;
            }
            #[derive(Deserialize)]
            struct BlobRec {
                file: String,
                sha256: String,
                size: usize,
            }
            let rec: BlobRec = serde_json::from_slice(&line)
                .map_err(|e| corrupt(at.clone(), format!("bad JSON blob record: {e}")))?;
            let mut blob = vec![0u8; rec.size + 1];
            r.read_exact(&mut blob).map_err(|e| {
                corrupt(
                    at.clone(),
                    format!(
                        "the {}-byte blob of {} is cut short: {e}",
                        rec.size, rec.file
                    ),
                )
            })?;
            if blob.pop() != Some(b'\n') {
                return Err(corrupt(at, "blob not followed by a newline".into()));
            }
            if blobs.wants(&rec.file) {
                let got = sha256_hex(&blob);
                if got != rec.sha256 {
                    return Err(corrupt(
                        at,
                        format!(
                            "blob of {} has SHA-256 {got}, the record says {}",
                            rec.file, rec.sha256
                        ),
                    ));
                }
                corpus.blobs.insert(got, blob);
            }
        }
        Ok(corpus)
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

    /// Adds every copy of another corpus (with the blobs it holds).
    pub fn merge(&mut self, other: Corpus) {
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

    /// Summary figures.
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

    /// Writes the corpus (xz level 9) to `path`; blobs not held are written as `size: null`.
    pub fn write(&self, path: &Path) -> Result<()> {
        let file = File::create(path).map_err(io(path))?;
        let mut enc = liblzma::write::XzEncoder::new(std::io::BufWriter::new(file), 9);
        self.write_to(&mut enc).map_err(io(path))?;
        let mut inner = enc.finish().map_err(io(path))?;
        inner.flush().map_err(io(path))
    }

    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        fn sorted(list: &[KnownCopy]) -> Vec<&KnownCopy> {
            let mut v: Vec<&KnownCopy> = list.iter().collect();
            v.sort_by(|a, b| a.version.cmp(&b.version).then(a.sha256.cmp(&b.sha256)));
            v
        }
        writeln!(w, "{MAGIC}")?;
        for list in self.by_file.values() {
            for copy in sorted(list) {
                serde_json::to_writer(&mut *w, copy)?;
                w.write_all(b"\n")?;
            }
        }
        w.write_all(BLOBS_LINE.as_bytes())?;
        for (file, list) in &self.by_file {
            for copy in sorted(list) {
                let Some(blob) = self.blobs.get(&copy.sha256) else {
                    continue;
                };
                let rec =
                    serde_json::json!({"file": file, "sha256": copy.sha256, "size": blob.len()});
                serde_json::to_writer(&mut *w, &rec)?;
                w.write_all(b"\n")?;
                w.write_all(blob)?;
                w.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}
