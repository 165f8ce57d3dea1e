//! Interrupted downloads: `db update` of the Go vulndb's real OSV export (`Go/all.zip`) from a
//! loopback server that drops connections part-way, honours or ignores `Range`, changes the
//! export between attempts, or does not answer at all. What was transferred is counted by the
//! server (its log: request headers, status, body bytes sent), not taken from relkit.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use relkit_feeds::{FeedsConfig, Outcome, UpdateError, UpdateReport};
use relkit_vuln::db::{Db, ImportOptions};

use crate::feedserver::{self, Reply, Request, Served, Server};

const DIR: &str = env!("CARGO_MANIFEST_DIR");
const PATH: &str = "/osv/Go/all.zip";
const LAST_MODIFIED: &str = "Sat, 05 Dec 2026 10:00:00 GMT";

/// One version of the export.
#[derive(Clone)]
struct Export {
    zip: Vec<u8>,
    etag: String,
    ids: BTreeSet<String>,
}

/// What the server does; tests change it between runs.
struct State {
    export: Export,
    /// Answer 206 to a range request whose If-Range matches (else the whole file).
    ranges: bool,
    /// Cut the body of the next this-many answers after this many bytes.
    cut: Option<(usize, u32)>,
    /// After the next cut answer, serve this version instead.
    then: Option<Export>,
    /// Close the next this-many connections without answering.
    hang_ups: u32,
    /// Answer range requests with 206 and the whole file (`Content-Range: bytes 0-…`).
    whole_as_206: bool,
}

struct Setup {
    records: Vec<(String, Vec<u8>)>,
    state: Arc<Mutex<State>>,
    server: Server,
    dir: tempfile::TempDir,
}

/// The export without its last `drop` records, tagged `"Go-{version}"`.
fn export(records: &[(String, Vec<u8>)], drop: usize, version: u32) -> Export {
    let kept = &records[..records.len() - drop];
    Export {
        zip: feedserver::osv_zip(kept),
        etag: format!("\"Go-{version}\""),
        ids: kept
            .iter()
            .map(|(n, _)| n.trim_end_matches(".json").to_string())
            .collect(),
    }
}

fn handler(state: Arc<Mutex<State>>) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |req: &Request| {
        let mut s = state.lock().unwrap();
        if req.path != PATH {
            return Reply::status(404);
        }
        if s.hang_ups > 0 {
            s.hang_ups -= 1;
            return Reply::hang_up();
        }
        let mut reply = feedserver::conditional(req, &s.export.zip, &s.export.etag, LAST_MODIFIED);
        if s.ranges {
            reply = feedserver::ranged(req, reply);
        }
        if s.whole_as_206 && req.header("range").is_some() && reply.status == 200 {
            let range = format!("bytes 0-{}/{}", reply.body.len() - 1, reply.body.len());
            reply.status = 206;
            reply = reply.header("Content-Range", &range);
        }
        if let Some((after, times)) = s.cut
            && times > 0
            && matches!(reply.status, 200 | 206)
        {
            reply.cut_after = Some(after);
            s.cut = (times > 1).then_some((after, times - 1));
            if let Some(next) = s.then.take() {
                s.export = next;
            }
        }
        reply
    }
}

fn setup() -> Option<Setup> {
    let records = feedserver::go_records(DIR)?;
    assert!(records.len() > 100, "the shared Go vulndb export");
    let state = Arc::new(Mutex::new(State {
        export: export(&records, 0, 1),
        ranges: true,
        cut: None,
        then: None,
        hang_ups: 0,
        whole_as_206: false,
    }));
    let server = Server::start(handler(state.clone()));
    Some(Setup {
        records,
        state,
        server,
        dir: tempfile::tempdir().unwrap(),
    })
}

impl Setup {
    fn config(&self, base: &str) -> FeedsConfig {
        let text = format!(
            "[http]\nmax_retries = 3\nbackoff_ms = 1\nmax_wait_secs = 1\n\
             [osv]\nbase = \"{base}/osv\"\necosystems = [\"Go\"]\n"
        );
        FeedsConfig::parse("test feeds.toml", &text).unwrap()
    }

    fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("vuln.sqlite")
    }

    fn run(&self) -> (UpdateReport, Vec<UpdateError>) {
        self.run_from(&self.server.base)
    }

    fn run_from(&self, base: &str) -> (UpdateReport, Vec<UpdateError>) {
        let mut db = Db::create(&self.db_path()).unwrap();
        relkit_feeds::update(
            &mut db,
            &self.config(base),
            ImportOptions::default(),
            &|_| {},
        )
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
    }

    fn zip_len(&self) -> usize {
        self.state.lock().unwrap().export.zip.len()
    }

    /// The DB's records and osv-Go's status and state: what a failed update must not change.
    fn snapshot(&self) -> String {
        let db = Db::open(&self.db_path()).unwrap();
        let s = db.stats().unwrap();
        format!(
            "{} {:?} {:?} {:?}",
            s.total,
            s.by_source,
            s.sources,
            db.source_state("osv-Go").unwrap()
        )
    }

    /// Whether the DB holds `e`'s records (an update does not delete records that left
    /// the export, so a DB that held an older version may hold more) and `e`'s validators.
    fn assert_holds(&self, e: &Export) {
        let db = Db::open(&self.db_path()).unwrap();
        assert!(db.stats().unwrap().total as usize >= e.ids.len());
        for id in &e.ids {
            assert!(db.get(id).unwrap().is_some(), "{id} missing");
        }
        let state = db.source_state("osv-Go").unwrap().unwrap();
        assert!(state.contains(&e.etag.replace('"', "\\\"")), "{state}");
    }

    /// The files next to the DB other than the DB itself.
    fn leftovers(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with("vuln.sqlite") || n.contains(".partial-"))
            .collect();
        v.sort();
        v
    }
}

fn header<'a>(x: &'a Served, name: &str) -> Option<&'a str> {
    x.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn error_text(errors: &[UpdateError]) -> String {
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

fn updated(r: &UpdateReport, n: usize) {
    let x = &r.sources[0];
    assert_eq!(x.outcome, Outcome::Updated);
    assert_eq!(x.verified_records as usize, n);
    assert_eq!(x.import.records as usize + x.import.issues.len(), n);
}

#[test]
fn a_dropped_download_resumes_with_range_and_transfers_the_file_once() {
    let Some(s) = setup() else { return };
    let len = s.zip_len();
    let cut = len * 2 / 5;
    s.set(|st| st.cut = Some((cut, 1)));
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len());
    s.assert_holds(&export(&s.records, 0, 1));
    let db = Db::open(&s.db_path()).unwrap();
    assert_eq!(db.stats().unwrap().total as usize, s.records.len());
    let log = s.server.served();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!((log[0].status, log[0].bytes), (200, cut));
    assert_eq!(header(&log[0], "range"), None);
    // The second request asks for the rest of the same version, and gets only the rest.
    assert_eq!(
        header(&log[1], "range"),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(header(&log[1], "if-range"), Some("\"Go-1\""));
    assert_eq!((log[1].status, log[1].bytes), (206, len - cut));
    assert_eq!(log[0].bytes + log[1].bytes, len, "one file's bytes in all");
    assert_eq!(r.sources[0].bytes as usize, len);
    assert_eq!(s.leftovers(), Vec::<String>::new());
}

#[test]
fn a_server_that_ignores_range_still_gives_the_whole_file() {
    let Some(s) = setup() else { return };
    let len = s.zip_len();
    let cut = len / 3;
    s.set(|st| {
        st.ranges = false;
        st.cut = Some((cut, 1));
    });
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len());
    s.assert_holds(&export(&s.records, 0, 1));
    let db = Db::open(&s.db_path()).unwrap();
    assert_eq!(db.stats().unwrap().total as usize, s.records.len());
    let log = s.server.served();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        header(&log[1], "range"),
        Some(format!("bytes={cut}-").as_str())
    );
    // 200: the whole file again, written from the start (not appended).
    assert_eq!((log[1].status, log[1].bytes), (200, len));
    assert_eq!(r.sources[0].bytes as usize, cut + len);
    assert_eq!(s.leftovers(), Vec::<String>::new());
}

#[test]
fn a_206_that_does_not_continue_the_bytes_here_starts_over() {
    let Some(s) = setup() else { return };
    let len = s.zip_len();
    let cut = len / 4;
    s.set(|st| {
        st.ranges = false;
        st.whole_as_206 = true;
        st.cut = Some((cut, 1));
    });
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len());
    let log = s.server.served();
    // The 206 starts at 0, not at the bytes asked for: not appended; the file is asked for
    // again without Range.
    let seen: Vec<(u16, Option<&str>)> =
        log.iter().map(|x| (x.status, header(x, "range"))).collect();
    let asked = format!("bytes={cut}-");
    assert_eq!(
        seen,
        [(200, None), (206, Some(asked.as_str())), (200, None)]
    );
    let db = Db::open(&s.db_path()).unwrap();
    assert_eq!(db.stats().unwrap().total as usize, s.records.len());
    assert_eq!(s.leftovers(), Vec::<String>::new());
}

#[test]
fn an_export_that_changes_between_attempts_is_downloaded_whole() {
    let Some(s) = setup() else { return };
    let len = s.zip_len();
    let cut = len / 2;
    let v2 = export(&s.records, 3, 2);
    s.set(|st| {
        st.cut = Some((cut, 1));
        st.then = Some(v2.clone());
    });
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len() - 3);
    let log = s.server.served();
    assert_eq!(log.len(), 2, "{log:?}");
    // If-Range names version 1; the server has version 2: 200, all of version 2.
    assert_eq!(header(&log[1], "if-range"), Some("\"Go-1\""));
    assert_eq!((log[1].status, log[1].bytes), (200, v2.zip.len()));
    s.assert_holds(&v2);
    let db = Db::open(&s.db_path()).unwrap();
    assert_eq!(db.stats().unwrap().total as usize, v2.ids.len());
    for gone in &export(&s.records, 0, 1).ids - &v2.ids {
        assert!(
            db.get(&gone).unwrap().is_none(),
            "{gone}: only version 2's records"
        );
    }
    assert_eq!(s.leftovers(), Vec::<String>::new());
}

#[test]
fn a_run_that_keeps_failing_keeps_the_db_and_the_next_run_resumes() {
    let Some(s) = setup() else { return };
    let (_, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    let before = s.snapshot();

    // Version 2; every answer is cut after a fifth: 1 + 3 retries bring four fifths.
    let v2 = export(&s.records, 2, 2);
    let step = v2.zip.len() / 5;
    s.set(|st| {
        st.export = v2.clone();
        st.cut = Some((step, 4));
    });
    s.server.clear();
    let (r, errors) = s.run();
    let text = error_text(&errors);
    assert_eq!((errors.len(), r.sources[0].outcome), (1, Outcome::Failed));
    for e in [
        "source osv-Go",
        PATH,
        "interrupted 4 times",
        &format!("{} bytes of {} are kept", 4 * step, v2.zip.len()),
        "connection dropped after",
    ] {
        assert!(text.contains(e), "{e:?} not in {text}");
    }
    assert_eq!(s.snapshot(), before, "the DB changed");
    let log = s.server.served();
    let ranges: Vec<Option<&str>> = log.iter().map(|x| header(x, "range")).collect();
    let want: Vec<String> = (1..4).map(|i| format!("bytes={}-", i * step)).collect();
    assert_eq!(
        ranges,
        [
            None,
            Some(want[0].as_str()),
            Some(want[1].as_str()),
            Some(want[2].as_str())
        ]
    );
    assert!(log[1..].iter().all(|x| x.status == 206), "{log:?}");
    let partial = s.dir.path().join("vuln.sqlite.partial-osv-Go.zip");
    assert_eq!(
        std::fs::metadata(&partial).unwrap().len() as usize,
        4 * step
    );
    assert!(Path::new(&format!("{}.meta", partial.display())).exists());

    // The next run continues from the kept bytes: only the last fifth is transferred.
    s.server.clear();
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len() - 2);
    s.assert_holds(&v2);
    let log = s.server.served();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        header(&log[0], "range"),
        Some(format!("bytes={}-", 4 * step).as_str())
    );
    assert_eq!(header(&log[0], "if-range"), Some("\"Go-2\""));
    assert_eq!(
        (log[0].status, log[0].bytes),
        (206, v2.zip.len() - 4 * step)
    );
    assert_eq!(s.leftovers(), Vec::<String>::new());

    // A kept partial of a version that is gone is discarded: the next run gets all of the
    // new version (200 to its If-Range), not a mix.
    let v3 = export(&s.records, 4, 3);
    s.set(|st| {
        st.export = export(&s.records, 3, 9);
        st.cut = Some((step, 4));
    });
    let (_, errors) = s.run();
    assert_eq!(errors.len(), 1);
    s.set(|st| {
        st.export = v3.clone();
        st.cut = None;
    });
    s.server.clear();
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len() - 4);
    s.assert_holds(&v3);
    let log = s.server.served();
    assert_eq!(header(&log[0], "if-range"), Some("\"Go-9\""));
    assert_eq!((log[0].status, log[0].bytes), (200, v3.zip.len()));
    assert_eq!(s.leftovers(), Vec::<String>::new());
}

#[test]
fn connections_without_an_answer_are_retried_then_named() {
    let Some(s) = setup() else { return };
    // Two connections closed before any byte, then answers.
    s.set(|st| st.hang_ups = 2);
    let (r, errors) = s.run();
    assert!(errors.is_empty(), "{}", error_text(&errors));
    updated(&r, s.records.len());
    let statuses: Vec<u16> = s.server.served().iter().map(|x| x.status).collect();
    assert_eq!(statuses, [0, 0, 200]);

    // Nothing listening: 3 retries, then an error naming the URL; the DB keeps its records.
    let before = s.snapshot();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, errors) = s.run_from(&format!("http://127.0.0.1:{port}"));
    let text = error_text(&errors);
    assert_eq!(errors.len(), 1, "{text}");
    for e in [
        &format!("http://127.0.0.1:{port}/osv/Go/all.zip"),
        "no answer after 3 retries",
    ] {
        assert!(text.contains(e), "{e:?} not in {text}");
    }
    assert_eq!(s.snapshot(), before);
    assert_eq!(s.leftovers(), Vec::<String>::new());
}
