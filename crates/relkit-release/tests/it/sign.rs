//! The pipeline's sign step signs like `relkit sign`: a minisign key imported from minisign
//! (PKCS#8 key beside its `NAME.minisign.pub`, as `relkit key import-minisign` writes them)
//! keeps its key id, so `minisign -V` with the original public key accepts the release's
//! signatures. minisign itself makes the key and checks the signatures.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use relkit_attest::keys::PrivateKey;
use relkit_attest::minisign;
use relkit_release::{Observer, Plan, Release, RunOptions, StepRecord};

struct Quiet;

impl Observer for Quiet {
    fn started(&self, _: &str, _: &str) {}
    fn skipped(&self, _: &str, _: &str) {}
    fn finished(&self, _: &str, _: &StepRecord) {}
}

fn git(repo: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Release Manager")
        .env("GIT_AUTHOR_EMAIL", "rm@example.org")
        .env("GIT_COMMITTER_NAME", "Release Manager")
        .env("GIT_COMMITTER_EMAIL", "rm@example.org")
        .env("GIT_AUTHOR_DATE", "2025-06-11T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2025-06-11T12:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pipeline_minisign_signature_carries_the_imported_key_id() {
    if relkit_testkit::oracle("minisign").is_none() || relkit_testkit::oracle("git").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A minisign key made by minisign, imported the way `relkit key import-minisign` does.
    relkit_testkit::run_ok(
        Command::new("minisign")
            .current_dir(root)
            .args(["-G", "-W", "-p", "mini.pub", "-s", "mini.key"]),
    );
    let secret = minisign::SecretKey::parse(
        &std::fs::read_to_string(root.join("mini.key")).unwrap(),
        None,
    )
    .unwrap();
    assert_ne!(
        secret.key_id,
        minisign::derived_key_id(&secret.key.verifying_key()),
        "minisign's key id is random, not the one relkit derives"
    );
    let pem = PrivateKey::Ed25519(secret.key).to_pem(None).unwrap();
    std::fs::write(root.join("release.key"), pem.as_bytes()).unwrap();
    std::fs::copy(root.join("mini.pub"), root.join("release.minisign.pub")).unwrap();

    let repo = root.join("demo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("README"), "demo\n").unwrap();
    std::fs::write(repo.join("hello.c"), "int main(void) { return 0; }\n").unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "demo 1.0.0"]);
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "demo 1.0.0"]);
    let plan_path = root.join("relkit.toml");
    let plan_text = format!(
        r#"[project]
name = "demo"

[release]
tag = "v{{version}}"
dist = "dist"

[source]
formats = ["tar.gz"]

[scan]
enabled = false

[audit]
enabled = false

[sign]
key = "{}"
style = "minisign"
"#,
        root.join("release.key").display()
    );
    std::fs::write(&plan_path, plan_text).unwrap();
    let plan = Plan::load(&plan_path).unwrap();
    let mut release = Release::open(&repo, plan, "v1.0.0").unwrap();
    release
        .run(&RunOptions::default(), &Quiet, &AtomicBool::new(false))
        .unwrap();

    let dist = repo.join("dist");
    for name in ["demo-1.0.0.tar.gz", "SHA256SUMS"] {
        let file = dist.join(name);
        // minisign -V refuses a signature whose key id is not the public key's.
        let out = Command::new("minisign")
            .arg("-Vm")
            .arg(&file)
            .arg("-p")
            .arg(root.join("mini.pub"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "minisign -V {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
