//! Fuzz the Package URL parser (purl-spec) on arbitrary text: no panic, and the canonical
//! form of anything it accepts parses again to the same purl (normalization is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use relkit_ident::purl::Purl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Purl::parse_strict(text);
    let Ok(purl) = Purl::parse(text) else {
        return;
    };
    let canonical = purl.to_canonical();
    let again = Purl::parse(&canonical)
        .unwrap_or_else(|e| panic!("{text:?} → canonical {canonical:?} does not parse: {e}"));
    assert_eq!(again, purl, "{text:?} → {canonical:?}");
    assert_eq!(again.to_canonical(), canonical);
});
