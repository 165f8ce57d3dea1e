//! relkit-catalog's integration tests: one test binary, one module per ecosystem, each
//! checked against readers that are not relkit (Trivy, npm, cargo).

mod cargo_lock;
mod common;
mod composer;
mod dist_info;
mod dotnet;
mod gem;
mod go_binary;
mod go_mod;
mod go_sum;
mod java;
mod node_modules;
mod npm_lock;
mod pnpm;
mod pylock;
mod python_lock;
mod yarn;
