//! Two `relkit serve` processes (replicas) on one database and one data directory, on
//! PostgreSQL (a fresh database in the cluster at RELKIT_TEST_POSTGRES, default
//! postgres://relkit:relkit@127.0.0.1:5432/relkit_test, set up by `.ci/deps.d/80-serve.sh`;
//! required in CI) and on one SQLite file:
//! - the same version created and published through both at the same moment: exactly one
//!   creation wins, the other is a clean 409; an upload of a file without the SBOM the
//!   project requires, racing the publication, is either refused with 409 (and the release
//!   published) or lands first (and the release is not publishable): never a published file
//!   that the gate did not check, nothing half-visible; both replicas list the same releases;
//! - different bodies uploaded under one name through both at once: one 201, one 409, the
//!   stored bytes are the winner's;
//! - a replica SIGKILLed mid-upload: the client retries through the other one, the published
//!   bytes are right, `relkit serve fsck` is clean and names the killed upload's scratch file,
//!   `relkit serve gc` removes it but not a live upload of the running replica;
//! - `relkit serve migrate` run by two processes at once on a fresh database, from version 1,
//!   a database newer than the binary refused (exit 2), `--no-migrate` refusing an old one.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Output};
use std::sync::{Arc, Barrier};

use super::cli_serve::{dir_entries, http, pattern, start_keeping_stderr, wait_exit};

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");

/// Rounds of each race.
const ROUNDS: usize = 20;

fn pg_base() -> String {
    std::env::var("RELKIT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://relkit:relkit@127.0.0.1:5432/relkit_test".into())
}

/// Runs one SQL text with psql; its unaligned, tuples-only output.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args(["-v", "ON_ERROR_STOP=1", "-qtAX", "-d", url, "-c", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A fresh PostgreSQL database, dropped at the end.
pub(crate) struct PgDb {
    name: String,
    pub(crate) url: String,
}

impl PgDb {
    /// None (with a note) when the cluster is unreachable outside CI; a failure in CI.
    pub(crate) fn create() -> Option<PgDb> {
        let base = pg_base();
        if let Err(e) = psql(&base, "SELECT 1") {
            assert!(
                !relkit_testkit::oracles_required(),
                "PostgreSQL is required (RELKIT_REQUIRE_ORACLES is set) but {base} is unreachable: {e}; run .ci/deps.d/80-serve.sh"
            );
            eprintln!("SKIPPING the PostgreSQL half: {base} unreachable ({e})");
            return None;
        }
        let mut b = [0u8; 6];
        getrandom(&mut b);
        let name = format!("relkit_r_{}", hex::encode(b));
        psql(&base, &format!("CREATE DATABASE {name}")).unwrap();
        let url = match base.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => panic!("RELKIT_TEST_POSTGRES {base} has no database name"),
        };
        Some(PgDb { name, url })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = psql(
            &pg_base(),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Random bytes from the OS (names of test databases).
fn getrandom(buf: &mut [u8]) {
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(buf)
        .unwrap();
}

/// SQLite, then PostgreSQL when `pg` is there: (its URL, or `None` for SQLite; a label).
pub(crate) fn databases(pg: &Option<PgDb>) -> Vec<(Option<&str>, &'static str)> {
    let mut v = vec![(None, "sqlite")];
    if let Some(pg) = pg {
        v.push((Some(pg.url.as_str()), "postgres"));
    }
    v
}

/// A data directory with its database: SQLite inside it, or a fresh PostgreSQL database.
struct Site {
    data: tempfile::TempDir,
    pg: Option<PgDb>,
}

impl Site {
    fn sqlite() -> Site {
        Site {
            data: tempfile::tempdir().unwrap(),
            pg: None,
        }
    }

    fn postgres() -> Option<Site> {
        Some(Site {
            data: tempfile::tempdir().unwrap(),
            pg: Some(PgDb::create()?),
        })
    }

    /// Both backends (PostgreSQL when reachable).
    fn both() -> Vec<Site> {
        let mut v: Vec<Site> = Site::postgres().into_iter().collect();
        v.push(Site::sqlite());
        v
    }

    fn label(&self) -> &'static str {
        if self.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `--data DIR [--database URL]`.
    fn args(&self) -> Vec<String> {
        let mut v = vec!["--data".to_string(), self.data.path().display().to_string()];
        if let Some(pg) = &self.pg {
            v.extend(["--database".to_string(), pg.url.clone()]);
        }
        v
    }

    /// `relkit serve SUB… --data … [--database …] EXTRA…`.
    fn admin(&self, sub: &[&str], extra: &[&str]) -> Output {
        Command::new(RELKIT)
            .arg("serve")
            .args(sub)
            .args(self.args())
            .args(extra)
            .output()
            .unwrap()
    }

    /// A new token (`--project alpha` or `--admin`), as an Authorization header value.
    fn token(&self, scope: &[&str]) -> String {
        let out = self.admin(&["token", "create"], scope);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim())
    }

    /// Starts a replica.
    fn replica(&self) -> Replica {
        let extra: Vec<String> = self.args().into_iter().skip(2).collect();
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let (child, addr, err) = start_keeping_stderr(self.data.path(), &extra);
        Replica {
            child,
            addr,
            _err: err,
        }
    }

    /// Two replicas started at the same moment (both migrate a fresh database at start).
    fn two_replicas(&self) -> (Replica, Replica) {
        std::thread::scope(|sc| {
            let a = sc.spawn(|| self.replica());
            let b = sc.spawn(|| self.replica());
            (a.join().unwrap(), b.join().unwrap())
        })
    }

    /// Runs SQL on the database behind relkit's back (psql; sqlite3 for SQLite, skipped with
    /// a note when that command is missing outside CI, a failure in CI): whether it ran.
    fn sql(&self, sql: &str) -> bool {
        match &self.pg {
            Some(pg) => {
                psql(&pg.url, sql).unwrap();
                true
            }
            None => {
                let db = self.data.path().join("relkit-serve.sqlite3");
                match Command::new("sqlite3").arg(&db).arg(sql).output() {
                    Ok(out) => {
                        assert!(
                            out.status.success(),
                            "sqlite3 {sql}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        true
                    }
                    Err(e) => {
                        assert!(
                            !relkit_testkit::oracles_required(),
                            "sqlite3 is required (RELKIT_REQUIRE_ORACLES is set): {e}"
                        );
                        eprintln!("SKIPPING an SQLite step ({sql}): sqlite3: {e}");
                        false
                    }
                }
            }
        }
    }

    /// `relkit serve fsck --format json`: (exit code, report).
    fn fsck(&self) -> (i32, serde_json::Value) {
        let out = self.admin(&["fsck"], &["--format", "json"]);
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("fsck: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code().unwrap(), v)
    }
}

/// A running `relkit serve`, killed when dropped.
struct Replica {
    child: Child,
    addr: String,
    _err: BufReader<ChildStderr>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn sha(b: &[u8]) -> String {
    hex::encode(relkit_attest::checksum::sha256(b))
}

fn create(addr: &str, auth: &str, version: &str, commit: &str) -> (u16, Vec<u8>) {
    http(
        addr,
        "POST",
        "/api/v1/projects/alpha/releases",
        &[
            ("Authorization", auth),
            ("Content-Type", "application/json"),
        ],
        format!(r#"{{"version":"{version}","tag":"v{version}","commit":"{commit}"}}"#).as_bytes(),
    )
}

/// Uploads a release file; the server may answer before reading the body (a no-op or a
/// refusal decided from the head), so a broken pipe while sending is not an error.
fn put_file(addr: &str, auth: &str, version: &str, name: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let path = format!("/api/v1/projects/alpha/releases/{version}/files/{name}");
    let s = begin(addr, auth, &path, body);
    let (status, v) = finish(s, body);
    (status, serde_json::to_vec(&v).unwrap())
}

fn publish(addr: &str, auth: &str, version: &str) -> (u16, Vec<u8>) {
    http(
        addr,
        "POST",
        &format!("/api/v1/projects/alpha/releases/{version}/publish"),
        &[("Authorization", auth)],
        b"",
    )
}

fn get(addr: &str, path: &str) -> (u16, Vec<u8>) {
    http(addr, "GET", path, &[], b"")
}

/// Runs `a` and `b` on two threads released at the same moment.
fn race<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let barrier = Arc::new(Barrier::new(2));
    std::thread::scope(|sc| {
        let (ba, bb) = (Arc::clone(&barrier), Arc::clone(&barrier));
        let ta = sc.spawn(move || {
            ba.wait();
            a()
        });
        let tb = sc.spawn(move || {
            bb.wait();
            b()
        });
        (ta.join().unwrap(), tb.join().unwrap())
    })
}

#[test]
fn two_replicas_create_and_publish_the_same_version_exactly_one_wins() {
    for site in Site::both() {
        let be = site.label();
        let (r1, r2) = site.two_replicas();
        let auth = site.token(&["--project", "alpha"]);
        let admin = site.token(&["--admin"]);
        // The publication gate: every file needs an SBOM.
        let set = site.admin(
            &["project", "set"],
            &["--project", "alpha", "--require-sbom"],
        );
        assert!(
            set.status.success(),
            "{}",
            String::from_utf8_lossy(&set.stderr)
        );
        let sbom = std::fs::read(relkit_testkit::fixture(
            "sbom/cyclonedx/valid/valid-bom-1.6.json",
        ))
        .unwrap();
        // Rounds where the racing upload got into the release / was refused.
        let mut tally = [0, 0];
        for round in 0..ROUNDS {
            let v = format!("{round}.0");
            let ((s1, b1), (s2, b2)) = race(
                || create(&r1.addr, &auth, &v, "aaaa"),
                || create(&r2.addr, &auth, &v, "bbbb"),
            );
            let mut st = [s1, s2];
            st.sort();
            assert_eq!(st, [201, 409], "{be} round {round}: creation statuses");
            let (winner, loser_body, commit) = if s1 == 201 {
                (&r1, b2, "aaaa")
            } else {
                (&r2, b1, "bbbb")
            };
            assert_eq!(json(&loser_body)["error"], "release_exists", "{be}");
            for r in [&r1, &r2] {
                let (s, b) = get(&r.addr, &format!("/api/v1/projects/alpha/releases/{v}"));
                assert_eq!(s, 200, "{be}");
                assert_eq!(json(&b)["commit"], commit, "{be} round {round}");
            }
            let f1 = pattern(1, 200 + round as u32);
            let (s, b) = put_file(&winner.addr, &auth, &v, "one.bin", &f1);
            assert_eq!(s, 201, "{be}: {}", String::from_utf8_lossy(&b));
            let (s, b) = http(
                &winner.addr,
                "PUT",
                &format!("/api/v1/projects/alpha/releases/{v}/files/one.bin/sbom/one.bin.cdx.json"),
                &[("Authorization", &auth)],
                &sbom,
            );
            assert_eq!(s, 201, "{be}: {}", String::from_utf8_lossy(&b));
            // A publication through one replica racing the end of an upload of a file without
            // an SBOM, then another publication, through the other. Either the upload is
            // refused (published meanwhile) and both publications succeed, or it lands first
            // and no publication may succeed (the gate sees the new file): never a published
            // release with a file that was not checked.
            let f2 = pattern(1, 100 + round as u32);
            let up = begin(
                &r2.addr,
                &auth,
                &format!("/api/v1/projects/alpha/releases/{v}/files/two.bin"),
                &f2,
            );
            wait_scratch(site.data.path(), 1, 1 << 18);
            let ((sp, bp), ((su, bu), (sp2, bp2))) = race(
                || publish(&r1.addr, &auth, &v),
                || (finish(up, &f2), publish(&r2.addr, &auth, &v)),
            );
            let landed = su == 201;
            assert!(
                landed || (su == 409 && bu["error"] == "immutable"),
                "{be} round {round}: upload racing the publication: {su} {bu}"
            );
            let want = if landed { 422 } else { 200 };
            assert_eq!(
                sp,
                want,
                "{be} round {round}: {}",
                String::from_utf8_lossy(&bp)
            );
            assert_eq!(
                sp2,
                want,
                "{be} round {round}: {}",
                String::from_utf8_lossy(&bp2)
            );
            tally[usize::from(!landed)] += 1;
            let mut expect = vec![("one.bin".to_string(), sha(&f1))];
            if landed {
                expect.push(("two.bin".to_string(), sha(&f2)));
            }
            let mut seen = Vec::new();
            for r in [&r1, &r2] {
                let (s, b) = get(&r.addr, &format!("/api/v1/projects/alpha/releases/{v}"));
                assert_eq!(s, 200);
                let d = json(&b);
                assert_eq!(d["published"].is_i64(), !landed, "{be}: {d}");
                let files: Vec<(String, String)> = d["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        (
                            f["name"].as_str().unwrap().to_string(),
                            f["sha256"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                assert_eq!(files, expect, "{be} round {round}: files");
                for (name, digest) in &expect {
                    let (s, body) = get(
                        &r.addr,
                        &format!("/api/v1/projects/alpha/releases/{v}/files/{name}"),
                    );
                    assert_eq!((s, sha(&body)), (200, digest.clone()), "{be} {name}");
                }
                seen.push(d);
            }
            assert_eq!(
                seen[0], seen[1],
                "{be}: both replicas show the same release"
            );
        }
        eprintln!(
            "{be}: the upload racing the publication landed first {} time(s) (release not publishable), was refused {} time(s) (release published)",
            tally[0], tally[1]
        );
        // Every round's release, listed the same way by both replicas; one publication
        // recorded per published release (the concurrent second publish was a no-op).
        let list = |r: &Replica| get(&r.addr, "/api/v1/projects/alpha/releases?limit=1000");
        let (l1, l2) = (list(&r1), list(&r2));
        assert_eq!(l1, l2, "{be}: listings agree");
        assert_eq!(json(&l1.1).as_array().unwrap().len(), ROUNDS, "{be}");
        let (s, b) = http(
            &r2.addr,
            "GET",
            "/api/v1/audit?limit=10000",
            &[("Authorization", &admin)],
            b"",
        );
        assert_eq!(s, 200);
        let audit = json(&b);
        let publishes = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "release.publish")
            .count();
        assert_eq!(
            publishes, tally[1],
            "{be}: one publication recorded per published release"
        );
        let creates = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "release.create")
            .count();
        assert_eq!(creates, ROUNDS, "{be}: one creation recorded per release");
    }
}

/// Sends an upload's head and the first half of its body; the rest is sent by [`finish`].
fn begin(addr: &str, auth: &str, path: &str, body: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: {auth}\r\nX-Content-SHA256: {}\r\nContent-Length: {}\r\n\r\n",
        sha(body),
        body.len()
    )
    .unwrap();
    let _ = s.write_all(&body[..body.len() / 2]);
    let _ = s.flush();
    s
}

/// Sends the rest of the body (a server that answered early may have closed the connection:
/// then the answer is read anyway); returns the status and body of the answer.
fn finish(mut s: TcpStream, body: &[u8]) -> (u16, serde_json::Value) {
    let _ = s.write_all(&body[body.len() / 2..]);
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap();
    (status, json(&resp[split + 4..]))
}

/// Waits until `tmp/` holds `n` scratch files of at least `bytes` bytes each (the uploads
/// passed the server's checks and are being received).
fn wait_scratch(data: &Path, n: usize, bytes: u64) {
    let t0 = std::time::Instant::now();
    while dir_entries(&data.join("tmp"))
        .iter()
        .filter(|e| e.1 >= bytes)
        .count()
        < n
    {
        assert!(
            t0.elapsed().as_secs() < 30,
            "the uploads never reached tmp/"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn two_replicas_take_different_bodies_under_one_name_one_201_one_409() {
    for site in Site::both() {
        let be = site.label();
        let (r1, r2) = site.two_replicas();
        let auth = site.token(&["--project", "alpha"]);
        assert_eq!(create(&r1.addr, &auth, "1.0", "abc").0, 201);
        for round in 0..ROUNDS {
            let name = format!("race{round}.bin");
            let path = format!("/api/v1/projects/alpha/releases/1.0/files/{name}");
            let (x, y) = (pattern(2, 50 + round as u32), pattern(2, 80 + round as u32));
            // Both uploads begin (both see no file of that name), then complete at once.
            let (cx, cy) = (
                begin(&r1.addr, &auth, &path, &x),
                begin(&r2.addr, &auth, &path, &y),
            );
            wait_scratch(site.data.path(), 2, 1 << 19);
            let ((sx, bx), (sy, by)) = race(|| finish(cx, &x), || finish(cy, &y));
            let mut st = [sx, sy];
            st.sort();
            assert_eq!(st, [201, 409], "{be} round {round}: {bx} {by}");
            let (win, lose) = if sx == 201 { (&x, &by) } else { (&y, &bx) };
            assert_eq!(lose["error"], "conflict", "{be}: {lose}");
            for r in [&r1, &r2] {
                let (s, body) = get(&r.addr, &path);
                assert_eq!((s, sha(&body)), (200, sha(win)), "{be} round {round}");
            }
            // The winner's upload again, through either replica: a no-op success.
            let (s, b) = put_file(&r2.addr, &auth, "1.0", &name, win);
            assert_eq!(s, 200, "{be}");
            assert_eq!(json(&b)["outcome"], "unchanged", "{be}");
        }
        assert!(
            dir_entries(&site.data.path().join("tmp")).is_empty(),
            "{be}"
        );
        let (code, f) = site.fsck();
        assert_eq!(code, 0, "{be}: {f}");
    }
}

#[test]
fn a_replica_killed_mid_upload_the_client_retries_through_the_other() {
    for site in Site::both() {
        let be = site.label();
        let (mut r1, r2) = site.two_replicas();
        let auth = site.token(&["--project", "alpha"]);
        assert_eq!(create(&r1.addr, &auth, "1.0", "abc").0, 201);
        let body = pattern(16, 241);
        let path = "/api/v1/projects/alpha/releases/1.0/files/big.bin";
        let cut = begin(&r1.addr, &auth, path, &body);
        wait_scratch(site.data.path(), 1, 4 << 20);
        r1.child.kill().unwrap();
        r1.child.wait().unwrap();
        drop(cut);
        // Nothing of the cut upload is visible; its scratch file is named, not corrupt.
        assert_eq!(get(&r2.addr, path).0, 404, "{be}");
        let (code, f) = site.fsck();
        assert_eq!(code, 0, "{be}: {f}");
        let stale = f["stale_scratch"].as_array().unwrap().clone();
        assert_eq!(stale.len(), 1, "{be}: {f}");
        // The retry through the other replica, with `relkit serve gc` run while it is in
        // flight: the killed upload's scratch file goes, the live one stays.
        let retry = begin(&r2.addr, &auth, path, &body);
        wait_scratch(site.data.path(), 2, 4 << 20);
        let gc = site.admin(&["gc"], &[]);
        assert!(
            gc.status.success(),
            "{}",
            String::from_utf8_lossy(&gc.stderr)
        );
        let gc_out = String::from_utf8_lossy(&gc.stdout);
        assert!(
            gc_out.contains(stale[0].as_str().unwrap()),
            "{be}: gc output {gc_out}"
        );
        assert_eq!(dir_entries(&site.data.path().join("tmp")).len(), 1, "{be}");
        let (s, b) = finish(retry, &body);
        assert_eq!(s, 201, "{be}: {b}");
        let (s, b) = publish(&r2.addr, &auth, "1.0");
        assert_eq!(s, 200, "{be}: {}", String::from_utf8_lossy(&b));
        let (s, got) = get(&r2.addr, path);
        assert_eq!((s, sha(&got)), (200, sha(&body)), "{be}: published bytes");
        let (code, f) = site.fsck();
        assert_eq!(code, 0, "{be}: {f}");
        assert_eq!(f["blobs"], 1, "{be}: {f}");
        assert!(
            f["stale_scratch"].as_array().unwrap().is_empty(),
            "{be}: {f}"
        );
        assert!(
            dir_entries(&site.data.path().join("tmp")).is_empty(),
            "{be}"
        );
    }
}

/// `relkit serve migrate --format json` output.
fn migrate(site: &Site, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend(extra);
    let out = site.admin(&["migrate"], &args);
    assert!(
        out.status.success(),
        "{}: {}",
        site.label(),
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

#[test]
fn migrate_twice_at_once_from_v1_and_refusals() {
    for site in Site::both() {
        let be = site.label();
        // Two processes at once on a fresh database: one applies everything, the other
        // waits and finds nothing to do.
        let (a, b) = race(|| migrate(&site, &[]), || migrate(&site, &[]));
        let latest = a["latest"].as_i64().unwrap();
        assert!(latest >= 2, "{be}");
        let mut applied = [a["applied"].clone(), b["applied"].clone()];
        applied.sort_by_key(|v| v.as_array().unwrap().len());
        let all: Vec<i64> = (1..=latest).collect();
        assert_eq!(applied[0], serde_json::json!([]), "{be}: {a} {b}");
        assert_eq!(applied[1], serde_json::json!(all), "{be}: {a} {b}");
        assert_eq!(
            (a["to"].as_i64(), b["to"].as_i64()),
            (Some(latest), Some(latest))
        );
        if let Some(pg) = &site.pg {
            let rows = psql(
                &pg.url,
                "SELECT version FROM schema_migrations ORDER BY version",
            )
            .unwrap();
            let want: Vec<String> = all.iter().map(i64::to_string).collect();
            assert_eq!(rows, want.join("\n"), "{be}: each version once");
        }
        assert_eq!(
            migrate(&site, &[])["applied"],
            serde_json::json!([]),
            "{be}"
        );
    }
    for site in Site::both() {
        let be = site.label();
        // From version 1: a database with migration 1 only, data in it, then the rest.
        let v1 = migrate(&site, &["--to", "1"]);
        assert_eq!(v1["applied"], serde_json::json!([1]), "{be}: {v1}");
        let no = Command::new(RELKIT)
            .args(["serve", "--listen", "127.0.0.1:0", "--no-migrate"])
            .args(site.args())
            .output()
            .unwrap();
        assert_eq!(no.status.code(), Some(2), "{be}: --no-migrate on version 1");
        let err = String::from_utf8_lossy(&no.stderr);
        assert!(
            err.contains("schema version 1") && err.contains("relkit serve migrate"),
            "{be}: {err}"
        );
        // The same database as relkit before versioned migrations left it (migration 1 is
        // that schema, with its schema_version table): adopted as version 1, then migrated.
        let legacy = site.sql("DROP TABLE schema_migrations");
        let v = migrate(&site, &[]);
        assert_eq!(v["from"], 1, "{be}: {v}");
        if legacy {
            assert_eq!(
                v["applied"],
                serde_json::json!((2..=v["latest"].as_i64().unwrap()).collect::<Vec<_>>()),
                "{be}: {v}"
            );
        }
        let auth = site.token(&["--project", "alpha"]);
        assert_eq!(v["to"], v["latest"], "{be}: {v}");
        let (mut r, addr, _err) = {
            let extra: Vec<String> = site.args().into_iter().skip(2).collect();
            let mut extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            extra.push("--no-migrate");
            start_keeping_stderr(site.data.path(), &extra)
        };
        assert_eq!(create(&addr, &auth, "1.0", "abc").0, 201, "{be}");
        let body = pattern(1, 7);
        assert_eq!(put_file(&addr, &auth, "1.0", "a.bin", &body).0, 201, "{be}");
        assert_eq!(publish(&addr, &auth, "1.0").0, 200, "{be}");
        r.kill().unwrap();
        wait_exit(&mut r, 10);
        // A database newer than this binary: refused, naming the versions.
        if !site.sql("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)") {
            continue;
        }
        for cmd in [&["migrate"][..], &["token", "list"][..]] {
            let out = site.admin(cmd, &[]);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{be}: {cmd:?} on a newer database"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("version 99") && err.contains(&format!("1 to {}", v["latest"])),
                "{be}: {err}"
            );
        }
    }
}
