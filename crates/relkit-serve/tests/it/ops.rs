//! Operational endpoints over real HTTP: `/readyz` follows the database and the blob store
//! (503 naming the failed check when the blob or upload directory or the SQLite file is taken
//! away, or PostgreSQL refuses connections; 200 again once they are back); `/metrics` parsed
//! back by a
//! checker of the exposition format's rules and compared with what a scripted series of
//! requests did (counts by route template, bytes both ways to the byte, verification
//! failures by reason); the metrics token. Graceful shutdown of the real binary on SIGTERM is
//! tested in the relkit crate (tests/it/cli_serve.rs).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::common::*;
use relkit_serve::{Config, Limits, Server};
use serde_json::Value;

fn readyz(env: &Env) -> (u16, Value) {
    let (st, body) = get(&format!("{}/readyz", env.url));
    let v: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/readyz {st}: {e}: {body}"));
    (st, v)
}

/// The check called `name` of a readiness answer.
fn check<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {v}"))
}

/// Asserts a ready answer.
fn assert_ready(env: &Env, at: &str) {
    let (st, v) = readyz(env);
    assert_eq!(st, 200, "{at}: {v}");
    assert_eq!(v["ready"], true, "{at}: {v}");
    assert!(v.get("error").is_none(), "{at}: {v}");
    for c in ["database", "blobs"] {
        assert_eq!(check(&v, c)["ok"], true, "{at}: {v}");
    }
}

/// Asserts a 503 whose only failed check is `failed`, with `why` in its detail, naming no
/// full path of the data directory and no credential; returns the detail.
fn assert_not_ready(env: &Env, failed: &str, why: &str) -> String {
    let (st, v) = readyz(env);
    assert_eq!(st, 503, "{v}");
    assert_eq!(v["ready"], false, "{v}");
    assert_eq!(v["error"], "not_ready", "{v}");
    let other = if failed == "database" {
        "blobs"
    } else {
        "database"
    };
    assert_eq!(check(&v, other)["ok"], true, "{v}");
    let c = check(&v, failed);
    assert_eq!(c["ok"], false, "{v}");
    let detail = c["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(why), "{detail:?} should say {why:?}");
    let text = v.to_string();
    let data = env.data_path().display().to_string();
    assert!(!text.contains(&data), "a full path leaks: {text}");
    if let Some(url) = &env.database {
        assert!(
            !text.contains(url.as_str()),
            "the database URL leaks: {text}"
        );
        let creds = &url[..url.find('@').unwrap()];
        assert!(!text.contains(creds), "credentials leak: {text}");
    }
    let msg = v["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("{failed}: ")), "{msg}");
    detail
}

#[test]
fn readyz_follows_the_blob_store_and_the_database() {
    for backend in backends() {
        let env = Env::start(backend, Limits::default());
        let data = env.data_path();
        let (st, body) = get(&format!("{}/healthz", env.url));
        assert_eq!((st, body.as_str()), (200, "ok\n"));
        assert_ready(&env, "fresh");

        // The blob directory removed (moved away): not ready, and /healthz still alive.
        std::fs::rename(data.join("blobs"), data.join("blobs.away")).unwrap();
        let d = assert_not_ready(&env, "blobs", "blobs/sha256/");
        assert!(d.contains("No such file"), "{d}");
        assert_eq!(get(&format!("{}/healthz", env.url)).0, 200);
        std::fs::rename(data.join("blobs.away"), data.join("blobs")).unwrap();
        assert_ready(&env, "blobs back");

        // The upload directory replaced by a file (the tests run as root, which ignores
        // permission bits, so a mode change would prove nothing).
        std::fs::rename(data.join("tmp"), data.join("tmp.away")).unwrap();
        std::fs::write(data.join("tmp"), b"not a directory").unwrap();
        assert_not_ready(&env, "blobs", "tmp/");
        std::fs::remove_file(data.join("tmp")).unwrap();
        std::fs::rename(data.join("tmp.away"), data.join("tmp")).unwrap();
        assert_ready(&env, "tmp back");
        // The probes leave nothing behind.
        assert_eq!(env.tmp_entries(), 0);
        assert_eq!(env.blob_count(), 0);

        match backend {
            Backend::Sqlite => {
                // The database file removed (moved away) under the running server, whose open
                // handle alone would keep answering from the unlinked file.
                let db = data.join("relkit-serve.sqlite3");
                std::fs::rename(&db, data.join("db.away")).unwrap();
                let d = assert_not_ready(&env, "database", "sqlite: SQLite");
                assert!(d.contains("relkit-serve.sqlite3"), "{d}");
                std::fs::rename(data.join("db.away"), &db).unwrap();
                assert_ready(&env, "database back");
            }
            Backend::Postgres => {
                // PostgreSQL refuses connections to the test database and drops the server's.
                let name = env.pg_name.clone().unwrap();
                pg_admin(&format!(
                    "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false; \
                     SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .unwrap();
                assert_not_ready(&env, "database", "postgres: PostgreSQL");
                pg_admin(&format!(
                    "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
                ))
                .unwrap();
                assert_ready(&env, "database back");
            }
        }
    }
}

/// A label set without `le`, as sorted pairs.
type Labels = Vec<(String, String)>;

/// A scripted request: method, URL, token, declared digest, body, expected status.
type Step<'a> = (
    &'a str,
    String,
    Option<&'a str>,
    Option<String>,
    Vec<u8>,
    u16,
);

/// One sample of a parsed exposition.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text format strictly: every sample belongs to a family announced by
/// `# HELP` then `# TYPE` (once each, before its samples, families not interleaved), names
/// and label names are valid, label values are quoted with only `\\`, `\"`, `\n` escapes,
/// values are floats; histograms have `_bucket` series with ascending `le` ending in `+Inf`,
/// cumulative counts, `+Inf` = `_count`, and a `_sum`. Returns the families' types and the
/// samples.
fn parse_exposition(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    fn valid_name(s: &str) -> bool {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
    }
    assert!(text.ends_with('\n'), "the exposition ends with a line feed");
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    let mut current: Option<String> = None;
    let mut closed: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}", i + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(valid_name(name), "{at}");
            assert!(!helps.contains_key(name), "{at}: HELP twice");
            assert!(
                !closed.contains(&name.to_string()),
                "{at}: family interleaved"
            );
            let mut chars = help.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    assert!(matches!(chars.next(), Some('\\' | 'n')), "{at}: bad escape");
                }
            }
            helps.insert(name.into(), help.into());
            if let Some(c) = current.replace(name.to_string()) {
                closed.push(c);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, t) = rest.split_once(' ').unwrap();
            assert_eq!(
                current.as_deref(),
                Some(name),
                "{at}: TYPE without its HELP"
            );
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                "{at}"
            );
            assert!(
                types.insert(name.into(), t.into()).is_none(),
                "{at}: TYPE twice"
            );
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{at}");
        // name{labels} value
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(valid_name(name), "{at}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices().peekable();
            loop {
                let start = chars.peek().unwrap().0;
                if r[start..].starts_with('}') {
                    rest = &r[start + 1..];
                    break;
                }
                let eq = r[start..].find('=').unwrap() + start;
                let lname = &r[start..eq];
                assert!(valid_name(lname) && !lname.starts_with("__"), "{at}");
                while chars.peek().unwrap().0 <= eq {
                    chars.next();
                }
                assert_eq!(chars.next().unwrap().1, '"', "{at}: label value unquoted");
                let mut value = String::new();
                loop {
                    match chars.next().unwrap().1 {
                        '\\' => match chars.next().unwrap().1 {
                            '\\' => value.push('\\'),
                            '"' => value.push('"'),
                            'n' => value.push('\n'),
                            c => panic!("{at}: bad escape \\{c}"),
                        },
                        '"' => break,
                        '\n' => panic!("{at}: raw line feed"),
                        c => value.push(c),
                    }
                }
                assert!(
                    labels.insert(lname.to_string(), value).is_none(),
                    "{at}: label twice"
                );
                match chars.peek().unwrap().1 {
                    ',' => {
                        chars.next();
                    }
                    '}' => {}
                    c => panic!("{at}: {c:?} after a label"),
                }
            }
        }
        let value_text = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{at}"));
        assert!(
            !value_text.contains(' '),
            "{at}: timestamps are not expected"
        );
        let value: f64 = match value_text {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|e| panic!("{at}: {e}")),
        };
        let family = current.clone().unwrap_or_else(|| panic!("{at}: no family"));
        let t = types
            .get(&family)
            .unwrap_or_else(|| panic!("{at}: no TYPE"));
        let ok = match t.as_str() {
            "histogram" => [
                format!("{family}_bucket"),
                format!("{family}_sum"),
                format!("{family}_count"),
            ]
            .contains(&name.to_string()),
            _ => name == family,
        };
        assert!(ok, "{at}: sample outside its family {family}");
        if t == "counter" || name.ends_with("_bucket") || name.ends_with("_count") {
            assert!(value >= 0.0 && value.fract() == 0.0, "{at}");
        }
        samples.push(Sample {
            name: name.into(),
            labels,
            value,
        });
    }
    // Histograms: per label set (without le), buckets ascending and cumulative, +Inf = count.
    for (family, t) in &types {
        if t != "histogram" {
            continue;
        }
        let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le = s.labels.get("le").expect("bucket without le");
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            let key: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, s.value));
        }
        for (key, buckets) in &series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family} {key:?}: buckets not ascending and cumulative: {buckets:?}"
            );
            assert_eq!(buckets.last().unwrap().0, f64::INFINITY, "{family} {key:?}");
            let find = |suffix: &str| {
                samples
                    .iter()
                    .find(|s| {
                        s.name == format!("{family}{suffix}")
                            && s.labels
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect::<Vec<_>>()
                                == *key
                    })
                    .unwrap_or_else(|| panic!("{family}{suffix} {key:?} missing"))
                    .value
            };
            assert_eq!(
                buckets.last().unwrap().1,
                find("_count"),
                "{family} {key:?}"
            );
            assert!(find("_sum") >= 0.0);
        }
    }
    (types, samples)
}

/// The value of the sample `name` with exactly these labels, 0 when absent.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
        .unwrap_or(0.0)
}

/// Status, body, and the body's length as received.
fn send(
    method: &str,
    url: &str,
    token: Option<&str>,
    digest: Option<&str>,
    body: &[u8],
) -> (u16, String, usize) {
    let agent = agent();
    let mut req = match method {
        "GET" => agent.get(url).force_send_body(),
        "PUT" => agent.put(url),
        "POST" => agent.post(url),
        m => panic!("{m}"),
    };
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    if let Some(d) = digest {
        req = req.header("X-Content-SHA256", d);
    }
    if body.first() == Some(&b'{') {
        req = req.header("Content-Type", "application/json");
    }
    let mut r = req.send(body).unwrap();
    let st = r.status().as_u16();
    let bytes = r.body_mut().read_to_vec().unwrap();
    (
        st,
        String::from_utf8_lossy(&bytes).into_owned(),
        bytes.len(),
    )
}

#[test]
fn metrics_follow_the_format_and_count_what_was_done() {
    let env = Env::start(Backend::Sqlite, Limits::default());
    let t0 = relkit_serve::now() as f64;
    let a = env.token_a.as_str();
    let rel = format!("{}/api/v1/projects/alpha/releases/1.0", env.url);
    let file = format!("{rel}/files/x.tgz");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = sha256_hex(&bytes);
    let new = br#"{"version": "1.0", "tag": "v1.0", "commit": "abc"}"#;
    let script: Vec<Step> = vec![
        (
            "POST",
            format!("{}/api/v1/projects/alpha/releases", env.url),
            Some(a),
            None,
            new.to_vec(),
            201,
        ),
        (
            "PUT",
            file.clone(),
            Some(a),
            Some(sha.clone()),
            bytes.clone(),
            201,
        ),
        (
            "PUT",
            format!("{rel}/files/y.tgz"),
            Some(a),
            Some("0".repeat(64)),
            bytes[..1000].to_vec(),
            400,
        ),
        (
            "PUT",
            format!("{file}/sbom/x.tgz.spdx.json"),
            Some(a),
            None,
            b"{}".to_vec(),
            422,
        ),
        ("GET", file.clone(), None, None, vec![], 200),
        ("GET", file.clone(), None, None, vec![], 200),
        ("GET", format!("{rel}/SHA256SUMS"), None, None, vec![], 200),
        (
            "GET",
            format!("{}/api/v1/projects/nope", env.url),
            None,
            None,
            vec![],
            404,
        ),
        (
            "GET",
            format!("{}/no/such/thing", env.url),
            None,
            None,
            vec![],
            404,
        ),
        (
            "GET",
            format!("{}/healthz", env.url),
            None,
            None,
            vec![],
            200,
        ),
    ];
    let (mut up, mut down) = (0usize, 0usize);
    for (method, url, token, digest, body, want) in &script {
        let (st, text, n) = send(method, url, *token, digest.as_deref(), body);
        assert_eq!(st, *want, "{method} {url}: {text}");
        up += body.len();
        down += n;
    }
    assert!(down >= 2 * bytes.len());

    let (st, text, _) = send("GET", &format!("{}/metrics", env.url), None, None, &[]);
    assert_eq!(st, 200, "{text}");
    let (types, samples) = parse_exposition(&text);
    for (f, t) in [
        ("relkit_serve_http_requests_total", "counter"),
        ("relkit_serve_http_request_duration_seconds", "histogram"),
        ("relkit_serve_uploaded_bytes_total", "counter"),
        ("relkit_serve_downloaded_bytes_total", "counter"),
        ("relkit_serve_verification_failures_total", "counter"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert_eq!(types.get(f).map(String::as_str), Some(t), "{f}");
    }
    let req = "relkit_serve_http_requests_total";
    let files = "/api/v1/projects/{project}/releases/{version}/files/{file}";
    let cases: &[(&str, &str, &str, f64)] = &[
        ("/api/v1/projects/{project}/releases", "POST", "2xx", 1.0),
        (files, "PUT", "2xx", 1.0),
        (files, "PUT", "4xx", 1.0),
        (files, "GET", "2xx", 2.0),
        (
            "/api/v1/projects/{project}/releases/{version}/files/{file}/{kind}/{name}",
            "PUT",
            "4xx",
            1.0,
        ),
        (
            "/api/v1/projects/{project}/releases/{version}/SHA256SUMS",
            "GET",
            "2xx",
            1.0,
        ),
        ("/api/v1/projects/{project}", "GET", "4xx", 1.0),
        ("unmatched", "GET", "4xx", 1.0),
        ("/healthz", "GET", "2xx", 1.0),
    ];
    for (route, method, status, n) in cases {
        let got = value(
            &samples,
            req,
            &[("route", route), ("method", method), ("status", status)],
        );
        assert_eq!(got, *n, "{route} {method} {status}\n{text}");
    }
    // Nothing else was counted: the script's requests and nothing more (the scrape itself
    // is recorded after it is answered).
    let total: f64 = samples
        .iter()
        .filter(|s| s.name == req)
        .map(|s| s.value)
        .sum();
    assert_eq!(total, script.len() as f64, "{text}");
    // No raw path or name reaches a label.
    for s in &samples {
        for v in s.labels.values() {
            assert!(
                !["alpha", "nope", "x.tgz", "1.0/", "no/such"]
                    .iter()
                    .any(|n| v.contains(n)),
                "label value {v:?} of {}",
                s.name
            );
        }
    }
    let lat = "relkit_serve_http_request_duration_seconds_count";
    assert_eq!(
        value(&samples, lat, &[("route", files), ("method", "PUT")]),
        2.0
    );
    assert_eq!(
        value(&samples, lat, &[("route", files), ("method", "GET")]),
        2.0
    );
    // Bytes, to the byte: every request body was read whole, every answer received whole.
    assert_eq!(
        value(&samples, "relkit_serve_uploaded_bytes_total", &[]),
        up as f64,
        "{text}"
    );
    assert_eq!(
        value(&samples, "relkit_serve_downloaded_bytes_total", &[]),
        down as f64,
        "{text}"
    );
    let vf = "relkit_serve_verification_failures_total";
    assert_eq!(
        value(
            &samples,
            vf,
            &[("kind", "file"), ("reason", "digest_mismatch")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            vf,
            &[("kind", "sbom"), ("reason", "verification_failed")]
        ),
        1.0
    );
    assert_eq!(samples.iter().filter(|s| s.name == vf).count(), 2, "{text}");
    let start = value(&samples, "process_start_time_seconds", &[]);
    assert!(
        start <= t0 + 1.0 && start >= t0 - 600.0,
        "start {start}, test {t0}"
    );

    // The second scrape sees the first, with its text/plain answer.
    let (_, text2, _) = send("GET", &format!("{}/metrics", env.url), None, None, &[]);
    let (_, samples2) = parse_exposition(&text2);
    assert_eq!(
        value(
            &samples2,
            req,
            &[("route", "/metrics"), ("method", "GET"), ("status", "2xx")]
        ),
        1.0
    );
    let r = agent().get(&format!("{}/metrics", env.url)).call().unwrap();
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(
        relkit_serve::metrics::escape_label("a\\b\"c\nd"),
        "a\\\\b\\\"c\\nd"
    );
}

#[test]
fn a_metrics_token_is_required_when_configured() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let cfg = Config {
        data_dir: data.path().to_path_buf(),
        database: None,
        limits: Limits::default(),
        metrics_token: Some("metrics-secret-1".into()),
        grace: relkit_serve::DEFAULT_GRACE,
        migrate: relkit_serve::db::MigrateMode::Apply,
        vuln_db: None,
        blobs: Default::default(),
        webhooks: Default::default(),
    };
    let server = rt
        .block_on(Server::start(
            &cfg,
            "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        ))
        .unwrap();
    let url = format!("http://{}/metrics", server.addr);
    for token in [None, Some("wrong"), Some("metrics-secret-")] {
        let (st, body, _) = send("GET", &url, token, None, &[]);
        assert_eq!(st, 401, "{token:?}: {body}");
        let e: relkit_core::wire::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(e.error, "invalid_token");
        assert!(!body.contains("metrics-secret-1"));
    }
    let (st, body, _) = send("GET", &url, Some("metrics-secret-1"), None, &[]);
    assert_eq!(st, 200, "{body}");
    parse_exposition(&body);
    // /healthz and /readyz stay open.
    let base = format!("http://{}", server.addr);
    assert_eq!(get(&format!("{base}/healthz")).0, 200);
    assert_eq!(get(&format!("{base}/readyz")).0, 200);
    rt.block_on(server.stop()).unwrap();
}
