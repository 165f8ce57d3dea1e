//! HTTP with the behaviour feeds need: timeouts, a request-rate limit (NVD's), bounded
//! retries with backoff on 403 / 429 / 503 (Retry-After honoured) and on connections refused,
//! reset or timed out, conditional requests (ETag / Last-Modified), and downloads to a file
//! that are checked against their full length and resume after an interruption (`Range` /
//! `If-Range`, within a run and across runs).
//! `file://` URLs are read from disk, so an air-gapped copy works like a mirror.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::config::HttpConfig;
use crate::error::ErrorKind;

/// The validators of a previous download of one URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The URL they belong to (a changed URL is downloaded unconditionally).
    pub url: String,
    /// The ETag the server sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The Last-Modified the server sent (for `file://`: the file's size and mtime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// What a conditional download found.
#[derive(Debug)]
pub enum Fetched {
    /// Unchanged since the validators were taken (HTTP 304, or the same local file).
    NotModified,
    /// New content, in a file, with its new validators.
    File {
        /// The downloaded copy (removed when dropped), or the local file itself.
        file: Download,
        /// Validators for the next run.
        validators: Validators,
        /// Bytes transferred.
        bytes: u64,
    },
}

/// A downloaded file: a temporary file, or a `file://` source read in place.
#[derive(Debug)]
pub enum Download {
    /// Downloaded into a temporary file.
    Temp(tempfile::TempPath),
    /// A local file.
    Local(PathBuf),
}

impl Download {
    /// Its path.
    pub fn path(&self) -> &Path {
        match self {
            Download::Temp(t) => t,
            Download::Local(p) => p,
        }
    }
}

/// A sliding-window request limit: at most `max` requests in any `window`.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    window: Duration,
    sent: VecDeque<Instant>,
}

impl Limiter {
    /// A limit of `max` requests per `window`.
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter {
            max: max.max(1),
            window,
            sent: VecDeque::new(),
        }
    }

    /// Waits until one more request is allowed and counts it.
    fn acquire(&mut self, progress: &Progress) {
        let now = Instant::now();
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.max
            && let Some(first) = self.sent.front()
        {
            let wait = self.window.saturating_sub(now.duration_since(*first));
            progress(crate::Event::Waiting {
                seconds: wait.as_secs_f64(),
                why: "rate limit",
            });
            std::thread::sleep(wait);
            self.sent.pop_front();
        }
        self.sent.push_back(Instant::now());
    }
}

/// An HTTP client for feeds.
pub struct Http {
    agent: ureq::Agent,
    policy: HttpConfig,
}

/// One GET request.
pub struct Get<'a> {
    /// The URL.
    pub url: &'a str,
    /// Extra headers (the API key among them: never logged).
    pub headers: Vec<(&'static str, String)>,
    /// Whether this is NVD (for the give-up message).
    pub nvd: bool,
}

type Response = ureq::http::Response<ureq::Body>;

impl Http {
    /// A client with the configured timeouts; proxies from `HTTPS_PROXY` / `HTTP_PROXY` /
    /// `ALL_PROXY` as ureq reads them.
    pub fn new(policy: &HttpConfig) -> Http {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(policy.timeout_secs)))
            .timeout_recv_body(Some(Duration::from_secs(policy.body_timeout_secs)))
            .user_agent(concat!(
                "relkit/",
                env!("CARGO_PKG_VERSION"),
                " (db update)"
            ))
            .build();
        Http {
            agent: ureq::Agent::new_with_config(config),
            policy: policy.clone(),
        }
    }

    /// Sends a GET, retrying on 403 / 429 / 503 with backoff (Retry-After honoured, no wait
    /// longer than the configured maximum) up to the configured number of retries, and as
    /// many times on a connection refused, reset or timed out before an answer. Other error
    /// statuses fail at once; 304 and successes are returned.
    pub fn get(
        &self,
        req: &Get,
        mut limiter: Option<&mut Limiter>,
        progress: &Progress,
    ) -> Result<Response, ErrorKind> {
        let mut retries = 0;
        let mut failures = 0;
        loop {
            if let Some(l) = limiter.as_deref_mut() {
                l.acquire(progress);
            }
            let mut r = self.agent.get(req.url);
            for (k, v) in &req.headers {
                r = r.header(*k, v);
            }
            let mut resp = match r.call() {
                Ok(resp) => resp,
                Err(e) if transient(&e) => {
                    if failures >= self.policy.max_retries {
                        return Err(ErrorKind::Unreachable {
                            retries: failures,
                            source: Box::new(e),
                        });
                    }
                    let wait = self.backoff(failures);
                    progress(crate::Event::Waiting {
                        seconds: wait.as_secs_f64(),
                        why: "no answer (connection refused, reset or timed out)",
                    });
                    std::thread::sleep(wait);
                    failures += 1;
                    continue;
                }
                Err(e) => return Err(ErrorKind::Request(Box::new(e))),
            };
            let status = resp.status().as_u16();
            if matches!(status, 403 | 429 | 503) {
                if retries >= self.policy.max_retries {
                    return Err(ErrorKind::GaveUp {
                        status,
                        retries,
                        nvd: req.nvd,
                    });
                }
                let wait = self.wait_for(&resp, retries);
                // Drain a small body so that the connection can be reused.
                let _ = resp.body_mut().with_config().limit(64 << 10).read_to_vec();
                progress(crate::Event::Waiting {
                    seconds: wait.as_secs_f64(),
                    why: match status {
                        429 => "HTTP 429 (rate limited)",
                        503 => "HTTP 503 (unavailable)",
                        _ => "HTTP 403 (NVD's rate limit answer)",
                    },
                });
                std::thread::sleep(wait);
                retries += 1;
                continue;
            }
            if status >= 400 {
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 << 10)
                    .read_to_string()
                    .unwrap_or_default();
                return Err(ErrorKind::Status {
                    status,
                    body: body
                        .chars()
                        .take(300)
                        .collect::<String>()
                        .trim()
                        .to_string(),
                });
            }
            return Ok(resp);
        }
    }

    fn wait_for(&self, resp: &Response, retries: u32) -> Duration {
        let max = Duration::from_secs(self.policy.max_wait_secs);
        let told = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        told.unwrap_or_else(|| self.backoff(retries)).min(max)
    }

    /// The wait before retry number `retries` (0 first): the configured backoff, doubled on
    /// each retry, never longer than the configured maximum.
    pub fn backoff(&self, retries: u32) -> Duration {
        Duration::from_millis(
            self.policy
                .backoff_ms
                .saturating_mul(1u64 << retries.min(16)),
        )
        .min(Duration::from_secs(self.policy.max_wait_secs))
    }

    /// The configured number of retries.
    pub fn max_retries(&self) -> u32 {
        self.policy.max_retries
    }

    /// Downloads `url` unless the validators say it did not change, resuming where an
    /// interrupted download stopped.
    ///
    /// The bytes go to `partial` (next to the DB), its validators and full length to
    /// `partial` + `.meta`. A body that ends early or a connection that drops, resets or
    /// times out is retried (bounded, with backoff) with `Range: bytes=N-` and `If-Range`
    /// (a strong ETag, else Last-Modified); a `206` is taken only when its `Content-Range`
    /// starts at N and ends at the full length seen before, a `200` starts over (the server
    /// ignored Range or the content changed). When the retries run out the partial stays on
    /// disk for the next run, which resumes from it; a partial whose URL or validators no
    /// longer match is discarded. Only a complete download (its size checked against the
    /// full length) is handed back, moved to a fresh temporary name: a partial file is never
    /// returned for import.
    pub fn fetch(
        &self,
        url: &str,
        old: Option<&Validators>,
        partial: &Path,
        progress: &Progress,
    ) -> Result<Fetched, ErrorKind> {
        if let Some(path) = url.strip_prefix("file://") {
            return fetch_local(url, Path::new(path), old);
        }
        let old = old.filter(|v| v.url == url);
        let mut kept = Partial::open(partial, url)?;
        let mut transferred = 0u64;
        let mut retries = 0u32;
        loop {
            let attempt = self.attempt(url, old, &mut kept, &mut transferred, progress);
            let (why, error) = match attempt {
                Ok(Attempt::NotModified) => {
                    kept.discard();
                    return Ok(Fetched::NotModified);
                }
                Ok(Attempt::Complete) => {
                    let validators = kept.validators();
                    let file = kept.finish(archive_suffix(url))?;
                    return Ok(Fetched::File {
                        file,
                        validators,
                        bytes: transferred,
                    });
                }
                Err(Failed::Interrupted(e)) => {
                    if kept.resumable() {
                        ("the download was interrupted; resuming with Range", e)
                    } else {
                        kept.discard();
                        ("the download was interrupted; starting over", e)
                    }
                }
                Err(Failed::Restart(e)) => {
                    kept.discard();
                    ("the partial answer did not fit; starting over", e)
                }
                Err(Failed::Fatal(e)) => {
                    kept.keep_if_resumable();
                    return Err(e);
                }
            };
            if retries >= self.policy.max_retries {
                let at = kept.len;
                let total = kept.meta.total;
                let kept_bytes = if kept.keep_if_resumable() { at } else { 0 };
                return Err(ErrorKind::Interrupted {
                    attempts: retries + 1,
                    kept: kept_bytes,
                    total,
                    source: Box::new(error),
                });
            }
            let wait = self.backoff(retries);
            progress(crate::Event::Waiting {
                seconds: wait.as_secs_f64(),
                why,
            });
            std::thread::sleep(wait);
            retries += 1;
        }
    }

    /// One request of a download: conditional on the last import's validators, and a range
    /// request when part of the file is already here.
    fn attempt(
        &self,
        url: &str,
        old: Option<&Validators>,
        kept: &mut Partial,
        transferred: &mut u64,
        progress: &Progress,
    ) -> Result<Attempt, Failed> {
        let mut headers = Vec::new();
        if let Some(v) = old {
            if let Some(e) = &v.etag {
                headers.push(("If-None-Match", e.clone()));
            }
            if let Some(m) = &v.last_modified {
                headers.push(("If-Modified-Since", m.clone()));
            }
        }
        let from = kept.len;
        if from > 0
            && let Some(validator) = kept.if_range()
        {
            headers.push(("Range", format!("bytes={from}-")));
            headers.push(("If-Range", validator));
        }
        let resp = match self.get(
            &Get {
                url,
                headers,
                nvd: false,
            },
            None,
            progress,
        ) {
            Ok(r) => r,
            // The range cannot be served: whatever is here is not a prefix of the file.
            Err(e @ ErrorKind::Status { status: 416, .. }) => return Err(Failed::Restart(e)),
            Err(e) => return Err(Failed::Fatal(e)),
        };
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(Attempt::NotModified);
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let start = if status == 206 {
            let range = header("content-range").unwrap_or_default();
            let fits = content_range(&range).filter(|&(first, last, total)| {
                from > 0
                    && first == from
                    && last + 1 == total
                    && kept.meta.total.is_none_or(|t| t == total)
            });
            let Some((_, _, total)) = fits else {
                return Err(Failed::Restart(ErrorKind::Range(format!(
                    "asked for bytes {from}- of {}, the server sent 206 with Content-Range {range:?}",
                    kept.meta
                        .total
                        .map_or_else(|| "unknown length".to_string(), |t| t.to_string())
                ))));
            };
            kept.meta.total = Some(total);
            from
        } else {
            // The whole file: the server ignored Range, or the content changed.
            let total = header("content-length").and_then(|v| v.parse().ok());
            kept.restart(PartialMeta {
                url: url.to_string(),
                etag: header("etag"),
                last_modified: header("last-modified"),
                total,
            })
            .map_err(Failed::Fatal)?;
            0
        };
        progress(crate::Event::Download {
            total: kept.meta.total,
        });
        let expected = kept.meta.total.map(|t| t - start);
        let received = receive(resp, &mut kept.file, start, expected, progress);
        let got = match &received {
            Ok(n) => *n,
            Err(Failed::Interrupted(ErrorKind::Dropped { bytes, .. })) => bytes - start,
            Err(Failed::Interrupted(ErrorKind::WrongLength { bytes, .. })) => bytes - start,
            Err(_) => 0,
        };
        *transferred += got;
        kept.len = start + got;
        received?;
        if let Some(total) = kept.meta.total
            && kept.len != total
        {
            return Err(Failed::Restart(ErrorKind::WrongLength {
                bytes: kept.len,
                expected: total,
            }));
        }
        progress(crate::Event::Downloaded);
        Ok(Attempt::Complete)
    }
}

/// How one download request ended.
enum Attempt {
    /// HTTP 304.
    NotModified,
    /// The whole file is here.
    Complete,
}

/// Why one download request did not complete.
enum Failed {
    /// The body ended early: resume with Range (or start over without a validator).
    Interrupted(ErrorKind),
    /// What is here is no prefix of the file: start over.
    Restart(ErrorKind),
    /// Not retried here (an error status, a local file error; the request's own retries are
    /// spent).
    Fatal(ErrorKind),
}

/// `bytes FIRST-LAST/TOTAL` → `(FIRST, LAST, TOTAL)`; `None` for anything else (a `*`
/// total included).
fn content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let num = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (first, last, total) = (num(first)?, num(last)?, num(total)?);
    (first <= last && last < total).then_some((first, last, total))
}

/// What a kept partial download belongs to, in `PARTIAL.meta`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PartialMeta {
    url: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    /// The full length (Content-Length of the 200, or the total of a Content-Range).
    #[serde(default)]
    total: Option<u64>,
}

/// A partial download on disk, locked while this run uses it. Removed when dropped unless
/// kept for the next run (a validator to resume with, some bytes) or moved away complete.
struct Partial {
    path: PathBuf,
    meta_path: PathBuf,
    file: File,
    /// Bytes here (the file's length).
    len: u64,
    meta: PartialMeta,
    keep: bool,
}

impl Partial {
    /// Opens (creating) the partial file for `url`: what a previous run kept is used when its
    /// metadata names this URL and a validator and its length fits; anything else is emptied.
    fn open(path: &Path, url: &str) -> Result<Partial, ErrorKind> {
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| ErrorKind::Io { path, source }
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io(path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(ErrorKind::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        "another relkit db update is downloading into this file",
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(path)(e)),
        }
        let mut meta_path = path.as_os_str().to_owned();
        meta_path.push(".meta");
        let mut p = Partial {
            path: path.to_path_buf(),
            meta_path: PathBuf::from(meta_path),
            len: file.metadata().map_err(io(path))?.len(),
            file,
            meta: PartialMeta::default(),
            keep: false,
        };
        let meta: Option<PartialMeta> = std::fs::read(&p.meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        match meta {
            Some(m)
                if m.url == url
                    && p.len > 0
                    && m.total.is_none_or(|t| p.len < t)
                    && (m.etag.is_some() || m.last_modified.is_some()) =>
            {
                p.meta = m;
            }
            _ => p.discard(),
        }
        p.meta.url = url.to_string();
        Ok(p)
    }

    /// The `If-Range` value: a strong ETag, else the Last-Modified date (a weak ETag cannot
    /// validate a range).
    fn if_range(&self) -> Option<String> {
        self.meta
            .etag
            .clone()
            .filter(|e| !e.starts_with("W/"))
            .or_else(|| self.meta.last_modified.clone())
    }

    /// Whether a range request can continue these bytes.
    fn resumable(&self) -> bool {
        self.len > 0 && self.if_range().is_some()
    }

    fn validators(&self) -> Validators {
        Validators {
            url: self.meta.url.clone(),
            etag: self.meta.etag.clone(),
            last_modified: self.meta.last_modified.clone(),
        }
    }

    /// Empties the file and forgets its metadata.
    fn discard(&mut self) {
        let _ = self.file.set_len(0);
        let _ = std::fs::remove_file(&self.meta_path);
        self.len = 0;
        self.meta.etag = None;
        self.meta.last_modified = None;
        self.meta.total = None;
    }

    /// Starts the file over for a new full answer; its metadata is written (temporary file
    /// and rename) before any byte, so what is on disk always says what it is part of.
    fn restart(&mut self, meta: PartialMeta) -> Result<(), ErrorKind> {
        self.discard();
        self.meta = meta;
        if self.if_range().is_none() {
            return Ok(());
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let io = |source| ErrorKind::Io {
            path: self.meta_path.display().to_string(),
            source,
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(&serde_json::to_vec(&self.meta).expect("metadata serializes"))
            .map_err(io)?;
        tmp.persist(&self.meta_path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Keeps the bytes for the next run when they can be resumed; says whether it did.
    fn keep_if_resumable(&mut self) -> bool {
        self.keep = self.resumable() && self.meta_path.exists();
        self.keep
    }

    /// The complete file, moved to a fresh temporary name with `suffix` (its metadata
    /// removed first, so that nothing is left that looks like a partial).
    fn finish(mut self, suffix: &str) -> Result<Download, ErrorKind> {
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| ErrorKind::Io { path, source }
        };
        self.file.flush().map_err(io(&self.path))?;
        let _ = std::fs::remove_file(&self.meta_path);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix("download-")
            .suffix(suffix)
            .tempfile_in(dir)
            .map_err(io(dir))?
            .into_temp_path();
        std::fs::rename(&self.path, &tmp).map_err(io(&self.path))?;
        self.keep = true; // Moved: nothing left to remove.
        Ok(Download::Temp(tmp))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.meta_path);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Appends a response body to `out` (positioned at `start`), reporting the position; the
/// body must be `expected` bytes long when that is known (else its Content-Length when there
/// is one). Returns the bytes received; an early end is [`Failed::Interrupted`].
fn receive(
    resp: Response,
    out: &mut File,
    start: u64,
    expected: Option<u64>,
    progress: &Progress,
) -> Result<u64, Failed> {
    let io = |source| {
        Failed::Fatal(ErrorKind::Io {
            path: "the partial download".into(),
            source,
        })
    };
    out.seek(SeekFrom::Start(start)).map_err(io)?;
    out.set_len(start).map_err(io)?;
    let length: Option<u64> = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if let (Some(e), Some(l)) = (expected, length)
        && e != l
    {
        return Err(Failed::Restart(ErrorKind::WrongLength {
            bytes: l,
            expected: e,
        }));
    }
    let expected = expected.or(length);
    let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 256 << 10];
    let mut bytes = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(Failed::Interrupted(ErrorKind::Dropped {
                    bytes: start + bytes,
                    expected: expected.map(|e| start + e),
                    source,
                }));
            }
        };
        out.write_all(&buf[..n]).map_err(io)?;
        bytes += n as u64;
        progress(crate::Event::Bytes(start + bytes));
    }
    out.flush().map_err(io)?;
    match expected {
        Some(e) if bytes < e => Err(Failed::Interrupted(ErrorKind::WrongLength {
            bytes: start + bytes,
            expected: start + e,
        })),
        Some(e) if bytes > e => Err(Failed::Restart(ErrorKind::WrongLength {
            bytes: start + bytes,
            expected: start + e,
        })),
        _ => Ok(bytes),
    }
}

/// Whether a request error may pass on its own: no connection, a connection reset or
/// closed before the answer, a timeout.
fn transient(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::BodyStalled
    )
}

/// The archive suffix of a URL's path (`.zip`, `.tar.gz`, …); `.tar.gz` (GitHub's archives)
/// when it names none.
pub(crate) fn archive_suffix(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [
        ".zip", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst", ".tar",
    ]
    .into_iter()
    .find(|s| path.ends_with(s))
    .unwrap_or(".tar.gz")
}

/// Copies a response body into `out`, reporting progress; the byte count must match the
/// Content-Length when there is one.
pub fn save(resp: Response, out: &mut File, progress: &Progress) -> Result<u64, ErrorKind> {
    let expected: Option<u64> = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    progress(crate::Event::Download { total: expected });
    let mut reader = resp.into_body().into_with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 256 << 10];
    let mut bytes = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(ErrorKind::Dropped {
                    bytes,
                    expected,
                    source,
                });
            }
        };
        out.write_all(&buf[..n]).map_err(|source| ErrorKind::Io {
            path: "a temporary file".into(),
            source,
        })?;
        bytes += n as u64;
        progress(crate::Event::Bytes(bytes));
    }
    out.flush().map_err(|source| ErrorKind::Io {
        path: "a temporary file".into(),
        source,
    })?;
    if let Some(expected) = expected
        && expected != bytes
    {
        return Err(ErrorKind::WrongLength { bytes, expected });
    }
    progress(crate::Event::Downloaded);
    Ok(bytes)
}

/// A `file://` source: unchanged when its size and mtime are those seen last time.
fn fetch_local(url: &str, path: &Path, old: Option<&Validators>) -> Result<Fetched, ErrorKind> {
    let meta = std::fs::metadata(path).map_err(|source| ErrorKind::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let validators = Validators {
        url: url.to_string(),
        etag: None,
        last_modified: Some(format!("size {} mtime {mtime}", meta.len())),
    };
    if old == Some(&validators) {
        return Ok(Fetched::NotModified);
    }
    Ok(Fetched::File {
        file: Download::Local(path.to_path_buf()),
        validators,
        bytes: meta.len(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_ranges_are_read_strictly() {
        use super::content_range;
        assert_eq!(content_range("bytes 100-999/1000"), Some((100, 999, 1000)));
        assert_eq!(content_range("bytes 0-0/1"), Some((0, 0, 1)));
        for bad in [
            "bytes 100-999/*",
            "bytes */1000",
            "bytes 100-1000/1000",
            "bytes 200-100/1000",
            "items 100-999/1000",
            "bytes -5-999/1000",
            "bytes +1-999/1000",
            "",
        ] {
            assert_eq!(content_range(bad), None, "{bad}");
        }
    }
}
