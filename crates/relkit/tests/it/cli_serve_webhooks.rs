//! Webhooks of `relkit serve` (issue 22 part 3), end to end on SQLite and on PostgreSQL with
//! two replicas on one database and a loopback listener in this test:
//! - a target outside the server's `--webhook-allow` list is refused (403), registration
//!   needs the project's token (401 without, 403 with another project's);
//! - publishing a release whose SBOM carries jinja2 2.10, with the real PyPA record
//!   PYSEC-2021-66 in the DB, sends `release.affected` (CVE-2020-28493); the listener answers
//!   the first attempt 500, the retry (backoff 1 s) is delivered, with the same delivery id;
//! - replacing the DB file by one holding only the real PYSEC-2019-217 sends
//!   `release.affected` CVE-2019-10906 and `release.unaffected` CVE-2020-28493;
//! - every body's `X-Relkit-Signature` is checked with Python's hmac module (an independent
//!   HMAC-SHA256), and each delivery is acknowledged exactly once although both replicas run
//!   a watcher and a delivery task;
//! - the secret is in the creation answer only: not in the listing, the audit log, or (SQLite)
//!   the database file.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::cli_serve::http;
use super::cli_serve_watch::{get_json, import, post, publish, serve, token, wait_for};

/// A request the listener received: headers (lower-case names) and body.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    answered: u16,
}

/// A loopback HTTP listener answering 500 to the first request and 204 to the others.
fn listener() -> (String, Arc<Mutex<Vec<Received>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0u8; len];
            if r.read_exact(&mut body).is_err() {
                continue;
            }
            let mut all = seen.lock().unwrap();
            let answered = if all.is_empty() { 500 } else { 204 };
            all.push(Received {
                headers,
                body,
                answered,
            });
            drop(all);
            let reason = if answered == 500 {
                "Internal Server Error"
            } else {
                "No Content"
            };
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 {answered} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
    });
    (addr, got)
}

/// HMAC-SHA256 of `body` keyed with `secret`, by Python's hmac module (None: no python3,
/// a failure in CI).
fn python_hmac(secret: &str, body: &[u8]) -> Option<String> {
    if !relkit_testkit::oracle_runs("python3", &["-c", "import hmac, hashlib"]) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("body");
    std::fs::write(&p, body).unwrap();
    let out = relkit_testkit::run_ok(
        Command::new("python3")
            .args([
                "-c",
                "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
                secret,
            ])
            .arg(&p),
    );
    Some(String::from_utf8(out).unwrap().trim().to_string())
}

fn deliveries(addr: &str, auth: &str, hook: &str) -> Vec<Value> {
    let (st, b) = http(
        addr,
        "GET",
        &format!("/api/v1/projects/webapp/webhooks/{hook}/deliveries"),
        &[("Authorization", auth)],
        b"",
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    serde_json::from_slice::<Value>(&b)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// (event, version, advisory) of a received body.
fn what(r: &Received) -> (String, String, String) {
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    (
        v["event"].as_str().unwrap().to_string(),
        v["version"].as_str().unwrap().to_string(),
        v["advisory"].as_str().unwrap().to_string(),
    )
}

#[test]
fn webhooks_signed_retried_and_sent_once_by_two_replicas() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vulns/osv/pypa");
    let (first, second) = (
        root.join("jinja2/PYSEC-2021-66.yaml"),
        root.join("jinja2/PYSEC-2019-217.yaml"),
    );
    if !first.is_file() || !second.is_file() {
        relkit_testkit::missing(&format!("PyPA records under {}", root.display()));
        return;
    }
    let pg = super::cli_serve_replicas::PgDb::create();
    for (database, label) in super::cli_serve_replicas::databases(&pg) {
        let data = tempfile::tempdir().unwrap();
        let vulndb = data.path().join("vuln.sqlite");
        import(&vulndb, &first);
        let srv = data.path().join("srv");
        let (_, auth) = token(&srv, database, Some("webapp"));
        let (_, other) = token(&srv, database, Some("otherapp"));
        let (_, admin) = token(&srv, database, None);
        let (hook_addr, got) = listener();
        let target = format!("http://{hook_addr}/hook");
        let allow = format!("--webhook-allow={target}");
        let mut extra: Vec<&std::ffi::OsStr> = vec![
            "--vuln-db".as_ref(),
            vulndb.as_os_str(),
            allow.as_ref(),
            "--webhook-backoff-secs=1".as_ref(),
        ];
        if let Some(db) = database {
            extra.extend::<[&std::ffi::OsStr; 2]>(["--database".as_ref(), db.as_ref()]);
        }
        let (_g1, a1) = serve(&srv, &extra);
        let (_g2, a2) = serve(&srv, &extra);

        let hooks = "/api/v1/projects/webapp/webhooks";
        let elsewhere = serde_json::json!({"url": format!("http://{hook_addr}/elsewhere")});
        let (st, v) = post(&a1, hooks, Some(&auth), &elsewhere);
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("webhook_target_not_allowed")),
            "{label}: {v}"
        );
        let wanted = serde_json::json!({ "url": target });
        let (st, v) = post(&a1, hooks, None, &wanted);
        assert_eq!(
            (st, v["error"].as_str()),
            (401, Some("missing_token")),
            "{v}"
        );
        let (st, v) = post(&a1, hooks, Some(&other), &wanted);
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("wrong_project")),
            "{v}"
        );
        let (st, v) = post(&a1, hooks, Some(&auth), &wanted);
        assert_eq!(st, 201, "{label}: {v}");
        let secret = v["secret"].as_str().unwrap().to_string();
        let hook = v["id"].as_str().unwrap().to_string();
        assert_eq!(secret.len(), 64, "{v}");

        let (st, b) = http(&a2, "GET", hooks, &[("Authorization", &auth)], b"");
        assert_eq!(st, 200);
        let text = String::from_utf8(b).unwrap();
        let listed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(listed[0]["url"], target.as_str(), "{listed}");
        assert!(listed[0].get("secret").is_none() && !text.contains(&secret));

        publish(&a1, &auth, "1.0", "2.10");
        publish(&a1, &auth, "2.0", "3.1.4");
        let d = wait_for("the first event delivered after a retry", || {
            let d = deliveries(&a2, &auth, &hook);
            (d.len() == 1 && d[0]["status"] == "delivered").then_some(d)
        });
        assert_eq!(d[0]["attempts"], 2, "{label}: {d:?}");
        assert_eq!(d[0]["last_status"], 204, "{label}: {d:?}");
        assert_eq!(d[0]["event"], "release.affected");
        assert_eq!(d[0]["version"], "1.0");
        assert_eq!(d[0]["advisory"], "CVE-2020-28493");

        // The DB replaced (atomically) by one holding only the other advisory.
        let next = data.path().join("vuln-next.sqlite");
        import(&next, &second);
        std::fs::rename(&next, &vulndb).unwrap();
        wait_for("both changes delivered", || {
            let d = deliveries(&a1, &auth, &hook);
            (d.len() == 3 && d.iter().all(|x| x["status"] == "delivered")).then_some(())
        });

        let got = got.lock().unwrap().clone();
        let mut acked: BTreeMap<String, Vec<u16>> = BTreeMap::new();
        for r in &got {
            let id = r.headers["x-relkit-delivery"].clone();
            acked.entry(id).or_default().push(r.answered);
            let v: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(r.headers["x-relkit-event"], v["event"].as_str().unwrap());
            assert_eq!(
                r.headers["x-relkit-delivery"],
                v["delivery"].as_str().unwrap()
            );
            assert_eq!(v["project"], "webapp");
            let sig = &r.headers["x-relkit-signature"];
            if let Some(mac) = python_hmac(&secret, &r.body) {
                assert_eq!(sig, &format!("sha256={mac}"), "{label}");
            }
            if let Some(mac) = python_hmac("not-the-secret", &r.body) {
                assert_ne!(sig, &format!("sha256={mac}"));
            }
        }
        let counts: Vec<Vec<u16>> = acked.values().cloned().collect();
        assert_eq!(acked.len(), 3, "{label}: {acked:?}");
        assert_eq!(
            counts.iter().filter(|c| c.as_slice() == [500, 204]).count(),
            1,
            "{label}: {acked:?}"
        );
        assert_eq!(
            counts.iter().filter(|c| c.as_slice() == [204]).count(),
            2,
            "each delivery acknowledged once: {label}: {acked:?}"
        );
        let mut events: Vec<(String, String, String)> =
            got.iter().filter(|r| r.answered == 204).map(what).collect();
        events.sort();
        assert_eq!(
            events,
            [
                (
                    "release.affected".into(),
                    "1.0".into(),
                    "CVE-2019-10906".into()
                ),
                (
                    "release.affected".into(),
                    "1.0".into(),
                    "CVE-2020-28493".into()
                ),
                (
                    "release.unaffected".into(),
                    "1.0".into(),
                    "CVE-2020-28493".into()
                ),
            ],
            "{label}"
        );
        let affected: Value = serde_json::from_slice(
            &got.iter()
                .find(|r| what(r).2 == "CVE-2019-10906")
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(
            affected["components"],
            serde_json::json!([{"component": "jinja2", "installed": "2.10"}])
        );
        assert!(
            affected["aliases"]
                .as_array()
                .unwrap()
                .contains(&Value::from("PYSEC-2019-217")),
            "{affected}"
        );
        let r = get_json(&a2, "/api/v1/projects/webapp/releases/1.0/vulnerabilities");
        assert_eq!(r["findings"][0]["advisory"], "CVE-2019-10906", "{r}");

        // The secret is nowhere else.
        let (st, b) = http(
            &a1,
            "GET",
            "/api/v1/audit",
            &[("Authorization", &admin)],
            b"",
        );
        assert_eq!(st, 200);
        let audit = String::from_utf8(b).unwrap();
        assert!(audit.contains("webhook.create"), "{audit}");
        assert!(!audit.contains(&secret), "the audit log holds the secret");
        if database.is_none() {
            for f in ["relkit-serve.sqlite3", "relkit-serve.sqlite3-wal"] {
                if let Ok(bytes) = std::fs::read(srv.join(f)) {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{f} holds the secret in clear"
                    );
                }
            }
        }

        // Deleted: 204, then 404; the listing is empty.
        let path = format!("{hooks}/{hook}");
        let (st, _) = http(&a2, "DELETE", &path, &[("Authorization", &auth)], b"");
        assert_eq!(st, 204, "{label}");
        let (st, _) = http(&a2, "DELETE", &path, &[("Authorization", &auth)], b"");
        assert_eq!(st, 404, "{label}");
        let (st, b) = http(&a1, "GET", hooks, &[("Authorization", &auth)], b"");
        assert_eq!((st, b.as_slice()), (200, &b"[]"[..]), "{label}");
    }
}
