//! `.tar.bz2` and `.tar.zst` release archives: written by GNU tar with bzip2 and zstd (the
//! oracles), they read exactly like the plain tar; concatenated streams and frames read as
//! one (as `bzip2 -d` and `zstd -d` do); damage, truncation and a zstd window beyond 128 MiB
//! are refused with an error, never a panic.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use relkit_archive::read::{self, Format};
use relkit_testkit::{oracle, run_ok};

/// A tree of ~200 KiB of varied text, tarred by GNU tar.
fn tar_of_tree(dir: &Path) -> Vec<u8> {
    let src = dir.join("src/p-1");
    std::fs::create_dir_all(src.join("doc")).unwrap();
    for i in 0..8 {
        let text: String = (0..2000)
            .map(|n| format!("file {i} line {n}: {}\n", n * 7919 % 1000))
            .collect();
        std::fs::write(src.join(format!("doc/f{i}.txt")), text).unwrap();
    }
    std::os::unix::fs::symlink("doc/f0.txt", src.join("README")).unwrap();
    run_ok(
        Command::new("tar")
            .args(["--sort=name", "-cf"])
            .arg(dir.join("p.tar"))
            .arg("-C")
            .arg(dir.join("src"))
            .arg("p-1"),
    );
    std::fs::read(dir.join("p.tar")).unwrap()
}

/// `tool ARGS -c` over `input`.
fn compress(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} {args:?}");
    out.stdout
}

/// Path, content digest and link target of one member.
type Digest = (Vec<u8>, Option<[u8; 32]>, Option<Vec<u8>>);

fn digests(a: &read::Archive) -> Vec<Digest> {
    a.members
        .iter()
        .map(|m| (m.path.clone(), m.sha256, m.link_target.clone()))
        .collect()
}

#[test]
fn bzip2_and_zstd_tars_read_like_the_plain_tar() {
    for tool in ["tar", "bzip2", "zstd"] {
        if oracle(tool).is_none() {
            return;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let tar = tar_of_tree(tmp.path());
    let plain = read::read_archive_bytes(&tar).unwrap();
    assert_eq!(plain.members.len(), 11);

    // GNU tar's own -j and --zstd.
    for (flag, format, name) in [
        ("-j", Format::TarBz2, "p.tar.bz2"),
        ("--zstd", Format::TarZst, "p.tar.zst"),
    ] {
        let file = tmp.path().join(name);
        run_ok(
            Command::new("tar")
                .args(["--sort=name", flag, "-cf"])
                .arg(&file)
                .arg("-C")
                .arg(tmp.path().join("src"))
                .arg("p-1"),
        );
        let got = read::read_path(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.container.format, format);
        assert_eq!(digests(&got), digests(&plain), "{name}");
    }

    // Two streams / frames back to back read as one tar, as the tools decompress them.
    let (a, b) = tar.split_at(tar.len() / 2);
    for (tool, format) in [("bzip2", Format::TarBz2), ("zstd", Format::TarZst)] {
        let mut joined = compress(tool, &["-q"], a);
        joined.extend(compress(tool, &["-q"], b));
        let got = read::read_archive_bytes(&joined).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(got.container.format, format);
        assert_eq!(digests(&got), digests(&plain), "{tool}");
        assert_eq!(got.container.tar_sha256, plain.container.tar_sha256);

        // Cut short, or a byte flipped in the middle: an error naming the archive.
        let cut = &joined[..joined.len() * 3 / 4];
        assert!(read::read_archive_bytes(cut).is_err(), "{tool}: truncated");
        let mut flipped = joined.clone();
        let at = flipped.len() / 4;
        flipped[at] ^= 0x55;
        assert!(
            read::read_archive_bytes(&flipped).is_err(),
            "{tool}: damaged"
        );
    }
}

#[test]
fn zstd_windows_beyond_128_mib_are_refused() {
    if oracle("zstd").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tar = tar_of_tree(tmp.path());
    // --long=31 announces a 2 GiB window: zstd -d itself wants --memory for it.
    let big = compress("zstd", &["-q", "--long=31"], &tar);
    let err = read::read_archive_bytes(&big).unwrap_err().to_string();
    assert!(err.contains("<memory>"), "{err}");
    let ok = compress("zstd", &["-q", "--long=27"], &tar);
    assert!(read::read_archive_bytes(&ok).is_ok());
}
