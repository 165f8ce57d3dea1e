//! `relkit build source` and `relkit rebuild` end to end: reproducibility under variation,
//! GNU tar as the oracle for the tar bytes, the gzip/xz/unzip/sha256sum checks, and bad
//! input. The real repository is zlib's full history (tests/fixtures/git/zlib.bundle).

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output};

use relkit_testkit::{oracle, run_ok};

const RELKIT: &str = env!("CARGO_BIN_EXE_relkit");
const ZLIB_TAG: &str = "v1.3.1";
/// Committer time of zlib's v1.3.1 commit.
const ZLIB_TAG_TIME: i64 = 1_705_948_357;

fn relkit(args: &[&str]) -> Command {
    let mut cmd = Command::new(RELKIT);
    cmd.args(args);
    cmd
}

fn clone_zlib(dest: &Path, extra: &[&str]) -> Option<()> {
    let git = oracle("git")?;
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/git/zlib.bundle");
    run_ok(
        Command::new(git)
            .arg("clone")
            .arg("-q")
            .args(extra)
            .arg(&bundle)
            .arg(dest),
    );
    Some(())
}

fn build(
    repo: &Path,
    out: &Path,
    env: &[(&str, &str)],
    umask: Option<&str>,
    extra: &[&str],
) -> Output {
    let mut cmd = match umask {
        Some(mask) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("umask {mask} && exec \"$0\" \"$@\""))
                .arg(RELKIT);
            c
        }
        None => Command::new(RELKIT),
    };
    cmd.args([
        "build", "source", "--rev", ZLIB_TAG, "--name", "zlib", "--repo",
    ])
    .arg(repo)
    .arg("-o")
    .arg(out)
    .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const OUTPUTS: [&str; 5] = [
    "zlib-1.3.1.tar.gz",
    "zlib-1.3.1.tar.xz",
    "zlib-1.3.1.zip",
    "SHA256SUMS",
    "relkit-manifest.json",
];

#[test]
fn same_commit_gives_same_bytes_whatever_the_environment() {
    let work = tempfile::tempdir().unwrap();
    let a_repo = work.path().join("a/zlib");
    let b_repo = work.path().join("somewhere/else/entirely/zlib-checkout");
    if clone_zlib(&a_repo, &[]).is_none() || clone_zlib(&b_repo, &["--no-local"]).is_none() {
        return;
    }
    // Repack the second clone so its objects live in a different pack layout.
    run_ok(
        Command::new("git")
            .args(["-C"])
            .arg(&b_repo)
            .args(["gc", "-q", "--aggressive"]),
    );

    let a_out = work.path().join("out-a");
    let b_out = work.path().join("out-b");
    let c_out = work.path().join("out-c");
    let a = build(
        &a_repo,
        &a_out,
        &[("TZ", "UTC"), ("LC_ALL", "C")],
        Some("022"),
        &[],
    );
    let b = build(
        &b_repo,
        &b_out,
        &[
            ("TZ", "Asia/Kathmandu"),
            ("LC_ALL", "de_DE.UTF-8"),
            ("LANG", "ja_JP.UTF-8"),
            ("RAYON_NUM_THREADS", "1"),
        ],
        Some("077"),
        &[],
    );
    let c = build(
        &a_repo,
        &c_out,
        &[("TZ", "America/St_Johns"), ("RAYON_NUM_THREADS", "7")],
        Some("000"),
        &[],
    );
    for out in [&a, &b, &c] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for name in OUTPUTS {
        let first = read(&a_out.join(name));
        assert!(
            first == read(&b_out.join(name)),
            "{name} differs between checkouts/environments"
        );
        assert!(
            first == read(&c_out.join(name)),
            "{name} differs with another thread count"
        );
    }
}

#[test]
fn file_creation_order_does_not_matter_for_directory_input() {
    let work = tempfile::tempdir().unwrap();
    let names = ["b.txt", "a/z.txt", "a/b.txt", "A.txt", "a-b/c.txt", "a.b"];
    let make = |root: &Path, order: &[&str]| {
        for name in order {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, name.as_bytes()).unwrap();
        }
    };
    let one = work.path().join("one/pkg");
    let two = work.path().join("two/pkg");
    make(&one, &names);
    let mut reversed = names;
    reversed.reverse();
    make(&two, &reversed);
    for (dir, out) in [(&one, "out1"), (&two, "out2")] {
        let o = relkit(&[
            "build",
            "source",
            "--mtime",
            "1700000000",
            "--no-clamp",
            "--from-dir",
        ])
        .arg(dir)
        .arg("-o")
        .arg(work.path().join(out))
        .output()
        .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for ext in ["tar.gz", "tar.xz", "zip"] {
        let name = format!("pkg.{ext}");
        assert!(
            read(&work.path().join("out1").join(&name))
                == read(&work.path().join("out2").join(&name))
        );
    }
}

/// Zeroes the devmajor/devminor fields GNU tar 1.34 fills with `0000000` for members that
/// are not devices (newer tars and the official CPython tarballs leave them NUL) and
/// fixes the checksum, so the rest of the bytes can be compared exactly.
fn normalize_gnu_tar_1_34(mut tar: Vec<u8>) -> Vec<u8> {
    let mut off = 0;
    while off + 512 <= tar.len() {
        let h = &tar[off..off + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let size_text = String::from_utf8_lossy(&h[124..136])
            .trim_matches(|c| c == '\0' || c == ' ')
            .to_string();
        let size = u64::from_str_radix(&size_text, 8).unwrap_or(0) as usize;
        let typeflag = h[156];
        if matches!(typeflag, b'0' | b'1' | b'2' | b'5')
            && &h[329..345] == b"0000000\x000000000\x00"
        {
            tar[off + 329..off + 345].fill(0);
            tar[off + 148..off + 156].copy_from_slice(b"        ");
            let sum: u32 = tar[off..off + 512].iter().map(|&b| u32::from(b)).sum();
            tar[off + 148..off + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        }
        let data = if matches!(typeflag, b'0' | b'x') {
            size.div_ceil(512) * 512
        } else {
            0
        };
        off += 512 + data;
    }
    tar
}

fn gnu_tar_release_py(tar: &Path, parent: &Path, top: &str, mtime: i64, out: &Path) {
    run_ok(
        Command::new(tar)
            .args([
                "--format=posix",
                "--sort=name",
                &format!("--mtime=@{mtime}"),
                "--clamp-mtime",
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
                "--mode=go+u,go-w",
                "-cf",
            ])
            .arg(out)
            .arg("-C")
            .arg(parent)
            .arg(top),
    );
}

fn listing(tar: &Path, archive: &Path) -> String {
    String::from_utf8(run_ok(
        Command::new(tar)
            .args(["-tvv", "--full-time", "--numeric-owner", "-f"])
            .arg(archive)
            .env("TZ", "UTC"),
    ))
    .unwrap()
}

#[test]
fn tar_equals_gnu_tar_with_release_py_flags_on_a_real_repository() {
    let (Some(tar), Some(git), Some(gzip), Some(xz), Some(unzip), Some(sha256sum)) = (
        oracle("tar"),
        oracle("git"),
        oracle("gzip"),
        oracle("xz"),
        oracle("unzip"),
        oracle("sha256sum"),
    ) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("zlib");
    clone_zlib(&repo, &[]).unwrap();

    // The oracle: `git archive` export, then GNU tar with CPython's release.py flags.
    let export = work.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let archive = run_ok(Command::new(&git).arg("-C").arg(&repo).args([
        "archive",
        "--prefix=zlib-1.3.1/",
        ZLIB_TAG,
    ]));
    let exported_tar = work.path().join("git-archive.tar");
    std::fs::write(&exported_tar, archive).unwrap();
    run_ok(
        Command::new(&tar)
            .arg("-xf")
            .arg(&exported_tar)
            .arg("-C")
            .arg(&export),
    );
    let gnu = work.path().join("gnu.tar");
    gnu_tar_release_py(&tar, &export, "zlib-1.3.1", ZLIB_TAG_TIME, &gnu);

    let out = work.path().join("dist");
    let o = build(
        &repo,
        &out,
        &[],
        None,
        &["--formats", "tar,tar.gz,tar.xz,zip"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = out.join("zlib-1.3.1.tar");

    assert_eq!(
        listing(&tar, &ours),
        listing(&tar, &gnu),
        "member listings differ from GNU tar's"
    );
    assert!(
        read(&ours) == normalize_gnu_tar_1_34(read(&gnu)),
        "tar bytes differ from GNU tar's (beyond tar 1.34's devmajor/devminor fill)"
    );

    run_ok(
        Command::new(&gzip)
            .arg("-t")
            .arg(out.join("zlib-1.3.1.tar.gz")),
    );
    run_ok(
        Command::new(&xz)
            .arg("-t")
            .arg(out.join("zlib-1.3.1.tar.xz")),
    );
    run_ok(
        Command::new(&unzip)
            .arg("-tq")
            .arg(out.join("zlib-1.3.1.zip")),
    );
    run_ok(
        Command::new(&sha256sum)
            .arg("-c")
            .arg("SHA256SUMS")
            .current_dir(&out),
    );
    // The compressed tars hold exactly the plain tar.
    let gunzipped = run_ok(
        Command::new(&gzip)
            .arg("-dc")
            .arg(out.join("zlib-1.3.1.tar.gz")),
    );
    assert!(gunzipped == read(&ours));
    let unxz = run_ok(
        Command::new(&xz)
            .arg("-dc")
            .arg(out.join("zlib-1.3.1.tar.xz")),
    );
    assert!(unxz == read(&ours));
    // The zip holds the same files with the same contents and modes.
    let unzipped = work.path().join("unzipped");
    run_ok(
        Command::new(&unzip)
            .arg("-q")
            .arg(out.join("zlib-1.3.1.zip"))
            .arg("-d")
            .arg(&unzipped),
    );
    let d = relkit(&["diff", "--format", "json"])
        .arg(export.join("zlib-1.3.1"))
        .arg(unzipped.join("zlib-1.3.1"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    assert!(
        report["only_in_a"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert!(
        report["only_in_b"].as_array().unwrap().is_empty(),
        "{report}"
    );
    // The gzip body is close to GNU gzip -9's size (parallel blocks cost a little).
    let gnu_gz = run_ok(Command::new(&gzip).args(["-n", "-9", "-c"]).arg(&gnu));
    let ours_gz = std::fs::metadata(out.join("zlib-1.3.1.tar.gz"))
        .unwrap()
        .len() as f64;
    let ratio = ours_gz / gnu_gz.len() as f64;
    assert!((0.97..1.01).contains(&ratio), "gzip size ratio {ratio}");
}

#[test]
fn hard_names_and_links_match_gnu_tar_bytes() {
    let Some(tar) = oracle("tar") else { return };
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("src/pkg-1");
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();
    let exact100 = format!("pkg-1/{}", "n".repeat(94));
    assert_eq!(exact100.len(), 100);
    std::fs::write(root.join(&exact100[6..]), "100 bytes exactly").unwrap();
    std::fs::write(root.join("m".repeat(95)), "101 bytes").unwrap();
    let deep = root.join("d".repeat(60)).join("e".repeat(60));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("f".repeat(120)), "a long path").unwrap();
    std::fs::write(
        root.join(std::ffi::OsStr::from_bytes(b"latin1-\xe9t\xe9.txt")),
        "not UTF-8",
    )
    .unwrap();
    std::fs::write(root.join("ünïcödé.txt"), "UTF-8").unwrap();
    std::os::unix::fs::symlink("x".repeat(150), root.join("long-target")).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();
    std::fs::write(root.join("original"), "linked").unwrap();
    std::fs::hard_link(root.join("original"), root.join("zz-hardlink")).unwrap();
    let old = root.join("old-fraction");
    std::fs::write(&old, "older than the clamp").unwrap();
    run_ok(
        Command::new("touch")
            .arg("-d")
            .arg("@1500000000.25")
            .arg(&old),
    );
    let mtime = 1_600_000_000;

    let gnu = work.path().join("gnu.tar");
    gnu_tar_release_py(&tar, root.parent().unwrap(), "pkg-1", mtime, &gnu);
    let out = work.path().join("dist");
    let o = relkit(&[
        "build",
        "source",
        "--formats",
        "tar,zip",
        "--mtime",
        &mtime.to_string(),
        "--from-dir",
    ])
    .arg(&root)
    .arg("-o")
    .arg(&out)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(listing(&tar, &out.join("pkg-1.tar")), listing(&tar, &gnu));
    assert!(
        read(&out.join("pkg-1.tar")) == normalize_gnu_tar_1_34(read(&gnu)),
        "tar bytes differ from GNU tar's"
    );
    if let Some(unzip) = oracle("unzip") {
        run_ok(Command::new(unzip).arg("-tq").arg(out.join("pkg-1.zip")));
    }
}

#[test]
fn rebuild_says_identical_and_names_a_tampered_member() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("zlib");
    if clone_zlib(&repo, &[]).is_none() {
        return;
    }
    let out = work.path().join("dist");
    assert!(
        build(&repo, &out, &[], None, &["--formats", "tar.gz,zip"])
            .status
            .success()
    );
    let ok = relkit(&["rebuild", "--repo"])
        .arg(&repo)
        .arg(out.join("zlib-1.3.1.tar.gz"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("identical:"));

    // Swap the zip for one built from the previous release, keeping the name.
    let older = work.path().join("older");
    let o = relkit(&[
        "build",
        "source",
        "--rev",
        "v1.3",
        "--name",
        "zlib",
        "--project-version",
        "1.3.1",
        "--formats",
        "zip",
        "--repo",
    ])
    .arg(&repo)
    .arg("-o")
    .arg(&older)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::copy(older.join("zlib-1.3.1.zip"), out.join("zlib-1.3.1.zip")).unwrap();
    let bad = relkit(&["rebuild", "--format", "json", "--repo"])
        .arg(&repo)
        .arg(out.join("zlib-1.3.1.zip"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["identical"], false);
    let reasons = report["reasons"].to_string();
    assert!(reasons.contains("changed after the build"), "{reasons}");
    let members = report["diff"]["members"].to_string();
    assert!(
        members.contains("zlib.h"),
        "zlib.h changed between v1.3 and v1.3.1: {members}"
    );
}

fn assert_input_error(o: &Output, needle: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

fn no_files_in(dir: &Path) {
    if dir.exists() {
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(
            left.is_empty(),
            "files left behind in {}: {left:?}",
            dir.display()
        );
    }
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("dist");
    let not_repo = work.path().join("plain");
    std::fs::create_dir(&not_repo).unwrap();
    let o = relkit(&["build", "source", "--repo"])
        .arg(&not_repo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_input_error(&o, "is not a git repository");
    no_files_in(&out);

    let repo = work.path().join("zlib");
    if clone_zlib(&repo, &[]).is_none() {
        return;
    }
    let o = relkit(&["build", "source", "--rev", "v9.9.9", "--repo"])
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_input_error(&o, "revision \"v9.9.9\" not found");
    no_files_in(&out);

    // An output directory that is a file.
    let file = work.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = build(&repo, &file.join("dist"), &[], None, &[]);
    assert_input_error(&o, "cannot write to output directory");

    // Existing outputs are kept without --force.
    assert!(
        build(&repo, &out, &[], None, &["--formats", "zip"])
            .status
            .success()
    );
    let before = read(&out.join("zlib-1.3.1.zip"));
    let o = build(&repo, &out, &[], None, &["--formats", "zip"]);
    assert_input_error(&o, "already exists; pass --force");
    assert!(read(&out.join("zlib-1.3.1.zip")) == before);

    // A corrupt object: unpack the objects, then damage the blob of zlib.h at v1.3.1.
    let corrupt = work.path().join("corrupt");
    clone_zlib(&corrupt, &[]).unwrap();
    let blob = String::from_utf8(run_ok(
        Command::new("git")
            .arg("-C")
            .arg(&corrupt)
            .args(["rev-parse", "v1.3.1:zlib.h"]),
    ))
    .unwrap()
    .trim()
    .to_string();
    let packs: Vec<_> = std::fs::read_dir(corrupt.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect();
    for pack in &packs {
        let data = read(pack);
        std::fs::remove_file(pack).unwrap();
        std::fs::remove_file(pack.with_extension("idx")).unwrap();
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&corrupt)
            .args(["unpack-objects", "-q"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&data).unwrap();
        assert!(child.wait().unwrap().success());
    }
    let loose = corrupt
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut bytes = read(&loose);
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&loose, bytes).unwrap();
    let out2 = work.path().join("dist2");
    let o = build(&corrupt, &out2, &[], None, &[]);
    assert_input_error(&o, "cannot read git objects");
    no_files_in(&out2);
}

#[test]
fn prepare_steps_run_in_the_export_and_their_outputs_are_archived_deterministically() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("zlib");
    if clone_zlib(&repo, &[]).is_none() {
        return;
    }
    let config = work.path().join("relkit.toml");
    std::fs::write(
        &config,
        r#"[source]
exclude = ["contrib", "*.cmake*"]
prepare = ["mkdir -p Misc && echo \"built at $SOURCE_DATE_EPOCH in $TZ\" > Misc/NEWS", "chmod 700 configure"]
"#,
    )
    .unwrap();
    let mut outs = Vec::new();
    for (i, umask) in ["022", "077"].iter().enumerate() {
        let out = work.path().join(format!("dist{i}"));
        let o = build(
            &repo,
            &out,
            &[],
            Some(umask),
            &["--config", config.to_str().unwrap(), "--formats", "tar"],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(read(&out.join("zlib-1.3.1.tar")));
    }
    assert!(outs[0] == outs[1], "prepare outputs made the builds differ");
    let Some(tar) = oracle("tar") else { return };
    let list = listing(&tar, &work.path().join("dist0/zlib-1.3.1.tar"));
    let news = list
        .lines()
        .find(|l| l.ends_with("zlib-1.3.1/Misc/NEWS"))
        .expect("Misc/NEWS archived");
    assert!(news.starts_with("-rw-r--r-- 0/0"), "{news}");
    assert!(
        news.contains("2024-01-22 18:32:37"),
        "mtime clamped to the commit time: {news}"
    );
    let configure = list
        .lines()
        .find(|l| l.ends_with("zlib-1.3.1/configure"))
        .unwrap();
    assert!(configure.starts_with("-rwxr-xr-x"), "{configure}");
    assert!(
        !list.contains("zlib-1.3.1/contrib/"),
        "excluded directory archived"
    );
    assert!(
        !list.contains("zlib-1.3.1/zconf.h.cmakein"),
        "top-level glob not applied"
    );
    assert!(
        list.contains("zlib-1.3.1/CMakeLists.txt"),
        "glob matched too much"
    );
    let content = run_ok(
        Command::new(&tar)
            .arg("-xOf")
            .arg(work.path().join("dist0/zlib-1.3.1.tar"))
            .arg("zlib-1.3.1/Misc/NEWS"),
    );
    assert_eq!(
        String::from_utf8(content).unwrap(),
        format!("built at {ZLIB_TAG_TIME} in UTC\n")
    );

    // A failing prepare step stops the build before anything is written.
    std::fs::write(&config, "[source]\nprepare = [\"exit 3\"]\n").unwrap();
    let out = work.path().join("dist-failed");
    let o = build(
        &repo,
        &out,
        &[],
        None,
        &["--config", config.to_str().unwrap()],
    );
    assert_input_error(&o, "prepare step `exit 3` failed");
    no_files_in(&out);
}

#[test]
fn submodules_are_an_error_or_omitted_or_included_as_configured() {
    let Some(git) = oracle("git") else { return };
    let work = tempfile::tempdir().unwrap();
    let lib = work.path().join("zlib");
    clone_zlib(&lib, &[]).unwrap();
    let top = work.path().join("app");
    std::fs::create_dir(&top).unwrap();
    let g = |args: &[&str]| {
        run_ok(
            Command::new(&git)
                .arg("-C")
                .arg(&top)
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example.org",
                    "-c",
                    "protocol.file.allow=always",
                ])
                .args(args)
                .env("GIT_COMMITTER_DATE", "2024-05-01T00:00:00Z")
                .env("GIT_AUTHOR_DATE", "2024-05-01T00:00:00Z"),
        )
    };
    g(&["init", "-q"]);
    std::fs::write(top.join("app.c"), "int main(void) { return 0; }\n").unwrap();
    g(&[
        "submodule",
        "add",
        "-q",
        lib.to_str().unwrap(),
        "vendor/zlib",
    ]);
    g(&["-C", "vendor/zlib", "checkout", "-q", "v1.3.1"]);
    g(&["add", "-A"]);
    g(&["commit", "-q", "-m", "app with zlib"]);
    g(&["tag", "v2.0"]);

    let build_with = |policy: Option<&str>, out: &str| {
        let mut cmd = relkit(&[
            "build",
            "source",
            "--rev",
            "v2.0",
            "--formats",
            "tar",
            "--repo",
        ]);
        cmd.arg(&top).arg("-o").arg(work.path().join(out));
        if let Some(policy) = policy {
            let config = work.path().join(format!("{out}.toml"));
            std::fs::write(&config, format!("[source]\nsubmodules = \"{policy}\"\n")).unwrap();
            cmd.arg("--config").arg(config);
        }
        cmd.output().unwrap()
    };
    let o = build_with(None, "default");
    assert_input_error(&o, "the tree contains submodule \"vendor/zlib\"");

    let o = build_with(Some("omit"), "omit");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&read(&work.path().join("omit/relkit-manifest.json"))).unwrap();
    assert_eq!(
        manifest["source"]["omitted_submodules"],
        serde_json::json!(["vendor/zlib"])
    );

    let o = build_with(Some("include"), "include");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let Some(tar) = oracle("tar") else { return };
    let list = listing(&tar, &work.path().join("include/app-2.0.tar"));
    assert!(list.contains("app-2.0/vendor/zlib/zlib.h"), "{list}");
    assert!(list.contains("app-2.0/app.c"), "{list}");
}
