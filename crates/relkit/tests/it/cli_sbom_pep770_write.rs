//! `relkit sbom generate WHEEL --pep770 DIR`: a copy of the wheel with relkit's SBOM added as
//! `NAME-VERSION.dist-info/sboms/relkit.cdx.json` and RECORD updated. Checked by readers that
//! are not relkit: `wheel unpack` (PyPI `wheel`, which verifies every RECORD hash and size),
//! Python's zipfile (every original member byte-identical, nothing else added), and
//! cyclonedx-python-lib's strict validator (the SBOM inside). The input wheel is untouched.

use std::process::Command;

const CHECK: &str = r##"
import json, sys, zipfile
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
old, new = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
old_names, new_names = old.namelist(), new.namelist()
added = [n for n in new_names if n not in old_names]
assert added == ["psycopg2_binary-2.9.13.dist-info/sboms/relkit.cdx.json"], added
for n in old_names:
    if not n.endswith("/RECORD"):
        assert old.read(n) == new.read(n), n
sbom = new.read(added[0]).decode()
err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom)
assert err is None, err
bom = json.loads(sbom)
names = set()
def walk(cs):
    for c in cs:
        if c.get("type") != "file":
            names.add(c["name"])
        walk(c.get("components", []))
walk(bom.get("components", []) + [bom["metadata"]["component"]])
print(" ".join(sorted(names)))
"##;

#[test]
fn pep770_wheel_is_a_valid_wheel_with_the_sbom_added() {
    let Some(wheel) = relkit_testkit::upstream_data(
        "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    ) else {
        return;
    };
    let before = std::fs::read(&wheel).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["-q", "sbom", "generate"])
        .arg(&wheel)
        .arg("--pep770")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "the SBOM goes into the wheel, not to stdout"
    );
    assert!(
        std::fs::read(&wheel).unwrap() == before,
        "the input wheel is untouched"
    );
    let new = dir.path().join(wheel.file_name().unwrap());

    let Some(unpack) = relkit_testkit::run_oracle(
        "python3",
        &[
            "-m",
            "wheel",
            "unpack",
            new.to_str().unwrap(),
            "-d",
            dir.path().join("unpacked").to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&unpack.stderr);
    if stderr.contains("No module named wheel") {
        relkit_testkit::missing("python3 -m wheel (.ci/deps.d/57-pep770-wheels.sh)");
        return;
    }
    assert!(unpack.status.success(), "wheel unpack: {stderr}");

    let Some(check) = relkit_testkit::run_oracle(
        "python3",
        &["-c", CHECK, wheel.to_str().unwrap(), new.to_str().unwrap()],
    ) else {
        return;
    };
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let names = String::from_utf8(check.stdout).unwrap();
    for lib in ["openssl", "krb5", "krb5-libs"] {
        assert!(names.split_whitespace().any(|n| n == lib), "{names}");
    }

    // Again on its own output: the earlier relkit SBOM is replaced, not doubled.
    let again = dir.path().join("again");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(&new)
            .arg("--pep770")
            .arg(&again),
    );
    let listing = relkit_testkit::run_oracle(
        "python3",
        &[
            "-c",
            "import sys, zipfile; print(sum(n.endswith('relkit.cdx.json') for n in zipfile.ZipFile(sys.argv[1]).namelist()))",
            again.join(wheel.file_name().unwrap()).to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&listing.stdout).trim(), "1");

    // Fail closed: not a wheel, or the wheel's own directory (it would overwrite the input).
    let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
        .args(["sbom", "generate"])
        .arg(&new)
        .arg("--pep770")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("would overwrite its input"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
