//! HTTP with the behaviour feeds need: timeouts, a request-rate limit (NVD's), bounded
//! retries with backoff on 403 / 429 / 503 (Retry-After honoured), conditional requests
//! (ETag / Last-Modified) and downloads to a file that are checked against Content-Length.
//! `file://` URLs are read from disk, so an air-gapped copy works like a mirror.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
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
    /// longer than the configured maximum) up to the configured number of retries. Other
    /// error statuses fail at once; 304 and successes are returned.
    pub fn get(
        &self,
        req: &Get,
        mut limiter: Option<&mut Limiter>,
        progress: &Progress,
    ) -> Result<Response, ErrorKind> {
        let mut retries = 0;
        loop {
            if let Some(l) = limiter.as_deref_mut() {
                l.acquire(progress);
            }
            let mut r = self.agent.get(req.url);
            for (k, v) in &req.headers {
                r = r.header(*k, v);
            }
            let mut resp = r.call().map_err(|e| ErrorKind::Request(Box::new(e)))?;
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
        let backoff = Duration::from_millis(
            self.policy
                .backoff_ms
                .saturating_mul(1u64 << retries.min(16)),
        );
        told.unwrap_or(backoff).min(max)
    }

    /// Downloads `url` into a temporary file in `dir` unless the validators say it did not
    /// change. The body must be as long as its Content-Length.
    pub fn fetch(
        &self,
        url: &str,
        old: Option<&Validators>,
        dir: &Path,
        progress: &Progress,
    ) -> Result<Fetched, ErrorKind> {
        if let Some(path) = url.strip_prefix("file://") {
            return fetch_local(url, Path::new(path), old);
        }
        let old = old.filter(|v| v.url == url);
        let mut headers = Vec::new();
        if let Some(v) = old {
            if let Some(e) = &v.etag {
                headers.push(("If-None-Match", e.clone()));
            }
            if let Some(m) = &v.last_modified {
                headers.push(("If-Modified-Since", m.clone()));
            }
        }
        let resp = self.get(
            &Get {
                url,
                headers,
                nvd: false,
            },
            None,
            progress,
        )?;
        if resp.status().as_u16() == 304 {
            return Ok(Fetched::NotModified);
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = Validators {
            url: url.to_string(),
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        // The importer reads archives by their name's suffix (and checks the magic bytes).
        let tmp = tempfile::Builder::new()
            .prefix("download-")
            .suffix(archive_suffix(url))
            .tempfile_in(dir)
            .map_err(|source| ErrorKind::Io {
                path: dir.display().to_string(),
                source,
            })?;
        let (mut file, path) = tmp.into_parts();
        let bytes = save(resp, &mut file, progress)?;
        Ok(Fetched::File {
            file: Download::Temp(path),
            validators,
            bytes,
        })
    }
}

/// The archive suffix of a URL's path (`.zip`, `.tar.gz`, …); `.tar.gz` (GitHub's archives)
/// when it names none.
fn archive_suffix(url: &str) -> &'static str {
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
