//! `relkit demo`: the end-to-end demo on the bundled sample project.
//!
//! It writes the sample project as a real git repository, builds its source release, then
//! builds it again in a second process made as different as it can be (another checkout
//! path, umask 077, another time zone and locale, one thread) and shows the two releases
//! are identical, byte for byte and member by member. Then it inventories the release
//! (SPDX SBOM), proves the declared version of the vendored library against its bytes,
//! scans it against the bundled vulnerability database — the sample vendors xz 5.6.1, so
//! CVE-2024-3094 must be found — and checks the published checksums. Last, it runs the whole
//! release pipeline (`relkit release run`) on the sample: source, test build, SBOMs, scan,
//! tarball audit, signatures, provenance, checksums, publish and verification.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use relkit_archive::{DiffOptions, diff_paths};
use relkit_source::sample::{SAMPLE_TAG, create_sample_repo};

use crate::output::{Context, Outcome};

/// Arguments of `relkit demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo's files in this directory instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// Runs the demo.
pub fn run(args: DemoArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let temp;
    let work: &Path = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            if std::fs::read_dir(dir)?.next().is_some() {
                bail!(
                    "{} is not empty; give --keep an empty or new directory",
                    dir.display()
                );
            }
            dir
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path()
        }
    };
    let say = |s: String| {
        if !ctx.quiet() {
            println!("{s}");
        }
    };
    let repo = work.join("hello");
    let commit = create_sample_repo(&repo)?;
    say(format!(
        "1. sample project: git repository {} , tag {SAMPLE_TAG} = {commit}",
        repo.display()
    ));

    let exe = std::env::current_exe().context("cannot find the relkit executable")?;
    let first = work.join("release-1");
    run_build(&exe, &repo, &first, &[], None)?;
    say(format!("2. built the release into {}:", first.display()));
    let sums = std::fs::read_to_string(first.join("SHA256SUMS"))?;
    for line in sums.lines() {
        say(format!("     {line}"));
    }

    // A second checkout at another path, built with everything that usually leaks into
    // archives changed.
    let clone = work.join("elsewhere/hello-checkout");
    copy_dir(&repo, &clone)?;
    let second = work.join("release-2");
    let env = [
        ("TZ", "Pacific/Kiritimati"),
        ("LC_ALL", "C"),
        ("LANG", "de_DE.UTF-8"),
        ("RAYON_NUM_THREADS", "1"),
    ];
    run_build(&exe, &clone, &second, &env, Some("077"))?;
    say(format!(
        "3. rebuilt from {} with umask 077, TZ=Pacific/Kiritimati, one thread, into {}",
        clone.display(),
        second.display()
    ));

    let mut all_identical = true;
    for line in sums.lines() {
        let name = line.split_once("  ").map(|(_, n)| n).unwrap_or_default();
        let a = first.join(name);
        let b = second.join(name);
        let same_bytes = std::fs::read(&a)? == std::fs::read(&b)?;
        let report = diff_paths(&a, &b, &DiffOptions::default())?;
        let verdict = if same_bytes && report.is_identical() {
            "identical"
        } else {
            all_identical = false;
            "DIFFERENT"
        };
        say(format!("     {name}: {verdict}"));
    }
    if std::fs::read(first.join("SHA256SUMS"))? != std::fs::read(second.join("SHA256SUMS"))? {
        all_identical = false;
    }
    if !all_identical {
        say("4. the builds differ: this is a reproducibility bug in relkit".into());
        return Ok(Outcome::Findings);
    }
    say("4. both builds are bit-for-bit identical: anyone can rebuild this release.".into());

    let tarball = first.join("hello-1.0.0.tar.gz");
    let sbom = work.join("hello-1.0.0.spdx.json");
    let out = run_relkit(
        &exe,
        &[
            "sbom",
            "generate",
            "--name",
            "hello",
            "--version",
            "1.0.0",
            "--created",
            "2024-03-29T12:00:00Z",
        ],
        &[
            tarball.as_os_str(),
            "-o".as_ref(),
            format!("spdx-json={}", sbom.display()).as_ref(),
        ],
    )?;
    expect_exit(&out, 0, "sbom generate")?;
    say(format!(
        "5. SBOM of the release: {} (every file hashed, xz 5.6.1 from Misc/sbom.spdx.json)",
        sbom.display()
    ));

    let out = run_relkit(
        &exe,
        &["sbom", "verify", "--format", "json"],
        &[sbom.as_os_str(), "--against".as_ref(), tarball.as_os_str()],
    )?;
    expect_exit(&out, 0, "sbom verify")?;
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("sbom verify printed no JSON")?;
    let xz_verdict = report["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "xz"))
        .map(|p| p["verdict"].as_str().unwrap_or("?").to_string())
        .unwrap_or_else(|| "missing".into());
    if xz_verdict != "confirmed" {
        bail!("sbom verify did not confirm the vendored xz 5.6.1 (verdict: {xz_verdict})");
    }
    say(format!(
        "6. declared versions checked against the bytes: {} confirmed (xz 5.6.1 by its lzma/version.h), {} contradicted",
        report["summary"]["confirmed"], report["summary"]["contradicted"]
    ));

    let out = run_relkit(&exe, &["scan", "--format", "json"], &[sbom.as_os_str()])?;
    expect_exit(&out, 1, "scan")?;
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("scan printed no JSON")?;
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    for f in &findings {
        say(format!(
            "7. scan: {} in {} {} ({} {}): {}",
            f["id"].as_str().unwrap_or("?"),
            f["component"].as_str().unwrap_or("?"),
            f["installed"].as_str().unwrap_or("?"),
            f["severity"].as_str().unwrap_or("?"),
            f["score"],
            f["summary"].as_str().unwrap_or("")
        ));
    }
    if !findings.iter().any(|f| f["id"] == "CVE-2024-3094") {
        bail!("the scan did not find CVE-2024-3094 in the vendored xz 5.6.1");
    }

    let out = Command::new(&exe)
        .args(["checksum", "--check", "SHA256SUMS"])
        .current_dir(&first)
        .output()
        .context("running relkit checksum --check")?;
    expect_exit(&out, 0, "checksum --check")?;
    say("8. SHA256SUMS verified: the published files are the ones built.".into());

    let published = release_pipeline(&exe, work, &repo)?;
    say(format!(
        "9. `relkit release run`: the whole release as checkpointed steps (source, test, SBOMs, scan, audit, sign, attest, checksums, publish, verify) into {}",
        published.display()
    ));
    say("The release is reproducible and inventoried; its vendored xz 5.6.1 carries CVE-2024-3094 (the demo expects that finding).".into());
    Ok(Outcome::Ok)
}

/// The release plan the demo runs on the sample project (kept outside the repository, so the
/// work tree stays clean).
const DEMO_PLAN: &str = r#"[project]
name = "hello"

[source]
exclude = [".gitattributes"]
formats = ["tar.gz", "tar.xz"]

[[test]]
name = "build"
command = "./configure && make && ./hello"

[scan]
db = "sample"      # the demo scans against the bundled demo DB; a real release names a current DB
fail-on = "none"   # the sample vendors xz 5.6.1 on purpose: report CVE-2024-3094, do not stop

[sign]
key = "@KEY@"

[publish]
dir = "@PUBLISH@/{name}/{version}"
"#;

/// Runs the release pipeline on the sample repository; returns the published directory.
fn release_pipeline(exe: &Path, work: &Path, repo: &Path) -> anyhow::Result<PathBuf> {
    let key = work.join("release");
    let out = run_relkit(
        exe,
        &["key", "generate", "--kind", "ed25519", "-o"],
        &[key.as_os_str()],
    )?;
    expect_exit(&out, 0, "key generate")?;
    let plan = work.join("release.toml");
    let text = DEMO_PLAN
        .replace("@KEY@", &work.join("release.key").display().to_string())
        .replace("@PUBLISH@", &work.join("published").display().to_string());
    std::fs::write(&plan, text).with_context(|| format!("writing {}", plan.display()))?;
    let out = run_relkit(
        exe,
        &["release", "run", "--rev", SAMPLE_TAG, "--format", "json"],
        &[
            "--repo".as_ref(),
            repo.as_os_str(),
            "--config".as_ref(),
            plan.as_os_str(),
        ],
    )?;
    expect_exit(&out, 0, "release run")?;
    let published = work.join("published/hello/1.0.0");
    if !published.join("SHA256SUMS").is_file() {
        bail!(
            "the release pipeline published nothing to {}",
            published.display()
        );
    }
    Ok(published)
}

/// Runs `relkit ARGS… EXTRA…` quietly and returns its output.
fn run_relkit(
    exe: &Path,
    args: &[&str],
    extra: &[&std::ffi::OsStr],
) -> anyhow::Result<std::process::Output> {
    Command::new(exe)
        .arg("--quiet")
        .args(args)
        .args(extra)
        .output()
        .with_context(|| format!("running relkit {}", args.join(" ")))
}

/// Fails with the step's stderr unless it exited with `code`.
fn expect_exit(out: &std::process::Output, code: i32, step: &str) -> anyhow::Result<()> {
    if out.status.code() != Some(code) {
        bail!(
            "`relkit {step}` exited with {} (expected {code}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn run_build(
    exe: &Path,
    repo: &Path,
    out: &Path,
    env: &[(&str, &str)],
    umask: Option<&str>,
) -> anyhow::Result<()> {
    let mut cmd = match umask {
        Some(mask) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("umask {mask} && exec \"$0\" \"$@\""))
                .arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["--quiet", "build", "source", "--rev", SAMPLE_TAG, "--repo"])
        .arg(repo)
        .arg("-o")
        .arg(out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .with_context(|| format!("running {}", exe.display()))?;
    if !status.success() {
        bail!(
            "`relkit build source` failed for {} ({status})",
            repo.display()
        );
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
