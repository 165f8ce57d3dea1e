//! PEP 751 `pylock.toml` against uv, which reads and writes the format (Trivy 0.6x does not
//! read it: it lists nothing for these files, checked): `uv pip install --dry-run` on real
//! pylock files, and `uv export --format pylock.toml` of Flask's `uv.lock` compared with
//! `uv export --format requirements-txt` of the same lock.

use std::collections::BTreeSet;
use std::path::Path;

use relkit_catalog::{Cataloger, Error, PyLock};

use crate::common::{catalog, fixture};

fn normalize(name: &str) -> String {
    relkit_ident::purl::pep503_name(name)
}

/// `(name, version)` of relkit's reading, names normalized, the project's own (`directory`)
/// packages excluded: the fixture has the lock file, not the project's sources, and uv
/// lists a directory package only where it can build it.
fn ours(c: &relkit_catalog::Catalog, skip: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    c.packages
        .iter()
        .filter(|p| !p.local && !skip.contains(&normalize(&p.name)))
        .map(|p| (normalize(&p.name), p.version.clone()))
        .collect()
}

/// What `uv pip install --dry-run --offline -r pylock.toml` would install.
fn uv_dry_run(file: &Path) -> Option<BTreeSet<(String, String)>> {
    relkit_testkit::oracle("uv")?;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(file, dir.path().join("pylock.toml")).unwrap();
    let out = std::process::Command::new("uv")
        .args([
            "pip",
            "install",
            "--dry-run",
            "--offline",
            "--preview-features",
            "pylock",
        ])
        .arg("--target")
        .arg(dir.path().join("t"))
        .args(["-r", "pylock.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    Some(
        stderr
            .lines()
            .filter_map(|l| l.trim().strip_prefix("+ ")?.split_once("=="))
            .map(|(n, v)| (normalize(n), v.trim().to_string()))
            .collect(),
    )
}

/// h11's (written by PDM) and spectree's (written by uv) `pylock.toml`: everything uv would install here is cataloged;
/// what relkit lists beyond it are exactly the packages whose `marker` excludes this
/// interpreter (uv evaluates markers, a catalog lists every environment's packages).
#[test]
fn pylock_reads_like_uv() {
    for dir in ["python/h11-pdm", "python/spectree"] {
        let file = fixture(&format!("{dir}/pylock.toml"));
        let c = catalog(&file);
        assert_eq!(c.format, "pylock.toml 1.0");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let text = std::fs::read_to_string(&file).unwrap();
        let sdists = text.lines().filter(|l| l.starts_with("sdist = ")).count();
        assert_eq!(
            c.packages
                .iter()
                .filter(|p| !p.checksums.is_empty())
                .count(),
            sdists
        );
        // Packages with a marker, from the TOML itself.
        let doc: toml::Table = toml::from_str(&text).unwrap();
        let marked: BTreeSet<String> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p.get("marker").is_some())
            .map(|p| normalize(p["name"].as_str().unwrap()))
            .collect();
        let Some(uv) = uv_dry_run(&file) else {
            return;
        };
        assert!(uv.is_subset(&ours(&c, &BTreeSet::new())), "{dir}");
        assert_eq!(
            ours(&c, &marked),
            uv.iter()
                .filter(|(n, _)| !marked.contains(n))
                .cloned()
                .collect(),
            "{dir}"
        );
    }
}

/// Flask's `uv.lock` exported by uv as pylock.toml: the same packages as uv's requirements
/// export of that lock.
#[test]
fn uv_written_pylock_matches_uv_export() {
    if relkit_testkit::oracle("uv").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    for f in ["uv.lock", "pyproject.toml"] {
        std::fs::copy(fixture("python/flask").join(f), work.path().join(f)).unwrap();
    }
    let export = |format: &str, out: &str| {
        relkit_testkit::run_ok(
            std::process::Command::new("uv")
                .args([
                    "export",
                    "--frozen",
                    "--offline",
                    "--all-groups",
                    "--all-extras",
                ])
                .args([
                    "--no-emit-project",
                    "--no-hashes",
                    "--format",
                    format,
                    "-o",
                    out,
                ])
                .current_dir(work.path()),
        );
        std::fs::read_to_string(work.path().join(out)).unwrap()
    };
    let pylock = export("pylock.toml", "pylock.toml");
    let reqs: BTreeSet<(String, String)> = export("requirements-txt", "requirements.txt")
        .lines()
        .filter_map(|l| l.split(';').next()?.trim().split_once("=="))
        .map(|(n, v)| (normalize(n), v.trim().to_string()))
        .collect();
    let c = PyLock.catalog("pylock.toml", pylock.as_bytes()).unwrap();
    assert_eq!(ours(&c, &BTreeSet::new()), reqs);
}

/// Versions and malformed files.
#[test]
fn pylock_versions_and_errors() {
    let err = PyLock
        .catalog(
            "pylock.toml",
            b"lock-version = \"2.0\"\ncreated-by = \"x\"\n",
        )
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let c = PyLock
        .catalog("pylock.dev.toml", b"lock-version = \"1.1\"\ncreated-by = \"x\"\n[[packages]]\nname = \"A_b\"\nversion = \"1\"\nmarker = \"'dev' in dependency_groups\"\n")
        .unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(c.packages[0].purl, "pkg:pypi/a-b@1");
    assert_eq!(c.packages[0].scope, relkit_catalog::Scope::Dev);
    let err = PyLock
        .catalog("x/pylock.toml", b"lock-version = \"1.0\"\ncreated-by = \"x\"\n[[packages]]\nname = \"a\"\nindex = \"https://pypi.org/simple\"\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x/pylock.toml: packages[0] (a): no version"),
        "{err}"
    );
}
