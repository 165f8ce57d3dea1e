//! `relkit demo`: the end-to-end demo on a bundled sample project.

use crate::output::{Context, Outcome};

/// Arguments of `relkit demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo's working directory here instead of a temporary one.
    #[arg(long)]
    pub keep: Option<std::path::PathBuf>,
}

/// Runs the demo.
pub fn run(_args: DemoArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    ctx.info("relkit demo");
    Ok(Outcome::Ok)
}
