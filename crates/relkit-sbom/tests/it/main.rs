//! relkit-sbom's integration tests, one binary: real data (CPython's source and SBOMs, the
//! SPDX/CycloneDX conformance documents, Windows DLLs) and deterministic mutation tests.

mod common;
mod real_data;
mod robustness;
