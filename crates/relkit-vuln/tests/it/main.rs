//! relkit-vuln's integration tests: one test binary for the whole crate (link time
//! dominates CI), one module per area.

mod bad_input;
mod ecosystems;
mod ground_truth;
mod sample;
