//! An installed environment: real manylinux wheels unpacked side by side, as `pip install
//! --target` lays them out (`.ci/deps.d/57-pep770-wheels.sh`). `relkit sbom generate DIR`
//! finds every distribution (its dist-info) and, in the native binaries of the tree, the
//! libraries the wheels vendor (`pillow.libs/`, `psycopg2_binary.libs/`), each contained in its
//! distribution — the same libraries, with the same versions, as the wheels given one by one
//! (whose versions crates/relkit/tests/it/cli_sbom_pep770.rs checks against the libraries'
//! run-time reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

const WHEELS: [(&str, &str); 2] = [
    (
        "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "psycopg2-binary",
    ),
    (
        "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "pillow",
    ),
];

/// relkit's SPDX document of `input`.
fn spdx(input: &Path, out: &Path) -> serde_json::Value {
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(input)
            .arg("-o")
            .arg(format!("spdx-json={}", out.display())),
    );
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

/// (name, version) of the packages `container` CONTAINS, by the container's name.
fn contained(doc: &serde_json::Value) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let packages = doc["packages"].as_array().unwrap();
    let by_id: BTreeMap<&str, (&str, &str)> = packages
        .iter()
        .map(|p| {
            (
                p["SPDXID"].as_str().unwrap(),
                (
                    p["name"].as_str().unwrap(),
                    p["versionInfo"].as_str().unwrap_or(""),
                ),
            )
        })
        .collect();
    let mut out: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for r in doc["relationships"].as_array().unwrap() {
        if r["relationshipType"] != "CONTAINS" {
            continue;
        }
        let (Some(from), Some(to)) = (
            by_id.get(r["spdxElementId"].as_str().unwrap()),
            by_id.get(r["relatedSpdxElement"].as_str().unwrap()),
        ) else {
            continue;
        };
        out.entry(from.0.to_ascii_lowercase())
            .or_default()
            .insert((to.0.to_string(), to.1.to_string()));
    }
    out
}

#[test]
fn an_installed_environment_shows_each_distribution_s_vendored_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    let mut from_wheels = BTreeMap::new();
    for (file, name) in WHEELS {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        relkit_testkit::run_ok(
            Command::new("unzip")
                .arg("-q")
                .arg(&wheel)
                .arg("-d")
                .arg(&site),
        );
        // The wheel's own vendored libraries (not its PEP 770 declarations, which name the
        // build system's packages): the packages with relkit's binary evidence.
        let found: BTreeSet<(String, String)> =
            super::cli_sbom_version_unknown::vendored(&wheel, dir.path())
                .into_iter()
                .map(|(name, (version, _))| (name, version))
                .collect();
        assert!(found.len() >= 2, "{name}: {found:?}");
        from_wheels.insert(name.to_string(), found);
    }
    let doc = spdx(&site, &dir.path().join("site.spdx.json"));
    relkit_testkit::pyspdxtools_accepts(&dir.path().join("site.spdx.json"));
    let contained = contained(&doc);
    for (name, libs) in &from_wheels {
        let in_tree = contained
            .get(name)
            .unwrap_or_else(|| panic!("{name} contains nothing: {contained:?}"));
        for lib in libs {
            assert!(
                in_tree.contains(lib),
                "{name}: {lib:?} (found in the wheel) not in the installed tree: {in_tree:?}"
            );
        }
    }
    // No version is a file-name number (libpq-….so.5.17, libwebp-….so.7.2.0).
    for p in doc["packages"].as_array().unwrap() {
        let v = p["versionInfo"].as_str().unwrap_or("");
        assert!(!["5.17", "7.2.0", "16.56.0"].contains(&v), "{p}");
    }
    files_only_where_asked(&site, dir.path(), &doc, &contained);
}

/// An installed environment's SBOM has its distributions and libraries, not one element per
/// file, and says so; `--files` lists every file, each SHA-256 equal to the one pip's RECORD
/// gives for it (the wheels' own statement), with the same packages.
fn files_only_where_asked(
    site: &Path,
    dir: &Path,
    doc: &serde_json::Value,
    contained: &BTreeMap<String, BTreeSet<(String, String)>>,
) {
    assert!(
        doc.get("files")
            .is_none_or(|f| f.as_array().unwrap().is_empty())
    );
    let top_id = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["relationshipType"] == "DESCRIBES")
        .and_then(|r| r["relatedSpdxElement"].as_str())
        .unwrap();
    let top = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == top_id)
        .unwrap();
    assert_eq!(top["filesAnalyzed"], false, "{top}");
    assert!(
        top["comment"].as_str().unwrap_or("").contains(
            "an installed Python environment (*.dist-info at its root); --files lists it"
        ),
        "{top}"
    );
    let out = dir.join("site-files.spdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate", "--files"])
            .arg(site)
            .arg("-o")
            .arg(format!("spdx-json={}", out.display())),
    );
    relkit_testkit::pyspdxtools_accepts(&out);
    let listed: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(&self::contained(&listed), contained);
    let sha256: BTreeMap<String, String> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let sum = f["checksums"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["algorithm"] == "SHA256")
                .unwrap();
            (
                f["fileName"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                sum["checksumValue"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let on_disk = all_files(site);
    let on_disk = on_disk.len();
    assert_eq!(sha256.len(), on_disk, "every file listed once");
    // pip's RECORD: `path,sha256=<base64url, unpadded>,size` for every installed file.
    let mut checked = 0;
    for record in all_files(site).into_iter().filter(|p| {
        p.ends_with("RECORD")
            && p.parent()
                .is_some_and(|d| d.to_string_lossy().ends_with(".dist-info"))
    }) {
        for line in std::fs::read_to_string(&record).unwrap().lines() {
            let mut parts = line.rsplitn(3, ',');
            let (_, hash, path) = (
                parts.next(),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let Some(b64) = hash.strip_prefix("sha256=") else {
                continue;
            };
            let want = hex_of_base64url(b64);
            assert_eq!(sha256.get(path), Some(&want), "{path}: RECORD says {want}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} RECORD lines checked");
}

/// Every regular file under `dir`.
fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(all_files(&e.path()));
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    out
}

/// Lower-case hex of unpadded base64url (RFC 4648 §5), as RECORD writes hashes.
fn hex_of_base64url(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = String::new();
    for c in s.bytes() {
        let v = A.iter().position(|&a| a == c).expect("base64url") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push_str(&format!("{:02x}", (bits >> n) & 0xff));
        }
    }
    out
}

/// A release's `dist/` (wheels side by side, not unpacked): each top-level wheel is read as a
/// wheel, its distribution contained in the directory's package and containing the libraries it
/// vendors — the same as each wheel given alone; the SPDX document is valid for pyspdxtools.
#[test]
fn a_directory_of_wheels_lists_each_wheel_with_its_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let mut want = BTreeMap::new();
    for (file, name) in WHEELS {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        std::fs::copy(&wheel, dist.join(file)).unwrap();
        let alone: BTreeSet<(String, String)> =
            super::cli_sbom_version_unknown::vendored(&wheel, dir.path())
                .into_iter()
                .map(|(name, (version, _))| (name, version))
                .collect();
        want.insert(name.to_string(), alone);
    }
    let out = dir.path().join("dist.spdx.json");
    let doc = spdx(&dist, &out);
    relkit_testkit::pyspdxtools_accepts(&out);
    let contained = contained(&doc);
    let top = contained
        .get("dist")
        .unwrap_or_else(|| panic!("{contained:?}"));
    for (name, libs) in &want {
        assert!(
            top.iter().any(|(n, _)| n == name),
            "dist does not contain {name}: {top:?}"
        );
        let in_dist = contained
            .get(name)
            .unwrap_or_else(|| panic!("{name} contains nothing: {contained:?}"));
        for lib in libs {
            assert!(in_dist.contains(lib), "{name}: {lib:?} not in {in_dist:?}");
        }
    }
}
