//! Signatures and attestations at the library level: real minisign 0.11 signatures and keys
//! (generated with Debian's minisign), key-based Sigstore bundles, DSSE envelopes, and
//! single-byte tampering of each.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use relkit_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, pae};
use relkit_attest::intoto::{BuildInfo, Subject, provenance_statement, sbom_statement};
use relkit_attest::keys::{KeyKind, PrivateKey};
use relkit_attest::minisign;
use relkit_attest::sigstore::{Artifact, Bundle, verify_with_key};
use sha2::{Digest, Sha256};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/minisign/");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{FIX}{name}")).unwrap()
}

fn sampled(len: usize) -> Vec<usize> {
    if len <= 128 {
        (0..len).collect()
    } else {
        (0..64).map(|k| k * len / 64).chain([len - 1]).collect()
    }
}

#[test]
fn verifies_real_minisign_signatures_and_rejects_tampering() {
    let pk = minisign::PublicKey::parse(&read("minisign.pub")).unwrap();
    let msg = read("message.txt").into_bytes();
    for (sig, comment) in [
        ("message.txt.minisig", "fixture: prehashed"),
        ("message.txt.legacy.minisig", "fixture: legacy"),
    ] {
        let text = read(sig);
        assert_eq!(minisign::verify(&pk, &msg, &text).unwrap(), comment);
        for i in sampled(msg.len()) {
            let mut m = msg.clone();
            m[i] ^= 0x20;
            assert!(
                minisign::verify(&pk, &m, &text).is_err(),
                "{sig}: message byte {i}"
            );
        }
        // Every byte of the signature line and the global signature line.
        let lines: Vec<&str> = text.lines().collect();
        for line_no in [1usize, 3] {
            let raw = B64.decode(lines[line_no]).unwrap();
            for i in 0..raw.len() {
                let mut r = raw.clone();
                r[i] ^= 0x01;
                let mut l = lines.clone();
                let enc = B64.encode(&r);
                l[line_no] = &enc;
                assert!(
                    minisign::verify(&pk, &msg, &l.join("\n")).is_err(),
                    "{sig}: line {line_no} byte {i}"
                );
            }
        }
    }
}

#[test]
fn reads_real_minisign_secret_keys_unencrypted_and_encrypted() {
    let sk = minisign::SecretKey::parse(&read("unencrypted.key"), None).unwrap();
    assert_eq!(
        sk.public(),
        minisign::PublicKey::parse(&read("minisign.pub")).unwrap()
    );
    // A signature we make is accepted by the same verifier minisign's own signatures pass.
    let s = minisign::sign(&sk.key, &sk.key_id, b"payload", "c");
    assert_eq!(minisign::verify(&sk.public(), b"payload", &s).unwrap(), "c");

    let enc = read("encrypted.key");
    let e = minisign::SecretKey::parse(&enc, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("password is needed"), "{e}");
    let e = minisign::SecretKey::parse(&enc, Some(b"wrong-password"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("checksum mismatch"), "{e}");
    let sk = minisign::SecretKey::parse(&enc, Some(b"fixture-password")).unwrap();
    assert_eq!(
        sk.public(),
        minisign::PublicKey::parse(&read("encrypted.pub")).unwrap()
    );
}

#[test]
fn key_based_bundles_verify_and_every_tampering_fails() {
    let artifact = b"Python-3.14.0.tgz contents".to_vec();
    fn art(b: &[u8]) -> Artifact<'_> {
        Artifact {
            sha256: Sha256::digest(b).into(),
            bytes: Some(b),
        }
    }
    for kind in [KeyKind::Ed25519, KeyKind::P256] {
        let key = PrivateKey::generate(kind);
        let other = PrivateKey::generate(kind);
        let bundle = Bundle::sign_message(&key, &artifact);
        let parsed = Bundle::parse(&bundle.to_json()).unwrap();
        verify_with_key(&parsed, art(&artifact), &key.public(), None).unwrap();
        let e = verify_with_key(&parsed, art(&artifact), &other.public(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not verify"), "{e}");
        for i in sampled(artifact.len()) {
            let mut a = artifact.clone();
            a[i] ^= 1;
            assert!(
                verify_with_key(&parsed, art(&a), &key.public(), None).is_err(),
                "{kind:?} artifact byte {i}"
            );
        }
        let sig = B64
            .decode(&parsed.message_signature.as_ref().unwrap().signature)
            .unwrap();
        for i in 0..sig.len() {
            let mut s = sig.clone();
            s[i] ^= 1;
            let mut b = parsed.clone();
            b.message_signature.as_mut().unwrap().signature = B64.encode(&s);
            assert!(
                verify_with_key(&b, art(&artifact), &key.public(), None).is_err(),
                "{kind:?} signature byte {i}"
            );
        }
    }
}

#[test]
fn dsse_provenance_envelope_roundtrip_and_tampering() {
    let key = PrivateKey::generate(KeyKind::P256);
    let digest: [u8; 32] = Sha256::digest(b"artifact").into();
    let build = BuildInfo {
        repository: "https://github.com/python/cpython".into(),
        git_ref: "refs/tags/v3.14.0".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        workflow_path: ".github/workflows/build.yml".into(),
        builder_id:
            "https://github.com/python/cpython/.github/workflows/build.yml@refs/tags/v3.14.0".into(),
        ..Default::default()
    };
    let st = provenance_statement(vec![Subject::sha256("artifact.tgz", &digest)], &build);
    let payload = serde_json::to_vec(&st).unwrap();
    let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &payload);
    assert_eq!(env.verify(&key.public()).unwrap(), payload);
    // The signature is over PAE, not the bare payload.
    let sig = B64.decode(&env.signatures[0].sig).unwrap();
    key.public()
        .verify(&pae(IN_TOTO_PAYLOAD_TYPE, &payload), &sig)
        .unwrap();
    assert!(key.public().verify(&payload, &sig).is_err());
    for i in sampled(payload.len()) {
        let mut p = payload.clone();
        p[i] ^= 1;
        let mut e = env.clone();
        e.payload = B64.encode(&p);
        assert!(e.verify(&key.public()).is_err(), "payload byte {i}");
    }
    let mut e = env.clone();
    e.payload_type = "application/json".into();
    assert!(e.verify(&key.public()).is_err());
    // SBOM statements pick the predicate type from the document.
    let spdx = serde_json::json!({"spdxVersion": "SPDX-2.3"});
    let cdx = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6"});
    let s = |v| {
        sbom_statement(vec![Subject::sha256("a", &digest)], v)
            .unwrap()
            .predicate_type
    };
    assert_eq!(s(spdx), "https://spdx.dev/Document");
    assert_eq!(s(cdx), "https://cyclonedx.org/bom");
    assert!(sbom_statement(vec![], serde_json::json!({"x": 1})).is_err());
}
