//! Libraries that embed no version string: present, version unknown — never a number read from
//! a file name. Real wheels (`.ci/deps.d/57-pep770-wheels.sh`, `58-evidence-wheels.sh`):
//! Pillow vendors libwebp, Little CMS, brotli and FreeType (as ELF `.so`s on Linux, Mach-O
//! dylibs on macOS), psycopg2-binary vendors libpq; each
//! reports its version only as an integer its code returns, so relkit names the library by its
//! exported API and gives it no version, no CPE and no PURL. numpy vendors OpenBLAS, whose
//! `openblas_get_config()` string does carry the version: relkit's must equal what that
//! function returns at run time (asked through ctypes).

use std::collections::BTreeMap;
use std::process::Command;

/// name → (version, number of CPEs + PURLs) of the vendored native libraries relkit finds in
/// `wheel` (its packages with binary evidence).
pub(crate) fn vendored(
    wheel: &std::path::Path,
    dir: &std::path::Path,
) -> BTreeMap<String, (String, usize)> {
    let out = dir.join("w.spdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(wheel)
            .arg("-o")
            .arg(format!("spdx-json={}", out.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["comment"]
                .as_str()
                .is_some_and(|c| c.starts_with("vendored native library in"))
        })
        .map(|p| {
            let ids = p["externalRefs"].as_array().map_or(0, Vec::len);
            (
                p["name"].as_str().unwrap().to_string(),
                (p["versionInfo"].as_str().unwrap_or("").to_string(), ids),
            )
        })
        .collect()
}

#[test]
fn libraries_without_a_version_string_are_present_with_no_version() {
    let cases = [
        (
            "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            &["libwebp", "lcms2", "brotli", "freetype"][..],
        ),
        (
            "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            &["libpq"][..],
        ),
        // The same libraries as macOS dylibs (delocate's PIL/.dylibs/; Mach-O exports).
        (
            "pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl",
            &["libwebp", "lcms2", "brotli", "freetype"][..],
        ),
    ];
    for (file, libs) in cases {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let found = vendored(&wheel, dir.path());
        for lib in libs {
            let (version, ids) = found
                .get(*lib)
                .unwrap_or_else(|| panic!("{file}: {lib} not found: {found:?}"));
            assert_eq!(version, "", "{file}: {lib} has no version string to read");
            assert_eq!(*ids, 0, "{file}: {lib}: no CPE or PURL without a version");
        }
    }
}

#[test]
fn numpy_s_openblas_has_the_version_it_reports_at_run_time() {
    let file = "numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl";
    let Some(wheel) = relkit_testkit::upstream_data(file) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // OpenBLAS needs the gfortran runtime numpy vendors beside it: loaded first, globally
    // (auditwheel's copies have no RUNPATH of their own).
    let script = r#"
import ctypes, os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
libs = [n for n in z.namelist() if n.startswith("numpy.libs/")]
z.extractall(sys.argv[2], libs)
path = lambda stem: next(os.path.join(sys.argv[2], n) for n in libs if os.path.basename(n).startswith(stem))
for dep in ("libquadmath", "libgfortran"):
    ctypes.CDLL(path(dep), mode=ctypes.RTLD_GLOBAL)
blas = ctypes.CDLL(path("libscipy_openblas"))
f = blas.scipy_openblas_get_config64_
f.restype = ctypes.c_char_p
print(f().decode().split()[1])
"#;
    let Some(out) = relkit_testkit::run_oracle(
        "python3",
        &[
            "-c",
            script,
            wheel.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ],
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(want.starts_with("0."), "{want}");
    let found = vendored(&wheel, dir.path());
    assert_eq!(
        found.get("openblas").map(|f| f.0.as_str()),
        Some(want.as_str()),
        "{found:?}"
    );
}
