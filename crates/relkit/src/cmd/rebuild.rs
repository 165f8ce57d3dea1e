//! `relkit rebuild`: rebuild a published artifact from its tag and say whether it is identical.

use std::path::PathBuf;

use relkit_archive::render_text;
use relkit_source::{RebuildRequest, rebuild};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit rebuild`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit rebuild dist/hello-1.0.0.tar.gz --repo . --rev v1.0.0
  relkit rebuild Python-3.13.5.tar.xz --manifest relkit-manifest.json --repo cpython

Exit 0 when the rebuilt bytes are identical, 1 when they differ (the reasons are listed).")]
pub struct RebuildArgs {
    /// The published artifact (.tar.gz, .tar.xz, .zip, .tar).
    pub artifact: PathBuf,
    /// The repository to rebuild from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Revision to rebuild (default: the one recorded in the manifest).
    #[arg(long)]
    pub rev: Option<String>,
    /// Build manifest (default: relkit-manifest.json beside the artifact).
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// For artifacts built from a directory: that directory.
    #[arg(long)]
    pub from_dir: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs `relkit rebuild`.
pub fn run(args: RebuildArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let spinner = ctx.spinner(format!("rebuilding {}", args.artifact.display()));
    let report = rebuild(&RebuildRequest {
        artifact: args.artifact.clone(),
        manifest: args.manifest.clone(),
        repo: args.repo.clone(),
        rev: args.rev.clone(),
        from_dir: args.from_dir.clone(),
    });
    spinner.finish_and_clear();
    let report = report?;
    if args.report.format == OutputFormat::Json {
        print_json(&report)?;
    } else if !ctx.quiet() {
        if report.identical {
            println!(
                "identical: {} (sha256 {})",
                report.artifact, report.rebuilt_sha256
            );
            if let Some(commit) = &report.rebuilt_commit {
                println!("rebuilt from commit {commit}");
            }
        } else {
            println!("NOT identical: {}", report.artifact);
            println!("  artifact sha256 {}", report.artifact_sha256);
            println!("  rebuilt  sha256 {}", report.rebuilt_sha256);
            for reason in &report.reasons {
                println!("  - {reason}");
            }
            if let Some(diff) = &report.diff {
                print!("{}", render_text(diff));
            }
        }
    }
    Ok(if report.identical {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
