//! `relkit sbom generate` runs the SBOM truth check on vendored packages: a declared
//! version that the vendored files contradict is a warning, or exit 1 with `--strict`.

use std::path::Path;
use std::process::Command;

/// A tree vendoring xz 5.6.1's `lzma/version.h` with an in-tree SBOM declaring `version`.
fn tree_declaring(root: &Path, version: &str) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-source/sample");
    std::fs::create_dir_all(root.join("vendor/xz/lzma")).unwrap();
    std::fs::create_dir_all(root.join("Misc")).unwrap();
    std::fs::copy(
        sample.join("xz-version.h"),
        root.join("vendor/xz/lzma/version.h"),
    )
    .unwrap();
    let sbom = std::fs::read_to_string(sample.join("sbom.spdx.json")).unwrap();
    std::fs::write(
        root.join("Misc/sbom.spdx.json"),
        sbom.replace("5.6.1", version),
    )
    .unwrap();
}

fn generate(root: &Path, strict: bool) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relkit"));
    cmd.args([
        "sbom",
        "generate",
        "--name",
        "app",
        "--version",
        "1.0",
        "--created",
        "2024-01-01T00:00:00Z",
    ])
    .arg(root)
    .arg("-o")
    .arg(format!(
        "spdx-json={}",
        root.with_extension("spdx.json").display()
    ));
    if strict {
        cmd.arg("--strict");
    }
    cmd.output().unwrap()
}

#[test]
fn stale_declared_version_is_a_warning_or_with_strict_a_failure() {
    let work = tempfile::tempdir().unwrap();
    let stale = work.path().join("stale");
    tree_declaring(&stale, "5.6.0");
    let out = generate(&stale, false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: package xz declares version 5.6.0 but its files show 5.6.1"),
        "{err}"
    );
    assert!(
        stale.with_extension("spdx.json").is_file(),
        "the SBOM is still written"
    );

    let out = generate(&stale, true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: package xz declares version 5.6.0"),
        "{err}"
    );

    let right = work.path().join("right");
    tree_declaring(&right, "5.6.1");
    let out = generate(&right, true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("declares version"), "no false alarm: {err}");
}
