//! Filling a [`Corpus`]: from the gnulib m4 corpus (an index `gnulib-m4.jsonl.xz` plus
//! `gnulib-m4-blobs.tar.xz` holding every blob named by its SHA-256), from upstream release
//! tarballs (gettext, libtool, automake…: every `.m4` file and known helper script in
//! them), and from directories of installed macros such as `/usr/share/aclocal`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use relkit_archive::read::{ContentObserver, Flow, Member, Visit, read_path_observed};
use serde::Deserialize;

use crate::corpus::{Corpus, is_copied_name, sha256_hex};
use crate::error::{Error, Result, io};

/// Largest file imported (helper scripts and macros are far smaller).
const MAX_IMPORT: u64 = 4 << 20;

/// Largest decompressed gnulib index accepted (the real one is a few MB).
const INDEX_LIMIT: u64 = 1 << 30;

fn basename(path: &[u8]) -> String {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    String::from_utf8_lossy(name).into_owned()
}

/// Imports the gnulib m4 corpus from `dir` (holding `gnulib-m4.jsonl.xz` and
/// `gnulib-m4-blobs.tar.xz`); each copy's source reads `gnulib <commit> (<first seen date>)`.
pub fn import_gnulib(corpus: &mut Corpus, dir: &Path) -> Result<usize> {
    let index_path = dir.join("gnulib-m4.jsonl.xz");
    let blobs_path = dir.join("gnulib-m4-blobs.tar.xz");
    #[derive(Deserialize)]
    struct Line {
        file: String,
        sha256: String,
        first_seen: String,
        commit: String,
    }
    let corrupt = |path: &Path, location: String, detail: String| Error::CorruptCorpus {
        path: path.display().to_string(),
        location,
        detail,
    };
    let packed = std::fs::read(&index_path).map_err(io(&index_path))?;
    let text = relkit_archive::read::decompress(
        relkit_archive::read::Compression::Xz,
        &packed,
        INDEX_LIMIT,
    )
    .map_err(|e| corrupt(&index_path, "the xz stream".into(), e.to_string()))?;
    let reader = BufReader::new(&text[..]);
    let mut wanted: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (n, line) in reader.lines().enumerate() {
        let at = format!("line {}", n + 1);
        let line = line.map_err(|e| corrupt(&index_path, at.clone(), e.to_string()))?;
        let l: Line = serde_json::from_str(&line)
            .map_err(|e| corrupt(&index_path, at.clone(), format!("bad JSON: {e}")))?;
        let date = l.first_seen.get(..10).unwrap_or(&l.first_seen);
        let short = l.commit.get(..10).unwrap_or(&l.commit);
        wanted
            .entry(l.sha256)
            .or_default()
            .push((l.file, crate::corpus::history_source(short, date)));
    }
    let mut blobs = GnulibBlobs {
        wanted: &wanted,
        corpus,
        count: 0,
        failure: None,
        path: &blobs_path,
    };
    let walked = relkit_archive::read::walk_path(&blobs_path, &mut blobs);
    if let Some(e) = blobs.failure.take() {
        return Err(e);
    }
    walked?;
    Ok(blobs.count)
}

/// Adds the wanted blobs of `gnulib-m4-blobs.tar.xz` (each member named by the SHA-256 of its
/// content, checked) to the corpus as the walk goes by; others are skipped unread.
struct GnulibBlobs<'a> {
    wanted: &'a HashMap<String, Vec<(String, String)>>,
    corpus: &'a mut Corpus,
    count: usize,
    /// The error that stopped the walk (the reader only sees an I/O error).
    failure: Option<Error>,
    path: &'a Path,
}

impl Visit for GnulibBlobs<'_> {
    fn visit(&mut self, member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        let name = String::from_utf8_lossy(&member.path).into_owned();
        let Some(uses) = self.wanted.get(&name) else {
            return Ok(Flow::Continue);
        };
        let mut buf = Vec::new();
        content.read_to_end(&mut buf)?;
        let got = sha256_hex(&buf);
        if got != name {
            let e = Error::CorruptCorpus {
                path: self.path.display().to_string(),
                location: format!("member {name}"),
                detail: format!("content has SHA-256 {got}"),
            };
            let message = e.to_string();
            self.failure = Some(e);
            return Err(std::io::Error::other(message));
        }
        for (file, source) in uses {
            self.corpus.add(file, &buf, source);
            self.count += 1;
        }
        Ok(Flow::Continue)
    }
}

/// Imports every `.m4` file and known helper script from an archive (or directory read as
/// one), with `label` as the source (e.g. `gettext 0.23.1`); returns how many were added.
/// The archive is read once: the copied files' bytes are kept as they go by.
pub fn import_archive(corpus: &mut Corpus, path: &Path, label: &str) -> Result<usize> {
    let mut keep = CopiedFiles::default();
    read_path_observed(path, &mut keep)?;
    for (name, member, bytes) in &keep.files {
        corpus.add(name, bytes, &format!("{label} {member}"));
    }
    Ok(keep.files.len())
}

/// Collects (file name, member path, bytes) of the copied files of an archive.
#[derive(Default)]
struct CopiedFiles {
    /// The member being read, if it is a copied file: its name and displayed path.
    current: Option<(String, String)>,
    /// Its bytes so far; dropped past [`MAX_IMPORT`].
    bytes: Vec<u8>,
    files: Vec<(String, String, Vec<u8>)>,
}

impl ContentObserver for CopiedFiles {
    fn begin(&mut self, member: &Member) {
        let name = basename(&member.path);
        self.current = is_copied_name(&name).then(|| (name, member.display_path()));
        self.bytes.clear();
    }

    fn content(&mut self, bytes: &[u8]) {
        if self.current.is_none() {
            return;
        }
        if (self.bytes.len() + bytes.len()) as u64 > MAX_IMPORT {
            self.current = None;
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(bytes);
        }
    }

    fn done(&mut self, _member: &Member) {
        if let Some((name, path)) = self.current.take() {
            self.files
                .push((name, path, std::mem::take(&mut self.bytes)));
        }
    }
}

/// Imports the `.m4` files and known helper scripts directly in `dir` (not recursive:
/// aclocal directories are flat), with `label` as the source.
pub fn import_dir(corpus: &mut Corpus, dir: &Path, label: &str) -> Result<usize> {
    let mut count = 0;
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = std::fs::metadata(&p).map_err(io(&p))?;
        if !meta.is_file() || meta.len() > MAX_IMPORT || !is_copied_name(&name) {
            continue;
        }
        let bytes = std::fs::read(&p).map_err(io(&p))?;
        corpus.add(&name, &bytes, &format!("{label} {}", p.display()));
        count += 1;
    }
    Ok(count)
}
