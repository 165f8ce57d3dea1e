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

/// The warnings `generate` prints for `input`.
fn warnings(input: &Path, out: &Path) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args([
            "sbom",
            "generate",
            "--created",
            "2024-01-01T00:00:00Z",
            "-q",
        ])
        .arg(input)
        .arg("-o")
        .arg(format!("spdx-json={}", out.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    err.lines()
        .filter(|l| l.starts_with("warning: package"))
        .map(str::to_string)
        .collect()
}

#[test]
fn an_archive_gets_the_same_verdicts_as_its_unpacked_tree() {
    // CPython 3.13.5's in-tree SBOM declares expat 2.6.3, but the vendored expat.h says 2.7.1.
    let subset =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-sbom/tests/fixtures/cpython-subset");
    let work = tempfile::tempdir().unwrap();
    let stale = work.path().join("stale");
    tree_declaring(&stale, "5.6.0");
    for (tree, name, expected) in [
        (
            subset.as_path(),
            "Python-3.13.5",
            "warning: package expat declares version 2.6.3 but its files show 2.7.1",
        ),
        (
            stale.as_path(),
            "app-1.0",
            "warning: package xz declares version 5.6.0 but its files show 5.6.1",
        ),
    ] {
        let from_dir = warnings(tree, &work.path().join("dir.spdx.json"));
        assert!(
            from_dir.iter().any(|w| w.starts_with(expected)),
            "{from_dir:?}"
        );
        for ext in ["tar.xz", "tar.gz", "zip"] {
            let archive = work.path().join(format!("{name}.{ext}"));
            let st = if ext == "zip" {
                Command::new("python3")
                    .args(["-c", "import shutil,sys; shutil.make_archive(sys.argv[1], 'zip', sys.argv[2], sys.argv[3])"])
                    .arg(work.path().join(name))
                    .arg(tree.parent().unwrap())
                    .arg(tree.file_name().unwrap())
                    .status()
            } else {
                Command::new("tar")
                    .arg(if ext == "tar.xz" { "-cJf" } else { "-czf" })
                    .arg(&archive)
                    .arg("-C")
                    .arg(tree.parent().unwrap())
                    .arg(tree.file_name().unwrap())
                    .status()
            }
            .expect("tar/python3 runs");
            assert!(st.success());
            let from_archive = warnings(&archive, &work.path().join("archive.spdx.json"));
            assert_eq!(from_archive, from_dir, "{ext}");
        }
    }
}
