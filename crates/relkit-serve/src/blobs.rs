//! Content-addressed blob store: `DATA/blobs/sha256/ab/abcdef…`. Uploads stream into
//! `DATA/tmp/` while being hashed and are renamed into place only when complete and matching
//! the declared digest, so a killed server or a broken connection never leaves a partial blob
//! visible; leftovers in `tmp/` are removed at startup.

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

impl BlobStore {
    /// Opens the store, creating its directories and removing interrupted uploads.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.to_path_buf();
        std::fs::create_dir_all(root.join("blobs/sha256"))?;
        let tmp = root.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(BlobStore { root })
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
        let tmp = self.root.join("tmp").join(&name);
        let r = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(b"relkit readiness probe\n").await?;
            f.flush().await?;
            drop(f);
            tokio::fs::remove_file(&tmp).await
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
            let tmp = self.root.join("tmp").join(random_hex(16));
            let mut guard = TempGuard(Some(tmp.clone()));
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(bytes).await?;
            f.sync_all().await?;
            drop(f);
            self.place(&tmp, &fin, &mut guard).await?;
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
        let tmp = self.root.join("tmp").join(random_hex(16));
        let mut guard = TempGuard(Some(tmp.clone()));
        let file = tokio::fs::File::create(&tmp).await?;
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
        drop(file);
        let fin = self.path(&sha256);
        if tokio::fs::try_exists(&fin).await? {
            // Same content already stored: keep the existing blob (the guard removes ours).
            return Ok(Stored { sha256, size });
        }
        self.place(&tmp, &fin, &mut guard).await?;
        Ok(Stored { sha256, size })
    }
}
