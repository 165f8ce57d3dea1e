//! `.xz` files with SHA-256 block checks, which relkit verifies itself (liblzma's portable
//! SHA-256 is as slow as the decoding): single- and multi-block files written by GNU xz read
//! exactly like the same tar with CRC-64 checks, and a damaged stored check is refused, as
//! `xz -t` refuses it.

use std::path::Path;
use std::process::Command;

use relkit_archive::read;
use relkit_testkit::{oracle, run_ok};

/// A tar of ~600 KiB of varied text (so that 64 KiB blocks give several blocks).
fn tar_bytes(dir: &Path) -> Vec<u8> {
    let src = dir.join("src/p-1");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..12 {
        let text: String = (0..4000)
            .map(|n| format!("file {i} line {n}: {}\n", n * 7919 % 1000))
            .collect();
        std::fs::write(src.join(format!("f{i}.txt")), text).unwrap();
    }
    let tar = dir.join("p.tar");
    run_ok(
        Command::new("tar")
            .arg("--sort=name")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(dir.join("src"))
            .arg("p-1"),
    );
    std::fs::read(tar).unwrap()
}

/// `xz ARGS` over `input`.
fn xz(input: &[u8], args: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("xz")
        .args(args)
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run xz");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// (offset, total size) of each block, from `xz --robot -lvv`.
fn blocks(file: &Path) -> Vec<(usize, usize)> {
    let out = run_ok(Command::new("xz").args(["--robot", "-lvv"]).arg(file));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("block\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            // block, stream, block in stream, block number, comp offset, uncomp offset, total size
            (f[4].parse().unwrap(), f[6].parse().unwrap())
        })
        .collect()
}

fn digests(a: &read::Archive) -> Vec<(Vec<u8>, Option<[u8; 32]>)> {
    a.members
        .iter()
        .map(|m| (m.path.clone(), m.sha256))
        .collect()
}

#[test]
fn sha256_checked_files_read_like_crc64_ones_and_damage_is_refused() {
    if oracle("xz").is_none() || oracle("tar").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tar = tar_bytes(tmp.path());
    let plain = read::read_archive_bytes(&tar).unwrap();
    let crc64 = read::read_archive_bytes(&xz(&tar, &["--check=crc64"])).unwrap();
    assert_eq!(digests(&plain), digests(&crc64));

    for (label, args) in [
        ("one block", &["--check=sha256", "-T1"][..]),
        (
            "64 KiB blocks",
            &["--check=sha256", "-T1", "--block-size=65536"][..],
        ),
    ] {
        let data = xz(&tar, args);
        let file = tmp.path().join("p.tar.xz");
        std::fs::write(&file, &data).unwrap();
        let layout = blocks(&file);
        if label == "64 KiB blocks" {
            assert!(layout.len() >= 5, "{label}: {layout:?}");
        } else {
            assert_eq!(layout.len(), 1);
        }
        let got = read::read_path(&file).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(digests(&got), digests(&plain), "{label}");
        assert_eq!(got.container.tar_sha256, plain.container.tar_sha256);
        assert_eq!(got.container.xz.as_ref().unwrap().check, "sha256");

        // Damage the stored check of the last block: xz -t and relkit both refuse it.
        let (offset, size) = *layout.last().unwrap();
        let mut bad = data.clone();
        bad[offset + size - 1] ^= 0x40;
        let bad_file = tmp.path().join("bad.tar.xz");
        std::fs::write(&bad_file, &bad).unwrap();
        let xz_t = Command::new("xz")
            .arg("-t")
            .arg(&bad_file)
            .output()
            .unwrap();
        assert!(!xz_t.status.success(), "{label}: xz -t accepted the damage");
        let err = read::read_path(&bad_file).unwrap_err().to_string();
        assert!(
            err.contains(&format!("xz block {} fails its SHA-256", layout.len())),
            "{label}: {err}"
        );
    }
}
