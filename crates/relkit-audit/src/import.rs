//! Filling a [`Corpus`]: from the gnulib m4 corpus (an index `gnulib-m4.jsonl.xz` plus
//! `gnulib-m4-blobs.tar.xz` holding every blob named by its SHA-256), from upstream release
//! tarballs (gettext, libtool, automake…: every `.m4` file and known helper script in
//! them), and from directories of installed macros such as `/usr/share/aclocal`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use relkit_archive::read::{ContentObserver, Member, read_path_observed};
use serde::Deserialize;

use crate::corpus::{Corpus, is_copied_name, sha256_hex};
use crate::error::{Error, Result, io};

/// Largest file imported (helper scripts and macros are far smaller).
const MAX_IMPORT: u64 = 4 << 20;

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
    let file = std::fs::File::open(&index_path).map_err(io(&index_path))?;
    let reader = BufReader::new(liblzma::read::XzDecoder::new(BufReader::new(file)));
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
    let file = std::fs::File::open(&blobs_path).map_err(io(&blobs_path))?;
    let mut tar = tar::Archive::new(liblzma::read::XzDecoder::new(BufReader::new(file)));
    let entries = tar
        .entries()
        .map_err(|e| corrupt(&blobs_path, "start".into(), e.to_string()))?;
    let mut count = 0;
    let mut buf = Vec::new();
    for entry in entries {
        let mut entry = entry
            .map_err(|e| corrupt(&blobs_path, format!("after {count} blobs"), e.to_string()))?;
        let name = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&name)
            .trim_end_matches('/')
            .to_string();
        buf.clear();
        entry
            .read_to_end(&mut buf)
            .map_err(|e| corrupt(&blobs_path, format!("member {name}"), e.to_string()))?;
        let Some(uses) = wanted.get(&name) else {
            continue;
        };
        let got = sha256_hex(&buf);
        if got != name {
            return Err(corrupt(
                &blobs_path,
                format!("member {name}"),
                format!("content has SHA-256 {got}"),
            ));
        }
        for (file, source) in uses {
            corpus.add(file, &buf, source);
            count += 1;
        }
    }
    Ok(count)
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
