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
            // Libraries found in the bytes (the other test) are not declarations.
            if p["comment"]
                .as_str()
                .is_some_and(|c| c.starts_with("vendored native library in "))
            {
                continue;
            }
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
        relkit_testkit::pyspdxtools_accepts(&spdx);
    }
}

/// What the vendored libraries of the two wheels report about themselves at run time: the
/// wheel's `NAME.libs/` is unpacked and each library is loaded with ctypes and asked its version
/// through its own API (`OpenSSL_version(0)`, `png_get_libpng_ver`, `TIFFGetVersion`,
/// `ZSTD_versionString`, `lzma_version_string`, `hb_version_string`, `avifVersion`,
/// `dav1d_version` and `avifCodecVersions` (libaom) of libavif, `opj_version`, `pcre_version`,
/// `sasl_version_info`, the exported `keyutils_version_string`). MIT
/// krb5 has no version API: its ground truth is the upstream part of the `krb5-libs` RPM that
/// auditwheel's SBOM says the library was copied from (read by Python, not relkit).
/// libjpeg-turbo has no version API either and bzip2 is linked into FreeType without exporting
/// `BZ2_bzlibVersion`: they are left out of the comparison (their banners are all there is).
pub(crate) fn runtime_versions(
    wheel: &std::path::Path,
    dir: &std::path::Path,
) -> Option<Vec<String>> {
    let script = r##"
import ctypes, glob, json, os, re, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(wheel)
libs = [n for n in z.namelist() if n.split("/")[0].endswith(".libs") and not n.endswith("/")]
z.extractall(dest, libs)
libdir = os.path.join(dest, libs[0].split("/")[0])
# The libraries need each other by their SONAME (only the extension module has a RUNPATH):
# load them all, global, in whatever order resolves.
pending = sorted(glob.glob(os.path.join(libdir, "*")))
while pending:
    left = []
    for p in pending:
        try:
            ctypes.CDLL(p, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            left.append(p)
    if len(left) == len(pending):
        sys.exit("cannot load " + ", ".join(left))
    pending = left
def load(prefix):
    hits = glob.glob(os.path.join(libdir, prefix + "-*"))
    return ctypes.CDLL(hits[0]) if hits else None
def text(lib, fn, *args):
    f = getattr(lib, fn); f.restype = ctypes.c_char_p; return f(*args).decode()
crypto = load("libcrypto")
if crypto:
    print("openssl", text(crypto, "OpenSSL_version", 0).split()[1])
png = load("libpng16")
if png:
    print("libpng", text(png, "png_get_libpng_ver", None))
tiff = load("libtiff")
if tiff:
    print("libtiff", re.search(r"Version (\S+)", text(tiff, "TIFFGetVersion")).group(1))
for name, prefix, fn in [("zstd", "libzstd", "ZSTD_versionString"),
                         ("xz", "liblzma", "lzma_version_string"),
                         ("harfbuzz", "libharfbuzz", "hb_version_string"),
                         ("libavif", "libavif", "avifVersion"),
                         ("openjpeg", "libopenjp2", "opj_version")]:
    lib = load(prefix)
    if lib:
        print(name, text(lib, fn))
avif = load("libavif")
if avif:
    # dav1d and libaom are linked into libavif; "1.5.3-0-gb546257" is git describe.
    print("dav1d", text(avif, "dav1d_version").split("-")[0])
    buf = ctypes.create_string_buffer(256)
    avif.avifCodecVersions(buf)
    aom = re.search(r"aom \[[^]]*\]:v?(\d+\.\d+\.\d+)", buf.value.decode())
    if aom:
        print("libaom", aom.group(1))
pcre = load("libpcre")
if pcre:
    print("pcre", text(pcre, "pcre_version").split()[0])
sasl = load("libsasl2")
if sasl:
    impl, ver = ctypes.c_char_p(), ctypes.c_char_p()
    ints = [ctypes.c_int() for _ in range(4)]
    sasl.sasl_version_info(ctypes.byref(impl), ctypes.byref(ver), *map(ctypes.byref, ints))
    print("cyrus-sasl", ver.value.decode())
keyutils = load("libkeyutils")
if keyutils:
    # A char array, not a pointer: its address is the string.
    at = ctypes.addressof(ctypes.c_char.in_dll(keyutils, "keyutils_version_string"))
    print("keyutils", ctypes.c_char_p(at).value.decode().removeprefix("keyutils-"))
for n in z.namelist():
    if n.endswith("/sboms/auditwheel.cdx.json"):
        for c in json.loads(z.read(n)).get("components", []):
            if c["name"] == "krb5-libs":
                print("krb5", c["version"].split("-")[0])
                break
"##;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(wheel)
        .arg(dir)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            relkit_testkit::missing(&format!("python3 ({e})"));
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines.dedup();
    Some(lines)
}

/// The native libraries auditwheel vendored into the real psycopg2-binary and Pillow wheels are
/// found by what they embed about themselves, each a package contained in the wheel with the
/// library file as evidence, and each version equals the one the library reports at run time.
/// Vendored files no rule identifies are said (warning), not named after their file names.
#[test]
fn vendored_libraries_have_the_versions_they_report_at_run_time() {
    let wheels = [
        (
            "psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            5,
        ),
        (
            "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            9,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (file, at_least)) in wheels.iter().enumerate() {
        let Some(wheel) = relkit_testkit::upstream_data(file) else {
            return;
        };
        let unpacked = dir.path().join(format!("libs-{i}"));
        let Some(want) = runtime_versions(&wheel, &unpacked) else {
            return;
        };
        assert!(want.len() >= *at_least, "{file}: {want:?}");
        let spdx = dir.path().join(format!("{i}.spdx.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["sbom", "generate"])
            .arg(&wheel)
            .arg("-o")
            .arg(format!("spdx-json={}", spdx.display()))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr
                .contains("vendored library not identified by any rule: present, version unknown"),
            "{stderr}"
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
        let found: Vec<(String, String, String)> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                p["comment"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("vendored native library in "))
            })
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    // Present, version unknown (libwebp, libpq: no version string) has none.
                    p["versionInfo"].as_str().unwrap_or("").to_string(),
                    p["comment"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for line in &want {
            let (name, version) = line.split_once(' ').unwrap();
            let ours = found
                .iter()
                .find(|(n, _, _)| n == name)
                .unwrap_or_else(|| panic!("{file}: {name} not found in {found:?}"));
            assert!(
                relkit_ident::version::same_release(&ours.1, version),
                "{file}: {name} is {} for relkit, {version} at run time",
                ours.1
            );
            assert!(ours.2.contains(".libs/lib"), "{:?}", ours.2);
        }
    }
}

/// What lxml's etree module from `wheel` (a manylinux wheel, cp311: this machine's Python)
/// reports at run time through ctypes: `libxml2 X.Y.Z`, `libxslt X.Y.Z`, `zlib X.Y.Z` lines; the
/// module is written to `dir/etree.so`.
pub(crate) fn lxml_runtime_versions(
    wheel: &std::path::Path,
    dir: &std::path::Path,
) -> Option<String> {
    let script = r##"
import ctypes, os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = next(n for n in z.namelist() if n.startswith("lxml/etree.") and n.endswith(".so"))
path = os.path.join(sys.argv[2], "etree.so")
with open(path, "wb") as f:
    f.write(z.read(name))
lib = ctypes.CDLL(path)
def unpack(n):
    return "%d.%d.%d" % (n // 10000, n // 100 % 100, n % 100)
print("libxml2", unpack(int(ctypes.c_char_p.in_dll(lib, "xmlParserVersion").value)))
print("libxslt", unpack(ctypes.c_int.in_dll(lib, "xsltLibxsltVersion").value))
lib.zlibVersion.restype = ctypes.c_char_p
print("zlib", lib.zlibVersion().decode())
"##;
    let out = relkit_testkit::run_oracle(
        "python3",
        &["-c", script, wheel.to_str().unwrap(), dir.to_str().unwrap()],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = String::from_utf8(out.stdout).unwrap();
    assert_eq!(want.lines().count(), 3, "{want}");
    Some(want)
}

/// lxml's etree module links libxml2, libxslt and zlib in statically (its wheel has no
/// `NAME.libs/`): `relkit sbom generate` on the real module from the lxml 6.2.0 wheel finds each
/// at the version the module reports at run time through ctypes — the `xmlParserVersion`
/// pointer as the loader relocated it (libxml2 packs 2.14.6 as "21406"), the
/// `xsltLibxsltVersion` integer (10143 = 1.1.43; relkit reads the string, not this integer) and
/// `zlibVersion()`. Wheel: `.ci/deps.d/58-evidence-wheels.sh`.
#[test]
fn libraries_linked_into_lxml_have_the_versions_they_report_at_run_time() {
    let file = "lxml-6.2.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
    let Some(wheel) = relkit_testkit::upstream_data(file) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(want) = lxml_runtime_versions(&wheel, dir.path()) else {
        return;
    };
    let spdx = dir.path().join("etree.spdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(dir.path().join("etree.so"))
            .arg("-o")
            .arg(format!("spdx-json={}", spdx.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let packages = doc["packages"].as_array().unwrap();
    for line in want.lines() {
        let (name, version) = line.split_once(' ').unwrap();
        let found: Vec<&str> = packages
            .iter()
            .filter(|p| p["name"] == name)
            .filter_map(|p| p["versionInfo"].as_str())
            .collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert!(
            relkit_ident::version::same_release(found[0], version),
            "{name} is {} for relkit, {version} at run time",
            found[0]
        );
    }
    // The wheel itself: the same libraries, with the same versions, contained in lxml's
    // package (the extension module is read inside the wheel, not only when given alone).
    let spdx = dir.path().join("lxml.spdx.json");
    relkit_testkit::run_ok(
        Command::new(env!("CARGO_BIN_EXE_relkit"))
            .args(["-q", "sbom", "generate"])
            .arg(&wheel)
            .arg("-o")
            .arg(format!("spdx-json={}", spdx.display())),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    let packages = doc["packages"].as_array().unwrap();
    let top = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["spdxElementId"] == "SPDXRef-DOCUMENT" && r["relationshipType"] == "DESCRIBES")
        .map(|r| r["relatedSpdxElement"].clone())
        .unwrap();
    for line in want.lines() {
        let (name, version) = line.split_once(' ').unwrap();
        let p = packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the wheel's SBOM"));
        assert_eq!(p["versionInfo"], version, "{name} in the wheel");
        assert!(
            doc["relationships"].as_array().unwrap().iter().any(|r| {
                r["spdxElementId"] == top
                    && r["relationshipType"] == "CONTAINS"
                    && r["relatedSpdxElement"] == p["SPDXID"]
            }),
            "{name} is not contained in lxml's package"
        );
    }
}
