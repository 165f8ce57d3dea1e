//! Fuzz target: arbitrary bytes through relkit-sbom's ELF reader and, as an ELF file, through
//! the binary evidence scanner (symbols + rodata rules). It may refuse input, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = relkit_sbom::elf::read(data);
    let mut elf = b"\x7fELF".to_vec();
    elf.extend_from_slice(data.get(4..).unwrap_or_default());
    let _ = relkit_sbom::binary::scan_bytes("fuzz.so", &elf);
});
