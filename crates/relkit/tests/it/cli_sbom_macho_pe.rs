//! The macOS (delocate: `NAME/.dylibs/*.dylib`, Mach-O) and Windows (delvewheel:
//! `NAME.libs/*.dll`, PE) wheels of the releases whose manylinux wheels the PEP 770 tests use
//! (Pillow 12.2.0, psycopg2-binary 2.9.13, lxml 6.2.0; `.ci/deps.d/59-macos-windows-wheels.sh`).
//! Ground truth is not relkit: it is what the Linux wheel's libraries report at run time
//! (python3 + ctypes, [`super::cli_sbom_pep770::runtime_versions`] and
//! [`super::cli_sbom_pep770::lxml_runtime_versions`]). Every library with a run-time version on
//! Linux must be found at that version in each macOS architecture, or the macOS wheel must not
//! ship its file at all (checked on the wheel's file list), or it is listed here as another
//! build (with the version a Python regex reads from the file's own bytes).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::cli_sbom_pep770::{lxml_runtime_versions, runtime_versions};

const PILLOW_LINUX: &str =
    "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
const PILLOW_MAC: [&str; 2] = [
    "pillow-12.2.0-cp313-cp313-macosx_10_13_x86_64.whl",
    "pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl",
];
const PILLOW_WIN: &str = "pillow-12.2.0-cp313-cp313-win_amd64.whl";
const PSYCOPG_LINUX: &str =
    "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
const PSYCOPG_MAC: [&str; 2] = [
    "psycopg2_binary-2.9.13-cp313-cp313-macosx_10_13_x86_64.whl",
    "psycopg2_binary-2.9.13-cp313-cp313-macosx_11_0_arm64.whl",
];
const PSYCOPG_WIN: &str = "psycopg2_binary-2.9.13-cp313-cp313-win_amd64.whl";
const LXML_LINUX: &str = "lxml-6.2.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
const LXML_MAC: &str = "lxml-6.2.0-cp311-cp311-macosx_10_9_universal2.whl";
const LXML_WIN: &str = "lxml-6.2.0-cp311-cp311-win_amd64.whl";

/// Libraries that a macOS or Windows wheel carries in another release than the Linux wheel
/// (the Linux wheels copy CentOS 7's krb5 1.15.1; the macOS build compiles krb5 1.22.2, the
/// Windows build links OpenSSL 3.6.3): wheel, library, the file's member-name prefix, and the
/// regex with which Python reads the version from that file's bytes (the library's own banner).
const OTHER_BUILDS: &[(&str, &str, &str, &str)] = &[
    (
        PSYCOPG_MAC[0],
        "krb5",
        "psycopg2/.dylibs/libkrb5.",
        r"KRB5_BRAND: krb5-(\d+\.\d+\.\d+)",
    ),
    (
        PSYCOPG_MAC[1],
        "krb5",
        "psycopg2/.dylibs/libkrb5.",
        r"KRB5_BRAND: krb5-(\d+\.\d+\.\d+)",
    ),
    (
        PSYCOPG_WIN,
        "openssl",
        "psycopg2_binary.libs/libcrypto-",
        r"OpenSSL (\d+\.\d+\.\d+) \d+ \w+ \d{4}",
    ),
];

// In the macOS libavif, libaom's own version ("3.13.2", `aom_codec_version_str`) is a bare
// `__TEXT` string like libavif's: it is libaom's because libaom's banner in the same file says
// so, and libavif is found at its run-time version like the others (it was ambiguous before).

/// The file-name prefix (after `.dylibs/` or `.libs/`) of the library that carries `name`.
fn file_prefix(name: &str) -> &'static str {
    match name {
        "zstd" => "libzstd",
        "xz" => "liblzma",
        "pcre" => "libpcre",
        "cyrus-sasl" => "libsasl2",
        "keyutils" => "libkeyutils",
        "krb5" => "libkrb5",
        "openssl" => "libcrypto",
        "libpng" => "libpng",
        "libtiff" => "libtiff",
        "harfbuzz" => "libharfbuzz",
        "libavif" | "dav1d" | "libaom" => "libavif",
        "openjpeg" => "libopenjp2",
        other => panic!("no file prefix for {other}: add it"),
    }
}

/// The members of a wheel, listed by Python's zipfile.
fn members(wheel: &Path) -> Option<Vec<String>> {
    let out = relkit_testkit::run_oracle(
        "python3",
        &[
            "-c",
            "import sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)",
            wheel.to_str().unwrap(),
        ],
    )?;
    assert!(out.status.success());
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// The version Python's `re` reads with `regex` from the wheel member starting with `prefix`.
fn banner_version(wheel: &Path, prefix: &str, regex: &str) -> Option<String> {
    let script = r#"
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = next(n for n in z.namelist() if n.startswith(sys.argv[2]))
found = sorted({m.group(1).decode() for m in re.finditer(sys.argv[3].encode(), z.read(name))})
print(" ".join(found))
"#;
    let out = relkit_testkit::run_oracle(
        "python3",
        &["-c", script, wheel.to_str().unwrap(), prefix, regex],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        !found.is_empty() && !found.contains(' '),
        "{prefix}: {found:?}"
    );
    Some(found)
}

/// A package of a generated SPDX document: version and evidence bodies (file, method, text).
struct Found {
    version: Option<String>,
    comment: String,
    evidence: Vec<serde_json::Value>,
}

/// `relkit sbom generate INPUT` (SPDX): packages by name, and stderr.
fn generate(input: &Path, dir: &Path) -> (BTreeMap<String, Vec<Found>>, String) {
    let spdx = dir.join(format!(
        "{}.spdx.json",
        input.file_name().unwrap().to_string_lossy()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["sbom", "generate"])
        .arg(input)
        .arg("-o")
        .arg(format!("spdx-json={}", spdx.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}: {stderr}", input.display());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let mut found: BTreeMap<String, Vec<Found>> = BTreeMap::new();
    for p in doc["packages"].as_array().unwrap() {
        let evidence = p["annotations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| {
                let c = a["comment"].as_str()?.strip_prefix("relkit-evidence: ")?;
                serde_json::from_str(c).ok()
            })
            .collect();
        found
            .entry(p["name"].as_str().unwrap().to_string())
            .or_default()
            .push(Found {
                version: p["versionInfo"].as_str().map(str::to_string),
                comment: p["comment"].as_str().unwrap_or_default().to_string(),
                evidence,
            });
    }
    (found, stderr)
}

/// Checks one non-Linux wheel against the Linux run-time versions `want` (`name version`
/// lines); `dir_marker` is where the platform's repair tool puts libraries (`/.dylibs/`,
/// `.libs/`). Returns how many libraries were confirmed at the run-time version.
fn check_wheel(wheel_name: &str, want: &[String], dir_marker: &str, dir: &Path) -> Option<usize> {
    let wheel = relkit_testkit::upstream_data(wheel_name)?;
    let files = members(&wheel)?;
    let (found, stderr) = generate(&wheel, dir);
    let mut confirmed = 0;
    for line in want {
        let (name, version) = line.split_once(' ').unwrap();
        let shipped = files
            .iter()
            .any(|f| f.contains(&format!("{dir_marker}{}", file_prefix(name))));
        if let Some((_, _, prefix, regex)) = OTHER_BUILDS
            .iter()
            .find(|(w, n, _, _)| *w == wheel_name && *n == name)
        {
            let theirs = banner_version(&wheel, prefix, regex)?;
            assert!(
                !relkit_ident::version::same_release(&theirs, version),
                "{wheel_name}: {name} is {theirs} as on Linux now: remove it from OTHER_BUILDS"
            );
            let ours: Vec<Option<&str>> = found
                .get(name)
                .into_iter()
                .flatten()
                .map(|f| f.version.as_deref())
                .collect();
            assert_eq!(ours, [Some(theirs.as_str())], "{wheel_name}: {name}");
            continue;
        }
        match found.get(name) {
            Some(ps) => {
                assert_eq!(ps.len(), 1, "{wheel_name}: {name}");
                let ours = ps[0].version.as_deref().unwrap_or_default();
                assert!(
                    relkit_ident::version::same_release(ours, version),
                    "{wheel_name}: {name} is {ours} for relkit, {version} at run time on Linux"
                );
                assert!(
                    ps[0].comment.contains(dir_marker.trim_start_matches('/')),
                    "{wheel_name}: {name}: {}",
                    ps[0].comment
                );
                confirmed += 1;
            }
            None => assert!(
                !shipped,
                "{wheel_name}: the Linux wheel's {name} {version} is not found, but its file is \
                 in the wheel: {stderr}"
            ),
        }
    }
    Some(confirmed)
}

/// Pillow's and psycopg2-binary's macOS wheels (thin x86_64 and arm64) carry, for every library
/// the Linux wheel's libraries report a version for at run time, that library at that version
/// (or do not ship its file, or are a listed other build); psycopg2-binary's
/// Windows wheel carries OpenSSL as a DLL (another release, read from its banner by Python), and
/// Pillow's Windows wheel vendors no DLL at all. The macOS OpenSSL's install name and
/// `current_version` (3.0.0) are evidence, and its version stays the run-time 3.5.8.
#[test]
fn macos_and_windows_wheels_carry_the_linux_wheels_run_time_versions() {
    let dir = tempfile::tempdir().unwrap();
    for (linux, macs, at_least) in [
        (PILLOW_LINUX, PILLOW_MAC, 7),
        (PSYCOPG_LINUX, PSYCOPG_MAC, 1),
    ] {
        let Some(wheel) = relkit_testkit::upstream_data(linux) else {
            return;
        };
        let Some(want) = runtime_versions(&wheel, &dir.path().join(linux)) else {
            return;
        };
        for mac in macs {
            let Some(n) = check_wheel(mac, &want, "/.dylibs/", dir.path()) else {
                return;
            };
            assert!(n >= at_least, "{mac}: {n} confirmed of {want:?}");
        }
    }
    let Some(want) = relkit_testkit::upstream_data(PSYCOPG_LINUX)
        .and_then(|w| runtime_versions(&w, &dir.path().join("again")))
    else {
        return;
    };
    if check_wheel(PSYCOPG_WIN, &want, ".libs/", dir.path()).is_none() {
        return;
    }
    for win in [PILLOW_WIN, LXML_WIN] {
        let Some(files) = relkit_testkit::upstream_data(win).and_then(|w| members(&w)) else {
            return;
        };
        let dlls: Vec<&String> = files
            .iter()
            .filter(|f| f.contains(".libs/") && f.ends_with(".dll"))
            .collect();
        assert!(dlls.is_empty(), "{win}: {dlls:?}");
    }

    // The soname / install-name number is evidence, never the version.
    let Some(wheel) = relkit_testkit::upstream_data(PSYCOPG_MAC[1]) else {
        return;
    };
    let (found, _) = generate(&wheel, dir.path());
    let openssl = &found["openssl"];
    assert_eq!(openssl.len(), 1);
    assert_eq!(openssl[0].version.as_deref(), Some("3.5.8"));
    let id = openssl[0]
        .evidence
        .iter()
        .find(|e| e["method"] == "macho-id-dylib")
        .unwrap_or_else(|| panic!("{:?}", openssl[0].evidence));
    assert!(
        id["text"]
            .as_str()
            .unwrap()
            .contains("libcrypto.3.dylib (current_version 3.0.0"),
        "{id}"
    );
    assert!(
        found
            .values()
            .flatten()
            .all(|p| p.version.as_deref() != Some("3.0.0"))
    );
}

/// lxml's universal2 etree module (a fat Mach-O file, x86_64 + arm64) has libxml2, libxslt and
/// zlib linked in at the versions the Linux wheel's module reports at run time, libxml2 and
/// libxslt read from both slices (which agree).
#[test]
fn lxml_universal2_module_has_the_linux_run_time_versions_in_both_slices() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(linux), Some(mac)) = (
        relkit_testkit::upstream_data(LXML_LINUX),
        relkit_testkit::upstream_data(LXML_MAC),
    ) else {
        return;
    };
    let Some(want) = lxml_runtime_versions(&linux, dir.path()) else {
        return;
    };
    let module = dir.path().join("etree.cpython-311-darwin.so");
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
        n = next(n for n in z.namelist() if n.startswith('lxml/etree.') and n.endswith('.so'))\n\
        open(sys.argv[2], 'wb').write(z.read(n))";
    let Some(out) = relkit_testkit::run_oracle(
        "python3",
        &[
            "-c",
            script,
            mac.to_str().unwrap(),
            module.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    assert!(out.status.success());
    assert!(
        std::fs::read(&module)
            .unwrap()
            .starts_with(b"\xca\xfe\xba\xbe")
    );
    let (found, _) = generate(&module, dir.path());
    for line in want.lines() {
        let (name, version) = line.split_once(' ').unwrap();
        let ps = found
            .get(name)
            .unwrap_or_else(|| panic!("{name} not found"));
        assert_eq!(ps.len(), 1, "{name}");
        let ours = ps[0].version.as_deref().unwrap_or_default();
        assert!(
            relkit_ident::version::same_release(ours, version),
            "{name} is {ours} for relkit, {version} at run time on Linux"
        );
        if name != "zlib" {
            assert!(
                ps[0]
                    .evidence
                    .iter()
                    .any(|e| e["method"] == "macho-text-string"
                        && e["text"]
                            .as_str()
                            .unwrap()
                            .contains("in the x86_64 and arm64 slices")),
                "{name}: {:?}",
                ps[0].evidence
            );
        }
    }
}

/// zlib-ng in zlib-compat mode (Pillow's macOS `PIL/.dylibs/libz.1.3.1.zlib-ng.dylib`) carries
/// zlib's banners with the zlib API version it mimics ("deflate 1.3.1 Copyright …"): it is
/// zlib-ng at the version of its own banner (" zlib-ng 2.3.3", read here by Python), never
/// "zlib 1.3.1".
#[test]
fn zlib_ng_in_compat_mode_is_zlib_ng_not_zlib() {
    let file = "pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl";
    let Some(wheel) = relkit_testkit::upstream_data(file) else {
        return;
    };
    let Some(want) = banner_version(&wheel, "PIL/.dylibs/libz.", r" zlib-ng (\d+\.\d+\.\d+)")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (found, _) = generate(&wheel, dir.path());
    let ng = found
        .get("zlib-ng")
        .unwrap_or_else(|| panic!("{:?}", found.keys()));
    assert_eq!(ng[0].version.as_deref(), Some(want.as_str()));
    assert!(
        ng[0].comment.contains("libz.1.3.1.zlib-ng.dylib"),
        "{}",
        ng[0].comment
    );
    assert!(!found.contains_key("zlib"), "zlib-ng reported as zlib");
}
