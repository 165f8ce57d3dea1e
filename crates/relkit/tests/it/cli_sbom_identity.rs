//! `relkit sbom generate` names the top package as the input states it (issue #18 part 6):
//! CPython's official tarball under its own name, Debian's name and a wrong name is CPython of
//! the version its `Include/patchlevel.h` says — read here by Python's `tarfile`, not by relkit;
//! real manifests and build files of real projects (fixtures/identity, see ATTRIBUTION.md) give
//! the name and version their own tools read (Python's `tomllib` and `json`, `autoconf
//! --trace`); a version computed at build time (an m4 macro, a PEP 621 dynamic version) gives
//! no version; flags and `relkit.toml` win; the record of where each field came from is in the
//! top package's comment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use relkit_testkit::{run_oracle, upstream_data};
use serde_json::Value;

fn relkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The top package of `relkit sbom generate INPUT EXTRA…` as SPDX: (document, top package).
fn generate(input: &Path, extra: &[&str], out: &Path) -> (Value, Value) {
    let o = relkit()
        .env("SOURCE_DATE_EPOCH", "1749600000")
        .args(["sbom", "generate"])
        .arg(input)
        .args(extra)
        .args(["-q", "-o"])
        .arg(format!("spdx-json={}", out.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    let described: Vec<&str> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "DESCRIBES")
        .map(|r| r["relatedSpdxElement"].as_str().unwrap())
        .collect();
    assert_eq!(described.len(), 1, "{described:?}");
    let top = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["SPDXID"] == described[0])
        .unwrap()
        .clone();
    (doc, top)
}

/// (name, version, comment) of the top package.
fn identity(top: &Value) -> (String, Option<String>, String) {
    (
        top["name"].as_str().unwrap().to_string(),
        top["versionInfo"].as_str().map(str::to_string),
        top["comment"].as_str().unwrap_or_default().to_string(),
    )
}

/// Runs a Python oracle script with arguments; its stdout lines.
fn python(script: &str, args: &[&str]) -> Option<Vec<String>> {
    let mut all = vec!["-c", script];
    all.extend(args);
    let o = run_oracle("python3", &all)?;
    assert!(o.status.success(), "python3 oracle failed: {}", text(&o));
    Some(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// CPython's version as its tarball's `Include/patchlevel.h` says it, and the
/// `PACKAGE_VERSION` its generated `configure` got from `AC_INIT([python],[PYTHON_VERSION])`.
const PATCHLEVEL: &str = r#"
import re, sys, tarfile
t = tarfile.open(sys.argv[1])
root = t.getnames()[0].split("/")[0]
h = t.extractfile(root + "/Include/patchlevel.h").read().decode()
print(re.search(r'^#define PY_VERSION\s+"([^"]+)"', h, re.M).group(1))
c = t.extractfile(root + "/configure").read().decode()
print(re.search(r"^PACKAGE_VERSION='([^']*)'", c, re.M).group(1))
"#;

#[test]
fn cpython_tarball_under_its_own_debian_and_a_wrong_name_is_cpython_of_its_patchlevel() {
    let Some(tarball) = upstream_data("python3.13_3.13.5.orig.tar.xz") else {
        return;
    };
    let Some(lines) = python(PATCHLEVEL, &[tarball.to_str().unwrap()]) else {
        return;
    };
    let (py_version, package_version) = (&lines[0], &lines[1]);
    assert_eq!(py_version, "3.13.5");
    // What configure.ac's AC_INIT expands to is the minor series, not the release: reading the
    // m4 macro's value would have been a wrong version.
    assert_eq!(package_version, "3.13");
    let tmp = tempfile::tempdir().unwrap();
    let official = tmp.path().join("Python-3.13.5.tar.xz");
    let wrong = tmp.path().join("Python-3.13.15.tar.xz");
    for link in [&official, &wrong] {
        std::os::unix::fs::symlink(&tarball, link).unwrap();
    }
    for (i, input) in [&tarball, &official, &wrong].into_iter().enumerate() {
        let out = tmp.path().join(format!("{i}.spdx.json"));
        let (doc, top) = generate(input, &[], &out);
        let (name, version, comment) = identity(&top);
        // release-tools' sbom.py: name "CPython", SPDXRef-PACKAGE-cpython.
        assert_eq!(
            (name.as_str(), version.as_deref()),
            ("CPython", Some(py_version.as_str())),
            "{}",
            input.display()
        );
        assert_eq!(top["SPDXID"], "SPDXRef-PACKAGE-cpython");
        assert_eq!(doc["name"], format!("CPython-{py_version}"));
        assert_eq!(
            comment,
            format!(
                "Top package identity: name CPython and version {py_version} from \
                 Include/patchlevel.h (CPython's version header; #define PY_VERSION \"{py_version}\")"
            )
        );
        if i == 0 {
            // The SBOM with the inferred identity is still valid SPDX 2.3 for pyspdxtools.
            if let Some(o) = run_oracle("pyspdxtools", &["-i", out.to_str().unwrap()]) {
                assert!(
                    o.status.success() && o.stdout.is_empty(),
                    "pyspdxtools rejects the SBOM: {}",
                    text(&o)
                );
            }
        }
    }
}

/// name, version (or "-") of a manifest as Python's own readers see it: `tomllib` for
/// Cargo.toml (`version.workspace = true` resolved in the same file) and pyproject.toml (a
/// version listed in `dynamic` is none), `json` for package.json.
const MANIFEST: &str = r#"
import json, sys, tomllib
path = sys.argv[1]
if path.endswith("package.json"):
    d = json.load(open(path))
    print(d["name"]); print(d.get("version", "-"))
elif path.endswith("pyproject.toml"):
    p = tomllib.load(open(path, "rb"))["project"]
    print(p["name"]); print("-" if "version" in p.get("dynamic", []) else p.get("version", "-"))
else:
    t = tomllib.load(open(path, "rb"))
    p = t["package"]
    v = p.get("version", "-")
    if isinstance(v, dict) and v.get("workspace"):
        v = t["workspace"]["package"]["version"]
    print(p["name"]); print(v)
"#;

/// `autoconf --trace` of AC_INIT's first two arguments, as autoconf collects them (run in a
/// temporary directory: autoconf leaves its `autom4te.cache` there).
fn autoconf_trace(dir: &Path) -> Option<String> {
    let autoconf = relkit_testkit::oracle("autoconf")?;
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("configure.ac"), work.path().join("configure.ac")).unwrap();
    let o = Command::new(autoconf)
        .args(["--trace=AC_INIT:$1|$2", "configure.ac"])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "autoconf --trace failed: {}", text(&o));
    Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
}

#[test]
fn real_manifests_give_the_name_and_version_their_own_readers_see() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, file, source) in [
        (
            "cargo-adler2",
            "Cargo.toml",
            "Cargo.toml ([package] name; [package] version)",
        ),
        (
            "cargo-wasmtime",
            "Cargo.toml",
            "Cargo.toml ([package] name; [package] version.workspace = true, [workspace.package] version)",
        ),
        (
            "pyproject-flask",
            "pyproject.toml",
            "pyproject.toml ([project] name; [project] version)",
        ),
        (
            "npm-json-server",
            "package.json",
            "package.json (\"name\"; \"version\")",
        ),
    ] {
        let path = fixtures().join(dir).join(file);
        let Some(want) = python(MANIFEST, &[path.to_str().unwrap()]) else {
            return;
        };
        let (_, top) = generate(&fixtures().join(dir), &[], &tmp.path().join("o.json"));
        let (name, version, comment) = identity(&top);
        assert_eq!(
            (name.as_str(), version.as_deref()),
            (want[0].as_str(), Some(want[1].as_str()))
        );
        assert_eq!(
            comment,
            format!(
                "Top package identity: name {} and version {} from {source}",
                want[0], want[1]
            ),
            "{dir}"
        );
    }

    // Build systems: the values as written in the real files (hand-checked: fribidi's
    // meson.build starts `project('fribidi', 'c', version: '1.0.16',`, nlohmann/json's
    // CMakeLists.txt has `project(nlohmann_json VERSION 3.11.3 LANGUAGES CXX)`); libb2's
    // AC_INIT as autoconf itself traces it.
    let (_, top) = generate(
        &fixtures().join("cmake-nlohmann_json"),
        &[],
        &tmp.path().join("c.json"),
    );
    assert_eq!(
        identity(&top),
        (
            "nlohmann_json".into(),
            Some("3.11.3".into()),
            "Top package identity: name nlohmann_json and version 3.11.3 from CMakeLists.txt \
             (project() name; project() VERSION 3.11.3)"
                .into()
        )
    );
    let libb2 = fixtures().join("autoconf-libb2");
    let (_, top) = generate(&libb2, &[], &tmp.path().join("a.json"));
    let (name, version, comment) = identity(&top);
    if let Some(trace) = autoconf_trace(&libb2) {
        assert_eq!(trace, format!("{name}|{}", version.clone().unwrap()));
    }
    assert_eq!(
        (name.as_str(), version.as_deref()),
        ("libb2", Some("0.98.1"))
    );
    assert!(
        comment.contains("from configure.ac (AC_INIT package; AC_INIT version [0.98.1])"),
        "{comment}"
    );
}

#[test]
fn a_version_computed_at_build_time_is_no_version() {
    let tmp = tempfile::tempdir().unwrap();
    // pytest's pyproject.toml: `dynamic = ["version"]` (setuptools-scm).
    let pytest = fixtures().join("pyproject-pytest");
    if let Some(want) = python(MANIFEST, &[pytest.join("pyproject.toml").to_str().unwrap()]) {
        assert_eq!(want, ["pytest", "-"]);
    }
    let (_, top) = generate(&pytest, &[], &tmp.path().join("p.json"));
    let (name, version, comment) = identity(&top);
    assert_eq!((name.as_str(), version), ("pytest", None));
    assert_eq!(
        comment,
        "Top package identity: name pytest from pyproject.toml ([project] name); version unknown: \
         pyproject.toml: [project] version is dynamic"
    );
    // CPython 3.13.5's configure.ac (its first 17 lines): AC_INIT([python],[PYTHON_VERSION]),
    // the version an m4 macro (autoconf traces the argument as the macro's name; the release's
    // configure expands it to "3.13", not 3.13.5).
    let cpython = fixtures().join("autoconf-cpython");
    if let Some(trace) = autoconf_trace(&cpython) {
        assert_eq!(trace, "python|PYTHON_VERSION");
    }
    let (_, top) = generate(&cpython, &[], &tmp.path().join("c.json"));
    let (name, version, comment) = identity(&top);
    assert_eq!((name.as_str(), version), ("python", None));
    assert!(
        comment.ends_with(
            "version unknown: configure.ac: AC_INIT version [PYTHON_VERSION] is an m4 expression, \
             not a version literal"
        ),
        "{comment}"
    );
}

#[test]
fn contents_first_then_names_of_the_same_project_and_flags_win() {
    let tmp = tempfile::tempdir().unwrap();
    // fribidi has both: meson.build states fribidi 1.0.16; configure.ac names "GNU FriBidi"
    // with the version an m4 macro (autoconf expands it to the same 1.0.16).
    let fribidi = fixtures().join("fribidi");
    if let Some(trace) = autoconf_trace(&fribidi) {
        assert_eq!(trace, "GNU FriBidi|1.0.16");
    }
    let (_, top) = generate(&fribidi, &[], &tmp.path().join("f.json"));
    assert_eq!(
        identity(&top),
        (
            "fribidi".into(),
            Some("1.0.16".into()),
            "Top package identity: name fribidi and version 1.0.16 from meson.build \
             (project() name; project() version: '1.0.16')"
                .into()
        )
    );

    // A dynamic version, in a directory named after the same project with a version: that
    // version, recorded as the directory's; under another name: none.
    let copy = |from: &str, to: &str| {
        let dir = tmp.path().join(to);
        relkit_testkit::copy_dir(&fixtures().join(from), &dir);
        dir
    };
    let (_, top) = generate(
        &copy("pyproject-pytest", "pytest-8.4.1"),
        &[],
        &tmp.path().join("1.json"),
    );
    let (name, version, comment) = identity(&top);
    assert_eq!(
        (name.as_str(), version.as_deref()),
        ("pytest", Some("8.4.1"))
    );
    assert!(
        comment.ends_with("version 8.4.1 from directory name pytest-8.4.1 (NAME-VERSION)"),
        "{comment}"
    );
    let (_, top) = generate(
        &copy("pyproject-pytest", "other-8.4.1"),
        &[],
        &tmp.path().join("2.json"),
    );
    assert_eq!(identity(&top).1, None);

    // A renamed tree: the contents win over the name.
    let (_, top) = generate(
        &copy("cmake-nlohmann_json", "nlohmann_json-9.9.9"),
        &[],
        &tmp.path().join("3.json"),
    );
    assert_eq!(identity(&top).1.as_deref(), Some("3.11.3"));

    // Flags win, field by field, and say so.
    let flask = fixtures().join("pyproject-flask");
    let (_, top) = generate(
        &flask,
        &["--name", "flask-fork", "--version", "9"],
        &tmp.path().join("4.json"),
    );
    assert_eq!(
        identity(&top),
        (
            "flask-fork".into(),
            Some("9".into()),
            "Top package identity: name flask-fork given (--name); version 9 given (--version)"
                .into()
        )
    );
    let (_, top) = generate(
        &flask,
        &["--name", "flask-fork"],
        &tmp.path().join("5.json"),
    );
    let (name, version, comment) = identity(&top);
    assert_eq!(
        (name.as_str(), version.as_deref()),
        ("flask-fork", Some("3.2.0.dev"))
    );
    assert_eq!(
        comment,
        "Top package identity: name flask-fork given (--name); version 3.2.0.dev from \
         pyproject.toml ([project] version)"
    );
    // relkit.toml [project] wins over the tree's own files too.
    let with_toml = copy("pyproject-flask", "flask-with-relkit-toml");
    std::fs::write(
        with_toml.join("relkit.toml"),
        "[project]\nname = \"flask-fork\"\n",
    )
    .unwrap();
    let (_, top) = generate(&with_toml, &[], &tmp.path().join("6.json"));
    assert_eq!(
        identity(&top).2,
        "Top package identity: name flask-fork given (relkit.toml [project] name); version \
         3.2.0.dev from pyproject.toml ([project] version)"
    );
}
