//! PEP 770: the SBOMs real manylinux wheels carry (`*.dist-info/sboms/auditwheel.cdx.json`,
//! auditwheel 6.x, for the system libraries copied into `NAME.libs/`) are read and merged by
//! `relkit sbom generate WHEEL`: every component they declare (other than the wheel itself) is
//! a package of the wheel's SBOM with the declared PURL and version, contained in the wheel's
//! package, with the declaring document and tool as its source. The declarations are read here
//! by Python's own zipfile and json modules (not by relkit); the SPDX output is checked by
//! pyspdxtools. Wheels: `.ci/deps.d/57-pep770-wheels.sh`.

use std::collections::BTreeSet;
use std::process::Command;

/// The PURLs (without `#fragment`) of every component the wheel's PEP 770 CycloneDX SBOMs
/// declare, except the wheel's own distribution, read by Python.
fn declared_purls(wheel: &std::path::Path) -> Option<BTreeSet<String>> {
    let script = r##"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if "/sboms/" in n and n.split("/")[0].endswith(".dist-info") and n.endswith(".json"):
        bom = json.loads(z.read(n))
        top = bom.get("metadata", {}).get("component", {}).get("bom-ref")
        for c in bom.get("components", []):
            if c.get("bom-ref") != top and not c.get("purl", "").startswith("pkg:pypi/"):
                print(c["purl"].split("#")[0])
"##;
    let out = relkit_testkit::run_oracle("python3", &["-c", script, wheel.to_str().unwrap()])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn pep770_sboms_of_real_wheels_are_merged_with_their_source() {
    let wheels = [
        (
            "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            "psycopg2-binary",
        ),
        (
            "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            "pillow",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (file, name) in wheels {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        let Some(want) = declared_purls(&wheel) else {
            return;
        };
        assert!(!want.is_empty(), "{file} declares components");
        let spdx = dir.path().join(format!("{name}.spdx.json"));
        relkit_testkit::run_ok(
            Command::new(env!("CARGO_BIN_EXE_relkit"))
                .args(["-q", "sbom", "generate"])
                .arg(&wheel)
                .arg("-o")
                .arg(format!("spdx-json={}", spdx.display())),
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
        let packages = doc["packages"].as_array().unwrap();
        let relationships = doc["relationships"].as_array().unwrap();
        let top = relationships
            .iter()
            .find(|r| {
                r["spdxElementId"] == "SPDXRef-DOCUMENT" && r["relationshipType"] == "DESCRIBES"
            })
            .and_then(|r| r["relatedSpdxElement"].as_str())
            .unwrap();
        assert_eq!(
            packages.iter().find(|p| p["SPDXID"] == top).unwrap()["name"],
            name
        );
        let contained: BTreeSet<&str> = relationships
            .iter()
            .filter(|r| r["spdxElementId"] == top && r["relationshipType"] == "CONTAINS")
            .filter_map(|r| r["relatedSpdxElement"].as_str())
            .collect();
        let mut ours = BTreeSet::new();
        for p in packages {
            let purls: Vec<&str> = p["externalRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["referenceType"] == "purl")
                .filter_map(|r| r["referenceLocator"].as_str())
                .collect();
            let Some(purl) = purls.iter().find(|u| !u.starts_with("pkg:pypi/")) else {
                continue;
            };
            assert!(
                contained.contains(p["SPDXID"].as_str().unwrap()),
                "{purl} is contained in the wheel"
            );
            let comment = p["comment"].as_str().unwrap_or_default();
            assert!(
                comment.contains(".dist-info/sboms/auditwheel.cdx.json (PEP 770) by auditwheel"),
                "{purl}: {comment}"
            );
            let version = p["versionInfo"].as_str().unwrap();
            assert!(
                purl.ends_with(&format!("@{version}")),
                "{purl} vs {version}"
            );
            ours.insert(purl.to_string());
        }
        assert_eq!(ours, want, "{file}");
        if let Some(pyspdxtools) = relkit_testkit::oracle("pyspdxtools") {
            let out = Command::new(pyspdxtools)
                .arg("-i")
                .arg(&spdx)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stdout.is_empty(),
                "pyspdxtools rejects {file}'s SBOM: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
