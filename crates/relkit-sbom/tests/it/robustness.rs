//! Deterministic mutation tests of the readers, the checker and the PE scanner on real inputs
//! (the stable-Rust counterpart of the cargo-fuzz targets `sbom_reader`, `pe_scanner` and
//! `archive_scan` in the top-level `fuzz/`): truncations and byte flips must give errors or
//! reports, never panics. Also the zip-bomb guard.

use relkit_sbom::{Format, binary, check, json, source};

/// xorshift64: a fixed sequence, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutants(seed: &[u8], rng: &mut Rng, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut m = seed.to_vec();
            match i % 3 {
                0 => m.truncate(rng.below(seed.len().max(1))),
                1 => {
                    for _ in 0..1 + rng.below(8) {
                        let at = rng.below(m.len());
                        m[at] = rng.next() as u8;
                    }
                }
                _ => {
                    let at = rng.below(m.len());
                    let tok: &[u8] = [&b"\""[..], b"{", b"]", b"null", b",", b"\\u0000", b"-1e999"]
                        [rng.below(7)];
                    m.splice(at..at, tok.iter().copied());
                }
            }
            m
        })
        .collect()
}

#[test]
fn mutated_sboms_never_panic_and_surviving_documents_round_trip() {
    let mut rng = Rng(0x5eed_5b0b_0000_0001);
    let seeds = [
        "cpython-3.13.5/sbom.spdx.json",
        "sbom/spdx/valid/SPDXJSONExample-v2.3.spdx.json",
        "sbom/cyclonedx/valid/valid-evidence-1.6.json",
        "sbom/cyclonedx/valid/valid-dependency-1.6.json",
    ];
    let mut parsed = 0;
    for s in seeds {
        let seed = std::fs::read(relkit_testkit::fixture(s)).unwrap();
        for m in mutants(&seed, &mut rng, 150) {
            let _ = check::check_bytes(&m, "mutant");
            if let Ok(v) = json::parse(&m, "mutant")
                && let Ok((doc, _, _)) = relkit_sbom::read(&v, "mutant")
            {
                parsed += 1;
                for f in [Format::SpdxJson, Format::CycloneDxJson] {
                    let (bytes, _) = relkit_sbom::write(&doc, f);
                    json::parse(&bytes, "written").expect("relkit writes valid JSON");
                }
            }
        }
    }
    assert!(
        parsed > 50,
        "mutations too destructive to exercise the readers: {parsed}"
    );
}

#[test]
fn mutated_and_truncated_pe_files_give_errors_not_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for f in ["libffi-8.dll", "_bz2.pyd", "python3.dll"] {
        let seed = std::fs::read(relkit_testkit::fixture("windows-embed-3.13").join(f)).unwrap();
        // Every truncation point in the headers, then random ones.
        for len in (0..1024)
            .step_by(7)
            .chain((0..40).map(|_| rng.below(seed.len())))
        {
            let _ = binary::scan_bytes(f, &seed[..len]);
        }
        for m in mutants(&seed[..4096.min(seed.len())], &mut rng, 200) {
            let mut full = m.clone();
            full.extend_from_slice(&seed[4096.min(seed.len())..]);
            let _ = binary::scan_bytes(f, &full);
        }
    }
}

#[test]
fn zip_bomb_members_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_level(Some(9))
            .large_file(true);
        z.start_file("src/zeros.bin", opts).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..200 {
            std::io::Write::write_all(&mut z, &block).unwrap();
        }
        z.finish().unwrap();
    }
    let err = source::generate(&bomb, &source::SourceOptions::default(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("zip bomb"), "{err}");
}
