//! `relkit db update` end to end against a loopback server serving the shared real data in
//! the feeds' layouts (Go's OSV export as `Go/all.zip`, NVD CVE API 2.0 pages, RustSec's
//! advisory-db as GitHub's archive): first run imports, second run is a no-op, `db stats`
//! shows each source's last update and newest record, a failing source fails the command
//! with a message naming it, and an API key never appears in the output. The failure modes
//! in detail are relkit-feeds' tests.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::Value;

#[path = "../../../relkit-feeds/tests/it/feedserver.rs"]
mod feedserver;

use feedserver::{Reply, Request, Server};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

fn relkit(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relkit"));
    c.args(args).env_remove("NVD_API_KEY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn update_from_feeds_then_no_change_then_a_failing_source() {
    let (Some(go), Some(cves), Some(rustsec)) = (
        feedserver::go_records(DIR),
        feedserver::nvd_cves(DIR),
        feedserver::shared(DIR, "osv/rustsec-advisory-db.tar.xz"),
    ) else {
        return;
    };
    let rustsec_files: Vec<(String, Vec<u8>)> = feedserver::members(&rustsec)
        .into_iter()
        .map(|(n, b)| (n.split_once('/').unwrap().1.to_string(), b))
        .collect();
    let advisories = rustsec_files
        .iter()
        .filter(|(n, _)| n.ends_with(".md") && (n.starts_with("crates/") || n.starts_with("rust/")))
        .count();
    let zip = feedserver::osv_zip(&go);
    let tgz = feedserver::tar_gz("advisory-db-main", &rustsec_files);
    let n_cves = cves.len();
    let too_many = Arc::new(Mutex::new(false));
    let flag = too_many.clone();
    let server = Server::start(move |req: &Request| match req.path.as_str() {
        "/osv/Go/all.zip" => {
            feedserver::conditional(req, &zip, "\"go-1\"", "Sat, 05 Dec 2026 10:00:00 GMT")
        }
        "/rustsec.tar.gz" => {
            feedserver::conditional(req, &tgz, "\"rs-1\"", "Sat, 05 Dec 2026 10:00:00 GMT")
        }
        "/nvd" if *flag.lock().unwrap() => Reply::status(429).header("Retry-After", "0"),
        "/nvd" => feedserver::nvd_page(req, &cves),
        _ => Reply::status(404),
    });
    let dir = tempfile::tempdir().unwrap();
    let key = "cli-test-key-51d0a7";
    let feeds = dir.path().join("feeds.toml");
    std::fs::write(
        &feeds,
        format!(
            "[http]\nmax_retries = 2\nbackoff_ms = 10\n[osv]\nbase = \"{b}/osv\"\necosystems = [\"Go\"]\n\
             [nvd]\nurl = \"{b}/nvd\"\nresults_per_page = 20\nrate_window_secs = 0\n\
             [rustsec]\narchive = \"{b}/rustsec.tar.gz\"\n",
            b = server.base
        ),
    )
    .unwrap();
    let db = dir.path().join("vuln.sqlite");
    let (db_s, feeds_s) = (db.to_str().unwrap(), feeds.to_str().unwrap());
    let args = [
        "db", "update", "--db", db_s, "--feeds", feeds_s, "--format", "json",
    ];

    let first = relkit(&args, &[]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let r = json(&first);
    let by = |r: &Value, name: &str| {
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by(&r, "osv-Go")["import"]["records"], go.len());
    assert_eq!(by(&r, "nvd")["import"]["records"], n_cves);
    assert_eq!(by(&r, "rustsec")["import"]["records"], advisories);
    assert!(
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "updated")
    );

    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = relkit(&args, &[]);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let r = json(&second);
    assert!(
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "unchanged" && s["import"]["records"] == 0),
        "{r}"
    );

    let stats = json(&relkit(
        &["db", "stats", "--db", db_s, "--format", "json"],
        &[],
    ));
    let sources = stats["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3, "{stats}");
    assert!(
        sources
            .iter()
            .all(|s| s["last_update"].is_string() && s["newest_record"].is_string()),
        "{stats}"
    );
    let text = relkit(&["db", "stats", "--db", db_s], &[]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("feed sources (relkit db update):"));

    // NVD refuses (429) every time: the command fails naming the source, the others are
    // unchanged, the DB keeps its records, and the key (from the environment) is not shown.
    *too_many.lock().unwrap() = true;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let failed = relkit(
        &["db", "update", "--db", db_s, "--feeds", feeds_s],
        &[("NVD_API_KEY", key)],
    );
    assert!(!failed.status.success());
    let (out, err) = (
        String::from_utf8_lossy(&failed.stdout),
        String::from_utf8_lossy(&failed.stderr),
    );
    assert!(
        err.contains("updating source nvd from") && err.contains("HTTP 429 after 2 retries"),
        "{err}"
    );
    assert!(err.contains("1 of 3 sources failed"), "{err}");
    assert!(
        !out.contains(key) && !err.contains(key),
        "the key leaked: {out}{err}"
    );
    let after = json(&relkit(
        &["db", "stats", "--db", db_s, "--format", "json"],
        &[],
    ));
    assert_eq!(after["total"], stats["total"]);
    assert!(
        server
            .served()
            .iter()
            .rfind(|x| x.target.starts_with("/nvd"))
            .unwrap()
            .headers
            .iter()
            .any(|(k, v)| k == "apikey" && v == key)
    );

    // Paths still mean re-importing local files.
    let local = relkit(
        &[
            "db",
            "update",
            "--db",
            db_s,
            &format!("{DIR}/../../../shared/data/vulns/nvd/CVE-2024-3094.json"),
            "--format",
            "json",
        ],
        &[],
    );
    assert!(
        local.status.success(),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    assert_eq!(json(&local)["records"], 1);
}
