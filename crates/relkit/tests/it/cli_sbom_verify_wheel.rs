//! `relkit sbom verify WHEEL.whl`: the wheel's PEP 770 SBOMs checked against its own bytes, on
//! the real psycopg2-binary 2.9.13 manylinux wheel (`.ci/deps.d/57-pep770-wheels.sh`), whose
//! auditwheel SBOM declares the CentOS 7 RPMs its vendored libraries were copied from.
//!
//! Ground truth, read by Python (not relkit): the declared components and their RPM versions
//! (zipfile + json), and the OpenSSL the wheel vendors without declaring it, asked at run time
//! (`OpenSSL_version(0)` through ctypes on the vendored libcrypto).

use std::process::Command;

fn python(script: &str, args: &[&std::path::Path]) -> Option<String> {
    let out = relkit_testkit::run_oracle(
        "python3",
        &[
            &["-c", script][..],
            &args.iter().map(|a| a.to_str().unwrap()).collect::<Vec<_>>(),
        ]
        .concat(),
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn verify(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["sbom", "verify"])
        .args(args)
        .output()
        .unwrap()
}

/// Every RPM the auditwheel SBOM declares is judged once, at its upstream version; none is
/// contradicted by the bytes; krb5-libs is confirmed by the brand MIT krb5 compiles into
/// libkrb5; OpenSSL, built from source and vendored but declared by nobody, is reported as
/// undeclared at the version it reports at run time.
#[test]
fn a_wheels_pep770_declarations_are_checked_against_its_bytes() {
    let Some(wheel) = relkit_testkit::upstream_data(
        "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    ) else {
        return;
    };
    let declared = python(
        r##"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
seen = set()
for n in z.namelist():
    if n.endswith("/sboms/auditwheel.cdx.json"):
        for c in json.loads(z.read(n))["components"]:
            if c["purl"].startswith("pkg:rpm/"):
                seen.add((c["name"], c["version"].split("-")[0]))
for name, version in sorted(seen):
    print(name, version)
"##,
        &[&wheel],
    );
    let Some(declared) = declared else { return };
    let dir = tempfile::tempdir().unwrap();
    let openssl = python(
        r##"
import ctypes, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if "/libcrypto-" in n][0]
path = z.extract(name, sys.argv[2])
f = ctypes.CDLL(path).OpenSSL_version
f.restype = ctypes.c_char_p
print(f(0).decode().split()[1])
"##,
        &[&wheel, dir.path()],
    );
    let Some(openssl) = openssl else { return };

    let out = verify(&[wheel.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["mode"], "wheel (PEP 770)");
    let packages = report["packages"].as_array().unwrap();
    let mut judged: Vec<String> = packages
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["declared_version"].as_str().unwrap()
            )
        })
        .collect();
    judged.sort();
    let want: Vec<String> = declared.lines().map(str::to_string).collect();
    assert_eq!(judged, want);
    assert!(
        packages.iter().all(|p| p["verdict"] != "contradicted"),
        "{report:#}"
    );
    let krb5 = packages.iter().find(|p| p["name"] == "krb5-libs").unwrap();
    assert_eq!(krb5["verdict"], "confirmed", "{krb5:#}");
    assert_eq!(krb5["found_version"], "1.15.1");
    let undeclared = report["undeclared"].as_array().unwrap();
    let ossl = undeclared
        .iter()
        .find(|u| u["name"] == "openssl")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(ossl["version"].as_str(), Some(openssl.trim()));
}

/// Fail closed: a wheel without PEP 770 SBOMs has nothing to verify (exit 2, said), and a
/// wheel takes no --against.
#[test]
fn a_wheel_without_declarations_or_with_against_is_refused() {
    let Some(wheel) = relkit_testkit::upstream_data("shfmt_py-4.2.0-py2.py3-none-win_amd64.whl")
    else {
        return;
    };
    let out = verify(&[wheel.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holds no PEP 770 SBOM"), "{stderr}");
    let out = verify(&[wheel.as_os_str(), "--against".as_ref(), wheel.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let out = verify(&["sbom.spdx.json".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--against is required"));
}

/// `relkit scan WHEEL` cannot look up advisories for RPM packages (no RPM data in any DB it
/// reads): it says so for each of them — in the JSON report's `unchecked` and on stderr —
/// instead of letting "0 findings" read as "clean". The RPMs are listed by Python from the
/// auditwheel SBOM.
#[test]
fn a_scan_names_the_components_it_could_not_check() {
    let Some(wheel) = relkit_testkit::upstream_data(
        "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    ) else {
        return;
    };
    let Some(rpms) = python(
        r##"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
seen = set()
for n in z.namelist():
    if n.endswith("/sboms/auditwheel.cdx.json"):
        for c in json.loads(z.read(n))["components"]:
            if c["purl"].startswith("pkg:rpm/"):
                seen.add(c["name"] + " " + c["version"])
print("\n".join(sorted(seen)))
"##,
        &[&wheel],
    ) else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .arg("scan")
        .arg(&wheel)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unchecked: Vec<&str> = report["unchecked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    for rpm in rpms.lines() {
        assert!(unchecked.contains(&rpm), "{rpm} not in {unchecked:?}");
    }
    assert!(
        stderr.contains("components could not be checked against any advisory"),
        "{stderr}"
    );
}
