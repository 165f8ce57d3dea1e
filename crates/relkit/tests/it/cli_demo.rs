//! `relkit demo` end to end: the README's first command must work on a fresh machine.

use std::process::Command;

#[test]
fn demo_rebuilds_identically_and_finds_the_xz_backdoor_cve() {
    let work = tempfile::tempdir().unwrap();
    let keep = work.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("demo")
        .arg("--keep")
        .arg(&keep)
        .env("XDG_CACHE_HOME", work.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "hello-1.0.0.tar.gz",
        "hello-1.0.0.tar.xz",
        "hello-1.0.0.zip",
    ] {
        assert!(stdout.contains(&format!("{name}: identical")), "{stdout}");
        assert!(
            std::fs::read(keep.join("release-1").join(name)).unwrap()
                == std::fs::read(keep.join("release-2").join(name)).unwrap()
        );
    }
    assert!(
        stdout.contains("7. scan: CVE-2024-3094 in xz 5.6.1 (critical 10.0)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 confirmed"), "{stdout}");
    assert!(keep.join("hello-1.0.0.spdx.json").is_file());
    assert!(stdout.contains("9. `relkit release run`"), "{stdout}");
    assert!(
        keep.join("published/hello/1.0.0/hello-1.0.0.provenance.sigstore.json")
            .is_file()
    );

    // A non-empty --keep directory is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("demo")
        .arg("--keep")
        .arg(&keep)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
}
