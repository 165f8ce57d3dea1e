//! Every trust path that once answered "OK" without having checked (issue: fail closed on every
//! trust path), as one table: for each, the honest case still passes, and the case relkit
//! cannot or must not vouch for now fails with a message that names what could not be checked
//! and what to do.
//!
//! | path | once | now |
//! |---|---|---|
//! | keyless Sigstore bundle, no expected signer | VERIFIED for any signer | exit 2: pass `--certificate-identity` + issuer (or `--any-signer`) |
//! | keyless bundle, another signer | — | exit 1: the identity the certificate names |
//! | trusted root whose log key has no validity start | accepted as unbounded | exit 2: the malformed root refused |
//! | release guard on a machine without `git` | dirty tree released | refused, each change named |
//! | `sbom generate` of a work tree without `git` | other bytes (no commit time) | the same bytes |
//! | release scan with no DB | the bundled demo DB, passed | step fails: no DB, run `relkit db update` |
//! | `configure` with its banner and one payload line | `ok generated` | exit 1, critical, the line shown |
//! | `sbom verify --against X.tar.zst` / `.tar.bz2` | tar parse error | the same verdicts as `.tar.gz` |
//!
//! Each row is also tested in depth in its own suite (attest_cli.rs, cli_release.rs,
//! cli_sbom_verify.rs, relkit-audit's tarball_xz.rs, the Sigstore conformance cases).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::copy_dir;

fn relkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `git` oracle in `dir` with a fixed identity and date: it builds the test repositories
/// (relkit itself never runs git).
fn git(dir: &Path, args: &[&str]) {
    relkit_testkit::run_ok(
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
            .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null"),
    );
}

fn fixtures(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One trust path: the honest case must exit 0; the unchecked one must exit `code` and say
/// every string of `says`.
struct Row {
    name: &'static str,
    honest: Box<dyn Fn() -> Output>,
    /// `None` where the fix makes the unchecked case impossible (the same bytes with and
    /// without git): the honest case is then the whole proof.
    unchecked: Option<Box<dyn Fn() -> Output>>,
    code: i32,
    says: &'static [&'static str],
}

const CPYTHON_DIGEST: &str =
    "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GHA: &str = "https://token.actions.githubusercontent.com";

fn sigstore_rows() -> Vec<Row> {
    let fix = fixtures("../relkit-attest/tests/fixtures/sigstore");
    let verify_cpython = move |identity: Option<&'static str>| {
        let fix = fix.clone();
        move || {
            let mut c = relkit();
            c.arg("verify")
                .arg(CPYTHON_DIGEST)
                .arg("--bundle")
                .arg(fix.join("Python-3.12.5.tgz.sigstore"))
                .arg("--trusted-root")
                .arg(fix.join("trusted_root.production.json"));
            if let Some(id) = identity {
                c.args(["--certificate-identity", id]);
                c.args(["--certificate-oidc-issuer", "https://accounts.google.com"]);
            }
            c.output().unwrap()
        }
    };
    let conformance = fixtures("../relkit-attest/tests/fixtures/sigstore-conformance");
    let case = move |name: &'static str| {
        let dir = conformance.join("bundle-verify").join(name);
        let artifact = conformance.join("a.txt");
        move || {
            relkit()
                .arg("verify")
                .arg(&artifact)
                .arg("--bundle")
                .arg(dir.join("bundle.sigstore.json"))
                .arg("--trusted-root")
                .arg(dir.join("trusted_root.json"))
                .args(["--certificate-identity", BEACON])
                .args(["--certificate-oidc-issuer", GHA])
                .output()
                .unwrap()
        }
    };
    vec![
        Row {
            name: "keyless bundle without an expected signer",
            honest: Box::new(verify_cpython(Some("thomas@python.org"))),
            unchecked: Some(Box::new(verify_cpython(None))),
            code: 2,
            says: &["--certificate-identity"],
        },
        Row {
            name: "keyless bundle signed by someone else",
            honest: Box::new(verify_cpython(Some("thomas@python.org"))),
            unchecked: Some(Box::new(verify_cpython(Some("hugo@python.org")))),
            code: 1,
            says: &["thomas@python.org"],
        },
        Row {
            name: "trusted root whose log key has no validity start",
            honest: Box::new(case("trust-root-tlog-validity-end-inclusive")),
            unchecked: Some(Box::new(case(
                "trust-root-tlog-missing-validity-start_fail",
            ))),
            code: 2,
            says: &["validFor has no start"],
        },
    ]
}

/// tinycalc (the release tests' C project) as a git repository with tag v1.0.0.
fn tinycalc(root: &Path) -> PathBuf {
    let repo = root.join("tinycalc");
    copy_dir(&fixtures("tests/fixtures/release/tinycalc"), &repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "tinycalc 1.0.0"]);
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "tinycalc 1.0.0"]);
    repo
}

fn release_rows(root: &Path) -> Vec<Row> {
    // The guard: a clean and a dirty clone, relkit run with a PATH that holds every program
    // of /usr/bin and /bin (the plan's make, cc, sh) but git.
    let no_git = root.join("path-without-git");
    std::fs::create_dir_all(&no_git).unwrap();
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name();
            let link = no_git.join(&name);
            if name.to_string_lossy().starts_with("git") || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), link);
        }
    }
    assert!(!no_git.join("git").exists());
    let clean = tinycalc(&root.join("clean"));
    let dirty = tinycalc(&root.join("dirty"));
    std::fs::write(dirty.join("README"), "edited\n").unwrap();
    let plan_file = root.join("plan.toml");
    std::fs::write(
        &plan_file,
        "[project]\nname = \"tinycalc\"\n[source]\nformats = [\"tar.gz\"]\n[[test]]\nname = \"check\"\ncommand = \"./configure && make && make check\"\n[audit]\nenabled = false\n",
    )
    .unwrap();
    let plan = |repo: PathBuf, no_git: PathBuf, plan_file: PathBuf| {
        move || {
            relkit()
                .args(["release", "plan", "--rev", "v1.0.0", "--config"])
                .arg(&plan_file)
                .current_dir(&repo)
                .env("PATH", &no_git)
                .output()
                .unwrap()
        }
    };
    // A plan whose output says "uncommitted" fails this row: plan exits 0 either way, so
    // the row looks at what it printed.
    let guard = |repo: PathBuf, no_git: PathBuf, plan_file: PathBuf| {
        let plan = plan(repo, no_git, plan_file);
        move || {
            let mut o = plan();
            if String::from_utf8_lossy(&o.stdout).contains("uncommitted") {
                o.status = failed_status();
            }
            o
        }
    };
    // The scan step: a release run up to the scan, with no DB anywhere (an empty cache) and
    // with the demo DB asked for by name.
    let scan = |repo: PathBuf, cache: PathBuf, plan_file: PathBuf| {
        move || {
            relkit()
                .args(["release", "run", "--rev", "v1.0.0", "--config"])
                .arg(&plan_file)
                .current_dir(&repo)
                .env("XDG_CACHE_HOME", &cache)
                .output()
                .unwrap()
        }
    };
    let scan_repo = tinycalc(&root.join("scan"));
    let sample_repo = tinycalc(&root.join("sample"));
    let no_db_plan = root.join("no-db.toml");
    std::fs::write(
        &no_db_plan,
        std::fs::read_to_string(&plan_file).unwrap() + "[scan]\nfail-on = \"none\"\n",
    )
    .unwrap();
    let sample_plan = root.join("sample-db.toml");
    std::fs::write(
        &sample_plan,
        std::fs::read_to_string(&plan_file).unwrap()
            + "[scan]\ndb = \"sample\"\nfail-on = \"none\"\n",
    )
    .unwrap();
    vec![
        Row {
            name: "release guard on a machine without git",
            honest: Box::new(guard(clean, no_git.clone(), plan_file.clone())),
            unchecked: Some(Box::new(guard(dirty, no_git, plan_file))),
            code: 1,
            says: &["uncommitted changes to tracked files (README: modified)"],
        },
        Row {
            name: "release scan with no vulnerability DB",
            honest: Box::new(scan(sample_repo, root.join("cache-sample"), sample_plan)),
            unchecked: Some(Box::new(scan(
                scan_repo,
                root.join("cache-empty"),
                no_db_plan,
            ))),
            code: 1,
            says: &[
                "step `scan` failed",
                "no vulnerability DB",
                "relkit db update",
            ],
        },
    ]
}

/// An exit status of 1, for rows whose command reports a refusal without failing (`plan`).
fn failed_status() -> std::process::ExitStatus {
    Command::new("sh").args(["-c", "exit 1"]).status().unwrap()
}

fn sbom_rows(root: &Path) -> Vec<Row> {
    // sbom generate of a work tree: the bytes with git on PATH and without it.
    let repo = tinycalc(&root.join("gen"));
    let no_git = root.join("empty-path-2");
    std::fs::create_dir_all(&no_git).unwrap();
    let generate = move |path_env: Option<PathBuf>| {
        let repo = repo.clone();
        move || {
            let mut c = relkit();
            c.env_remove("SOURCE_DATE_EPOCH")
                .args(["sbom", "generate", "--name", "tinycalc", "-q"])
                .arg(&repo);
            if let Some(p) = &path_env {
                c.env("PATH", p);
            }
            c.output().unwrap()
        }
    };
    let with_git = generate(None);
    let without = generate(Some(no_git));
    let same_bytes = move || {
        let (a, mut b) = (with_git(), without());
        if a.stdout != b.stdout || !b.status.success() {
            b.status = failed_status();
            b.stdout = b"the SBOM differs without git".to_vec();
        }
        b
    };
    // sbom verify against the CPython evidence tree packed as .tar.gz (honest) and .tar.zst.
    let evidence = fixtures("../relkit-truth/tests/fixtures/cpython-3.13.5-evidence");
    let top = root.join("pack/Python-3.13.5");
    copy_dir(&evidence, &top);
    let pack = |name: &str, flag: &str| {
        let out = root.join(name);
        relkit_testkit::run_ok(
            Command::new("tar")
                .arg(flag)
                .arg("-cf")
                .arg(&out)
                .arg("-C")
                .arg(root.join("pack"))
                .arg("Python-3.13.5"),
        );
        out
    };
    let tgz = pack("p.tar.gz", "-z");
    let zst = pack("p.tar.zst", "--zstd");
    let sbom = evidence.join("Misc/sbom.spdx.json");
    let verify = move |against: PathBuf| {
        let sbom = sbom.clone();
        let tgz = tgz.clone();
        move || {
            let run = |p: &Path| {
                relkit()
                    .args(["sbom", "verify", "--format", "json"])
                    .arg(&sbom)
                    .arg("--against")
                    .arg(p)
                    .output()
                    .unwrap()
            };
            // expat is contradicted (declared 2.6.3, the header says 2.7.1): exit 1 is the
            // honest answer; the row compares the verdicts with the .tar.gz ones.
            let (reference, mut o) = (run(&tgz), run(&against));
            let packages = |o: &Output| {
                serde_json::from_slice::<serde_json::Value>(&o.stdout).ok()?["packages"]
                    .as_array()
                    .cloned()
            };
            o.status = if packages(&o).is_some()
                && packages(&o) == packages(&reference)
                && o.status.code() == Some(1)
            {
                Command::new("true").status().unwrap()
            } else {
                failed_status()
            };
            o
        }
    };
    let gz_again = root.join("p.tar.gz");
    vec![
        Row {
            name: "sbom generate of a work tree without git",
            honest: Box::new(same_bytes),
            unchecked: None,
            code: 0,
            says: &[],
        },
        Row {
            name: "sbom verify against a .tar.zst",
            honest: Box::new(verify(zst)),
            unchecked: Some(Box::new(verify_unreadable(gz_again))),
            code: 2,
            says: &["corrupt"],
        },
    ]
}

/// `sbom verify` against a file that is no archive at all: an input error, never a verdict.
fn verify_unreadable(like: PathBuf) -> impl Fn() -> Output {
    move || {
        let bad = like.with_file_name("corrupt.tar.zst");
        std::fs::write(&bad, b"(\xb5/\xfd this is not a zstd frame").unwrap();
        relkit()
            .args(["sbom", "verify"])
            .arg(fixtures(
                "../relkit-truth/tests/fixtures/cpython-3.13.5-evidence/Misc/sbom.spdx.json",
            ))
            .arg("--against")
            .arg(&bad)
            .output()
            .unwrap()
    }
}

fn audit_rows(root: &Path) -> Vec<Row> {
    let Some(tarball) = relkit_testkit::upstream_data("xz-utils_5.8.1.orig.tar.xz") else {
        return Vec::new();
    };
    let repo = root.join("xz");
    relkit_testkit::run_ok(
        Command::new("git")
            .args(["clone", "-q", "--no-checkout"])
            .arg(fixtures("../relkit-audit/tests/fixtures/xz.bundle"))
            .arg(&repo),
    );
    // The official tarball with one payload line added to configure, banner intact.
    let x = root.join("x");
    std::fs::create_dir_all(&x).unwrap();
    relkit_testkit::run_ok(
        Command::new("tar")
            .arg("-xf")
            .arg(&tarball)
            .arg("-C")
            .arg(&x),
    );
    let configure = x.join("xz-5.8.1/configure");
    let text = std::fs::read_to_string(&configure).unwrap();
    let payload = "eval `xz -dc $srcdir/tests/files/bad-3-corrupt_lzma2.xz | tr \"\\t \\-_\" \" \\t_\\-\" | sh`";
    let at = text.find("as_fn_exit ()").expect("autoconf's as_fn_exit");
    std::fs::write(
        &configure,
        format!("{}{payload}\n{}", &text[..at], &text[at..]),
    )
    .unwrap();
    let poisoned = root.join("xz-5.8.1.tar.xz");
    relkit_testkit::run_ok(
        Command::new("tar")
            .arg("-cJf")
            .arg(&poisoned)
            .arg("-C")
            .arg(&x)
            .arg("xz-5.8.1"),
    );
    let audit = move |t: PathBuf| {
        let repo = repo.clone();
        move || {
            relkit()
                .args(["audit", "tarball"])
                .arg(&t)
                .arg("--repo")
                .arg(&repo)
                .args(["--rev", "v5.8.1", "--no-regenerate"])
                .output()
                .unwrap()
        }
    };
    vec![Row {
        name: "configure with its banner and one payload line",
        honest: Box::new(audit(tarball)),
        unchecked: Some(Box::new(audit(poisoned))),
        code: 1,
        says: &["CRITICAL", "configure", "bad-3-corrupt_lzma2.xz"],
    }]
}

#[test]
fn every_trust_path_fails_closed_and_the_honest_case_still_passes() {
    if relkit_testkit::oracle("git").is_none()
        || relkit_testkit::oracle("tar").is_none()
        || relkit_testkit::oracle("zstd").is_none()
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = sigstore_rows();
    rows.extend(release_rows(tmp.path()));
    rows.extend(sbom_rows(tmp.path()));
    rows.extend(audit_rows(tmp.path()));
    let mut wrong = Vec::new();
    for row in &rows {
        let honest = (row.honest)();
        let ok_honest = honest.status.success();
        let (code, said) = match &row.unchecked {
            Some(run) => {
                let o = run();
                (o.status.code(), text(&o))
            }
            None => (Some(row.code), String::new()),
        };
        let ok_unchecked = code == Some(row.code) && row.says.iter().all(|s| said.contains(s));
        eprintln!(
            "{:<52} honest: {:<4} unchecked: exit {:?} {}",
            row.name,
            if ok_honest { "pass" } else { "FAIL" },
            code,
            match (&row.unchecked, ok_unchecked) {
                (None, _) => "(no unchecked case is left)",
                (Some(_), true) => "(refused, as it must)",
                (Some(_), false) => "WRONG",
            }
        );
        if !ok_honest {
            wrong.push(format!(
                "{}: the honest case failed:\n{}",
                row.name,
                text(&honest)
            ));
        }
        if !ok_unchecked {
            wrong.push(format!(
                "{}: expected exit {} saying {:?}, got {:?}:\n{said}",
                row.name, row.code, row.says, code
            ));
        }
    }
    eprintln!("{} trust paths checked", rows.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    assert!(rows.len() >= 8 || !relkit_testkit::oracles_required());
}
