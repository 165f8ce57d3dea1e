//! Faults and load over loopback: the PostgreSQL database becoming unreachable mid-operation
//! (connections killed, new ones refused) makes requests fail cleanly with 503 and nothing
//! stored, then the server recovers by itself; and a bounded load of concurrent uploads,
//! downloads and listings on both backends, with throughput and p99 latency reported and
//! every stored blob re-hashed afterwards.

use std::time::{Duration, Instant};

use crate::common::*;
use relkit_client::Client;
use relkit_serve::Limits;

#[test]
fn postgres_outage_fails_cleanly_then_recovers() {
    if !backends().contains(&Backend::Postgres) {
        return; // backends() already said why (and panicked in CI).
    }
    let env = Env::start(Backend::Postgres, Limits::default());
    let name = env.pg_name.clone().unwrap();
    let c = Client::new(&env.url, Some(env.token_a.clone()));
    c.create_release("alpha", "1.0", "v1.0", "abc").unwrap();
    let rel = format!("{}/api/v1/projects/alpha/releases/1.0", env.url);
    assert_eq!(get(&rel).0, 200);

    // Outage: refuse new connections and kill the server's existing ones.
    pg_admin(&format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..10 {
        let (st, body) = get(&rel);
        assert_eq!(st, 503, "{body}");
        assert!(body.contains("database_unavailable"), "{body}");
    }
    let blobs = env.blob_count();
    let bytes = b"uploaded during the outage";
    let (st, body) = put(
        &format!("{rel}/files/x.tgz"),
        Some(&env.token_a),
        Some(&sha256_hex(bytes)),
        bytes,
    );
    assert_eq!(st, 503, "a write during the outage: {body}");
    assert_eq!(env.blob_count(), blobs, "nothing stored during the outage");
    assert_eq!(env.tmp_entries(), 0);

    // Back: the next requests succeed without restarting relkit serve.
    pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).unwrap();
    for _ in 0..10 {
        assert_eq!(get(&rel).0, 200);
    }
    let (st, body) = put(
        &format!("{rel}/files/x.tgz"),
        Some(&env.token_a),
        Some(&sha256_hex(bytes)),
        bytes,
    );
    assert_eq!(st, 201, "{body}");
    let d = c.release("alpha", "1.0").unwrap().unwrap();
    assert_eq!(d.files.len(), 1);
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99).div_ceil(100) - 1]
}

#[test]
fn bounded_load_loses_and_corrupts_nothing() {
    const THREADS: usize = 8;
    const FILES: usize = 6;
    const READS: usize = 40;
    for backend in backends() {
        let env = Env::start(backend, Limits::default());
        let c = Client::new(&env.url, Some(env.token_a.clone()));
        for t in 0..THREADS {
            c.create_release("alpha", &format!("{t}.0"), "", "")
                .unwrap();
        }
        let content = |t: usize, i: usize| -> Vec<u8> {
            let n = 64 * 1024 * (1 + (t * FILES + i) % 8);
            (0..n)
                .map(|k| ((k * 31 + t * 7 + i * 13) % 256) as u8)
                .collect()
        };

        // Concurrent uploads, one release per thread.
        let t0 = Instant::now();
        let up: Vec<(Duration, u64)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (url, tok) = (env.url.clone(), env.token_a.clone());
                    s.spawn(move || {
                        let dir = tempfile::tempdir().unwrap();
                        let c = Client::new(&url, Some(tok));
                        (0..FILES)
                            .map(|i| {
                                let b = content(t, i);
                                let p = dir.path().join(format!("f{i}"));
                                std::fs::write(&p, &b).unwrap();
                                let s0 = Instant::now();
                                let r = c
                                    .upload_file(
                                        "alpha",
                                        &format!("{t}.0"),
                                        &format!("f{i}"),
                                        &p,
                                        &sha256_hex(&b),
                                    )
                                    .unwrap();
                                assert_eq!(r.outcome, "created");
                                (s0.elapsed(), b.len() as u64)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let up_time = t0.elapsed();
        let up_bytes: u64 = up.iter().map(|u| u.1).sum();

        // Concurrent downloads (each re-hashed) and listings.
        let t1 = Instant::now();
        let (down, list): (Vec<Duration>, Vec<Duration>) = std::thread::scope(|s| {
            let hs: Vec<_> = (0..THREADS)
                .map(|t| {
                    let url = env.url.clone();
                    s.spawn(move || {
                        let c = Client::new(&url, None);
                        let mut d = Vec::new();
                        let mut l = Vec::new();
                        for k in 0..READS {
                            let (rt, i) = ((t + k) % THREADS, k % FILES);
                            let s0 = Instant::now();
                            let (b, sha) = c
                                .download(&format!(
                                    "/api/v1/projects/alpha/releases/{rt}.0/files/f{i}"
                                ))
                                .unwrap();
                            d.push(s0.elapsed());
                            assert_eq!(b, content(rt, i), "download {rt}.0/f{i} intact");
                            assert_eq!(sha, sha256_hex(&b));
                            let s0 = Instant::now();
                            let (st, body) = get(&format!("{url}/api/v1/projects/alpha/releases"));
                            l.push(s0.elapsed());
                            assert_eq!(st, 200);
                            assert_eq!(body.matches("\"version\"").count(), THREADS);
                        }
                        (d, l)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).fold(
                (Vec::new(), Vec::new()),
                |(mut a, mut b), (d, l)| {
                    a.extend(d);
                    b.extend(l);
                    (a, b)
                },
            )
        });
        let read_time = t1.elapsed();
        eprintln!(
            "{backend:?}: {} concurrent uploads ({:.1} MiB) in {:.2} s, p99 {:.1} ms; {} downloads + {} listings in {:.2} s, download p99 {:.1} ms, listing p99 {:.1} ms",
            up.len(),
            up_bytes as f64 / 1048576.0,
            up_time.as_secs_f64(),
            p99(up.iter().map(|u| u.0).collect()).as_secs_f64() * 1e3,
            down.len(),
            list.len(),
            read_time.as_secs_f64(),
            p99(down.clone()).as_secs_f64() * 1e3,
            p99(list.clone()).as_secs_f64() * 1e3,
        );
        assert!(p99(list) < Duration::from_secs(2));

        // Nothing lost, nothing corrupt: every file listed, every blob re-hashed.
        for t in 0..THREADS {
            let d = c.release("alpha", &format!("{t}.0")).unwrap().unwrap();
            assert_eq!(d.files.len(), FILES);
        }
        let fsck = env.admin().fsck().unwrap();
        let (n, corrupt) = (fsck.blobs, fsck.corrupt);
        assert!(
            fsck.missing.is_empty(),
            "{backend:?}: missing blobs {:?}",
            fsck.missing
        );
        assert_eq!(
            n,
            THREADS * FILES,
            "{backend:?}: one blob per distinct upload"
        );
        assert!(corrupt.is_empty(), "{backend:?}: corrupt blobs {corrupt:?}");
        assert_eq!(env.tmp_entries(), 0);
    }
}
