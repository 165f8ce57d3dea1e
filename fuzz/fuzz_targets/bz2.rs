//! Fuzz the .tar.bz2 reader: decoding into tar.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use relkit_archive::read::{Format, read_reader_as};

fuzz_target!(|data: &[u8]| {
    let _ = read_reader_as(Cursor::new(data), "fuzz", Format::TarBz2);
});
