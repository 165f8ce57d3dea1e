//! Streaming enumeration and hashing of a directory tree or a source archive
//! (.tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip): every regular file gets SHA-1 and SHA-256.
//!
//! Archives are read once, sequentially, never unpacked to disk; hashing runs on a second
//! thread (and on a rayon pool for directories) so decompression and hashing overlap.
//! Members with absolute paths or `..` components, non-UTF-8 names and zip entries with an
//! absurd compression ratio are refused.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

use rayon::prelude::*;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Members larger than this are hashed inline by the reader instead of being queued.
const QUEUE_LIMIT: usize = 8 << 20;
/// Files kept in memory for later parsing (in-tree SBOM, wheels) may not exceed this.
const KEEP_LIMIT: u64 = 512 << 20;

/// One hashed regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// Path relative to the tree root, `/`-separated.
    pub path: String,
    /// Lowercase hex SHA-1.
    pub sha1: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A regular file listed without its content hashed (a directory walked with
/// [`Hashing::NativeOnly`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Path relative to the tree root, `/`-separated.
    pub path: String,
    /// Size in bytes (from the file system).
    pub size: u64,
}

/// What a directory walk reads of each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// Every file is read and hashed (SHA-1 and SHA-256): the file inventory.
    All,
    /// Only the native binaries (by their first bytes) and the kept files are read; the others
    /// are listed by path and size ([`Tree::listed`]). For an SBOM that leaves the file
    /// inventory out, where reading every `.py` file of an environment would be most of the work.
    NativeOnly,
}

/// The hashed content of a tree plus the bytes of the few files the caller asked to keep.
#[derive(Debug, Default)]
pub struct Tree {
    /// All regular files, hashed, sorted by path (none for a directory walked with
    /// [`Hashing::NativeOnly`]: see [`Tree::listed`]).
    pub files: Vec<HashedFile>,
    /// The regular files of a directory walked with [`Hashing::NativeOnly`], not hashed,
    /// sorted by path.
    pub listed: Vec<ListedFile>,
    /// Kept file contents by relative path.
    pub kept: BTreeMap<String, Vec<u8>>,
    /// The newest member modification time (RFC 3339 UTC), the fallback creation time of a
    /// document about this tree when neither `SOURCE_DATE_EPOCH` nor a commit time is known.
    pub newest_mtime: Option<String>,
    /// The single top directory of an archive (`NAME-VERSION`) that the paths were made
    /// relative to, when there was one.
    pub root: Option<String>,
    /// The Go executables of the tree (ELF, PE, Mach-O with Go build info, found by their
    /// bytes, not their names), each read as a catalog by relkit-catalog; sorted by path.
    pub go: Vec<relkit_catalog::Catalog>,
    /// The executables that may be Go binaries but could not be read (UPX-packed, damaged,
    /// too large to read whole), each error naming its file.
    pub go_errors: Vec<relkit_catalog::Error>,
    /// The native binaries (PE, ELF, Mach-O) in which the binary rules found a library (or
    /// said why a rule gave no version), read during the walk; sorted by path.
    pub libraries: Vec<crate::binary::FileScan>,
    /// The native binaries the binary rules could not read (a malformed file with a binary's
    /// magic), one sentence each naming the file.
    pub library_errors: Vec<String>,
}

/// What the walk learns from a native binary whose bytes are all here: its Go build
/// information, and the libraries the binary rules find in it.
fn go_of(path: &str, bytes: &[u8], found: &mut GoFound) {
    if !relkit_catalog::looks_executable(bytes) {
        return;
    }
    match relkit_catalog::go_build_info(path, bytes) {
        Ok(Some(c)) => found.go.push(c),
        Ok(None) => {}
        Err(e) => found.go_errors.push(e),
    }
    match crate::binary::scan_libraries(path, bytes) {
        Ok(scan) if !scan.hits.is_empty() || !scan.notes.is_empty() => found.libraries.push(scan),
        Ok(_) => {}
        Err(e) => found.library_errors.push(e.to_string()),
    }
}

/// What the walk found in native binaries so far (see [`go_of`]).
#[derive(Default)]
struct GoFound {
    go: Vec<relkit_catalog::Catalog>,
    go_errors: Vec<relkit_catalog::Error>,
    libraries: Vec<crate::binary::FileScan>,
    library_errors: Vec<String>,
}

impl GoFound {
    fn append(&mut self, other: GoFound) {
        self.go.extend(other.go);
        self.go_errors.extend(other.go_errors);
        self.libraries.extend(other.libraries);
        self.library_errors.extend(other.library_errors);
    }

    /// Moves everything into the tree.
    fn into_tree(self, tree: &mut Tree) {
        tree.go.extend(self.go);
        tree.go_errors.extend(self.go_errors);
        tree.libraries.extend(self.libraries);
        tree.library_errors.extend(self.library_errors);
    }
}

/// The error for an executable too large to read whole.
fn too_large_for_build_info(path: &str) -> relkit_catalog::Error {
    relkit_catalog::Error::Invalid {
        file: path.to_string(),
        place: "executable".into(),
        problem: format!(
            "larger than {KEEP_LIMIT} bytes: not read whole, so its Go build info (if any) is not cataloged"
        ),
    }
}

/// Keeps the later of two RFC 3339 UTC timestamps (same fixed-width form, so the string order
/// is the time order).
pub(crate) fn keep_newest(slot: &mut Option<String>, t: String) {
    if slot.as_ref().is_none_or(|s| *s < t) {
        *slot = Some(t);
    }
}

/// A file time as RFC 3339 UTC (whole seconds).
pub(crate) fn rfc3339_of(t: std::time::SystemTime) -> String {
    let secs = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    crate::model::rfc3339_from_epoch(secs)
}

/// Archive kinds recognized from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// Uncompressed tar.
    Tar,
    /// gzip-compressed tar.
    TarGz,
    /// xz-compressed tar.
    TarXz,
    /// bzip2-compressed tar.
    TarBz2,
    /// zstd-compressed tar.
    TarZst,
    /// Zip (also wheels).
    Zip,
}

/// File name suffixes of the archives [`kind_of`] reads, stripped to name a release.
pub const ARCHIVE_SUFFIXES: [&str; 11] = [
    ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2", ".tbz", ".tar.zst", ".tzst", ".tar",
    ".zip",
];

impl Kind {
    /// Whether this is a tar archive (compressed or not).
    pub fn is_tar(self) -> bool {
        matches!(
            self,
            Kind::Tar | Kind::TarGz | Kind::TarXz | Kind::TarBz2 | Kind::TarZst
        )
    }
}

/// Classifies `path` as a directory or a supported archive.
pub fn kind_of(path: &Path) -> Result<Kind> {
    if path.is_dir() {
        return Ok(Kind::Dir);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let kind = if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Kind::TarGz
    } else if name.ends_with(".tar.xz") || name.ends_with(".txz") {
        Kind::TarXz
    } else if name.ends_with(".tar.bz2") || name.ends_with(".tbz2") || name.ends_with(".tbz") {
        Kind::TarBz2
    } else if name.ends_with(".tar.zst") || name.ends_with(".tzst") {
        Kind::TarZst
    } else if name.ends_with(".tar") {
        Kind::Tar
    } else if name.ends_with(".zip") || name.ends_with(".whl") {
        Kind::Zip
    } else if path.exists() {
        return Err(Error::Archive {
            origin: path.display().to_string(),
            message: "not a directory and not a .tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip or .whl archive"
                .into(),
        });
    } else {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        ));
    };
    Ok(kind)
}

/// Hashes every file of a directory or archive. `keep` selects relative paths whose bytes are
/// returned too; `progress` receives byte counts as they are hashed.
pub fn scan(
    path: &Path,
    keep: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tree> {
    scan_excluding(path, keep, &|_| false, progress)
}

/// [`scan`], leaving out the files (and the directories, with everything below them) whose
/// relative path `exclude` selects (for an archive: with or without its `NAME-VERSION/` root),
/// as `syft --exclude` does: they are not hashed, not listed and not cataloged.
pub fn scan_excluding(
    path: &Path,
    keep: &(dyn Fn(&str) -> bool + Sync),
    exclude: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tree> {
    scan_with(path, Hashing::All, keep, exclude, progress)
}

/// [`scan_excluding`] with a choice of what a directory's files are read for; an archive is
/// decompressed whole anyway, so its members are always hashed.
pub fn scan_with(
    path: &Path,
    hashing: Hashing,
    keep: &(dyn Fn(&str) -> bool + Sync),
    exclude: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tree> {
    let mut tree = match kind_of(path)? {
        Kind::Dir => scan_dir(path, hashing, keep, exclude, progress)?,
        _ => scan_archive(path, keep, exclude, progress)?,
    };
    tree.files.sort_by(|a, b| a.path.cmp(&b.path));
    tree.listed.sort_by(|a, b| a.path.cmp(&b.path));
    tree.go.sort_by(|a, b| a.file.cmp(&b.file));
    tree.libraries.sort_by(|a, b| a.path.cmp(&b.path));
    tree.library_errors.sort();
    Ok(tree)
}

fn hash_reader(
    mut r: impl Read,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<(String, String, u64)> {
    let mut s1 = Sha1::new();
    let mut s256 = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        s1.update(&buf[..n]);
        s256.update(&buf[..n]);
        total += n as u64;
        progress(n as u64);
    }
    Ok((
        hex::encode(s1.finalize()),
        hex::encode(s256.finalize()),
        total,
    ))
}

/// Hashes one file of a directory; an executable (by its first bytes) is read whole, once, and
/// its Go build info read too.
fn hash_file(
    rel: &str,
    full: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<(HashedFile, GoFound)> {
    let mut f = std::fs::File::open(full)?;
    let mut head = Vec::with_capacity(64);
    (&mut f).take(64).read_to_end(&mut head)?;
    let mut go = GoFound::default();
    let (sha1, sha256, size) = if relkit_catalog::looks_executable(&head) {
        let mut bytes = head;
        (&mut f).take(KEEP_LIMIT + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > KEEP_LIMIT {
            go.go_errors.push(too_large_for_build_info(rel));
            hash_reader(std::io::Cursor::new(bytes).chain(f), progress)?
        } else {
            go_of(rel, &bytes, &mut go);
            let (sha1, sha256) = hash_bytes(&bytes);
            progress(bytes.len() as u64);
            (sha1, sha256, bytes.len() as u64)
        }
    } else {
        hash_reader(std::io::Cursor::new(head).chain(f), progress)?
    };
    let file = HashedFile {
        path: rel.to_string(),
        sha1,
        sha256,
        size,
    };
    Ok((file, go))
}

/// Reads one file of a directory only as far as [`Hashing::NativeOnly`] needs: its first
/// bytes, and the whole of it when they are a native binary's (its Go build info and its
/// libraries read as [`hash_file`] does).
fn list_file(
    rel: &str,
    full: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> std::io::Result<(ListedFile, GoFound)> {
    let mut f = std::fs::File::open(full)?;
    let size = f.metadata()?.len();
    let mut head = Vec::with_capacity(64);
    (&mut f).take(64).read_to_end(&mut head)?;
    let mut go = GoFound::default();
    if relkit_catalog::looks_executable(&head) {
        let mut bytes = head;
        (&mut f).take(KEEP_LIMIT + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > KEEP_LIMIT {
            go.go_errors.push(too_large_for_build_info(rel));
        } else {
            go_of(rel, &bytes, &mut go);
        }
    }
    progress(size);
    let file = ListedFile {
        path: rel.to_string(),
        size,
    };
    Ok((file, go))
}

fn hash_bytes(b: &[u8]) -> (String, String) {
    (hex::encode(Sha1::digest(b)), hex::encode(Sha256::digest(b)))
}

fn scan_dir(
    root: &Path,
    hashing: Hashing,
    keep: &(dyn Fn(&str) -> bool + Sync),
    exclude: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tree> {
    let mut paths = Vec::new();
    let mut newest = None;
    let excluded = |e: &walkdir::DirEntry| {
        e.path()
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .is_some_and(|rel| exclude(&rel.replace('\\', "/")))
    };
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || (e.file_name() != ".git" && !excluded(e)));
    for entry in walker {
        let entry = entry.map_err(|e| {
            let p = e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf());
            Error::io(p, e.into())
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir yields paths under the root");
        let rel_str = rel.to_str().ok_or_else(|| Error::Archive {
            origin: root.display().to_string(),
            message: format!(
                "file name is not valid UTF-8: {:?} (SPDX and CycloneDX need Unicode names; rename it)",
                rel.to_string_lossy()
            ),
        })?;
        if let Some(m) = entry.metadata().ok().and_then(|m| m.modified().ok()) {
            keep_newest(&mut newest, rfc3339_of(m));
        }
        paths.push((rel_str.replace('\\', "/"), entry.into_path()));
    }
    let mut go = GoFound::default();
    let mut files = Vec::new();
    let mut listed = Vec::new();
    match hashing {
        Hashing::All => {
            let hashed: Vec<(HashedFile, GoFound)> = paths
                .par_iter()
                .map(|(rel, full)| hash_file(rel, full, progress).map_err(|e| Error::io(full, e)))
                .collect::<Result<_>>()?;
            files.reserve(hashed.len());
            for (f, found) in hashed {
                files.push(f);
                go.append(found);
            }
        }
        Hashing::NativeOnly => {
            let read: Vec<(ListedFile, GoFound)> = paths
                .par_iter()
                .map(|(rel, full)| list_file(rel, full, progress).map_err(|e| Error::io(full, e)))
                .collect::<Result<_>>()?;
            listed.reserve(read.len());
            for (f, found) in read {
                listed.push(f);
                go.append(found);
            }
        }
    }
    let mut kept = BTreeMap::new();
    for (rel, full) in &paths {
        if keep(rel) {
            let len = std::fs::metadata(full)
                .map_err(|e| Error::io(full, e))?
                .len();
            if len > KEEP_LIMIT {
                return Err(Error::Archive {
                    origin: full.display().to_string(),
                    message: format!("{len} bytes is too large to parse"),
                });
            }
            kept.insert(
                rel.clone(),
                std::fs::read(full).map_err(|e| Error::io(full, e))?,
            );
        }
    }
    let mut tree = Tree {
        files,
        listed,
        kept,
        newest_mtime: newest,
        ..Tree::default()
    };
    go.into_tree(&mut tree);
    Ok(tree)
}

/// Validates an archive member name: relative, no `..`, UTF-8.
pub(crate) fn safe_name(raw: &[u8], origin: &str) -> Result<String> {
    let name = std::str::from_utf8(raw).map_err(|_| Error::Archive {
        origin: origin.into(),
        message: format!(
            "member name is not valid UTF-8: {:?} (SPDX and CycloneDX need Unicode names)",
            String::from_utf8_lossy(raw)
        ),
    })?;
    let name = name.trim_start_matches("./");
    if name.starts_with('/')
        || name.contains('\\') && name.starts_with("\\")
        || name.split(['/', '\\']).any(|c| c == "..")
    {
        return Err(Error::Archive {
            origin: origin.into(),
            message: format!(
                "refusing member {name:?}: absolute path or '..' component (path traversal)"
            ),
        });
    }
    Ok(name.to_string())
}

/// Whether `keep` selects an archive member, by its path with or without the usual
/// `NAME-VERSION/` root.
fn wanted(keep: &(dyn Fn(&str) -> bool + Sync), path: &str) -> bool {
    keep(path) || keep(path.split_once('/').map_or("", |(_, rest)| rest))
}

/// Whether `exclude` selects an archive member or one of its parent directories, by path with
/// or without the usual `NAME-VERSION/` root.
fn excluded_member(exclude: &(dyn Fn(&str) -> bool + Sync), path: &str) -> bool {
    let under_root = path.split_once('/').map_or("", |(_, rest)| rest);
    [path, under_root].into_iter().any(|p| {
        !p.is_empty() && (exclude(p) || p.match_indices('/').any(|(i, _)| exclude(&p[..i])))
    })
}

enum Job {
    Bytes(String, Vec<u8>),
    Done(HashedFile),
}

/// Runs `produce` (which sends members and returns their newest modification time) on this
/// thread and hashes queued members on another.
fn pipelined(
    keep: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
    produce: impl FnOnce(&mpsc::SyncSender<Job>) -> Result<(Option<String>, GoFound)>,
) -> Result<Tree> {
    let (tx, rx) = mpsc::sync_channel::<Job>(64);
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            let mut tree = Tree::default();
            for job in rx {
                match job {
                    Job::Bytes(path, bytes) => {
                        let (sha1, sha256) = hash_bytes(&bytes);
                        progress(bytes.len() as u64);
                        tree.files.push(HashedFile {
                            path: path.clone(),
                            sha1,
                            sha256,
                            size: bytes.len() as u64,
                        });
                        let mut go = GoFound::default();
                        go_of(&path, &bytes, &mut go);
                        go.into_tree(&mut tree);
                        if wanted(keep, &path) {
                            tree.kept.insert(path, bytes);
                        }
                    }
                    Job::Done(f) => tree.files.push(f),
                }
            }
            tree
        });
        let produced = produce(&tx);
        drop(tx);
        let mut tree = worker.join().expect("hashing thread does not panic");
        let (newest, go) = produced?;
        tree.newest_mtime = newest;
        go.into_tree(&mut tree);
        Ok(tree)
    })
}

/// Hashes every file member of an archive read by relkit-archive's one streaming reader
/// (tar, .tar.gz/.xz/.bz2/.zst, zip; format by magic; its path, size and zip-bomb checks),
/// on the reading thread for large members and on the hashing thread for the others.
fn scan_archive(
    path: &Path,
    keep: &(dyn Fn(&str) -> bool + Sync),
    exclude: &(dyn Fn(&str) -> bool + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Tree> {
    let origin = path.display().to_string();
    let mut tree = pipelined(keep, progress, |tx| {
        let mut feeder = Feeder {
            origin: &origin,
            keep,
            exclude,
            progress,
            tx,
            newest: None,
            failed: None,
            go: GoFound::default(),
        };
        let walked = walk_archive(path, &mut feeder);
        if let Some(e) = feeder.failed {
            return Err(e);
        }
        walked?;
        Ok((feeder.newest, feeder.go))
    })?;
    strip_common_root(&mut tree);
    Ok(tree)
}

/// Walks an archive with relkit-archive's one streaming reader; its errors are kept as they
/// are (they name the archive, the member and what to do).
pub(crate) fn walk_archive(
    path: &Path,
    visitor: &mut dyn relkit_archive::read::Visit,
) -> Result<()> {
    relkit_archive::read::walk_path(path, visitor).map_err(|e| Error::ArchiveRead(Box::new(e)))?;
    Ok(())
}

/// Sends each file member of an archive walk to the hashing pipeline.
struct Feeder<'a> {
    origin: &'a str,
    keep: &'a (dyn Fn(&str) -> bool + Sync),
    /// Members left out (their path, with or without the archive's root, or a parent's).
    exclude: &'a (dyn Fn(&str) -> bool + Sync),
    progress: &'a (dyn Fn(u64) + Sync),
    tx: &'a mpsc::SyncSender<Job>,
    newest: Option<String>,
    /// An error of ours (a refused name, a member too large to keep) that stopped the walk.
    failed: Option<Error>,
    /// The large Go executables, read on this thread (small ones go to the hashing thread).
    go: GoFound,
}

impl relkit_archive::read::Visit for Feeder<'_> {
    fn visit(
        &mut self,
        member: relkit_archive::read::Member,
        content: &mut dyn Read,
    ) -> std::io::Result<relkit_archive::read::Flow> {
        use relkit_archive::read::{Flow, MemberKind};
        if member.kind != MemberKind::File {
            return Ok(Flow::Continue);
        }
        let name = match safe_name(&member.path, self.origin) {
            Ok(n) => n,
            Err(e) => {
                self.failed = Some(e);
                return Ok(Flow::Stop);
            }
        };
        if excluded_member(self.exclude, &name) {
            return Ok(Flow::Continue);
        }
        keep_newest(
            &mut self.newest,
            crate::model::rfc3339_from_epoch(member.mtime),
        );
        // Small members (and the ones the caller keeps) go to the hashing thread whole; large
        // ones are hashed as they stream. The size is learnt by reading, never trusted from a
        // header.
        let mut buf = Vec::new();
        content.take(QUEUE_LIMIT as u64 + 1).read_to_end(&mut buf)?;
        if buf.len() <= QUEUE_LIMIT {
            let _ = self.tx.send(Job::Bytes(name, buf));
            return Ok(Flow::Continue);
        }
        if wanted(self.keep, &name) {
            content
                .take(KEEP_LIMIT + 1 - buf.len() as u64)
                .read_to_end(&mut buf)?;
            if buf.len() as u64 > KEEP_LIMIT {
                self.failed = Some(Error::Archive {
                    origin: self.origin.to_string(),
                    message: format!("{name}: larger than {KEEP_LIMIT} bytes, too large to parse"),
                });
                return Ok(Flow::Stop);
            }
            let _ = self.tx.send(Job::Bytes(name, buf));
            return Ok(Flow::Continue);
        }
        // A large executable is read whole here (memory bounded by the largest member, never
        // queued) so that its Go build info can be read.
        if relkit_catalog::looks_executable(&buf) {
            content
                .take(KEEP_LIMIT + 1 - buf.len() as u64)
                .read_to_end(&mut buf)?;
            if buf.len() as u64 <= KEEP_LIMIT {
                go_of(&name, &buf, &mut self.go);
                let (sha1, sha256) = hash_bytes(&buf);
                (self.progress)(buf.len() as u64);
                let size = buf.len() as u64;
                let _ = self.tx.send(Job::Done(HashedFile {
                    path: name,
                    sha1,
                    sha256,
                    size,
                }));
                return Ok(Flow::Continue);
            }
            self.go.go_errors.push(too_large_for_build_info(&name));
        }
        let (sha1, sha256, size) =
            hash_reader(std::io::Cursor::new(buf).chain(content), self.progress)?;
        let _ = self.tx.send(Job::Done(HashedFile {
            path: name,
            sha1,
            sha256,
            size,
        }));
        Ok(Flow::Continue)
    }
}

/// Source archives usually wrap everything in `NAME-VERSION/`; paths are made relative to it.
fn strip_common_root(tree: &mut Tree) {
    let Some(first) = tree.files.first() else {
        return;
    };
    let Some((root, _)) = first.path.split_once('/') else {
        return;
    };
    let prefix = format!("{root}/");
    if tree.files.iter().all(|f| f.path.starts_with(&prefix)) {
        for f in &mut tree.files {
            f.path = f.path[prefix.len()..].to_string();
        }
        tree.kept = std::mem::take(&mut tree.kept)
            .into_iter()
            .map(|(k, v)| (k[prefix.len()..].to_string(), v))
            .collect();
        tree.root = Some(prefix[..prefix.len() - 1].to_string());
        let strip = |f: &str| f.strip_prefix(&prefix).unwrap_or(f).to_string();
        for c in &mut tree.go {
            c.file = strip(&c.file);
        }
        tree.go_errors = std::mem::take(&mut tree.go_errors)
            .into_iter()
            .map(|e| e.relabeled(&strip))
            .collect();
        for scan in &mut tree.libraries {
            scan.path = strip(&scan.path);
            for h in &mut scan.hits {
                h.evidence.file = strip(&h.evidence.file);
            }
            for n in &mut scan.notes {
                *n = strip(n);
            }
        }
        tree.library_errors = std::mem::take(&mut tree.library_errors)
            .into_iter()
            .map(|e| e.replacen(&prefix, "", 1))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_names_are_refused() {
        assert!(safe_name(b"../etc/passwd", "a.tar").is_err());
        assert!(safe_name(b"/etc/passwd", "a.tar").is_err());
        assert!(safe_name(b"a/../../b", "a.tar").is_err());
        assert!(safe_name(b"\xff\xfe", "a.tar").is_err());
        assert_eq!(
            safe_name(b"./Python-3.13.5/README.rst", "a.tar").unwrap(),
            "Python-3.13.5/README.rst"
        );
    }
}
