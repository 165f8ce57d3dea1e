//! `relkit audit` as a user runs it: the official xz 5.8.1 tarball against tag v5.8.1 of the
//! real xz repository (exit 0, JSON counts, SARIF), the build-to-host.m4 attack (exit 1, the
//! inserted lines shown), bad input (exit 2 with a message saying what is wrong), and
//! `--regenerate` reporting tool versions and explanations.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn relkit(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(args)
        .output()
        .expect("run relkit")
}

fn os(args: &[&str]) -> Vec<&'static std::ffi::OsStr> {
    args.iter()
        .map(|s| std::ffi::OsStr::new(Box::leak(s.to_string().into_boxed_str())))
        .collect()
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The official tarball downloaded by .ci/deps.d/70-audit.sh (a failure in CI when missing).
fn xz_tarball() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/relkit-data/xz-utils_5.8.1.orig.tar.xz");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var_os("RELKIT_REQUIRE_ORACLES").is_none_or(|v| v.is_empty()),
        "{} is missing (CI downloads it in .ci/deps.d/70-audit.sh)",
        path.display()
    );
    eprintln!("skipping: {} not downloaded", path.display());
    None
}

fn xz_repo(dir: &Path) -> PathBuf {
    let bundle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-audit/tests/fixtures/xz.bundle");
    let dest = dir.join("xz");
    run(Command::new("git")
        .args(["clone", "-q", "--no-checkout"])
        .arg(&bundle)
        .arg(&dest));
    dest
}

fn audit(tarball: &Path, repo: &Path, extra: &[&str]) -> Output {
    let mut args = os(&["audit", "tarball"]);
    args.push(tarball.as_os_str());
    args.extend(os(&["--repo"]));
    args.push(repo.as_os_str());
    args.extend(os(&["--rev", "v5.8.1"]));
    args.extend(os(extra));
    relkit(&args)
}

#[test]
fn official_tarball_json_and_sarif() {
    let Some(tarball) = xz_tarball() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = xz_repo(tmp.path());
    let out = audit(&tarball, &repo, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["counts"],
        serde_json::json!({"same": 498, "updated": 1, "generated": 1, "generated_unverified": 98, "vendored": 32, "vendored_unknown": 2, "only_in_reference": 1})
    );
    // The 98 generated files that no regeneration reproduced here are for review.
    assert_eq!(
        report["severities"],
        serde_json::json!({"ok": 532, "info": 1, "warning": 100})
    );
    // Every text member read; each line that pipes into a shell or decodes is explained.
    assert_eq!(
        report["alarm_lines"],
        serde_json::json!({"files": 23, "lines": 174, "unexplained": 0})
    );
    let b2h = report["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == "m4/build-to-host.m4")
        .unwrap();
    assert_eq!(b2h["class"], "vendored");
    assert_eq!(b2h["known"]["version"], serde_json::json!({"serial": 5}));

    let out = audit(&tarball, &repo, &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let mut rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    rules.sort();
    rules.dedup();
    assert_eq!(
        rules,
        [
            "generated_unverified",
            "only_in_reference",
            "vendored_unknown"
        ]
    );
    assert_eq!(results.len(), 101);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            sarif["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            r["ruleId"]
        );
    }
    // Oracle: Microsoft's SARIF Multitool validates the log (schema and rules).
    let file = tmp.path().join("audit.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    match Command::new("sarif-multitool")
        .arg("validate")
        .arg(&file)
        .output()
    {
        Ok(o) => {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                o.status.success(),
                "SARIF Multitool rejects the SARIF: {all}"
            );
            assert!(!all.contains("error") && !all.contains("warning"), "{all}");
        }
        Err(e) => {
            assert!(
                std::env::var_os("RELKIT_REQUIRE_ORACLES").is_none_or(|v| v.is_empty()),
                "oracle sarif-multitool is missing ({e}); see .ci/deps.d/70-audit.sh"
            );
            eprintln!("skipping SARIF validation: sarif-multitool is not installed");
        }
    }
}

#[test]
fn attack_is_critical_and_shows_the_inserted_lines() {
    let Some(tarball) = xz_tarball() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = xz_repo(tmp.path());
    let x = tmp.path().join("x");
    std::fs::create_dir_all(&x).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&tarball)
        .arg("-C")
        .arg(&x));
    let m4 = x.join("xz-5.8.1/m4/build-to-host.m4");
    let text = std::fs::read_to_string(&m4).unwrap();
    let evil_line =
        "  gl_am_configmake=`grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/ 2>/dev/null`";
    let text = text.replacen(
        "AC_DEFUN([gl_BUILD_TO_HOST_INIT],\n[\n",
        &format!("AC_DEFUN([gl_BUILD_TO_HOST_INIT],\n[\n{evil_line}\n"),
        1,
    );
    assert!(text.contains(evil_line));
    std::fs::write(&m4, text).unwrap();
    let evil = tmp.path().join("xz-5.8.1.tar.xz");
    run(Command::new("tar")
        .arg("-cJf")
        .arg(&evil)
        .arg("-C")
        .arg(&x)
        .arg("xz-5.8.1"));

    let out = audit(&evil, &repo, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("CRITICAL vendored_modified  m4/build-to-host.m4: announces serial 5 like"),
        "{text}"
    );
    assert!(
        text.contains(&format!("           + {evil_line}\n")),
        "{text}"
    );
    assert!(
        text.contains("severity: ok 531, info 1, warning 100, critical 1"),
        "{text}"
    );
    // The line that greps binary files is shown with its place, as no known copy has it.
    let at = text
        .lines()
        .find(|l| l.trim_start().starts_with("m4/build-to-host.m4:"))
        .unwrap_or_else(|| panic!("no alarm line shown: {text}"));
    assert!(at.ends_with(&format!(": {evil_line}")), "{at}");
    assert!(
        text.contains(
            "lines that run data through a shell or decode it: 175 in 24 files, 1 unexplained"
        ),
        "{text}"
    );
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    std::fs::write(tag.join("README"), "hi\n").unwrap();
    // A corrupt corpus file.
    let bad = tmp.path().join("bad.rkc");
    std::fs::write(&bad, b"not a corpus").unwrap();
    let mut args = os(&["audit", "tarball"]);
    args.push(tag.as_os_str());
    args.extend(os(&["--tree"]));
    args.push(tag.as_os_str());
    args.extend(os(&["--corpus"]));
    args.push(bad.as_os_str());
    let out = relkit(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: corrupt reference corpus at line 1",
            bad.display()
        )),
        "{err}"
    );
    assert!(err.contains("relkit audit corpus import"), "{err}");
    // A missing tag.
    let repo = tmp.path().join("repo");
    run(Command::new("git").args(["init", "-q"]).arg(&repo));
    let mut args = os(&["audit", "tarball"]);
    args.push(tag.as_os_str());
    args.extend(os(&["--repo"]));
    args.push(repo.as_os_str());
    args.extend(os(&["--rev", "v1.0"]));
    let out = relkit(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("revision \"v1.0\" not found"), "{err}");
    // Neither --repo nor --tree.
    let out = relkit(&os(&["audit", "tarball", "x.tar"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn corpus_import_from_a_macro_directory_extends_the_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let macros = tmp.path().join("aclocal");
    std::fs::create_dir_all(&macros).unwrap();
    std::fs::write(
        macros.join("local-thing.m4"),
        "# serial 2\nAC_DEFUN([LOCAL_THING])\n",
    )
    .unwrap();
    let corpus = tmp.path().join("extra.rkc");
    let mut args = os(&[
        "audit",
        "corpus",
        "import",
        "--no-shipped-corpus",
        "--format",
        "json",
        "--out",
    ]);
    args.push(corpus.as_os_str());
    args.extend(os(&["--dir", &format!("{}=site macros", macros.display())]));
    let out = relkit(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        stats,
        serde_json::json!({"files": 1, "copies": 1, "blobs": 1, "by_source": {"site": 1}})
    );

    // A release with that macro: unknown to the shipped corpus, explained with the extra one.
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    std::fs::write(tag.join("configure.ac"), "AC_INIT\n").unwrap();
    let rel = tmp.path().join("rel/p-1");
    std::fs::create_dir_all(rel.join("m4")).unwrap();
    std::fs::write(rel.join("configure.ac"), "AC_INIT\n").unwrap();
    std::fs::copy(macros.join("local-thing.m4"), rel.join("m4/local-thing.m4")).unwrap();
    let base = |extra: &[&std::ffi::OsStr]| {
        let mut args = os(&["audit", "tarball", "--format", "json"]);
        args.push(tmp.path().join("rel").into_os_string().leak());
        args.extend(os(&["--tree"]));
        args.push(tag.as_os_str());
        args.extend(extra);
        let out = relkit(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["path"] == "m4/local-thing.m4")
            .unwrap()["class"]
            .clone()
    };
    assert_eq!(base(&[]), "vendored_unknown");
    assert_eq!(
        base(&[std::ffi::OsStr::new("--corpus"), corpus.as_os_str()]),
        "vendored"
    );
}

#[test]
fn history_of_the_backdoor_period() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = xz_repo(tmp.path());
    let mut args = os(&[
        "audit", "history", "--from", "v5.4.0", "--to", "v5.6.1", "--repo",
    ]);
    args.push(repo.as_os_str());
    let out = relkit(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("v5.4.0..v5.6.1 of"), "{text}");
    assert!(text.contains("  tests/files/good-large_compressed.lzma [added] 35421 bytes, entropy 7.99, lzma, referenced by tests/files/README\n"), "{text}");
    assert!(text.contains("   58.1%  422 Jia Tan\n"), "{text}");
    assert!(
        text.contains("  tagger changed at v5.2.11: Lasse Collin -> Jia Tan\n"),
        "{text}"
    );
    args.extend(os(&["--format", "json"]));
    let out = relkit(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["commits"], 726);
    assert_eq!(json["people"]["release_tags"][0]["tag"], "v5.4.0");
    // A missing tag is an input error.
    let mut args = os(&[
        "audit", "history", "--from", "v5.4.0", "--to", "nope", "--repo",
    ]);
    args.push(repo.as_os_str());
    let out = relkit(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revision \"nope\" not found"));
}

#[test]
fn one_gigabyte_tarball_is_streamed_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    std::fs::write(tag.join("README"), "hi\n").unwrap();
    // p-1/README (same as the tag) and a 1 GiB member only in the tarball: GNU tar stores
    // the (sparse on disk) file's 1 GiB of zeros in full.
    let src = tmp.path().join("src/p-1");
    std::fs::create_dir_all(src.join("data")).unwrap();
    std::fs::write(src.join("README"), "hi\n").unwrap();
    let f = std::fs::File::create(src.join("data/blob.bin")).unwrap();
    f.set_len(1 << 30).unwrap();
    let big = tmp.path().join("big.tar");
    run(Command::new("tar")
        .arg("-cf")
        .arg(&big)
        .arg("-C")
        .arg(tmp.path().join("src"))
        .arg("p-1"));
    assert!(std::fs::metadata(&big).unwrap().len() > 1 << 30);
    // 512 MiB of address space: holding the member would not fit.
    let out = Command::new("prlimit")
        .arg("--as=536870912")
        .arg(env!("CARGO_BIN_EXE_relkit"))
        .args(["audit", "tarball", "--format", "json", "--tree"])
        .arg(&tag)
        .arg(&big)
        .output()
        .expect("run prlimit (util-linux)");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["counts"],
        serde_json::json!({"same": 1, "unexplained": 1})
    );
    let blob = &r["members"][1];
    assert_eq!(blob["path"], "data/blob.bin");
    assert_eq!(blob["size"], 1u64 << 30);
}

#[test]
fn regenerate_reports_tool_versions_and_explanations_in_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |p: &Path, c: &str| {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    };
    let tag = tmp.path().join("tag");
    // The "regeneration": a configure made by autoconf 2.71 here.
    let script = "printf '#! /bin/sh\\n# Generated by GNU Autoconf 2.71 for p 1.\\nas_fn_exit () { exit $1; }\\n' > configure\n";
    write(&tag.join("configure.ac"), "AC_INIT([p], [1])\n");
    write(&tag.join("gen.sh"), script);
    let rel = tmp.path().join("rel/p-1");
    write(&rel.join("configure.ac"), "AC_INIT([p], [1])\n");
    write(&rel.join("gen.sh"), script);
    // The release manager's configure: autoconf 2.72, which changed more than the banner.
    write(
        &rel.join("configure"),
        "#! /bin/sh\n# Generated by GNU Autoconf 2.72 for p 1.\nas_fn_exit () { exit $1; }\nas_fn_nop () { :; }\n",
    );
    let mut args = os(&["audit", "tarball"]);
    args.push(tmp.path().join("rel").into_os_string().leak());
    args.extend(os(&["--tree"]));
    args.push(tag.into_os_string().leak());
    args.extend(os(&["--regenerate", "sh gen.sh"]));
    let out = relkit(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("regenerated: other_tool_version: the tarball was made with autoconf 2.72, the regeneration here ran autoconf 2.71: +2 -1 lines expected, not compared (regenerate with autoconf 2.72 to compare)"),
        "{text}"
    );
    assert!(text.contains("regenerated with `sh gen.sh`: other_tool_version 1\n  tarball made with: autoconf 2.72\n  regenerated with:  autoconf 2.71\n"), "{text}");

    args.extend(os(&["--format", "json"]));
    let out = relkit(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["regeneration"]["tarball_tools"]["autoconf"], "2.72");
    assert_eq!(v["regeneration"]["regenerated_tools"]["autoconf"], "2.71");
    assert_eq!(v["regeneration"]["counts"]["other_tool_version"], 1);
    let configure = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == "configure")
        .unwrap();
    assert_eq!(configure["regenerated"]["status"], "other_tool_version");
    // Another autoconf here: its content is not reproduced, so it is for review.
    assert_eq!(configure["class"], "generated_unverified");
    assert_eq!(configure["severity"], "warning");
}
