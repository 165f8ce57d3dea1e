//! Shared helpers for the reader and diff tests: a real sample tree built from the
//! fixtures, and thin wrappers around the oracles (GNU tar, gzip, xz, Info-ZIP zip).
#![allow(dead_code)] // the modules of the test binary use different subsets of the helpers

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fixed mtime of every object in the sample tree.
pub const MTIME: i64 = 1_700_000_000;

/// The long (> 100 bytes) member path used by the sample tree, relative to the top dir.
pub const LONG_NAME: &str = "deep/directory-with-a-rather-long-name-for-testing/another-long-component-name-here/and-a-file-name-that-is-long.txt";

/// The non-UTF-8 file name used by the sample tree.
pub const LATIN1_NAME: &[u8] = b"caf\xe9.txt";

/// Whether `tool` is installed; with `RELKIT_REQUIRE_ORACLES` set, a missing tool fails.
pub fn have(tool: &str) -> bool {
    relkit_testkit::oracle(tool).is_some()
}

/// Whether all the tools are installed (see [`have`]).
pub fn have_all(tools: &[&str]) -> bool {
    tools.iter().all(|t| have(t))
}

/// Runs a command and panics with its stderr on failure.
pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `sh -c script` in `dir`.
pub fn sh(dir: &Path, script: &str) {
    run(Command::new("sh").arg("-c").arg(script).current_dir(dir));
}

/// Builds `parent/proj-1.0/` with text, a >64 KiB text, a binary, an executable, a
/// symlink, a >100-byte path and a non-UTF-8 name; every mtime is [`MTIME`].
pub fn make_tree(parent: &Path) -> PathBuf {
    let top = parent.join("proj-1.0");
    std::fs::create_dir_all(top.join("data")).unwrap();
    std::fs::create_dir_all(top.join("bin")).unwrap();
    std::fs::write(
        top.join("README.txt"),
        "proj 1.0\n\nline three\nline four\n",
    )
    .unwrap();
    std::fs::copy(
        relkit_testkit::fixture("cpython-3.13.5/externals.spdx.json"),
        top.join("data/externals.spdx.json"),
    )
    .unwrap();
    std::fs::copy(
        relkit_testkit::fixture("cpython-3.13.5/sbom.spdx.json"),
        top.join("data/sbom.spdx.json"),
    )
    .unwrap();
    std::fs::copy(
        relkit_testkit::fixture("windows-embed-3.13/libffi-8.dll"),
        top.join("bin/libffi-8.dll"),
    )
    .unwrap();
    std::fs::write(top.join("bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    let long = top.join(LONG_NAME);
    std::fs::create_dir_all(long.parent().unwrap()).unwrap();
    std::fs::write(&long, "long name\n").unwrap();
    std::fs::write(top.join(OsStr::from_bytes(LATIN1_NAME)), "latin-1 name\n").unwrap();
    std::os::unix::fs::symlink("README.txt", top.join("link")).unwrap();
    sh(
        parent,
        &format!(
            "chmod 0644 $(find proj-1.0 -type f) && chmod 0755 proj-1.0/bin/run.sh $(find proj-1.0 -type d) && find proj-1.0 -exec touch -h -d @{MTIME} {{}} +"
        ),
    );
    top
}

/// Resets the mtime of everything under `dir` to [`MTIME`] (after edits).
pub fn retouch(dir: &Path) {
    sh(dir, &format!("find . -exec touch -h -d @{MTIME} {{}} +"));
}

/// `tar` with CPython's release flags on `parent/proj-1.0`, written to `out`.
pub fn tar_release(parent: &Path, out: &Path) {
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--format=posix",
            "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
            "-cf",
        ])
        .arg(out)
        .arg("proj-1.0")
        .current_dir(parent));
}

/// Flips one byte of `path` at `offset`.
pub fn flip_byte(path: &Path, offset: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[offset] ^= 0x20;
    std::fs::write(path, data).unwrap();
}
