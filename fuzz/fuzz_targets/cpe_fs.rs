//! Fuzz the CPE 2.3 formatted-string parser (`cpe:2.3:…`, NISTIR 7695 §6.2) on arbitrary text:
//! no panic, and every name it accepts binds back to a formatted string and a URI that parse
//! to the same WFN (the round trips the spec promises); the matcher never panics on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relkit_ident::cpe::{Wfn, compare_names};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Most inputs should reach the parser proper, so supply the prefix when it is missing.
    let input = if text.starts_with("cpe:2.3:") {
        text.to_string()
    } else {
        format!("cpe:2.3:{text}")
    };
    let Ok(wfn) = Wfn::from_fs(&input) else {
        return;
    };
    let fs = wfn.to_fs();
    assert_eq!(Wfn::from_fs(&fs).as_ref(), Ok(&wfn), "fs round trip of {input:?} via {fs:?}");
    let uri = wfn.to_uri();
    let _ = Wfn::from_uri(&uri);
    let wfn_string = wfn.to_wfn_string();
    assert_eq!(Wfn::parse(&wfn_string).as_ref(), Ok(&wfn), "WFN round trip via {wfn_string:?}");
    let _ = compare_names(&wfn, &wfn);
});
