//! Content-addressed blob store: `DATA/blobs/sha256/ab/abcdef…`. Uploads stream into
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

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

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
    /// A local file system error.
    #[error("blob store")]
    Io(#[from] std::io::Error),
}

/// A blob stored under its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The blob store rooted at the data directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
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

impl BlobStore {
    /// Opens the store, creating its directories (the server then removes stale scratch
    /// files with [`BlobStore::stale_scratch`]; offline administration leaves them to
    /// `relkit serve gc`, so that `relkit serve fsck` can name them).
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.to_path_buf();
        std::fs::create_dir_all(root.join("blobs/sha256"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore { root })
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
    /// directory; removed too when `remove` is set.
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

    /// Where the blob with this hex digest lives (it may not exist).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root
            .join("blobs/sha256")
            .join(&sha256[..2.min(sha256.len())])
            .join(sha256)
    }

    /// Every stored blob's digest and path (for integrity checks).
    pub fn list(&self) -> std::io::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for d in std::fs::read_dir(self.root.join("blobs/sha256"))? {
            for f in std::fs::read_dir(d?.path())? {
                let f = f?;
                out.push((f.file_name().to_string_lossy().into_owned(), f.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Readiness check (`/readyz`): the upload scratch directory takes a file (created,
    /// written, removed) and the blob directory takes an entry (a probe directory, created and
    /// removed: a left-over empty directory is harmless to [`BlobStore::list`]). Errors name
    /// the directory relative to the data directory, never a full path.
    pub async fn probe(&self) -> Result<(), String> {
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
            .map_err(|e| format!("the blob directory blobs/sha256/ is not writable: {e}"))
    }

    /// Stores bytes already in memory (SBOMs, bundles), after they were checked.
    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<Stored, UploadError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let fin = self.path(&sha256);
        if !tokio::fs::try_exists(&fin).await? {
            let (tmp, f) = self.scratch()?;
            let mut guard = TempGuard(Some(tmp.clone()));
            let mut f = tokio::fs::File::from_std(f);
            f.write_all(bytes).await?;
            f.sync_all().await?;
            // Renamed while still locked, so no cleaner takes it for a stale file.
            self.place(&tmp, &fin, &mut guard).await?;
            drop(f);
        }
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

    /// Streams a request body to a temporary file, hashing as it goes; refuses more than
    /// `limit` bytes and a digest other than `declared`; renames it into place when complete.
    pub async fn receive(
        &self,
        body: axum::body::Body,
        limit: u64,
        declared: &str,
    ) -> Result<Stored, UploadError> {
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
        file.sync_all().await?;
        let fin = self.path(&sha256);
        if tokio::fs::try_exists(&fin).await? {
            // Same content already stored: keep the existing blob (the guard removes ours).
            return Ok(Stored { sha256, size });
        }
        // Renamed while still locked (see the module doc); another process placing the same
        // digest at the same time renames identical bytes onto the same name.
        self.place(&tmp, &fin, &mut guard).await?;
        drop(file);
        Ok(Stored { sha256, size })
    }
}
