//! Deterministic damage to real archives (the fuzz seeds written by GNU tar, gzip, xz,
//! bzip2, zstd and Info-ZIP zip; one xz seed has 8 blocks with SHA-256 checks): every
//! truncation and a sweep of bit flips must give `Ok` or a typed error, never a panic, and
//! truncations of compressed archives must be errors.

use std::path::Path;

use relkit_archive::read::{self, Error};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let mut out = Vec::new();
    for kind in ["tar", "gzip", "xz", "zip", "bz2", "zstd"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            out.push((f.display().to_string(), std::fs::read(&f).unwrap()));
        }
    }
    assert_eq!(out.len(), 13, "seed archives present");
    out
}

#[test]
fn seeds_read_cleanly() {
    for (name, data) in seeds() {
        let arch = read::read_archive_bytes(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(arch.members.len() >= 4, "{name}: {:?}", arch.members.len());
    }
}

#[test]
fn every_truncation_is_handled() {
    for (name, data) in seeds() {
        let compressed = [".gz", ".xz", ".bz2", ".zst"]
            .iter()
            .any(|e| name.ends_with(e));
        // In a plain tar, every cut before the end-of-archive zero blocks is an error.
        let marker = data
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| (i + 1).div_ceil(512) * 512);
        for len in 0..data.len() {
            let result = read::read_archive_bytes(&data[..len]);
            if compressed || (name.ends_with(".tar") && len < marker) {
                assert!(
                    matches!(
                        result,
                        Err(Error::Corrupt { .. } | Error::UnknownFormat { .. })
                    ),
                    "{name} cut at {len}: {:?}",
                    result.map(|a| a.members.len())
                );
            }
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    for (name, data) in seeds() {
        let mut damaged = data.clone();
        for at in (0..data.len()).step_by(3) {
            for bit in [0x01u8, 0x80] {
                damaged[at] ^= bit;
                let _ = read::read_archive_bytes(&damaged);
                damaged[at] ^= bit;
            }
        }
        assert_eq!(damaged, data, "{name} restored");
    }
}
