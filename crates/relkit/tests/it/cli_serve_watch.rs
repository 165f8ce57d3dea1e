//! Published releases watched after they ship (issue 22 part 3, first slice), end to end with
//! processes: two releases of `webapp` whose CycloneDX SBOMs carry jinja2 2.10 (release 1.0)
//! and jinja2 3.1.4 (release 2.0), a vulnerability DB made by `relkit db import` from the
//! real PyPA record PYSEC-2021-66 (CVE-2020-28493, jinja2 < 2.11.3), and `relkit serve
//! --vuln-db`: release 1.0 and only it is listed by both JSON endpoints and in the Atom feed
//! (validated by feedparser, bozo 0, and xmllint). Then the real PYSEC-2019-217
//! (CVE-2019-10906, jinja2 < 2.10.1) is imported into the same DB file while the server runs:
//! the watcher picks it up without a restart, for 1.0 only, and the first finding keeps the
//! time it first appeared (its feed entry's id and `updated` are unchanged).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cli_serve::http;

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");

fn sbom(version: &str, jinja: &str) -> String {
    let purl = format!("pkg:pypi/jinja2@{jinja}");
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b7{}", &version[..1]),
        "version": 1,
        "metadata": {
            "timestamp": "2026-12-06T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "hand-written"}]},
            "component": {"type": "application", "bom-ref": "app", "name": "webapp", "version": version}
        },
        "components": [{"type": "library", "bom-ref": purl, "name": "jinja2", "version": jinja, "purl": purl}],
        "dependencies": [{"ref": "app", "dependsOn": [purl]}, {"ref": purl, "dependsOn": []}]
    })
    .to_string()
}

fn sha256(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x");
    std::fs::write(&p, bytes).unwrap();
    let out = relkit_testkit::run_ok(Command::new("sha256sum").arg(&p));
    String::from_utf8(out).unwrap()[..64].to_string()
}

fn publish(addr: &str, auth: &str, version: &str, jinja: &str) {
    let json = [
        ("Authorization", auth),
        ("Content-Type", "application/json"),
    ];
    let body = format!(r#"{{"version":"{version}","tag":"v{version}","commit":"abc"}}"#);
    let (st, b) = http(
        addr,
        "POST",
        "/api/v1/projects/webapp/releases",
        &json,
        body.as_bytes(),
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    let file = format!("webapp-{version}.tar.gz").into_bytes();
    let sum = sha256(&file);
    let (st, b) = http(
        addr,
        "PUT",
        &format!("/api/v1/projects/webapp/releases/{version}/files/webapp.tar.gz"),
        &[("Authorization", auth), ("X-Content-SHA256", &sum)],
        &file,
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    let doc = sbom(version, jinja).into_bytes();
    let sum = sha256(&doc);
    let (st, b) = http(
        addr,
        "PUT",
        &format!(
            "/api/v1/projects/webapp/releases/{version}/files/webapp.tar.gz/sbom/webapp.cdx.json"
        ),
        &[("Authorization", auth), ("X-Content-SHA256", &sum)],
        &doc,
    );
    assert_eq!(st, 201, "{}", String::from_utf8_lossy(&b));
    let (st, b) = http(
        addr,
        "POST",
        &format!("/api/v1/projects/webapp/releases/{version}/publish"),
        &[("Authorization", auth)],
        b"",
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
}

fn get_json(addr: &str, path: &str) -> Value {
    let (st, b) = http(addr, "GET", path, &[], b"");
    assert_eq!(st, 200, "{path}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap()
}

fn import(db: &Path, record: &Path) {
    relkit_testkit::run_ok(
        Command::new(RELKIT)
            .args(["db", "import", "--db"])
            .arg(db)
            .arg(record),
    );
}

/// Polls `f` until it returns Some, at most 60 s.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn advisories_of(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["advisory"].as_str().unwrap().to_string())
        .collect()
}

/// Validates the feed with feedparser (bozo 0) and xmllint; returns feedparser's entries as
/// `[(id, updated, title)]`, or None when an oracle is missing (a failure in CI).
fn atom_entries(feed: &[u8]) -> Option<Vec<(String, String, String)>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.atom");
    std::fs::write(&path, feed).unwrap();
    let xmllint = relkit_testkit::oracle("xmllint")?;
    relkit_testkit::run_ok(Command::new(xmllint).args(["--noout"]).arg(&path));
    if !relkit_testkit::oracle_runs("python3", &["-c", "import feedparser"]) {
        return None;
    }
    let script = r#"
import feedparser, json, sys
d = feedparser.parse(sys.argv[1])
assert d.bozo == 0, d.get("bozo_exception")
assert d.version == "atom10", d.version
print(json.dumps([[e.id, e.updated, e.title] for e in d.entries]))
"#;
    let out = relkit_testkit::run_ok(Command::new("python3").args(["-c", script]).arg(&path));
    let v: Vec<(String, String, String)> = serde_json::from_slice(&out).unwrap();
    Some(v)
}

#[test]
fn published_releases_rescanned_when_the_vuln_db_changes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vulns/osv/pypa");
    let (first, second) = (
        root.join("jinja2/PYSEC-2021-66.yaml"),
        root.join("jinja2/PYSEC-2019-217.yaml"),
    );
    if !first.is_file() || !second.is_file() {
        relkit_testkit::missing(&format!("PyPA records under {}", root.display()));
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let vulndb = data.path().join("vuln.sqlite");
    import(&vulndb, &first);
    let token = String::from_utf8(relkit_testkit::run_ok(
        Command::new(RELKIT)
            .args(["serve", "token", "create", "--project", "webapp", "--data"])
            .arg(data.path().join("srv")),
    ))
    .unwrap();
    let auth = format!("Bearer {}", token.trim());

    let (guard, addr) = serve(
        &data.path().join("srv"),
        &["--vuln-db".as_ref(), vulndb.as_os_str()],
    );

    publish(&addr, &auth, "1.0", "2.10");
    publish(&addr, &auth, "2.0", "3.1.4");

    // Both releases scanned (the watcher scans a release once it is published).
    let r1 = wait_for("both releases scanned", || {
        let r1 = get_json(
            &addr,
            "/api/v1/projects/webapp/releases/1.0/vulnerabilities",
        );
        let r2 = get_json(
            &addr,
            "/api/v1/projects/webapp/releases/2.0/vulnerabilities",
        );
        (r1["scanned"].is_i64() && r2["scanned"].is_i64()).then_some((r1, r2))
    });
    let (r1, r2) = r1;
    assert_eq!(advisories_of(&r1), ["CVE-2020-28493"], "{r1}");
    let f = &r1["findings"][0];
    assert_eq!(f["component"], "jinja2");
    assert_eq!(f["installed"], "2.10");
    assert!(
        f["aliases"]
            .as_array()
            .unwrap()
            .contains(&Value::from("PYSEC-2021-66")),
        "{f}"
    );
    assert_eq!(r1["scan_error"], Value::Null, "{r1}");
    assert!(r1["database"]["last_import"].is_string(), "{r1}");
    assert!(r1["database"]["age_seconds"].as_i64().unwrap() >= 0, "{r1}");
    assert_eq!(advisories_of(&r2), Vec::<String>::new(), "{r2}");
    assert_eq!(r2["scan_error"], Value::Null, "{r2}");

    let p = get_json(&addr, "/api/v1/projects/webapp/vulnerabilities");
    let adv = p["advisories"].as_array().unwrap();
    assert_eq!(adv.len(), 1, "{p}");
    assert_eq!(adv[0]["advisory"], "CVE-2020-28493");
    let versions: Vec<&str> = adv[0]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0"], "{p}");

    let (st, feed) = http(
        &addr,
        "GET",
        "/projects/webapp/vulnerabilities.atom",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    let entries = atom_entries(&feed);
    if let Some(e) = &entries {
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "tag:relkit-serve,2026:webapp/1.0/CVE-2020-28493");
        assert!(e[0].2.contains("webapp 1.0") && e[0].2.contains("CVE-2020-28493"));
    }

    // A second real advisory imported into the same file while the server runs.
    import(&vulndb, &second);
    let r1b = wait_for("the second advisory picked up", || {
        let r = get_json(
            &addr,
            "/api/v1/projects/webapp/releases/1.0/vulnerabilities",
        );
        (advisories_of(&r).len() == 2).then_some(r)
    });
    assert_eq!(
        advisories_of(&r1b),
        ["CVE-2019-10906", "CVE-2020-28493"],
        "{r1b}"
    );
    assert_eq!(
        r1b["findings"][1]["first_seen"], r1["findings"][0]["first_seen"],
        "a finding seen before keeps its first time"
    );
    let r2b = get_json(
        &addr,
        "/api/v1/projects/webapp/releases/2.0/vulnerabilities",
    );
    assert_eq!(advisories_of(&r2b), Vec::<String>::new(), "{r2b}");
    let p = get_json(&addr, "/api/v1/projects/webapp/vulnerabilities");
    let pairs: Vec<(String, Vec<String>)> = p["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["advisory"].as_str().unwrap().to_string(),
                a["releases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["version"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("CVE-2019-10906".to_string(), vec!["1.0".to_string()]),
            ("CVE-2020-28493".to_string(), vec!["1.0".to_string()])
        ],
        "{p}"
    );
    let (st, feed) = http(
        &addr,
        "GET",
        "/projects/webapp/vulnerabilities.atom",
        &[],
        b"",
    );
    assert_eq!(st, 200);
    if let (Some(before), Some(after)) = (entries, atom_entries(&feed)) {
        let ids: Vec<&str> = after.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(ids.len(), 2, "{after:?}");
        assert!(ids.contains(&"tag:relkit-serve,2026:webapp/1.0/CVE-2019-10906"));
        let old = after.iter().find(|e| e.0 == before[0].0).unwrap();
        assert_eq!(old.1, before[0].1, "the old entry's updated is unchanged");
    }
    drop(guard);
}

/// Starts `relkit serve` with `extra` arguments; returns the guard and the address.
fn serve(data: &Path, extra: &[&std::ffi::OsStr]) -> (KillOnDrop, String) {
    let (child, addr) = super::cli_serve::start_with(data, extra);
    (KillOnDrop(child), addr)
}

/// Fail closed: without --vuln-db the endpoints say so (503 no_vuln_db), never "no findings";
/// a --vuln-db that cannot be read is reported in `database.error`.
#[test]
fn no_or_unreadable_vuln_db_is_said_not_hidden() {
    let data = tempfile::tempdir().unwrap();
    relkit_testkit::run_ok(
        Command::new(RELKIT)
            .args(["serve", "token", "create", "--project", "webapp", "--data"])
            .arg(data.path()),
    );
    {
        let (_guard, addr) = serve(data.path(), &[]);
        for path in [
            "/api/v1/projects/webapp/vulnerabilities",
            "/projects/webapp/vulnerabilities.atom",
        ] {
            let (st, b) = http(&addr, "GET", path, &[], b"");
            assert_eq!(st, 503, "{path}");
            let v: Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["error"], "no_vuln_db", "{v}");
        }
    }
    let missing = data.path().join("no-such-vuln.sqlite");
    let (_guard, addr) = serve(data.path(), &["--vuln-db".as_ref(), missing.as_os_str()]);
    let v = wait_for("the DB error reported", || {
        let v = get_json(&addr, "/api/v1/projects/webapp/vulnerabilities");
        v["database"]["error"].is_string().then_some(v)
    });
    let e = v["database"]["error"].as_str().unwrap();
    assert!(e.contains("no-such-vuln.sqlite"), "{e}");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
