//! Prometheus metrics of the server, served at `GET /metrics` in the text exposition format
//! (version 0.0.4).
//!
//! Why no metrics crate: `prometheus-client` (or `prometheus`) is not in the offline registry
//! this project builds from, and the format is a few lines of text; the encoder below follows
//! the format's rules (one `# HELP` and `# TYPE` per family, label values escaped, histogram
//! buckets cumulative with `le="+Inf"` equal to `_count`).
//!
//! Label values come only from bounded sets: the route *template* of [`crate::api::ROUTES`]
//! (never the raw path; requests no route matches are `route="unmatched"`), the method (the
//! usual ones, else `OTHER`), the status class (`2xx`…), and for verification failures the
//! kind of upload and the API error code. No project, version or file name ever becomes a
//! label.
//!
//! What is measured, by [`track`] (the outermost layer of the router):
//! - `relkit_serve_http_requests_total{route,method,status}`: answered requests;
//! - `relkit_serve_http_request_duration_seconds{route,method}`: time until the response head
//!   is ready (for uploads: the whole body received, verified and stored);
//! - `relkit_serve_uploaded_bytes_total` / `relkit_serve_downloaded_bytes_total`: request and
//!   response body bytes actually read and sent (all routes);
//! - `relkit_serve_verification_failures_total{kind,reason}`: uploads and publications refused
//!   because what was sent did not verify (`verification_failed`: a checker of relkit-sbom or
//!   relkit-attest refused an SBOM, signature, bundle or provenance; `digest_mismatch`: the
//!   bytes did not hash to the declared SHA-256; `not_publishable`: publication refused);
//! - `process_start_time_seconds`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Upper bounds of the latency histogram's buckets, seconds.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0,
];

/// The route template a request was routed to, put into the response's extensions by the
/// per-route layer (see [`crate::api::router`]).
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

/// The stable code of an API error answer, put into the response's extensions by
/// [`crate::api::ApiError`].
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Families {
    requests: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    latency: BTreeMap<(&'static str, &'static str), Histogram>,
    verification_failures: BTreeMap<(&'static str, &'static str), u64>,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    families: Mutex<Families>,
    uploaded: Arc<AtomicU64>,
    downloaded: Arc<AtomicU64>,
    start_time: f64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A bounded method label.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_class(s: u16) -> &'static str {
    match s / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The kinds of upload a verification failure is counted under.
const KINDS: [&str; 4] = ["sbom", "signature", "bundle", "provenance"];

/// Codes that mean "what was sent did not verify".
const VERIFICATION_CODES: [&str; 3] = ["verification_failed", "digest_mismatch", "not_publishable"];

/// What kind of upload a route template (and its concrete path) is, for verification
/// failures; None for routes that upload nothing.
fn upload_kind(template: &str, path: &str) -> Option<&'static str> {
    if template.ends_with("/publish") {
        return Some("release");
    }
    if template.ends_with("/files/{file}") {
        return Some("file");
    }
    if template.ends_with("/{kind}/{name}") {
        let segs: Vec<&str> = path.split('/').collect();
        let kind = segs.len().checked_sub(2).map(|i| segs[i])?;
        return Some(
            KINDS
                .iter()
                .find(|k| **k == kind)
                .copied()
                .unwrap_or("other"),
        );
    }
    None
}

/// Escapes a label value: backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A float in the exposition format (`+Inf`, `NaN`, else Rust's shortest round-trip form).
fn float(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// Empty metrics, with the process start time taken now.
    pub fn new() -> Metrics {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Metrics {
            families: Mutex::new(Families::default()),
            uploaded: Arc::default(),
            downloaded: Arc::default(),
            start_time,
        }
    }

    fn families(&self) -> std::sync::MutexGuard<'_, Families> {
        self.families.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one answered request.
    fn observe(
        &self,
        route: &'static str,
        method: &'static str,
        status: u16,
        seconds: f64,
        failure: Option<(&'static str, &'static str)>,
    ) {
        let mut f = self.families();
        *f.requests
            .entry((route, method, status_class(status)))
            .or_default() += 1;
        let h = f.latency.entry((route, method)).or_default();
        for (b, le) in h.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *b += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
        if let Some(k) = failure {
            *f.verification_failures.entry(k).or_default() += 1;
        }
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let f = self.families().clone_parts();
        let mut out = String::new();
        family(
            &mut out,
            "relkit_serve_http_requests_total",
            "counter",
            "HTTP requests answered, by route template, method and status class.",
        );
        for ((route, method, status), n) in &f.requests {
            let l = labels(&[("route", route), ("method", method), ("status", status)]);
            let _ = writeln!(out, "relkit_serve_http_requests_total{l} {n}");
        }
        family(
            &mut out,
            "relkit_serve_http_request_duration_seconds",
            "histogram",
            "Time until the response head is ready (uploads: body received, verified and stored), by route template and method.",
        );
        for ((route, method), h) in &f.latency {
            for (n, le) in h.buckets.iter().zip(BUCKETS) {
                let l = labels(&[("route", route), ("method", method), ("le", &float(le))]);
                let _ = writeln!(
                    out,
                    "relkit_serve_http_request_duration_seconds_bucket{l} {n}"
                );
            }
            let l = labels(&[("route", route), ("method", method), ("le", "+Inf")]);
            let _ = writeln!(
                out,
                "relkit_serve_http_request_duration_seconds_bucket{l} {}",
                h.count
            );
            let l = labels(&[("route", route), ("method", method)]);
            let _ = writeln!(
                out,
                "relkit_serve_http_request_duration_seconds_sum{l} {}",
                float(h.sum)
            );
            let _ = writeln!(
                out,
                "relkit_serve_http_request_duration_seconds_count{l} {}",
                h.count
            );
        }
        family(
            &mut out,
            "relkit_serve_uploaded_bytes_total",
            "counter",
            "Request body bytes received (all routes).",
        );
        let _ = writeln!(
            out,
            "relkit_serve_uploaded_bytes_total {}",
            self.uploaded.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "relkit_serve_downloaded_bytes_total",
            "counter",
            "Response body bytes sent (all routes).",
        );
        let _ = writeln!(
            out,
            "relkit_serve_downloaded_bytes_total {}",
            self.downloaded.load(Ordering::Relaxed)
        );
        family(
            &mut out,
            "relkit_serve_verification_failures_total",
            "counter",
            "Uploads and publications refused because what was sent did not verify, by kind and reason (the API error code).",
        );
        for ((kind, reason), n) in &f.verification_failures {
            let l = labels(&[("kind", kind), ("reason", reason)]);
            let _ = writeln!(out, "relkit_serve_verification_failures_total{l} {n}");
        }
        family(
            &mut out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch, seconds.",
        );
        let _ = writeln!(out, "process_start_time_seconds {}", float(self.start_time));
        out
    }
}

impl Families {
    fn clone_parts(&self) -> Families {
        Families {
            requests: self.requests.clone(),
            latency: self.latency.clone(),
            verification_failures: self.verification_failures.clone(),
        }
    }
}

/// A body that adds the size of every data frame it yields to a counter.
struct Counted {
    inner: Body,
    counter: Arc<AtomicU64>,
}

impl http_body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let p = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &p
            && let Some(d) = frame.data_ref()
        {
            self.counter.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
        p
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn counted(body: Body, counter: &Arc<AtomicU64>) -> Body {
    Body::new(Counted {
        inner: body,
        counter: Arc::clone(counter),
    })
}

/// The outermost middleware: counts body bytes both ways, and records the answered request
/// under its route template (see [`RouteTemplate`]) with its latency and, for refused
/// uploads, the verification failure.
pub async fn track(metrics: Arc<Metrics>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let path = req.uri().path().to_string();
    let req = req.map(|b| counted(b, &metrics.uploaded));
    let resp = next.run(req).await;
    let seconds = start.elapsed().as_secs_f64();
    let route = resp
        .extensions()
        .get::<RouteTemplate>()
        .map(|t| t.0)
        .unwrap_or("unmatched");
    let failure = resp.extensions().get::<ErrorCode>().and_then(|c| {
        let reason = VERIFICATION_CODES.iter().find(|v| **v == c.0)?;
        Some((upload_kind(route, &path)?, *reason))
    });
    metrics.observe(route, method, resp.status().as_u16(), seconds, failure);
    resp.map(|b| counted(b, &metrics.downloaded))
}

/// The per-route middleware: tags the response with its route template.
pub async fn tag(template: &'static str, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.extensions_mut().insert(RouteTemplate(template));
    resp
}
