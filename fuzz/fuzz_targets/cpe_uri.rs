//! Fuzz the CPE URI parser (`cpe:/…` with packed editions, NISTIR 7695 §6.1) on arbitrary text:
//! no panic, and every URI it accepts binds to a formatted string that parses to the same WFN.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relkit_ident::cpe::Wfn;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = if text.starts_with("cpe:/") {
        text.to_string()
    } else {
        format!("cpe:/{text}")
    };
    let Ok(wfn) = Wfn::from_uri(&input) else {
        return;
    };
    let fs = wfn.to_fs();
    assert_eq!(Wfn::from_fs(&fs).as_ref(), Ok(&wfn), "{input:?} → {fs:?}");
    let _ = Wfn::from_uri(&wfn.to_uri());
});
