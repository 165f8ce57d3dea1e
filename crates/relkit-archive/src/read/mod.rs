//! Archive readers: turn a directory, `.tar`, `.tar.gz`/`.tgz`, `.tar.xz`, `.tar.bz2`,
//! `.tar.zst` or `.zip` into one uniform list of [`Member`]s plus container-level facts
//! ([`Container`]).
//!
//! The format is detected from the magic bytes, never from the file name. Content is
//! streamed: each member is hashed (SHA-256, plus one CRC-32 per 8 KiB chunk so the diff
//! engine can later locate the first differing byte) while it is read, and nothing but the
//! metadata is kept, so memory does not grow with member sizes. The diff engine re-reads the
//! few byte ranges it needs with [`fetch_ranges`]; a caller that can tell which members it
//! needs as they go by sees their bytes during the one read ([`read_path_observed`]).
//!
//! Safety: a member path that is absolute or has a `..` component is refused with
//! [`Error::UnsafePath`] naming the member (nothing is ever extracted, but such an archive
//! is hostile and `relkit diff` says so). Directories are walked without following symlinks,
//! so a symlink loop is recorded as symlinks and cannot hang the walk.

mod decompress;
mod dir;
mod error;
mod gzip;
mod tar;
pub(crate) mod util;
mod xz;
mod zip;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use serde::Serialize;

pub use decompress::{Compression, DecompressError, decompress, decompress_auto};
pub use error::Error;
pub use gzip::{GzipInfo, GzipReader};
pub use xz::{XZ_MEMORY_LIMIT, XzInfo};
pub use zip::ZipInfo;

/// Size of the chunks whose CRC-32 is recorded per member ([`Member::chunk_crcs`]).
pub const CHUNK_SIZE: u64 = 8192;

/// The container format of one side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// A directory on disk.
    #[serde(rename = "directory")]
    Directory,
    /// An uncompressed tar archive.
    #[serde(rename = "tar")]
    Tar,
    /// A gzip-compressed tar archive.
    #[serde(rename = "tar.gz")]
    TarGz,
    /// An xz-compressed tar archive.
    #[serde(rename = "tar.xz")]
    TarXz,
    /// A bzip2-compressed tar archive.
    #[serde(rename = "tar.bz2")]
    TarBz2,
    /// A zstd-compressed tar archive.
    #[serde(rename = "tar.zst")]
    TarZst,
    /// A zip archive.
    #[serde(rename = "zip")]
    Zip,
}

impl Format {
    /// The name used in reports (`directory`, `tar`, `tar.gz`, `tar.xz`, `tar.bz2`,
    /// `tar.zst`, `zip`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Directory => "directory",
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::TarXz => "tar.xz",
            Format::TarBz2 => "tar.bz2",
            Format::TarZst => "tar.zst",
            Format::Zip => "zip",
        }
    }

    /// Whether the members are stored as a tar stream (possibly compressed).
    pub fn is_tar(self) -> bool {
        matches!(
            self,
            Format::Tar | Format::TarGz | Format::TarXz | Format::TarBz2 | Format::TarZst
        )
    }
}

/// What kind of filesystem object a member is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link ([`Member::link_target`] holds the target).
    Symlink,
    /// A tar hard link to an earlier member ([`Member::link_target`] names it).
    Hardlink,
    /// Anything else (device, FIFO, socket); the string says which.
    Other(String),
}

impl MemberKind {
    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            MemberKind::File => "file".into(),
            MemberKind::Dir => "dir".into(),
            MemberKind::Symlink => "symlink".into(),
            MemberKind::Hardlink => "hardlink".into(),
            MemberKind::Other(s) => s.clone(),
        }
    }
}

/// One member of an archive or directory, format-independent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Normalized path bytes: `/`-separated, no `.` components, no trailing `/`.
    pub path: Vec<u8>,
    /// The kind of object.
    pub kind: MemberKind,
    /// Permission bits (`0o7777` mask), when the format records them.
    pub mode: Option<u32>,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Numeric owner, when recorded.
    pub uid: Option<u64>,
    /// Numeric group, when recorded.
    pub gid: Option<u64>,
    /// Owner name bytes, when recorded.
    pub uname: Option<Vec<u8>>,
    /// Group name bytes, when recorded.
    pub gname: Option<Vec<u8>>,
    /// Content size in bytes (0 for non-files).
    pub size: u64,
    /// SHA-256 of the content, for regular files.
    pub sha256: Option<[u8; 32]>,
    /// CRC-32 of each [`CHUNK_SIZE`] chunk of the content, for regular files.
    pub chunk_crcs: Vec<u32>,
    /// Link target bytes for symlinks and hard links.
    pub link_target: Option<Vec<u8>>,
    /// Index of the member in archive order (directories: sorted by name).
    pub position: usize,
    /// Raw format-specific details compared only between archives of the same family,
    /// e.g. `tar.format`, `tar.pax.mtime`, `zip.central_extra`, `zip.method`.
    pub details: BTreeMap<String, String>,
}

impl Member {
    /// A fresh member with the given path and kind and empty metadata.
    pub(crate) fn new(path: Vec<u8>, kind: MemberKind) -> Self {
        Member {
            path,
            kind,
            mode: None,
            mtime: 0,
            uid: None,
            gid: None,
            uname: None,
            gname: None,
            size: 0,
            sha256: None,
            chunk_crcs: Vec::new(),
            link_target: None,
            position: 0,
            details: BTreeMap::new(),
        }
    }

    /// The path for display: UTF-8 as is, invalid bytes as `\xNN`.
    pub fn display_path(&self) -> String {
        util::escape_bytes(&self.path)
    }
}

/// Container-level facts about one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    /// The detected format.
    pub format: Format,
    /// Size of the archive file in bytes (absent for directories).
    pub size: Option<u64>,
    /// SHA-256 of the archive file bytes (absent for directories).
    pub sha256: Option<String>,
    /// Size of the uncompressed tar stream (tar family only).
    pub tar_size: Option<u64>,
    /// SHA-256 of the uncompressed tar stream (tar family only).
    pub tar_sha256: Option<String>,
    /// PAX global header records (`key=value`), tar family only.
    pub pax_global: Vec<String>,
    /// The gzip header of a `.tar.gz`.
    pub gzip: Option<GzipInfo>,
    /// The xz stream facts of a `.tar.xz`.
    pub xz: Option<XzInfo>,
    /// The zip archive facts of a `.zip`.
    pub zip: Option<ZipInfo>,
}

impl Container {
    fn new(format: Format) -> Self {
        Container {
            format,
            size: None,
            sha256: None,
            tar_size: None,
            tar_sha256: None,
            pax_global: Vec::new(),
            gzip: None,
            xz: None,
            zip: None,
        }
    }
}

/// A fully read archive or directory: container facts and members in order.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The label used in errors and reports (the path as given).
    pub label: String,
    /// Container-level facts.
    pub container: Container,
    /// Members in archive order.
    pub members: Vec<Member>,
}

/// Whether a walk continues after a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next member.
    Continue,
    /// Stop reading: everything wanted has been seen.
    Stop,
}

/// Receives each member and a reader over its content during a [`walk_path`]: the one
/// streaming reader of relkit for every format (directories, tar, .tar.gz/.xz/.bz2/.zst, zip,
/// detected by magic), with its safety checks (unsafe paths, decompression limits) applied
/// before a member reaches the visitor.
///
/// The visitor decides per member whether to read its bytes: content not read is skipped
/// (for compressed streams, decompressed and discarded); a member's content reader yields
/// exactly the size its header declares, or fails. A file member's [`Member::size`] is that
/// declared size (a directory file's length when it was listed); [`Member::sha256`] and
/// [`Member::chunk_crcs`] are left empty for a visitor — hash what you read, or use
/// [`read_path`] / [`read_path_observed`], which hash every file.
pub trait Visit {
    /// Handles one member; `content` yields its bytes (empty for non-files).
    fn visit(&mut self, member: Member, content: &mut dyn Read) -> std::io::Result<Flow>;
}

/// Reads an archive file or a directory.
pub fn read_path(path: &Path) -> Result<Archive, Error> {
    let mut collector = Collector::default();
    let container = walk_path_hashing(path, &mut collector, true)?;
    Ok(Archive {
        label: path.display().to_string(),
        container,
        members: collector.finish(),
    })
}

/// Sees the bytes of every file member while [`read_path_observed`] hashes them, so a caller
/// that needs some members' content reads the archive once instead of twice.
pub trait ContentObserver {
    /// A file member starts (path and metadata; its size and hash come with `done`).
    fn begin(&mut self, member: &Member);
    /// The next bytes of the member begun last.
    fn content(&mut self, bytes: &[u8]);
    /// The member begun last is complete: `member` carries its size and SHA-256.
    fn done(&mut self, member: &Member);
}

/// [`read_path`], showing each file member's content to `observer` as it is hashed.
pub fn read_path_observed(
    path: &Path,
    observer: &mut dyn ContentObserver,
) -> Result<Archive, Error> {
    let mut collector = Collector {
        members: Vec::new(),
        observer: Some(observer),
    };
    let container = walk_path_hashing(path, &mut collector, true)?;
    Ok(Archive {
        label: path.display().to_string(),
        container,
        members: collector.finish(),
    })
}

/// Reads an archive from any seekable reader; the format is detected from magic bytes.
pub fn read_reader<R: Read + Seek>(reader: R, label: &str) -> Result<Archive, Error> {
    let mut collector = Collector::default();
    let container = walk_reader(reader, label, None, &mut collector, true)?;
    Ok(Archive {
        label: label.to_string(),
        container,
        members: collector.finish(),
    })
}

/// Reads an archive from any seekable reader as the given format (no detection).
pub fn read_reader_as<R: Read + Seek>(
    reader: R,
    label: &str,
    format: Format,
) -> Result<Archive, Error> {
    let mut collector = Collector::default();
    let container = walk_reader(reader, label, Some(format), &mut collector, true)?;
    Ok(Archive {
        label: label.to_string(),
        container,
        members: collector.finish(),
    })
}

/// Reads an archive held in memory (used by the fuzz targets); labelled `<memory>`.
pub fn read_archive_bytes(data: &[u8]) -> Result<Archive, Error> {
    read_reader(Cursor::new(data), "<memory>")
}

/// Re-reads `path` and returns, for each wanted member position, the bytes in the given
/// range of its content (clipped to the content's end).
pub fn fetch_ranges(
    path: &Path,
    wanted: &BTreeMap<usize, Range<u64>>,
) -> Result<BTreeMap<usize, Vec<u8>>, Error> {
    let mut fetcher = Fetcher {
        wanted,
        got: BTreeMap::new(),
        position: 0,
    };
    if !wanted.is_empty() {
        walk_path(path, &mut fetcher)?;
    }
    Ok(fetcher.got)
}

/// Walks an archive file or a directory member by member, in archive order (directories:
/// sorted by name), handing each to `visitor` (see [`Visit`]); returns the container facts.
pub fn walk_path(path: &Path, visitor: &mut dyn Visit) -> Result<Container, Error> {
    walk_path_hashing(path, visitor, false)
}

/// [`walk_path`]; with `hashes`, the container's SHA-256 (of the file and of the tar stream)
/// too, as [`read_path`] reports them. A visitor that needs neither saves a pass over the
/// bytes.
fn walk_path_hashing(
    path: &Path,
    visitor: &mut dyn Visit,
    hashes: bool,
) -> Result<Container, Error> {
    let label = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: label.clone(),
        source,
    })?;
    if meta.is_dir() {
        dir::walk(path, visitor)?;
        return Ok(Container::new(Format::Directory));
    }
    let file = File::open(path).map_err(|source| Error::Io {
        path: label.clone(),
        source,
    })?;
    walk_reader(file, &label, None, visitor, hashes)
}

/// Detects the format of `reader` (unless given) and walks its members.
fn walk_reader<R: Read + Seek>(
    mut reader: R,
    label: &str,
    format: Option<Format>,
    visitor: &mut dyn Visit,
    hashes: bool,
) -> Result<Container, Error> {
    let io_err = |source| Error::Io {
        path: label.to_string(),
        source,
    };
    let (size, sha256) = if hashes {
        let (size, sha256) = util::hash_whole(&mut reader).map_err(io_err)?;
        (size, Some(sha256))
    } else {
        (reader.seek(SeekFrom::End(0)).map_err(io_err)?, None)
    };
    reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let mut head = Vec::with_capacity(512);
    reader
        .by_ref()
        .take(512)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let format = match format {
        Some(f) => f,
        None => detect(&head).ok_or_else(|| Error::UnknownFormat {
            archive: label.to_string(),
            magic: util::hex(&head[..head.len().min(8)]),
        })?,
    };
    let mut container = Container::new(format);
    container.size = Some(size);
    container.sha256 = sha256;
    match format {
        Format::Directory => {
            return Err(Error::UnknownFormat {
                archive: label.to_string(),
                magic: "(a directory cannot be read from a byte stream)".into(),
            });
        }
        Format::Tar => {
            let (info, _) = tar::walk(BufReader::new(reader), label, "tar", visitor, hashes)?;
            info.apply(&mut container);
        }
        Format::TarGz => {
            let gz = GzipReader::new(BufReader::new(reader));
            let (info, gz) = tar::walk(gz, label, "tar.gz", visitor, hashes)?;
            info.apply(&mut container);
            container.gzip = gz.info();
        }
        Format::TarXz => {
            container.xz = Some(xz::info(&mut reader, &head).map_err(io_err)?);
            let checks = xz::sha256_checks(&mut reader, &head).map_err(io_err)?;
            reader.seek(SeekFrom::Start(0)).map_err(io_err)?;
            let dec = xz::decoder(BufReader::new(reader), checks).map_err(io_err)?;
            let (info, _) = tar::walk(dec, label, "tar.xz", visitor, hashes)?;
            info.apply(&mut container);
        }
        Format::TarBz2 => {
            // Concatenated streams (pbzip2, `cat a.bz2 b.bz2`) read as one, as bzip2 -d does;
            // each block's CRC is checked by the decoder.
            let dec = bzip2::bufread::MultiBzDecoder::new(BufReader::new(reader));
            let (info, _) = tar::walk(dec, label, "tar.bz2", visitor, hashes)?;
            info.apply(&mut container);
        }
        Format::TarZst => {
            let mut dec = zstd::stream::read::Decoder::new(reader).map_err(io_err)?;
            // zstd's own default limit (128 MiB windows, `--long=27`): a forged frame header
            // asking for a 2 GiB window is refused instead of allocated.
            dec.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(io_err)?;
            let (info, _) = tar::walk(dec, label, "tar.zst", visitor, hashes)?;
            info.apply(&mut container);
        }
        Format::Zip => {
            container.zip = Some(zip::walk(reader, label, visitor)?);
        }
    }
    Ok(container)
}

/// Largest zstd window accepted (log2): 128 MiB, zstd's own default limit.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Recognizes gzip, xz, bzip2, zstd, zip and tar from the first (up to) 512 bytes.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::TarGz)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Format::TarXz)
    } else if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        Some(Format::TarBz2)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::TarZst)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if head.len() == 512 && (head.get(257..262) == Some(b"ustar") || tar_checksum_ok(head)) {
        Some(Format::Tar)
    } else if head.len() == 512 && head.iter().all(|&b| b == 0) {
        // An empty tar archive is nothing but zero blocks.
        Some(Format::Tar)
    } else {
        None
    }
}

/// Whether a 512-byte block is a tar header with a valid checksum (old v7 archives).
fn tar_checksum_ok(block: &[u8]) -> bool {
    let field = &block[148..156];
    let text: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let Ok(stored) = u32::from_str_radix(text.trim(), 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    sum == stored && block[0] != 0
}

/// Pass-1 visitor: hashes every member's content and keeps the metadata.
#[derive(Default)]
struct Collector<'o> {
    members: Vec<Member>,
    observer: Option<&'o mut dyn ContentObserver>,
}

impl Collector<'_> {
    fn finish(self) -> Vec<Member> {
        self.members
    }
}

impl Visit for Collector<'_> {
    fn visit(&mut self, mut member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        member.position = self.members.len();
        if member.kind == MemberKind::File {
            let digest = match self.observer.as_deref_mut() {
                Some(observer) => {
                    observer.begin(&member);
                    util::hash_content_tee(content, &mut |bytes| observer.content(bytes))?
                }
                None => util::hash_content(content)?,
            };
            member.size = digest.size;
            member.sha256 = Some(digest.sha256);
            member.chunk_crcs = digest.chunk_crcs;
            if let Some(observer) = self.observer.as_deref_mut() {
                observer.done(&member);
            }
        }
        self.members.push(member);
        Ok(Flow::Continue)
    }
}

/// Pass-2 visitor: copies the wanted byte ranges of the wanted members.
struct Fetcher<'a> {
    wanted: &'a BTreeMap<usize, Range<u64>>,
    got: BTreeMap<usize, Vec<u8>>,
    position: usize,
}

impl Visit for Fetcher<'_> {
    fn visit(&mut self, _member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        let position = self.position;
        self.position += 1;
        if let Some(range) = self.wanted.get(&position) {
            std::io::copy(&mut content.take(range.start), &mut std::io::sink())?;
            let mut buf = Vec::new();
            content
                .take(range.end.saturating_sub(range.start))
                .read_to_end(&mut buf)?;
            self.got.insert(position, buf);
            if self.got.len() == self.wanted.len() {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }
}

/// [`walk_path`] over an archive held in memory (e.g. a wheel read out of a source tarball):
/// the format is detected by magic and the same safety checks apply; `label` names the
/// archive in errors.
pub fn walk_bytes(data: &[u8], label: &str, visitor: &mut dyn Visit) -> Result<Container, Error> {
    walk_reader(Cursor::new(data), label, None, visitor, false)
}
