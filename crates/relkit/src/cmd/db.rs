//! `relkit db`: import NVD / OSV / RustSec data into the offline vulnerability DB, update
//! it, and show its statistics.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_vuln::db::{Db, ImportOptions, ImportReport};
use relkit_vuln::sample;

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// `relkit db` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DbCommand {
    /// Import NVD CVE API 2.0 JSON, OSV JSON/YAML and RustSec advisories (files, directories,
    /// .gz/.xz, zip, tar[.gz|.xz]) in one transaction.
    #[command(after_help = "Examples:
  relkit db import ../shared/data/vulns ../shared/data/osv/*.tar.xz
  relkit db import --db ./vuln.sqlite nvdcve-2.0-2024.json.gz --strict

Malformed records are reported (file and JSON path) and skipped; with --strict the first one
aborts the import and the DB stays as it was. JSON (--format json): the import report with
documents, records, added, updated, unchanged, unrecognized and issues[{file, path, message}].")]
    Import(ImportArgs),
    /// Re-import only records whose `modified` / `lastModified` is newer than the stored one.
    Update(ImportArgs),
    /// Record counts by source and ecosystem.
    Stats(StatsArgs),
}

/// Arguments of `relkit db import` / `update`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Files, directories or archives to import.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// DB file (default: $XDG_CACHE_HOME/relkit/vuln.sqlite or ~/.cache/relkit/vuln.sqlite).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Abort (and roll back) on the first malformed record.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit db stats`.
#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// DB file (default: the standard cache path).
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `relkit db` subcommand.
pub fn run(cmd: DbCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        DbCommand::Import(a) => import(a, false, ctx),
        DbCommand::Update(a) => import(a, true, ctx),
        DbCommand::Stats(a) => stats(a, ctx),
    }
}

fn import(a: ImportArgs, only_changed: bool, ctx: &Context) -> anyhow::Result<Outcome> {
    let path = a.db.clone().unwrap_or_else(sample::default_db_path);
    let mut db = Db::create(&path)?;
    let pb = ctx.spinner(format!("importing into {}", path.display()));
    let progress =
        |n: u64| pb.set_message(format!("importing into {}: {n} records", path.display()));
    let report = db
        .import(
            &a.paths,
            ImportOptions {
                strict: a.strict,
                only_changed,
            },
            &progress,
        )
        .with_context(|| format!("importing into {}", path.display()))?;
    pb.finish_and_clear();
    print_import(&report, &path, a.report.format, ctx)?;
    Ok(Outcome::Ok)
}

fn print_import(
    r: &ImportReport,
    path: &std::path::Path,
    format: OutputFormat,
    ctx: &Context,
) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return print_json(r);
    }
    for i in &r.issues {
        eprintln!("warning: skipped malformed record: {i}");
    }
    if !ctx.quiet() {
        println!(
            "{}: {} records from {} documents: {} added, {} updated, {} unchanged, {} skipped as malformed, {} documents not NVD/OSV/RustSec",
            path.display(),
            r.records,
            r.documents,
            r.added,
            r.updated,
            r.unchanged,
            r.issues.len(),
            r.unrecognized
        );
    }
    Ok(())
}

fn stats(a: StatsArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let path = a.db.clone().unwrap_or_else(sample::default_db_path);
    let db = Db::open(&path)?;
    let s = db.stats()?;
    if a.report.format == OutputFormat::Json {
        print_json(&s)?;
        return Ok(Outcome::Ok);
    }
    if ctx.quiet() {
        return Ok(Outcome::Ok);
    }
    println!("{} (schema {})", s.path, s.schema_version);
    println!(
        "records: {} ({} withdrawn or rejected)",
        s.total, s.excluded
    );
    for (src, n) in &s.by_source {
        println!("  {src:<10} {n}");
    }
    println!("by ecosystem:");
    for (eco, n) in &s.by_ecosystem {
        println!("  {eco:<12} {n}");
    }
    if let Some(m) = &s.latest_modified {
        println!("latest modified: {m}");
    }
    match &s.last_import {
        Some(t) => println!("last import: {t}"),
        None => println!("last import: not recorded (made by an older relkit)"),
    }
    if s.sample {
        println!("this is relkit's bundled sample DB: demo data, not for release gates");
    }
    Ok(Outcome::Ok)
}
