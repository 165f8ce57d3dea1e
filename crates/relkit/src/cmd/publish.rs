//! `relkit publish`: upload a release directory to a relkit release server (the pipeline's
//! publish step), resumably and idempotently, and optionally publish the release.
//!
//! JSON output (`--format json`) is [`relkit_client::PublishReport`]: `{"server", "project",
//! "version", "items": [{"name", "kind", "attached_to", "sha256", "size", "outcome":
//! "created" | "replaced" | "unchanged", "status"}], "ignored": [[name, reason]],
//! "published"}`. Exit 0 when everything was uploaded (and published if asked); exit 1 when
//! the server refused the publication (what is missing is printed); 2 on other errors.

use std::path::PathBuf;

use anyhow::Context as _;
use relkit_client::{Error, PublishOptions, publish_dir};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Arguments of `relkit publish`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:
  relkit publish dist/ --server http://127.0.0.1:8080 --token-file cpython.token \\
      --project cpython --release-version 3.13.5 --tag v3.13.5 --commit 6cb20a2 --publish

Next to each artifact X, the directory may hold X.spdx.json / X.cdx.json (SBOM), X.sig /
X.minisig (signature), X.sigstore.json / X.sigstore (Sigstore bundle), X.intoto.jsonl
(provenance). Re-running uploads only what the server does not have yet.")]
pub struct PublishArgs {
    /// The release directory (e.g. dist/).
    pub dir: PathBuf,
    /// Server base URL.
    #[arg(long)]
    pub server: String,
    /// File holding the project's upload token.
    #[arg(long)]
    pub token_file: PathBuf,
    /// Project name.
    #[arg(long)]
    pub project: String,
    /// Release version (`--version` is relkit's own version flag).
    #[arg(long = "release-version", value_name = "VERSION")]
    pub release_version: String,
    /// Git tag of the release.
    #[arg(long, default_value = "")]
    pub tag: String,
    /// Git commit of the release.
    #[arg(long, default_value = "")]
    pub commit: String,
    /// Publish after uploading (the release becomes immutable).
    #[arg(long)]
    pub publish: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs `relkit publish`.
pub fn run(a: PublishArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let token = std::fs::read_to_string(&a.token_file)
        .with_context(|| format!("reading the token file {}", a.token_file.display()))?
        .trim()
        .to_string();
    let opts = PublishOptions {
        server: a.server.clone(),
        token,
        project: a.project.clone(),
        version: a.release_version.clone(),
        tag: a.tag,
        commit: a.commit,
        dir: a.dir.clone(),
        publish: a.publish,
    };
    let report = match publish_dir(&opts) {
        Ok(r) => r,
        Err(Error::Http {
            status: 422,
            missing,
            message,
            ..
        }) if !missing.is_empty() => {
            println!("NOT PUBLISHED: {message}");
            for m in &missing {
                println!("  missing: {m}");
            }
            return Ok(Outcome::Findings);
        }
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "publishing {} to {} as {} {}",
                    a.dir.display(),
                    a.server,
                    a.project,
                    a.release_version
                )
            });
        }
    };
    if a.report.format == OutputFormat::Json {
        print_json(&report)?;
    } else {
        for i in &report.items {
            if !ctx.quiet() {
                println!(
                    "{:9} {:10} {} ({} bytes){}",
                    i.outcome,
                    i.kind,
                    i.name,
                    i.size,
                    if i.status.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", i.status)
                    }
                );
            }
        }
        for (name, why) in &report.ignored {
            ctx.info(format!("ignored   {name}: {why}"));
        }
        ctx.info(format!(
            "{} {}: {} uploaded, {} already on the server{}",
            report.project,
            report.version,
            report.uploaded(),
            report.unchanged(),
            if report.published {
                ", published"
            } else {
                " (draft)"
            }
        ));
    }
    Ok(Outcome::Ok)
}
