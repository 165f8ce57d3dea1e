//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

/// relkit-sbom's fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}
