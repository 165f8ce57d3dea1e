//! `relkit sbom` end to end on the inputs and checks added for issue 4's remaining parts:
//! the CPE identity check inside `sbom check` (CPython's real externals SBOM with the wrong xz
//! CPE, against a dictionary built from the real NVD record of CVE-2024-3094), the creation
//! time taken from the git commit, a plain tarball of real Windows binaries, and generation
//! over a 2 GiB file in bounded memory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn relkit() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relkit"));
    c.env("XDG_CACHE_HOME", "/nonexistent/relkit-test-cache");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// CPython 3.13.5's `Misc/externals.spdx.json` with xz's CPE set to `cpe`.
fn externals_with_xz_cpe(dir: &Path, cpe: &str) -> PathBuf {
    let mut doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let xz = doc["packages"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "xz")
        .unwrap();
    xz["externalRefs"][0]["referenceLocator"] = cpe.into();
    let path = dir.join(format!(
        "externals-{}.spdx.json",
        cpe.split(':').nth(3).unwrap()
    ));
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

#[test]
fn sbom_check_reports_a_wrong_xz_cpe_when_a_dictionary_is_available() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dict = cache.join("relkit/cpe.sqlite");
    let o = relkit()
        .env("XDG_CACHE_HOME", &cache)
        .args(["cpe", "import"])
        .arg(relkit_testkit::fixture("nvd"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(dict.is_file());

    let wrong = externals_with_xz_cpe(tmp.path(), "cpe:2.3:a:xz_project:xz:5.2.5:*:*:*:*:*:*:*");
    let right = externals_with_xz_cpe(tmp.path(), "cpe:2.3:a:tukaani:xz:5.2.5:*:*:*:*:*:*:*");
    // Identity problems on xz (packages[7]); the partial document has NTIA warnings too.
    let xz_problems = |report: &serde_json::Value| -> Vec<serde_json::Value> {
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["path"].as_str().unwrap().starts_with("$.packages[7]")
                    && p["rule"].as_str().unwrap().starts_with("cpe-")
            })
            .cloned()
            .collect()
    };

    // The default dictionary (the one `relkit cpe import` wrote) is found and used.
    let o = relkit()
        .env("XDG_CACHE_HOME", &cache)
        .args(["sbom", "check", "--format", "json"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report = &json(&o)[0];
    assert_eq!(report["dictionary"], dict.display().to_string());
    let xz = xz_problems(report);
    assert_eq!(xz.len(), 1, "{xz:#?}");
    assert_eq!(xz[0]["rule"], "cpe-unknown");
    assert_eq!(xz[0]["severity"], "error");
    assert_eq!(
        xz[0]["path"],
        "$.packages[7].externalRefs[0].referenceLocator"
    );
    assert!(
        xz[0]["hint"]
            .as_str()
            .unwrap()
            .contains("cpe:2.3:a:tukaani:xz:5.2.5:*:*:*:*:*:*:*"),
        "{xz:#?}"
    );

    // The right CPE: nothing on xz (its CVE history is in the dictionary).
    let o = relkit()
        .args(["sbom", "check", "--format", "json", "--dict"])
        .arg(&dict)
        .arg(&right)
        .output()
        .unwrap();
    let report = &json(&o)[0];
    assert!(xz_problems(report).is_empty(), "{report:#?}");

    // Text output names the package, the rule and the suggestion.
    let o = relkit()
        .args(["sbom", "check", "--dict"])
        .arg(&dict)
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    let line = t
        .lines()
        .find(|l| l.contains("error[cpe-unknown]"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(line.contains("xz 5.2.5"), "{line}");

    // Without a dictionary the identity checks do not run and say so; --no-dict skips them.
    let o = relkit()
        .args(["sbom", "check", "--format", "json"])
        .arg(&wrong)
        .output()
        .unwrap();
    let report = &json(&o)[0];
    assert!(report["dictionary"].is_null());
    assert!(xz_problems(report).is_empty(), "{report:#?}");
    assert!(
        text(&o).contains("CPE identity checks skipped"),
        "{}",
        text(&o)
    );
    let o = relkit()
        .env("XDG_CACHE_HOME", &cache)
        .args(["sbom", "check", "--no-dict", "--format", "json"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert!(json(&o)[0]["dictionary"].is_null());

    // An explicit dictionary that does not exist is a usage error.
    let o = relkit()
        .args(["sbom", "check", "--dict"])
        .arg(tmp.path().join("none.sqlite"))
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("none.sqlite"), "{}", text(&o));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_AUTHOR_DATE", "@1690000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000")
        .output()
        .expect("git is installed (apt-get install git)");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

#[test]
fn created_is_the_commit_time_of_a_work_tree_unless_source_date_epoch_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("src/main.c"), "int main(void) { return 0; }\n").unwrap();
    std::fs::write(repo.join("README"), "proj\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let no_git = tmp.path().join("empty-path");
    std::fs::create_dir(&no_git).unwrap();
    let gen_doc_env = |sde: Option<&str>, path_env: Option<&Path>| {
        let mut c = relkit();
        c.env_remove("SOURCE_DATE_EPOCH");
        if let Some(p) = path_env {
            c.env("PATH", p);
        }
        if let Some(s) = sde {
            c.env("SOURCE_DATE_EPOCH", s);
        }
        let o = c
            .args(["sbom", "generate", "--name", "proj", "-q"])
            .arg(&repo)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        o.stdout
    };
    let gen_doc = |sde: Option<&str>| gen_doc_env(sde, None);
    // An output to a device is written in place: /dev/null stays a device (an atomic rename
    // over it once replaced the machine's /dev/null with a file).
    let o = relkit()
        .args(["sbom", "generate", "-q", "-o", "spdx-json=/dev/null"])
        .arg(&repo)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    let a = gen_doc(None);
    // No `git` binary on PATH: the commit time comes from gitoxide, the bytes are the same.
    assert_eq!(
        a,
        gen_doc_env(None, Some(&no_git)),
        "same bytes without git"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = gen_doc(None);
    assert_eq!(a, b, "same commit, same bytes");
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let v: serde_json::Value = serde_json::from_slice(&gen_doc(Some("1749600000"))).unwrap();
    assert_eq!(v["creationInfo"]["created"], "2025-06-11T00:00:00Z");
}

#[test]
fn a_tarball_of_windows_binaries_is_scanned_as_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let tgz = tmp.path().join("python-3.13.2-embed-amd64.tgz");
    let st = Command::new("tar")
        .arg("czf")
        .arg(&tgz)
        .arg("-C")
        .arg(relkit_testkit::fixture("windows-embed-3.13"))
        .arg(".")
        .status()
        .expect("tar runs");
    assert!(st.success());
    let o = relkit()
        .env("SOURCE_DATE_EPOCH", "1749600000")
        .args(["sbom", "generate", "-o", "cyclonedx-json", "-q"])
        .arg(&tgz)
        .arg("--declared")
        .arg(relkit_testkit::fixture(
            "cpython-3.13.5/externals.spdx.json",
        ))
        .output()
        .unwrap();
    // 3.13.2's DLLs contradict 3.13.5's declared OpenSSL and SQLite versions: exit 1.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let bom = json(&o);
    assert_eq!(
        bom["metadata"]["component"]["name"],
        "python-3.13.2-embed-amd64"
    );
    let found: Vec<(String, String)> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] != "file")
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in [
        ("openssl", "3.0.15"),
        ("sqlite", "3.45.3"),
        ("expat", "2.6.4"),
        ("mpdecimal", "4.0.0"),
        ("bzip2", "1.0.8"),
        ("libffi", "3.4.4"),
    ] {
        assert!(
            found.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} not in {found:?}"
        );
    }
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("CONTRADICTED") && l.contains("openssl")),
        "{stderr}"
    );
}

/// Peak resident set (VmHWM, KiB) of a running child, polled from /proc until it exits; the
/// high-water mark only grows, so the last reading is the peak up to a few milliseconds.
fn run_measuring_peak_rss(cmd: &mut Command) -> (Output, u64) {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(s) = std::fs::read_to_string(&status_path)
                    && let Some(kb) = s
                        .lines()
                        .find_map(|l| l.strip_prefix("VmHWM:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    poller.join().unwrap();
    (out, peak.load(std::sync::atomic::Ordering::Relaxed))
}

#[test]
fn a_2_gib_file_is_hashed_streaming_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    // Sparse: 2 GiB of zeros that take no disk space, read like any file.
    std::fs::File::create(tree.join("huge.bin"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    std::fs::write(tree.join("small.txt"), "small\n").unwrap();
    // The same tree as a GNU tar with a sparse member (`tar -S`: a few KiB on disk), which the
    // archive reader expands and hashes as it decompresses.
    let tar_path = tmp.path().join("tree.tar");
    let st = Command::new("tar")
        .arg("-cSf")
        .arg(&tar_path)
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .status()
        .expect("tar runs");
    assert!(st.success());
    assert!(std::fs::metadata(&tar_path).unwrap().len() < 1 << 20);
    for input in [&tree, &tar_path] {
        let out_path = tmp.path().join("big.spdx.json");
        let (o, peak_kib) = run_measuring_peak_rss(
            relkit()
                .env("SOURCE_DATE_EPOCH", "1749600000")
                .args(["sbom", "generate", "-q", "-o"])
                .arg(format!("spdx-json={}", out_path.display()))
                .arg(input),
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(peak_kib > 0, "VmHWM was never read");
        // Reading the file into memory would need 2 GiB; streaming needs a buffer per thread.
        assert!(
            peak_kib < 160 * 1024,
            "{}: peak RSS {peak_kib} KiB while hashing a 2 GiB file",
            input.display()
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
        let huge = doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fileName"] == "huge.bin")
            .unwrap_or_else(|| panic!("{}: no huge.bin in {doc}", input.display()));
        // sha1sum / sha256sum of 2 GiB of zeros.
        let sums: Vec<(&str, &str)> = huge["checksums"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["algorithm"].as_str().unwrap(),
                    c["checksumValue"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(sums.contains(&("SHA1", "91d50642dd930e9542c39d36f0516d45f4e1af0d")));
        assert!(sums.contains(&(
            "SHA256",
            "a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51"
        )));
    }
}

#[test]
fn relkit_toml_gives_the_top_package_identity_and_flags_win() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("hello");
    std::fs::create_dir(&tree).unwrap();
    std::fs::write(tree.join("hello.c"), "int main(void) { return 0; }\n").unwrap();
    std::fs::write(
        tree.join("relkit.toml"),
        "[project]\nname = \"hello\"\nversion = \"1.2.3\"\n\n[sbom]\n\
         supplier = \"Organization: Hello Org\"\nlicense = \"MIT\"\n\
         download-location = \"https://example.org/hello-1.2.3.tar.gz\"\n\
         cpe = [\"cpe:2.3:a:hello:hello:{version}:*:*:*:*:*:*:*\"]\n\
         purl = [\"pkg:generic/hello@{version}\"]\n",
    )
    .unwrap();
    let top = |extra: &[&str]| {
        let o = relkit()
            .env("SOURCE_DATE_EPOCH", "1749600000")
            .args(["sbom", "generate", "-q"])
            .args(extra)
            .arg(&tree)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let doc = json(&o);
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "hello")
            .unwrap()
            .clone()
    };
    let p = top(&[]);
    assert_eq!(p["versionInfo"], "1.2.3");
    assert_eq!(p["supplier"], "Organization: Hello Org");
    assert_eq!(p["licenseDeclared"], "MIT");
    assert_eq!(
        p["downloadLocation"],
        "https://example.org/hello-1.2.3.tar.gz"
    );
    let refs: Vec<&str> = p["externalRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referenceLocator"].as_str().unwrap())
        .collect();
    assert!(
        refs.contains(&"cpe:2.3:a:hello:hello:1.2.3:*:*:*:*:*:*:*"),
        "{refs:?}"
    );
    assert!(refs.contains(&"pkg:generic/hello@1.2.3"), "{refs:?}");
    let p = top(&[
        "--cpe",
        "cpe:2.3:a:other:hello:1.2.3:*:*:*:*:*:*:*",
        "--supplier",
        "X",
    ]);
    assert_eq!(p["supplier"], "Organization: X");
    let refs = p["externalRefs"].to_string();
    assert!(
        refs.contains("cpe:2.3:a:other:hello") && !refs.contains("cpe:2.3:a:hello:hello"),
        "{refs}"
    );
}
