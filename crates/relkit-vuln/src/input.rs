//! Walking import inputs one document at a time: files, directory trees, `.gz`/`.xz`
//! compressed files, zip archives and tar / tar.gz / tar.xz exports. Each document is handed
//! to a callback with its origin (`export.tar.xz!vulns/pip/PYSEC-2023-228.yaml`), so memory
//! holds one document at a time.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// How a document's bytes are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// JSON (NVD or OSV).
    Json,
    /// YAML (OSV as in pypa/advisory-database).
    Yaml,
    /// Markdown: RustSec's native advisory format.
    Markdown,
}

/// A failure to read an input (not a bad record: those are reported by the importer).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path or archive member.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A zip archive could not be read.
    #[error("{path}: not a readable zip archive: {source}")]
    Zip {
        /// The archive.
        path: String,
        /// The cause.
        source: zip::result::ZipError,
    },
    /// The callback asked to stop.
    #[error("{0}")]
    Stopped(String),
}

/// The per-document callback: `(origin, kind, bytes)`; `Err(message)` stops the walk.
pub type Sink<'a> = dyn FnMut(&str, DocKind, Vec<u8>) -> Result<(), String> + 'a;

/// The document kind of a file name, after removing `.gz` / `.xz`; `None` to skip.
pub fn kind_of(name: &str) -> Option<DocKind> {
    let lower = name.to_ascii_lowercase();
    let base = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".xz"))
        .unwrap_or(&lower);
    let file = base.rsplit('/').next().unwrap_or(base);
    if file.starts_with('.') {
        return None;
    }
    if base.ends_with(".json") {
        Some(DocKind::Json)
    } else if base.ends_with(".yaml") || base.ends_with(".yml") {
        Some(DocKind::Yaml)
    } else if base.ends_with(".md") && !file.starts_with("readme") {
        Some(DocKind::Markdown)
    } else {
        None
    }
}

fn is_archive(lower: &str) -> bool {
    lower.ends_with(".zip")
        || lower.ends_with(".tar")
        || lower.ends_with(".tar.gz")
        || lower.ends_with(".tgz")
        || lower.ends_with(".tar.xz")
        || lower.ends_with(".txz")
}

/// Calls `f(origin, kind, bytes)` for every document under `path` in a stable order.
/// The callback returns `Err(message)` to stop the walk.
pub fn walk(path: &Path, f: &mut Sink) -> Result<(), InputError> {
    let io = |p: &Path, source| InputError::Io {
        path: p.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if meta.is_dir() {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| {
                let p = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                InputError::Io {
                    path: p,
                    source: e.into(),
                }
            })?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
        for file in files {
            let name = file.to_string_lossy().to_ascii_lowercase();
            if is_archive(&name) || kind_of(&name).is_some() {
                walk_file(&file, f)?;
            }
        }
        Ok(())
    } else {
        walk_file(path, f)
    }
}

fn walk_file(path: &Path, f: &mut Sink) -> Result<(), InputError> {
    let origin = path.display().to_string();
    let io = |source| InputError::Io {
        path: origin.clone(),
        source,
    };
    let lower = origin.to_ascii_lowercase();
    let file = File::open(path).map_err(io)?;
    let reader = BufReader::new(file);
    if lower.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(reader).map_err(|source| InputError::Zip {
            path: origin.clone(),
            source,
        })?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|source| InputError::Zip {
                path: origin.clone(),
                source,
            })?;
            if !entry.is_file() {
                continue;
            }
            let name = entry
                .name()
                .map_err(|source| InputError::Zip {
                    path: origin.clone(),
                    source,
                })?
                .to_string();
            let Some(kind) = kind_of(&name) else { continue };
            let member = format!("{origin}!{name}");
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|source| InputError::Io {
                    path: member.clone(),
                    source,
                })?;
            emit(&member, &name, kind, bytes, f)?;
        }
        return Ok(());
    }
    if lower.ends_with(".tar") {
        return walk_tar(&origin, reader, f);
    }
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        return walk_tar(&origin, flate2::read::GzDecoder::new(reader), f);
    }
    if lower.ends_with(".tar.xz") || lower.ends_with(".txz") {
        return walk_tar(&origin, liblzma::read::XzDecoder::new(reader), f);
    }
    let Some(kind) = kind_of(&lower) else {
        return Err(InputError::Io {
            path: origin,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a .json, .yaml, .md (RustSec), .gz/.xz of those, .zip or .tar[.gz|.xz] input",
            ),
        });
    };
    let mut bytes = Vec::new();
    let mut r: Box<dyn Read> = Box::new(reader);
    r.read_to_end(&mut bytes).map_err(io)?;
    emit(&origin, &lower, kind, bytes, f)
}

fn walk_tar(origin: &str, reader: impl Read, f: &mut Sink) -> Result<(), InputError> {
    let io = |path: String, source| InputError::Io { path, source };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(|e| io(origin.to_string(), e))? {
        let mut entry = entry.map_err(|e| io(origin.to_string(), e))?;
        // GNU tar writes large mostly-empty files as sparse members: still files.
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_gnu_sparse() || kind == tar::EntryType::Continuous) {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| io(origin.to_string(), e))?
            .to_string_lossy()
            .into_owned();
        let Some(kind) = kind_of(&name) else { continue };
        let member = format!("{origin}!{name}");
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| io(member.clone(), e))?;
        emit(&member, &name, kind, bytes, f)?;
    }
    Ok(())
}

/// Decompresses `.gz` / `.xz` members before handing them on.
fn emit(
    origin: &str,
    name: &str,
    kind: DocKind,
    bytes: Vec<u8>,
    f: &mut Sink,
) -> Result<(), InputError> {
    let lower = name.to_ascii_lowercase();
    let bytes = if lower.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|source| InputError::Io {
                path: origin.to_string(),
                source,
            })?;
        out
    } else if lower.ends_with(".xz") {
        let mut out = Vec::new();
        liblzma::read::XzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|source| InputError::Io {
                path: origin.to_string(),
                source,
            })?;
        out
    } else {
        bytes
    };
    f(origin, kind, bytes).map_err(InputError::Stopped)
}
