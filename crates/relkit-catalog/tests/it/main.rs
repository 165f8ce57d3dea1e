//! relkit-catalog's integration tests: one test binary, one module per ecosystem, each
//! checked against readers that are not relkit (Trivy, npm, cargo).

mod cargo_lock;
mod common;
mod composer;
mod gem;
mod go_binary;
mod go_mod;
mod node_modules;
mod npm_lock;
mod pnpm;
mod python_lock;
mod yarn;
