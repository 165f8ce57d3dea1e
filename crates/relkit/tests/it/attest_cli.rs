//! End-to-end tests of `relkit checksum | key | sign | attest | verify` against real oracles:
//! GNU coreutils `sha256sum`, Debian's `minisign`, the `openssl` CLI, and the Python
//! `securesystemslib` / `sigstore` packages. With RELKIT_REQUIRE_ORACLES set (CI), a missing
//! oracle fails the test; locally it is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use relkit_testkit::oracle_runs;

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");
const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../relkit-attest/tests/fixtures/sigstore/"
);

fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn relkit(dir: &Path, args: &[&str]) -> Output {
    run(dir, RELKIT, args)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "failed: {}", text(&o));
    o
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn checksum_matches_coreutils_both_ways() {
    if !oracle_runs("sha256sum", &["--version"]) {
        return;
    }
    let d = tmp();
    let dir = d.path();
    write(dir, "a.tgz", b"alpha\n");
    write(dir, "with space.zip", &vec![7u8; 300_000]);
    write(dir, "back\\slash", b"x");
    std::fs::create_dir(dir.join("subdir")).unwrap();
    let names = ["a.tgz", "with space.zip", "back\\slash"];
    for (algo, tool) in [("sha256", "sha256sum"), ("sha512", "sha512sum")] {
        for tag in [false, true] {
            let mut args = vec!["checksum", "--algo", algo];
            let mut targs = vec![];
            if tag {
                args.push("--tag");
                targs.push("--tag");
            }
            args.extend(names);
            targs.extend(names);
            let ours = ok(relkit(dir, &args));
            let theirs = ok(run(dir, tool, &targs));
            assert_eq!(ours.stdout, theirs.stdout, "{algo} tag={tag}");
        }
    }
    // Theirs checked by us, ours checked by them.
    let theirs = ok(run(dir, "sha256sum", &names));
    std::fs::write(dir.join("THEIRS"), &theirs.stdout).unwrap();
    ok(relkit(
        dir,
        &[
            "checksum",
            "-o",
            "OURS",
            "a.tgz",
            "with space.zip",
            "back\\slash",
        ],
    ));
    let c1 = ok(relkit(dir, &["checksum", "--check", "THEIRS"]));
    let c2 = ok(run(dir, "sha256sum", &["-c", "OURS"]));
    assert_eq!(c1.stdout, c2.stdout);

    // A sums file with every kind of problem; compare stdout, stderr and exit code.
    let good = String::from_utf8(theirs.stdout).unwrap();
    let h = &good[..64];
    let bad = format!(
        "{good}this line is garbage\n{h}  missing.bin\n{h}  with space.zip\n{h}  subdir\n# comment\n\nSHA256 (a.tgz) = {}\n",
        &good[..64]
    );
    write(dir, "BAD", bad.as_bytes());
    for extra in [
        &[][..],
        &["--quiet"],
        &["--status"],
        &["--strict"],
        &["--warn"],
        &["--ignore-missing"],
        &["--ignore-missing", "--quiet", "--strict"],
    ] {
        let mut a = vec!["checksum", "--check"];
        a.extend(extra);
        a.push("BAD");
        let ours = relkit(dir, &a);
        let mut t = vec!["-c"];
        t.extend(extra);
        t.push("BAD");
        let theirs = run(dir, "sha256sum", &t);
        assert_eq!(ours.status.code(), theirs.status.code(), "{extra:?}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{extra:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr).replace("sha256sum:", "relkit:"),
            "{extra:?}"
        );
    }
    // Only garbage, and only missing files with --ignore-missing.
    write(dir, "GARBAGE", b"nothing here\n");
    write(dir, "MISSING", format!("{h}  nope\n").as_bytes());
    for t in [
        vec!["GARBAGE"],
        vec!["--ignore-missing", "MISSING"],
        vec!["MISSING"],
        vec!["NOFILE"],
    ] {
        let mut a = vec!["checksum", "--check"];
        a.extend(&t);
        let ours = relkit(dir, &a);
        let mut b = vec!["-c"];
        b.extend(&t);
        let theirs = run(dir, "sha256sum", &b);
        assert_eq!(ours.status.code(), theirs.status.code(), "{t:?}");
        assert_eq!(ours.stdout, theirs.stdout, "{t:?}");
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr).replace("sha256sum:", "relkit:"),
            "{t:?}"
        );
    }
}

#[test]
fn minisign_interop_both_ways() {
    if !oracle_runs("minisign", &["-v"]) {
        return;
    }
    let d = tmp();
    let dir = d.path();
    write(dir, "release.tgz", &vec![42u8; 100_000]);
    // minisign key (unencrypted: -W), minisign signs, relkit verifies.
    ok(run(
        dir,
        "minisign",
        &["-G", "-W", "-p", "mini.pub", "-s", "mini.key"],
    ));
    ok(run(
        dir,
        "minisign",
        &[
            "-S",
            "-s",
            "mini.key",
            "-m",
            "release.tgz",
            "-t",
            "signed by minisign",
        ],
    ));
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "release.tgz",
            "--signature",
            "release.tgz.minisig",
            "--key",
            "mini.pub",
        ],
    ));
    assert!(
        text(&o).contains("trusted comment: signed by minisign"),
        "{}",
        text(&o)
    );
    // Legacy (non-prehashed) signature.
    ok(run(
        dir,
        "minisign",
        &[
            "-S",
            "-l",
            "-s",
            "mini.key",
            "-m",
            "release.tgz",
            "-x",
            "legacy.minisig",
        ],
    ));
    ok(relkit(
        dir,
        &[
            "verify",
            "release.tgz",
            "--signature",
            "legacy.minisig",
            "--key",
            "mini.pub",
        ],
    ));
    // relkit signs with the minisign secret key, minisign verifies.
    ok(relkit(
        dir,
        &[
            "sign",
            "release.tgz",
            "--key",
            "mini.key",
            "--minisign",
            "-o",
            "ours.minisig",
        ],
    ));
    let o = ok(run(
        dir,
        "minisign",
        &[
            "-V",
            "-p",
            "mini.pub",
            "-m",
            "release.tgz",
            "-x",
            "ours.minisig",
        ],
    ));
    assert!(
        text(&o).contains("Signature and comment signature verified"),
        "{}",
        text(&o)
    );
    // A relkit-generated ed25519 key, via its NAME.minisign.pub.
    ok(relkit(
        dir,
        &["key", "generate", "--kind", "ed25519", "-o", "rk"],
    ));
    ok(relkit(
        dir,
        &[
            "sign",
            "release.tgz",
            "--key",
            "rk.key",
            "--minisign",
            "-o",
            "rk.minisig",
        ],
    ));
    ok(run(
        dir,
        "minisign",
        &[
            "-V",
            "-p",
            "rk.minisign.pub",
            "-m",
            "release.tgz",
            "-x",
            "rk.minisig",
        ],
    ));
    // Imported minisign key keeps its key id: the original minisign.pub verifies.
    ok(relkit(
        dir,
        &["key", "import-minisign", "mini.key", "-o", "imported"],
    ));
    ok(relkit(
        dir,
        &[
            "sign",
            "release.tgz",
            "--key",
            "imported.key",
            "--minisign",
            "-o",
            "imp.minisig",
        ],
    ));
    ok(run(
        dir,
        "minisign",
        &[
            "-V",
            "-p",
            "mini.pub",
            "-m",
            "release.tgz",
            "-x",
            "imp.minisig",
        ],
    ));
    // Tampering: file, signature, trusted comment, wrong key -> exit 1, and minisign agrees.
    write(dir, "other.tgz", &vec![43u8; 100_000]);
    let o = relkit(
        dir,
        &[
            "verify",
            "other.tgz",
            "--signature",
            "release.tgz.minisig",
            "--key",
            "mini.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("does not verify"));
    let sig = std::fs::read_to_string(dir.join("release.tgz.minisig")).unwrap();
    write(
        dir,
        "tc.minisig",
        sig.replace("signed by minisign", "signed by mallory")
            .as_bytes(),
    );
    let o = relkit(
        dir,
        &[
            "verify",
            "release.tgz",
            "--signature",
            "tc.minisig",
            "--key",
            "mini.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("global signature"), "{}", text(&o));
    assert!(
        !run(
            dir,
            "minisign",
            &[
                "-V",
                "-p",
                "mini.pub",
                "-m",
                "release.tgz",
                "-x",
                "tc.minisig"
            ]
        )
        .status
        .success()
    );
    let o = relkit(
        dir,
        &[
            "verify",
            "release.tgz",
            "--signature",
            "release.tgz.minisig",
            "--key",
            "rk.minisign.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("key id"), "{}", text(&o));
}

#[test]
fn openssl_interop_p256_and_ed25519() {
    if !oracle_runs("openssl", &["version"]) {
        return;
    }
    let d = tmp();
    let dir = d.path();
    write(dir, "art.bin", b"the release artifact\n");
    write(dir, "pass.txt", b"open sesame\n");
    ok(relkit(
        dir,
        &[
            "key",
            "generate",
            "--kind",
            "p256",
            "--passphrase-file",
            "pass.txt",
            "-o",
            "p",
        ],
    ));
    ok(relkit(
        dir,
        &[
            "sign",
            "art.bin",
            "--key",
            "p.key",
            "--passphrase-file",
            "pass.txt",
        ],
    ));
    let o = ok(run(
        dir,
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-verify",
            "p.pub",
            "-signature",
            "art.bin.sig",
            "art.bin",
        ],
    ));
    assert!(text(&o).contains("Verified OK"));
    // openssl decrypts our encrypted PKCS#8 and signs; relkit verifies.
    ok(run(
        dir,
        "openssl",
        &[
            "pkey",
            "-in",
            "p.key",
            "-passin",
            "file:pass.txt",
            "-out",
            "plain.pem",
        ],
    ));
    ok(run(
        dir,
        "openssl",
        &[
            "dgst",
            "-sha256",
            "-sign",
            "plain.pem",
            "-out",
            "ossl.sig",
            "art.bin",
        ],
    ));
    ok(relkit(
        dir,
        &[
            "verify",
            "art.bin",
            "--signature",
            "ossl.sig",
            "--key",
            "p.pub",
        ],
    ));
    // ed25519: raw 64-byte signature, checked with pkeyutl -rawin.
    ok(relkit(
        dir,
        &["key", "generate", "--kind", "ed25519", "-o", "e"],
    ));
    ok(relkit(dir, &["sign", "art.bin", "--key", "e.key"]));
    assert_eq!(std::fs::read(dir.join("art.bin.sig")).unwrap().len(), 64);
    let o = ok(run(
        dir,
        "openssl",
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "e.pub",
            "-rawin",
            "-in",
            "art.bin",
            "-sigfile",
            "art.bin.sig",
        ],
    ));
    assert!(
        text(&o).contains("Signature Verified Successfully"),
        "{}",
        text(&o)
    );
    // A key generated by openssl signs with relkit.
    ok(run(
        dir,
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", "o.key"],
    ));
    ok(run(
        dir,
        "openssl",
        &["pkey", "-in", "o.key", "-pubout", "-out", "o.pub"],
    ));
    ok(relkit(
        dir,
        &["sign", "art.bin", "--key", "o.key", "-o", "o.sig"],
    ));
    ok(relkit(
        dir,
        &[
            "verify",
            "art.bin",
            "--signature",
            "o.sig",
            "--key",
            "o.pub",
        ],
    ));
    // Wrong key: exit 1 with the reason.
    let o = relkit(
        dir,
        &[
            "verify",
            "art.bin",
            "--signature",
            "o.sig",
            "--key",
            "e.pub",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("does not verify with this key"),
        "{}",
        text(&o)
    );
    // Private key mode.
    use std::os::unix::fs::PermissionsExt;
    for k in ["p.key", "e.key"] {
        let mode = std::fs::metadata(dir.join(k)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{k}");
    }
}

const PROVENANCE_FLAGS: [&str; 10] = [
    "--repository",
    "https://github.com/python/release-tools",
    "--ref",
    "refs/tags/v3.14.0",
    "--commit",
    "c27d339ee6075c1f744c5d4b200f7901aad2c369",
    "--workflow",
    ".github/workflows/build-release.yml",
    "--builder-id",
    "https://github.com/python/release-tools/.github/workflows/build-release.yml@refs/tags/v3.14.0",
];

#[test]
fn attest_then_verify_with_policy() {
    let d = tmp();
    let dir = d.path();
    write(dir, "Python-3.14.0.tgz", b"source tarball bytes");
    write(dir, "Python-3.14.0.tar.xz", b"other bytes");
    ok(relkit(
        dir,
        &["key", "generate", "--kind", "p256", "-o", "k"],
    ));
    ok(relkit(
        dir,
        &["key", "generate", "--kind", "ed25519", "-o", "other"],
    ));
    let mut a = vec![
        "attest",
        "Python-3.14.0.tgz",
        "Python-3.14.0.tar.xz",
        "--key",
        "k.key",
        "-o",
        "prov.json",
    ];
    a.extend(PROVENANCE_FLAGS);
    ok(relkit(dir, &a));
    write(
        dir,
        "policy.toml",
        b"[provenance]\nrepository = \"https://github.com/python/release-tools\"\nref = \"refs/tags/v3.*\"\nworkflow = \".github/workflows/build-release.yml\"\n",
    );
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
            "--policy",
            "policy.toml",
        ],
    ));
    let t = text(&o);
    assert!(
        t.contains("built by workflow .github/workflows/build-release.yml of https://github.com/python/release-tools at commit c27d339ee6075c1f744c5d4b200f7901aad2c369"),
        "{t}"
    );
    assert!(t.contains("VERIFIED Python-3.14.0.tgz"));
    // JSON report.
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["provenance"]["git_ref"], "refs/tags/v3.14.0");

    let fails = |args: &[&str], reason: &str| {
        let o = relkit(dir, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains(reason),
            "{args:?}: expected {reason:?} in {}",
            text(&o)
        );
    };
    // Policy mismatch: repository and ref.
    write(dir, "wrong.toml", b"[provenance]\nrepository = \"https://github.com/evil/release-tools\"\nref = \"refs/tags/v4.*\"\n");
    fails(
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
            "--policy",
            "wrong.toml",
        ],
        "the policy requires \"https://github.com/evil/release-tools\"",
    );
    // Wrong key.
    fails(
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "other.pub",
        ],
        "no signature in the DSSE envelope verifies",
    );
    // Subject digest mismatch.
    write(dir, "tampered.tgz", b"source tarball bytez");
    fails(
        &[
            "verify",
            "tampered.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
        ],
        "no subject of the statement",
    );
    // Signer policy without a keyless signature: fails closed.
    write(
        dir,
        "signer.toml",
        b"[signer]\nidentity = \"thomas@python.org\"\nissuer = \"https://accounts.google.com\"\n",
    );
    fails(
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
            "--policy",
            "signer.toml",
        ],
        "no verified keyless Sigstore signature",
    );
    // Unknown policy field: an input error, never a pass.
    write(dir, "typo.toml", b"[provenance]\nrepo = \"x\"\n");
    let o = relkit(
        dir,
        &[
            "verify",
            "Python-3.14.0.tgz",
            "--provenance",
            "prov.json",
            "--key",
            "k.pub",
            "--policy",
            "typo.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown field `repo`"), "{}", text(&o));
    // Without flags or GitHub Actions env, attest refuses to invent provenance.
    let o = Command::new(RELKIT)
        .args(["attest", "Python-3.14.0.tgz", "--key", "k.key"])
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--repository, --ref, --commit, --builder-id"),
        "{}",
        text(&o)
    );
}

#[test]
fn attest_from_github_actions_environment() {
    let d = tmp();
    let dir = d.path();
    write(dir, "x.whl", b"wheel");
    ok(relkit(
        dir,
        &["key", "generate", "--kind", "ed25519", "-o", "k"],
    ));
    let o = Command::new(RELKIT)
        .args([
            "attest",
            "x.whl",
            "--key",
            "k.key",
            "--bundle",
            "-o",
            "x.bundle.json",
        ])
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "python/cpython")
        .env("GITHUB_REF", "refs/tags/v3.14.0")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env(
            "GITHUB_WORKFLOW_REF",
            "python/cpython/.github/workflows/release.yml@refs/tags/v3.14.0",
        )
        .env("GITHUB_RUN_ID", "987")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    write(dir, "p.toml", b"[provenance]\nbuilder_id = \"https://github.com/python/cpython/.github/workflows/release.yml@refs/tags/*\"\n");
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "x.whl",
            "--provenance",
            "x.bundle.json",
            "--key",
            "k.pub",
            "--policy",
            "p.toml",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["provenance"]["invocation_id"],
        "https://github.com/python/cpython/actions/runs/987/attempts/1"
    );
    assert_eq!(
        v["provenance"]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
}

#[test]
fn python_securesystemslib_and_sigstore_parse_our_output() {
    if !oracle_runs(
        "python3",
        &[
            "-c",
            "import securesystemslib, sigstore_models, cryptography",
        ],
    ) {
        return;
    }
    let d = tmp();
    let dir = d.path();
    write(dir, "art.tgz", b"artifact for python");
    write(
        dir,
        "sbom.spdx.json",
        br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x"}"#,
    );
    for kind in ["ed25519", "p256"] {
        ok(relkit(
            dir,
            &["key", "generate", "--kind", kind, "-o", kind, "--force"],
        ));
        let key = format!("{kind}.key");
        let mut a = vec!["attest", "art.tgz", "--key", &key, "-o", "env.json"];
        a.extend(PROVENANCE_FLAGS);
        ok(relkit(dir, &a));
        ok(relkit(
            dir,
            &[
                "attest",
                "art.tgz",
                "--key",
                &key,
                "--sbom",
                "sbom.spdx.json",
                "-o",
                "sbom-env.json",
            ],
        ));
        ok(relkit(
            dir,
            &["sign", "art.tgz", "--key", &key, "--bundle", "-o", "b.json"],
        ));
        let script = format!(
            r#"
import json, hashlib
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from sigstore_models.bundle.v1 import Bundle
pub = load_pem_public_key(open("{kind}.pub", "rb").read())
for name, ptype in (("env.json", "https://slsa.dev/provenance/v1"), ("sbom-env.json", "https://spdx.dev/Document")):
    doc = json.load(open(name))
    key = SSlibKey.from_crypto(pub, keyid=doc["signatures"][0]["keyid"])
    env = Envelope.from_dict(doc)
    assert key.keyid in env.verify([key], 1), "not verified"
    st = json.loads(env.pae() and env.payload)
    assert st["_type"] == "https://in-toto.io/Statement/v1", st
    assert st["predicateType"] == ptype, st
    assert st["subject"][0]["digest"]["sha256"] == hashlib.sha256(open("art.tgz", "rb").read()).hexdigest()
b = Bundle.from_json(open("b.json").read())
assert b.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json"
print("python oracles OK")
"#
        );
        let o = run(dir, "python3", &["-c", &script]);
        assert!(o.status.success(), "{kind}: {}", text(&o));
        assert!(text(&o).contains("python oracles OK"));
        // And relkit verifies its own key-based bundle.
        ok(relkit(
            dir,
            &[
                "verify",
                "art.tgz",
                "--bundle",
                "b.json",
                "--key",
                &format!("{kind}.pub"),
            ],
        ));
    }
}

#[test]
fn sigstore_cli_oracle_and_relkit_agree_on_real_bundles() {
    let d = tmp();
    let dir = d.path();
    let fix = |n: &str| format!("{FIX}{n}");
    // CPython 3.12.5's release bundle, by digest, with a signer policy.
    write(
        dir,
        "policy.toml",
        b"[signer]\nidentity = \"thomas@python.org\"\nissuer = \"https://accounts.google.com\"\n",
    );
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405",
            "--bundle",
            &fix("Python-3.12.5.tgz.sigstore"),
            "--trusted-root",
            &fix("trusted_root.production.json"),
            "--policy",
            "policy.toml",
        ],
    ));
    assert!(
        text(&o).contains("signed by thomas@python.org (OIDC issuer https://accounts.google.com)"),
        "{}",
        text(&o)
    );
    // Wrong identity / wrong issuer.
    for (p, reason) in [
        (
            "[signer]\nidentity = \"hugo@python.org\"\nissuer = \"https://accounts.google.com\"\n",
            "the signer identity is \"thomas@python.org\"",
        ),
        (
            "[signer]\nidentity = \"thomas@python.org\"\nissuer = \"https://github.com/login/oauth\"\n",
            "the OIDC issuer is \"https://accounts.google.com\"",
        ),
    ] {
        write(dir, "bad.toml", p.as_bytes());
        let o = relkit(
            dir,
            &[
                "verify",
                "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405",
                "--bundle",
                &fix("Python-3.12.5.tgz.sigstore"),
                "--trusted-root",
                &fix("trusted_root.production.json"),
                "--policy",
                "bad.toml",
            ],
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains(reason), "{}", text(&o));
    }
    // Bad inclusion proof via the CLI.
    let mut b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fix("bundle_v3.txt.sigstore")).unwrap())
            .unwrap();
    let h = b
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/hashes/0")
        .unwrap();
    *h = serde_json::Value::String("UHUr+lvxENI+G902oEsFW5ovQILgqO9mUWWxvvwHZZY=".into());
    write(dir, "badproof.json", b.to_string().as_bytes());
    let o = relkit(
        dir,
        &[
            "verify",
            &fix("bundle_v3.txt"),
            "--bundle",
            "badproof.json",
            "--trusted-root",
            &fix("trusted_root.staging.json"),
            "--certificate-identity",
            "william@yossarian.net",
            "--certificate-oidc-issuer",
            "https://github.com/login/oauth",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("inclusion proof does not lead"),
        "{}",
        text(&o)
    );

    // A keyless DSSE attestation (Rekor v2 entry, RFC 3161 time) as provenance, with a policy
    // on both the provenance and the signer.
    write(
        dir,
        "both.toml",
        b"[provenance]\nbuilder_id = \"https://github.com/sigstore-conformance/rekor2-dsse-hashedrekord-regen\"\n\
[signer]\nidentity = \"https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/*\"\n\
issuer = \"https://token.actions.githubusercontent.com\"\n",
    );
    let o = ok(relkit(
        dir,
        &[
            "verify",
            "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
            "--provenance",
            &fix("a.dsse.staging-rekor-v2.txt.sigstore.json"),
            "--trusted-root",
            &fix("trusted_root.staging.json"),
            "--policy",
            "both.toml",
        ],
    ));
    let t = text(&o);
    assert!(
        t.contains(
            "builder https://github.com/sigstore-conformance/rekor2-dsse-hashedrekord-regen"
        ),
        "{t}"
    );
    assert!(
        t.contains("RFC 3161 timestamp by https://timestamp.sigstage.dev/api/v1/timestamp"),
        "{t}"
    );
    assert!(
        t.contains("satisfied: the provenance requirements and the signer requirements"),
        "{t}"
    );

    // The sigstore Python CLI verifies the same staging bundle offline, and rejects the CVE one.
    if !oracle_runs("python3", &["-m", "sigstore", "--version"]) {
        return;
    }
    let py = |bundle: &str, input: &str| {
        run(
            dir,
            "python3",
            &[
                "-m",
                "sigstore",
                "--staging",
                "verify",
                "identity",
                "--offline",
                "--bundle",
                &fix(bundle),
                "--cert-identity",
                "william@yossarian.net",
                "--cert-oidc-issuer",
                "https://github.com/login/oauth",
                &fix(input),
            ],
        )
    };
    let ours = |bundle: &str, input: &str| {
        relkit(
            dir,
            &[
                "verify",
                &fix(input),
                "--bundle",
                &fix(bundle),
                "--staging",
                "--certificate-identity",
                "william@yossarian.net",
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
            ],
        )
    };
    assert!(
        py("bundle_v3.txt.sigstore", "bundle_v3.txt")
            .status
            .success()
    );
    assert!(
        ours("bundle_v3.txt.sigstore", "bundle_v3.txt")
            .status
            .success()
    );
    assert!(
        !py(
            "bundle_cve_2022_36056.txt.sigstore",
            "bundle_cve_2022_36056.txt"
        )
        .status
        .success()
    );
    assert_eq!(
        ours(
            "bundle_cve_2022_36056.txt.sigstore",
            "bundle_cve_2022_36056.txt"
        )
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn secrets_never_appear_in_output() {
    let d = tmp();
    let dir = d.path();
    let secret = "Tr0ub4dor-and-3-horse-staples";
    write(dir, "pass.txt", format!("{secret}\n").as_bytes());
    write(dir, "wrong.txt", b"not-the-passphrase-zz\n");
    write(dir, "f.bin", b"data");
    let mut outputs = Vec::new();
    for kind in ["ed25519", "p256"] {
        let name = format!("k-{kind}");
        outputs.push(ok(relkit(
            dir,
            &[
                "key",
                "generate",
                "--kind",
                kind,
                "--passphrase-file",
                "pass.txt",
                "-o",
                &name,
            ],
        )));
        outputs.push(ok(relkit(
            dir,
            &[
                "key",
                "generate",
                "--kind",
                kind,
                "-o",
                &format!("{name}-plain"),
            ],
        )));
        let key = format!("{name}.key");
        let plain = format!("{name}-plain.key");
        let o = relkit(
            dir,
            &[
                "sign",
                "f.bin",
                "--key",
                &key,
                "--passphrase-file",
                "wrong.txt",
            ],
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o).contains("wrong passphrase"), "{}", text(&o));
        outputs.push(o);
        outputs.push(relkit(dir, &["sign", "f.bin", "--key", &key]));
        // A private key given where a public key is expected, and as a signature.
        outputs.push(relkit(
            dir,
            &["verify", "f.bin", "--signature", &plain, "--key", &plain],
        ));
        outputs.push(relkit(
            dir,
            &[
                "verify",
                "f.bin",
                "--signature",
                &key,
                "--key",
                &format!("{name}.pub"),
            ],
        ));
        outputs.push(relkit(dir, &["attest", "f.bin", "--key", &plain]));
        outputs.push(relkit(dir, &["key", "import-minisign", &plain, "-o", "x"]));
        outputs.push(ok(relkit(
            dir,
            &["sign", "f.bin", "--key", &plain, "-o", "s.sig"],
        )));
    }
    // Every line of every private key body, and the passphrase, must be absent.
    let mut needles = vec![secret.to_string()];
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "key") {
            for line in std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("-----"))
            {
                needles.push(line.to_string());
            }
        }
    }
    assert!(needles.len() > 8);
    for o in &outputs {
        let t = text(o);
        for n in &needles {
            assert!(!t.contains(n.as_str()), "secret material leaked in: {t}");
        }
    }
}

const CPYTHON_3_12_5: &str =
    "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405";

/// CPython 3.12.5's real release bundle, keyless, against relkit's shipped production root
/// (no --trusted-root): the release manager's identity passes, another fails (exit 1), none
/// is a usage error (exit 2), --any-signer passes with a warning and says so.
#[test]
fn cpython_release_bundle_needs_the_release_managers_identity() {
    let d = tmp();
    let dir = d.path();
    let bundle = format!("{FIX}Python-3.12.5.tgz.sigstore");
    let verify = |extra: &[&str]| {
        let mut a = vec!["verify", CPYTHON_3_12_5, "--bundle", &bundle];
        a.extend_from_slice(extra);
        relkit(dir, &a)
    };
    let thomas = [
        "--certificate-identity",
        "thomas@python.org",
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ];
    let o = ok(verify(&thomas));
    let t = text(&o);
    assert!(
        t.contains("signed by thomas@python.org (OIDC issuer https://accounts.google.com)"),
        "{t}"
    );
    assert!(t.contains("bundle identity: verified"), "{t}");
    let mut json = thomas.to_vec();
    json.extend(["--format", "json"]);
    let o = ok(verify(&json));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let checks = &v["bundle_checks"];
    for (name, want) in [
        ("certificate_chain", "verified"),
        ("sct", "verified"),
        ("inclusion_proof", "verified"),
        // A v0.1 bundle: the SET authenticates the entry, the proof carries no checkpoint.
        ("checkpoint", "absent"),
        ("signed_entry_timestamp", "verified"),
        ("rfc3161_timestamp", "absent"),
        ("artifact_digest", "verified"),
        ("identity", "verified"),
    ] {
        assert_eq!(checks[name], want, "{name}: {checks}");
    }
    assert_eq!(v["signer"]["identities"][0], "thomas@python.org");
    assert_eq!(v["passed"], true);

    // Another release manager, or the right one at another issuer: exit 1 with the reason.
    for (id, iss, reason) in [
        (
            "pablogsal@python.org",
            "https://accounts.google.com",
            "the signer identity is \"thomas@python.org\"",
        ),
        (
            "thomas@python.org",
            "https://github.com/login/oauth",
            "the OIDC issuer is \"https://accounts.google.com\"",
        ),
    ] {
        let o = verify(&[
            "--certificate-identity",
            id,
            "--certificate-oidc-issuer",
            iss,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(reason), "{}", text(&o));
    }
    // A regexp is anchored: a prefix is not a match.
    let o = verify(&[
        "--certificate-identity-regexp",
        "thomas@python",
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    ok(verify(&[
        "--certificate-identity-regexp",
        "[a-z]+@python\\.org",
        "--certificate-oidc-issuer-regexp",
        "https://accounts\\.google\\.com",
    ]));

    // No expected signer: a usage error that says what to pass.
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--certificate-identity"), "{}", text(&o));
    // Half a signer is also a usage error.
    let o = verify(&["--certificate-identity", "thomas@python.org"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--certificate-oidc-issuer"),
        "{}",
        text(&o)
    );

    // --any-signer: verified, with a loud warning on stderr and the identity not checked.
    let o = ok(verify(&["--any-signer"]));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("WARNING: --any-signer"), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("bundle identity: NOT CHECKED"), "{stdout}");
    assert!(stdout.contains("VERIFIED"), "{stdout}");
    // Everything else is still checked: a wrong digest fails.
    let o = relkit(
        dir,
        &[
            "verify",
            "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d406",
            "--bundle",
            &bundle,
            "--any-signer",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The production bundle does not verify against the shipped staging root.
    let mut staging = thomas.to_vec();
    staging.push("--staging");
    let o = verify(&staging);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not in the trusted root"), "{}", text(&o));
}

/// Every offline `bundle-verify` case of the Sigstore conformance suite, run as the suite
/// runs them (`test/test_bundle.py::test_verify`) through the CLI-protocol adapter
/// `scripts/sigstore-conformance`: names ending `_fail` must fail, every other must pass.
#[test]
fn sigstore_conformance_bundle_verify_cases() {
    const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";
    let cases = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../relkit-attest/tests/fixtures/sigstore-conformance/bundle-verify"
    ));
    let adapter = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/sigstore-conformance"
    );
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let first_line = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
    };
    let (mut right, mut wrong) = (0, Vec::new());
    for case in &dirs {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let bundle = case.join("bundle.sigstore.json");
        let mut args: Vec<String> = vec![
            "verify-bundle".into(),
            "--bundle".into(),
            bundle.display().to_string(),
        ];
        let key = case.join("key.pub");
        if key.exists() {
            args.extend(["--key".into(), key.display().to_string()]);
        } else {
            let identity = first_line(&case.join("identity")).unwrap_or(DEFAULT_IDENTITY.into());
            let issuer = first_line(&case.join("issuer")).unwrap_or(DEFAULT_ISSUER.into());
            args.extend([
                "--certificate-identity".into(),
                identity,
                "--certificate-oidc-issuer".into(),
                issuer,
            ]);
        }
        let root = case.join("trusted_root.json");
        if root.exists() {
            args.extend(["--trusted-root".into(), root.display().to_string()]);
        }
        let artifact = case.join("artifact");
        let artifact = if artifact.exists() {
            artifact
        } else {
            cases.join("a.txt")
        };
        args.push(artifact.display().to_string());
        let o = Command::new(adapter)
            .args(&args)
            .env("RELKIT", RELKIT)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {adapter}: {e}"));
        let must_fail = name.ends_with("_fail");
        let code = o.status.code();
        let correct = if must_fail {
            matches!(code, Some(1) | Some(2))
        } else {
            code == Some(0)
        };
        let why = text(&o)
            .lines()
            .find(|l| l.starts_with("FAILED") || l.starts_with("error:"))
            .unwrap_or("")
            .to_string();
        println!(
            "{} {name}: expected {}, exit {code:?} {why}",
            if correct { "ok   " } else { "WRONG" },
            if must_fail { "failure" } else { "success" },
        );
        if correct {
            right += 1;
        } else {
            wrong.push(format!("{name} (exit {code:?}): {}", text(&o)));
        }
    }
    println!(
        "sigstore-conformance bundle-verify: {right} of {} cases as expected",
        dirs.len()
    );
    assert_eq!(
        dirs.len(),
        70,
        "the suite's 70 offline cases must all be present"
    );
    assert!(
        wrong.is_empty(),
        "{} conformance case(s) wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
