//! `relkit checksum`: write SHA256SUMS/SHA512SUMS (GNU or BSD `--tag` format) and check them
//! with the messages and exit codes of coreutils `sha256sum -c`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_attest::checksum::{
    Algo, CheckOptions, FileStatus, bsd_line, check_sums, gnu_line, hash_files, io_message,
};

use crate::output::{Context, Outcome};

/// Checksum algorithms on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum AlgoArg {
    /// SHA-256 (sha256sum).
    Sha256,
    /// SHA-512 (sha512sum).
    Sha512,
}

/// Arguments of `relkit checksum`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit checksum dist/*.tar.* -o SHA256SUMS
  relkit checksum --tag --algo sha512 Python-3.13.5.tgz
  relkit checksum --check SHA256SUMS --ignore-missing

With --check, output and exit codes follow `sha256sum -c`: 0 all listed files OK, 1 any
mismatch, unreadable file, or (with --strict) improperly formatted line.")]
pub struct ChecksumArgs {
    /// Files to hash (with --check: sums files to verify; `-` is standard input).
    pub files: Vec<PathBuf>,
    /// Digest algorithm.
    #[arg(long, value_enum, default_value_t = AlgoArg::Sha256)]
    pub algo: AlgoArg,
    /// Write BSD-style lines: `SHA256 (name) = hex`.
    #[arg(long)]
    pub tag: bool,
    /// Write the sums to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Verify the files listed in the given sums files.
    #[arg(long, short = 'c')]
    pub check: bool,
    /// With --check: do not fail or report for missing files.
    #[arg(long, requires = "check")]
    pub ignore_missing: bool,
    /// With --check: print nothing, the exit code tells.
    #[arg(long, requires = "check")]
    pub status: bool,
    /// With --check: fail on improperly formatted lines.
    #[arg(long, requires = "check")]
    pub strict: bool,
    /// With --check: warn about each improperly formatted line.
    #[arg(long, short = 'w', requires = "check")]
    pub warn: bool,
}

/// Runs `relkit checksum`.
pub fn run(args: ChecksumArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let algo = match args.algo {
        AlgoArg::Sha256 => Algo::Sha256,
        AlgoArg::Sha512 => Algo::Sha512,
    };
    if args.check {
        if args.tag {
            anyhow::bail!("the --tag option is meaningless when verifying checksums");
        }
        let files = if args.files.is_empty() {
            vec![PathBuf::from("-")]
        } else {
            args.files.clone()
        };
        let mut ok = true;
        for f in &files {
            ok &= check_one(&args, algo, f, ctx);
        }
        return Ok(if ok { Outcome::Ok } else { Outcome::Findings });
    }
    if args.files.is_empty() {
        anyhow::bail!("no files to hash: give one or more FILES (or --check SUMS)");
    }
    let results = hash_files(algo, &args.files);
    let mut out = String::new();
    let mut failed = false;
    for (path, r) in args.files.iter().zip(results) {
        let name = path.to_string_lossy();
        match r {
            Ok(d) if args.tag => out.push_str(&bsd_line(algo, &d, &name)),
            Ok(d) => out.push_str(&gnu_line(&d, &name)),
            Err(e) => {
                eprintln!("relkit: {name}: {}", io_message(&e));
                failed = true;
            }
        }
    }
    match &args.output {
        Some(p) => {
            std::fs::write(p, &out).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Checks one sums file; prints like `sha256sum -c`; returns whether it passed.
fn check_one(args: &ChecksumArgs, algo: Algo, sums: &Path, ctx: &Context) -> bool {
    let label = sums.to_string_lossy();
    let text = if label == "-" {
        let mut s = String::new();
        match std::io::Read::read_to_string(&mut std::io::stdin(), &mut s) {
            Ok(_) => s,
            Err(e) => {
                eprintln!("relkit: -: {}", io_message(&e));
                return false;
            }
        }
    } else {
        match std::fs::read(sums) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                eprintln!("relkit: {label}: {}", io_message(&e));
                return false;
            }
        }
    };
    let label = if label == "-" {
        "standard input".into()
    } else {
        label
    };
    let report = check_sums(algo, &text, Path::new("."));
    let opts = CheckOptions {
        ignore_missing: args.ignore_missing,
        strict: args.strict,
    };
    let summary = report.summary(opts);
    if args.warn && !args.status {
        for n in &report.improper {
            eprintln!(
                "relkit: {label}: {n}: improperly formatted {} checksum line",
                algo.tag()
            );
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for f in &report.files {
        let name = &f.line.name;
        match &f.status {
            FileStatus::Ok => {
                if !args.status && !ctx.quiet() {
                    let _ = writeln!(out, "{name}: OK");
                }
            }
            FileStatus::Failed => {
                if !args.status {
                    let _ = writeln!(out, "{name}: FAILED");
                }
            }
            FileStatus::Missing(_) if args.ignore_missing => {}
            FileStatus::Missing(e) | FileStatus::Unreadable(e) => {
                let _ = out.flush();
                eprintln!("relkit: {name}: {}", io_message(e));
                if !args.status {
                    let _ = writeln!(out, "{name}: FAILED open or read");
                }
            }
        }
    }
    let _ = out.flush();
    if !summary.any_proper {
        eprintln!("relkit: {label}: no properly formatted checksum lines found");
        return false;
    }
    if !args.status {
        if summary.improper > 0 {
            eprintln!(
                "relkit: WARNING: {} improperly formatted",
                plural(summary.improper, "line is", "lines are")
            );
        }
        if summary.unreadable > 0 {
            eprintln!(
                "relkit: WARNING: {} could not be read",
                plural(summary.unreadable, "listed file", "listed files")
            );
        }
        if summary.mismatched > 0 {
            eprintln!(
                "relkit: WARNING: {} did NOT match",
                plural(
                    summary.mismatched,
                    "computed checksum",
                    "computed checksums"
                )
            );
        }
    }
    if args.ignore_missing && summary.matched == 0 {
        eprintln!("relkit: {label}: no file was verified");
    }
    summary.passed
}
