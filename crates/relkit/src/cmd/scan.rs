//! `relkit scan`: list known vulnerabilities of every component of an SBOM (or of a source
//! tree / binary artifact, SBOM'd first) from the offline vulnerability DB.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_sbom::{binary, source};
use relkit_vuln::{DbChoice, Level, Report, ScanOptions, report};

use crate::output::{Context, Outcome, print_json};

/// Output formats of `relkit scan`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// A table (`table` is an alias, as Trivy and Grype name it).
    #[value(alias = "table")]
    Text,
    /// The stable relkit-scan/1 JSON report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// CycloneDX 1.6 VEX (vulnerabilities with analysis states).
    CyclonedxVex,
}

/// Severity thresholds for --fail-on.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Threshold {
    /// Low or worse.
    Low,
    /// Medium or worse.
    Medium,
    /// High or worse.
    High,
    /// Critical only.
    Critical,
}

/// Arguments of `relkit scan`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  relkit scan ../shared/data/cpython/v3.13.5/externals.spdx.json
  relkit scan release.cdx.json --format sarif > scan.sarif
  relkit scan ./Python-3.13.5 --vex openvex.json --fail-on high
  relkit scan Cargo.lock --db rustsec.sqlite --fail-on high

Without --db, the DB imported by `relkit db import` is used when it exists, otherwise the
bundled sample DB (real NVD and OSV records, built in the cache on first use).
Exit codes: 0 no findings (at or above --fail-on), 1 findings, 2 usage or input error.
JSON (--format json, schema relkit-scan/1): target, database, components, findings[{id,
aliases, component, component_ref, purl, installed, fixed, severity, score, vector, summary,
condition, reasons[{record, via, identifier, range}]}], suppressed[{finding, status,
justification, statement}], notes[{component, identifier, record, message}].")]
pub struct ScanArgs {
    /// SPDX 2.x / CycloneDX 1.4-1.6 JSON SBOM; a lockfile (Cargo.lock, package-lock.json, go.mod,
    /// uv.lock, poetry.lock, Pipfile.lock, requirements*.txt); or a source tree / archive /
    /// binary to SBOM first.
    pub target: PathBuf,
    /// DB file (default: the imported DB in the cache, else the bundled sample).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    pub format: ScanFormat,
    /// OpenVEX document: findings it marks not_affected are suppressed (justification shown).
    #[arg(long)]
    pub vex: Option<PathBuf>,
    /// Exit 1 only when a finding is at or above this severity (default: any finding).
    /// Findings without any rating (many Go and PyPA records) never reach a threshold.
    #[arg(long, value_enum)]
    pub fail_on: Option<Threshold>,
    /// Report only findings that have a fixed version.
    #[arg(long)]
    pub only_fixed: bool,
    /// Tree or archive target: leave out paths matching this glob (`./vendor/**`). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Leave out development-only dependencies (as `npm audit --omit=dev`).
    #[arg(long, alias = "omit-dev")]
    pub no_dev: bool,
}

fn load_target(a: &ScanArgs, ctx: &Context) -> anyhow::Result<relkit_sbom::Document> {
    let path = a.target.as_path();
    let lower = path.to_string_lossy().to_ascii_lowercase();
    let created = relkit_sbom::created_now_or_epoch().map_err(anyhow::Error::msg)?;
    let selection = relkit_sbom::dependencies::Selection {
        include_dev: !a.no_dev,
    };
    if relkit_sbom::lockfile::is_lockfile(path) {
        let (doc, warnings) = relkit_sbom::lockfile::generate(path, &created, selection)
            .with_context(|| format!("reading the lockfile {}", path.display()))?;
        for w in warnings {
            eprintln!("warning: {w}");
        }
        return Ok(doc);
    }
    // A JSON file that no cataloger reads by name (package-lock.json, packages.lock.json and
    // composer.lock are lockfiles, checked first) is an SBOM.
    if path.is_file() && lower.ends_with(".json") {
        let (doc, _, _) = relkit_sbom::read_file(path)
            .with_context(|| format!("reading the SBOM {}", path.display()))?;
        return Ok(doc);
    }
    let pb = ctx.spinner(format!("generating the SBOM of {}", path.display()));
    let doc = if path.is_file() && lower.ends_with(".whl") {
        // A wheel: its distribution, what its PEP 770 SBOMs declare, RECORD verified.
        source::generate_wheel_warning(
            path,
            &source::SourceOptions {
                created,
                ..Default::default()
            },
            &|_| {},
        )
        .map(|(doc, warnings)| {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            doc
        })
    } else if binary::looks_binary(path)? {
        binary::generate(
            path,
            &binary::BinaryOptions {
                name: None,
                version: None,
                created,
            },
        )
    } else {
        source::generate_keeping(
            path,
            &source::SourceOptions {
                created,
                selection,
                exclude: a.exclude.clone(),
                // A scan needs the packages, not the file inventory.
                files: source::FileInventory::Never,
                ..Default::default()
            },
            &|_| {},
            &|_| false,
        )
        .map(|s| {
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            let unreadable = s.not_cataloged.len();
            (s.doc, unreadable)
        })
        .and_then(|(doc, unreadable)| {
            // Fail closed: a dependency file that could not be read would make the scan
            // answer "clean" for what it holds.
            if unreadable > 0 {
                return Err(relkit_sbom::Error::Invalid {
                    origin: path.display().to_string(),
                    path: String::new(),
                    message: format!(
                        "{unreadable} dependency file(s) could not be read (named above), so                          their packages cannot be scanned; fix them or leave them out with                          --exclude"
                    ),
                });
            }
            Ok(doc)
        })
    }
    .with_context(|| format!("generating the SBOM of {}", path.display()))?;
    pb.finish_and_clear();
    Ok(doc)
}

/// Runs `relkit scan`.
pub fn run(a: ScanArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let doc = load_target(&a, ctx)?;
    let choice = match &a.db {
        Some(p) => DbChoice::Path(p.clone()),
        None => DbChoice::ImportedOrSample,
    };
    let (mut rep, chosen) = relkit_vuln::scan_sbom(
        &doc,
        &a.target.display().to_string(),
        &choice,
        None,
        &ScanOptions {
            only_fixed: a.only_fixed,
        },
    )?;
    if chosen.sample {
        ctx.info(chosen.note);
    }
    if let Some(vex) = &a.vex {
        let text = std::fs::read_to_string(vex)
            .with_context(|| format!("reading the OpenVEX document {}", vex.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: malformed JSON", vex.display()))?;
        report::apply_openvex(&mut rep, &value)
            .with_context(|| format!("applying {}", vex.display()))?;
    }
    if !rep.unchecked.is_empty() {
        // Not a failure (a scan only answers for what advisories exist for), but never silent.
        eprintln!(
            "warning: {} of {} components could not be checked against any advisory (no PURL of an ecosystem the DB covers, no CPE with a version): {}",
            rep.unchecked.len(),
            rep.components,
            rep.unchecked.join(", ")
        );
    }
    match a.format {
        ScanFormat::Text => print_table(&rep, ctx),
        ScanFormat::Json => print_json(&rep)?,
        ScanFormat::Sarif => print_json(&report::to_sarif(&rep))?,
        ScanFormat::CyclonedxVex => print_json(&report::to_cyclonedx_vex(&rep))?,
    }
    let hit = match a.fail_on {
        None => !rep.findings.is_empty(),
        Some(t) => {
            let level = match t {
                Threshold::Low => Level::Low,
                Threshold::Medium => Level::Medium,
                Threshold::High => Level::High,
                Threshold::Critical => Level::Critical,
            };
            rep.at_least(level) > 0
        }
    };
    Ok(if hit { Outcome::Findings } else { Outcome::Ok })
}

fn print_table(r: &Report, ctx: &Context) {
    if ctx.quiet() {
        return;
    }
    let mut rows = vec![[
        "ID".to_string(),
        "COMPONENT".into(),
        "INSTALLED".into(),
        "FIXED".into(),
        "SEVERITY".into(),
        "MATCH".into(),
    ]];
    for f in &r.findings {
        let sev = match f.score {
            Some(s) => format!("{} {s:.1}", f.severity.as_str()),
            None => f.severity.as_str().to_string(),
        };
        let m = f
            .reasons
            .iter()
            .map(|x| format!("{} {} [{}]", x.via, x.range, x.record))
            .collect::<Vec<_>>()
            .join("; ");
        let m = match &f.condition {
            Some(c) => format!("CONDITIONAL ({c}): {m}"),
            None => m,
        };
        rows.push([
            f.id.clone(),
            f.component.clone(),
            f.installed.clone().unwrap_or_else(|| "?".into()),
            f.fixed.clone().unwrap_or_else(|| "-".into()),
            sev,
            m,
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i < 5 {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        println!("{}", line.trim_end());
    }
    for f in &r
        .findings
        .iter()
        .filter(|f| !f.aliases.is_empty())
        .collect::<Vec<_>>()
    {
        println!("  {} aka {}", f.id, f.aliases.join(", "));
    }
    for s in &r.suppressed {
        println!(
            "suppressed by VEX: {} in {} {}: {} ({})",
            s.finding.id,
            s.finding.component,
            s.finding.installed.as_deref().unwrap_or("?"),
            s.status,
            s.justification
                .as_deref()
                .or(s.statement.as_deref())
                .unwrap_or("no justification")
        );
    }
    for w in &r.warnings {
        println!(
            "warning: {} {} {}: {} ({}){}",
            w.component,
            w.installed.as_deref().unwrap_or("?"),
            w.id,
            w.summary.as_deref().unwrap_or("informational advisory"),
            w.informational.as_deref().unwrap_or("informational"),
            w.fixed
                .as_deref()
                .map(|f| format!(", fixed in {f}"))
                .unwrap_or_default()
        );
    }
    for n in &r.notes {
        println!(
            "note: {}{}{}: {}",
            n.component,
            n.identifier
                .as_deref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default(),
            n.record
                .as_deref()
                .map(|i| format!(" {i}"))
                .unwrap_or_default(),
            n.message
        );
    }
    println!(
        "{} findings in {} components ({} suppressed, {} informational warnings) using {}",
        r.findings.len(),
        r.components,
        r.suppressed.len(),
        r.warnings.len(),
        r.database
    );
}
