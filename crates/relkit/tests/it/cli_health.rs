//! `relkit health` end to end on the shared real data (CPython 3.13.5's SBOMs, the upstream
//! histories, Debian's indexes): exit codes, text / JSON / HTML (rendered in headless
//! Chromium: a real screenshot, no console error), `--explain`, and bad input (a repository
//! that is not git, a shallow clone, a corrupt Packages index, an SBOM with no components).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        relkit_testkit::missing(&format!("shared data {}", p.display()));
        None
    }
}

fn bookworm() -> Option<PathBuf> {
    shared("debian/bookworm_main_binary-amd64_Packages.xz")
}

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("relkit-health-cache")
}

fn health(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relkit"));
    c.arg("health").args(args).arg("--cache").arg(cache());
    c
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let cmd = cmd.borrow_mut();
    let out = cmd.output().unwrap();
    eprintln!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn xz_2022_text_json_and_explain() {
    let (Some(sbom), Some(repos), Some(deb)) = (
        shared("cpython/v3.13.5/externals.spdx.json"),
        shared("git"),
        bookworm(),
    ) else {
        return;
    };
    let base = [
        s(&sbom),
        "--repos",
        s(&repos),
        "--debian-packages",
        s(&deb),
        "--as-of",
        "2022-06-30",
    ];
    let out = run(health(&base).arg("-q"));
    assert_eq!(
        code(&out),
        1,
        "critical-languishing components are findings"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let xz_line = text.lines().find(|l| l.contains(" xz ")).unwrap();
    assert!(xz_line.starts_with("critical-languishing"), "{xz_line}");
    assert!(
        xz_line.contains("liblzma5 56.9% #6 (bookworm)"),
        "{xz_line}"
    );

    let out = run(health(&base).args(["--format", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "relkit-health/1");
    assert_eq!(v["as_of"], "2022-06-30");
    let xz = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "xz")
        .unwrap();
    assert_eq!(xz["verdict"], "critical-languishing");
    assert_eq!(
        xz["health"]["metrics"]["last_stable_release"]["tag"],
        "v5.2.5"
    );
    assert_eq!(
        xz["criticality"]["suites"][0]["stats"]["transitive"],
        36_093
    );

    let mut base_2023 = base;
    base_2023[6] = "2023-06-30";
    let out = run(health(&base_2023).args(["--explain", "xz"]));
    assert_eq!(code(&out), 1);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("verdict: transition"), "{text}");
    assert!(
        text.contains("38EE757D69184620 -> 59FCF207FEA7F445"),
        "{text}"
    );
    assert!(
        text.contains("openssh-server -> libsystemd0 -> liblzma5"),
        "{text}"
    );

    let out = run(health(&base).args(["--explain", "nosuch"]));
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no component of that name"));
}

fn chromium() -> Option<String> {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(c.to_string());
        }
    }
    relkit_testkit::missing("oracle `chromium` (apt-get install chromium)");
    None
}

fn headless(bin: &str, profile: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn html_report_renders_in_chromium_without_console_errors() {
    let (Some(sbom), Some(repos), Some(deb)) = (
        shared("cpython/v3.13.5/externals.spdx.json"),
        shared("git"),
        bookworm(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("health.html");
    let out = run(health(&[
        s(&sbom),
        "--repos",
        s(&repos),
        "--debian-packages",
        s(&deb),
        "--as-of",
        "2023-06-30",
        "--timeline",
        "--format",
        "html",
        "-o",
        s(&page),
    ]));
    assert_eq!(code(&out), 1);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(!html.contains("src=\"http"), "no external resource");
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(
        html.contains("59FCF207FEA7F445"),
        "the new signing key is in the legend"
    );

    let Some(bin) = chromium() else { return };
    let shot = dir.path().join("health.png");
    let url = format!("file://{}", page.display());
    let out = headless(
        &bin,
        dir.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1400",
            &url,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {stderr}"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1200, 1400));
    assert!(png.len() > 20_000, "a blank page: {} bytes", png.len());
    assert!(
        !stderr.contains("CONSOLE") && !stderr.contains("Uncaught"),
        "console messages: {stderr}"
    );
    let out = headless(&bin, dir.path(), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("<svg"), "the SVG survives parsing");
    assert!(dom.contains("critical-languishing") || dom.contains("transition"));
}

#[test]
fn bad_input_is_refused_or_said() {
    let (Some(sbom), Some(deb), Some(bundle)) = (
        shared("cpython/v3.13.5/externals.spdx.json"),
        bookworm(),
        shared("git/xz.bundle"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A repository directory that is not git.
    let repos = dir.path().join("repos");
    std::fs::create_dir_all(repos.join("xz")).unwrap();
    std::fs::write(repos.join("xz/README"), "not a repository\n").unwrap();
    let out = run(health(&[
        s(&sbom),
        "--repos",
        s(&repos),
        "--as-of",
        "2022-06-30",
    ]));
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("xz") && err.contains("not a git repository"),
        "{err}"
    );

    // A shallow clone: said, and no verdict from its history.
    std::fs::remove_dir_all(repos.join("xz")).unwrap();
    if relkit_testkit::oracle("git").is_some() {
        let full = dir.path().join("full");
        relkit_testkit::run_ok(
            Command::new("git")
                .args(["clone", "-q", "--mirror"])
                .arg(&bundle)
                .arg(&full),
        );
        relkit_testkit::run_ok(
            Command::new("git")
                .args(["clone", "-q", "--bare", "--depth", "20"])
                .arg(format!("file://{}", full.display()))
                .arg(repos.join("xz.git")),
        );
        let out = run(health(&[
            s(&sbom),
            "--repos",
            s(&repos),
            "--debian-packages",
            s(&deb),
            "--explain",
            "xz",
        ]));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("verdict: no-data"), "{text}");
        assert!(
            text.contains("shallow clone") && text.contains("unreliable"),
            "{text}"
        );
    }

    // A corrupt Packages index: file and line.
    let bad = dir.path().join("bookworm_Packages");
    std::fs::write(
        &bad,
        "Package: a\nDepends: b\n\nPackage: b\nDepends: c (>= 1\nnot a field\n",
    )
    .unwrap();
    let out = run(health(&[s(&sbom), "--debian-packages", s(&bad)]));
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:6: corrupt Debian Packages index",
            bad.display()
        )),
        "{err}"
    );

    // An SBOM with no components.
    let empty = dir.path().join("empty.spdx.json");
    std::fs::write(
        &empty,
        r#"{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"empty","documentNamespace":"https://example.org/empty","creationInfo":{"created":"2025-01-01T00:00:00Z","creators":["Tool: test"]},"packages":[]}"#,
    )
    .unwrap();
    let out = run(health(&[s(&empty), "--debian-packages", s(&deb)]));
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no components"));
}
