//! Content-addressed blob store, on the local file system (the default) or in an
//! S3-compatible object store (`--blobs s3://bucket/prefix`, see [`s3`]). Both keep a blob
//! under its SHA-256 (`blobs/sha256/ab/abcdef…`, under the data directory or the bucket's
//! prefix) and make it visible only once its bytes were received whole and hashed to the
//! declared digest.
//!
//! Local directory: `DATA/blobs/sha256/ab/abcdef…`. Uploads stream into
//! `DATA/tmp/` while being hashed and are renamed into place only when complete and matching
//! the declared digest, so a killed server or a broken connection never leaves a partial blob
//! visible.
//!
//! Several server processes may share the directory: a blob's name is its digest, so two
//! processes placing the same blob rename identical bytes onto one name (the last rename
//! wins, readers see either whole file). Every scratch file in `tmp/` is held under an
//! exclusive `flock` by the process writing it until it is renamed or removed; one whose
//! lock nobody holds was left by a killed process ("stale"), and only those are removed — at
//! a server's start and by `relkit serve gc`; `relkit serve fsck` names them — never a live
//! upload of another replica.
//!
//! Orphans (blobs no file or attachment row names: a replaced draft file, a deleted draft,
//! an upload whose metadata step was refused) are removed by `relkit serve gc` once older
//! than its minimum age ([`BlobStore::orphans`]). Every upload of a blob refreshes its
//! modification time (local: the rename or a touch; S3: the object is written again), so a
//! blob an upload has just placed or found is never older than that upload; a collection looks
//! at each candidate's time again right before removing it, so it leaves alone a blob that an
//! upload found after the listing (what remains is the moment between that last look and
//! the removal).

pub mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The body is longer than the limit.
    #[error("the upload exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body's SHA-256 is not the declared one.
    #[error("digest mismatch: declared sha256 {declared}, received {actual}")]
    DigestMismatch {
        /// What the client declared.
        declared: String,
        /// What was received.
        actual: String,
    },
    /// The connection broke before the body was complete.
    #[error("the upload was interrupted")]
    Interrupted(#[source] axum::Error),
    /// A local file system error, or the object store failed ([`Unavailable`] inside).
    #[error("blob store")]
    Io(#[from] std::io::Error),
}

/// The object store failed or could not be reached (after the client's retries): the
/// request may be retried later. Carried inside a [`std::io::Error`]; the API answers 503.
#[derive(Debug, thiserror::Error)]
#[error("the object store failed, retry later: {0}")]
pub struct Unavailable(pub String);

impl Unavailable {
    /// Whether `e` is (or wraps) an object store failure.
    pub fn is(e: &std::io::Error) -> bool {
        e.get_ref().is_some_and(|i| i.is::<Unavailable>())
    }
}

/// A blob stored under its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Where blobs are kept (`--blobs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Spec {
    /// `DATA/blobs/` (the default).
    #[default]
    Local,
    /// An S3-compatible bucket and key prefix.
    S3(s3::S3Spec),
}

impl std::str::FromStr for Spec {
    type Err = String;

    /// `local`, or `s3://bucket` / `s3://bucket/prefix`.
    fn from_str(s: &str) -> Result<Spec, String> {
        if s == "local" {
            return Ok(Spec::Local);
        }
        s3::S3Spec::parse(s).map(Spec::S3)
    }
}

/// A stored blob as listed: digest, size and last modification (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// The name (lower-case hex SHA-256, unchecked).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Last written, Unix seconds.
    pub modified: i64,
}

/// A byte range of a download (`Range: bytes=…`), before it is checked against the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both included.
    Bounded(u64, u64),
    /// `first-`.
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The half-open range this is of a blob of `size` bytes; None when unsatisfiable.
    pub fn resolve(self, size: u64) -> Option<std::ops::Range<u64>> {
        let r = match self {
            ByteRange::Bounded(a, b) => a..b.saturating_add(1).min(size),
            ByteRange::From(a) => a..size,
            ByteRange::Suffix(n) => size.saturating_sub(n)..size,
        };
        (r.start < r.end).then_some(r)
    }
}

/// A download: the blob's size, the bytes sent and their stream.
pub struct Download {
    /// Size of the whole blob.
    pub total: u64,
    /// The bytes the stream yields (the whole blob without a range).
    pub range: std::ops::Range<u64>,
    /// The bytes.
    pub body: BoxStream<'static, std::io::Result<bytes::Bytes>>,
}

/// The blob store: the local directory under the data directory, or an S3 bucket.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
    s3: Option<Arc<s3::S3Blobs>>,
}

/// Removes a temporary upload file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A random lower-case hex string of `n` bytes.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}

/// Whether `name` is a blob name (64 lower-case hex digits).
pub(crate) fn is_digest(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `f` is still the file at `path` (not removed or replaced since it was opened).
fn still_at(f: &std::fs::File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (a, b) = match (f.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => (a, b),
        (_, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

fn unix_secs(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl BlobStore {
    /// Opens the local store, creating its directories (the server then removes stale
    /// scratch files with [`BlobStore::stale_scratch`]; offline administration leaves them
    /// to `relkit serve gc`, so that `relkit serve fsck` can name them).
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.to_path_buf();
        std::fs::create_dir_all(root.join("blobs/sha256"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore { root, s3: None })
    }

    /// Opens the store `spec` names: the local one under `data_dir`, or the S3 bucket (its
    /// settings from the environment, see [`s3`]; nothing is sent to it yet). The data
    /// directory's `tmp/` exists with either (stale scratch files of a local past are
    /// still collected).
    pub fn open_with(data_dir: &Path, spec: &Spec) -> std::io::Result<Self> {
        let mut store = BlobStore::open(data_dir)?;
        if let Spec::S3(s) = spec {
            store.s3 = Some(Arc::new(s3::S3Blobs::open(s)?));
        }
        Ok(store)
    }

    /// Where blobs are, for people (`local directory DATA/blobs`, `s3://bucket/prefix at
    /// ENDPOINT`); never a credential.
    pub fn describe(&self) -> String {
        match &self.s3 {
            Some(s) => s.describe(),
            None => format!("local directory {}", self.root.join("blobs").display()),
        }
    }

    /// Whether blobs are on the local file system (then [`BlobStore::path`] names them).
    pub fn is_local(&self) -> bool {
        self.s3.is_none()
    }

    /// A new scratch file in `tmp/`, created and locked (see the module doc). The lock is
    /// taken after the creation, so the file is checked to still be at its path once locked:
    /// a cleaner that locked and removed it in between makes this pick another name.
    fn scratch(&self) -> std::io::Result<(PathBuf, std::fs::File)> {
        loop {
            let path = self.root.join("tmp").join(random_hex(16));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)?;
            f.lock()?;
            if still_at(&f, &path)? {
                return Ok((path, f));
            }
        }
    }

    /// The stale scratch files in `tmp/` (no process holds their lock), relative to the data
    /// directory; removed too when `remove` is set. (With S3, uploads are buffered in memory
    /// and sent as multipart parts, never to `tmp/`; an upload a killed process left
    /// unfinished is an incomplete multipart upload, invisible, which the bucket's
    /// `AbortIncompleteMultipartUpload` lifecycle rule removes.)
    pub fn stale_scratch(&self, remove: bool) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.root.join("tmp"))? {
            let e = e?;
            let path = e.path();
            let f = match std::fs::File::open(&path) {
                Ok(f) => f,
                // Renamed into place or removed by its owner meanwhile.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            match f.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => continue,
                Err(std::fs::TryLockError::Error(err)) => return Err(err),
            }
            if !still_at(&f, &path)? {
                continue;
            }
            if remove {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => return Err(err),
                }
            }
            out.push(format!("tmp/{}", e.file_name().to_string_lossy()));
        }
        out.sort();
        Ok(out)
    }

    /// Where the blob with this hex digest lives on the local backend (it may not exist).
    /// With S3 this names no file: read blobs with [`BlobStore::read`] or
    /// [`BlobStore::get`].
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("blobs/sha256")
            .join(&sha256[..2.min(sha256.len())])
            .join(sha256)
    }

    /// Every stored blob (for integrity checks and collection), sorted by name.
    pub async fn list(&self) -> std::io::Result<Vec<BlobInfo>> {
        if let Some(s) = &self.s3 {
            return s.list().await;
        }
        let root = self.root.join("blobs/sha256");
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for d in std::fs::read_dir(root)? {
                let d = d?;
                if !d.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(d.path())? {
                    let f = f?;
                    let m = match f.metadata() {
                        Ok(m) => m,
                        // Removed by a collection meanwhile.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    };
                    out.push(BlobInfo {
                        sha256: f.file_name().to_string_lossy().into_owned(),
                        size: m.len(),
                        modified: unix_secs(m.modified()?),
                    });
                }
            }
            out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
            Ok(out)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// A blob's whole content (material checked against it, SBOMs scanned).
    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        match &self.s3 {
            Some(s) => s.read(sha256).await,
            None => tokio::fs::read(self.path(sha256)).await,
        }
    }

    /// Opens a blob for a download, of `range` when given (`Err` of kind `InvalidInput`
    /// when the range is not satisfiable: the caller answers 416 with the size from
    /// [`BlobStore::size`]).
    pub async fn get(&self, sha256: &str, range: Option<ByteRange>) -> std::io::Result<Download> {
        if let Some(s) = &self.s3 {
            return s.get(sha256, range).await;
        }
        let mut file = tokio::fs::File::open(self.path(sha256)).await?;
        let total = file.metadata().await?.len();
        let range = match range {
            None => 0..total,
            Some(r) => r.resolve(total).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "range not satisfiable")
            })?,
        };
        file.seek(std::io::SeekFrom::Start(range.start)).await?;
        let reader = file.take(range.end - range.start);
        let body = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).boxed();
        Ok(Download { total, range, body })
    }

    /// A blob's size (Err NotFound when absent).
    pub async fn size(&self, sha256: &str) -> std::io::Result<u64> {
        match &self.s3 {
            Some(s) => s.size(sha256).await,
            None => Ok(tokio::fs::metadata(self.path(sha256)).await?.len()),
        }
    }

    /// Re-hashes a stored blob, streaming (lower-case hex SHA-256).
    pub async fn hash(&self, sha256: &str) -> std::io::Result<String> {
        let mut d = self.get(sha256, None).await?;
        let mut h = Sha256::new();
        while let Some(chunk) = d.body.next().await {
            h.update(&chunk?);
        }
        Ok(hex::encode(h.finalize()))
    }

    /// A blob's last modification (Unix seconds), None when absent.
    async fn modified(&self, sha256: &str) -> std::io::Result<Option<i64>> {
        if let Some(s) = &self.s3 {
            return s.modified(sha256).await;
        }
        match tokio::fs::metadata(self.path(sha256)).await {
            Ok(m) => Ok(Some(unix_secs(m.modified()?))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes a blob (true when it existed). Only [`BlobStore::orphans`]' collection does.
    async fn remove(&self, sha256: &str) -> std::io::Result<bool> {
        if let Some(s) = &self.s3 {
            return s.remove(sha256).await;
        }
        match tokio::fs::remove_file(self.path(sha256)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The blobs `used` (sorted digests the database names) does not name and that were last
    /// written at least `min_age_secs` ago, as of `now`; removed too when `remove` is set.
    /// `blobs` is a listing taken *before* `used` was read (see the module doc: an upload in
    /// between refreshes its blob's time).
    pub async fn orphans(
        &self,
        blobs: &[BlobInfo],
        used: &[String],
        min_age_secs: i64,
        now: i64,
        remove: bool,
    ) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for b in blobs {
            if used.binary_search(&b.sha256).is_ok() || now - b.modified < min_age_secs {
                continue;
            }
            if remove {
                // Looked at again right before the removal: an upload of the same bytes since
                // the listing refreshed its time (module doc).
                match self.modified(&b.sha256).await? {
                    Some(m) if now - m >= min_age_secs => {}
                    _ => continue,
                }
                if !self.remove(&b.sha256).await? {
                    continue;
                }
            }
            out.push(b.sha256.clone());
        }
        Ok(out)
    }

    /// Readiness check (`/readyz`): with S3 a probe object is written and removed under the
    /// prefix; locally the upload scratch directory takes a file (created, written, removed)
    /// and the blob directory takes an entry (a probe directory, created and removed: a
    /// left-over empty directory is harmless to [`BlobStore::list`]). Errors name the
    /// directory relative to the data directory, never a full path, or the bucket, never a
    /// credential. The answer says what was checked.
    pub async fn probe(&self) -> Result<String, String> {
        if let Some(s) = &self.s3 {
            return s.probe().await;
        }
        let name = format!(".readyz-{}", random_hex(8));
        let r = async {
            let (tmp, f) = self.scratch()?;
            let mut f = tokio::fs::File::from_std(f);
            f.write_all(b"relkit readiness probe\n").await?;
            f.flush().await?;
            // Removed while still locked (a cleaner never takes it for a stale one).
            let r = tokio::fs::remove_file(&tmp).await;
            drop(f);
            r
        }
        .await;
        r.map_err(|e| format!("the upload directory tmp/ is not writable: {e}"))?;
        let dir = self.root.join("blobs/sha256").join(&name);
        tokio::fs::create_dir(&dir)
            .await
            .map_err(|e| format!("the blob directory blobs/sha256/ is not writable: {e}"))?;
        tokio::fs::remove_dir(&dir)
            .await
            .map_err(|e| format!("the blob directory blobs/sha256/ is not writable: {e}"))?;
        Ok("local directory writable".into())
    }

    /// Stores bytes already in memory (SBOMs, bundles), after they were checked.
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Stored, UploadError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(s) = &self.s3 {
            s.put(&sha256, bytes::Bytes::copy_from_slice(bytes)).await?;
            return Ok(Stored {
                sha256,
                size: bytes.len() as u64,
            });
        }
        let fin = self.path(&sha256);
        if touch(&fin)? {
            return Ok(Stored {
                sha256,
                size: bytes.len() as u64,
            });
        }
        let (tmp, f) = self.scratch()?;
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut f = tokio::fs::File::from_std(f);
        f.write_all(bytes).await?;
        f.sync_all().await?;
        // Renamed while still locked, so no cleaner takes it for a stale file.
        self.place(&tmp, &fin, &mut guard).await?;
        drop(f);
        Ok(Stored {
            sha256,
            size: bytes.len() as u64,
        })
    }

    async fn place(&self, tmp: &Path, fin: &Path, guard: &mut TempGuard) -> std::io::Result<()> {
        if let Some(parent) = fin.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(tmp, fin).await?;
        guard.0 = None;
        if let Some(parent) = fin.parent() {
            // Make the rename durable before the database row points at the blob.
            if let Ok(d) = tokio::fs::File::open(parent).await {
                let _ = d.sync_all().await;
            }
        }
        Ok(())
    }

    /// Streams a request body to a temporary file (S3: to a multipart upload under the
    /// declared digest's key, see [`s3`]), hashing as it goes; refuses more than `limit`
    /// bytes and a digest other than `declared`; makes it visible (rename, multipart
    /// completion) only when complete and matching.
    pub async fn receive(
        &self,
        body: axum::body::Body,
        limit: u64,
        declared: &str,
    ) -> Result<Stored, UploadError> {
        if let Some(s) = &self.s3 {
            return s.receive(body, limit, declared).await;
        }
        let (tmp, file) = self.scratch()?;
        let mut guard = TempGuard(Some(tmp.clone()));
        let file = tokio::fs::File::from_std(file);
        let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(UploadError::Interrupted)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(UploadError::TooLarge { limit });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        let file = out.into_inner();
        let sha256 = hex::encode(hasher.finalize());
        if !sha256.eq_ignore_ascii_case(declared) {
            return Err(UploadError::DigestMismatch {
                declared: declared.to_ascii_lowercase(),
                actual: sha256,
            });
        }
        let fin = self.path(&sha256);
        if touch(&fin)? {
            // Same content already stored: keep the existing blob, its time refreshed (the
            // guard removes ours).
            return Ok(Stored { sha256, size });
        }
        file.sync_all().await?;
        // Renamed while still locked (see the module doc); another process placing the same
        // digest at the same time renames identical bytes onto the same name.
        self.place(&tmp, &fin, &mut guard).await?;
        drop(file);
        Ok(Stored { sha256, size })
    }
}

/// Sets an existing blob's modification time to now (true), or false when it is absent.
fn touch(path: &Path) -> std::io::Result<bool> {
    match std::fs::OpenOptions::new().append(true).open(path) {
        Ok(f) => {
            f.set_modified(std::time::SystemTime::now())?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
