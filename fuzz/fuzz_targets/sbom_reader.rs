//! Fuzz target: arbitrary bytes through the JSON parser, the SPDX/CycloneDX readers, the
//! writers and the checker. None of them may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = relkit_sbom::check::check_bytes(data, "fuzz");
    if let Ok(value) = relkit_sbom::json::parse(data, "fuzz") {
        if let Ok((doc, _, _)) = relkit_sbom::read(&value, "fuzz") {
            let _ = relkit_sbom::write(&doc, relkit_sbom::Format::SpdxJson);
            let _ = relkit_sbom::write(&doc, relkit_sbom::Format::CycloneDxJson);
        }
    }
});
