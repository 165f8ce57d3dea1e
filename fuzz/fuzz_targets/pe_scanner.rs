//! Fuzz target: arbitrary bytes through the PE evidence scanner. It may refuse input, never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = relkit_sbom::binary::scan_bytes("fuzz.dll", data);
});
