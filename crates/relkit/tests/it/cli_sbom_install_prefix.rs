//! A CPython install prefix (`make install`; here the machine's own Python, built from source
//! by pyenv): `relkit sbom generate PREFIX` names the top package CPython at the version the
//! interpreter reports (`platform.python_version()`), read from the installed
//! `include/python3.N/patchlevel.h` with no flags, and finds every library compiled into the
//! prefix's extension modules at the version the library reports at run time
//! (`pyexpat.EXPAT_VERSION`, `_decimal.__libmpdec_version__`). Which libraries are compiled in
//! and which come from the system is decided independently of relkit, by the modules'
//! `DT_NEEDED` entries as binutils' `readelf` prints them: a library linked from the system is
//! not in the prefix, and relkit must not report a version for it from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What the interpreter says about itself and the modules that carry the libraries.
struct Runtime {
    prefix: PathBuf,
    version: String,
    /// library → (its version as it reports it, the extension module that carries it).
    libraries: BTreeMap<&'static str, (String, PathBuf)>,
}

fn runtime() -> Option<Runtime> {
    relkit_testkit::oracle("python3")?;
    let out = relkit_testkit::run_ok(Command::new("python3").args([
        "-c",
        "import sys, platform, pyexpat, _decimal\n\
         print(sys.base_prefix)\n\
         print(platform.python_version())\n\
         print(pyexpat.EXPAT_VERSION.removeprefix('expat_'), pyexpat.__file__)\n\
         print(_decimal.__libmpdec_version__, _decimal.__file__)",
    ]));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let module = |l: &str| {
        let (v, f) = l.split_once(' ').unwrap();
        (v.to_string(), PathBuf::from(f))
    };
    let prefix = PathBuf::from(lines[0]);
    let version = lines[1].to_string();
    let header = prefix.join(format!(
        "include/python{}/patchlevel.h",
        version.split('.').take(2).collect::<Vec<_>>().join(".")
    ));
    if !header.is_file() {
        relkit_testkit::missing(&format!(
            "a CPython install prefix with its headers (python3's base prefix {} has no {})",
            prefix.display(),
            header.display()
        ));
        return None;
    }
    let mut libraries = BTreeMap::new();
    libraries.insert("expat", module(lines[2]));
    libraries.insert("mpdecimal", module(lines[3]));
    Some(Runtime {
        prefix,
        version,
        libraries,
    })
}

/// The shared libraries an ELF file needs, as `readelf -d` prints them.
fn needed(file: &Path) -> Option<Vec<String>> {
    relkit_testkit::oracle("readelf")?;
    let out = relkit_testkit::run_ok(Command::new("readelf").arg("-d").arg(file));
    Some(
        String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_string()))
            .collect(),
    )
}

#[test]
fn an_install_prefix_is_its_cpython_with_the_libraries_compiled_in() {
    let Some(rt) = runtime() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prefix.cdx.json");
    // The interpreter and its standard library; what pip installed is another test's subject.
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args([
                "-q",
                "sbom",
                "generate",
                "--exclude",
                "lib/python3*/site-packages",
            ])
            .arg(&rt.prefix)
            .arg("-o")
            .arg(format!("cyclonedx-json={}", out.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let top = &doc["metadata"]["component"];
    assert_eq!(
        (top["name"].as_str(), top["version"].as_str()),
        ("CPython".into(), Some(rt.version.as_str())),
        "{top}"
    );
    // The CPE CPython's release tooling gives a final release (a pre-release puts its tag in
    // the update field).
    if rt.version.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        assert_eq!(
            top["cpe"].as_str(),
            Some(format!("cpe:2.3:a:python:python:{}:*:*:*:*:*:*:*", rt.version).as_str()),
            "{top}"
        );
    }
    let mut found: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    // An install prefix is a distribution: its packages, not one element per file (--files).
    assert!(
        !doc["components"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "file"),
        "files listed without --files"
    );
    let mut walk = vec![doc["components"].clone(), top["components"].clone()];
    while let Some(cs) = walk.pop() {
        for c in cs.as_array().into_iter().flatten() {
            let files = c["evidence"]["occurrences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["location"].as_str().map(str::to_string))
                .collect();
            found
                .entry(c["name"].as_str().unwrap_or("").to_string())
                .or_default()
                .push((c["version"].as_str().unwrap_or("").to_string(), files));
            walk.push(c["components"].clone());
        }
    }
    let mut compiled_in = 0;
    for (lib, (version, module)) in &rt.libraries {
        let Some(needs) = needed(module) else { return };
        let rel = module
            .strip_prefix(&rt.prefix)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let shared = match *lib {
            "expat" => "libexpat.so",
            _ => "libmpdec.so",
        };
        if needs.iter().any(|n| n.starts_with(shared)) {
            // Linked from the system: not in the prefix, so no version of it from here.
            assert!(
                found
                    .get(*lib)
                    .is_none_or(|v| v.iter().all(|(_, files)| !files.contains(&rel))),
                "{lib} is linked from the system ({needs:?}), yet reported in {rel}: {found:?}"
            );
            continue;
        }
        compiled_in += 1;
        let hits = found
            .get(*lib)
            .unwrap_or_else(|| panic!("{lib} (compiled into {rel}) not found: {found:?}"));
        assert!(
            hits.iter()
                .any(|(v, files)| v == version && files.contains(&rel)),
            "{lib}: the runtime reports {version} in {rel}; relkit says {hits:?}"
        );
    }
    assert!(
        compiled_in > 0,
        "no library of the runtime is compiled into this prefix"
    );
}
