//! Throughput probe for bench/cpe.sh: parses every CPE name of a file (one a line, formatted
//! strings or URIs), binds it back to a formatted string, and matches it (NISTIR 7696)
//! against a few source patterns; prints the counts. The Python twin is bench/cpe_parse_match.py.

use relkit_ident::cpe::{NameRelation, Wfn, compare_names};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: parse_match NAMES_FILE");
    let text = std::fs::read_to_string(&path).expect("readable names file");
    let patterns: Vec<Wfn> = [
        "cpe:2.3:a:*:*:*:*:*:*:*:*:*:*",
        "cpe:2.3:a:tukaani:xz:5.6.*:*:*:*:*:*:*:*",
        "cpe:2.3:*:*:*:1.*:*:*:*:*:*:*:*",
    ]
    .iter()
    .map(|p| Wfn::parse(p).expect("valid pattern"))
    .collect();
    let (mut parsed, mut bad, mut matched) = (0u64, 0u64, 0u64);
    let mut bytes = 0usize;
    for line in text.lines() {
        match Wfn::parse(line) {
            Ok(w) => {
                parsed += 1;
                bytes += w.to_fs().len();
                for p in &patterns {
                    if matches!(
                        compare_names(p, &w).relation,
                        NameRelation::Superset | NameRelation::Equal
                    ) {
                        matched += 1;
                    }
                }
            }
            Err(_) => bad += 1,
        }
    }
    println!("parsed {parsed} invalid {bad} matched {matched} fs_bytes {bytes}");
}
