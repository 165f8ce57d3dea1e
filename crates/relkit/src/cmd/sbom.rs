//! `relkit sbom generate | check | convert | merge | diff`: SPDX 2.3 and CycloneDX 1.6 SBOMs.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use relkit_sbom::{Document, Format, binary, check, diff, json, merge};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Subcommands of `relkit sbom`. Parsed once per process, so the size of the largest
/// variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand, Debug)]
pub enum SbomCommand {
    /// Write the SBOM of a source tree/archive or of binaries (DLL/PYD/EXE directory or zip).
    #[command(after_help = "Examples:
  relkit sbom generate Python-3.13.5.tar.xz --name CPython --version 3.13.5 -o spdx-json=cpython.spdx.json -o cyclonedx-json=cpython.cdx.json
  relkit sbom generate python-3.13.2-embed-amd64/ --declared Misc/externals.spdx.json -o spdx-json=win.spdx.json
Output is deterministic: the creation time is --created, else SOURCE_DATE_EPOCH, else the commit
time of a directory in a git work tree, else the newest file/member modification time.")]
    Generate(GenerateArgs),
    /// Validate an SBOM: schema, spec rules, references, checksums, licenses, CPE/PURL, NTIA, version consistency.
    Check(CheckArgs),
    /// Convert SPDX <-> CycloneDX, listing what the target format cannot carry.
    Convert(ConvertArgs),
    /// Merge several SBOMs into one release SBOM.
    Merge(MergeArgs),
    /// Compare two SBOMs: components added, removed, upgraded, CPE/PURL changed.
    Diff(DiffArgs),
    /// Prove every declared version against the source tree, archive or binaries it describes.
    Verify(crate::cmd::truth::VerifyArgs),
}

/// What kind of input `generate` reads.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Binaries if PATH is a PE file or holds .dll/.pyd/.exe at its top level, else source.
    Auto,
    /// A source tree or source archive.
    Source,
    /// Binaries: a PE file, or a directory, zip or tarball (.tar, .tgz, .txz) of PE, ELF or
    /// Mach-O files.
    Binary,
}

/// Arguments of `relkit sbom generate`. `--version` here is the package version, so the
/// propagated program `--version` flag is disabled for this subcommand.
#[derive(clap::Args, Debug)]
#[command(disable_version_flag = true)]
pub struct GenerateArgs {
    /// Directory, .tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip, .whl, or PE file.
    pub path: PathBuf,
    /// Output: FORMAT (stdout) or FORMAT=PATH; FORMAT is spdx-json or cyclonedx-json. Repeatable.
    #[arg(short = 'o', long = "output", default_value = "spdx-json")]
    pub outputs: Vec<String>,
    /// Input kind.
    #[arg(long, value_enum, default_value_t = InputKind::Auto)]
    pub kind: InputKind,
    /// Top package name (default: `[project] name` of PATH/relkit.toml, else the directory/archive name).
    #[arg(long)]
    pub name: Option<String>,
    /// Top package version (default: `[project] version` of PATH/relkit.toml).
    #[arg(long = "version", id = "pkg_version")]
    pub pkg_version: Option<String>,
    /// Supplier (`Organization: X`, `Person: Y`, or a bare organization name). Default for
    /// this and the next five options: the `[sbom]` table of PATH/relkit.toml (`supplier`,
    /// `download-location`, `license`, `cpe`, `purl` with `{version}` replaced, `in-tree`).
    #[arg(long)]
    pub supplier: Option<String>,
    /// Download location URL of the top package.
    #[arg(long)]
    pub download_location: Option<String>,
    /// Declared license expression of the top package.
    #[arg(long)]
    pub license: Option<String>,
    /// CPE 2.3 of the top package (repeatable).
    #[arg(long)]
    pub cpe: Vec<String>,
    /// PURL of the top package (repeatable).
    #[arg(long)]
    pub purl: Vec<String>,
    /// In-tree SBOM of vendored packages (default: Misc/sbom.spdx.json when present).
    #[arg(long)]
    pub in_tree_sbom: Option<String>,
    /// Do not read an in-tree SBOM.
    #[arg(long, conflicts_with = "in_tree_sbom")]
    pub no_in_tree_sbom: bool,
    /// Directory (relative) whose *.whl become packages (default: Lib/ensurepip/_bundled). Repeatable.
    #[arg(long)]
    pub wheel_dir: Vec<String>,
    /// Binary input: compare the components found with this declared SBOM (e.g. Misc/externals.spdx.json).
    #[arg(long)]
    pub declared: Option<PathBuf>,
    /// Creation time, RFC 3339 UTC (default: SOURCE_DATE_EPOCH, else the git commit time of a
    /// directory in a work tree, else the newest file or archive member modification time).
    #[arg(long)]
    pub created: Option<String>,
    /// SBOM author (`Organization: X`, `Person: Y`, or a bare organization name); repeatable.
    #[arg(long)]
    pub author: Vec<String>,
    /// Source input: exit 1 when the files contradict a vendored package's declared version
    /// (by default that is a warning; see `relkit sbom verify`), or when a lockfile of the
    /// tree cannot be read.
    #[arg(long)]
    pub strict: bool,
    /// Leave out files and directories matching this glob (relative to PATH; `./vendor/**`,
    /// `**/testdata/**`): not hashed, not listed, not cataloged. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// List every file with its SHA-1 and SHA-256 (the file inventory), also for a Python
    /// distribution. By default a source tree or archive lists its files, and a wheel, an
    /// sdist, an installed environment (site-packages, a venv) or a CPython install prefix does
    /// not: its distributions
    /// and native libraries are the components, not one element per `.py` file.
    #[arg(long, conflicts_with = "no_files")]
    pub files: bool,
    /// List no files, also for a source tree or archive (only its packages).
    #[arg(long)]
    pub no_files: bool,
    /// Leave out development-only dependencies (npm/pnpm/yarn/composer/poetry dev scopes), as
    /// `npm audit --omit=dev` does. By default they are listed, with their scope.
    #[arg(long, alias = "omit-dev")]
    pub no_dev: bool,
    /// Do not read lockfiles and installed-package metadata (Cargo.lock, package-lock.json,
    /// uv.lock, go.mod, *.dist-info, …): only files, in-tree SBOM and bundled wheels.
    #[arg(long)]
    pub no_catalog: bool,
    /// Wheel input: write DIR/<same file name>, a copy of the wheel with this SBOM (CycloneDX)
    /// added as `NAME-VERSION.dist-info/sboms/relkit.cdx.json` (PEP 770) and RECORD updated; the
    /// input is never modified. The SBOM then goes only into the wheel, unless -o FORMAT=PATH
    /// asks for copies.
    #[arg(long, value_name = "DIR")]
    pub pep770: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit sbom check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// SBOM files (SPDX 2.2/2.3 or CycloneDX 1.4/1.5/1.6 JSON).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// CPE dictionary for the identity checks (default: the one `relkit cpe import` writes,
    /// $XDG_CACHE_HOME/relkit/cpe.sqlite or ~/.cache/relkit/cpe.sqlite, used when present).
    #[arg(long, value_name = "PATH")]
    pub dict: Option<PathBuf>,
    /// Skip the identity checks even when a CPE dictionary is present.
    #[arg(long, conflicts_with = "dict")]
    pub no_dict: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit sbom convert`.
#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// Input SBOM.
    pub input: PathBuf,
    /// Target format: spdx-json or cyclonedx-json.
    #[arg(long)]
    pub to: String,
    /// Output file (default: stdout).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit sbom merge` (`--version` is the release version).
#[derive(clap::Args, Debug)]
#[command(disable_version_flag = true)]
pub struct MergeArgs {
    /// Input SBOMs.
    #[arg(required = true, num_args = 2..)]
    pub inputs: Vec<PathBuf>,
    /// Name of the release (the new root package).
    #[arg(long)]
    pub name: String,
    /// Version of the release.
    #[arg(long = "version", id = "release_version")]
    pub release_version: Option<String>,
    /// Output: FORMAT or FORMAT=PATH (repeatable).
    #[arg(short = 'o', long = "output", default_value = "spdx-json")]
    pub outputs: Vec<String>,
    /// Creation time, RFC 3339 UTC (default: SOURCE_DATE_EPOCH, else now).
    #[arg(long)]
    pub created: Option<String>,
}

/// Arguments of `relkit sbom diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The older SBOM.
    pub old: PathBuf,
    /// The newer SBOM.
    pub new: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `relkit sbom` subcommand.
pub fn run(cmd: SbomCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        SbomCommand::Generate(a) => generate(a, ctx),
        SbomCommand::Check(a) => run_check(a, ctx),
        SbomCommand::Convert(a) => convert(a, ctx),
        SbomCommand::Merge(a) => run_merge(a, ctx),
        SbomCommand::Diff(a) => run_diff(a, ctx),
        SbomCommand::Verify(a) => crate::cmd::truth::run(a, ctx),
    }
}

/// One requested output: a format and a path (None = stdout).
struct Output {
    format: Format,
    path: Option<PathBuf>,
}

fn parse_outputs(specs: &[String]) -> anyhow::Result<Vec<Output>> {
    let mut outs = Vec::new();
    for spec in specs {
        let (f, p) = match spec.split_once('=') {
            Some((f, p)) => (f, Some(PathBuf::from(p))),
            None => (spec.as_str(), None),
        };
        let format = Format::parse(f).with_context(|| {
            format!(
                "-o {spec}: unknown format {f:?}; use spdx-json or cyclonedx-json, optionally =PATH"
            )
        })?;
        outs.push(Output { format, path: p });
    }
    if outs.iter().filter(|o| o.path.is_none()).count() > 1 {
        bail!("more than one -o writes to stdout; give all but one a path: -o FORMAT=PATH");
    }
    Ok(outs)
}

/// Serializes every requested output first, then writes each atomically (temp file + rename),
/// so a failure never leaves a half-written SBOM.
fn write_outputs(doc: &Document, outs: &[Output], ctx: &Context) -> anyhow::Result<()> {
    let rendered: Vec<(&Output, Vec<u8>, Vec<String>)> = outs
        .iter()
        .map(|o| {
            let (bytes, lost) = relkit_sbom::write(doc, o.format);
            (o, bytes, lost)
        })
        .collect();
    for (o, bytes, lost) in rendered {
        for l in &lost {
            ctx.info(format!("note: {} cannot carry {l}", o.format.name()));
        }
        match &o.path {
            Some(p) => {
                json::write_atomic(p, &bytes)
                    .with_context(|| format!("writing {}", p.display()))?;
                ctx.info(format!("wrote {} ({})", p.display(), o.format.name()));
            }
            None => {
                use std::io::Write;
                std::io::stdout().write_all(&bytes)?;
            }
        }
    }
    Ok(())
}

fn created(flag: &Option<String>) -> anyhow::Result<String> {
    match explicit_created(flag)? {
        Some(c) => Ok(c),
        None => relkit_sbom::created_now_or_epoch().map_err(anyhow::Error::msg),
    }
}

/// `--created`, else `SOURCE_DATE_EPOCH`, else `None` (generate then takes the time from its
/// input: commit time or newest modification time).
fn explicit_created(flag: &Option<String>) -> anyhow::Result<Option<String>> {
    match flag {
        Some(c) => {
            let ok = c.len() == 20 && c.ends_with('Z') && c.as_bytes()[10] == b'T';
            if !ok {
                bail!("--created {c:?}: use RFC 3339 UTC like 2025-06-11T00:00:00Z");
            }
            Ok(Some(c.clone()))
        }
        None if std::env::var_os("SOURCE_DATE_EPOCH").is_some() => {
            relkit_sbom::created_now_or_epoch()
                .map(Some)
                .map_err(anyhow::Error::msg)
        }
        None => Ok(None),
    }
}

/// The commit time of a directory in a git work tree (the newest commit that changed it, read
/// with gitoxide), RFC 3339; empty when `path` is not a directory of a work tree or no commit
/// holds it (the library then takes the newest file time). A history that cannot be read is an
/// error: the bytes of the SBOM must not depend on it silently.
fn commit_time_created(path: &std::path::Path) -> anyhow::Result<String> {
    if !path.is_dir() {
        return Ok(String::new());
    }
    match relkit_source::commit_time_of_path(path) {
        Ok(Some(t)) => Ok(relkit_sbom::model::rfc3339_from_epoch(t)),
        Ok(None) | Err(relkit_source::WorktreeError::NotAWorktree { .. }) => Ok(String::new()),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "reading the commit time of {} (pass --created or set SOURCE_DATE_EPOCH to give one)",
            path.display()
        ))),
    }
}

fn generate(a: GenerateArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let outs = parse_outputs(&a.outputs)?;
    // Empty = derived from the input's files by the library.
    let created = match explicit_created(&a.created)? {
        Some(c) => c,
        None => commit_time_created(&a.path)?,
    };
    let binary = match a.kind {
        InputKind::Binary => true,
        InputKind::Source => false,
        InputKind::Auto => binary::looks_binary(&a.path)?,
    };
    if a.declared.is_some() && !binary {
        bail!(
            "--declared compares binaries with a declared SBOM; {} is not binary input (use --kind binary)",
            a.path.display()
        );
    }
    let is_wheel = a
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("whl"));
    if a.pep770.is_some() && (binary || !is_wheel) {
        bail!(
            "--pep770 writes a wheel's SBOM into a copy of the wheel; {} is not a wheel",
            a.path.display()
        );
    }
    let (doc, outcome) = if binary {
        generate_binary(&a, created, ctx)?
    } else {
        generate_source(&a, created, ctx)?
    };
    let outs = match &a.pep770 {
        Some(dir) => {
            let (bytes, _) = relkit_sbom::write(&doc, Format::CycloneDxJson);
            let name = a.path.file_name().context("the wheel has no file name")?;
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let dest = dir.join(name);
            relkit_sbom::pep770::write_wheel(&a.path, &bytes, &dest)
                .with_context(|| format!("writing {}", dest.display()))?;
            ctx.info(format!("wrote {} (PEP 770 SBOM added)", dest.display()));
            outs.into_iter().filter(|o| o.path.is_some()).collect()
        }
        None => outs,
    };
    write_outputs(&doc, &outs, ctx)?;
    Ok(outcome)
}

/// The SBOM of binaries, compared with `--declared` when given.
fn generate_binary(
    a: &GenerateArgs,
    created: String,
    ctx: &Context,
) -> anyhow::Result<(relkit_sbom::Document, Outcome)> {
    let mut outcome = Outcome::Ok;
    let opts = binary::BinaryOptions {
        name: a.name.clone(),
        version: a.pkg_version.clone(),
        created,
    };
    let pb = ctx.spinner(format!("scanning binaries in {}", a.path.display()));
    let mut doc = binary::generate(&a.path, &opts)
        .with_context(|| format!("generating the SBOM of {}", a.path.display()))?;
    pb.finish_and_clear();
    if let Some(declared) = &a.declared {
        let (decl, _, _) = relkit_sbom::read_file(declared)
            .with_context(|| format!("reading the declared SBOM {}", declared.display()))?;
        let report = binary::compare_declared(&doc, &decl);
        if report.has_findings() {
            outcome = Outcome::Findings;
        }
        print_declared(&report, a.report.format, ctx)?;
    }
    relkit_sbom::generate::add_authors(&mut doc, &a.author);
    doc.normalize();
    Ok((doc, outcome))
}

/// The SBOM of a source tree, archive or wheel (flags over `relkit.toml`'s defaults, the
/// library's use case), then the truth check of its declared versions.
fn generate_source(
    a: &GenerateArgs,
    created: String,
    ctx: &Context,
) -> anyhow::Result<(relkit_sbom::Document, Outcome)> {
    let defaults = relkit_sbom::ProjectDefaults::from_tree(&a.path, a.pkg_version.as_deref())?;
    let flags = relkit_sbom::generate::Flags {
        name: a.name.clone(),
        version: a.pkg_version.clone(),
        supplier: a.supplier.clone(),
        download_location: a.download_location.clone(),
        license: a.license.clone(),
        cpes: a.cpe.clone(),
        purls: a.purl.clone(),
        in_tree_sbom: a.in_tree_sbom.clone(),
        no_in_tree_sbom: a.no_in_tree_sbom,
        wheel_dirs: a.wheel_dir.clone(),
        created,
        authors: a.author.clone(),
        no_catalog: a.no_catalog,
        no_dev: a.no_dev,
        exclude: a.exclude.clone(),
        files: match (a.files, a.no_files) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
    };
    let pb = ctx.spinner(format!("hashing {}", a.path.display()));
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {bytes} ({bytes_per_sec}) [{elapsed}]",
        )
        .expect("static template is valid"),
    );
    let progress = |n: u64| pb.inc(n);
    // On an archive, the truth check gets the members its rules read from this same pass
    // (see `check_declared_versions`) instead of decompressing the archive again.
    let generated = relkit_sbom::generate(
        &a.path,
        &flags,
        &defaults,
        &progress,
        &relkit_truth::may_read,
    )
    .with_context(|| format!("generating the SBOM of {}", a.path.display()))?;
    pb.finish_and_clear();
    for w in &generated.warnings {
        eprintln!("warning: {w}");
    }
    let unreadable = !generated.not_cataloged.is_empty();
    let doc = generated.doc;
    ctx.info(format!(
        "{}: {} packages, {} files",
        a.path.display(),
        doc.packages.len(),
        doc.files.len()
    ));
    let against = if a.path.is_dir() {
        Against::Tree(&a.path)
    } else {
        Against::Members(generated.kept)
    };
    let findings = !generated.wheel && check_declared_versions(&doc, &a.path, against, a.strict)?
        || (a.strict && unreadable);
    Ok((
        doc,
        if findings {
            Outcome::Findings
        } else {
            Outcome::Ok
        },
    ))
}

/// What a freshly generated source SBOM is checked against.
enum Against<'a> {
    /// A directory: its files are read where the rules point.
    Tree(&'a std::path::Path),
    /// An archive: the members the truth rules may read, kept from the generation pass.
    Members(std::collections::BTreeMap<String, Vec<u8>>),
}

/// Runs the SBOM truth check on a freshly generated source SBOM: every package whose files
/// show another version than the one declared (e.g. by an in-tree SBOM that was not
/// updated) is a warning on stderr, or a finding with `strict`. Returns whether any was.
///
/// For an archive, the check gets the SBOM's files and the members its rules read (their
/// bytes, from the generation pass) without decompressing the archive again.
fn check_declared_versions(
    doc: &relkit_sbom::Document,
    path: &std::path::Path,
    against: Against<'_>,
    strict: bool,
) -> anyhow::Result<bool> {
    let report = match against {
        Against::Tree(dir) => relkit_truth::verify(doc, dir)
            .with_context(|| format!("checking declared versions against {}", path.display()))?,
        Against::Members(content) => relkit_truth::verify_members(
            doc,
            relkit_truth::SourceMembers {
                label: path.display().to_string(),
                files: doc.files.iter().map(|f| f.name.clone()).collect(),
                content,
            },
        ),
    };
    let level = if strict { "error" } else { "warning" };
    let mut contradicted = false;
    for p in &report.packages {
        if p.verdict != relkit_truth::Verdict::Contradicted {
            continue;
        }
        contradicted = true;
        eprintln!(
            "{level}: package {} declares version {} but its files show {}; run `relkit sbom verify` for the evidence (`--fix` corrects the SBOM)",
            p.name,
            p.declared_version.as_deref().unwrap_or("(none)"),
            p.found_version.as_deref().unwrap_or("another version"),
        );
    }
    Ok(contradicted && strict)
}

fn print_declared(
    r: &binary::DeclaredReport,
    format: OutputFormat,
    ctx: &Context,
) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        // The SBOM may be on stdout too; the report goes to stderr so the two never mix.
        eprintln!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let line = |kind: &str, row: &binary::DeclaredRow| {
        format!(
            "{kind:13} {:12} declared {:12} found {}{}",
            row.name,
            row.declared_version.as_deref().unwrap_or("-"),
            if row.found_versions.is_empty() {
                "-".to_string()
            } else {
                row.found_versions.join(", ")
            },
            row.evidence
                .first()
                .map(|e| format!("  [{e}]"))
                .unwrap_or_default()
        )
    };
    for row in &r.contradicted {
        eprintln!("{}", line("CONTRADICTED", row));
    }
    for row in &r.version_unknown {
        eprintln!("{}", line("NO VERSION", row));
    }
    for row in &r.not_found {
        eprintln!("{}", line("NOT FOUND", row));
    }
    for row in &r.undeclared {
        eprintln!("{}", line("UNDECLARED", row));
    }
    for row in &r.confirmed {
        ctx.info(line("confirmed", row));
    }
    Ok(())
}

fn run_check(a: CheckArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    // An explicit --dict must open; the default one is used only when it exists.
    let dict_path = match (&a.dict, a.no_dict) {
        (_, true) => None,
        (Some(p), false) => Some(p.clone()),
        (None, false) => Some(relkit_cpedict::default_path()).filter(|p| p.is_file()),
    };
    let dict = match &dict_path {
        Some(p) => Some(
            relkit_cpedict::Dictionary::open(p)
                .with_context(|| format!("opening the CPE dictionary {}", p.display()))?,
        ),
        None => {
            ctx.info(format!(
                "note: no CPE dictionary at {}: CPE identity checks skipped (build one with `relkit cpe import`)",
                relkit_cpedict::default_path().display()
            ));
            None
        }
    };
    let dict_name = dict_path
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut reports = Vec::new();
    for f in &a.files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        let identity = dict.as_ref().map(|d| (d, dict_name.as_str()));
        reports.push(check::check_bytes_with(
            &bytes,
            &f.display().to_string(),
            identity,
        )?);
    }
    let failed = reports
        .iter()
        .any(|r| !r.valid || (a.strict && r.warnings > 0));
    if a.report.format == OutputFormat::Json {
        print_json(&reports)?;
    } else {
        for r in &reports {
            for p in &r.problems {
                let sev = match p.severity {
                    check::Severity::Error => "error",
                    check::Severity::Warning => "warning",
                };
                if p.severity == check::Severity::Error || !ctx.quiet() {
                    println!(
                        "{}: {sev}[{}] {}: {}\n    hint: {}",
                        r.file, p.rule, p.path, p.message, p.hint
                    );
                }
            }
            let verdict = if r.valid { "valid" } else { "INVALID" };
            if !ctx.quiet() || !r.valid {
                println!(
                    "{}: {} {verdict} ({} errors, {} warnings)",
                    r.file, r.spec_version, r.errors, r.warnings
                );
            }
        }
    }
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn convert(a: ConvertArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let target = Format::parse(&a.to)
        .with_context(|| format!("--to {}: use spdx-json or cyclonedx-json", a.to))?;
    let (mut doc, dropped, _) = relkit_sbom::read_file(&a.input)
        .with_context(|| format!("reading {}", a.input.display()))?;
    let filled = if target == Format::SpdxJson {
        relkit_sbom::spdx::complete(&mut doc, &created(&None)?)
    } else {
        Vec::new()
    };
    for f in &filled {
        ctx.info(format!("note: {f}"));
    }
    let (bytes, lost) = relkit_sbom::write(&doc, target);
    let all: Vec<String> = dropped
        .iter()
        .map(|d| format!("input field {d}"))
        .chain(lost)
        .collect();
    if a.report.format == OutputFormat::Json {
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"not_carried": all}))?
        );
    } else {
        for l in &all {
            ctx.info(format!("not carried: {l}"));
        }
    }
    match &a.output {
        Some(p) => {
            json::write_atomic(p, &bytes).with_context(|| format!("writing {}", p.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(Outcome::Ok)
}

fn run_merge(a: MergeArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let outs = parse_outputs(&a.outputs)?;
    let created = created(&a.created)?;
    let mut docs = Vec::new();
    for p in &a.inputs {
        let (doc, dropped, _) =
            relkit_sbom::read_file(p).with_context(|| format!("reading {}", p.display()))?;
        for d in dropped {
            ctx.info(format!(
                "note: {}: {d} is not carried into the merged SBOM",
                p.display()
            ));
        }
        docs.push(doc);
    }
    let mut merged = merge::merge(&docs, &a.name, a.release_version.as_deref(), &created);
    if outs.iter().any(|o| o.format == Format::SpdxJson) {
        for n in relkit_sbom::spdx::complete(&mut merged, &created) {
            ctx.info(format!("note: {n}"));
        }
    }
    write_outputs(&merged, &outs, ctx)?;
    Ok(Outcome::Ok)
}

fn run_diff(a: DiffArgs, _ctx: &Context) -> anyhow::Result<Outcome> {
    let (old, _, _) =
        relkit_sbom::read_file(&a.old).with_context(|| format!("reading {}", a.old.display()))?;
    let (new, _, _) =
        relkit_sbom::read_file(&a.new).with_context(|| format!("reading {}", a.new.display()))?;
    let d = diff::diff(&old, &new);
    if a.report.format == OutputFormat::Json {
        print_json(&d)?;
    } else {
        let fmt =
            |c: &diff::Component| format!("{} {}", c.name, c.version.as_deref().unwrap_or("?"));
        for c in &d.added {
            println!("+ {}", fmt(c));
        }
        for c in &d.removed {
            println!("- {}", fmt(c));
        }
        for c in &d.changed {
            println!(
                "~ {}: {} -> {} ({})",
                c.name,
                c.old.version.as_deref().unwrap_or("?"),
                c.new.version.as_deref().unwrap_or("?"),
                c.changes.join(", ")
            );
            if c.changes.contains(&"cpe") {
                println!("    cpe: {:?} -> {:?}", c.old.cpes, c.new.cpes);
            }
            if c.changes.contains(&"purl") {
                println!("    purl: {:?} -> {:?}", c.old.purls, c.new.purls);
            }
        }
    }
    Ok(if d.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
