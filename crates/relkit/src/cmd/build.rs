//! `relkit build source`: reproducible source archives from a git revision or a directory.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_source::{BuildRequest, Config, Format, SourceInput, build_source};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Subcommands of `relkit build`.
#[derive(clap::Subcommand, Debug)]
pub enum BuildCommand {
    /// Export a git revision and write reproducible .tar.gz/.tar.xz/.zip, SHA256SUMS and a manifest.
    #[command(after_help = "Examples:
  relkit build source --repo . --rev v3.13.5
  relkit build source --rev v1.2.0 --formats tar.gz,zip -o dist
  relkit build source --from-dir Python-3.13.5 --mtime 1749656217 --formats tar.xz")]
    Source(SourceArgs),
}

/// Arguments of `relkit build source`.
#[derive(clap::Args, Debug)]
pub struct SourceArgs {
    /// The git repository to export from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Tag, branch or commit to export.
    #[arg(long, default_value = "HEAD")]
    pub rev: String,
    /// Archive a plain directory instead of a git revision (e.g. an unpacked release).
    #[arg(long, conflicts_with = "rev")]
    pub from_dir: Option<PathBuf>,
    /// Output directory.
    #[arg(long, short = 'o', default_value = "dist")]
    pub out: PathBuf,
    /// Settings file (default: relkit.toml in the repository, if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Project name (default: from relkit.toml, else the directory name).
    #[arg(long)]
    pub name: Option<String>,
    /// Version (default: the tag without a leading `v`).
    #[arg(long = "project-version")]
    pub project_version: Option<String>,
    /// Top-level directory inside the archives (default: `{name}-{version}`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Archive time, seconds since the epoch (default: SOURCE_DATE_EPOCH, else the commit time).
    #[arg(long)]
    pub mtime: Option<i64>,
    /// Set every member's time to --mtime instead of only lowering newer ones.
    #[arg(long)]
    pub no_clamp: bool,
    /// Comma-separated formats: tar.gz, tar.xz, zip, tar (default: from relkit.toml, else tar.gz,tar.xz,zip).
    #[arg(long, value_delimiter = ',')]
    pub formats: Option<Vec<String>>,
    /// gzip level 1-9 (default: from relkit.toml, else 9).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub gzip_level: Option<u32>,
    /// xz preset 0-9 (default: from relkit.toml, else 6, as `tar cJf` and CPython's releases).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub xz_preset: Option<u32>,
    /// Overwrite existing outputs.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs `relkit build …`.
pub fn run(cmd: BuildCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        BuildCommand::Source(args) => source(args, ctx),
    }
}

fn source(args: SourceArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let config_path = args.config.clone().unwrap_or_else(|| {
        let base = args.from_dir.as_ref().unwrap_or(&args.repo);
        base.join("relkit.toml")
    });
    let mut config = if args.from_dir.is_some() && args.config.is_none() {
        Config::default()
    } else {
        Config::load_or_default(&config_path)?
    };
    if let Some(level) = args.gzip_level {
        config.source.gzip_level = level;
    }
    if let Some(preset) = args.xz_preset {
        config.source.xz_preset = preset;
    }
    let formats = args
        .formats
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|s| {
                    Format::parse(s).with_context(|| {
                        format!("unknown format {s:?}; use tar.gz, tar.xz, zip or tar")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?;
    let mtime = match args.mtime {
        Some(t) => Some(t),
        None => source_date_epoch()?,
    };
    let input = match &args.from_dir {
        Some(dir) => SourceInput::Dir { path: dir.clone() },
        None => SourceInput::Git {
            repo: args.repo.clone(),
            rev: args.rev.clone(),
        },
    };
    let request = BuildRequest {
        input,
        out_dir: args.out.clone(),
        name: args.name.clone().or(config.project.name.clone()),
        version: args
            .project_version
            .clone()
            .or(config.project.version.clone()),
        prefix: args.prefix.clone(),
        mtime,
        no_clamp: args.no_clamp,
        formats,
        source: config.source,
        force: args.force,
    };
    let spinner = ctx.spinner("building source archives");
    let result = build_source(&request);
    spinner.finish_and_clear();
    let result = result?;
    if args.report.format == OutputFormat::Json {
        print_json(&result)?;
    } else if !ctx.quiet() {
        for a in &result.manifest.artifacts {
            println!(
                "{}  {}  ({} bytes)",
                a.sha256,
                args.out.join(&a.name).display(),
                a.size
            );
        }
        println!(
            "{} members; wrote {} and {}",
            result.manifest.members,
            result.sha256sums.display(),
            result.manifest_path.display()
        );
    }
    Ok(Outcome::Ok)
}

/// Reads `SOURCE_DATE_EPOCH` (reproducible-builds.org) when set.
fn source_date_epoch() -> anyhow::Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => {
            v.trim().parse().map(Some).with_context(|| {
                format!("SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds")
            })
        }
        _ => Ok(None),
    }
}
