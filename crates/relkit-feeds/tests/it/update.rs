//! `db update` from a loopback HTTP server serving the shared real data as the feeds publish
//! it: OSV `ECOSYSTEM/all.zip` (PyPI from pypa/advisory-database's YAML records written as
//! JSON, Go from golang/vulndb's OSV export, crates.io from RustSec's OSV records), NVD CVE
//! API 2.0 pages (the shared CVE records, paged as the API pages them) and RustSec's
//! advisory-db as GitHub's archive and as a bare git repository.
//!
//! Expected counts come from the data served (members in the zips, CVEs behind the API),
//! never from relkit's output; the server counts what it sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use relkit_feeds::{FeedsConfig, Outcome, UpdateReport};
use relkit_vuln::db::{Db, ImportOptions};
use serde_json::Value;

use crate::feedserver::{self, Reply, Request, Server};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// What the server serves; tests change it between runs.
#[derive(Default)]
struct Feeds {
    /// `/osv/ECO/all.zip` → (bytes, etag).
    zips: BTreeMap<String, (Vec<u8>, String)>,
    rustsec: (Vec<u8>, String),
    cves: Vec<Value>,
    /// Faults, by path prefix.
    fault: Option<(String, Fault)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Close the connection after half the body.
    Drop,
    /// Send only half the body, with a matching Content-Length.
    Truncate,
    /// 429 with Retry-After: 0, this many times, then normal answers.
    TooMany(u32),
}

struct Data {
    pypi: Vec<(String, Vec<u8>)>,
    go: Vec<(String, Vec<u8>)>,
    crates: Vec<(String, Vec<u8>)>,
    rustsec_files: Vec<(String, Vec<u8>)>,
    cves: Vec<Value>,
}

fn data() -> Option<Data> {
    let pypa = feedserver::shared(DIR, "osv/pypa-advisory-database.tar.xz")?;
    let pypi = feedserver::members(&pypa)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".yaml"))
        .map(|(_, b)| {
            let v: Value = serde_yaml_ng::from_slice(&b).unwrap();
            let id = v["id"].as_str().unwrap().to_string();
            (format!("{id}.json"), serde_json::to_vec(&v).unwrap())
        })
        .collect();
    let rustsec = feedserver::shared(DIR, "osv/rustsec-advisory-db.tar.xz")?;
    let rustsec_files = feedserver::members(&rustsec)
        .into_iter()
        .map(|(n, b)| (n.split_once('/').unwrap().1.to_string(), b))
        .collect();
    Some(Data {
        pypi,
        go: feedserver::go_records(DIR)?,
        crates: feedserver::crates_io_records(DIR)?,
        rustsec_files,
        cves: feedserver::nvd_cves(DIR)?,
    })
}

/// RustSec's advisories: the markdown files under `crates/` (RUSTSEC-…) and `rust/` (the
/// toolchain's, named by CVE).
fn is_rustsec_advisory(name: &str) -> bool {
    name.ends_with(".md") && (name.starts_with("crates/") || name.starts_with("rust/"))
}

fn rustsec_advisories(files: &[(String, Vec<u8>)]) -> usize {
    files.iter().filter(|(n, _)| is_rustsec_advisory(n)).count()
}

fn handler(feeds: Arc<Mutex<Feeds>>) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |req: &Request| {
        let mut f = feeds.lock().unwrap();
        if let Some((prefix, fault)) = f.fault.clone()
            && req.path.starts_with(&prefix)
            && let Fault::TooMany(n) = fault
            && n > 0
        {
            f.fault = Some((prefix, Fault::TooMany(n - 1)));
            return Reply::status(429).header("Retry-After", "0");
        }
        let mut reply = if let Some(z) = f.zips.get(&req.path) {
            feedserver::conditional(req, &z.0, &z.1, "Sat, 05 Dec 2026 10:00:00 GMT")
        } else if req.path == "/rustsec/main.tar.gz" {
            feedserver::conditional(
                req,
                &f.rustsec.0,
                &f.rustsec.1,
                "Sat, 05 Dec 2026 10:00:00 GMT",
            )
        } else if req.path == "/rest/json/cves/2.0" {
            feedserver::nvd_page(req, &f.cves)
        } else {
            Reply::status(404)
        };
        if let Some((prefix, fault)) = &f.fault
            && req.path.starts_with(prefix.as_str())
            && reply.status == 200
        {
            let half = reply.body.len() / 2;
            match fault {
                Fault::Drop => reply.cut_after = Some(half),
                Fault::Truncate => reply.body.truncate(half),
                Fault::TooMany(_) => {}
            }
        }
        reply
    }
}

struct Setup {
    data: Data,
    feeds: Arc<Mutex<Feeds>>,
    server: Server,
    dir: tempfile::TempDir,
}

fn setup() -> Option<Setup> {
    let data = data()?;
    let mut feeds = Feeds::default();
    for (eco, recs) in [
        ("PyPI", &data.pypi),
        ("Go", &data.go),
        ("crates.io", &data.crates),
    ] {
        feeds.zips.insert(
            format!("/osv/{eco}/all.zip"),
            (feedserver::osv_zip(recs), format!("\"{eco}-1\"")),
        );
    }
    feeds.rustsec = (
        feedserver::tar_gz("advisory-db-main", &data.rustsec_files),
        "\"rustsec-1\"".into(),
    );
    feeds.cves = data.cves.clone();
    let feeds = Arc::new(Mutex::new(feeds));
    let server = Server::start(handler(feeds.clone()));
    Some(Setup {
        data,
        feeds,
        server,
        dir: tempfile::tempdir().unwrap(),
    })
}

impl Setup {
    fn config(&self, extra_nvd: &str, sections: &str) -> FeedsConfig {
        let base = &self.server.base;
        let text = format!(
            "[http]\nmax_retries = 3\nbackoff_ms = 10\nmax_wait_secs = 1\n\
             [osv]\nbase = \"{base}/osv\"\necosystems = [\"PyPI\", \"Go\", \"crates.io\"]\n\
             [nvd]\nurl = \"{base}/rest/json/cves/2.0\"\nresults_per_page = 10\nrate_window_secs = 0\n{extra_nvd}\n\
             [rustsec]\narchive = \"{base}/rustsec/main.tar.gz\"\n{sections}"
        );
        FeedsConfig::parse("test feeds.toml", &text).unwrap()
    }

    fn db(&self) -> Db {
        Db::create(&self.dir.path().join("vuln.sqlite")).unwrap()
    }

    fn run(&self, cfg: &FeedsConfig) -> (UpdateReport, Vec<relkit_feeds::UpdateError>) {
        let mut db = self.db();
        relkit_feeds::update(&mut db, cfg, ImportOptions::default(), &|_| {})
    }

    fn outcome(r: &UpdateReport, name: &str) -> Outcome {
        r.sources.iter().find(|s| s.source == name).unwrap().outcome
    }

    /// What must not change when the update of `source` fails: the record counts, the
    /// source's status and its state (the other sources' last check times may move on).
    fn snapshot(&self, source: &str) -> String {
        let db = self.db();
        let s = db.stats().unwrap();
        let status = s.sources.iter().find(|x| x.source == source).cloned();
        let state = db.source_state(source).unwrap();
        format!(
            "{:?} {:?} {} {status:?} {state:?}",
            s.by_source, s.by_ecosystem, s.total
        )
    }
}

fn ids(files: &[(String, Vec<u8>)]) -> BTreeSet<String> {
    files
        .iter()
        .map(|(n, _)| {
            n.rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".json")
                .trim_end_matches(".md")
                .to_string()
        })
        .collect()
}

#[test]
fn first_run_imports_everything_and_the_second_transfers_only_changes() {
    let Some(s) = setup() else { return };
    let cfg = s.config("", "");
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{errors:?}");
    let served = |name: &str| r.sources.iter().find(|x| x.source == name).unwrap().clone();
    // Every record served was read: the zips' members, the API's CVEs, the advisories.
    for (name, n) in [
        ("osv-PyPI", s.data.pypi.len()),
        ("osv-Go", s.data.go.len()),
        ("osv-crates.io", s.data.crates.len()),
        ("nvd", s.data.cves.len()),
        ("rustsec", rustsec_advisories(&s.data.rustsec_files)),
    ] {
        let x = served(name);
        assert_eq!(x.outcome, Outcome::Updated, "{name}");
        assert_eq!(x.verified_records as usize, n, "{name}: verified");
        assert_eq!(
            x.import.records as usize + x.import.issues.len(),
            n,
            "{name}: read {:?}",
            x.import.issues.first()
        );
    }
    // NVD: a full walk in pages of 10 (no dates), every page once.
    let pages: Vec<String> = s
        .server
        .served()
        .into_iter()
        .filter(|x| x.target.starts_with("/rest/"))
        .map(|x| x.target)
        .collect();
    assert_eq!(pages.len(), s.data.cves.len().div_ceil(10), "{pages:?}");
    assert!(pages.iter().all(|p| !p.contains("lastMod")), "{pages:?}");
    // The DB holds one record per distinct id served.
    let mut all = ids(&s.data.pypi);
    all.extend(ids(&s.data.go));
    all.extend(ids(&s.data.crates));
    all.extend(ids(&s
        .data
        .rustsec_files
        .iter()
        .filter(|(n, _)| is_rustsec_advisory(n))
        .cloned()
        .collect::<Vec<_>>()));
    all.extend(
        s.data
            .cves
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string()),
    );
    let db = s.db();
    let stats = db.stats().unwrap();
    assert_eq!(stats.total as usize, all.len());
    let names: Vec<&str> = stats.sources.iter().map(|x| x.source.as_str()).collect();
    assert_eq!(
        names,
        ["nvd", "osv-Go", "osv-PyPI", "osv-crates.io", "rustsec"]
    );
    assert!(
        stats
            .sources
            .iter()
            .all(|x| x.last_update.is_some() && x.newest_record.is_some())
    );
    let newest_cve = s
        .data
        .cves
        .iter()
        .map(|c| c["lastModified"].as_str().unwrap())
        .max()
        .unwrap();
    assert_eq!(
        stats.sources[0].newest_record.as_deref(),
        Some(newest_cve),
        "NVD's newest record is the newest lastModified served"
    );
    drop(db);

    // Second run, nothing changed: 304s, one NVD request for the new (empty) window (a
    // second later: a window of no length is not asked for).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.server.clear();
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        r.sources.iter().all(|x| x.outcome == Outcome::Unchanged),
        "{r:?}"
    );
    assert!(r.sources.iter().all(|x| x.import.records == 0), "{r:?}");
    let log = s.server.served();
    let zips: Vec<_> = log
        .iter()
        .filter(|x| !x.target.starts_with("/rest/"))
        .collect();
    assert_eq!(zips.len(), 4);
    assert!(
        zips.iter().all(|x| x.status == 304 && x.bytes == 0),
        "{zips:?}"
    );
    let nvd: Vec<_> = log
        .iter()
        .filter(|x| x.target.starts_with("/rest/"))
        .collect();
    assert_eq!(nvd.len(), 1, "{nvd:?}");
    assert!(nvd[0].target.contains("lastModStartDate=") && nvd[0].target.contains("startIndex=0"));

    // Third run: PyPI's export changed and one CVE was modified: only those are transferred.
    {
        let mut f = s.feeds.lock().unwrap();
        let mut pypi = s.data.pypi.clone();
        pypi.truncate(pypi.len() - 1);
        f.zips.insert(
            "/osv/PyPI/all.zip".into(),
            (feedserver::osv_zip(&pypi), "\"PyPI-2\"".into()),
        );
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000",
            now.year(),
            now.month() as u8,
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        f.cves[0]["lastModified"] = Value::String(stamp);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.server.clear();
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(Setup::outcome(&r, "osv-PyPI"), Outcome::Updated);
    assert_eq!(Setup::outcome(&r, "osv-Go"), Outcome::Unchanged);
    assert_eq!(Setup::outcome(&r, "rustsec"), Outcome::Unchanged);
    let nvd = r.sources.iter().find(|x| x.source == "nvd").unwrap();
    assert_eq!(
        (nvd.outcome, nvd.verified_records, nvd.import.updated),
        (Outcome::Updated, 1, 1)
    );
    let log = s.server.served();
    let big: Vec<_> = log
        .iter()
        .filter(|x| x.bytes > 0 && !x.target.starts_with("/rest/"))
        .collect();
    assert_eq!(
        big.len(),
        1,
        "only PyPI's export is transferred again: {big:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|x| x.target.starts_with("/rest/"))
            .count(),
        1
    );
}

fn error_text(errors: &[relkit_feeds::UpdateError]) -> String {
    errors
        .iter()
        .map(|e| {
            let mut s = e.to_string();
            let mut c = std::error::Error::source(e);
            while let Some(x) = c {
                s.push_str(&format!(": {x}"));
                c = x.source();
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn failed_downloads_leave_the_db_as_it_was_and_say_what_happened() {
    let Some(s) = setup() else { return };
    let cfg = s.config("", "");
    let (_, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{errors:?}");
    let new_go = |f: &mut Feeds, tag: &str, extra: Option<(&str, &[u8])>| {
        let mut go = s.data.go.clone();
        go.pop();
        if let Some((n, b)) = extra {
            go.push((n.to_string(), b.to_vec()));
        }
        f.zips.insert(
            "/osv/Go/all.zip".into(),
            (feedserver::osv_zip(&go), format!("\"{tag}\"")),
        );
    };
    type Case<'a> = (&'a str, Box<dyn Fn(&mut Feeds) + 'a>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "dropped connection",
            Box::new(|f: &mut Feeds| {
                new_go(f, "drop", None);
                f.fault = Some(("/osv/Go/".into(), Fault::Drop));
            }),
            vec![
                "source osv-Go",
                "/osv/Go/all.zip",
                "connection dropped after",
            ],
        ),
        (
            "truncated zip",
            Box::new(|f: &mut Feeds| {
                new_go(f, "trunc", None);
                f.fault = Some(("/osv/Go/".into(), Fault::Truncate));
            }),
            vec!["source osv-Go", "not a complete archive", "zip"],
        ),
        (
            "invalid JSON",
            Box::new(|f: &mut Feeds| {
                new_go(
                    f,
                    "badjson",
                    Some(("GO-9999-0001.json", b"{\"id\": \"GO-9999-0001\", ")),
                );
                f.fault = None;
            }),
            vec![
                "source osv-Go",
                "GO-9999-0001.json cannot be read",
                "malformed JSON",
                "EOF",
            ],
        ),
        (
            "no advisories",
            Box::new(|f: &mut Feeds| {
                // A real JSON document that is no advisory (a CycloneDX SBOM), alone.
                let sbom = feedserver::shared(DIR, "sbom/cyclonedx/valid/valid-tags-1.6.json")
                    .expect("shared SBOM");
                let doc = ("bom.json".to_string(), std::fs::read(sbom).unwrap());
                f.zips.insert(
                    "/osv/Go/all.zip".into(),
                    (feedserver::osv_zip(&[doc]), "\"empty\"".into()),
                );
                f.fault = None;
            }),
            vec!["source osv-Go", "holds no advisories"],
        ),
        (
            "429 forever",
            Box::new(|f: &mut Feeds| {
                // Go's export is good again and is updated; NVD fails on its own. NVD's
                // cursor is kept to the second: a run in the same second as the last one has
                // no window to ask for, so the clock must move on first.
                std::thread::sleep(std::time::Duration::from_millis(1100));
                new_go(f, "Go-2", None);
                f.cves[1]["lastModified"] = Value::String("2099-01-01T00:00:00.000".into());
                f.fault = Some(("/rest/".into(), Fault::TooMany(1000)));
            }),
            vec![
                "source nvd",
                "/rest/json/cves/2.0",
                "HTTP 429 after 3 retries",
                "gave up",
            ],
        ),
    ];
    for (what, arrange, expect) in cases {
        arrange(&mut s.feeds.lock().unwrap());
        let snapshots: BTreeMap<&str, String> = ["osv-Go", "nvd"]
            .into_iter()
            .map(|n| (n, s.snapshot(n)))
            .collect();
        let (r, errors) = s.run(&cfg);
        let text = error_text(&errors);
        assert_eq!(errors.len(), 1, "{what}: {text}");
        for e in expect {
            assert!(text.contains(e), "{what}: {e:?} not in {text}");
        }
        assert_eq!(r.failed(), 1, "{what}");
        let failed = &errors[0].source_name;
        if what == "429 forever" {
            assert_eq!(Setup::outcome(&r, "osv-Go"), Outcome::Updated);
        }
        assert_eq!(
            s.snapshot(failed),
            snapshots[failed.as_str()],
            "{what}: the DB changed"
        );
        s.feeds.lock().unwrap().fault = None;
    }

    // 429 twice, then 200: the update succeeds after backing off (a second later, so that
    // there is a window to ask for).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.feeds.lock().unwrap().fault = Some(("/rest/".into(), Fault::TooMany(2)));
    s.server.clear();
    let (r, errors) = s.run(&s.config("", ""));
    assert!(errors.is_empty(), "{}", error_text(&errors));
    let statuses: Vec<u16> = s
        .server
        .served()
        .iter()
        .filter(|x| x.target.starts_with("/rest/"))
        .map(|x| x.status)
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
    assert_eq!(
        Setup::outcome(&r, "nvd"),
        Outcome::Unchanged,
        "the 2099 CVE is outside the window"
    );
    // Resumable: what the failed run did update is not downloaded again.
    assert_eq!(Setup::outcome(&r, "osv-Go"), Outcome::Unchanged);
    assert_eq!(Setup::outcome(&r, "osv-PyPI"), Outcome::Unchanged);
}

#[test]
fn the_api_key_is_sent_as_a_header_and_never_shown() {
    let Some(s) = setup() else { return };
    let key = "relkit-test-key-7c1e93";
    let key_file = s.dir.path().join("nvd-key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let mut cfg = s.config(
        &format!("api_key_file = {:?}", key_file.display().to_string()),
        "",
    );
    cfg.select(&["nvd".into()]).unwrap();
    s.feeds.lock().unwrap().fault = Some(("/rest/".into(), Fault::TooMany(1000)));
    let (r, errors) = s.run(&cfg);
    let shown = format!(
        "{}\n{errors:?}\n{r:?}\n{}\n{cfg:?}",
        error_text(&errors),
        serde_json::to_string(&r).unwrap()
    );
    assert!(shown.contains("HTTP 429"), "{shown}");
    assert!(!shown.contains(key), "the key leaked: {shown}");
    let log = s.server.served();
    assert_eq!(log.len(), 4, "one request and 3 retries");
    for x in &log {
        assert!(
            x.headers.iter().any(|(k, v)| k == "apikey" && v == key),
            "{:?}",
            x.headers
        );
        assert!(!x.target.contains(key));
    }
}

#[test]
fn nvd_windows_from_since_are_at_most_120_days_and_paged() {
    let Some(s) = setup() else { return };
    let mut cfg = s.config("since = \"2021-01-01T00:00:00Z\"\nwindow_days = 120", "");
    cfg.select(&["nvd".into()]).unwrap();
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{}", error_text(&errors));
    let since = feedserver::secs("2021-01-01T00:00:00Z");
    let expected = s
        .data
        .cves
        .iter()
        .filter(|c| feedserver::secs(c["lastModified"].as_str().unwrap()) >= since)
        .count();
    assert!(
        expected > 10,
        "the shared data has CVEs modified since 2021 ({expected})"
    );
    assert_eq!(r.sources[0].verified_records as usize, expected);
    let log = s.server.served();
    // The server answers 404 to windows over 120 days, so every window was within NVD's limit;
    // windows run from `since` to now without gaps.
    assert!(log.iter().all(|x| x.status == 200), "{log:?}");
    let days = (time::OffsetDateTime::now_utc().unix_timestamp() - since) / 86_400;
    let windows = log
        .iter()
        .filter(|x| x.target.contains("startIndex=0"))
        .count() as i64;
    assert_eq!(windows, (days + 119) / 120);
}

#[test]
fn rustsec_from_a_bare_git_repository() {
    let Some(s) = setup() else { return };
    let Some(_git) = relkit_testkit::oracle("git") else {
        return;
    };
    let work = s.dir.path().join("work");
    feedserver::write_tree(&work, &s.data.rustsec_files);
    let git = |dir: &Path, args: &[&str]| {
        relkit_testkit::run_ok(
            Command::new("git")
                .current_dir(dir)
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example.org",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args),
        )
    };
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "advisories"]);
    git(
        s.dir.path(),
        &["clone", "-q", "--bare", "work", "advisory-db.git"],
    );
    let bare = s.dir.path().join("advisory-db.git");
    let text = format!("[rustsec]\ngit = \"file://{}\"\n", bare.display());
    let cfg = FeedsConfig::parse("git.toml", &text).unwrap();
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty(), "{}", error_text(&errors));
    let n = rustsec_advisories(&s.data.rustsec_files);
    assert_eq!(
        (r.sources[0].outcome, r.sources[0].verified_records as usize),
        (Outcome::Updated, n)
    );
    assert_eq!(
        r.sources[0].import.records as usize + r.sources[0].import.issues.len(),
        n
    );
    let (r, errors) = s.run(&cfg);
    assert!(errors.is_empty());
    assert_eq!(
        (r.sources[0].outcome, r.sources[0].import.records),
        (Outcome::Unchanged, 0)
    );

    // A new commit adds an advisory that is not UTF-8 (a real one with a Latin-1 byte in
    // it): verified in the import pass, the whole import is rolled back.
    let before = s.snapshot("rustsec");
    let (name, body) = s
        .data
        .rustsec_files
        .iter()
        .find(|(n, _)| is_rustsec_advisory(n))
        .unwrap();
    let mut bad = body.clone();
    bad.extend_from_slice(b"\ncaf\xe9\n");
    let bad_name = name.replace(".md", "-latin1.md");
    feedserver::write_tree(&work, &[(bad_name.clone(), bad)]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "latin-1"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    let (_, errors) = s.run(&cfg);
    let text = error_text(&errors);
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        text.contains(&format!("{bad_name} cannot be read")) && text.contains("not UTF-8"),
        "{text}"
    );
    assert_eq!(s.snapshot("rustsec"), before, "the DB changed");
}
