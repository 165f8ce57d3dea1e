//! `relkit purl parse`: parse and normalize a Package URL (purl-spec).
//!
//! JSON output (`--format json`), stable: `{input, canonical, type, namespace, name,
//! version, qualifiers, subpath}`.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use relkit_ident::purl::Purl;
use serde_json::json;

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// PURL subcommands.
#[derive(Subcommand, Debug)]
pub enum PurlCommand {
    /// Parse a Package URL and print its components and canonical form.
    Parse(ParseArgs),
}

/// Arguments of `purl parse`.
#[derive(Args, Debug)]
pub struct ParseArgs {
    /// The Package URL, e.g. pkg:pypi/Django_package@1.11.1.
    pub purl: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `purl` subcommand.
pub fn run(cmd: PurlCommand, _ctx: &Context) -> Result<Outcome> {
    match cmd {
        PurlCommand::Parse(a) => {
            let p = Purl::parse(&a.purl)
                .with_context(|| format!("invalid Package URL {:?}", a.purl))?;
            match a.report.format {
                OutputFormat::Json => {
                    let mut v = serde_json::to_value(&p)?;
                    v["input"] = json!(a.purl);
                    v["canonical"] = json!(p.to_canonical());
                    print_json(&v)?;
                }
                OutputFormat::Text => {
                    println!("canonical:  {}", p.to_canonical());
                    println!("type:       {}", p.ty);
                    println!("namespace:  {}", p.namespace.as_deref().unwrap_or("-"));
                    println!("name:       {}", p.name);
                    println!("version:    {}", p.version.as_deref().unwrap_or("-"));
                    for (k, v) in &p.qualifiers {
                        println!("qualifier:  {k}={v}");
                    }
                    println!("subpath:    {}", p.subpath.as_deref().unwrap_or("-"));
                }
            }
            Ok(Outcome::Ok)
        }
    }
}
