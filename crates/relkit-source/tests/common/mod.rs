//! Helpers shared by the integration tests: oracles and real upstream data.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a missing oracle or data set must fail the test (CI sets RELKIT_REQUIRE_ORACLES).
pub fn oracles_required() -> bool {
    std::env::var_os("RELKIT_REQUIRE_ORACLES").is_some_and(|v| !v.is_empty())
}

/// Returns the path of a command, or fails (CI) / returns None (local) when it is missing.
pub fn oracle(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !oracles_required(),
            "oracle `{tool}` is missing (install it: see .ci/deps.d)"
        );
        eprintln!("skipping: oracle `{tool}` is not installed");
    }
    found
}

/// A real data file downloaded by `.ci/deps.d` into `target/relkit-data/`, or None locally.
pub fn upstream_data(name: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/relkit-data");
    let path = root.join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !oracles_required(),
        "real data {} is missing (CI downloads it in .ci/deps.d/15-upstream-data.sh)",
        path.display()
    );
    eprintln!(
        "skipping: {} not downloaded (run .ci/deps.d/15-upstream-data.sh)",
        path.display()
    );
    None
}

/// Runs a command and returns its stdout, panicking with its stderr on failure.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
