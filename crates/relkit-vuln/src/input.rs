//! Walking import inputs one document at a time: files, directory trees, `.gz`/`.xz`
//! compressed files, and zip / tar / .tar.gz / .tar.xz / .tar.bz2 / .tar.zst exports (read by
//! relkit-archive). Each document is handed
//! to a callback with its origin (`export.tar.xz!vulns/pip/PYSEC-2023-228.yaml`), so memory
//! holds one document at a time.

use std::io::Read;
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
        #[source]
        source: std::io::Error,
    },
    /// An archive could not be read (relkit-archive's reader said why).
    #[error("{path}: not a readable archive: {source}")]
    Archive {
        /// The archive.
        path: String,
        /// The cause.
        #[source]
        source: Box<relkit_archive::read::Error>,
    },
    /// A `.gz` / `.xz` document could not be decompressed.
    #[error("{path}: {source}")]
    Decompress {
        /// The document (a file, or `archive!member`).
        path: String,
        /// The cause.
        #[source]
        source: Box<relkit_archive::read::DecompressError>,
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
    [
        ".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tar.zst",
        ".tzst",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
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
    if let Some(kind) = kind_of(&lower) {
        // One document, perhaps `.gz`/`.xz`-compressed on its own.
        let bytes = std::fs::read(path).map_err(io)?;
        return emit(&origin, &lower, kind, bytes, f);
    }
    if !is_archive(&lower) {
        return Err(InputError::Io {
            path: origin,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a .json, .yaml, .md (RustSec), .gz/.xz of those, .zip or .tar[.gz|.xz|.bz2|.zst] input",
            ),
        });
    }
    // Archives go through relkit-archive's one streaming reader (format by magic, its safety
    // checks); only the members that are documents are read.
    let mut docs = Documents {
        origin: &origin,
        sink: f,
        failed: None,
    };
    let walked = relkit_archive::read::walk_path(path, &mut docs);
    if let Some(e) = docs.failed {
        return Err(e);
    }
    walked.map_err(|source| InputError::Archive {
        path: origin.clone(),
        source: Box::new(source),
    })?;
    Ok(())
}

/// Hands each document member of an archive to the sink.
struct Documents<'a, 'f> {
    origin: &'a str,
    sink: &'a mut Sink<'f>,
    /// Why the walk was stopped (the sink refused, or a member could not be decompressed).
    failed: Option<InputError>,
}

impl relkit_archive::read::Visit for Documents<'_, '_> {
    fn visit(
        &mut self,
        member: relkit_archive::read::Member,
        content: &mut dyn Read,
    ) -> std::io::Result<relkit_archive::read::Flow> {
        use relkit_archive::read::Flow;
        if member.kind != relkit_archive::read::MemberKind::File {
            return Ok(Flow::Continue);
        }
        let name = String::from_utf8_lossy(&member.path).into_owned();
        let Some(kind) = kind_of(&name) else {
            return Ok(Flow::Continue);
        };
        let origin = format!("{}!{name}", self.origin);
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes)?;
        match emit(&origin, &name, kind, bytes, self.sink) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) => {
                self.failed = Some(e);
                Ok(Flow::Stop)
            }
        }
    }
}

/// Largest decompressed document accepted: NVD's yearly JSON feeds are a few hundred MB.
const DOCUMENT_LIMIT: u64 = 4 << 30;

/// Decompresses `.gz` / `.xz` documents (through relkit-archive, format checked by magic)
/// before handing them on; a document named `.gz` that is not gzip is an error, not text.
fn emit(
    origin: &str,
    name: &str,
    kind: DocKind,
    bytes: Vec<u8>,
    f: &mut Sink,
) -> Result<(), InputError> {
    use relkit_archive::read::{Compression, decompress};
    let lower = name.to_ascii_lowercase();
    let expected = if lower.ends_with(".gz") {
        Some(Compression::Gzip)
    } else if lower.ends_with(".xz") {
        Some(Compression::Xz)
    } else {
        None
    };
    let bytes = match expected {
        None => bytes,
        Some(format) => {
            decompress(format, &bytes, DOCUMENT_LIMIT).map_err(|source| InputError::Decompress {
                path: origin.to_string(),
                source: Box::new(source),
            })?
        }
    };
    f(origin, kind, bytes).map_err(InputError::Stopped)
}
