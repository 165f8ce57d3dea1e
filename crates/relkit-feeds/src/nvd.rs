//! The NVD CVE API 2.0: every CVE paged by `startIndex` (a first run without `since`), or the
//! CVEs modified in `lastModStartDate`..`lastModEndDate` windows of at most 120 days from the
//! source's cursor, each paged until `totalResults`. Requests keep to NVD's published rate
//! limit (5 per 30 s, 50 with an API key). The key travels in the `apiKey` header only.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::NvdConfig;
use crate::error::ErrorKind;
use crate::http::{Get, Http, Limiter};
use crate::{Event, Progress};

/// An API key: shown as `<redacted>` by `Debug`, never part of a message.
#[derive(Clone)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// The key from `NVD_API_KEY`, else from the configured file; `None` without either.
    /// A configured file that cannot be read is an error naming the file, not the key.
    pub fn find(cfg: &NvdConfig) -> Result<Option<ApiKey>, ErrorKind> {
        if let Some(k) = std::env::var("NVD_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            return Ok(Some(ApiKey(k.trim().to_string())));
        }
        let Some(file) = &cfg.api_key_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(file).map_err(|source| ErrorKind::Io {
            path: file.display().to_string(),
            source,
        })?;
        Ok(Some(text.trim().to_string())
            .filter(|k| !k.is_empty())
            .map(ApiKey))
    }
}

/// What the DB keeps between runs: the time up to which NVD's changes are imported.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NvdState {
    /// The end of the last imported window (RFC 3339).
    pub cursor: Option<String>,
}

/// One window of NVD's changes (or the full walk): its verified pages, in a directory.
pub struct Window {
    /// The pages, `page-000000.json`, … (removed when dropped).
    pub dir: tempfile::TempDir,
    /// The CVEs the pages hold.
    pub records: u64,
    /// The requests made for it.
    pub requests: u64,
    /// The bytes received.
    pub bytes: u64,
}

/// A client for one run.
pub struct Nvd<'a> {
    /// The settings.
    pub cfg: &'a NvdConfig,
    /// HTTP.
    pub http: &'a Http,
    /// The key, if any.
    pub key: Option<ApiKey>,
    /// NVD's rate limit.
    pub limiter: Limiter,
    /// Where pages are written.
    pub tmp: &'a Path,
}

/// `2024-01-01T00:00:00.000+00:00`, as NVD's documentation writes times (the `+` escaped).
pub fn api_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000%2B00:00",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The windows from `start` to `end`, each at most `days` long.
pub fn windows(
    start: OffsetDateTime,
    end: OffsetDateTime,
    days: u32,
) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let step = time::Duration::days(days.into());
    let mut out = Vec::new();
    let mut a = start;
    while a < end {
        let b = (a + step).min(end);
        out.push((a, b));
        a = b;
    }
    out
}

impl Nvd<'_> {
    /// A rate limiter for NVD's published limits over the configured window.
    pub fn limiter(cfg: &NvdConfig, keyed: bool) -> Limiter {
        Limiter::new(
            if keyed { 50 } else { 5 },
            Duration::from_secs(cfg.rate_window_secs),
        )
    }

    /// Fetches every page of one query (`range` = the window, `None` for every CVE).
    pub fn fetch(
        &mut self,
        range: Option<(OffsetDateTime, OffsetDateTime)>,
        progress: &Progress,
    ) -> Result<Window, (String, ErrorKind)> {
        let dir = tempfile::Builder::new()
            .prefix("nvd-")
            .tempdir_in(self.tmp)
            .map_err(|source| {
                let path = self.tmp.display().to_string();
                (self.cfg.url.clone(), ErrorKind::Io { path, source })
            })?;
        let mut w = Window {
            dir,
            records: 0,
            requests: 0,
            bytes: 0,
        };
        let dates = range
            .map(|(a, b)| {
                format!(
                    "lastModStartDate={}&lastModEndDate={}&",
                    api_time(a),
                    api_time(b)
                )
            })
            .unwrap_or_default();
        let sep = if self.cfg.url.contains('?') { '&' } else { '?' };
        let mut start: u64 = 0;
        loop {
            let url = format!(
                "{}{sep}{dates}resultsPerPage={}&startIndex={start}",
                self.cfg.url, self.cfg.results_per_page
            );
            let (n, total) = self
                .page(&url, &mut w, start, progress)
                .map_err(|e| (url.clone(), e))?;
            progress(Event::Page {
                start_index: start,
                total,
            });
            start += n;
            if start >= total {
                break;
            }
            if n == 0 {
                return Err((
                    url,
                    ErrorKind::Paging(format!(
                        "an empty page at startIndex {start} while totalResults is {total}"
                    )),
                ));
            }
        }
        Ok(w)
    }

    /// Fetches and verifies one page; returns (CVEs on it, totalResults).
    fn page(
        &mut self,
        url: &str,
        w: &mut Window,
        start: u64,
        progress: &Progress,
    ) -> Result<(u64, u64), ErrorKind> {
        let dest = w.dir.path().join(format!("page-{:06}.json", w.requests));
        let mut headers = Vec::new();
        if let Some(k) = &self.key {
            headers.push(("apiKey", k.0.clone()));
        }
        let get = Get {
            url,
            headers,
            nvd: true,
        };
        // A page is generated per request (no Range): an interrupted one is asked again,
        // within the configured retries.
        let mut retries = 0;
        loop {
            let resp = self.http.get(&get, Some(&mut self.limiter), progress)?;
            w.requests += 1;
            let mut file = std::fs::File::create(&dest).map_err(|source| ErrorKind::Io {
                path: dest.display().to_string(),
                source,
            })?;
            match crate::http::save(resp, &mut file, &|_| {}) {
                Ok(n) => {
                    w.bytes += n;
                    break;
                }
                Err(ErrorKind::Dropped { .. } | ErrorKind::WrongLength { .. })
                    if retries < self.http.max_retries() =>
                {
                    let wait = self.http.backoff(retries);
                    progress(Event::Waiting {
                        seconds: wait.as_secs_f64(),
                        why: "the page was interrupted; asking again",
                    });
                    std::thread::sleep(wait);
                    retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
        let bytes = std::fs::read(&dest).map_err(|source| ErrorKind::Io {
            path: dest.display().to_string(),
            source,
        })?;
        let page: Page = serde_json::from_slice(&bytes).map_err(|source| ErrorKind::Json {
            member: format!("the page at startIndex {start}"),
            source,
        })?;
        if page.start_index != start {
            return Err(ErrorKind::Paging(format!(
                "asked for startIndex {start}, the page says {}",
                page.start_index
            )));
        }
        let n = page.vulnerabilities.len() as u64;
        for (i, v) in page.vulnerabilities.iter().enumerate() {
            if v.get("cve")
                .and_then(|c| c.get("id"))
                .and_then(|id| id.as_str())
                .is_none()
            {
                return Err(ErrorKind::Paging(format!(
                    "the page at startIndex {start}: vulnerabilities[{i}] has no cve.id"
                )));
            }
        }
        w.records += n;
        Ok((n, page.total_results))
    }
}

/// The parts of an API 2.0 page that paging needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    start_index: u64,
    total_results: u64,
    vulnerabilities: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_at_most_the_limit() {
        let t = |s| relkit_vuln::freshness::parse_time(s).unwrap();
        let w = windows(t("2024-01-01T00:00:00Z"), t("2024-09-01T00:00:00Z"), 120);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].1, t("2024-04-30T00:00:00Z"));
        assert_eq!(w[2].1, t("2024-09-01T00:00:00Z"));
        assert!(windows(t("2024-01-01T00:00:00Z"), t("2024-01-01T00:00:00Z"), 120).is_empty());
        assert_eq!(
            api_time(t("2024-04-30T10:11:12Z")),
            "2024-04-30T10:11:12.000%2B00:00"
        );
    }

    #[test]
    fn the_key_is_not_shown() {
        assert_eq!(
            format!("{:?}", ApiKey("s3cr3t".into())),
            "ApiKey(<redacted>)"
        );
    }
}
