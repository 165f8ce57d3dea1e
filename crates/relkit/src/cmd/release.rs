//! `relkit release plan | run | status`, `relkit init` and `relkit ci github`: the release
//! pipeline declared in `relkit.toml` (see the relkit-release crate).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use relkit_release::run::StepState;
use relkit_release::{Error, Observer, Plan, Release, RunOptions, StepRecord, StepStatus};

use crate::ReportArgs;
use crate::output::{Context, Outcome, OutputFormat, print_json};

/// Subcommands of `relkit release`.
#[derive(clap::Subcommand, Debug)]
pub enum ReleaseCommand {
    /// Print the steps, their inputs and outputs, and what is already done.
    Plan(PlanArgs),
    /// Run the release: every step not done yet, checkpointed in .relkit/state.json.
    #[command(after_help = "Examples:
  relkit release run --rev v1.2.0 --expect-commit 3f2a9c1
  relkit release run --rev v1.2.0 --from test:check     # redo the tests and everything after
  relkit release run --rev v1.2.0 --only sbom --dry-run

Exit codes: 0 released, 1 a step failed or the input was refused (moved tag, dirty tree,
tampered output), 2 invalid plan or missing tool, 130 interrupted (resume by running again).")]
    Run(RunArgs),
    /// What is done, what failed and why, where the logs are.
    Status(StatusArgs),
}

/// Where the plan and repository are.
#[derive(clap::Args, Debug)]
pub struct PlanLocation {
    /// The git repository.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The plan (default: relkit.toml in the repository).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl PlanLocation {
    fn load(&self) -> anyhow::Result<Plan> {
        let path = self
            .config
            .clone()
            .unwrap_or_else(|| self.repo.join("relkit.toml"));
        if !path.exists() {
            anyhow::bail!(
                "{} not found; write a starter plan with `relkit init`",
                path.display()
            );
        }
        Ok(Plan::load(&path)?)
    }
}

/// Options shared by `plan` and `run`.
#[derive(clap::Args, Debug)]
pub struct RevArgs {
    /// The tag to release.
    #[arg(long)]
    pub rev: String,
    /// Refuse unless the tag points at this commit (full id or at least 7 hex digits).
    #[arg(long)]
    pub expect_commit: Option<String>,
    /// Re-run this step and every later one.
    #[arg(long, conflicts_with = "only")]
    pub from: Option<String>,
    /// Run only this step (the steps it needs must be done).
    #[arg(long)]
    pub only: Option<String>,
    /// Accept uncommitted changes to tracked files.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Accept a revision that is not a tag (test releases).
    #[arg(long)]
    pub allow_untagged: bool,
    /// Signing key (overrides `[sign] key`).
    #[arg(long)]
    pub key: Option<PathBuf>,
}

impl RevArgs {
    fn options(&self, dry_run: bool) -> RunOptions {
        RunOptions {
            expect_commit: self.expect_commit.clone(),
            from: self.from.clone(),
            only: self.only.clone(),
            dry_run,
            allow_dirty: self.allow_dirty,
            allow_untagged: self.allow_untagged,
            key: self.key.clone(),
        }
    }
}

/// Arguments of `relkit release plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub location: PlanLocation,
    #[command(flatten)]
    pub rev: RevArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit release run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub location: PlanLocation,
    #[command(flatten)]
    pub rev: RevArgs,
    /// Show what would run; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit release status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub location: PlanLocation,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `relkit init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The repository to write relkit.toml for.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Overwrite an existing relkit.toml.
    #[arg(long)]
    pub force: bool,
    /// Print the plan instead of writing it.
    #[arg(long)]
    pub stdout: bool,
}

/// Subcommands of `relkit ci`.
#[derive(clap::Subcommand, Debug)]
pub enum CiCommand {
    /// Write a GitHub Actions workflow that runs the release plan in CI.
    Github(GithubArgs),
}

/// Arguments of `relkit ci github`.
#[derive(clap::Args, Debug)]
pub struct GithubArgs {
    #[command(flatten)]
    pub location: PlanLocation,
    /// Output file (`-` for stdout).
    #[arg(long, short = 'o', default_value = ".github/workflows/release.yml")]
    pub output: PathBuf,
    /// Command that installs relkit on the runner.
    #[arg(long)]
    pub install: Option<String>,
    /// Runner label.
    #[arg(long, default_value = "ubuntu-24.04")]
    pub runs_on: String,
}

/// Runs `relkit release …`.
pub fn run(cmd: ReleaseCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    let result = match cmd {
        ReleaseCommand::Plan(a) => plan(a, ctx),
        ReleaseCommand::Run(a) => run_release(a, ctx),
        ReleaseCommand::Status(a) => status(a, ctx),
    };
    match result {
        Err(e) => match e.downcast_ref::<Error>() {
            Some(Error::Interrupted { .. }) => {
                crate::output::print_error(&e);
                std::process::exit(130);
            }
            Some(
                Error::Refused(_)
                | Error::RefusedBecause { .. }
                | Error::Tampered { .. }
                | Error::StepFailed { .. },
            ) => {
                crate::output::print_error(&e);
                Ok(Outcome::Findings)
            }
            _ => Err(e),
        },
        ok => ok,
    }
}

fn plan(a: PlanArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let plan = a.location.load()?;
    let release = Release::open(&a.location.repo, plan, &a.rev.rev)?;
    let opts = a.rev.options(true);
    let views = release.plan_view(&opts)?;
    let problems = release.input_problems(&opts);
    let missing: Vec<String> = release
        .missing_tools()
        .iter()
        .map(ToString::to_string)
        .collect();
    if a.report.format == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "https://relkit.dev/schema/release-plan/v1",
            "rev": a.rev.rev,
            "commit": release.commit(),
            "version": release.version(),
            "problems": problems,
            "missing_tools": missing,
            "steps": views,
        }))?;
    } else if !ctx.quiet() {
        println!(
            "release {} of {} ({})",
            release.version(),
            a.rev.rev,
            release.commit()
        );
        for v in &views {
            let mark = match v.state {
                StepState::Done => "done",
                StepState::Pending => "todo",
                StepState::Tampered => "TAMPERED",
            };
            println!("  [{mark:>4}] {:<14} {}", v.name, v.description);
            if v.state != StepState::Done {
                println!("         {:<14} {}", "", v.reason);
            }
            for o in &v.outputs {
                println!("         {:<14} -> {o}", "");
            }
        }
        for p in problems.iter().chain(&missing) {
            println!("problem: {p}");
        }
    }
    let blocked = !problems.is_empty()
        || !missing.is_empty()
        || views.iter().any(|v| v.state == StepState::Tampered);
    Ok(if blocked {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Draws the run's progress on stderr: a spinner per step, a line when it ends.
struct Progress<'a> {
    ctx: &'a Context,
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl Observer for Progress<'_> {
    fn started(&self, step: &str, description: &str) {
        *self.bar.borrow_mut() = Some(self.ctx.spinner(format!("{step}: {description}")));
    }

    fn skipped(&self, step: &str, why: &str) {
        self.ctx.info(format!("  {step:<14} {why}"));
    }

    fn finished(&self, step: &str, record: &StepRecord) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        let word = match record.status {
            StepStatus::Done => "ok",
            StepStatus::Failed => "FAILED",
            StepStatus::Interrupted => "interrupted",
            StepStatus::Running => "?",
        };
        self.ctx.info(format!("  {step:<14} {word}"));
        for n in &record.notes {
            self.ctx.info(format!("  {:<14}   {n}", ""));
        }
        if let Some(log) = &record.log
            && record.status != StepStatus::Done
        {
            self.ctx.info(format!("  {:<14}   log: {log}", ""));
        }
    }
}

fn run_release(a: RunArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let plan = a.location.load()?;
    let mut release = Release::open(&a.location.repo, plan, &a.rev.rev)?;
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&cancel))
            .context("installing the Ctrl-C handler")?;
    }
    ctx.info(format!(
        "release {} of {} ({})",
        release.version(),
        a.rev.rev,
        release.commit()
    ));
    let progress = Progress {
        ctx,
        bar: std::cell::RefCell::new(None),
    };
    let summary = release.run(&a.rev.options(a.dry_run), &progress, &cancel)?;
    if a.report.format == OutputFormat::Json {
        print_json(&summary)?;
    } else if !a.dry_run {
        ctx.info(format!(
            "released {} {}: {} step(s) run, {} already done; files in {}",
            a.rev.rev,
            summary.commit,
            summary.ran.len(),
            summary.skipped.len(),
            summary.dist.display()
        ));
    }
    Ok(Outcome::Ok)
}

fn status(a: StatusArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let plan = a.location.load()?;
    let state_path = relkit_release::state::state_file(&plan.state_dir(&a.location.repo));
    let state = relkit_release::State::load(&state_path)?;
    let order: Vec<String> = match &state.rev {
        Some(rev) => Release::open(&a.location.repo, plan, rev)
            .map(|r| r.step_names())
            .unwrap_or_else(|_| state.steps.keys().cloned().collect()),
        None => Vec::new(),
    };
    if a.report.format == OutputFormat::Json {
        print_json(&serde_json::json!({
            "schema": "https://relkit.dev/schema/release-status/v1",
            "state": state_path,
            "rev": state.rev,
            "commit": state.commit,
            "version": state.version,
            "order": order,
            "steps": state.steps,
        }))?;
    } else if !ctx.quiet() {
        match (&state.rev, &state.commit) {
            (Some(rev), Some(commit)) => println!(
                "release {} of {rev} ({commit}); state in {}",
                state.version.as_deref().unwrap_or("?"),
                state_path.display()
            ),
            _ => println!(
                "no release started here ({} not found)",
                state_path.display()
            ),
        }
        for name in &order {
            match state.steps.get(name) {
                Some(r) => {
                    let word = match r.status {
                        StepStatus::Done => "done",
                        StepStatus::Failed => "FAILED",
                        StepStatus::Interrupted => "interrupted",
                        StepStatus::Running => "died",
                    };
                    println!(
                        "  {name:<14} {word:<11} {}",
                        r.finished.as_deref().unwrap_or(&r.started)
                    );
                    if let Some(e) = &r.error {
                        println!("  {:<14} {e}", "");
                    }
                    if let Some(l) = &r.log {
                        println!("  {:<14} log: {}", "", Path::new(l).display());
                    }
                }
                None => println!("  {name:<14} not run"),
            }
        }
    }
    let failed = state.steps.values().any(|r| r.status != StepStatus::Done);
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// Runs `relkit init`.
pub fn init(a: InitArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let detected = relkit_release::init::detect(&a.repo);
    let text = relkit_release::init::starter(&detected);
    if a.stdout {
        print!("{text}");
        return Ok(Outcome::Ok);
    }
    let path = a.repo.join("relkit.toml");
    if path.exists() && !a.force {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it or --stdout to see the starter plan",
            path.display()
        );
    }
    relkit_release::steps::write_atomic(&path, text.as_bytes())?;
    ctx.info(format!(
        "wrote {} (tags like {}{}); review it, then `relkit release plan --rev TAG`",
        path.display(),
        detected.tag_pattern,
        detected
            .latest_tag
            .map(|t| format!(", newest {t}"))
            .unwrap_or_default()
    ));
    Ok(Outcome::Ok)
}

/// Runs `relkit ci …`.
pub fn ci(cmd: CiCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    let CiCommand::Github(a) = cmd;
    let plan = a.location.load()?;
    let mut opts = relkit_release::github::WorkflowOptions {
        runs_on: a.runs_on.clone(),
        ..Default::default()
    };
    if let Some(i) = &a.install {
        opts.install = i.clone();
    }
    let yaml = relkit_release::github::workflow(&plan, &opts);
    if a.output == Path::new("-") {
        print!("{yaml}");
    } else {
        let path = if a.output.is_relative() {
            a.location.repo.join(&a.output)
        } else {
            a.output.clone()
        };
        relkit_release::steps::write_atomic(&path, yaml.as_bytes())?;
        ctx.info(format!(
            "wrote {}; add the secret RELKIT_SIGNING_KEY if the plan signs",
            path.display()
        ));
    }
    Ok(Outcome::Ok)
}
