//! `relkit serve --blobs s3://…` against a real S3-compatible server: s3s-fs (the s3s
//! project's S3 server on a file system, installed by `.ci/deps.d/82-s3.sh` into
//! /opt/relkit-s3s; required in CI), started by the test on a loopback port with an access
//! key, its bucket created over SigV4 by `curl --aws-sigv4`:
//! - a release published through relkit with its blobs in the bucket, downloaded back and
//!   re-hashed; a body over the multipart part size goes up as a multipart upload (its
//!   object's ETag says how many parts), a small one in one PUT; a body that does not hash
//!   to its declared digest leaves nothing under either digest's key; range requests give
//!   206 with the right bytes and `Content-Range` (416 outside the blob), on S3 and on the
//!   local directory;
//! - `relkit serve gc` removes an orphan blob (a replaced draft file) from the bucket once
//!   old enough, keeps the published release's and the draft's blobs; `fsck` is clean and
//!   re-hashes what is in the bucket;
//! - the object store killed in the middle of an upload: relkit answers 503 (not 500, not
//!   a hang), `/readyz` says so; the store restarted, the same relkit process takes the
//!   upload, nothing lost;
//! - two replicas on one bucket, on one SQLite file and on PostgreSQL (the cluster at
//!   RELKIT_TEST_POSTGRES, as cli_serve_replicas.rs; required in CI), one SIGKILLed mid-upload
//!   (its multipart upload begun): the client uploads through the other, publishes, the bytes
//!   are right, `fsck` clean.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::cli_serve::{http, pattern, start_with};

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");
const ACCESS: &str = "relkit-test-access";
const SECRET: &str = "relkit-test-secret-7f3a";
const BUCKET: &str = "relkit-blobs";
const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The s3s-fs binary: RELKIT_TEST_S3S_FS, /opt/relkit-s3s/bin/s3s-fs or on PATH; None
/// (skip) outside CI when absent.
fn s3s_fs() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RELKIT_TEST_S3S_FS") {
        return Some(PathBuf::from(p));
    }
    let fixed = PathBuf::from("/opt/relkit-s3s/bin/s3s-fs");
    if fixed.is_file() {
        return Some(fixed);
    }
    relkit_testkit::oracle("s3s-fs")
}

/// A running s3s-fs on a loopback port, its files under `root`.
struct S3 {
    bin: PathBuf,
    root: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl S3 {
    /// Starts s3s-fs on a free port and creates the bucket; None when s3s-fs is missing
    /// outside CI.
    fn start() -> Option<S3> {
        let bin = s3s_fs()?;
        let mut s3 = S3 {
            bin,
            root: tempfile::tempdir().unwrap(),
            port: 0,
            child: None,
        };
        for _ in 0..5 {
            s3.port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            if s3.run() {
                let (st, body) = s3.curl("PUT", &format!("/{BUCKET}"), None);
                assert_eq!(st, 200, "creating the bucket: {body}");
                return Some(s3);
            }
        }
        panic!("s3s-fs did not start on a free port in 5 tries");
    }

    /// Starts the process on `self.port`; false when it exited (port taken).
    fn run(&mut self) -> bool {
        let mut child = Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS, "--secret-key", SECRET])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("s3s-fs did not listen on port {} within 20 s", self.port);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A signed request to the store with curl (SigV4); status and body (or headers with
    /// HEAD).
    fn curl(&self, method: &str, path: &str, data: Option<&Path>) -> (u16, String) {
        let mut c = Command::new("curl");
        c.args(["-s", "-S", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user"])
            .arg(format!("{ACCESS}:{SECRET}"));
        match data {
            Some(f) => {
                let sha = hex::encode(relkit_attest::checksum::sha256(&std::fs::read(f).unwrap()));
                c.args(["-H", &format!("x-amz-content-sha256: {sha}")])
                    .arg("--data-binary")
                    .arg(format!("@{}", f.display()));
            }
            None => {
                c.args(["-H", &format!("x-amz-content-sha256: {EMPTY_SHA}")]);
            }
        }
        if method == "HEAD" {
            c.arg("-I");
        } else {
            c.args(["-X", method]);
        }
        c.args(["-w", "\n%{http_code}"])
            .arg(format!("{}{path}", self.endpoint()));
        let out = c.output().expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    /// The object key of a blob under `prefix`.
    fn key(prefix: &str, sha: &str) -> String {
        format!("/{BUCKET}/{prefix}/blobs/sha256/{}/{sha}", &sha[..2])
    }

    /// The ETag of a blob's object, or None when absent.
    fn etag(&self, prefix: &str, sha: &str) -> Option<String> {
        let (st, head) = self.curl("HEAD", &S3::key(prefix, sha), None);
        if st == 404 {
            return None;
        }
        assert_eq!(st, 200, "HEAD {sha}: {head}");
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("etag")
                    .then(|| v.trim().trim_matches('"').to_string())
            })
            .or(Some(String::new()))
    }

    /// Whether s3s-fs holds a part of an unfinished multipart upload (its files
    /// `.upload_id-…` at the root).
    fn parts_pending(&self) -> bool {
        std::fs::read_dir(self.root.path()).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".upload_id-")
        })
    }

    /// The settings file relkit reads (`--blobs-env`): the endpoint and the credentials
    /// (never in relkit's environment or arguments), 5 MiB parts.
    fn env_file(&self, dir: &Path) -> PathBuf {
        let f = dir.join("s3.env");
        std::fs::write(
            &f,
            format!(
                "# relkit test store\nAWS_ENDPOINT_URL={}\nAWS_REGION=us-east-1\nAWS_ACCESS_KEY_ID={ACCESS}\nAWS_SECRET_ACCESS_KEY=\"{SECRET}\"\nAWS_ALLOW_HTTP=true\nRELKIT_S3_PART_MIB=5\n",
                self.endpoint()
            ),
        )
        .unwrap();
        f
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `relkit serve` process, SIGKILLed when dropped (also when a test fails, so that no
/// server outlives it).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// [`start_with`] as a [`Proc`].
fn serve(data: &Path, extra: &[std::ffi::OsString]) -> (Proc, String) {
    let (child, addr) = start_with(data, &os(extra));
    (Proc(child), addr)
}

fn sha(b: &[u8]) -> String {
    hex::encode(relkit_attest::checksum::sha256(b))
}

/// `--blobs s3://BUCKET/PREFIX --blobs-env FILE`.
fn blob_args(prefix: &str, env: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "--blobs".into(),
        format!("s3://{BUCKET}/{prefix}").into(),
        "--blobs-env".into(),
        env.into(),
    ]
}

fn os(v: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    v.iter().map(|s| s.as_os_str()).collect()
}

/// `relkit serve ARGS… --data DATA EXTRA…`.
fn relkit(args: &[&str], data: &Path, extra: &[std::ffi::OsString]) -> std::process::Output {
    Command::new(RELKIT)
        .args(["serve"])
        .args(args)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .unwrap()
}

fn token(data: &Path) -> String {
    let out = relkit(&["token", "create", "--project", "alpha"], data, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim())
}

fn create_release(addr: &str, auth: &str, version: &str) {
    let (st, body) = http(
        addr,
        "POST",
        "/api/v1/projects/alpha/releases",
        &[
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ],
        format!(r#"{{"version":"{version}","tag":"v{version}","commit":"abc"}}"#).as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));
}

fn upload(
    addr: &str,
    auth: &str,
    version: &str,
    name: &str,
    body: &[u8],
    declared: &str,
) -> (u16, String) {
    let (st, b) = http(
        addr,
        "PUT",
        &format!("/api/v1/projects/alpha/releases/{version}/files/{name}"),
        &[("Authorization", auth), ("X-Content-SHA256", declared)],
        body,
    );
    (st, String::from_utf8_lossy(&b).into_owned())
}

fn publish(addr: &str, auth: &str, version: &str) {
    let (st, b) = http(
        addr,
        "POST",
        &format!("/api/v1/projects/alpha/releases/{version}/publish"),
        &[("Authorization", auth)],
        b"",
    );
    assert_eq!(st, 200, "publish: {}", String::from_utf8_lossy(&b));
}

/// One GET with extra headers: status, lower-cased header lines, body (by Content-Length).
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    (status, head, resp[split + 4..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// Whole and ranged downloads of `body` at `path`: every answer re-hashed or compared.
fn check_downloads(addr: &str, path: &str, body: &[u8], what: &str) {
    let n = body.len();
    let (st, head, got) = get(addr, path, &[]);
    assert_eq!((st, sha(&got)), (200, sha(body)), "{what}: whole download");
    assert_eq!(header(&head, "accept-ranges"), Some("bytes"), "{what}");
    let etag = format!("\"{}\"", sha(body));
    let cases: Vec<(String, std::ops::Range<usize>)> = vec![
        ("bytes=100-199".into(), 100..200),
        (format!("bytes={}-", n - 1000), n - 1000..n),
        ("bytes=-10".into(), n - 10..n),
        (format!("bytes=5-{}", n + 100), 5..n),
        (
            format!("bytes={}-{}", n / 2, n / 2 + (3 << 20)),
            n / 2..(n / 2 + (3 << 20) + 1).min(n),
        ),
    ];
    for (range, want) in cases {
        let (st, head, got) = get(addr, path, &[("Range", &range)]);
        assert_eq!(st, 206, "{what} {range}: {head}");
        assert_eq!(
            header(&head, "content-range"),
            Some(format!("bytes {}-{}/{n}", want.start, want.end - 1).as_str()),
            "{what} {range}"
        );
        assert!(got == body[want.clone()], "{what} {range}: wrong bytes");
        // If-Range with the blob's ETag resumes; with another one the whole blob comes.
        let (st, _, got) = get(addr, path, &[("Range", &range), ("If-Range", &etag)]);
        assert_eq!(
            (st, got.len()),
            (206, want.len()),
            "{what} {range} If-Range"
        );
    }
    let (st, _, got) = get(
        addr,
        path,
        &[("Range", "bytes=0-9"), ("If-Range", "\"other\"")],
    );
    assert_eq!(
        (st, got.len()),
        (200, n),
        "{what}: If-Range with another ETag"
    );
    let (st, head, _) = get(addr, path, &[("Range", &format!("bytes={n}-"))]);
    assert_eq!(st, 416, "{what}: {head}");
    assert_eq!(
        header(&head, "content-range"),
        Some(format!("bytes */{n}").as_str()),
        "{what}"
    );
}

fn fsck(data: &Path, extra: &[std::ffi::OsString]) -> (i32, serde_json::Value) {
    let out = relkit(&["fsck", "--format", "json"], data, extra);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("fsck: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

#[test]
fn s3_blobs_publish_download_ranges_mismatch_multipart_gc_fsck() {
    let Some(s3) = S3::start() else { return };
    let data = tempfile::tempdir().unwrap();
    let env = s3.env_file(data.path());
    let blobs = blob_args("pre", &env);
    let auth = token(data.path());
    let (server, addr) = serve(data.path(), &blobs);

    let (st, body) = http(&addr, "GET", "/readyz", &[], b"");
    let ready = String::from_utf8_lossy(&body);
    assert_eq!(st, 200, "{ready}");
    assert!(
        ready.contains("s3://relkit-blobs/pre at http://127.0.0.1:"),
        "{ready}"
    );
    assert!(
        !ready.contains(SECRET) && !ready.contains(ACCESS),
        "{ready}"
    );

    create_release(&addr, &auth, "1.0");
    let small = b"relkit s3 small file\n".repeat(50);
    let big = pattern(12, 241); // over the 5 MiB part size: 3 parts
    for (name, b) in [("small.txt", &small[..]), ("big.bin", &big[..])] {
        let (st, r) = upload(&addr, &auth, "1.0", name, b, &sha(b));
        assert_eq!(st, 201, "{name}: {r}");
    }
    assert_eq!(
        s3.etag("pre", &sha(&big))
            .as_deref()
            .map(|e| e.ends_with("-3")),
        Some(true),
        "the 12 MiB file went up as a 3-part multipart upload"
    );
    let e = s3
        .etag("pre", &sha(&small))
        .expect("the small blob is in the bucket");
    assert!(!e.contains('-'), "a small file is one PUT: {e}");

    // Bodies that do not hash to the declared digest, one multipart and one small: 400, and
    // nothing under the declared digest's key nor the received one's.
    let other = pattern(7, 239);
    for (body, declared) in [
        (&other, sha(&big[..1 << 20])),
        (&small[..10].to_vec(), sha(b"x")),
    ] {
        let (st, r) = upload(&addr, &auth, "1.0", "wrong.bin", body, &declared);
        assert_eq!(st, 400, "{r}");
        assert!(r.contains("digest_mismatch"), "{r}");
        assert_eq!(s3.etag("pre", &declared), None, "declared digest visible");
        assert_eq!(s3.etag("pre", &sha(body)), None, "received digest visible");
    }

    for (name, b) in [("small.txt", &small[..]), ("big.bin", &big[..])] {
        check_downloads(
            &addr,
            &format!("/api/v1/projects/alpha/releases/1.0/files/{name}"),
            b,
            &format!("S3 {name}"),
        );
    }
    publish(&addr, &auth, "1.0");

    // A draft whose file is replaced: the first blob is an orphan.
    create_release(&addr, &auth, "2.0");
    let (first, second) = (pattern(1, 233), pattern(1, 229));
    for b in [&first, &second] {
        let (st, r) = upload(&addr, &auth, "2.0", "f.bin", b, &sha(b));
        assert!(st == 201 || st == 200, "{r}");
    }
    assert!(s3.etag("pre", &sha(&first)).is_some());
    drop(server);

    // The default minimum age keeps a young orphan.
    let out = relkit(&["gc"], data.path(), &blobs);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        s3.etag("pre", &sha(&first)).is_some(),
        "a young orphan was removed"
    );
    let out = relkit(&["gc", "--min-age-secs", "0"], data.path(), &blobs);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("removed orphan blob {}", sha(&first)),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET) && !stdout.contains(SECRET));
    assert_eq!(
        s3.etag("pre", &sha(&first)),
        None,
        "the orphan is still in the bucket"
    );
    for kept in [sha(&small), sha(&big), sha(&second)] {
        assert!(
            s3.etag("pre", &kept).is_some(),
            "gc removed {kept}, which a release names"
        );
    }
    let (code, f) = fsck(data.path(), &blobs);
    assert_eq!(code, 0, "{f}");
    assert_eq!(f["blobs"], 3, "{f}");
    assert_eq!(f["corrupt"].as_array().unwrap().len(), 0, "{f}");
    assert_eq!(f["missing"].as_array().unwrap().len(), 0, "{f}");

    // A blob changed in the bucket behind relkit's back is found by fsck.
    let bad = data.path().join("bad");
    std::fs::write(&bad, b"not the small file").unwrap();
    let (st, r) = s3.curl("PUT", &S3::key("pre", &sha(&small)), Some(&bad));
    assert_eq!(st, 200, "{r}");
    let (code, f) = fsck(data.path(), &blobs);
    assert_eq!(
        (code, f["corrupt"].clone()),
        (1, serde_json::json!([sha(&small)])),
        "{f}"
    );
}

#[test]
fn local_blobs_answer_range_requests() {
    let data = tempfile::tempdir().unwrap();
    let auth = token(data.path());
    let (server, addr) = serve(data.path(), &[]);
    create_release(&addr, &auth, "1.0");
    let big = pattern(6, 227);
    let (st, r) = upload(&addr, &auth, "1.0", "big.bin", &big, &sha(&big));
    assert_eq!(st, 201, "{r}");
    check_downloads(
        &addr,
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &big,
        "local",
    );
    drop(server);
}

/// Sends the head of an upload of `body` and its first `first` bytes.
fn begin(
    addr: &str,
    auth: &str,
    version: &str,
    name: &str,
    body: &[u8],
    first: usize,
) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /api/v1/projects/alpha/releases/{version}/files/{name} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: {auth}\r\nX-Content-SHA256: {}\r\nContent-Length: {}\r\n\r\n",
        sha(body),
        body.len()
    )
    .unwrap();
    s.write_all(&body[..first]).unwrap();
    s.flush().unwrap();
    s
}

/// Sends the rest (the server may have answered early and closed) and reads the answer.
fn finish(mut s: TcpStream, rest: &[u8]) -> (u16, String) {
    let _ = s.write_all(rest);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer: {}", String::from_utf8_lossy(&resp)));
    let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap();
    (
        status,
        String::from_utf8_lossy(&resp[split + 4..]).into_owned(),
    )
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < Duration::from_secs(secs),
            "{what} within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn s3_store_killed_mid_upload_gives_503_then_recovers_without_a_restart() {
    let Some(mut s3) = S3::start() else { return };
    let data = tempfile::tempdir().unwrap();
    let env = s3.env_file(data.path());
    let blobs = blob_args("x", &env);
    let auth = token(data.path());
    let (server, addr) = serve(data.path(), &blobs);
    create_release(&addr, &auth, "1.0");
    let body = pattern(14, 223);
    let up = begin(&addr, &auth, "1.0", "big.bin", &body, 11 << 20);
    wait_until("a part reaches the store", 30, || s3.parts_pending());
    s3.kill();
    let t0 = Instant::now();
    let (st, r) = finish(up, &body[11 << 20..]);
    let took = t0.elapsed();
    assert_eq!(st, 503, "{r}");
    assert!(r.contains("blobs_unavailable"), "{r}");
    assert!(!r.contains(SECRET), "{r}");
    assert!(took < Duration::from_secs(30), "the 503 took {took:?}");
    let (st, b) = http(&addr, "GET", "/readyz", &[], b"");
    assert_eq!(st, 503, "{}", String::from_utf8_lossy(&b));
    let (st, _, _) = get(
        &addr,
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &[],
    );
    assert_eq!(st, 404, "nothing was recorded");

    // The store back on the same port and files: the same relkit process takes the upload.
    assert!(s3.run(), "s3s-fs restarts on port {}", s3.port);
    let (st, b) = http(&addr, "GET", "/readyz", &[], b"");
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let (st, r) = upload(&addr, &auth, "1.0", "big.bin", &body, &sha(&body));
    assert_eq!(st, 201, "{r}");
    publish(&addr, &auth, "1.0");
    let (st, _, got) = get(
        &addr,
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &[],
    );
    assert_eq!((st, sha(&got)), (200, sha(&body)));
    drop(server);
    let (code, f) = fsck(data.path(), &blobs);
    assert_eq!((code, f["blobs"].clone()), (0, serde_json::json!(1)), "{f}");
}

/// Two replicas on one database (`database`: PostgreSQL; None: one SQLite file) and one
/// bucket; the first SIGKILLed mid-multipart-upload.
/// A data directory whose blobs are under `prefix` in `s3` (and whose database is `database`,
/// else SQLite in it): the directory, the server arguments, a token of project alpha.
fn cluster(
    s3: &S3,
    database: Option<&str>,
    prefix: &str,
) -> (tempfile::TempDir, Vec<std::ffi::OsString>, String) {
    let data = tempfile::tempdir().unwrap();
    let env = s3.env_file(data.path());
    let mut args = blob_args(prefix, &env);
    if let Some(db) = database {
        args.extend(["--database".into(), db.into()]);
    }
    let out = relkit(
        &["token", "create", "--project", "alpha"],
        data.path(),
        &args,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let auth = format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim());
    (data, args, auth)
}

fn replica_killed_mid_upload(s3: &S3, database: Option<&str>, prefix: &str) {
    let be = database.map_or("SQLite", |_| "PostgreSQL");
    let (data, args, auth) = cluster(s3, database, prefix);
    let (r1, a1) = serve(data.path(), &args);
    let (r2, a2) = serve(data.path(), &args);
    create_release(&a1, &auth, "1.0");
    let body = pattern(13, 211);
    let up = begin(&a1, &auth, "1.0", "big.bin", &body, 11 << 20);
    wait_until("a part reaches the store", 30, || s3.parts_pending());
    drop(r1); // SIGKILL
    drop(up);
    assert_eq!(
        s3.etag(prefix, &sha(&body)),
        None,
        "{be}: a killed upload is visible"
    );
    let (st, r) = upload(&a2, &auth, "1.0", "big.bin", &body, &sha(&body));
    assert_eq!(st, 201, "{be}: {r}");
    publish(&a2, &auth, "1.0");
    let (st, _, got) = get(
        &a2,
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &[],
    );
    assert_eq!((st, sha(&got)), (200, sha(&body)), "{be}: published bytes");
    drop(r2);
    let (code, f) = fsck(data.path(), &args);
    assert_eq!(
        (code, f["blobs"].clone()),
        (0, serde_json::json!(1)),
        "{be}: {f}"
    );
}

#[test]
fn s3_replica_killed_mid_upload_the_other_takes_it() {
    let Some(s3) = S3::start() else { return };
    replica_killed_mid_upload(&s3, None, "replicas-sqlite");
    drop(s3);
    // A fresh store: the killed upload's parts stay in the first one (until a lifecycle
    // rule would remove them), and the wait for parts must see the next upload's.
    if let Some(pg) = super::cli_serve_replicas::PgDb::create()
        && let Some(s3) = S3::start()
    {
        replica_killed_mid_upload(&s3, Some(&pg.url), "replicas-pg");
    }
}

/// The release watcher reads the SBOMs it scans through the blob store: on S3 a published
/// release is scanned like a local one (the advisory found, no scan error) — not a file path
/// that exists only on the local backend.
#[test]
fn s3_published_releases_are_watched_like_local_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vulns/osv/pypa");
    let record = root.join("jinja2/PYSEC-2021-66.yaml");
    if !record.is_file() {
        relkit_testkit::missing(&format!("PyPA record {}", record.display()));
        return;
    }
    let Some(s3) = S3::start() else { return };
    let data = tempfile::tempdir().unwrap();
    let vulndb = data.path().join("vuln.sqlite");
    super::cli_serve_watch::import(&vulndb, &record);
    let env = s3.env_file(data.path());
    let mut extra = blob_args("watched", &env);
    extra.extend(["--vuln-db".into(), vulndb.clone().into_os_string()]);
    let out = relkit(
        &["token", "create", "--project", "webapp"],
        data.path(),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let auth = format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim());
    let (_server, addr) = serve(data.path(), &extra);
    super::cli_serve_watch::publish(&addr, &auth, "1.0", "2.10");
    let r = super::cli_serve_watch::wait_for("the release scanned", || {
        let r = super::cli_serve_watch::get_json(
            &addr,
            "/api/v1/projects/webapp/releases/1.0/vulnerabilities",
        );
        r["scanned"].is_i64().then_some(r)
    });
    assert_eq!(r["scan_error"], serde_json::Value::Null, "{r}");
    assert_eq!(
        super::cli_serve_watch::advisories_of(&r),
        ["CVE-2020-28493"],
        "{r}"
    );
}

/// The issue's cluster: PostgreSQL, the real S3 server, two replicas. Two clients create the
/// same version through different replicas at once: exactly one wins, the other gets a clean
/// 409; two different bodies raced under one file name: one 201 and one 409, or (one after the
/// other, a draft's file replaced) 201 and 200 — the stored bytes are one body, whole; two publications at once both answer 200 (the second is a no-op); every
/// download through either replica re-hashed; fsck clean.
#[test]
fn s3_cluster_two_replicas_racing_exactly_one_wins() {
    let Some(pg) = super::cli_serve_replicas::PgDb::create() else {
        return;
    };
    let Some(s3) = S3::start() else { return };
    let (data, args, auth) = cluster(&s3, Some(&pg.url), "cluster");
    let (_r1, a1) = serve(data.path(), &args);
    let (_r2, a2) = serve(data.path(), &args);
    let at_once = |f1: &(dyn Fn() -> (u16, String) + Sync),
                   f2: &(dyn Fn() -> (u16, String) + Sync)| {
        let gate = std::sync::Barrier::new(2);
        std::thread::scope(|sc| {
            let t1 = sc.spawn(|| {
                gate.wait();
                f1()
            });
            let t2 = sc.spawn(|| {
                gate.wait();
                f2()
            });
            (t1.join().unwrap(), t2.join().unwrap())
        })
    };
    let create = |addr: &str, version: &str, commit: &str| {
        let (st, b) = http(
            addr,
            "POST",
            "/api/v1/projects/alpha/releases",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            format!(r#"{{"version":"{version}","tag":"v{version}","commit":"{commit}"}}"#)
                .as_bytes(),
        );
        (st, String::from_utf8_lossy(&b).into_owned())
    };
    for round in 0..8 {
        let v = format!("{round}.0");
        let ((s1, b1), (s2, b2)) =
            at_once(&|| create(&a1, &v, "aaaa"), &|| create(&a2, &v, "bbbb"));
        let mut st = [s1, s2];
        st.sort();
        assert_eq!(st, [201, 409], "round {round}: {b1} / {b2}");
        let loser = if s1 == 201 { &b2 } else { &b1 };
        assert!(loser.contains("release_exists"), "{loser}");
        // Two different bodies under one name, through both replicas at once.
        let (x, y) = (pattern(1, 300 + round), pattern(1, 400 + round));
        let ((u1, m1), (u2, m2)) =
            at_once(&|| upload(&a1, &auth, &v, "f.bin", &x, &sha(&x)), &|| {
                upload(&a2, &auth, &v, "f.bin", &y, &sha(&y))
            });
        // Overlapping uploads: one 201, one 409. One after the other (a draft's file may be
        // replaced): 201, then 200 "replaced". Either way the bytes stored are one body, whole.
        let stored = match (u1, u2) {
            (201, 409) => &x,
            (409, 201) => &y,
            (201, 200) | (200, 201) if m1.contains(r#""outcome":"replaced""#) => &x,
            (201, 200) | (200, 201) if m2.contains(r#""outcome":"replaced""#) => &y,
            other => panic!("round {round}: {other:?}: {m1} / {m2}"),
        };
        let ((p1, q1), (p2, q2)) = at_once(
            &|| {
                let (st, b) = http(
                    &a1,
                    "POST",
                    &format!("/api/v1/projects/alpha/releases/{v}/publish"),
                    &[("Authorization", auth.as_str())],
                    b"",
                );
                (st, String::from_utf8_lossy(&b).into_owned())
            },
            &|| {
                let (st, b) = http(
                    &a2,
                    "POST",
                    &format!("/api/v1/projects/alpha/releases/{v}/publish"),
                    &[("Authorization", auth.as_str())],
                    b"",
                );
                (st, String::from_utf8_lossy(&b).into_owned())
            },
        );
        assert_eq!((p1, p2), (200, 200), "round {round}: {q1} / {q2}");
        for addr in [&a1, &a2] {
            let (st, _, got) = get(
                addr,
                &format!("/api/v1/projects/alpha/releases/{v}/files/f.bin"),
                &[],
            );
            assert_eq!(
                (st, sha(&got)),
                (200, sha(stored)),
                "round {round} via {addr}"
            );
        }
    }
    // A losing body may have reached the store before its name was refused: an orphan blob no
    // release names (invisible; `relkit serve gc` collects it), never a corrupt one.
    let (code, f) = fsck(data.path(), &args);
    assert_eq!(code, 0, "{f}");
    assert!(f["blobs"].as_u64().is_some_and(|n| n >= 8), "{f}");
}
