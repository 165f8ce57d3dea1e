//! Fuzz relkit's gzip decoder (header fields, multi-member, trailer checks) alone and as
//! the outer layer of a .tar.gz.
#![no_main]

use std::io::{Cursor, Read};

use libfuzzer_sys::fuzz_target;
use relkit_archive::read::{Format, GzipReader, read_reader_as};

fuzz_target!(|data: &[u8]| {
    let mut gz = GzipReader::new(data);
    // Bounded: a small input may inflate ~1000-fold.
    let _ = std::io::copy(&mut gz.by_ref().take(64 << 20), &mut std::io::sink());
    let _ = gz.info();
    let _ = read_reader_as(Cursor::new(data), "fuzz", Format::TarGz);
});
