//! The release pipeline behind `relkit release plan | run | status`, `relkit init` and
//! `relkit ci github`.
//!
//! A release is declared once in `relkit.toml` ([`plan::Plan`]) and run as checked steps
//! ([`steps`]): verify the input (the tag points at the expected commit, the work tree is
//! clean), build the reproducible source archives, build and archive the docs, gather the
//! artifacts built elsewhere (each checked against its SHA-256 or a signed SHA256SUMS), test
//! the built source archive in a clean directory, make the SBOMs, scan them, audit the
//! tarball against the tag, sign, attest, write SHA256SUMS, publish (staged, then renamed)
//! and verify what was published. Every finished step is checkpointed in
//! `.relkit/state.json` ([`state`]) with the fingerprint of its inputs and the hash of every
//! output, so a re-run resumes, redoes what changed, and refuses when a finished output was
//! tampered with.
//!
//! It sequences: each step calls a use case of a domain crate (relkit-source,
//! relkit-sbom, relkit-vuln, relkit-audit, relkit-health, relkit-attest, relkit-archive), the
//! same function the matching CLI command calls. It must not print (the CLI's [`Observer`]
//! does), run the `git` binary, treat a check that could not run as passed, or hold a private
//! copy of work a domain crate does (signing, archive reading, SBOM options).

#[allow(unsafe_code)] // process-group signals: see the SAFETY comments in exec.rs
pub mod exec;
pub mod gather;
pub mod github;
pub mod init;
pub mod plan;
pub mod publish;
pub mod run;
pub mod state;
pub mod steps;

use std::path::PathBuf;

pub use plan::Plan;
pub use run::{Observer, Release, RunOptions, RunSummary, StepView};
pub use state::{State, StepRecord, StepStatus};

/// Errors of the release pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The plan (`relkit.toml`) is invalid.
    #[error("{path}:{line}:{column}: {message}")]
    Plan {
        /// The plan file.
        path: PathBuf,
        /// Line (1-based; 0 when unknown).
        line: usize,
        /// Column (1-based; 0 when unknown).
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// `state.json` cannot be used.
    #[error("{path}: {message}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The input revision is refused (moved tag, unexpected commit, dirty tree, not a tag).
    #[error("refusing to release: {0}")]
    Refused(String),
    /// The input revision is refused because it cannot be resolved or read at all (no such
    /// tag, a repository that cannot be opened, unreadable objects).
    #[error("refusing to release: {context}")]
    RefusedBecause {
        /// What could not be done.
        context: String,
        /// The error that stopped it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A program a step needs is not installed; nothing has run.
    #[error(
        "step {step}: `{program}` is not installed (not found on PATH); install it or change the command: {command}"
    )]
    MissingTool {
        /// The step.
        step: String,
        /// The program.
        program: String,
        /// The command naming it.
        command: String,
    },
    /// An output of a finished step changed after the step recorded it.
    #[error(
        "{path} was changed after step `{step}` made it (recorded sha256 {recorded}, now {actual}); restore it, or re-run from that step with --from {step}"
    )]
    Tampered {
        /// The step that made the file.
        step: String,
        /// The file.
        path: String,
        /// SHA-256 recorded in state.json.
        recorded: String,
        /// SHA-256 now (or `missing`).
        actual: String,
    },
    /// A step failed; the run stopped.
    #[error("step `{step}` failed: {message}")]
    StepFailed {
        /// The step.
        step: String,
        /// Why, and where the log is.
        message: String,
        /// The error that stopped it, when another error did.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The run was interrupted (Ctrl-C); state.json is consistent and the run can be resumed.
    #[error(
        "interrupted during step `{step}`; state saved, run `relkit release run` again to resume"
    )]
    Interrupted {
        /// The step that was running.
        step: String,
    },
    /// `--from`/`--only` names no step of this plan.
    #[error("no step {name:?} in this plan; steps are: {known}")]
    UnknownStep {
        /// The name given.
        name: String,
        /// The plan's steps.
        known: String,
    },
    /// A step cannot run because an earlier one has not finished.
    #[error(
        "step `{step}` needs step `{needs}` to have finished first; run `relkit release run` (or --from {needs})"
    )]
    NotReady {
        /// The step asked for.
        step: String,
        /// The unfinished step.
        needs: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
