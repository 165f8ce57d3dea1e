//! `relkit serve` and `relkit publish` as processes: a server killed (SIGKILL) in the middle
//! of an upload leaves no partial file visible, the scratch file is cleared at restart, and
//! `relkit publish` then uploads the release, re-running as a no-op; tokens from the CLI.
//! Graceful shutdown: on SIGTERM new connections are refused, the upload in flight finishes
//! (and is verified) and the server exits 0; an upload stalled past `--grace-secs` is cut
//! and leaves nothing visible; a second signal during the grace period stops at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");

/// Starts `relkit serve` on a free port; returns the child and its address.
fn start(data: &Path) -> (Child, String) {
    start_with(data, &[])
}

/// [`start`] with `extra` arguments.
pub(crate) fn start_with(data: &Path, extra: &[&std::ffi::OsStr]) -> (Child, String) {
    let mut child = Command::new(RELKIT)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr)
}

/// One raw HTTP/1.1 request; returns the status and body.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    let mut body = resp[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 4 + n..];
        }
        body = out;
    }
    (status, body)
}

pub(crate) fn dir_entries(p: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<_> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn killed_during_upload_then_published_by_the_cli() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(RELKIT)
        .args(["serve", "token", "create", "--project", "alpha", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        token.starts_with("rk_") && token.len() == 3 + 16 + 1 + 64,
        "{token}"
    );
    let auth = format!("Bearer {token}");
    let token_file = data.path().join("alpha.token");
    std::fs::write(&token_file, &token).unwrap();

    let (mut server, addr) = start(data.path());
    create_release(&addr, &auth);

    // 8 MiB declared, 1 MiB sent, then SIGKILL.
    let big = pattern(8, 253);
    let sha = hex::encode(relkit_attest::checksum::sha256(&big));
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "PUT /api/v1/projects/alpha/releases/1.0/files/big.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nX-Content-SHA256: {sha}\r\nContent-Length: {}\r\n\r\n",
        big.len()
    )
    .unwrap();
    s.write_all(&big[..1 << 20]).unwrap();
    s.flush().unwrap();
    let tmp = data.path().join("tmp");
    let t0 = std::time::Instant::now();
    while dir_entries(&tmp).iter().map(|e| e.1).sum::<u64>() < 512 * 1024 {
        assert!(
            t0.elapsed().as_secs() < 20,
            "the upload never reached the scratch file"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    drop(s);
    let partial = dir_entries(&tmp);
    assert_eq!(
        partial.len(),
        1,
        "one partial upload in the scratch directory"
    );
    let blob = data.path().join("blobs/sha256").join(&sha[..2]).join(&sha);
    assert!(!blob.exists(), "no partial blob under its digest");

    // Restart: the scratch directory is cleared and nothing is listed.
    let (mut server, addr) = start(data.path());
    assert!(dir_entries(&tmp).is_empty(), "scratch cleared at startup");
    let (st, body) = http(
        &addr,
        "GET",
        "/api/v1/projects/alpha/releases/1.0",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    let d: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(d["files"], serde_json::json!([]), "no partial file visible");

    // The pipeline's publish step uploads it; a re-run changes nothing.
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("big.bin"), &big).unwrap();
    let publish = |fmt: &str| {
        Command::new(RELKIT)
            .arg("publish")
            .arg(dist.path())
            .args(["--server", &format!("http://{addr}"), "--token-file"])
            .arg(&token_file)
            .args([
                "--project",
                "alpha",
                "--release-version",
                "1.0",
                "--tag",
                "v1.0",
                "--commit",
                "abc",
                "--publish",
                "--format",
                fmt,
            ])
            .output()
            .unwrap()
    };
    let out = publish("json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["items"][0]["outcome"], "created");
    assert_eq!(r["items"][0]["sha256"], sha.as_str());
    assert_eq!(r["published"], true);
    let out = publish("json");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["items"][0]["outcome"], "unchanged");
    let (st, body) = http(
        &addr,
        "GET",
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    assert_eq!(hex::encode(relkit_attest::checksum::sha256(&body)), sha);
    assert!(blob.exists());

    // A changed file for the published name is refused: exit 2 with the server's reason.
    std::fs::write(dist.path().join("big.bin"), b"different").unwrap();
    let out = publish("text");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 409 immutable"), "{err}");

    // Revoked from the CLI: the same token no longer writes.
    let id = &token[3..19];
    let out = Command::new(RELKIT)
        .args(["serve", "token", "revoke", id, "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, _) = http(
        &addr,
        "POST",
        "/api/v1/projects/alpha/releases",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        br#"{"version":"2.0"}"#,
    );
    assert_eq!(st, 401);
    let out = Command::new(RELKIT)
        .args(["serve", "fsck", "--format", "json", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        f,
        serde_json::json!({"blobs": 1, "corrupt": [], "missing": [], "stale_scratch": []})
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

/// Starts `relkit serve` with extra arguments, keeping its standard error (the server writes
/// to it when it stops); returns the child, its address and the rest of its standard error.
pub(crate) fn start_keeping_stderr(
    data: &Path,
    extra: &[&str],
) -> (Child, String, BufReader<ChildStderr>) {
    let mut child = Command::new(RELKIT)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, addr, err)
}

fn sigterm(child: &Child) {
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Waits up to `secs` for the child to exit.
pub(crate) fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let t0 = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t0.elapsed().as_secs() >= secs {
            child.kill().unwrap();
            panic!("relkit serve did not exit within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A token for project alpha and a draft release 1.0 on a fresh data directory's server.
fn alpha_token(data: &Path) -> String {
    let out = Command::new(RELKIT)
        .args(["serve", "token", "create", "--project", "alpha", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success());
    format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim())
}

/// Sends the head of an upload of `body` and its first `first` bytes; waits until the server
/// has written at least half of them to its scratch file.
fn begin_upload(addr: &str, data: &Path, auth: &str, body: &[u8], first: usize) -> TcpStream {
    let sha = hex::encode(relkit_attest::checksum::sha256(body));
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /api/v1/projects/alpha/releases/1.0/files/big.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\nX-Content-SHA256: {sha}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..first]).unwrap();
    s.flush().unwrap();
    let tmp = data.join("tmp");
    let t0 = std::time::Instant::now();
    while dir_entries(&tmp).iter().map(|e| e.1).sum::<u64>() < first as u64 / 2 {
        assert!(
            t0.elapsed().as_secs() < 20,
            "the upload never reached the scratch file"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    s
}

#[test]
fn sigterm_refuses_new_connections_finishes_the_upload_in_flight_and_exits_0() {
    let data = tempfile::tempdir().unwrap();
    let auth = alpha_token(data.path());
    let (mut server, addr, mut err) = start_keeping_stderr(data.path(), &["--grace-secs", "60"]);
    create_release(&addr, &auth);

    let big = pattern(6, 251);
    let sha = hex::encode(relkit_attest::checksum::sha256(&big));
    let mut s = begin_upload(&addr, data.path(), &auth, &big, 1 << 20);
    sigterm(&server);
    // The listening socket closes: new connections are refused while the upload is still in
    // flight (the server is alive, waiting for it).
    let t0 = std::time::Instant::now();
    loop {
        match TcpStream::connect(&addr) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            // A connection caught in the backlog when the listening socket closed is reset:
            // the closing is under way; the next attempt is refused.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                assert!(
                    t0.elapsed().as_secs() < 10,
                    "connections reset, never refused"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("connect: {e}"),
            Ok(_) => {
                assert!(t0.elapsed().as_secs() < 10, "still accepting after SIGTERM");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
    assert!(
        server.try_wait().unwrap().is_none(),
        "exited with an upload in flight"
    );
    // The rest of the body, slowly.
    for chunk in big[1 << 20..].chunks(512 << 10) {
        s.write_all(chunk).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    assert!(resp.contains(&sha), "{resp}");
    let status = wait_exit(&mut server, 20);
    assert_eq!(status.code(), Some(0), "{status:?}");
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("requests in flight finished"), "{rest}");

    // Verified: the blob on disk hashes right, fsck is clean, and a restarted server serves
    // the same bytes (re-hashed here); a SIGTERM with nothing in flight exits 0 at once.
    let blob = data.path().join("blobs/sha256").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&blob).unwrap(), big);
    assert!(dir_entries(&data.path().join("tmp")).is_empty());
    let out = Command::new(RELKIT)
        .args(["serve", "fsck", "--format", "json", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        f,
        serde_json::json!({"blobs": 1, "corrupt": [], "missing": [], "stale_scratch": []})
    );
    let (mut server, addr, _err) = start_keeping_stderr(data.path(), &[]);
    let (st, got) = http(
        &addr,
        "GET",
        "/api/v1/projects/alpha/releases/1.0/files/big.bin",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    assert_eq!(hex::encode(relkit_attest::checksum::sha256(&got)), sha);
    sigterm(&server);
    assert_eq!(wait_exit(&mut server, 10).code(), Some(0));
}

#[test]
fn an_upload_stalled_past_the_grace_period_is_cut_and_leaves_nothing() {
    let data = tempfile::tempdir().unwrap();
    let auth = alpha_token(data.path());
    let (mut server, addr, mut err) = start_keeping_stderr(data.path(), &["--grace-secs", "1"]);
    create_release(&addr, &auth);
    let big = pattern(4, 249);
    let _stalled = begin_upload(&addr, data.path(), &auth, &big, 1 << 20);
    let t0 = std::time::Instant::now();
    sigterm(&server);
    let status = wait_exit(&mut server, 15);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        t0.elapsed().as_millis() >= 900,
        "exited before the grace period"
    );
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("requests still running after 1 s were cut"),
        "{rest}"
    );
    // Nothing of the cut upload is visible: no blob.
    let out = Command::new(RELKIT)
        .args(["serve", "fsck", "--format", "json", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let f: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        f,
        serde_json::json!({"blobs": 0, "corrupt": [], "missing": [], "stale_scratch": []})
    );
}

#[test]
fn a_second_signal_during_the_grace_period_stops_at_once() {
    let data = tempfile::tempdir().unwrap();
    let auth = alpha_token(data.path());
    let (mut server, addr, mut err) = start_keeping_stderr(data.path(), &["--grace-secs", "60"]);
    create_release(&addr, &auth);
    let big = pattern(4, 247);
    let _stalled = begin_upload(&addr, data.path(), &auth, &big, 1 << 20);
    sigterm(&server);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        server.try_wait().unwrap().is_none(),
        "exited with an upload in flight"
    );
    let t0 = std::time::Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = wait_exit(&mut server, 10);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        t0.elapsed().as_secs() < 5,
        "the second signal did not stop it at once"
    );
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped by a second signal"), "{rest}");
}

/// Creates release 1.0 of project alpha (201), as every upload test needs.
fn create_release(addr: &str, auth: &str) {
    let (st, body) = http(
        addr,
        "POST",
        "/api/v1/projects/alpha/releases",
        &[
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ],
        br#"{"version":"1.0","tag":"v1.0","commit":"abc"}"#,
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&body));
}

/// `mib` MiB of a byte pattern with period `modulus` (distinct per test, so a blob left by one
/// test is never mistaken for another's).
pub(crate) fn pattern(mib: u32, modulus: u32) -> Vec<u8> {
    (0..mib << 20).map(|i| (i % modulus) as u8).collect()
}
