//! `relkit health`: which of a release's dependencies are critical (Debian's dependency
//! graph) and languishing (their upstream git history), offline. The work is
//! `relkit_health::assess`; this module parses arguments, shows progress and writes the
//! text, JSON (`relkit-health/1`) or HTML report.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_health::{Inputs, Policy, date, debian, render};

use crate::output::{Context, Outcome};

/// Report formats of `relkit health`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthFormat {
    /// A table sorted by severity.
    Text,
    /// The stable relkit-health/1 JSON report.
    Json,
    /// One self-contained HTML page (inline SVG, no JavaScript).
    Html,
}

/// Arguments of `relkit health`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit health ../shared/data/cpython/v3.13.5/externals.spdx.json \\
      --repos ../shared/data/git \\
      --debian-packages ../shared/data/debian/bookworm_main_binary-amd64_Packages.xz \\
      --as-of 2022-06-30
  relkit health sbom.spdx.json --repos repos/ --debian-packages trixie=Packages.xz \\
      --timeline --format html -o health.html
  relkit health sbom.spdx.json --repos repos/ --debian-packages Packages.xz --explain xz

Verdicts: critical-languishing, transition, watch, ok, not-critical, no-data (with what is
missing). Flags: release-starved, low-activity, dormant (neglect); concentrated,
truck-factor-1 (fragility); signer-change, newcomer-control (control). Thresholds: --policy
FILE (TOML; the defaults and their reasons are in relkit-health's policy.toml).

Exit codes: 0 no component critical-languishing or in transition, 1 at least one, 2 usage or
input error (unreadable SBOM, repository or Packages index; an SBOM with no components).")]
pub struct HealthArgs {
    /// The SBOM (SPDX 2.x or CycloneDX JSON).
    pub sbom: PathBuf,
    /// Directory of upstream histories: NAME (git directory), NAME.git (bare) or NAME.bundle.
    #[arg(long, value_name = "DIR")]
    pub repos: Option<PathBuf>,
    /// A Debian Packages index (plain, .xz, .gz or .lz4), optionally labelled `SUITE=FILE`
    /// (default label: the file name up to its first `_`); repeatable.
    #[arg(long = "debian-packages", value_name = "[SUITE=]FILE")]
    pub debian_packages: Vec<String>,
    /// Assess as of the end of this day (YYYY-MM-DD); default: the newest commit in the data.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Evaluate the verdict at every quarter end (shown in --explain and the HTML report).
    #[arg(long)]
    pub timeline: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = HealthFormat::Text)]
    pub format: HealthFormat,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Print everything about one component (its numbers, flags, evidence and the rule).
    #[arg(long, value_name = "NAME")]
    pub explain: Option<String>,
    /// Extra identity table entries (TOML, same format as the built-in table); repeatable.
    #[arg(long, value_name = "FILE")]
    pub map: Vec<PathBuf>,
    /// Thresholds (TOML; keys left out keep their defaults).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Exposed root package for dependency paths; repeatable (default: openssh-server,
    /// systemd, apt, dpkg, python3).
    #[arg(long = "root", value_name = "PACKAGE")]
    pub roots: Vec<String>,
    /// Where git bundles are unpacked (default: relkit's cache directory).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

fn cache_dir() -> PathBuf {
    relkit_vuln::sample::cache_dir().join("health")
}

/// Runs `relkit health`.
pub fn run(args: HealthArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let policy = match &args.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the policy {}", p.display()))?;
            Policy::parse(&text, &p.display().to_string())?
        }
        None => Policy::default(),
    };
    let packages = args
        .debian_packages
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((suite, file)) if !suite.is_empty() && !suite.contains('/') => {
                (suite.to_string(), PathBuf::from(file))
            }
            _ => {
                let path = PathBuf::from(spec);
                (relkit_health::report::suite_from_file_name(&path), path)
            }
        })
        .collect();
    let as_of = args
        .as_of
        .as_deref()
        .map(date::parse_end_of_day)
        .transpose()?;
    if let Some(dir) = &args.repos
        && !dir.is_dir()
    {
        anyhow::bail!("--repos {}: not a directory", dir.display());
    }
    let inputs = Inputs {
        sbom: args.sbom.clone(),
        repos: args.repos.clone(),
        packages,
        maps: args.map.clone(),
        policy,
        as_of,
        timeline: args.timeline,
        roots: if args.roots.is_empty() {
            debian::DEFAULT_ROOTS
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            args.roots.clone()
        },
        cache: args.cache.clone().unwrap_or_else(cache_dir),
    };
    let spinner = ctx.spinner("relkit health");
    let report = relkit_health::assess(&inputs, &|step| spinner.set_message(step.to_string()))?;
    spinner.finish_and_clear();

    let text = match (&args.explain, args.format) {
        (Some(name), HealthFormat::Json) => {
            let c = find(&report, name)?;
            serde_json::to_string_pretty(c)? + "\n"
        }
        (Some(name), _) => render::explain(&report, find(&report, name)?),
        (None, HealthFormat::Text) => render::text(&report),
        (None, HealthFormat::Json) => serde_json::to_string_pretty(&report)? + "\n",
        (None, HealthFormat::Html) => relkit_health::html::page(&report),
    };
    match &args.output {
        Some(path) => {
            relkit_core::fs::write_atomic(path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            ctx.info(format!("wrote {}", path.display()));
        }
        None => print!("{text}"),
    }
    Ok(if report.has_findings() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn find<'a>(
    report: &'a relkit_health::Report,
    name: &str,
) -> anyhow::Result<&'a relkit_health::report::ComponentReport> {
    report
        .components
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let names: Vec<&str> = report.components.iter().map(|c| c.name.as_str()).collect();
            anyhow::anyhow!(
                "--explain {name}: no component of that name in the SBOM (components: {})",
                names.join(", ")
            )
        })
}
