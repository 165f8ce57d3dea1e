//! `relkit diff A B`: member-level comparison of two archives or directories
//! (.tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip, directories, in any pairing) via
//! [`relkit_archive::diff_paths`]. Exit 0 identical, 1 different, 2 bad input.
//! The JSON report (`--format json`) is documented in `relkit_archive::diff`.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_archive::{DiffOptions, diff_paths, render_text};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit diff`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit diff dist/foo-1.0.tar.gz rebuilt/foo-1.0.tar.gz
  relkit diff --format json Python-3.13.5.tar.xz Python-3.13.5/
  relkit diff --strip-components 1 a.tar b.zip

A single top directory (foo-1.0/) is stripped automatically when that matches more
members; --strip-components N strips N components from archive members instead.
Exit codes: 0 identical, 1 different, 2 unreadable, corrupt or unsafe input.")]
pub struct DiffArgs {
    /// The first archive or directory.
    pub a: PathBuf,
    /// The second archive or directory.
    pub b: PathBuf,
    /// Strip N leading path components from archive members (default: auto-detect).
    #[arg(long, value_name = "N")]
    pub strip_components: Option<usize>,
    /// Leave out this path (after stripping) and everything below it; repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs `relkit diff`.
pub fn run(args: DiffArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let opts = DiffOptions {
        strip_components: args.strip_components,
        ignore: args.ignore,
    };
    let spinner = ctx.spinner("comparing");
    let report = diff_paths(&args.a, &args.b, &opts).with_context(|| {
        format!(
            "cannot compare {} with {}: fix or replace the input named above",
            args.a.display(),
            args.b.display()
        )
    })?;
    spinner.finish_and_clear();
    match args.report.format {
        OutputFormat::Json => print_json(&report)?,
        OutputFormat::Text => {
            if !ctx.quiet() {
                print!("{}", render_text(&report));
            }
        }
    }
    Ok(if report.is_identical() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
