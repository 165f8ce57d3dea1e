//! Oracle test of the source evidence rules: each rule reads the version out of the real
//! header Debian installs for that library, and it must equal the upstream version dpkg
//! records for the package (epoch, `+dfsg`/`.dfsg` and the Debian revision stripped).
//! CI installs the -dev packages (.ci/deps.d/55-truth.sh); locally a missing one is skipped
//! unless RELKIT_REQUIRE_ORACLES is set.

use std::process::Command;

use relkit_truth::rules::rules;

/// Installed version and files of a Debian package, or None when it is not installed.
fn dpkg(package: &str) -> Option<(String, Vec<String>)> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", package])
        .output()
        .ok()?;
    if !out.status.success() || out.stdout.is_empty() {
        return None;
    }
    let files = Command::new("dpkg").args(["-L", package]).output().ok()?;
    Some((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&files.stdout)
            .lines()
            .map(String::from)
            .collect(),
    ))
}

/// `1:1.2.13.dfsg-1` → `1.2.13`; `8.6.13+dfsg-2` → `8.6.13`; `3.0.19-1~deb12u2` → `3.0.19`.
fn upstream(debian: &str) -> String {
    let v = debian.split_once(':').map_or(debian, |(_, v)| v);
    let v = v.rsplit_once('-').map_or(v, |(u, _)| u);
    let v = v.split(['+', '~']).next().unwrap_or(v);
    v.trim_end_matches(".dfsg").to_string()
}

#[test]
fn upstream_version_rule() {
    assert_eq!(upstream("1:1.2.13.dfsg-1"), "1.2.13");
    assert_eq!(upstream("8.6.13+dfsg-2"), "8.6.13");
    assert_eq!(upstream("3.0.19-1~deb12u2"), "3.0.19");
}

#[test]
fn rules_read_the_versions_of_debian_headers() {
    let cases = [
        ("expat", "libexpat1-dev", "expat.h"),
        ("zlib", "zlib1g-dev", "zlib.h"),
        ("sqlite", "libsqlite3-dev", "sqlite3.h"),
        ("openssl", "libssl-dev", "opensslv.h"),
        ("libffi", "libffi-dev", "ffi.h"),
        ("xz", "liblzma-dev", "lzma/version.h"),
        ("tcl-core", "tcl8.6-dev", "tcl.h"),
        ("tk", "tk8.6-dev", "tk.h"),
    ];
    let mut checked = 0;
    for (lib, package, header) in cases {
        let Some((version, files)) = dpkg(package) else {
            relkit_testkit::missing(&format!(
                "{package}, the headers of {lib} (see .ci/deps.d/55-truth.sh)"
            ));
            continue;
        };
        let path = files
            .iter()
            .find(|f| f.ends_with(&format!("/{header}")))
            .unwrap_or_else(|| panic!("{package} has no {header}"));
        let text = std::fs::read_to_string(path).unwrap();
        let base = header.rsplit('/').next().unwrap();
        let rule = rules()
            .library_for(lib, &[])
            .unwrap()
            .evidence
            .iter()
            .find(|r| {
                r.file
                    .as_deref()
                    .is_some_and(|f| f.rsplit('/').next() == Some(base))
            })
            .unwrap_or_else(|| panic!("no {base} rule for {lib}"));
        let found = rule
            .extract(&text)
            .unwrap_or_else(|| panic!("{lib}: rule finds no version in {path}"));
        assert_eq!(
            found.version,
            upstream(&version),
            "{lib}: {path} line {} ({}) vs dpkg {package} {version}",
            found.line,
            found.text
        );
        checked += 1;
    }
    eprintln!("{checked} headers checked against dpkg");
}
