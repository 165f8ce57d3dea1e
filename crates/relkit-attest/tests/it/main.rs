//! relkit-attest's integration tests: one binary, a module per subject.

mod sign_attest;
mod sigstore_bundles;
