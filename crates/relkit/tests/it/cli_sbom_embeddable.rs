//! Any CPython Windows build: python.org's embeddable zips of CPython 3.10, 3.11, 3.12 and
//! 3.13 (`.ci/deps.d/61-cpython-embeddable.sh`). Each build compiles its libraries in its own
//! way — libmpdec from `Modules/_decimal/libmpdec` (3.10–3.12) or from `externals\` (3.13),
//! zlib into `python3XX.dll`, liblzma into `_lzma.pyd`, OpenSSL 1.1 or 3.0 as DLLs — and
//! `relkit sbom generate` must find every one of them with the version that build reports at
//! run time.
//!
//! Ground truth is not relkit: `python.exe` of each zip, run under Wine, reports its own
//! libraries (`ssl.OPENSSL_VERSION`, `sqlite3.sqlite_version`, `pyexpat.EXPAT_VERSION`,
//! `zlib.ZLIB_RUNTIME_VERSION`, `_decimal.__libmpdec_version__`, `sys.version`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const WINE: &str = "/usr/lib/wine/wine64";

/// What the build says of itself at run time.
const REPORT: &str = r#"
import sys, ssl, sqlite3, pyexpat, zlib, _decimal
print("cpython", sys.version.split()[0])
print("openssl", ssl.OPENSSL_VERSION.split()[1])
print("sqlite", sqlite3.sqlite_version)
print("expat", pyexpat.EXPAT_VERSION.removeprefix("expat_"))
print("zlib", zlib.ZLIB_RUNTIME_VERSION)
print("mpdecimal", _decimal.__libmpdec_version__)
"#;

fn wine_prefix() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/relkit-data/wineprefix")
}

/// The build's run-time report, by library name; `None` after `missing` without Wine.
fn runtime_versions(unpacked: &Path) -> Option<BTreeMap<String, String>> {
    if !Path::new(WINE).is_file() {
        relkit_testkit::missing("oracle `wine64` (Debian package wine64)");
        return None;
    }
    let python = std::fs::read_dir(unpacked)
        .unwrap()
        .map(|e| e.unwrap().path().join("python.exe"))
        .find(|p| p.is_file())
        .expect("the zip holds cp3XX/python.exe");
    let out = Command::new(WINE)
        .arg(&python)
        .args(["-c", REPORT])
        .env("WINEPREFIX", wine_prefix())
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} under Wine: {stdout}{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        stdout
            .lines()
            .filter_map(|l| l.trim().split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The components of relkit's CycloneDX SBOM of `input`: name → version ("" when unknown),
/// and the top component's name and version.
fn found(input: &Path, dir: &Path) -> (BTreeMap<String, String>, (String, String)) {
    let out = dir.join("sbom.cdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate", "--kind", "binary"])
            .arg(input)
            .arg("-o")
            .arg(format!("cyclonedx-json={}", out.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let mut found = BTreeMap::new();
    for c in doc["components"].as_array().unwrap() {
        if c["type"] == "file" {
            continue;
        }
        let name = c["name"].as_str().unwrap().to_string();
        let version = c["version"].as_str().unwrap_or("").to_string();
        if let Some(old) = found.insert(name.clone(), version.clone()) {
            panic!("{name} found twice: {old} and {version}");
        }
    }
    let top = &doc["metadata"]["component"];
    let top = (
        top["name"].as_str().unwrap_or("").to_string(),
        top["version"].as_str().unwrap_or("").to_string(),
    );
    (found, top)
}

#[test]
fn every_library_of_four_cpython_windows_builds_is_found_with_its_run_time_version() {
    for minor in ["3.10", "3.11", "3.12", "3.13"] {
        let Some(zip) =
            relkit_testkit::upstream_data(&format!("cpython-embed/python-{minor}-embed-amd64.zip"))
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let unpacked = dir.path().join("unpacked");
        relkit_testkit::run_ok(
            Command::new("unzip")
                .arg("-q")
                .arg(&zip)
                .arg("-d")
                .arg(&unpacked),
        );
        let Some(truth) = runtime_versions(&unpacked) else {
            return;
        };
        assert_eq!(truth.len(), 6, "{minor}: {truth:?}");
        assert!(truth["cpython"].starts_with(minor), "{truth:?}");
        // The zip as published, and the same files unpacked: the same answer.
        let (from_zip, top) = found(&zip, dir.path());
        let (from_dir, top_of_dir) = found(&unpacked, dir.path());
        assert_eq!(from_zip, from_dir, "{minor}: zip and directory disagree");
        // The distribution is what its python.exe says it is, with no flags (the zip's name
        // here, python-3.13-embed-amd64.zip, has no patch version).
        for t in [&top, &top_of_dir] {
            assert_eq!(
                (t.0.as_str(), t.1.as_str()),
                ("CPython", truth["cpython"].as_str()),
                "{minor}"
            );
        }
        for (lib, version) in &truth {
            assert_eq!(
                from_zip.get(lib),
                Some(version),
                "CPython {minor}: {lib} (run-time {version}); relkit found {from_zip:?}"
            );
        }
        // Libraries with no run-time version API: present, and never a number read from a
        // file name (libffi-7.dll is libffi 3.3, not 7).
        for lib in ["libffi", "bzip2", "xz"] {
            let v = from_zip
                .get(lib)
                .unwrap_or_else(|| panic!("CPython {minor}: {lib} not found: {from_zip:?}"));
            assert!(!["7", "8"].contains(&v.as_str()), "{lib} {v}");
        }
        // liblzma embeds no version in _lzma.pyd: present, version unknown.
        assert_eq!(from_zip["xz"], "", "CPython {minor}");
        assert_eq!(from_zip["bzip2"], "1.0.8", "BZ2_bzlibVersion's string");
    }
}

/// psycopg2-binary's Windows wheel vendors libpq as `psycopg2_binary.libs/libpq-<hash>.dll`
/// (delvewheel renames it): relkit names it libpq from the VERSIONINFO PostgreSQL's build writes,
/// at the version `PQlibVersion()` returns when CPython 3.13's `python.exe` loads the DLL under
/// Wine (major × 10000 + minor since PostgreSQL 10) — not the file's name.
#[test]
fn windows_libpq_has_the_version_pqlibversion_returns() {
    let Some(zip) = relkit_testkit::upstream_data("cpython-embed/python-3.13-embed-amd64.zip")
    else {
        return;
    };
    let Some(wheel) =
        relkit_testkit::upstream_data("psycopg2_binary-2.9.13-cp313-cp313-win_amd64.whl")
    else {
        return;
    };
    if !Path::new(WINE).is_file() {
        relkit_testkit::missing("oracle `wine64` (Debian package wine64)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    relkit_testkit::run_ok(
        Command::new("unzip")
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(dir.path()),
    );
    let python_dir = dir.path().join("cp313");
    relkit_testkit::run_ok(
        Command::new("unzip")
            .args(["-q", "-j"])
            .arg(&wheel)
            .arg("psycopg2_binary.libs/*")
            .arg("-d")
            .arg(&python_dir),
    );
    let out = Command::new(WINE)
        .arg(python_dir.join("python.exe"))
        .args([
            "-c",
            "import ctypes, glob, os\n\
             os.add_dll_directory(os.getcwd())\n\
             n = ctypes.CDLL(os.path.abspath(glob.glob('libpq-*.dll')[0])).PQlibVersion()\n\
             print(f'{n // 10000}.{n % 10000}')",
        ])
        .current_dir(&python_dir)
        .env("WINEPREFIX", wine_prefix())
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && want.contains('.'),
        "{want}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (found, _) = found(&wheel, dir.path());
    assert_eq!(found.get("libpq"), Some(&want), "{found:?}");
}
