//! Fuzz target: arbitrary bytes through relkit-sbom's Mach-O reader, as a thin 64-bit file, as
//! a fat (universal) file and as they come, and through the binary evidence scanner (`symbols`
//! + `rodata` rules per slice, linking facts). It may refuse input, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = relkit_sbom::macho::read(data);
    let rest = data.get(4..).unwrap_or_default();
    for magic in [&b"\xcf\xfa\xed\xfe"[..], &b"\xca\xfe\xba\xbe"[..]] {
        let mut file = magic.to_vec();
        file.extend_from_slice(rest);
        let _ = relkit_sbom::macho::read(&file);
        let _ = relkit_sbom::binary::scan_bytes("fuzz.dylib", &file);
    }
});
