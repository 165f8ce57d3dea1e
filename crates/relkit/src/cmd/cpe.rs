//! `relkit cpe parse|match|import|search|suggest|check`: CPE 2.3 names (NISTIR 7695/7696)
//! and the offline CPE dictionary.
//!
//! JSON output (`--format json`), stable:
//! * parse: `{input, binding, fs, uri, wfn_string, wfn: {part…other}}`
//! * match: `{source, target, relation, attributes: [{attribute, relation}]}`
//! * import: `{dict, products, names, cves, seconds, entries_per_second}`
//! * search: `{query, hits: [{kind, part, vendor, product, title, cve_count, name_count,
//!   min_version, max_version, sample_cve, sample_description, deprecated, deprecated_by, target_sw}]}`
//! * suggest: `{name, version, purl, suggestions: [{cpe, score, reasons, product}]}`
//! * check: `{sbom, dict, errors, warnings, components: [{name, version, path, cpe, purl,
//!   findings: [{severity, code, path, message, suggestions}]}]}`
//!
//! Exit codes: `match` exits 1 when the source does not match the target (relation is not
//! EQUAL or SUPERSET); `check` exits 1 when any finding is an error.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use relkit_cpedict::{Dictionary, default_path};
use relkit_ident::check::{Severity, check_components, sbom_components, suggest};
use relkit_ident::cpe::{CpeError, NameRelation, Wfn, compare_names};
use relkit_ident::purl::Purl;
use serde_json::json;

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// CPE subcommands.
#[derive(Subcommand, Debug)]
pub enum CpeCommand {
    /// Parse a CPE (formatted string, URI or WFN) and print the WFN and both bindings.
    Parse(ParseArgs),
    /// Compare two CPE names (NISTIR 7696): per-attribute and whole-name relation.
    Match(MatchArgs),
    /// Build the offline dictionary from NVD's CPE dictionary XML, CPE API 2.0 pages and CVE JSON 2.0.
    Import(ImportArgs),
    /// Search the dictionary (any query length, e.g. "xz"), ranked by exactness and CVE count.
    Search(SearchArgs),
    /// Suggest the most likely CPE(s) for a package.
    Suggest(SuggestArgs),
    /// Check every CPE/PURL of an SPDX 2.3 or CycloneDX JSON SBOM against the dictionary.
    Check(CheckArgs),
}

/// Where the dictionary lives.
#[derive(Args, Debug, Clone)]
pub struct DictArgs {
    /// Dictionary file (default: $XDG_CACHE_HOME/relkit/cpe.sqlite or ~/.cache/relkit/cpe.sqlite).
    #[arg(long, value_name = "PATH")]
    pub dict: Option<PathBuf>,
}

impl DictArgs {
    fn path(&self) -> PathBuf {
        self.dict.clone().unwrap_or_else(default_path)
    }
}

/// Arguments of `cpe parse`.
#[derive(Args, Debug)]
pub struct ParseArgs {
    /// The CPE name.
    pub name: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `cpe match`.
#[derive(Args, Debug)]
pub struct MatchArgs {
    /// Source name (may contain wildcards).
    pub source: String,
    /// Target name.
    pub target: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `cpe import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Source files or directories (.xml, .json).
    #[arg(required = true)]
    pub sources: Vec<PathBuf>,
    #[command(flatten)]
    pub dict: DictArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `cpe search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Query: a product, vendor, vendor:product, or any part of them.
    pub query: String,
    /// Maximum number of hits.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub dict: DictArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `cpe suggest`.
#[derive(Args, Debug)]
pub struct SuggestArgs {
    /// Package name.
    #[arg(long)]
    pub name: String,
    /// Package version.
    #[arg(long)]
    pub version: Option<String>,
    /// Package URL (its type and namespace steer the choice).
    #[arg(long)]
    pub purl: Option<String>,
    /// Maximum number of suggestions.
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
    #[command(flatten)]
    pub dict: DictArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `cpe check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// SPDX 2.3 JSON or CycloneDX JSON file.
    pub sbom: PathBuf,
    #[command(flatten)]
    pub dict: DictArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `cpe` subcommand.
pub fn run(cmd: CpeCommand, ctx: &Context) -> Result<Outcome> {
    match cmd {
        CpeCommand::Parse(a) => parse(a),
        CpeCommand::Match(a) => matching(a),
        CpeCommand::Import(a) => import(a, ctx),
        CpeCommand::Search(a) => search(a),
        CpeCommand::Suggest(a) => suggest_cmd(a),
        CpeCommand::Check(a) => check(a),
    }
}

/// A CPE error as a message with a caret under the offending position.
fn cpe_error(s: &str, e: CpeError) -> anyhow::Error {
    let pos = match &e {
        CpeError::BadCharacter { position, .. }
        | CpeError::InvalidAttribute { position, .. }
        | CpeError::WfnSyntax { position, .. } => Some(*position),
        _ => None,
    };
    match pos {
        Some(p) => anyhow::anyhow!("invalid CPE name: {e}\n  {s}\n  {}^", " ".repeat(p)),
        None => anyhow::anyhow!("invalid CPE name {s:?}: {e}"),
    }
}

/// Parses a CPE with a located error.
fn parse_cpe(s: &str) -> Result<Wfn> {
    Wfn::parse(s).map_err(|e| cpe_error(s, e))
}

fn parse(a: ParseArgs) -> Result<Outcome> {
    let (w, binding) = Wfn::parse_with_binding(&a.name).map_err(|e| cpe_error(&a.name, e))?;
    match a.report.format {
        OutputFormat::Json => print_json(&json!({
            "input": a.name,
            "binding": binding,
            "fs": w.to_fs(),
            "uri": w.to_uri(),
            "wfn_string": w.to_wfn_string(),
            "wfn": w,
        }))?,
        OutputFormat::Text => {
            println!("binding: {binding:?}");
            println!("fs:      {}", w.to_fs());
            println!("uri:     {}", w.to_uri());
            println!("wfn:     {}", w.to_wfn_string());
            for (attr, v) in w.attributes() {
                println!("  {:<11} {v}", attr.name());
            }
        }
    }
    Ok(Outcome::Ok)
}

fn matching(a: MatchArgs) -> Result<Outcome> {
    let s = parse_cpe(&a.source).context("source")?;
    let t = parse_cpe(&a.target).context("target")?;
    let c = compare_names(&s, &t);
    match a.report.format {
        OutputFormat::Json => print_json(&json!({
            "source": s.to_fs(),
            "target": t.to_fs(),
            "relation": c.relation,
            "attributes": c.attributes.iter().map(|(a, r)| json!({"attribute": a, "relation": r})).collect::<Vec<_>>(),
        }))?,
        OutputFormat::Text => {
            for (attr, r) in &c.attributes {
                println!("  {:<11} {:?}", attr.name(), r);
            }
            println!("relation: {:?}", c.relation);
        }
    }
    Ok(match c.relation {
        NameRelation::Equal | NameRelation::Superset => Outcome::Ok,
        _ => Outcome::Findings,
    })
}

fn import(a: ImportArgs, ctx: &Context) -> Result<Outcome> {
    let path = a.dict.path();
    let spinner = ctx.spinner(format!("importing into {}", path.display()));
    let start = Instant::now();
    let stats = Dictionary::import(&path, &a.sources)?;
    spinner.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let entries = stats.names + stats.cves;
    let rate = entries as f64 / secs.max(1e-9);
    match a.report.format {
        OutputFormat::Json => print_json(&json!({
            "dict": path, "products": stats.products, "names": stats.names, "cves": stats.cves,
            "seconds": secs, "entries_per_second": rate.round(),
        }))?,
        OutputFormat::Text => {
            if !ctx.quiet() {
                println!(
                    "{}: {} vendor:products, {} CPE names, {} CVEs ({:.2} s, {:.0} entries/s)",
                    path.display(),
                    stats.products,
                    stats.names,
                    stats.cves,
                    secs,
                    rate
                );
            }
        }
    }
    Ok(Outcome::Ok)
}

fn search(a: SearchArgs) -> Result<Outcome> {
    let dict = Dictionary::open(&a.dict.path())?;
    let hits = dict.search(&a.query, a.limit)?;
    match a.report.format {
        OutputFormat::Json => print_json(&json!({"query": a.query, "hits": hits}))?,
        OutputFormat::Text => {
            if hits.is_empty() {
                println!("no match for {:?}", a.query);
            }
            for (i, h) in hits.iter().enumerate() {
                let p = &h.product;
                let versions = match (&p.min_version, &p.max_version) {
                    (Some(lo), Some(hi)) if lo == hi => lo.clone(),
                    (Some(lo), Some(hi)) => format!("{lo} – {hi}"),
                    _ => "?".into(),
                };
                println!(
                    "{:>2}. {}:{}:{}  [{:?}]  versions {}  CVEs {}{}",
                    i + 1,
                    p.part,
                    p.vendor,
                    p.product,
                    h.kind,
                    versions,
                    p.cve_count,
                    if p.deprecated {
                        format!(
                            "  DEPRECATED → {}",
                            p.deprecated_by.as_deref().unwrap_or("?")
                        )
                    } else {
                        String::new()
                    }
                );
                if let Some(t) = &p.title {
                    println!("      {t}");
                }
                if let (Some(id), Some(d)) = (&p.sample_cve, &p.sample_description) {
                    let d: String = d.split_whitespace().collect::<Vec<_>>().join(" ");
                    let short: String = d.chars().take(160).collect();
                    println!(
                        "      {id}: {short}{}",
                        if d.len() > short.len() { "…" } else { "" }
                    );
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

fn suggest_cmd(a: SuggestArgs) -> Result<Outcome> {
    let dict = Dictionary::open(&a.dict.path())?;
    let purl = a
        .purl
        .as_deref()
        .map(|p| Purl::parse(p).with_context(|| format!("--purl {p:?}")))
        .transpose()?;
    let s = suggest(&dict, &a.name, a.version.as_deref(), purl.as_ref(), a.limit)?;
    match a.report.format {
        OutputFormat::Json => print_json(&json!({
            "name": a.name, "version": a.version, "purl": a.purl, "suggestions": s,
        }))?,
        OutputFormat::Text => {
            if s.is_empty() {
                println!("no CPE found for {:?}", a.name);
            }
            for (i, x) in s.iter().enumerate() {
                println!("{:>2}. {}  (score {})", i + 1, x.cpe, x.score);
                for r in &x.reasons {
                    println!("      - {r}");
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

fn check(a: CheckArgs) -> Result<Outcome> {
    let text = std::fs::read_to_string(&a.sbom)
        .with_context(|| format!("cannot read SBOM {}", a.sbom.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not valid JSON (SPDX 2.3 or CycloneDX JSON expected)",
            a.sbom.display()
        )
    })?;
    let components = sbom_components(&doc).with_context(|| format!("{}", a.sbom.display()))?;
    let path = a.dict.path();
    let dict = Dictionary::open(&path)?;
    let reports = check_components(&dict, &components)?;
    let count = |sev: Severity| {
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .filter(|f| f.severity == sev)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    match a.report.format {
        OutputFormat::Json => print_json(&json!({
            "sbom": a.sbom, "dict": path, "errors": errors, "warnings": warnings, "components": reports,
        }))?,
        OutputFormat::Text => {
            for r in &reports {
                let id = r.cpe.as_deref().or(r.purl.as_deref()).unwrap_or("");
                let status = if r.findings.is_empty() { "ok" } else { "!!" };
                println!(
                    "{status} {} {} {id}",
                    r.name,
                    r.version.as_deref().unwrap_or("(no version)")
                );
                for f in &r.findings {
                    println!("   {:?} [{}] {}: {}", f.severity, f.code, f.path, f.message);
                    for s in &f.suggestions {
                        println!("      suggestion: {} (score {})", s.cpe, s.score);
                    }
                }
            }
            println!(
                "{} component(s) checked: {errors} error(s), {warnings} warning(s)",
                reports.len()
            );
        }
    }
    if components.is_empty() {
        bail!(
            "{} has no packages/components: nothing to check",
            a.sbom.display()
        );
    }
    Ok(if errors > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
