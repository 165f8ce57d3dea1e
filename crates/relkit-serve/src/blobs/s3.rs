//! Blobs in an S3-compatible object store (`--blobs s3://bucket/prefix`), through Apache
//! Arrow's `object_store` client (SigV4, multipart uploads, ranged GETs, retries).
//!
//! Layout: `PREFIX/blobs/sha256/ab/abcdef…`, the local directory's layout under the prefix.
//! Settings: the usual environment — `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`), `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP=true`
//! for a plain-HTTP endpoint, and the other `AWS_*` keys `object_store` reads (instance and
//! container credentials too) — overridden by a file of `KEY=VALUE` lines with the same names
//! (`--blobs-env FILE`, so that a secret need not be in the process environment).
//! `RELKIT_S3_PART_MIB` (default 8, at least 5: S3's smallest part) sets the multipart part
//! size, which is also the threshold: a body up to one part is sent in one PUT.
//!
//! A blob is visible only after its SHA-256 was verified: the body is hashed while it is
//! received; one up to a part is kept in memory and PUT under its content key only when it
//! matches the declared digest; a longer one goes into a multipart upload *under the declared
//! digest's key*, whose parts S3 keeps invisible until the upload is completed — which
//! happens only when the whole body hashed to that digest. On a mismatch, a broken connection
//! or an error the multipart upload is aborted (also when the request is dropped); one a
//! killed process leaves is invisible and removed by the bucket's
//! `AbortIncompleteMultipartUpload` lifecycle rule (it cannot be listed through this client).
//!
//! Failures: the client retries (3 times, within 15 s; connecting gives up after 3 s, a
//! stalled read after 30 s), then the error is [`Unavailable`] and the API answers 503, so an
//! object store that is down or restarting costs failed requests, never a hung server; the
//! next request tries again (no restart of relkit). Errors name the bucket and key, never a
//! credential (`object_store` does not print them; this module never formats its settings).

use relkit_core::error::chain;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig, WriteMultipart,
};
use sha2::{Digest, Sha256};

use super::{BlobInfo, ByteRange, Download, Stored, Unavailable, UploadError, is_digest};

/// Default multipart part size (and single-PUT threshold), MiB.
pub const DEFAULT_PART_MIB: usize = 8;

/// Parts of one upload in flight at once.
const PART_CONCURRENCY: usize = 2;

/// `--blobs s3://bucket/prefix` with its optional settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Spec {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix (no leading or trailing `/`; empty for the bucket's root).
    pub prefix: String,
    /// `KEY=VALUE` settings overriding the environment (`--blobs-env`).
    pub env_file: Option<PathBuf>,
}

impl S3Spec {
    /// Parses `s3://bucket` or `s3://bucket/prefix`.
    pub fn parse(s: &str) -> Result<S3Spec, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("--blobs {s:?}: expected `local` or `s3://bucket/prefix`"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(format!(
                "--blobs {s:?}: {bucket:?} is not an S3 bucket name (3 to 63 of a-z 0-9 . -)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
            && !prefix.is_empty()
        {
            return Err(format!(
                "--blobs {s:?}: the prefix has an empty, `.` or `..` segment"
            ));
        }
        Ok(S3Spec {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            env_file: None,
        })
    }
}

/// The S3 backend of [`super::BlobStore`].
#[derive(Debug)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
    part_size: usize,
    described: String,
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// An `object_store` error as an I/O error: NotFound stays NotFound, the rest is
/// [`Unavailable`].
fn io(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { path, .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no object {path}"))
        }
        e => std::io::Error::other(Unavailable(chain(&e))),
    }
}

/// Reads a `KEY=VALUE` settings file (blank lines and `#` comments skipped). Errors name the
/// file, the line and the key, never a value.
fn read_env_file(path: &Path) -> std::io::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("--blobs-env {}: {e}", path.display()))
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(invalid(format!(
                "--blobs-env {} line {}: expected KEY=VALUE",
                path.display(),
                n + 1
            )));
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        out.push((k.trim().to_string(), v.to_string()));
    }
    Ok(out)
}

impl S3Blobs {
    /// Builds the client from the environment and the settings file (nothing is sent yet).
    pub fn open(spec: &S3Spec) -> std::io::Result<S3Blobs> {
        // reqwest's rustls has no bundled provider here: ring, already in the tree.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&spec.bucket);
        let mut part_mib = std::env::var("RELKIT_S3_PART_MIB").ok();
        if let Some(f) = &spec.env_file {
            for (k, v) in read_env_file(f)? {
                if k == "RELKIT_S3_PART_MIB" {
                    part_mib = Some(v);
                    continue;
                }
                let key: AmazonS3ConfigKey = k.to_ascii_lowercase().parse().map_err(|_| {
                    invalid(format!(
                        "--blobs-env {}: {k} is not an S3 setting (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ALLOW_HTTP, …)",
                        f.display()
                    ))
                })?;
                b = b.with_config(key, v);
            }
        }
        let part_size = match part_mib {
            None => DEFAULT_PART_MIB,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (5..=5 * 1024).contains(&n) => n,
                _ => {
                    return Err(invalid(format!(
                        "RELKIT_S3_PART_MIB={v:?}: give a whole number of MiB from 5 (S3's smallest part) to 5120"
                    )));
                }
            },
        } << 20;
        let endpoint = b
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .map(|e| match e.split_once('@') {
                // Never print user information an endpoint URL might carry.
                Some((scheme_user, host)) => match scheme_user.split_once("://") {
                    Some((scheme, _)) => format!("{scheme}://{host}"),
                    None => host.to_string(),
                },
                None => e,
            })
            .unwrap_or_else(|| "AWS".into());
        let client = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout_disabled()
            .with_config(object_store::ClientConfigKey::ReadTimeout, "30 seconds");
        let allow_http = b
            .get_config_value(&AmazonS3ConfigKey::Client(
                object_store::ClientConfigKey::AllowHttp,
            ))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let store = b
            .with_client_options(client.with_allow_http(allow_http))
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            })
            .build()
            .map_err(|e| invalid(format!("--blobs s3://{}: {}", spec.bucket, chain(&e))))?;
        let shown = if spec.prefix.is_empty() {
            format!("s3://{}", spec.bucket)
        } else {
            format!("s3://{}/{}", spec.bucket, spec.prefix)
        };
        Ok(S3Blobs {
            store: Arc::new(store),
            prefix: spec.prefix.clone(),
            part_size,
            described: format!("{shown} at {endpoint}"),
        })
    }

    /// `s3://bucket/prefix at ENDPOINT`.
    pub fn describe(&self) -> String {
        self.described.clone()
    }

    /// The multipart part size (and single-PUT threshold), bytes.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    fn under(&self, rest: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(rest)
        } else {
            Key::from(format!("{}/{rest}", self.prefix))
        }
    }

    fn key(&self, sha256: &str) -> Key {
        self.under(&format!(
            "blobs/sha256/{}/{sha256}",
            &sha256[..2.min(sha256.len())]
        ))
    }

    /// Every blob under the prefix.
    pub async fn list(&self) -> std::io::Result<Vec<BlobInfo>> {
        let base = self.under("blobs/sha256");
        let mut s = self.store.list(Some(&base));
        let mut out = Vec::new();
        while let Some(m) = s.next().await {
            let m = m.map_err(io)?;
            let Some(name) = m.location.filename() else {
                continue;
            };
            if !is_digest(name) {
                continue;
            }
            out.push(BlobInfo {
                sha256: name.to_string(),
                size: m.size,
                modified: m.last_modified.timestamp(),
            });
        }
        out.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        Ok(out)
    }

    /// A blob's whole content.
    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let r = self.store.get(&self.key(sha256)).await.map_err(io)?;
        Ok(r.bytes().await.map_err(io)?.to_vec())
    }

    /// A blob's size.
    pub async fn size(&self, sha256: &str) -> std::io::Result<u64> {
        Ok(self.store.head(&self.key(sha256)).await.map_err(io)?.size)
    }

    /// A blob's last modification, None when absent.
    pub async fn modified(&self, sha256: &str) -> std::io::Result<Option<i64>> {
        match self.store.head(&self.key(sha256)).await {
            Ok(m) => Ok(Some(m.last_modified.timestamp())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Removes a blob (true when it existed).
    pub async fn remove(&self, sha256: &str) -> std::io::Result<bool> {
        let key = self.key(sha256);
        match self.store.head(&key).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(io(e)),
        }
        self.store.delete(&key).await.map_err(io)?;
        Ok(true)
    }

    /// A download, streamed from the object store (a ranged GET for a range: its size is
    /// asked first, so that an unsatisfiable range is an `InvalidInput` error).
    pub async fn get(&self, sha256: &str, range: Option<ByteRange>) -> std::io::Result<Download> {
        let key = self.key(sha256);
        let opts = match range {
            None => GetOptions::default(),
            Some(r) => {
                let total = self.store.head(&key).await.map_err(io)?.size;
                let r = r.resolve(total).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "range not satisfiable")
                })?;
                GetOptions {
                    range: Some(GetRange::Bounded(r)),
                    ..GetOptions::default()
                }
            }
        };
        let r = self.store.get_opts(&key, opts).await.map_err(io)?;
        let (total, range) = (r.meta.size, r.range.clone());
        let body = r.into_stream().map_err(io).boxed();
        Ok(Download { total, range, body })
    }

    /// Readiness: a probe object written and removed under the prefix.
    pub async fn probe(&self) -> Result<String, String> {
        let key = self.under(&format!(".readyz/{}", super::random_hex(8)));
        let fail = |e: object_store::Error| format!("{}: {}", self.described, chain(&e));
        self.store
            .put(&key, PutPayload::from_static(b"relkit readiness probe\n"))
            .await
            .map_err(fail)?;
        self.store.delete(&key).await.map_err(fail)?;
        Ok(format!("{} writable", self.described))
    }

    /// Stores verified bytes under their digest (written again when present: the time is
    /// refreshed, see the parent module).
    pub async fn put(&self, sha256: &str, bytes: Bytes) -> std::io::Result<()> {
        self.store
            .put(&self.key(sha256), PutPayload::from_bytes(bytes))
            .await
            .map_err(io)?;
        Ok(())
    }

    /// Receives a body (see the module doc).
    pub async fn receive(
        &self,
        body: axum::body::Body,
        limit: u64,
        declared: &str,
    ) -> Result<Stored, UploadError> {
        let declared = declared.to_ascii_lowercase();
        let key = self.key(&declared);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut head = bytes::BytesMut::new();
        let mut upload: Option<Pending> = None;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(UploadError::Interrupted)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(UploadError::TooLarge { limit });
            }
            hasher.update(&chunk);
            match &mut upload {
                Some(p) => {
                    let w = p.0.as_mut().expect("live until finished");
                    w.wait_for_capacity(PART_CONCURRENCY).await.map_err(io)?;
                    w.put(chunk);
                }
                None if head.len() + chunk.len() > self.part_size => {
                    let m = self.store.put_multipart(&key).await.map_err(io)?;
                    let mut w = WriteMultipart::new_with_chunk_size(m, self.part_size);
                    w.put(std::mem::take(&mut head).freeze());
                    w.put(chunk);
                    upload = Some(Pending(Some(w)));
                }
                None => head.extend_from_slice(&chunk),
            }
        }
        let sha256 = hex::encode(hasher.finalize());
        if sha256 != declared {
            if let Some(mut p) = upload {
                // Aborted now rather than by the guard's background task.
                if let Some(w) = p.0.take() {
                    let _ = w.abort().await;
                }
            }
            return Err(UploadError::DigestMismatch {
                declared,
                actual: sha256,
            });
        }
        match upload {
            Some(mut p) => {
                let w = p.0.take().expect("live until finished");
                w.finish().await.map_err(io)?;
            }
            None => self.put(&sha256, head.freeze()).await?,
        }
        Ok(Stored { sha256, size })
    }
}

/// A multipart upload in progress: aborted in the background when dropped unfinished (a
/// request dropped mid-body, an error), so that its parts do not linger.
struct Pending(Option<WriteMultipart>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(w) = self.0.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                let _ = w.abort().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s = S3Spec::parse("s3://relkit-blobs/a/b/").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str()),
            ("relkit-blobs", "a/b")
        );
        let s = S3Spec::parse("s3://relkit").unwrap();
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("relkit", ""));
        for bad in [
            "s3://",
            "s3://Up",
            "s3://ab",
            "s3://bucket/a//b",
            "s3://bucket/../x",
            "/srv",
        ] {
            assert!(S3Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_resolve() {
        assert_eq!(ByteRange::Bounded(2, 4).resolve(10), Some(2..5));
        assert_eq!(ByteRange::Bounded(8, 40).resolve(10), Some(8..10));
        assert_eq!(ByteRange::From(9).resolve(10), Some(9..10));
        assert_eq!(ByteRange::From(10).resolve(10), None);
        assert_eq!(ByteRange::Suffix(3).resolve(10), Some(7..10));
        assert_eq!(ByteRange::Suffix(30).resolve(10), Some(0..10));
        assert_eq!(ByteRange::Suffix(0).resolve(10), None);
    }
}
