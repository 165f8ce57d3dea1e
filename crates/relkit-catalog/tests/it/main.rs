//! relkit-catalog's integration tests: one test binary, one module per ecosystem, each
//! checked against readers that are not relkit (Trivy, npm, cargo).

mod cargo_lock;
mod common;
mod go_mod;
mod npm_lock;
mod python_lock;
