//! Python lockfiles against uv itself (`uv export --frozen`) and Trivy.

use std::collections::BTreeSet;
use std::path::Path;

use relkit_catalog::{Cataloger, Error, Scope};

use crate::common::{canonical, catalog, fixture, trivy_purls};

/// `name==version` pins of `uv export` (markers and comments dropped), names normalized.
fn uv_export(dir: &Path, args: &[&str]) -> Option<BTreeSet<(String, String)>> {
    relkit_testkit::oracle("uv")?;
    let work = tempfile::tempdir().unwrap();
    for f in ["uv.lock", "pyproject.toml"] {
        std::fs::copy(dir.join(f), work.path().join(f)).unwrap();
    }
    let out = std::process::Command::new("uv")
        .args([
            "export",
            "--frozen",
            "--offline",
            "--no-hashes",
            "--format",
            "requirements-txt",
        ])
        .args(args)
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.split(';').next()?.trim().split_once("=="))
            .map(|(n, v)| (normalize(n), v.trim().to_string()))
            .collect(),
    )
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Flask's `uv.lock`: every package uv exports with all groups and extras is cataloged, and
/// the packages outside the dev scope are exactly what uv exports without any group.
#[test]
fn uv_lock_reads_like_uv_export() {
    let dir = fixture("python/flask");
    let c = catalog(&dir.join("uv.lock"));
    assert_eq!(c.format, "uv.lock v1");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let set = |dev: bool| -> BTreeSet<(String, String)> {
        c.packages
            .iter()
            .filter(|p| !p.local && (dev || p.scope != Scope::Dev))
            .map(|p| (normalize(&p.name), p.version.clone()))
            .collect()
    };
    assert!(c.packages.iter().any(|p| p.name == "flask" && p.local));
    // Every sdist's SHA-256 is carried (wheel-only packages such as tox-uv have none).
    let text = std::fs::read_to_string(dir.join("uv.lock")).unwrap();
    let sdists = text
        .lines()
        .filter(|l| l.starts_with("sdist = ") && l.contains("hash = \"sha256:"))
        .count();
    let carried = c
        .packages
        .iter()
        .filter(|p| !p.checksums.is_empty())
        .count();
    assert_eq!(carried, sdists);
    let Some(all) = uv_export(&dir, &["--all-groups", "--all-extras"]) else {
        return;
    };
    assert_eq!(set(true), all, "every package");
    let runtime = uv_export(&dir, &["--no-default-groups", "--all-extras"]).unwrap();
    assert_eq!(set(false), runtime, "run-time packages");
}

/// Poetry's own `poetry.lock` (Poetry 2 groups) and pipenv's `Pipfile.lock` have the PURLs
/// Trivy gives (Trivy leaves Pipfile's develop section out, not Poetry's groups); a pinned
/// `requirements.txt` written by pip-compile: every line, as Trivy reads it.
#[test]
fn poetry_pipfile_and_requirements_read_like_trivy() {
    // Trivy lists Poetry's dev groups too, and leaves Pipfile's `develop` out.
    for (rel, format, with_dev) in [
        ("python/poetry/poetry.lock", "poetry.lock", true),
        ("python/pipenv/Pipfile.lock", "Pipfile.lock v6", false),
        (
            "python/flask-celery/requirements.txt",
            "requirements.txt",
            true,
        ),
    ] {
        let file = fixture(rel);
        let c = catalog(&file);
        assert!(
            c.format.starts_with(format.split(" v").next().unwrap()),
            "{}",
            c.format
        );
        let ours: BTreeSet<String> = c
            .packages
            .iter()
            .filter(|p| with_dev || p.scope != Scope::Dev)
            .map(|p| p.purl.clone())
            .collect();
        assert!(!ours.is_empty());
        let Some(theirs) = trivy_purls(&file) else {
            continue;
        };
        let theirs = canonical(&theirs);
        let only_ours: Vec<_> = ours.difference(&theirs).collect();
        let only_trivy: Vec<_> = theirs.difference(&ours).collect();
        assert!(
            only_ours.is_empty() && only_trivy.is_empty(),
            "{rel}: only relkit {only_ours:?}, only trivy {only_trivy:?}"
        );
    }
}

/// Unpinned requirements, includes and editables are said, never guessed; `--hash` values
/// are carried; a lockfile version relkit does not know is an error.
#[test]
fn requirements_say_what_they_cannot_pin_and_versions_fail_closed() {
    let text = b"# pinned\nrequests==2.32.3 \\\n    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6\nurllib3>=2\n-r base.txt\n-e ./local\nZope.Interface===7.2 ; python_version >= '3.9'\n";
    let c = relkit_catalog::Requirements
        .catalog("requirements.txt", text)
        .unwrap();
    let purls: Vec<&str> = c.packages.iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(
        purls,
        ["pkg:pypi/requests@2.32.3", "pkg:pypi/zope.interface@7.2"]
    );
    assert_eq!(c.packages[0].checksums[0].algorithm, "SHA256");
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("requirements.txt:4: \"urllib3>=2\" is not pinned"));
    assert!(c.warnings[1].contains("includes another file"));
    assert!(c.warnings[2].contains("editable"));
    let err = relkit_catalog::UvLock
        .catalog("uv.lock", b"version = 2\n")
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    let err = relkit_catalog::PoetryLock
        .catalog("poetry.lock", b"[metadata]\nlock-version = \"3.0\"\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("poetry.lock version 3.0 is not supported"),
        "{err}"
    );
}
