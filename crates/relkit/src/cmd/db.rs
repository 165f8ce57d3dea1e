//! `relkit db`: import NVD / OSV / RustSec data into the offline vulnerability DB, update
//! it from the configured feeds (relkit-feeds; this module owns the progress bars), and show
//! its statistics.

use std::cell::RefCell;
use std::path::PathBuf;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use relkit_feeds::{Event, FeedsConfig, Outcome as FeedOutcome, UpdateReport};
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
    /// Download the configured feeds (OSV, NVD, RustSec, GHSA) and import what changed; with
    /// paths, re-import only records of those files whose `modified` is newer than the stored.
    #[command(after_help = UPDATE_HELP)]
    Update(UpdateArgs),
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

const UPDATE_HELP: &str = "Examples:
  relkit db update                          # the public feeds (or $XDG_CONFIG_HOME/relkit/feeds.toml)
  relkit db update --source osv --source nvd
  relkit db update --feeds mirror.toml --db ./vuln.sqlite
  relkit db update ../shared/data/vulns     # re-import local files (only newer records)

Each source is downloaded, verified (complete download, every JSON member valid, at least one
advisory) and imported in one transaction of its own, with the time of its update and its
newest record (see `relkit db stats`). A source that fails keeps its previous records; the
others are updated, and a re-run does not download again what is already up to date (OSV and
archives: ETag / If-Modified-Since; git: the commit; NVD: from the last completed window).
Exit status 0 when every source was updated or unchanged, 2 when any failed.

Feeds file (TOML; a section that is absent is not updated, a key that is absent is the default):
  [http]
  max_retries = 5              # on HTTP 403 / 429 / 503, honouring Retry-After
  [osv]                        # BASE/ECOSYSTEM/all.zip (file:// for an air-gapped copy)
  base = \"https://osv-vulnerabilities.storage.googleapis.com\"
  ecosystems = [\"PyPI\", \"Go\", \"crates.io\", \"npm\", \"Maven\", \"RubyGems\", \"NuGet\", \"Packagist\"]
  [nvd]                        # CVE API 2.0, in windows of at most 120 days
  url = \"https://services.nvd.nist.gov/rest/json/cves/2.0\"
  since = \"2024-01-01T00:00:00Z\"    # first run; absent: every CVE
  api_key_file = \"/run/secrets/nvd\"  # or the environment variable NVD_API_KEY
  [rustsec]
  archive = \"https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz\"
  [ghsa]
  git = \"/srv/mirrors/advisory-database.git\"   # a local git repository: its HEAD

JSON (--format json): {sources: [{source, url, outcome: updated|unchanged|failed, requests,
bytes, verified_records, import: {records, added, updated, unchanged, issues, …}, error}]}.";

/// Arguments of `relkit db update`.
#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// Files, directories or archives to re-import; none: download the configured feeds.
    pub paths: Vec<PathBuf>,
    /// DB file (default: $XDG_CACHE_HOME/relkit/vuln.sqlite or ~/.cache/relkit/vuln.sqlite).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Abort (and roll back that source) on the first malformed record.
    #[arg(long)]
    pub strict: bool,
    /// Feeds file (default: $XDG_CONFIG_HOME/relkit/feeds.toml if present, else the public feeds).
    #[arg(long, value_name = "FILE")]
    pub feeds: Option<PathBuf>,
    /// Update only this source (`osv-PyPI`, `osv` for every OSV ecosystem, `nvd`, `rustsec`,
    /// `ghsa`); repeatable.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
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
        DbCommand::Update(a) if !a.paths.is_empty() => import(
            ImportArgs {
                paths: a.paths,
                db: a.db,
                strict: a.strict,
                report: a.report,
            },
            true,
            ctx,
        ),
        DbCommand::Update(a) => update_feeds(a, ctx),
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
    if !s.sources.is_empty() {
        println!("feed sources (relkit db update):");
        for src in &s.sources {
            println!(
                "  {:<14} last update: {}  newest record: {}",
                src.source,
                src.last_update.as_deref().unwrap_or("not completed"),
                src.newest_record.as_deref().unwrap_or("none")
            );
        }
    }
    if s.sample {
        println!("this is relkit's bundled sample DB: demo data, not for release gates");
    }
    Ok(Outcome::Ok)
}

fn feeds_config(a: &UpdateArgs) -> anyhow::Result<FeedsConfig> {
    let mut cfg = match &a.feeds {
        Some(f) => FeedsConfig::load(f)?,
        None => match FeedsConfig::default_path().filter(|p| p.is_file()) {
            Some(p) => FeedsConfig::load(&p)?,
            None => FeedsConfig::defaults(),
        },
    };
    cfg.select(&a.sources)?;
    Ok(cfg)
}

/// Progress bars for the downloads: one per source, bytes when the size is known.
fn progress_bar(ctx: &Context) -> impl Fn(Event) + '_ {
    let current: RefCell<Option<(ProgressBar, String)>> = RefCell::new(None);
    move |e: Event| {
        let mut cur = current.borrow_mut();
        match e {
            Event::Source { name, url } => {
                if let Some((pb, _)) = cur.take() {
                    pb.finish_and_clear();
                }
                *cur = Some((ctx.spinner(format!("{name}: {url}")), name));
            }
            Event::Download { total: Some(n) } => {
                if let Some((pb, name)) = cur.as_ref() {
                    pb.set_length(n);
                    pb.set_style(
                        ProgressStyle::with_template(
                            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                        )
                        .expect("static template is valid")
                        .progress_chars("=> "),
                    );
                    pb.set_message(format!("{name}: downloading"));
                }
            }
            Event::Bytes(b) => {
                if let Some((pb, _)) = cur.as_ref() {
                    pb.set_position(b);
                }
            }
            Event::Page { start_index, total } => {
                if let Some((pb, name)) = cur.as_ref() {
                    pb.set_message(format!("{name}: page at {start_index} of {total} CVEs"));
                }
            }
            Event::Waiting { seconds, why } => {
                if let Some((pb, name)) = cur.as_ref() {
                    pb.set_message(format!("{name}: waiting {seconds:.1} s ({why})"));
                }
            }
            Event::Importing => {
                if let Some((pb, name)) = cur.as_ref() {
                    pb.set_message(format!("{name}: verified; importing"));
                }
            }
            Event::Records(n) => {
                if let Some((pb, name)) = cur.as_ref() {
                    pb.set_message(format!("{name}: importing: {n} records"));
                }
            }
            Event::Download { total: None } | Event::Downloaded => {}
        }
    }
}

fn update_feeds(a: UpdateArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let cfg = feeds_config(&a)?;
    let path = a.db.clone().unwrap_or_else(sample::default_db_path);
    let mut db = Db::create(&path)?;
    let opts = ImportOptions {
        strict: a.strict,
        only_changed: true,
    };
    let progress = progress_bar(ctx);
    let (report, errors) = relkit_feeds::update(&mut db, &cfg, opts, &progress);
    progress(Event::Source {
        name: String::new(),
        url: String::new(),
    });
    if a.report.format == OutputFormat::Json {
        print_json(&report)?;
    } else {
        print_update(&report, &path, ctx);
    }
    if errors.is_empty() {
        return Ok(Outcome::Ok);
    }
    for e in &errors {
        eprintln!("error: {e}");
        let mut cause = std::error::Error::source(e);
        while let Some(c) = cause {
            eprintln!("  caused by: {c}");
            cause = c.source();
        }
    }
    anyhow::bail!(
        "{} of {} sources failed (their previous records are kept; the others were updated): {}",
        errors.len(),
        report.sources.len(),
        errors
            .iter()
            .map(|e| e.source_name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn print_update(r: &UpdateReport, path: &std::path::Path, ctx: &Context) {
    for s in &r.sources {
        for i in &s.import.issues {
            eprintln!("warning: {}: skipped malformed record: {i}", s.source);
        }
    }
    if ctx.quiet() {
        return;
    }
    println!("{}:", path.display());
    for s in &r.sources {
        let what = match s.outcome {
            FeedOutcome::Updated => format!(
                "updated: {} bytes, {} records ({} added, {} updated, {} unchanged, {} skipped)",
                s.bytes,
                s.import.records,
                s.import.added,
                s.import.updated,
                s.import.unchanged,
                s.import.issues.len()
            ),
            FeedOutcome::Unchanged => {
                format!("unchanged ({} requests, nothing imported)", s.requests)
            }
            FeedOutcome::Failed => "FAILED (previous records kept)".to_string(),
        };
        println!("  {:<14} {what}", s.source);
    }
}
