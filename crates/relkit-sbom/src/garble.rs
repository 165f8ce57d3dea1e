//! Test support for the binary readers' robustness tests: copies of a real file with a few
//! bytes flipped, the same flips every run.

/// Calls `check` on `rounds` copies of `bytes`, each with 1 to 8 bytes flipped — mostly in the
/// first `head` bytes (headers, tables, load commands), sometimes anywhere — from a fixed seed
/// (xorshift64*), so that a failure reproduces.
pub(crate) fn flipped_copies(
    bytes: &[u8],
    head: usize,
    rounds: usize,
    mut check: impl FnMut(&[u8]),
) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    for _ in 0..rounds {
        let mut copy = bytes.to_vec();
        for _ in 0..1 + next() % 8 {
            let span = if next() % 4 == 0 {
                copy.len()
            } else {
                head.min(copy.len())
            };
            let at = usize::try_from(next() % span as u64).expect("an offset in the file");
            copy[at] ^= u8::try_from(1 + next() % 255).expect("a byte");
        }
        check(&copy);
    }
}
