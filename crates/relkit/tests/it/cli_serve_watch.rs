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
        "components": [{"type": "library", "bom-ref": purl, "name": "jinja2", "version": jinja, "purl": purl,
                        "cpe": format!("cpe:2.3:a:palletsprojects:jinja:{jinja}:*:*:*:*:*:*:*")}],
        "dependencies": [{"ref": "app", "dependsOn": [purl]}, {"ref": purl, "dependsOn": []}]
    })
    .to_string()
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x");
    std::fs::write(&p, bytes).unwrap();
    let out = relkit_testkit::run_ok(Command::new("sha256sum").arg(&p));
    String::from_utf8(out).unwrap()[..64].to_string()
}

pub(crate) fn publish(addr: &str, auth: &str, version: &str, jinja: &str) {
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

pub(crate) fn get_json(addr: &str, path: &str) -> Value {
    let (st, b) = http(addr, "GET", path, &[], b"");
    assert_eq!(st, 200, "{path}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap()
}

pub(crate) fn import(db: &Path, record: &Path) {
    relkit_testkit::run_ok(
        Command::new(RELKIT)
            .args(["db", "import", "--db"])
            .arg(db)
            .arg(record),
    );
}

/// Polls `f` until it returns Some, at most 60 s.
pub(crate) fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
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

pub(crate) fn advisories_of(v: &Value) -> Vec<String> {
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
pub(crate) fn serve(data: &Path, extra: &[&std::ffi::OsStr]) -> (KillOnDrop, String) {
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

pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `relkit serve token create` for `project` (admin when None) on `data` [+ `--database`].
pub(crate) fn token(
    data: &Path,
    database: Option<&str>,
    project: Option<&str>,
) -> (String, String) {
    let mut cmd = Command::new(RELKIT);
    cmd.args(["serve", "token", "create", "--format", "json", "--data"])
        .arg(data);
    if let Some(db) = database {
        cmd.args(["--database", db]);
    }
    match project {
        Some(p) => cmd.args(["--project", p]),
        None => cmd.arg("--admin"),
    };
    let v: Value = serde_json::from_slice(&relkit_testkit::run_ok(&mut cmd)).unwrap();
    (
        v["id"].as_str().unwrap().to_string(),
        format!("Bearer {}", v["token"].as_str().unwrap()),
    )
}

pub(crate) fn post(addr: &str, path: &str, auth: Option<&str>, body: &Value) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    let (st, b) = http(addr, "POST", path, &headers, body.to_string().as_bytes());
    (
        st,
        serde_json::from_slice(&b)
            .unwrap_or_else(|e| panic!("{path}: {e}: {}", String::from_utf8_lossy(&b))),
    )
}

/// OpenVEX statements of a maintainer, end to end on SQLite and on PostgreSQL: refused
/// without a token, with another project's token, and when invalid (nothing stored); a valid
/// `not_affected` statement (the release as product, jinja2 as its subcomponent) removes
/// CVE-2020-28493 from both JSON endpoints and from the Atom feed (validated), lists it as
/// suppressed with the justification, shows it in the release's OpenVEX document and records
/// it in the audit log; a later `affected` statement (by the PyPA alias) brings it back.
#[test]
fn vex_not_affected_removes_the_finding_and_stays_in_the_vex() {
    let record = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vulns/osv/pypa/jinja2/PYSEC-2021-66.yaml");
    if !record.is_file() {
        relkit_testkit::missing(&format!("the PyPA record {}", record.display()));
        return;
    }
    let pg = super::cli_serve_replicas::PgDb::create();
    for (database, label) in super::cli_serve_replicas::databases(&pg) {
        let data = tempfile::tempdir().unwrap();
        let vulndb = data.path().join("vuln.sqlite");
        import(&vulndb, &record);
        let srv = data.path().join("srv");
        let (_, auth) = token(&srv, database, Some("webapp"));
        let (_, other) = token(&srv, database, Some("otherapp"));
        let (_, admin) = token(&srv, database, None);
        let mut extra: Vec<&std::ffi::OsStr> = vec!["--vuln-db".as_ref(), vulndb.as_os_str()];
        if let Some(db) = database {
            extra.extend::<[&std::ffi::OsStr; 2]>(["--database".as_ref(), db.as_ref()]);
        }
        let (_guard, addr) = serve(&srv, &extra);
        publish(&addr, &auth, "1.0", "2.10");
        let release = "/api/v1/projects/webapp/releases/1.0/vulnerabilities";
        let r = wait_for("the release scanned", || {
            let r = get_json(&addr, release);
            r["scanned"].is_i64().then_some(r)
        });
        assert_eq!(advisories_of(&r), ["CVE-2020-28493"], "{label}: {r}");
        if database.is_none() {
            // The pages, rendered by headless Chromium: the finding on the release page and
            // the affected release on the project page.
            if let Some(dom) = rendered(&addr, "/p/webapp/1.0", true) {
                let table = section(&dom, "id=\"findings\"");
                assert!(
                    table.contains("CVE-2020-28493") && table.contains("jinja2 2.10"),
                    "{dom}"
                );
                let dom = rendered(&addr, "/p/webapp", false).unwrap();
                let table = section(&dom, "id=\"advisories\"");
                assert!(
                    table.contains("CVE-2020-28493") && table.contains(">1.0</a>"),
                    "{dom}"
                );
            }
        }

        let vex_path = "/api/v1/projects/webapp/releases/1.0/vex";
        let statement = serde_json::json!({
            "vulnerability": {"name": "CVE-2020-28493"},
            "products": [{"@id": "pkg:pypi/webapp@1.0",
                          "subcomponents": [{"@id": "pkg:pypi/jinja2@2.10"}]}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
            "impact_statement": "webapp never passes untrusted text to the urlize filter"
        });
        let doc = serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.org/vex/webapp-1.0",
            "author": "webapp maintainers",
            "timestamp": "2026-12-06T08:00:00Z",
            "version": 1,
            "statements": [statement]
        });
        // Same token rules as every write.
        let (st, v) = post(&addr, vex_path, None, &doc);
        assert_eq!(
            (st, v["error"].as_str()),
            (401, Some("missing_token")),
            "{label}"
        );
        let (st, v) = post(&addr, vex_path, Some(&other), &doc);
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("wrong_project")),
            "{label}"
        );
        // Invalid statements change nothing.
        let mut no_reason = statement.clone();
        no_reason.as_object_mut().unwrap().remove("justification");
        no_reason
            .as_object_mut()
            .unwrap()
            .remove("impact_statement");
        let mut bad_status = statement.clone();
        bad_status["status"] = "fine".into();
        for (bad, path) in [
            (no_reason, "$.statements[0]"),
            (bad_status, "$.statements[0].status"),
        ] {
            let (st, v) = post(&addr, vex_path, Some(&auth), &bad);
            assert_eq!(st, 400, "{label}: {v}");
            assert_eq!(v["error"], "invalid_vex", "{label}: {v}");
            assert!(
                v["message"].as_str().unwrap().contains(path),
                "{label}: {v}"
            );
        }
        let (st, v) = post(
            &addr,
            "/api/v1/projects/webapp/releases/9.9/vex",
            Some(&auth),
            &doc,
        );
        assert_eq!(st, 404, "{label}: {v}");
        assert_eq!(
            get_json(&addr, vex_path)["statements"],
            serde_json::json!([])
        );

        let (st, v) = post(&addr, vex_path, Some(&auth), &doc);
        assert_eq!(st, 200, "{label}: {v}");
        assert_eq!(v["@context"], "https://openvex.dev/ns/v0.2.0", "{v}");
        assert_eq!(v["version"], 1, "{v}");

        let r = get_json(&addr, release);
        assert_eq!(advisories_of(&r), Vec::<String>::new(), "{label}: {r}");
        let s = &r["suppressed"][0];
        assert_eq!(s["finding"]["advisory"], "CVE-2020-28493", "{label}: {r}");
        assert_eq!(s["status"], "not_affected");
        assert_eq!(s["justification"], "vulnerable_code_not_in_execute_path");
        assert_eq!(
            s["impact_statement"],
            "webapp never passes untrusted text to the urlize filter"
        );
        let p = get_json(&addr, "/api/v1/projects/webapp/vulnerabilities");
        assert_eq!(p["advisories"], serde_json::json!([]), "{label}: {p}");
        let (st, feed) = http(
            &addr,
            "GET",
            "/projects/webapp/vulnerabilities.atom",
            &[],
            b"",
        );
        assert_eq!(st, 200);
        if let Some(e) = atom_entries(&feed) {
            assert!(e.is_empty(), "{label}: {e:?}");
        }
        if database.is_none() {
            // The release page lists it as not affected, with the justification; the project
            // page no longer lists the advisory.
            if let Some(dom) = rendered(&addr, "/p/webapp/1.0", true) {
                assert!(!dom.contains("id=\"findings\""), "{dom}");
                assert!(dom.contains("id=\"no-findings\""), "{dom}");
                let table = section(&dom, "id=\"not-affected\"");
                assert!(
                    table.contains("CVE-2020-28493")
                        && table.contains("vulnerable_code_not_in_execute_path")
                        && table
                            .contains("webapp never passes untrusted text to the urlize filter"),
                    "{dom}"
                );
                let dom = rendered(&addr, "/p/webapp", false).unwrap();
                assert!(
                    dom.contains("id=\"no-advisories\"") && !dom.contains("CVE-2020-28493"),
                    "{dom}"
                );
            }
        }
        // The release's VEX keeps the statement with its justification.
        let vex = get_json(&addr, vex_path);
        assert_eq!(vex["statements"].as_array().unwrap().len(), 1, "{vex}");
        let s0 = &vex["statements"][0];
        assert_eq!(s0["vulnerability"]["name"], "CVE-2020-28493");
        assert_eq!(s0["justification"], "vulnerable_code_not_in_execute_path");
        assert!(s0["timestamp"].is_string(), "{vex}");
        // Audited, by token id, with the body's digest.
        let (st, b) = http(
            &addr,
            "GET",
            "/api/v1/audit",
            &[("Authorization", &admin)],
            b"",
        );
        assert_eq!(st, 200);
        let audit: Value = serde_json::from_slice(&b).unwrap();
        let e = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "vex.publish")
            .unwrap_or_else(|| panic!("{label}: no vex.publish in {audit}"));
        assert_eq!(e["version"], "1.0");
        let sum = sha256(doc.to_string().as_bytes());
        assert_eq!(e["sha256"], sum.as_str());
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("CVE-2020-28493 not_affected (vulnerable_code_not_in_execute_path)"),
            "{e}"
        );
        assert_eq!(
            audit
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "vex.publish")
                .count(),
            1,
            "refused statements are not recorded: {audit}"
        );

        // A later `affected` statement (one statement, named by its PyPA alias) decides.
        let affected = serde_json::json!({
            "vulnerability": {"name": "PYSEC-2021-66"},
            "status": "affected",
            "action_statement": "upgrade jinja2 to 2.11.3"
        });
        let (st, v) = post(&addr, vex_path, Some(&auth), &affected);
        assert_eq!(st, 200, "{label}: {v}");
        assert_eq!(v["version"], 2, "{v}");
        let r = get_json(&addr, release);
        assert_eq!(advisories_of(&r), ["CVE-2020-28493"], "{label}: {r}");
        assert_eq!(r["suppressed"], serde_json::json!([]), "{label}: {r}");
    }
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Versions of the releases a component query lists.
fn query_versions(addr: &str, query: &str) -> Vec<String> {
    let v = get_json(addr, &format!("/api/v1/projects/webapp/components?{query}"));
    v["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

/// "Which releases contain component C in range R", in one request: by PURL (with a `,`
/// range, a vers range, a version in the PURL, no range) and by CPE, against two published
/// releases (jinja2 2.10 and 3.1.4) and an unpublished one (jinja2 2.11, never listed); bad
/// queries are 400, an unknown project 404.
#[test]
fn component_query_by_purl_or_cpe_in_a_range() {
    let data = tempfile::tempdir().unwrap();
    let (_, auth) = token(data.path(), None, Some("webapp"));
    let (_guard, addr) = serve(data.path(), &[]);
    publish(&addr, &auth, "1.0", "2.10");
    publish(&addr, &auth, "2.0", "3.1.4");
    let body = r#"{"version":"3.0","tag":"v3.0","commit":"abc"}"#;
    let (st, _) = http(
        &addr,
        "POST",
        "/api/v1/projects/webapp/releases",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(st, 201);
    let purl = format!("purl={}", enc("pkg:pypi/jinja2"));
    let cases: &[(String, &[&str])] = &[
        (purl.clone(), &["1.0", "2.0"]),
        (format!("{purl}&range={}", enc(">=2.0,<3.0")), &["1.0"]),
        (format!("{purl}&range={}", enc(">=2.10.1")), &["2.0"]),
        (
            format!("{purl}&range={}", enc("vers:pypi/>=3.0|<4")),
            &["2.0"],
        ),
        (
            format!("{purl}&range={}", enc("vers:pypi/<2.11|>=3.1.4")),
            &["1.0", "2.0"],
        ),
        (format!("{purl}&range={}", enc("vers:pypi/2.10")), &["1.0"]),
        (format!("purl={}", enc("pkg:pypi/jinja2@3.1.4")), &["2.0"]),
        (format!("purl={}", enc("pkg:pypi/flask")), &[]),
        (format!("purl={}", enc("pkg:npm/jinja2")), &[]),
        (
            format!(
                "cpe={}&range={}",
                enc("cpe:2.3:a:palletsprojects:jinja:*:*:*:*:*:*:*:*"),
                enc("<3")
            ),
            &["1.0"],
        ),
        (
            format!(
                "cpe={}",
                enc("cpe:2.3:a:palletsprojects:jinja:3.1.4:*:*:*:*:*:*:*")
            ),
            &["2.0"],
        ),
        (
            format!("cpe={}", enc("cpe:2.3:a:pocoo:jinja:*:*:*:*:*:*:*:*")),
            &[],
        ),
    ];
    for (q, want) in cases {
        assert_eq!(query_versions(&addr, q), *want, "{q}");
    }
    let v = get_json(&addr, &format!("/api/v1/projects/webapp/components?{purl}"));
    assert_eq!(v["searched"], 2, "{v}");
    let c = &v["releases"][0]["components"][0];
    assert_eq!(c["name"], "jinja2");
    assert_eq!(c["version"], "2.10");
    assert_eq!(c["sbom"], "webapp.tar.gz/sbom/webapp.cdx.json");
    for bad in [
        String::new(),
        format!("{purl}&cpe={}", enc("cpe:2.3:a:x:y:*:*:*:*:*:*:*:*")),
        format!("{purl}&range={}", enc(">=not a version")),
        format!("purl={}", enc("not-a-purl")),
    ] {
        let (st, b) = http(
            &addr,
            "GET",
            &format!("/api/v1/projects/webapp/components?{bad}"),
            &[],
            b"",
        );
        assert_eq!(st, 400, "{bad}: {}", String::from_utf8_lossy(&b));
        let e: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(e["error"], "bad_query", "{bad}");
    }
    let (st, _) = http(
        &addr,
        "GET",
        &format!("/api/v1/projects/nothing/components?{purl}"),
        &[],
        b"",
    );
    assert_eq!(st, 404);
}

/// The Chromium binary (None when missing: a failure in CI).
fn chromium() -> Option<&'static str> {
    let found = relkit_testkit::oracle_runs("chromium", &["--version"]);
    if !found {
        relkit_testkit::missing("oracle `chromium` (apt-get install chromium)");
    }
    found.then_some("chromium")
}

fn headless(profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

/// A page's DOM as headless Chromium renders it, after checking (with `shot`) that its
/// screenshot is a PNG of the window's size and not blank; None without Chromium.
fn rendered(addr: &str, page: &str, shot: bool) -> Option<String> {
    chromium()?;
    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}{page}");
    if shot {
        let png_path = profile.path().join("page.png");
        let out = headless(
            profile.path(),
            &[
                &format!("--screenshot={}", png_path.display()),
                "--window-size=1200,800",
                &url,
            ],
        );
        let png = std::fs::read(&png_path).unwrap_or_else(|e| {
            panic!(
                "no screenshot ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h) = (
            u32::from_be_bytes(png[16..20].try_into().unwrap()),
            u32::from_be_bytes(png[20..24].try_into().unwrap()),
        );
        assert_eq!((w, h), (1200, 800));
        assert!(png.len() > 5000, "a blank page: {} bytes", png.len());
    }
    let out = headless(profile.path(), &["--dump-dom", &url]);
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The element that starts with the attribute `marker`, up to its table's end.
fn section<'a>(dom: &'a str, marker: &str) -> &'a str {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {dom}"));
    let rest = &dom[start..];
    &rest[..rest.find("</table>").unwrap_or(rest.len())]
}

/// `relkit serve db update`: the DB a running server reads is updated on a copy that replaces
/// it in one rename (a new file: another inode, no temporary file left), and the server picks
/// up the new advisory without a restart; an update that fails exits 2 and leaves the DB's
/// findings as they were.
#[test]
fn serve_db_update_replaces_the_db_the_server_reads() {
    use std::os::unix::fs::MetadataExt;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vulns/osv/pypa");
    let (first, second) = (
        root.join("jinja2/PYSEC-2019-217.yaml"),
        root.join("jinja2/PYSEC-2021-66.yaml"),
    );
    if !first.is_file() || !second.is_file() {
        relkit_testkit::missing(&format!("PyPA records under {}", root.display()));
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let dbdir = data.path().join("vulns");
    let vulndb = dbdir.join("vuln.sqlite");
    let update = |record: &Path| {
        Command::new(RELKIT)
            .args(["serve", "db", "update", "--db"])
            .arg(&vulndb)
            .arg(record)
            .output()
            .unwrap()
    };
    let out = update(&first);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let srv = data.path().join("srv");
    let (_, auth) = token(&srv, None, Some("webapp"));
    let (_guard, addr) = serve(&srv, &["--vuln-db".as_ref(), vulndb.as_os_str()]);
    publish(&addr, &auth, "1.0", "2.10");
    let release = "/api/v1/projects/webapp/releases/1.0/vulnerabilities";
    let r = wait_for("the release scanned", || {
        let r = get_json(&addr, release);
        r["scanned"].is_i64().then_some(r)
    });
    assert_eq!(advisories_of(&r), ["CVE-2019-10906"], "{r}");
    let before = std::fs::metadata(&vulndb).unwrap().ino();

    let out = update(&second);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        std::fs::metadata(&vulndb).unwrap().ino(),
        before,
        "replaced, not written in place"
    );
    let left: Vec<_> = std::fs::read_dir(&dbdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["vuln.sqlite"], "no temporary file left");
    wait_for("the new advisory picked up", || {
        let r = get_json(&addr, release);
        (advisories_of(&r) == ["CVE-2019-10906", "CVE-2020-28493"]).then_some(())
    });

    let out = update(&data.path().join("no-such-record.json"));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = std::fs::read_dir(&dbdir).unwrap().count();
    assert_eq!(left, 1, "no temporary file left after a failure");
    let r = get_json(&addr, release);
    assert_eq!(
        advisories_of(&r),
        ["CVE-2019-10906", "CVE-2020-28493"],
        "{r}"
    );
}
