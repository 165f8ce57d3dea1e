//! The real check of the foundation issue: CPython's official `Python-3.13.5.tar.xz`
//! (Debian's `python3.13_3.13.5.orig.tar.xz`, downloaded by CI) is rebuilt byte for byte
//! from its unpacked tree by `build source --from-dir` with the tarball's mtime.

use std::process::Command;

use relkit_source::{BuildRequest, Format, SourceInput, build_source, config::SourceConfig};
use relkit_testkit::{oracle, run_ok, upstream_data};

/// The mtime GNU tar stamped on every member (2025-06-11T15:36:57Z).
const CPYTHON_3_13_5_MTIME: i64 = 1_749_656_217;

#[test]
fn official_cpython_tarball_is_reproduced_bit_for_bit() {
    let Some(official) = upstream_data("python3.13_3.13.5.orig.tar.xz") else {
        return;
    };
    let Some(tar) = oracle("tar") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    run_ok(
        Command::new(tar)
            .arg("-xf")
            .arg(&official)
            .arg("-C")
            .arg(work.path()),
    );
    let tree = work.path().join("Python-3.13.5");
    assert!(tree.join("Include/patchlevel.h").is_file());

    let out = work.path().join("dist");
    let result = build_source(&BuildRequest {
        input: SourceInput::Dir { path: tree },
        out_dir: out.clone(),
        name: None,
        version: None,
        prefix: None,
        mtime: Some(CPYTHON_3_13_5_MTIME),
        no_clamp: false,
        formats: Some(vec![Format::TarXz]),
        source: SourceConfig::default(),
        force: false,
    })
    .unwrap();

    let ours = std::fs::read(out.join("Python-3.13.5.tar.xz")).unwrap();
    let theirs = std::fs::read(&official).unwrap();
    assert_eq!(result.manifest.members, 4808 + 406);
    assert_eq!(ours.len(), theirs.len(), "compressed sizes differ");
    assert!(
        ours == theirs,
        "Python-3.13.5.tar.xz differs from the official tarball"
    );
    assert_eq!(
        result.manifest.artifacts[0].sha256,
        "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"
    );
}
