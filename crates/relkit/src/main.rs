//! The `relkit` command line: argument parsing and output only.
//!
//! Every subcommand lives in its own module under [`cmd`]; the library crates do the
//! work and know nothing about the terminal. Exit codes are uniform across commands:
//! 0 ok, 1 findings / differences / policy failure, 2 usage or input error.

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::{Outcome, OutputFormat};

/// Release integrity kit: reproducible source releases, SBOMs, vulnerability scans and verification.
#[derive(Parser, Debug)]
#[command(name = "relkit", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Exit codes: 0 ok, 1 findings or differences, 2 usage or input error.")]
struct Cli {
    /// Print nothing but errors (and the requested report with --format json).
    #[arg(long, short, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

/// The top-level commands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Build release artifacts (source archives) reproducibly.
    #[command(subcommand)]
    Build(cmd::build::BuildCommand),
    /// Run the end-to-end demo on a bundled sample project.
    Demo(cmd::demo::DemoArgs),
    /// Rebuild a published artifact from its tag and say "identical" or exactly why not.
    Rebuild(cmd::rebuild::RebuildArgs),
    /// Compare two archives or directories member by member (exit 1 when they differ).
    Diff(cmd::diff::DiffArgs),
    /// Write SHA256SUMS / SHA512SUMS, or check them like `sha256sum -c`.
    Checksum(cmd::checksum::ChecksumArgs),
    /// Generate signing keys or import minisign keys.
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Sign a file: detached ed25519 / P-256, minisign, or a Sigstore bundle.
    Sign(cmd::sign::SignArgs),
    /// Attest artifacts: DSSE + in-toto Statement with SLSA provenance v1 or an SBOM.
    Attest(cmd::attest::AttestArgs),
    /// Verify an artifact's checksums, signature, Sigstore bundle, provenance and policy.
    Verify(cmd::verify::VerifyArgs),
    /// SBOMs: generate, check, convert, merge and diff SPDX 2.3 / CycloneDX 1.6 documents.
    #[command(subcommand)]
    Sbom(cmd::sbom::SbomCommand),
    /// Offline vulnerability DB: import NVD / OSV / RustSec data, update, stats.
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Scan an SBOM (or a tree / binary) for known vulnerabilities.
    Scan(cmd::scan::ScanArgs),
    /// CPE 2.3 names and the offline CPE dictionary: parse, match, import, search, suggest, check.
    #[command(subcommand)]
    Cpe(cmd::cpe::CpeCommand),
    /// Package URLs: parse and normalize.
    #[command(subcommand)]
    Purl(cmd::purl::PurlCommand),
    /// Audit a release: tarball vs tag (the xz lesson), reference corpus of upstream macros.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Run the release server (authenticated upload, verification on arrival, downloads).
    Serve(cmd::serve::ServeArgs),
    /// The release pipeline declared in relkit.toml: plan, run (resumable), status.
    #[command(subcommand)]
    Release(cmd::release::ReleaseCommand),
    /// Write a commented starter relkit.toml for this repository.
    Init(cmd::release::InitArgs),
    /// Generate CI workflows that run the release plan.
    #[command(subcommand)]
    Ci(cmd::release::CiCommand),
    /// Upload a release directory to a relkit server (resumable, idempotent), optionally publish.
    Publish(cmd::publish::PublishArgs),
    /// Which SBOM components are critical (Debian's graph) and languishing (their git history).
    Health(cmd::health::HealthArgs),
}

/// Options shared by every command that prints a report.
#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// Report format: human-readable text or stable JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let ctx = output::Context::new(cli.quiet);
    let result = match cli.command {
        Command::Build(c) => cmd::build::run(c, &ctx),
        Command::Demo(a) => cmd::demo::run(a, &ctx),
        Command::Rebuild(a) => cmd::rebuild::run(a, &ctx),
        Command::Diff(a) => cmd::diff::run(a, &ctx),
        Command::Checksum(a) => cmd::checksum::run(a, &ctx),
        Command::Key(c) => cmd::key::run(c, &ctx),
        Command::Sign(a) => cmd::sign::run(a, &ctx),
        Command::Attest(a) => cmd::attest::run(a, &ctx),
        Command::Verify(a) => cmd::verify::run(a, &ctx),
        Command::Sbom(c) => cmd::sbom::run(c, &ctx),
        Command::Db(c) => cmd::db::run(c, &ctx),
        Command::Scan(a) => cmd::scan::run(a, &ctx),
        Command::Cpe(c) => cmd::cpe::run(c, &ctx),
        Command::Purl(c) => cmd::purl::run(c, &ctx),
        Command::Audit(c) => cmd::audit::run(c, &ctx),
        Command::Serve(a) => cmd::serve::run(a, &ctx),
        Command::Release(c) => cmd::release::run(c, &ctx),
        Command::Init(a) => cmd::release::init(a, &ctx),
        Command::Ci(c) => cmd::release::ci(c, &ctx),
        Command::Publish(a) => cmd::publish::run(a, &ctx),
        Command::Health(a) => cmd::health::run(a, &ctx),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(2)
        }
    }
}
