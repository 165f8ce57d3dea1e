//! `relkit demo`: the end-to-end demo on the bundled sample project.
//!
//! It writes the sample project as a real git repository, builds its source release, then
//! builds it again in a second process made as different as it can be (another checkout
//! path, umask 077, another time zone and locale, one thread) and shows the two releases
//! are identical, byte for byte and member by member.

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
    if all_identical {
        say("4. both builds are bit-for-bit identical: anyone can rebuild this release.".into());
        Ok(Outcome::Ok)
    } else {
        say("4. the builds differ: this is a reproducibility bug in relkit".into());
        Ok(Outcome::Findings)
    }
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
