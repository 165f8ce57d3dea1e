//! Fuzz the zip reader: central directory, raw local/central header and extra-field
//! parsing, inflating and CRC checks. Also runs format detection on the same bytes.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use relkit_archive::read::{Format, read_archive_bytes, read_reader_as};

fuzz_target!(|data: &[u8]| {
    let _ = read_reader_as(Cursor::new(data), "fuzz", Format::Zip);
    let _ = read_archive_bytes(data);
});
