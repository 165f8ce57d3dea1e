//! Inputs found by the cargo-fuzz targets (`fuzz/`) that once broke a reader, kept as
//! regression tests.

use std::io::Cursor;
use std::path::Path;

use relkit_archive::read::{self, Error, Format};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/diff/fuzz")
            .join(name),
    )
    .unwrap()
}

/// fuzz target `xz`, 150 s in: 133 bytes that the multi-format decoder took for a legacy
/// `.lzma` header claiming a 4 GiB dictionary, and tried to allocate it (abort on OOM).
#[test]
fn lzma_alone_header_is_not_decoded_as_xz() {
    let data = fixture("xz-oom-lzma-alone-4gib-dict.bin");
    let err = read::read_reader_as(Cursor::new(&data), "oom.bin", Format::TarXz).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt {
                layer: "tar.xz",
                ..
            }
        ),
        "{err}"
    );
    // Detection does not take it for any archive format either.
    assert!(matches!(
        read::read_archive_bytes(&data),
        Err(Error::UnknownFormat { .. })
    ));
}

/// The same attack in a real `.xz` stream: a block header whose LZMA2 properties claim a
/// 4 GiB dictionary (with a valid header CRC) must be refused, not allocated. (That `xz -9`
/// archives still decode under the limit is checked in `diff_real.rs`.)
#[test]
fn forged_xz_dictionary_size_hits_the_memory_limit() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/xz/ustar.tar.xz");
    let mut data = std::fs::read(seed).unwrap();
    // Block header at 12: size byte 0x02 (12 bytes), flags 0, filter 0x21, props size 1,
    // props (dictionary), padding, CRC-32 of the first 8 bytes.
    assert_eq!(&data[12..16], &[0x02, 0x00, 0x21, 0x01]);
    data[16] = 40; // 4 GiB - 1
    let crc = crc32fast::hash(&data[12..20]);
    data[20..24].copy_from_slice(&crc.to_le_bytes());
    let arch_err = read::read_archive_bytes(&data).unwrap_err();
    let text = arch_err.to_string();
    assert!(
        matches!(
            arch_err,
            Error::Corrupt {
                layer: "tar.xz",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.to_lowercase().contains("memory"), "{text}");
}
