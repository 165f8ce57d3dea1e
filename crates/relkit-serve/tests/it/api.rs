//! Every endpoint over real HTTP on loopback, on SQLite and PostgreSQL: a release directory
//! published with relkit-client (files, SPDX + CycloneDX SBOMs, key-based Sigstore bundle,
//! SLSA provenance), re-publishing as a no-op, downloads re-hashed, SHA256SUMS, pages, the
//! audit log; and every refusal the issue lists, each with its status and nothing stored.

use crate::common::*;
use relkit_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use relkit_attest::intoto::{BuildInfo, Subject, provenance_statement};
use relkit_attest::keys::PrivateKey;
use relkit_attest::sigstore::Bundle;
use relkit_client::{Client, PublishOptions, publish_dir};
use relkit_serve::Limits;

const POLICY: &str =
    "[provenance]\nrepository = \"https://github.com/example/alpha\"\nref = \"refs/tags/v1.*\"\n";

fn provenance(key: &PrivateKey, name: &str, bytes: &[u8], repo: &str) -> String {
    let digest: [u8; 32] = relkit_attest::checksum::sha256(bytes);
    let build = BuildInfo {
        repository: repo.into(),
        git_ref: "refs/tags/v1.0".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        workflow_path: ".github/workflows/release.yml".into(),
        builder_id: format!("{repo}/.github/workflows/release.yml@refs/tags/v1.0"),
        ..Default::default()
    };
    let st = provenance_statement(vec![Subject::sha256(name, &digest)], &build);
    let env = Envelope::sign(key, IN_TOTO_PAYLOAD_TYPE, &serde_json::to_vec(&st).unwrap());
    Bundle::from_envelope(&key.public(), env).to_json()
}

/// Configures project alpha: the test key, the policy, everything required.
fn configure_alpha(env: &Env) {
    let cfg = serde_json::json!({
        "verify_key": env.key.public().to_pem(),
        "policy": POLICY,
        "require_sbom": true,
        "require_signature": true,
        "require_provenance": true,
    });
    let url = format!("{}/api/v1/projects/alpha", env.url);
    // Only an admin may configure a project.
    let r = agent()
        .put(&url)
        .header("Authorization", &format!("Bearer {}", env.token_a))
        .send_json(&cfg)
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = agent()
        .put(&url)
        .header("Authorization", &format!("Bearer {}", env.admin))
        .send_json(&cfg)
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

/// Writes a release directory with two artifacts and all their material.
fn dist(env: &Env, dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let files = vec![
        (
            "alpha-1.0.tar.gz".to_string(),
            (0..300_000u32)
                .map(|i| (i * 7 % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
        (
            "alpha-1.0.zip".to_string(),
            b"PK\x05\x06 not really a zip".to_vec(),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::write(
            dir.join(format!("{name}.spdx.json")),
            fixture("sbom/spdx/valid/SPDXJSONExample-v2.3.spdx.json"),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.cdx.json")),
            fixture("sbom/cyclonedx/valid/valid-bom-1.6.json"),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.sigstore.json")),
            Bundle::sign_message(&env.key, bytes).to_json(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.intoto.jsonl")),
            provenance(&env.key, name, bytes, "https://github.com/example/alpha"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("SHA256SUMS"), "ignored\n").unwrap();
    files
}

fn opts(env: &Env, dir: &std::path::Path, publish: bool) -> PublishOptions {
    PublishOptions {
        server: env.url.clone(),
        token: env.token_a.clone(),
        project: "alpha".into(),
        version: "1.0".into(),
        tag: "v1.0".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        dir: dir.to_path_buf(),
        publish,
    }
}

#[test]
fn publish_download_and_list_on_every_backend() {
    for backend in backends() {
        let env = Env::start(backend, Limits::default());
        configure_alpha(&env);
        let dir = tempfile::tempdir().unwrap();
        let files = dist(&env, dir.path());

        // First run uploads everything (as a draft), the second changes nothing.
        let r1 = publish_dir(&opts(&env, dir.path(), false)).unwrap();
        assert_eq!(r1.items.len(), 10, "{backend:?}: {:?}", r1.items);
        assert_eq!(r1.uploaded(), 10);
        assert!(!r1.published);
        assert_eq!(
            r1.ignored,
            vec![(
                "SHA256SUMS".to_string(),
                "the server generates SHA256SUMS itself".to_string()
            )]
        );
        let sbom = r1
            .items
            .iter()
            .find(|i| i.name == "alpha-1.0.zip.spdx.json")
            .unwrap();
        assert_eq!(
            (sbom.kind.as_str(), sbom.status.as_str()),
            ("sbom", "warnings")
        );
        let cdx = r1
            .items
            .iter()
            .find(|i| i.name == "alpha-1.0.zip.cdx.json")
            .unwrap();
        assert_eq!(cdx.status, "warnings", "valid-bom-1.6 has 1 warning");
        let blobs = env.blob_count();
        let r2 = publish_dir(&opts(&env, dir.path(), true)).unwrap();
        assert_eq!(r2.uploaded(), 0, "{backend:?}: {:?}", r2.items);
        assert_eq!(r2.unchanged(), 10);
        assert!(r2.published);
        assert_eq!(env.blob_count(), blobs, "a no-op run stores nothing");
        // Published: same digest is still a no-op, another digest is refused.
        let r3 = publish_dir(&opts(&env, dir.path(), true)).unwrap();
        assert_eq!(r3.unchanged(), 10);
        std::fs::write(dir.path().join("alpha-1.0.zip"), b"changed").unwrap();
        match publish_dir(&opts(&env, dir.path(), true)) {
            Err(relkit_client::Error::Http { status, code, .. }) => {
                assert_eq!((status, code.as_str()), (409, "immutable"))
            }
            other => panic!("{backend:?}: overwrite of a published file: {other:?}"),
        }

        // Release detail, downloads re-hashed, attachments, SHA256SUMS.
        let client = Client::new(&env.url, None);
        let d = client.release("alpha", "1.0").unwrap().unwrap();
        assert!(d.release.published.is_some());
        assert_eq!(d.release.tag, "v1.0");
        assert_eq!(d.files.len(), 2);
        for (name, bytes) in &files {
            let f = d.files.iter().find(|f| &f.name == name).unwrap();
            assert_eq!(f.sha256, sha256_hex(bytes));
            assert_eq!(f.size, bytes.len() as i64);
            let (got, sha) = client.download(&f.url).unwrap();
            assert_eq!(&got, bytes);
            assert_eq!(sha, f.sha256);
            let kinds: Vec<&str> = f.attachments.iter().map(|a| a.kind.as_str()).collect();
            assert_eq!(kinds, ["sbom", "provenance", "bundle", "sbom"], "{name}");
            for a in &f.attachments {
                let (b, sha) = client.download(&a.url).unwrap();
                assert_eq!(sha, a.sha256);
                assert_eq!(b.len() as i64, a.size);
            }
        }
        let (st, sums) = get(&format!(
            "{}/api/v1/projects/alpha/releases/1.0/SHA256SUMS",
            env.url
        ));
        assert_eq!(st, 200);
        let expect: String = {
            let mut v: Vec<_> = files
                .iter()
                .map(|(n, b)| format!("{}  {n}\n", sha256_hex(b)))
                .collect();
            v.sort_by(|a, b| a[66..].cmp(&b[66..]));
            v.concat()
        };
        assert_eq!(sums, expect, "coreutils sha256sum format");

        // Listings.
        let (st, body) = get(&format!("{}/api/v1/projects", env.url));
        assert_eq!(st, 200);
        let ps: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            ps,
            serde_json::json!([{"name": "alpha", "releases": 1}, {"name": "beta", "releases": 0}])
        );
        let (st, body) = get(&format!("{}/api/v1/projects/alpha/releases", env.url));
        assert_eq!(st, 200);
        let rs: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(rs[0]["version"], "1.0");
        assert_eq!(rs[0]["commit"], "0123456789abcdef0123456789abcdef01234567");
        let (st, body) = get(&format!("{}/api/v1/projects/alpha", env.url));
        assert_eq!(st, 200);
        assert!(body.contains("\"require_provenance\":true"), "{body}");
        assert_eq!(
            get(&format!("{}/api/v1/projects/nope/releases", env.url)).0,
            404
        );
        assert_eq!(get(&format!("{}/healthz", env.url)), (200, "ok\n".into()));

        // Pages.
        let (st, html) = get(&format!("{}/p/alpha/1.0", env.url));
        assert_eq!(st, 200);
        for (name, bytes) in &files {
            assert!(
                html.contains(&sha256_hex(bytes)),
                "{name} digest on the page"
            );
        }
        assert!(html.contains(
            "alpha-1.0.tar.gz.intoto.jsonl</a> (provenance, <span class=\"ok\">verified"
        ));
        assert!(
            html.contains("<details><summary>5 warning(s)</summary>"),
            "the SPDX example's 5 sbom-check warnings are shown"
        );
        let spdx = &d.files[0].attachments[3];
        assert_eq!(spdx.name, "alpha-1.0.tar.gz.spdx.json");
        assert_eq!(spdx.report["warnings"], 5);
        assert_eq!(spdx.report["valid"], true);
        let bundle = &d.files[0].attachments[2];
        assert_eq!(bundle.report["passed"], true);
        assert_eq!(bundle.report["checks"][0]["check"], "bundle");
        assert!(
            get(&format!("{}/", env.url))
                .1
                .contains("href=\"/p/alpha\"")
        );
        assert!(
            get(&format!("{}/p/alpha", env.url))
                .1
                .contains("href=\"/p/alpha/1.0\"")
        );

        // Deleting a published release needs an admin token, and is audited.
        let del = format!("{}/api/v1/projects/alpha/releases/1.0", env.url);
        let r = agent()
            .delete(&del)
            .header("Authorization", &format!("Bearer {}", env.token_a))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let mut r = agent()
            .get(&format!("{}/api/v1/audit?limit=1000", env.url))
            .header("Authorization", &format!("Bearer {}", env.admin))
            .call()
            .unwrap();
        let audit = r.body_mut().read_to_string().unwrap();
        assert!(
            !audit.contains(&env.token_a) && !audit.contains(&env.admin),
            "no secrets in the audit log"
        );
        let log: serde_json::Value = serde_json::from_str(&audit).unwrap();
        let actions: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions.iter().filter(|a| **a == "file.upload").count(), 2);
        assert_eq!(actions.iter().filter(|a| **a == "sbom.upload").count(), 4);
        assert_eq!(
            actions.iter().filter(|a| **a == "release.publish").count(),
            1
        );
        assert_eq!(actions.iter().filter(|a| **a == "token.create").count(), 3);
        let up = log
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "file.upload" && e["name"] == "alpha-1.0.zip")
            .unwrap();
        assert_eq!(up["actor"], env.token_a_id.as_str());
        assert_eq!(up["sha256"], sha256_hex(&files[1].1).as_str());
        let r = agent()
            .delete(&del)
            .header("Authorization", &format!("Bearer {}", env.admin))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        assert!(client.release("alpha", "1.0").unwrap().is_none());
        let mut r = agent()
            .get(&format!("{}/api/v1/audit?limit=1", env.url))
            .header("Authorization", &format!("Bearer {}", env.admin))
            .call()
            .unwrap();
        let last: serde_json::Value = r.body_mut().read_json().unwrap();
        assert_eq!(last[0]["action"], "release.delete");
        assert_eq!(last[0]["detail"], "published release deleted by admin");
    }
}

/// The routes that read a JSON body before checking the token bound it: a large body from a
/// client without a token is refused (413) before the server buffers it, and the same routes
/// still take a normal body.
#[test]
fn json_bodies_are_bounded_before_the_token_is_checked() {
    let env = Env::start(backends()[0], Limits::default());
    let big = vec![b' '; relkit_serve::api::JSON_BODY_LIMIT + 1];
    for url in [
        format!("{}/api/v1/projects/alpha", env.url),
        format!("{}/api/v1/projects/alpha/releases", env.url),
    ] {
        let r = agent()
            .put(&url)
            .header("Content-Type", "application/json")
            .send(&big[..])
            .unwrap();
        let post = agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(&big[..])
            .unwrap();
        let statuses = (r.status().as_u16(), post.status().as_u16());
        assert!(
            statuses.0 == 413 || statuses.1 == 413,
            "{url}: {statuses:?}"
        );
    }
    // A normal body on the same route is taken (and refused only for the missing token).
    let mut r = agent()
        .put(&format!("{}/api/v1/projects/alpha", env.url))
        .header("Content-Type", "application/json")
        .send(&br#"{"require_sbom":true}"#[..])
        .unwrap();
    let st = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    assert!(st == 401 || st == 403, "{st} {body}");
}

#[test]
fn refusals_store_nothing() {
    for backend in backends() {
        let env = Env::start(
            backend,
            Limits {
                max_file: 1000,
                max_attachment: 1 << 20,
            },
        );
        configure_alpha(&env);
        let c = Client::new(&env.url, Some(env.token_a.clone()));
        c.create_release("alpha", "1.0", "v1.0", "abc").unwrap();
        let base = format!("{}/api/v1/projects/alpha/releases/1.0/files", env.url);
        let good = b"release bytes".to_vec();
        let good_sha = sha256_hex(&good);
        let other = b"another file".to_vec();
        let blobs0 = env.blob_count();
        let nothing_stored = |what: &str| {
            let d = c.release("alpha", "1.0").unwrap().unwrap();
            assert!(
                d.files.iter().all(|f| f.name == "ok.tgz"),
                "{backend:?} {what}: {:?}",
                d.files
            );
            assert_eq!(
                env.tmp_entries(),
                0,
                "{backend:?} {what}: scratch file left"
            );
        };
        let url = format!("{base}/x.tgz");

        let (st, body) = put(&url, None, Some(&good_sha), &good);
        assert_eq!(st, 401, "no token: {body}");
        assert!(body.contains("missing_token"));
        nothing_stored("no token");

        let (st, body) = put(&url, Some(&env.token_b), Some(&good_sha), &good);
        assert_eq!(st, 403, "beta's token on alpha: {body}");
        nothing_stored("wrong project");

        let (st, _) = put(&url, Some("rk_0011223344556677_00"), Some(&good_sha), &good);
        assert_eq!(st, 401, "malformed token");

        for bad in [
            "..%2F..%2Fetc%2Fpasswd",
            ".hidden",
            "a%2Fb",
            "%2E%2E",
            "a%5Cb",
            "a%00b",
        ] {
            let (st, body) = put(
                &format!("{base}/{bad}"),
                Some(&env.token_a),
                Some(&good_sha),
                &good,
            );
            assert_eq!(st, 400, "{bad}: {body}");
            assert!(body.contains("invalid_name"), "{bad}: {body}");
        }
        nothing_stored("path traversal");

        let big = vec![7u8; 1001];
        let (st, body) = put(&url, Some(&env.token_a), Some(&sha256_hex(&big)), &big);
        assert_eq!(st, 413, "declared length over the limit: {body}");
        // Chunked (no Content-Length): refused while streaming.
        let mut rd: &[u8] = &big;
        let mut r = agent()
            .put(&url)
            .header("Authorization", &format!("Bearer {}", env.token_a))
            .header("X-Content-SHA256", &sha256_hex(&big))
            .send(ureq::SendBody::from_reader(&mut rd))
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            413,
            "{}",
            r.body_mut().read_to_string().unwrap()
        );
        nothing_stored("oversized");

        let (st, body) = put(&url, Some(&env.token_a), Some(&sha256_hex(&other)), &good);
        assert_eq!(st, 400, "digest mismatch: {body}");
        assert!(body.contains("digest_mismatch"));
        let (st, _) = put(&url, Some(&env.token_a), None, &good);
        assert_eq!(st, 400, "no declared digest");
        nothing_stored("digest mismatch");
        assert_eq!(env.blob_count(), blobs0);

        // A good upload, then material for it.
        let ok = format!("{base}/ok.tgz");
        assert_eq!(put(&ok, Some(&env.token_a), Some(&good_sha), &good).0, 201);
        assert_eq!(put(&ok, Some(&env.token_a), Some(&good_sha), &good).0, 200);
        let blobs1 = env.blob_count();
        let atts = |d: &relkit_client::ReleaseDetail| {
            d.files.iter().map(|f| f.attachments.len()).sum::<usize>()
        };

        let (st, body) = put(
            &format!("{ok}/sbom/ok.tgz.cdx.json"),
            Some(&env.token_a),
            None,
            &fixture("sbom/cyclonedx/invalid/invalid-bomformat-1.6.json"),
        );
        assert_eq!(st, 422, "SBOM failing sbom check: {body}");
        assert!(body.contains("fails `relkit sbom check`"), "{body}");

        let (st, body) = put(
            &format!("{ok}/bundle/ok.tgz.sigstore.json"),
            Some(&env.token_a),
            None,
            Bundle::sign_message(&env.key, &other).to_json().as_bytes(),
        );
        assert_eq!(st, 422, "bundle for another file: {body}");
        assert!(body.contains("does not verify for ok.tgz"), "{body}");

        let stranger = PrivateKey::generate(relkit_attest::keys::KeyKind::Ed25519);
        let (st, body) = put(
            &format!("{ok}/bundle/ok.tgz.sigstore.json"),
            Some(&env.token_a),
            None,
            Bundle::sign_message(&stranger, &good).to_json().as_bytes(),
        );
        assert_eq!(st, 422, "bundle by another key: {body}");

        let (st, body) = put(
            &format!("{ok}/provenance/ok.tgz.intoto.jsonl"),
            Some(&env.token_a),
            None,
            provenance(
                &env.key,
                "other.tgz",
                &other,
                "https://github.com/example/alpha",
            )
            .as_bytes(),
        );
        assert_eq!(st, 422, "provenance for another file: {body}");
        let d = c.release("alpha", "1.0").unwrap().unwrap();
        assert_eq!(atts(&d), 0, "{backend:?}: rejected material stored");
        assert_eq!(env.blob_count(), blobs1);

        // Provenance from another repository verifies, but the policy refuses publication;
        // so does a missing SBOM.
        let (st, body) = put(
            &format!("{ok}/provenance/ok.tgz.intoto.jsonl"),
            Some(&env.token_a),
            None,
            provenance(&env.key, "ok.tgz", &good, "https://github.com/evil/alpha").as_bytes(),
        );
        assert_eq!(st, 201, "{body}");
        let (st, _) = put(
            &format!("{ok}/bundle/ok.tgz.sigstore.json"),
            Some(&env.token_a),
            None,
            Bundle::sign_message(&env.key, &good).to_json().as_bytes(),
        );
        assert_eq!(st, 201);
        match c.publish("alpha", "1.0") {
            Err(relkit_client::Error::Http {
                status, missing, ..
            }) => {
                assert_eq!(status, 422);
                assert_eq!(missing.len(), 2, "{missing:?}");
                assert!(missing[0].contains("ok.tgz: no SBOM"), "{missing:?}");
                assert!(missing[1].contains("policy is not met"), "{missing:?}");
                assert!(
                    missing[1].contains("https://github.com/evil/alpha"),
                    "{missing:?}"
                );
            }
            other => panic!("{backend:?}: publish without material: {other:?}"),
        }
        assert!(
            c.release("alpha", "1.0")
                .unwrap()
                .unwrap()
                .release
                .published
                .is_none()
        );

        // Revoked token.
        assert!(env.admin().revoke_token(&env.token_a_id).unwrap());
        let (st, body) = put(
            &format!("{base}/y.tgz"),
            Some(&env.token_a),
            Some(&good_sha),
            &good,
        );
        assert_eq!(st, 401, "revoked token: {body}");
        assert!(body.contains("invalid_token"));
        nothing_stored("revoked token");
        let tokens = env.admin().tokens().unwrap();
        assert!(
            tokens
                .iter()
                .any(|t| t.id == env.token_a_id && t.revoked.is_some())
        );
    }
}
