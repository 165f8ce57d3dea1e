//! A loopback HTTP/1.1 server for the `db update` tests (std only: one thread per
//! connection, `Connection: close`), logging what it served, and the shared real data laid
//! out as the feeds publish it: OSV `ECOSYSTEM/all.zip`, NVD CVE API 2.0 pages, a
//! RustSec archive. Also used by the CLI's tests (`crates/relkit/tests/it/db_update.rs`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The path without the query.
    pub path: String,
    /// Query parameters, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (Content-Length and Connection are added).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Close the connection after this many body bytes (Content-Length still the full size).
    pub cut_after: Option<usize>,
}

impl Reply {
    /// A status with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            cut_after: None,
        }
    }

    /// 200 with a body.
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            body,
            ..Reply::status(200)
        }
    }

    /// No answer at all: the connection is closed as soon as the request is read.
    pub fn hang_up() -> Reply {
        Reply::status(0)
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// What was served.
#[derive(Debug, Clone)]
pub struct Served {
    /// Path and query as requested.
    pub target: String,
    /// The request's headers.
    pub headers: Vec<(String, String)>,
    /// Status sent.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: usize,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server on 127.0.0.1 (stops with the test process).
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<Vec<Served>>>,
}

impl Server {
    /// Starts a server answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let l2 = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (h, l) = (handler.clone(), l2.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(stream, &*h, &l);
                });
            }
        });
        Server { base, log }
    }

    /// Everything served so far.
    pub fn served(&self) -> Vec<Served> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the log.
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn serve_one(stream: TcpStream, h: &Handler, log: &Mutex<Vec<Served>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l)? == 0 || l.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let req = Request {
        path: path.to_string(),
        query,
        headers: headers.clone(),
    };
    let reply = h(&req);
    let mut out = stream;
    if reply.status == 0 {
        log.lock().unwrap().push(Served {
            target,
            headers,
            status: 0,
            bytes: 0,
        });
        let _ = out.shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    out.write_all(head.as_bytes())?;
    let n = reply
        .cut_after
        .unwrap_or(reply.body.len())
        .min(reply.body.len());
    log.lock().unwrap().push(Served {
        target,
        headers,
        status: reply.status,
        bytes: n,
    });
    out.write_all(&reply.body[..n])?;
    out.flush()?;
    let _ = out.shutdown(std::net::Shutdown::Both);
    // Drain whatever else the client sent.
    let _ = reader.read(&mut [0u8; 16]);
    Ok(())
}

/// A static resource with an ETag and a Last-Modified, answering conditional requests.
pub fn conditional(req: &Request, body: &[u8], etag: &str, last_modified: &str) -> Reply {
    if req.header("if-none-match") == Some(etag)
        || (req.header("if-none-match").is_none()
            && req.header("if-modified-since") == Some(last_modified))
    {
        return Reply::status(304).header("ETag", etag);
    }
    Reply::ok(body.to_vec())
        .header("ETag", etag)
        .header("Last-Modified", last_modified)
        .header("Content-Type", "application/zip")
}

/// Answers `Range: bytes=N-` on a 200 as a static file server does: 206 with `Content-Range`
/// and the body from N when `If-Range` is absent or equals the reply's ETag or Last-Modified;
/// otherwise (no Range, a changed file, N past the end) the reply as it is.
pub fn ranged(req: &Request, reply: Reply) -> Reply {
    let Some(from) = req
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return reply;
    };
    let validator = |name: &str| {
        reply
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let current = req
        .header("if-range")
        .is_none_or(|v| Some(v) == validator("etag") || Some(v) == validator("last-modified"));
    let len = reply.body.len();
    if reply.status != 200 || !current || from >= len {
        return reply;
    }
    let range = format!("bytes {from}-{}/{len}", len - 1);
    Reply {
        status: 206,
        body: reply.body[from..].to_vec(),
        ..reply
    }
    .header("Content-Range", &range)
}

/// `../shared/data/REL`, or `None` after `relkit_testkit::missing`.
pub fn shared(manifest_dir: &str, rel: &str) -> Option<PathBuf> {
    let p = Path::new(manifest_dir)
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        relkit_testkit::missing(&format!("shared data {}", p.display()));
        None
    }
}

/// The files of an archive (read by relkit-archive), `(path, bytes)` in archive order.
pub fn members(archive: &Path) -> Vec<(String, Vec<u8>)> {
    struct Collect(Vec<(String, Vec<u8>)>);
    impl relkit_archive::read::Visit for Collect {
        fn visit(
            &mut self,
            m: relkit_archive::read::Member,
            content: &mut dyn Read,
        ) -> std::io::Result<relkit_archive::read::Flow> {
            if m.kind == relkit_archive::read::MemberKind::File {
                let mut b = Vec::new();
                content.read_to_end(&mut b)?;
                self.0.push((m.display_path(), b));
            }
            Ok(relkit_archive::read::Flow::Continue)
        }
    }
    let mut c = Collect(Vec::new());
    relkit_archive::read::walk_path(archive, &mut c).unwrap();
    c.0
}

/// Writes `files` under `dir` (relative paths).
pub fn write_tree(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// An OSV export as OSV publishes it: a zip of `ID.json` members at the top level.
pub fn osv_zip(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), records);
    let entries =
        relkit_archive::collect_tree(dir.path(), &relkit_archive::TreeOptions::default()).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    relkit_archive::write::zip::write_zip(&entries, &mut out).unwrap();
    out.into_inner()
}

/// A tar.gz of `files` under a top directory, as GitHub's `archive/refs/heads/main.tar.gz`.
pub fn tar_gz(top: &str, files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    let opts = relkit_archive::TreeOptions {
        prefix: Some(top.as_bytes().to_vec()),
        ..Default::default()
    };
    let entries = relkit_archive::collect_tree(dir.path(), &opts).unwrap();
    let mut gz = relkit_archive::write::gzip::GzipWriter::new(Vec::new(), 6);
    relkit_archive::write::tar::write_tar(&entries, &Default::default(), &mut gz).unwrap();
    gz.finish().unwrap()
}

/// The Go vulndb's OSV records (`GO-*.json`) from the shared export, as `ID.json` members.
pub fn go_records(manifest_dir: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let tarball = shared(manifest_dir, "osv/golang-vulndb-osv.tar.xz")?;
    Some(
        members(&tarball)
            .into_iter()
            .filter(|(n, _)| {
                n.ends_with(".json") && n.rsplit('/').next().unwrap().starts_with("GO-")
            })
            .map(|(n, b)| (n.rsplit('/').next().unwrap().to_string(), b))
            .collect(),
    )
}

/// RustSec's OSV records (the `osv` branch's `crates/RUSTSEC-*.json`) in the shared vulns.
pub fn crates_io_records(manifest_dir: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let dir = shared(manifest_dir, "vulns/osv/rustsec")?;
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    Some(out)
}

/// The shared NVD CVE records (`cve` objects): the per-CVE files and the real API page's
/// items, one per id.
pub fn nvd_cves(manifest_dir: &str) -> Option<Vec<Value>> {
    let dir = shared(manifest_dir, "vulns/nvd")?;
    let mut by_id = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            by_id.insert(v["id"].as_str().unwrap().to_string(), v);
        }
    }
    let page: Value = serde_json::from_slice(
        &std::fs::read(dir.join("api-pages/vunnel-full-page.json")).unwrap(),
    )
    .unwrap();
    for item in page["vulnerabilities"].as_array().unwrap() {
        let cve = item["cve"].clone();
        by_id
            .entry(cve["id"].as_str().unwrap().to_string())
            .or_insert(cve);
    }
    Some(by_id.into_values().collect())
}

/// Seconds since the epoch of a time as NVD writes it.
pub fn secs(s: &str) -> i64 {
    relkit_vuln::freshness::parse_time(s)
        .unwrap_or_else(|| panic!("a time: {s}"))
        .unix_timestamp()
}

/// NVD CVE API 2.0 over `cves`: `lastModStartDate`/`lastModEndDate` (both or neither, at
/// most 120 days apart, else 404 as NVD answers), `resultsPerPage` (≤ 2000) and
/// `startIndex` paging, items `{"cve": …}` in a stable order.
pub fn nvd_page(req: &Request, cves: &[Value]) -> Reply {
    let per: usize = req
        .param("resultsPerPage")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let start: usize = req
        .param("startIndex")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if per > 2000 {
        return Reply::status(404);
    }
    let range = match (req.param("lastModStartDate"), req.param("lastModEndDate")) {
        (None, None) => None,
        (Some(a), Some(b)) => {
            let (a, b) = (secs(a), secs(b));
            if b - a > 120 * 86_400 || b < a {
                return Reply::status(404);
            }
            Some((a, b))
        }
        _ => return Reply::status(404),
    };
    let selected: Vec<&Value> = cves
        .iter()
        .filter(|c| {
            range.is_none_or(|(a, b)| {
                let t = secs(c["lastModified"].as_str().unwrap());
                a <= t && t <= b
            })
        })
        .collect();
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(per)
        .map(|c| json!({ "cve": c }))
        .collect();
    let body = json!({
        "resultsPerPage": page.len(),
        "startIndex": start,
        "totalResults": selected.len(),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-12-05T12:00:00.000",
        "vulnerabilities": page,
    });
    Reply::ok(serde_json::to_vec(&body).unwrap()).header("Content-Type", "application/json")
}
