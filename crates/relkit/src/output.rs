//! Terminal output helpers shared by all commands: formats, progress bars, errors.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How a command prints its report.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// Stable, documented JSON on stdout.
    Json,
}

/// What a command found, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: everything fine.
    Ok,
    /// Exit 1: findings, differences or a policy failure.
    Findings,
}

/// Per-invocation settings for output.
#[derive(Debug, Clone)]
pub struct Context {
    quiet: bool,
    progress: bool,
}

impl Context {
    /// Builds the context; progress bars only when stderr is a terminal and not quiet.
    pub fn new(quiet: bool) -> Self {
        Context {
            quiet,
            progress: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Whether informational messages should be suppressed.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Prints an informational line to stderr unless quiet.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A spinner with a message, hidden when quiet or not on a terminal.
    pub fn spinner(&self, msg: impl Into<String>) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .expect("static template is valid"),
        );
        pb.set_message(msg.into());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }
}

/// Prints an error and its causes to stderr in the `error: …` / `  caused by: …` form.
pub fn print_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

/// Serializes a report as pretty JSON to stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}
