//! Helpers shared by the integration tests: the xz repository from the bundle fixture and
//! the official xz 5.8.1 tarball downloaded by CI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(unused_imports)] // each test file uses some of these
pub use relkit_testkit::{oracles_required as required, run_ok as run};

/// The report line of `path`; panics when the report has none.
pub fn member<'a>(
    r: &'a relkit_audit::TarballReport,
    path: &str,
) -> &'a relkit_audit::tarball::MemberReport {
    r.members
        .iter()
        .find(|m| m.path == path)
        .unwrap_or_else(|| panic!("{path} not in the report"))
}

/// The official xz-utils 5.8.1 tarball in `target/relkit-data/` (downloaded by
/// .ci/deps.d/70-audit.sh), or None locally.
pub fn xz_tarball() -> Option<PathBuf> {
    relkit_testkit::upstream_data("xz-utils_5.8.1.orig.tar.xz")
}

/// Clones the xz bundle fixture into `dir/xz` (git sets up the test; relkit never runs it).
pub fn xz_repo(dir: &Path) -> PathBuf {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xz.bundle");
    let dest = dir.join("xz");
    run(Command::new("git")
        .args(["clone", "-q", "--no-checkout"])
        .arg(&bundle)
        .arg(&dest));
    dest
}

/// Unpacks a tarball with GNU tar into `dir`, returning the top directory.
pub fn unpack(tarball: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(tarball)
        .arg("-C")
        .arg(dir));
    dir.join("xz-5.8.1")
}

/// Packs `dir/top` into `out` (a .tar.gz) with GNU tar.
pub fn pack(dir: &Path, top: &str, out: &Path) {
    run(Command::new("tar")
        .arg("-czf")
        .arg(out)
        .arg("-C")
        .arg(dir)
        .arg(top));
}

/// The lines inserted into build-to-host.m4 by the attack tests (shaped like the 2024
/// backdoor's additions: find a test file, decode it, run it through the shell).
pub const INSERTED: &[&str] = &[
    "  gl_am_configmake=`grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/ 2>/dev/null`",
    "  if test -n \"$gl_am_configmake\"; then",
    "    gl_localedir_config=\"sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_localedir_prefix -d 2>/dev/null\"",
    "  fi",
];

/// Inserts [`INSERTED`] into `file` after the line starting with `after`.
pub fn insert_lines(file: &Path, after: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if !done && line.starts_with(after) {
            for l in INSERTED {
                out.push_str(l);
                out.push('\n');
            }
            done = true;
        }
    }
    assert!(
        done,
        "no line starting with {after:?} in {}",
        file.display()
    );
    std::fs::write(file, out).unwrap();
}
