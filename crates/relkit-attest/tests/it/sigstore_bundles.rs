//! Offline verification of real Sigstore bundles (sigstore-python test assets, CPython
//! 3.12.5's release bundle) against the trusted roots shipped in the `sigstore` PyPI package,
//! and single-byte tampering of artifact, signature, certificate and log entry.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use relkit_attest::policy::ExpectedSigner;
use relkit_attest::sigstore::{
    Artifact, Bundle, CheckState, SignerCheck, TimeSource, TrustedRoot, verify_keyless,
};
use sha2::{Digest, Sha256};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sigstore/");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{FIX}{name}")).unwrap()
}

fn staging() -> TrustedRoot {
    TrustedRoot::parse(&read("trusted_root.staging.json")).unwrap()
}

fn production() -> TrustedRoot {
    TrustedRoot::parse(&read("trusted_root.production.json")).unwrap()
}

/// The expected signer (exact identity and issuer, as `--certificate-identity` gives it).
fn who(identity: &str, issuer: &str) -> ExpectedSigner {
    ExpectedSigner::from_flags(Some(identity), None, Some(issuer), None).unwrap()
}

const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

fn art(bytes: &[u8]) -> Artifact<'_> {
    Artifact {
        sha256: Sha256::digest(bytes).into(),
        bytes: Some(bytes),
    }
}

fn digest_only(hex: &str) -> Artifact<'static> {
    Artifact {
        sha256: hex::decode(hex).unwrap().try_into().unwrap(),
        bytes: None,
    }
}

#[test]
fn v03_bundle_verifies_with_identity_and_issuer() {
    let expected = who("william@yossarian.net", "https://github.com/login/oauth");
    let data = std::fs::read(format!("{FIX}bundle_v3.txt")).unwrap();
    let b = Bundle::parse(&read("bundle_v3.txt.sigstore")).unwrap();
    let p = verify_keyless(&b, art(&data), &staging(), SignerCheck::Expect(&expected)).unwrap();
    assert_eq!(p.identity, "william@yossarian.net");
    assert_eq!(p.issuer, "https://github.com/login/oauth");
    assert_eq!(p.log_index, 25915956);
    assert_eq!(p.log_url, "https://rekor.sigstage.dev");
    assert!(p.inclusion_proof && p.signed_entry_timestamp);
    assert_eq!(p.ct_log, "https://ctfe.sigstage.dev/2022-2");
    // Without the CT log in the trusted root, the certificate's SCT cannot be verified.
    let mut no_ct = staging();
    no_ct.ctlogs.clear();
    let e = verify_keyless(&b, art(&data), &no_ct, SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no embedded SCT"), "{e}");
    // The staging bundle does not verify against the production root.
    let e = verify_keyless(
        &b,
        art(&data),
        &production(),
        SignerCheck::Expect(&expected),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not in the trusted root"), "{e}");
}

#[test]
fn trusted_root_windows_must_start() {
    let mut root: serde_json::Value =
        serde_json::from_str(&read("trusted_root.staging.json")).unwrap();
    root["tlogs"][0]["publicKey"]["validFor"]
        .as_object_mut()
        .unwrap()
        .remove("start");
    let e = TrustedRoot::parse(&root.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("$.tlogs[0].publicKey.validFor has no start"),
        "{e}"
    );
    // The shipped roots parse and are the fixtures' bytes (sigstore-python 4.5.1's).
    assert_eq!(
        relkit_attest::sigstore::PRODUCTION_TRUSTED_ROOT,
        read("trusted_root.production.json")
    );
    assert_eq!(
        relkit_attest::sigstore::STAGING_TRUSTED_ROOT,
        read("trusted_root.staging.json")
    );
    assert!(!TrustedRoot::production().tlogs.is_empty());
}

#[test]
fn v01_bundle_verifies() {
    let expected = who("a@tny.town", "https://github.com/login/oauth");
    let data = std::fs::read(format!("{FIX}bundle.txt")).unwrap();
    let b = Bundle::parse(&read("bundle.txt.sigstore")).unwrap();
    let p = verify_keyless(&b, art(&data), &staging(), SignerCheck::Expect(&expected)).unwrap();
    assert_eq!(p.identity, "a@tny.town");
}

#[test]
fn cpython_release_bundle_verifies_against_production_root() {
    let expected = who("thomas@python.org", "https://accounts.google.com");
    // sha256 of Python-3.12.5.tgz as published on python.org.
    let a = digest_only("38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405");
    let b = Bundle::parse(&read("Python-3.12.5.tgz.sigstore")).unwrap();
    let p = verify_keyless(&b, a, &production(), SignerCheck::Expect(&expected)).unwrap();
    assert_eq!(p.identity, "thomas@python.org");
    assert_eq!(p.issuer, "https://accounts.google.com");
    let mut other = a;
    other.sha256[31] ^= 1;
    assert!(verify_keyless(&b, other, &production(), SignerCheck::Expect(&expected)).is_err());
}

#[test]
fn negative_assets_fail_with_reasons() {
    let expected = who("william@yossarian.net", "https://github.com/login/oauth");
    let data = std::fs::read(format!("{FIX}bundle_cve_2022_36056.txt")).unwrap();
    let b = Bundle::parse(&read("bundle_cve_2022_36056.txt.sigstore")).unwrap();
    let e = verify_keyless(&b, art(&data), &staging(), SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the log entry is not for this"), "{e}");

    let data = std::fs::read(format!("{FIX}bundle.txt")).unwrap();
    let b = Bundle::parse(&read("bundle_invalid_version.txt.sigstore")).unwrap();
    let e = verify_keyless(&b, art(&data), &staging(), SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported bundle media type"), "{e}");

    let b = Bundle::parse(&read("bundle_no_log_entry.txt.sigstore")).unwrap();
    let e = verify_keyless(&b, art(&data), &staging(), SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("exactly one transparency log entry"), "{e}");
}

#[test]
fn rekor_v2_dsse_bundle_verifies_with_an_rfc3161_time() {
    let expected = who(BEACON, "https://token.actions.githubusercontent.com");
    // The statement's subject is sigstore-python's a.txt (sha256 below); the fixture file
    // next to the bundle is a different input and must not verify.
    let subject = digest_only("a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf");
    let json: serde_json::Value =
        serde_json::from_str(&read("a.dsse.staging-rekor-v2.txt.sigstore.json")).unwrap();
    let b: Bundle = serde_json::from_value(json.clone()).unwrap();
    let root = staging();
    let p = verify_keyless(&b, subject, &root, SignerCheck::Expect(&expected)).unwrap();
    assert_eq!(
        p.identity,
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    );
    assert_eq!(p.issuer, "https://token.actions.githubusercontent.com");
    assert_eq!(
        p.time_source,
        TimeSource::Timestamp("https://timestamp.sigstage.dev/api/v1/timestamp".into())
    );
    assert!(p.inclusion_proof && p.checkpoint && !p.signed_entry_timestamp);
    assert_eq!(p.checks.rfc3161_timestamp, CheckState::Verified);
    assert_eq!(p.checks.signed_entry_timestamp, CheckState::Absent);
    assert_eq!(p.checks.identity, CheckState::Verified);
    // The same bundle from anyone: verified, the identity reported as not checked; the
    // wrong signer: refused with both values named.
    let any = verify_keyless(&b, subject, &root, SignerCheck::AnySigner).unwrap();
    assert_eq!(any.checks.identity, CheckState::NotChecked);
    let other = who(
        "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    let e = verify_keyless(&b, subject, &root, SignerCheck::Expect(&other))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the signer identity is") && e.contains("someone/else"),
        "{e}"
    );
    let st: serde_json::Value = serde_json::from_slice(p.dsse_payload.as_deref().unwrap()).unwrap();
    assert_eq!(st["predicateType"], "https://slsa.dev/provenance/v1");
    let data = std::fs::read(format!("{FIX}a.dsse.staging-rekor-v2.txt")).unwrap();
    let e = verify_keyless(&b, art(&data), &root, SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no subject of the statement"), "{e}");
    // Without the timestamp there is no trusted time: fail closed.
    let mut no_ts = json.clone();
    no_ts["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
    let nb: Bundle = serde_json::from_value(no_ts).unwrap();
    let e = verify_keyless(&nb, subject, &root, SignerCheck::Expect(&expected))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no RFC 3161 timestamp"), "{e}");
    // Single-byte tampering of the timestamp token, the DSSE signature and payload, the
    // certificate and the log entry.
    for pointer in [
        "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp",
        "/dsseEnvelope/signatures/0/sig",
        "/dsseEnvelope/payload",
        "/verificationMaterial/certificate/rawBytes",
        "/verificationMaterial/tlogEntries/0/canonicalizedBody",
        "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
    ] {
        let len = B64
            .decode(json.pointer(pointer).unwrap().as_str().unwrap())
            .unwrap()
            .len();
        for pos in positions(len) {
            let b = tampered(&json, pointer, pos);
            assert!(
                verify_keyless(&b, subject, &root, SignerCheck::Expect(&expected)).is_err(),
                "{pointer} byte {pos} of {len}"
            );
        }
    }
}

/// Flips one bit of the base64-decoded field at `pointer`, re-encodes, and verifies.
fn tampered(bundle: &serde_json::Value, pointer: &str, pos: usize) -> Bundle {
    let mut b = bundle.clone();
    let f = b.pointer_mut(pointer).unwrap();
    let mut raw = B64.decode(f.as_str().unwrap()).unwrap();
    let i = pos % raw.len();
    raw[i] ^= 0x01;
    *f = serde_json::Value::String(B64.encode(raw));
    serde_json::from_value(b).unwrap()
}

fn positions(len: usize) -> Vec<usize> {
    // RELKIT_TAMPER_ALL=1 flips every byte (minutes in a debug build); default: a spread.
    if std::env::var_os("RELKIT_TAMPER_ALL").is_some() {
        return (0..len).collect();
    }
    // Every byte of short fields; a spread of 64 positions (always first and last) otherwise.
    if len <= 80 {
        (0..len).collect()
    } else {
        let mut v: Vec<usize> = (0..64).map(|k| k * len / 64).collect();
        v.push(len - 1);
        v
    }
}

#[test]
fn single_byte_tampering_always_fails() {
    let expected = who("william@yossarian.net", "https://github.com/login/oauth");
    let data = std::fs::read(format!("{FIX}bundle_v3.txt")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("bundle_v3.txt.sigstore")).unwrap();
    let root = staging();
    let good: Bundle = serde_json::from_value(json.clone()).unwrap();
    assert!(verify_keyless(&good, art(&data), &root, SignerCheck::Expect(&expected)).is_ok());

    for i in positions(data.len()) {
        let mut d = data.clone();
        d[i] ^= 0x01;
        assert!(
            verify_keyless(&good, art(&d), &root, SignerCheck::Expect(&expected)).is_err(),
            "artifact byte {i}"
        );
    }
    for pointer in [
        "/messageSignature/signature",
        "/verificationMaterial/certificate/rawBytes",
        "/verificationMaterial/tlogEntries/0/canonicalizedBody",
        "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
        "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
        "/verificationMaterial/tlogEntries/0/inclusionProof/hashes/3",
    ] {
        let len = B64
            .decode(json.pointer(pointer).unwrap().as_str().unwrap())
            .unwrap()
            .len();
        for pos in positions(len) {
            let b = tampered(&json, pointer, pos);
            assert!(
                verify_keyless(&b, art(&data), &root, SignerCheck::Expect(&expected)).is_err(),
                "{pointer} byte {pos} of {len}"
            );
        }
    }
    // Log entry metadata and checkpoint text.
    for (pointer, value) in [
        (
            "/verificationMaterial/tlogEntries/0/integratedTime",
            "1712085550",
        ),
        ("/verificationMaterial/tlogEntries/0/logIndex", "25915957"),
        (
            "/verificationMaterial/tlogEntries/0/inclusionProof/logIndex",
            "25901136",
        ),
        (
            "/verificationMaterial/tlogEntries/0/inclusionProof/treeSize",
            "25901139",
        ),
    ] {
        let mut b = json.clone();
        *b.pointer_mut(pointer).unwrap() = serde_json::Value::String(value.into());
        let b: Bundle = serde_json::from_value(b).unwrap();
        assert!(
            verify_keyless(&b, art(&data), &root, SignerCheck::Expect(&expected)).is_err(),
            "{pointer}"
        );
    }
    let cp = "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope";
    let text = json.pointer(cp).unwrap().as_str().unwrap().to_string();
    for pos in positions(text.len()) {
        let mut bytes = text.clone().into_bytes();
        if !bytes[pos].is_ascii_alphanumeric() {
            continue;
        }
        bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
        let mut b = json.clone();
        *b.pointer_mut(cp).unwrap() = serde_json::Value::String(String::from_utf8(bytes).unwrap());
        let b: Bundle = serde_json::from_value(b).unwrap();
        assert!(
            verify_keyless(&b, art(&data), &root, SignerCheck::Expect(&expected)).is_err(),
            "checkpoint byte {pos}"
        );
    }
}
