//! The HTML pages in Debian's headless Chromium: a screenshot of a release page is a real
//! PNG, and every link in the rendered DOM of the index, project and release pages answers 200.

use crate::common::*;
use relkit_serve::Limits;

fn chromium() -> Option<String> {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if std::process::Command::new(c)
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

fn headless(bin: &str, profile: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn pages_render_in_chromium_and_every_link_works() {
    let Some(bin) = chromium() else { return };
    let env = Env::start(Backend::Sqlite, Limits::default());
    let c = relkit_client::Client::new(&env.url, Some(env.token_a.clone()));
    c.create_release("alpha", "1.0", "v1.0", "abc123").unwrap();
    let base = format!("{}/api/v1/projects/alpha/releases/1.0/files", env.url);
    let bytes = b"tarball bytes".to_vec();
    let sha = sha256_hex(&bytes);
    assert_eq!(
        put(
            &format!("{base}/alpha-1.0.tgz"),
            Some(&env.token_a),
            Some(&sha),
            &bytes
        )
        .0,
        201
    );
    let (st, body) = put(
        &format!("{base}/alpha-1.0.tgz/sbom/alpha-1.0.tgz.cdx.json"),
        Some(&env.token_a),
        None,
        &fixture("sbom/cyclonedx/valid/valid-bom-1.6.json"),
    );
    assert_eq!(st, 201, "{body}");

    let profile = tempfile::tempdir().unwrap();
    let shot = profile.path().join("release.png");
    let out = headless(
        &bin,
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,800",
            &format!("{}/p/alpha/1.0", env.url),
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1200, 800));
    assert!(
        png.len() > 5000,
        "a blank page compresses to almost nothing: {} bytes",
        png.len()
    );

    let mut checked = 0;
    for page in ["/", "/p/alpha", "/p/alpha/1.0"] {
        let out = headless(
            &bin,
            profile.path(),
            &["--dump-dom", &format!("{}{page}", env.url)],
        );
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(dom.contains("</table>"), "{page}: {dom}");
        if page == "/p/alpha/1.0" {
            assert!(dom.contains(&sha), "the digest is on the rendered page");
            assert!(
                dom.contains("warnings"),
                "the SBOM's verification status is shown"
            );
        }
        for href in dom
            .split("href=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
        {
            let url = format!("{}{}", env.url, href.replace("&amp;", "&"));
            let (st, _) = get(&url);
            assert_eq!(st, 200, "{page}: link {href}");
            checked += 1;
        }
    }
    // index: 2 projects + home; project: release + home; release: SHA256SUMS, JSON, file, SBOM, home
    assert_eq!(checked, 3 + 2 + 5);
}
