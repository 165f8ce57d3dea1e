//! relkit-archive's integration tests: one test binary for the whole crate (link time
//! dominates CI), one module per area.

mod bzip2_zstd;
mod diff_real;
mod diff_support;
mod read_fuzz_regressions;
mod read_real;
mod read_robustness;
mod xz_checks;
