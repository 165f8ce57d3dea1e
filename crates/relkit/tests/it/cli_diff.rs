//! `relkit diff` as a user runs it: the built binary on real archives made by GNU tar,
//! gzip and xz; exit codes 0 (identical), 1 (different), 2 (bad input) and both formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::oracle;

fn relkit(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(args)
        .output()
        .expect("run relkit")
}

fn diff(args: &[&str], a: &Path, b: &Path) -> Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["diff".as_ref()];
    all.extend(args.iter().map(|s| std::ffi::OsStr::new(*s)));
    all.push(a.as_os_str());
    all.push(b.as_os_str());
    relkit(&all)
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../relkit-archive/tests/fixtures/diff")
        .join(name)
}

/// `dir/pkg-2.0/` with a real JSON file and a small text file, then `a.tar.gz` of it
/// (`gzip -n`), and `b.tar.gz` of the same tree with one byte of the JSON changed.
fn archives(dir: &Path) {
    std::fs::create_dir_all(dir.join("pkg-2.0/data")).unwrap();
    std::fs::copy(
        relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json"),
        dir.join("pkg-2.0/data/externals.spdx.json"),
    )
    .unwrap();
    std::fs::write(dir.join("pkg-2.0/NEWS"), "2.0: first\n").unwrap();
    let tar = "tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --format=posix --pax-option=delete=atime,delete=ctime";
    sh(
        dir,
        &format!("{tar} -cf a.tar pkg-2.0 && gzip -n -9 -k a.tar"),
    );
    let mut json = std::fs::read(dir.join("pkg-2.0/data/externals.spdx.json")).unwrap();
    json[1000] = b'#';
    std::fs::write(dir.join("pkg-2.0/data/externals.spdx.json"), json).unwrap();
    sh(
        dir,
        &format!("{tar} -cf b.tar pkg-2.0 && gzip -n -9 -k b.tar && xz -k a.tar"),
    );
}

#[test]
fn exit_codes_and_text_report() {
    if !(oracle("tar").is_some() && oracle("gzip").is_some() && oracle("xz").is_some()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    archives(dir.path());
    let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));

    let same = diff(&[], &a, &a);
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).ends_with("identical\n"));

    let differ = diff(&[], &a, &b);
    assert_eq!(differ.status.code(), Some(1));
    let text = String::from_utf8(differ.stdout).unwrap();
    assert!(
        text.contains("members that differ (1):\n  pkg-2.0/data/externals.spdx.json\n"),
        "{text}"
    );
    assert!(text.contains("content: size 6381 | 6381"), "{text}");
    assert!(text.contains("first difference at byte 1000"), "{text}");

    // --quiet: nothing printed, exit code still says "different".
    let quiet = diff(&["--quiet"], &a, &b);
    assert_eq!(quiet.status.code(), Some(1));
    assert!(quiet.stdout.is_empty());

    // Same tar stream in gzip and xz: members identical, the container differs.
    let text = diff(&[], &a, &dir.path().join("a.tar.xz"));
    assert_eq!(text.status.code(), Some(1));
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(
        out.contains("container differences:\n  format: tar.gz | tar.xz\n"),
        "{out}"
    );
    assert!(!out.contains("members that differ"), "{out}");

    // Directory against its archive, with an explicit --strip-components.
    let tree = dir.path().join("pkg-2.0");
    sh(
        dir.path(),
        "find pkg-2.0 -exec touch -h -d @1700000000 {} +",
    );
    let vs_dir = diff(&["--strip-components", "1"], &tree, &b);
    assert_eq!(
        vs_dir.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&vs_dir.stdout)
    );
}

#[test]
fn json_report_is_stable_and_complete() {
    if !(oracle("tar").is_some() && oracle("gzip").is_some() && oracle("xz").is_some()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    archives(dir.path());
    let out = diff(
        &["--format", "json"],
        &dir.path().join("a.tar.gz"),
        &dir.path().join("b.tar.gz"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["identical"], false);
    assert_eq!(v["a"]["format"], "tar.gz");
    assert_eq!(v["a"]["container"]["gzip"]["mtime"], 0);
    assert_eq!(v["a"]["container"]["gzip"]["xfl"], 2);
    assert_eq!(v["container"], serde_json::json!([]));
    assert_eq!(v["only_in_a"], serde_json::json!([]));
    assert_eq!(v["order"], serde_json::Value::Null);
    let m = &v["members"][0];
    assert_eq!(m["path"], "pkg-2.0/data/externals.spdx.json");
    assert_eq!(m["path_hex"], serde_json::Value::Null);
    assert_eq!(m["content"]["size_a"], 6381);
    assert_eq!(m["content"]["first_difference"], 1000);
    let td = m["content"]["text_diff"].as_str().unwrap();
    assert!(
        td.starts_with("--- a/pkg-2.0/data/externals.spdx.json\n"),
        "{td}"
    );
    let sha = m["content"]["sha256_a"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    // --quiet does not suppress the requested JSON report.
    let quiet = diff(
        &["--quiet", "--format", "json"],
        &dir.path().join("a.tar.gz"),
        &dir.path().join("a.tar.xz"),
    );
    let v: serde_json::Value = serde_json::from_slice(&quiet.stdout).unwrap();
    assert_eq!(v["container"][0]["field"], "format");
    assert_eq!(v["container"][0]["a"], "tar.gz");
    assert_eq!(v["container"][0]["b"], "tar.xz");
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // A valid other side: an empty directory.
    let ok = dir.path().join("empty");
    std::fs::create_dir(&ok).unwrap();
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let evil = diff(&[], &fixture("evil-dotdot.tar.gz"), &ok);
    assert_eq!(evil.status.code(), Some(2));
    assert!(
        stderr(&evil).contains("evil-dotdot.tar.gz: member '../evil' has an unsafe path"),
        "{}",
        stderr(&evil)
    );
    let abs = diff(&[], &ok, &fixture("evil-absolute.tar.gz"));
    assert_eq!(abs.status.code(), Some(2));
    assert!(
        stderr(&abs).contains("member '/abs/passwd' has an unsafe path (absolute path)"),
        "{}",
        stderr(&abs)
    );

    let missing = diff(&[], &dir.path().join("nope.tar"), &ok);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope.tar"),
        "{}",
        stderr(&missing)
    );

    std::fs::write(dir.path().join("x.txt"), "hello\n").unwrap();
    let unknown = diff(&[], &dir.path().join("x.txt"), &ok);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("x.txt: not a supported archive"),
        "{}",
        stderr(&unknown)
    );

    if oracle("tar").is_some() && oracle("gzip").is_some() && oracle("xz").is_some() {
        archives(dir.path());
        for name in ["a.tar.gz", "a.tar.xz"] {
            let full = std::fs::read(dir.path().join(name)).unwrap();
            let cut = dir.path().join(format!("cut-{name}"));
            std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
            let out = diff(&[], &cut, &dir.path().join(name));
            assert_eq!(out.status.code(), Some(2), "{name}");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("cut-{name}: truncated or corrupt")),
                "{err}"
            );
            assert!(err.contains("at member 'pkg-2.0/"), "{err}");
        }
    }
}
