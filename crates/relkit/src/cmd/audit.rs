//! `relkit audit`: release tarball audit against its tag (`audit tarball`), the reference
//! corpus of upstream macros and scripts (`audit corpus import|stats`). Exit 1 when a
//! critical finding is made, 2 on bad input. The JSON report is the serde form of
//! `relkit_audit::TarballReport` (documented in the `relkit_audit::tarball` module).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use relkit_audit::corpus::Blobs;
use relkit_audit::{
    AuditOptions, Corpus, CorpusSpec, Reference, audit_history, audit_tarball_with, import, render,
};

use crate::output::{Context, Outcome, print_json};

/// Report formats of the audit commands.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    /// Human-readable text.
    Text,
    /// Stable JSON (the serde form of the report).
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// The `relkit audit` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Compare a release tarball with its tag; explain or flag every file only in the tarball.
    Tarball(TarballArgs),
    /// The reference corpus of upstream macros and helper scripts.
    #[command(subcommand)]
    Corpus(CorpusCommand),
    /// Between two releases: new opaque files, build-machinery changes, and who made them.
    History(HistoryArgs),
}

/// Arguments of `relkit audit history`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:
  relkit audit history --repo xz --from v5.4.0 --to v5.6.1

Exit codes: 0 report written (the history audit informs, it does not judge), 2 bad input.")]
pub struct HistoryArgs {
    /// The git repository.
    #[arg(long)]
    pub repo: PathBuf,
    /// The older release tag.
    #[arg(long)]
    pub from: String,
    /// The newer release tag.
    #[arg(long)]
    pub to: String,
    /// Report format (sarif is not available for the history report).
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

/// Corpus subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum CorpusCommand {
    /// Build a corpus file from gnulib's m4 corpus, upstream tarballs and macro directories.
    Import(ImportArgs),
    /// Show what a corpus holds (the shipped one by default).
    Stats(StatsArgs),
}

/// Where the corpus comes from (shared by the commands that use one).
#[derive(clap::Args, Debug, Clone)]
pub struct CorpusArgs {
    /// An extra corpus file (from `relkit audit corpus import`); repeatable.
    #[arg(long, value_name = "FILE")]
    pub corpus: Vec<PathBuf>,
    /// Do not use the corpus shipped in relkit.
    #[arg(long)]
    pub no_shipped_corpus: bool,
}

impl CorpusArgs {
    fn spec(&self) -> CorpusSpec {
        CorpusSpec {
            no_shipped: self.no_shipped_corpus,
            files: self.corpus.clone(),
        }
    }
}

/// Arguments of `relkit audit tarball`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit audit tarball xz-5.8.1.tar.xz --repo xz --rev v5.8.1
  relkit audit tarball xz-5.8.1.tar.xz --tree exported-v5.8.1/ --format sarif > audit.sarif

Classes: same, updated (msgmerge'd catalog, git-log ChangeLog), generated (reproduced by
regeneration, or checked whole), generated_unverified (recognized by its generator's banner,
content not reproduced: warning), vendored, vendored_modified (critical), vendored_differs,
vendored_variant, vendored_newer, vendored_unknown, differs, unexplained, only_in_reference.

Without --regenerate, `autoreconf -fi` runs by itself in a scratch copy of the tag when the
autotools installed here are the versions the tarball's banners name (--no-regenerate: never).

Every text member is scanned for lines that pipe data into a shell or `eval`, use `grep -a`,
or decompress/decode with `-d`. Each such line must be explained by what its class rests on:
the tag (same, differs, updated), the known upstream copy (vendored*), a line of a build
input (m4 macro, configure.ac, Makefile.am) or the generator's own library (configure,
Makefile.in), the words of the tag's source (generated documentation and catalogs), or the
tag's commit messages (git-log ChangeLog). A line nothing explains makes the member critical.

Exit codes: 0 nothing critical, 1 critical findings (a vendored macro/script that announces a
known upstream version with code added where every upstream commit of it is known, or any
member with a line that runs data through a shell or decodes it and that nothing known
explains), 2 unreadable, unsafe or missing input.")]
pub struct TarballArgs {
    /// The release tarball (.tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip) or an unpacked
    /// directory.
    pub tarball: PathBuf,
    /// The git repository holding the tag.
    #[arg(long, requires = "rev", conflicts_with = "tree")]
    pub repo: Option<PathBuf>,
    /// The tag (or any revision) the tarball was made from.
    #[arg(long, requires = "repo")]
    pub rev: Option<String>,
    /// A directory holding an export of the tag, instead of --repo/--rev.
    #[arg(long, required_unless_present = "repo")]
    pub tree: Option<PathBuf>,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Run this shell command (e.g. `autoreconf -fi`) in a scratch copy of the tag and
    /// compare every file only in the tarball with what it produced.
    #[arg(long, value_name = "CMD")]
    pub regenerate: Option<String>,
    /// Do not run `autoreconf -fi` by itself when the autotools installed here are the
    /// versions the tarball's banners name (generated files then stay
    /// generated_unverified).
    #[arg(long, conflicts_with = "regenerate")]
    pub no_regenerate: bool,
    /// List every member in the text report, including those identical to the tag.
    #[arg(long)]
    pub verbose: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

/// Arguments of `relkit audit corpus import`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit audit corpus import --out corpus.rkc --gnulib ../shared/data/m4-corpus \\
      --tarball gettext_0.23.1.orig.tar.xz='gettext 0.23.1' --dir /usr/share/aclocal
  relkit audit tarball foo-1.0.tar.gz --repo . --rev v1.0 --corpus corpus.rkc

Each source adds every .m4 file and known helper script (config.guess, ltmain.sh,
install-sh, po/Makefile.in.in…) it holds. The shipped corpus is included unless
--no-shipped-corpus.")]
pub struct ImportArgs {
    /// The corpus file to write (format v3: xz-compressed groups, see relkit_audit::corpus).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A gnulib m4 corpus directory (gnulib-m4.jsonl.xz + gnulib-m4-blobs.tar.xz).
    #[arg(long, value_name = "DIR")]
    pub gnulib: Vec<PathBuf>,
    /// An upstream release tarball, optionally with a label: PATH[=LABEL]; repeatable.
    #[arg(long, value_name = "PATH[=LABEL]")]
    pub tarball: Vec<String>,
    /// A directory of installed macros (e.g. /usr/share/aclocal): PATH[=LABEL]; repeatable.
    #[arg(long, value_name = "PATH[=LABEL]")]
    pub dir: Vec<String>,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

/// Arguments of `relkit audit corpus stats`.
#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
}

/// Runs `relkit audit`.
pub fn run(cmd: AuditCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        AuditCommand::Tarball(a) => tarball(a, ctx),
        AuditCommand::Corpus(CorpusCommand::Import(a)) => corpus_import(a, ctx),
        AuditCommand::Corpus(CorpusCommand::Stats(a)) => corpus_stats(a, ctx),
        AuditCommand::History(a) => history(a, ctx),
    }
}

fn tarball(a: TarballArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let reference = match (&a.repo, &a.rev, &a.tree) {
        (Some(repo), Some(rev), _) => Reference::Git {
            repo: repo.clone(),
            rev: rev.clone(),
        },
        (_, _, Some(tree)) => Reference::Tree(tree.clone()),
        _ => anyhow::bail!("give --repo PATH --rev TAG, or --tree DIR"),
    };
    let spinner = ctx.spinner("auditing");
    let opts = AuditOptions {
        regenerate: a.regenerate.clone(),
        auto_regenerate: !a.no_regenerate,
        ..Default::default()
    };
    let report = audit_tarball_with(&a.tarball, &reference, &a.corpus.spec(), &opts)
        .with_context(|| format!("cannot audit {}", a.tarball.display()))?;
    spinner.finish_and_clear();
    match a.format {
        AuditFormat::Json => print_json(&report)?,
        AuditFormat::Sarif => print_json(&render::tarball_sarif(&report))?,
        AuditFormat::Text => {
            if !ctx.quiet() {
                print!("{}", render::tarball_text(&report, a.verbose));
            }
        }
    }
    Ok(if report.has_critical() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn split_label(arg: &str) -> (PathBuf, String) {
    match arg.rsplit_once('=') {
        Some((p, l)) if !l.is_empty() => (PathBuf::from(p), l.to_string()),
        _ => {
            let p = PathBuf::from(arg);
            let label = p
                .file_name()
                .map_or_else(|| arg.to_string(), |n| n.to_string_lossy().into_owned());
            (p, label)
        }
    }
}

fn corpus_import(a: ImportArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let mut corpus = a
        .corpus
        .spec()
        .load(&Blobs::All)
        .context("cannot load the base corpus")?;
    for dir in &a.gnulib {
        let n = import::import_gnulib(&mut corpus, dir)
            .with_context(|| format!("cannot import the gnulib corpus in {}", dir.display()))?;
        ctx.info(format!("gnulib {}: {n} copies", dir.display()));
    }
    for t in &a.tarball {
        let (path, label) = split_label(t);
        let n = import::import_archive(&mut corpus, &path, &label)
            .with_context(|| format!("cannot import {}", path.display()))?;
        ctx.info(format!("{label}: {n} files"));
    }
    for d in &a.dir {
        let (path, label) = split_label(d);
        let n = import::import_dir(&mut corpus, &path, &label)
            .with_context(|| format!("cannot import {}", path.display()))?;
        ctx.info(format!("{label}: {n} files"));
    }
    corpus
        .write(&a.out)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    print_stats(&corpus, &a.out, a.format, ctx)
}

fn corpus_stats(a: StatsArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let corpus = a
        .corpus
        .spec()
        .load(&Blobs::All)
        .context("cannot load the corpus")?;
    print_stats(&corpus, Path::new("(loaded corpus)"), a.format, ctx)
}

fn print_stats(
    corpus: &Corpus,
    path: &Path,
    format: AuditFormat,
    ctx: &Context,
) -> anyhow::Result<Outcome> {
    let stats = corpus.stats();
    match format {
        AuditFormat::Json | AuditFormat::Sarif => print_json(&stats)?,
        AuditFormat::Text => {
            if !ctx.quiet() {
                println!(
                    "{}: {} file names, {} known copies, {} blobs",
                    path.display(),
                    stats.files,
                    stats.copies,
                    stats.blobs
                );
                for (source, n) in &stats.by_source {
                    println!("  {source}: {n} copies");
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

fn history(a: HistoryArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let spinner = ctx.spinner("reading the history");
    let report = audit_history(&a.repo, &a.from, &a.to).with_context(|| {
        format!(
            "cannot audit the history {}..{} of {}",
            a.from,
            a.to,
            a.repo.display()
        )
    })?;
    spinner.finish_and_clear();
    match a.format {
        AuditFormat::Json => print_json(&report)?,
        AuditFormat::Sarif => {
            anyhow::bail!("--format sarif is for `audit tarball`; use text or json")
        }
        AuditFormat::Text => {
            if !ctx.quiet() {
                print!("{}", render::history_text(&report));
            }
        }
    }
    Ok(Outcome::Ok)
}
