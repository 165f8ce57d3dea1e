//! `relkit sbom verify`: proves every declared component version of an SBOM against the
//! source tree, source archive or binaries it describes (relkit-truth), optionally writing a
//! corrected SBOM with `--fix`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use relkit_truth::{Kind, Options, Report, Verdict, fix};
use serde::Serialize;

use crate::output::{Context, Outcome, print_json};

/// Report formats of `sbom verify`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyFormat {
    /// Human-readable text.
    Text,
    /// The stable JSON report (see the relkit-truth crate docs).
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// What `--against` is.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgainstKind {
    /// Binaries if PATH is a PE file or holds .dll/.pyd/.exe at its top level, else source.
    Auto,
    /// A source tree or source archive (tar, tar.gz, tar.xz, zip).
    Source,
    /// Windows binaries: a PE file, or a directory or zip of them.
    Binary,
}

/// Arguments of `relkit sbom verify`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit sbom verify Python-3.13.5/Misc/sbom.spdx.json --against Python-3.13.5.tar.xz
  relkit sbom verify externals.spdx.json --against python-3.13.2-embed-amd64/ --format sarif
  relkit sbom verify sbom.spdx.json --against src/ --fix -o sbom.fixed.spdx.json
  relkit sbom verify psycopg2_binary-2.9.13-cp313-cp313-manylinux2014_x86_64.whl
Exit codes: 0 nothing contradicted, 1 a version is contradicted (or a CPE/PURL disagrees), 2 input error.")]
pub struct VerifyArgs {
    /// The SBOM (SPDX 2.2/2.3 or CycloneDX 1.4-1.6 JSON).
    pub sbom: PathBuf,
    /// Source tree, source archive, binary directory/zip or PE file the SBOM describes. Not
    /// needed for a wheel (`relkit sbom verify X.whl`): its PEP 770 SBOMs are verified against
    /// its own bytes.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// What --against is.
    #[arg(long, value_enum, default_value_t = AgainstKind::Auto)]
    pub kind: AgainstKind,
    /// Report format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
    /// Write a corrected SBOM (versions, CPE and PURL versions from the evidence).
    #[arg(long)]
    pub fix: bool,
    /// Where --fix writes (must differ from the SBOM unless --in-place).
    #[arg(short = 'o', long, requires = "fix")]
    pub output: Option<PathBuf>,
    /// Let --fix overwrite the SBOM itself.
    #[arg(long, requires = "fix", conflicts_with = "output")]
    pub in_place: bool,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixOut<'a>>,
}

#[derive(Serialize)]
struct FixOut<'a> {
    output: String,
    #[serde(flatten)]
    result: &'a fix::FixResult,
}

/// Runs `relkit sbom verify`.
pub fn run(a: VerifyArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let dest = if a.fix {
        match (&a.output, a.in_place) {
            (Some(o), _) => {
                if same_file(o, &a.sbom) {
                    bail!(
                        "-o {} is the SBOM itself: pass --in-place to overwrite it, or choose another file",
                        o.display()
                    );
                }
                Some(o.clone())
            }
            (None, true) => Some(a.sbom.clone()),
            (None, false) => bail!(
                "--fix needs -o NEW (the corrected SBOM is written to a new file) or --in-place"
            ),
        }
    } else {
        None
    };
    let wheel = a
        .sbom
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("whl"));
    if wheel {
        if a.against.is_some() || dest.is_some() {
            bail!(
                "{}: a wheel's PEP 770 SBOMs are verified against the wheel itself: no --against, no --fix",
                a.sbom.display()
            );
        }
        let pb = ctx.spinner(format!(
            "verifying the PEP 770 SBOMs of {}",
            a.sbom.display()
        ));
        let mut report = relkit_truth::verify_wheel(&a.sbom)
            .with_context(|| format!("verifying {}", a.sbom.display()))?;
        pb.finish_and_clear();
        report.sbom = a.sbom.display().to_string();
        match a.format {
            VerifyFormat::Json => print_json(&JsonOut {
                report: &report,
                fix: None,
            })?,
            VerifyFormat::Sarif => print_json(&relkit_truth::sarif::to_sarif(&report, None))?,
            VerifyFormat::Text => print_text(&report, None, ctx),
        }
        return Ok(if report.has_findings() {
            Outcome::Findings
        } else {
            Outcome::Ok
        });
    }
    let Some(against) = a.against.clone() else {
        bail!(
            "--against is required: the tree, archive or binaries {} describes (only a wheel is verified against itself)",
            a.sbom.display()
        );
    };
    let bytes = std::fs::read(&a.sbom).with_context(|| format!("reading {}", a.sbom.display()))?;
    let origin = a.sbom.display().to_string();
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{origin}: malformed JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let (doc, _, _) = relkit_sbom::read(&value, &origin)?;
    let kind = match a.kind {
        AgainstKind::Auto => Kind::Auto,
        AgainstKind::Source => Kind::Source,
        AgainstKind::Binary => Kind::Binary,
    };
    let pb = ctx.spinner(format!("verifying against {}", against.display()));
    let mut report = relkit_truth::verify_with(&doc, &against, &Options { kind })
        .with_context(|| format!("verifying {origin} against {}", against.display()))?;
    pb.finish_and_clear();
    report.sbom = origin.clone();
    let fixed = match &dest {
        Some(dest) => {
            let mut value = value;
            let result = fix::fix(&mut value, &report, &origin)?;
            let mut out = serde_json::to_vec_pretty(&value)?;
            out.push(b'\n');
            fix::write_atomic(dest, &out)
                .with_context(|| format!("writing the corrected SBOM to {}", dest.display()))?;
            Some((dest.display().to_string(), result))
        }
        None => None,
    };
    match a.format {
        VerifyFormat::Json => print_json(&JsonOut {
            report: &report,
            fix: fixed.as_ref().map(|(o, r)| FixOut {
                output: o.clone(),
                result: r,
            }),
        })?,
        VerifyFormat::Sarif => print_json(&relkit_truth::sarif::to_sarif(
            &report,
            std::str::from_utf8(&bytes).ok(),
        ))?,
        VerifyFormat::Text => print_text(&report, fixed.as_ref(), ctx),
    }
    Ok(if report.has_findings() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn print_text(report: &Report, fixed: Option<&(String, fix::FixResult)>, ctx: &Context) {
    for p in &report.packages {
        if ctx.quiet() && p.verdict != Verdict::Contradicted && !p.inconsistent() {
            continue;
        }
        let declared = p.declared_version.as_deref().unwrap_or("(no version)");
        let tag = p.verdict.name().to_ascii_uppercase();
        match p.verdict {
            Verdict::Confirmed => {
                let e = &p.evidence[0];
                println!(
                    "{tag:<13} {} {declared}: {}{} {}",
                    p.name,
                    e.file,
                    location(e),
                    e.text
                );
            }
            Verdict::Contradicted => {
                println!(
                    "{tag:<13} {} declared {declared}, found {}",
                    p.name,
                    p.found_version.as_deref().unwrap_or("?")
                );
            }
            Verdict::Unverifiable => {
                println!("{tag:<13} {} {declared}: no evidence", p.name);
                for l in &p.looked_for {
                    println!("    looked for: {l}");
                }
            }
        }
        for problem in &p.problems {
            println!("    {problem}");
        }
        if !p.files.missing.is_empty() {
            println!(
                "    {} of {} files the SBOM assigns are not in the tree, e.g. {}",
                p.files.assigned - p.files.present,
                p.files.assigned,
                p.files.missing[0]
            );
        }
    }
    if !ctx.quiet() {
        for u in &report.undeclared {
            println!(
                "{:<13} {} {} (found in {}, not in the SBOM)",
                "UNDECLARED",
                u.name,
                u.version.as_deref().unwrap_or("?"),
                u.evidence
                    .iter()
                    .map(|e| e.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        for n in &report.notes {
            println!("note: {n}");
        }
    }
    if let Some((out, r)) = fixed {
        for c in &r.changes {
            println!("fixed {} {}: {} -> {}", c.package, c.path, c.old, c.new);
        }
        for rv in &r.review {
            println!("review: {rv}");
        }
        println!("wrote {out} ({} changes)", r.changes.len());
    }
    let s = &report.summary;
    if !ctx.quiet() {
        println!(
            "{} packages: {} confirmed, {} contradicted, {} unverifiable{}",
            report.packages.len(),
            s.confirmed,
            s.contradicted,
            s.unverifiable,
            if s.inconsistent > 0 {
                format!(", {} with inconsistent CPE/PURL versions", s.inconsistent)
            } else {
                String::new()
            }
        );
    }
}

fn location(e: &relkit_truth::Evidence) -> String {
    match (e.line, e.offset) {
        (Some(l), _) => format!(":{l}"),
        (None, Some(o)) => format!("@{o:#x}"),
        _ => String::new(),
    }
}
