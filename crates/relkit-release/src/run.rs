//! The engine: resolves and checks the input revision, decides for each step whether it is
//! done (inputs unchanged, outputs intact), must run, or must not (tampered output), runs
//! steps in order, and checkpoints each one in `state.json`.

use relkit_core::error::chain as error_chain;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use relkit_attest::checksum::sha256;
use relkit_attest::intoto::now_rfc3339;
use serde::Serialize;

use crate::exec::{programs, which};
use crate::plan::Plan;
use crate::state::{State, StepRecord, StepStatus, state_file};
use crate::steps::{Cx, Step, StepError, plan_steps, run_step};
use crate::{Error, Result};

/// Options of `relkit release run` / `plan`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The commit the tag must point at (full id or a prefix of at least 7 digits).
    pub expect_commit: Option<String>,
    /// Re-run this step and every later one.
    pub from: Option<String>,
    /// Run only this step (earlier ones must be done).
    pub only: Option<String>,
    /// Show what would run, run nothing.
    pub dry_run: bool,
    /// Accept a work tree with uncommitted changes to tracked files.
    pub allow_dirty: bool,
    /// Accept a revision that is not a tag (test releases).
    pub allow_untagged: bool,
    /// Signing key instead of `[sign] key`.
    pub key: Option<PathBuf>,
}

/// Where a step stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    /// Finished, inputs unchanged, outputs intact: skipped.
    Done,
    /// Will run: never ran, failed, interrupted, inputs changed, or forced.
    Pending,
    /// Its outputs were changed after it finished.
    Tampered,
}

/// One step as `release plan` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// Step name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Where it stands.
    pub state: StepState,
    /// Why it will run (or why it is tampered).
    pub reason: String,
    /// What its fingerprint covers (config sections, commit, earlier outputs).
    pub inputs: Vec<String>,
    /// Files it made last time.
    pub outputs: Vec<String>,
    /// Last log.
    pub log: Option<String>,
    /// Notes from its last run.
    pub notes: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The revision and the commit.
    pub rev: String,
    /// The commit.
    pub commit: String,
    /// The version released.
    pub version: String,
    /// Steps run now.
    pub ran: Vec<String>,
    /// Steps skipped as done.
    pub skipped: Vec<String>,
    /// The release's output directory.
    pub dist: PathBuf,
}

/// Progress callbacks (the CLI draws them; the library prints nothing).
pub trait Observer {
    /// A step starts.
    fn started(&self, step: &str, description: &str);
    /// A step was skipped (done) or would run (dry run).
    fn skipped(&self, step: &str, why: &str);
    /// A step finished.
    fn finished(&self, step: &str, record: &StepRecord);
}

/// A release of one repository at one revision.
pub struct Release {
    repo: PathBuf,
    plan: Plan,
    rev: String,
    commit: String,
    commit_time: i64,
    tag_ref: Option<String>,
    name: String,
    version: String,
    state_path: PathBuf,
    state: State,
    dirty: std::result::Result<Vec<String>, String>,
}

impl Release {
    /// Opens the release of `rev` in `repo` with `plan`: resolves the revision, works out the
    /// name and version, and reads the checkpoint.
    pub fn open(repo: &Path, plan: Plan, rev: &str) -> Result<Release> {
        let resolved =
            relkit_source::resolve_rev(repo, rev).map_err(|e| Error::RefusedBecause {
                context: format!("cannot resolve the revision {rev:?}"),
                source: Box::new(e),
            })?;
        let name = match &plan.project.name {
            Some(n) => n.clone(),
            None => std::fs::canonicalize(repo)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "project".into()),
        };
        let version = version_of(repo, &plan, rev, &resolved.commit)?;
        let state_path = state_file(&plan.state_dir(repo));
        let state = State::load(&state_path)?;
        let dirty = dirty_files(repo);
        Ok(Release {
            repo: repo.to_path_buf(),
            rev: rev.to_string(),
            commit: resolved.commit,
            commit_time: resolved.commit_time,
            tag_ref: resolved.tag,
            name,
            version,
            state_path,
            state,
            dirty,
            plan,
        })
    }

    /// The version being released.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The commit the revision resolved to.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The checkpoint as read or last written.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Path of `state.json`.
    pub fn state_path(&self) -> &Path {
        &self.state_path
    }

    /// The names of the plan's steps, in order.
    pub fn step_names(&self) -> Vec<String> {
        plan_steps(&self.plan)
            .iter()
            .map(|s| s.name(&self.plan))
            .collect()
    }

    /// Every reason to refuse this input: unknown or unexpected commit, moved tag, not a tag,
    /// dirty work tree.
    pub fn input_problems(&self, opts: &RunOptions) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(expected) = &opts.expect_commit {
            let e = expected.to_lowercase();
            if e.len() < 7 || !e.bytes().all(|b| b.is_ascii_hexdigit()) {
                problems.push(format!(
                    "--expect-commit {expected:?} is not a commit id (at least 7 hex digits)"
                ));
            } else if !self.commit.starts_with(&e) {
                problems.push(format!(
                    "{} points at {}, not at the expected commit {expected}",
                    self.rev, self.commit
                ));
            }
        }
        if let Some(started) = &self.state.commit
            && self.state.rev.as_deref() == Some(self.rev.as_str())
            && *started != self.commit
        {
            problems.push(format!(
                "{} pointed at {started} when this release started and now points at {}: the tag was moved; if that is intended, delete {} and start over",
                self.rev,
                self.commit,
                self.state_path.display()
            ));
        }
        if self.tag_ref.is_none() && !opts.allow_untagged {
            problems.push(format!(
                "{} is not a tag; releases are built from tags (pass --allow-untagged for a test release)",
                self.rev
            ));
        }
        match &self.dirty {
            _ if opts.allow_dirty => {}
            Ok(dirty) if dirty.is_empty() => {}
            Ok(dirty) => {
                let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
                problems.push(format!(
                    "the work tree has uncommitted changes to tracked files ({}{}); commit or stash them (the plan is read from the work tree), or pass --allow-dirty",
                    shown.join(", "),
                    if dirty.len() > 5 { ", …" } else { "" }
                ));
            }
            Err(why) => problems.push(format!(
                "cannot tell whether the work tree has uncommitted changes ({why}); fix the repository, or pass --allow-dirty to release without this check"
            )),
        }
        problems
    }

    /// Programs named by the plan's commands that are not installed.
    pub fn missing_tools(&self) -> Vec<Error> {
        let mut missing = Vec::new();
        let mut commands: Vec<(String, &str)> = Vec::new();
        if let Some(d) = &self.plan.docs {
            commands.push(("docs".into(), &d.command));
        }
        for t in &self.plan.test {
            commands.push((format!("test:{}", t.name), &t.command));
        }
        for (step, command) in commands {
            for program in programs(command) {
                if which(&program).is_none() {
                    missing.push(Error::MissingTool {
                        step: step.clone(),
                        program,
                        command: command.to_string(),
                    });
                }
            }
        }
        missing
    }

    fn cx<'a>(&'a self, key: Option<&'a Path>, cancel: &'a AtomicBool) -> Cx<'a> {
        Cx {
            repo: &self.repo,
            plan: &self.plan,
            rev: &self.rev,
            commit: &self.commit,
            commit_time: self.commit_time,
            tag_ref: self.tag_ref.as_deref(),
            name: &self.name,
            version: &self.version,
            dist: self.plan.dist_dir(&self.repo),
            state_dir: self.plan.state_dir(&self.repo),
            state: &self.state,
            key_override: key,
            cancel,
        }
    }

    /// What a step's fingerprint covers; `None` while a step it depends on is unfinished.
    fn input_items(&self, step: &Step, opts: &RunOptions) -> Option<BTreeMap<String, String>> {
        let mut items = BTreeMap::new();
        items.insert("relkit".into(), env!("CARGO_PKG_VERSION").into());
        items.insert("commit".into(), self.commit.clone());
        items.insert("version".into(), self.version.clone());
        let plan = &self.plan;
        let config = match step {
            Step::VerifyInput => serde_json::json!(self.rev),
            Step::Source => serde_json::json!([plan.project, plan.source]),
            Step::Docs => serde_json::json!(plan.docs),
            Step::Gather => serde_json::json!(plan.gather),
            Step::Test(i) => serde_json::json!(plan.test[*i]),
            Step::Sbom => serde_json::json!([plan.project, plan.sbom]),
            Step::Scan => {
                serde_json::json!([
                    plan.scan,
                    db_fingerprint(&self.repo, plan.scan.db.as_deref())
                ])
            }
            Step::Audit => serde_json::json!(plan.audit),
            Step::Health => serde_json::json!(plan.health),
            Step::Sign | Step::Attest | Step::Checksums => {
                serde_json::json!([plan.sign, plan.attest, opts.key])
            }
            Step::Publish => serde_json::json!(plan.publish),
            Step::Verify => serde_json::json!([plan.sign, plan.publish]),
        };
        items.insert(
            "plan".into(),
            hex::encode(sha256(config.to_string().as_bytes())),
        );
        let present: Vec<String> = plan_steps(plan).iter().map(|s| s.name(plan)).collect();
        for dep in step.deps() {
            if !present.iter().any(|p| p == dep) {
                continue;
            }
            let rec = self.state.steps.get(*dep)?;
            if rec.status != StepStatus::Done {
                return None;
            }
            for (path, hash) in &rec.outputs {
                items.insert(format!("{dep}:{path}"), hash.clone());
            }
        }
        Some(items)
    }

    /// Outputs of a finished step that no longer match what was recorded.
    fn tampered(&self, name: &str, rec: &StepRecord) -> Option<Error> {
        for (path, recorded) in &rec.outputs {
            let actual = relkit_attest::checksum::sha256_file(&self.repo.join(path))
                .map(hex::encode)
                .unwrap_or_else(|_| "missing".into());
            if actual != *recorded {
                return Some(Error::Tampered {
                    step: name.to_string(),
                    path: path.clone(),
                    recorded: recorded.clone(),
                    actual,
                });
            }
        }
        None
    }

    fn forced(&self, index: usize, steps: &[Step], opts: &RunOptions) -> Result<(bool, bool)> {
        let names: Vec<String> = steps.iter().map(|s| s.name(&self.plan)).collect();
        let find = |n: &String| {
            names
                .iter()
                .position(|x| x == n)
                .ok_or_else(|| Error::UnknownStep {
                    name: n.clone(),
                    known: names.join(", "),
                })
        };
        let from = opts.from.as_ref().map(find).transpose()?;
        let only = opts.only.as_ref().map(find).transpose()?;
        let forced = from.is_some_and(|f| index >= f) || only == Some(index);
        let excluded = only.is_some_and(|o| o != index);
        Ok((forced, excluded))
    }

    /// The steps and where each stands, without running anything.
    pub fn plan_view(&self, opts: &RunOptions) -> Result<Vec<StepView>> {
        let steps = plan_steps(&self.plan);
        let mut views = Vec::new();
        let mut upstream_changes = false;
        for (i, step) in steps.iter().enumerate() {
            let name = step.name(&self.plan);
            let (forced, _) = self.forced(i, &steps, opts)?;
            let rec = self.state.steps.get(&name);
            let items = self.input_items(step, opts);
            let (state, reason) = match (rec, &items) {
                _ if forced => (StepState::Pending, "asked for (--from/--only)".to_string()),
                (Some(r), Some(items))
                    if r.status == StepStatus::Done
                        && r.inputs == fingerprint(items)
                        && !upstream_changes =>
                {
                    match self.tampered(&name, r) {
                        Some(e) => (StepState::Tampered, e.to_string()),
                        None => (StepState::Done, "done; inputs unchanged".into()),
                    }
                }
                (Some(r), Some(items)) if r.status == StepStatus::Done => (
                    StepState::Pending,
                    if upstream_changes {
                        "an earlier step will run again".into()
                    } else {
                        format!("inputs changed: {}", changed_items(&r.input_items, items))
                    },
                ),
                (Some(r), _) if r.status != StepStatus::Done => (
                    StepState::Pending,
                    format!(
                        "last run {}{}",
                        status_word(r.status),
                        r.error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    ),
                ),
                (None, _) => (StepState::Pending, "not run yet".into()),
                _ => (StepState::Pending, "an earlier step must run first".into()),
            };
            if state == StepState::Pending {
                upstream_changes = true;
            }
            views.push(StepView {
                name,
                description: step.describe(&self.plan),
                state,
                reason,
                inputs: items
                    .map(|i| i.keys().cloned().collect())
                    .unwrap_or_default(),
                outputs: rec
                    .map(|r| r.outputs.keys().cloned().collect())
                    .unwrap_or_default(),
                log: rec.and_then(|r| r.log.clone()),
                notes: rec.map(|r| r.notes.clone()).unwrap_or_default(),
            });
        }
        Ok(views)
    }

    /// Runs the release: checks the input, then every step that is not done, in order.
    pub fn run(
        &mut self,
        opts: &RunOptions,
        observer: &dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<RunSummary> {
        let problems = self.input_problems(opts);
        if !problems.is_empty() {
            return Err(Error::Refused(problems.join("; ")));
        }
        if let Some(e) = self.missing_tools().into_iter().next() {
            return Err(e);
        }
        let steps = plan_steps(&self.plan);
        let mut summary = RunSummary {
            rev: self.rev.clone(),
            commit: self.commit.clone(),
            version: self.version.clone(),
            ran: Vec::new(),
            skipped: Vec::new(),
            dist: self.plan.dist_dir(&self.repo),
        };
        if !opts.dry_run {
            self.state.rev = Some(self.rev.clone());
            self.state.commit = Some(self.commit.clone());
            self.state.version = Some(self.version.clone());
        }
        let mut upstream_ran = false;
        for (i, step) in steps.iter().enumerate() {
            let name = step.name(&self.plan);
            let (forced, excluded) = self.forced(i, &steps, opts)?;
            let items = self.input_items(step, opts);
            let rec = self.state.steps.get(&name).cloned();
            let up_to_date = match (&rec, &items) {
                (Some(r), Some(items)) => {
                    r.status == StepStatus::Done && r.inputs == fingerprint(items)
                }
                _ => false,
            };
            if excluded {
                if !up_to_date
                    && steps[i + 1..].iter().any(|s| {
                        opts.only.as_deref() == Some(s.name(&self.plan).as_str())
                            && s.deps().contains(&name.as_str())
                    })
                {
                    return Err(Error::NotReady {
                        step: opts.only.clone().unwrap_or_default(),
                        needs: name,
                    });
                }
                continue;
            }
            if up_to_date && !forced && !(upstream_ran && opts.dry_run) {
                let rec = rec.expect("up to date implies a record");
                if let Some(e) = self.tampered(&name, &rec) {
                    return Err(e);
                }
                observer.skipped(&name, "done; inputs unchanged");
                summary.skipped.push(name);
                continue;
            }
            if opts.dry_run {
                let why = match (&rec, &items) {
                    _ if forced => "asked for".to_string(),
                    (None, _) => "not run yet".into(),
                    (Some(r), Some(it)) if r.status == StepStatus::Done => {
                        format!(
                            "would run: inputs changed: {}",
                            changed_items(&r.input_items, it)
                        )
                    }
                    (Some(r), _) => format!("would run: last run {}", status_word(r.status)),
                };
                observer.skipped(&name, &why);
                upstream_ran = true;
                continue;
            }
            let Some(items) = items else {
                return Err(Error::NotReady {
                    step: name,
                    needs: step.deps().join(", "),
                });
            };
            self.run_one(step, &name, items, opts, observer, cancel)?;
            summary.ran.push(name.clone());
            upstream_ran = true;
            if cancel.load(Ordering::SeqCst) && i + 1 < steps.len() {
                return Err(Error::Interrupted {
                    step: steps[i + 1].name(&self.plan),
                });
            }
        }
        Ok(summary)
    }

    fn run_one(
        &mut self,
        step: &Step,
        name: &str,
        items: BTreeMap<String, String>,
        opts: &RunOptions,
        observer: &dyn Observer,
        cancel: &AtomicBool,
    ) -> Result<()> {
        // Outputs of an earlier run of this step are removed first, so nothing stale stays
        // beside the new ones (published files are never removed).
        if let Some(old) = self.state.steps.get(name)
            && *name != *"publish"
        {
            for path in old.outputs.keys() {
                let _ = std::fs::remove_file(self.repo.join(path));
            }
        }
        let started = now_rfc3339();
        let mut record = StepRecord {
            status: StepStatus::Running,
            inputs: fingerprint(&items),
            input_items: items,
            outputs: BTreeMap::new(),
            started: started.clone(),
            finished: None,
            log: None,
            error: None,
            notes: Vec::new(),
        };
        self.state.steps.insert(name.to_string(), record.clone());
        self.state.save(&self.state_path)?;
        observer.started(name, &step.describe(&self.plan));
        let result = {
            let cx = self.cx(opts.key.as_deref(), cancel);
            if *step == Step::VerifyInput {
                Ok(crate::steps::StepOutput {
                    notes: vec![format!("{} = {}", self.rev, self.commit)],
                    ..Default::default()
                })
            } else {
                run_step(step, &cx)
            }
        };
        record.finished = Some(now_rfc3339());
        let outcome = match result {
            Ok(out) => {
                for path in &out.outputs {
                    let hash = relkit_attest::checksum::sha256_file(path)
                        .map(hex::encode)
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?;
                    record.outputs.insert(self.relative(path), hash);
                }
                record.notes = out.notes;
                record.log = out.log.map(|l| self.relative(&l));
                record.status = StepStatus::Done;
                Ok(())
            }
            Err(StepError::Failed(message, log)) => {
                record.status = StepStatus::Failed;
                record.log = log.map(|l| self.relative(&l));
                let message = match &record.log {
                    Some(l) => format!("{message}; log: {l}"),
                    None => message,
                };
                record.error = Some(message.clone());
                Err(Error::StepFailed {
                    step: name.to_string(),
                    message,
                    source: None,
                })
            }
            Err(StepError::Caused { context, source }) => {
                record.status = StepStatus::Failed;
                // state.json keeps what failed and why in one line; the user sees the cause
                // (and its own causes) as `caused by:` lines.
                record.error = Some(format!("{context}: {}", error_chain(source.as_ref())));
                Err(Error::StepFailed {
                    step: name.to_string(),
                    message: context,
                    source: Some(source),
                })
            }
            Err(StepError::Interrupted(log)) => {
                record.status = StepStatus::Interrupted;
                record.log = log.map(|l| self.relative(&l));
                record.error = Some("interrupted".into());
                Err(Error::Interrupted {
                    step: name.to_string(),
                })
            }
        };
        self.state.steps.insert(name.to_string(), record.clone());
        self.state.save(&self.state_path)?;
        observer.finished(name, &record);
        outcome
    }

    /// `path` relative to the repository when inside it, else absolute.
    fn relative(&self, path: &Path) -> String {
        let repo = std::fs::canonicalize(&self.repo).unwrap_or_else(|_| self.repo.clone());
        let abs = path
            .parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .map(|p| p.join(path.file_name().unwrap_or_default()))
            .unwrap_or_else(|| path.to_path_buf());
        match abs.strip_prefix(&repo) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => abs.display().to_string(),
        }
    }
}

fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Done => "done",
        StepStatus::Failed => "failed",
        StepStatus::Interrupted => "interrupted",
        StepStatus::Running => "did not finish (the process died)",
    }
}

/// The fingerprint of a step's input items.
fn fingerprint(items: &BTreeMap<String, String>) -> String {
    hex::encode(sha256(
        serde_json::to_string(items)
            .expect("map serializes")
            .as_bytes(),
    ))
}

fn changed_items(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> String {
    let mut changed: Vec<&str> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| k.as_str())
        .chain(
            old.keys()
                .filter(|k| !new.contains_key(*k))
                .map(String::as_str),
        )
        .collect();
    changed.dedup();
    changed.join(", ")
}

/// Identity of the vulnerability DB (path, size, time): a new import means a new scan.
fn db_fingerprint(repo: &Path, configured: Option<&str>) -> String {
    let path = match configured {
        Some("sample") => return "bundled sample".into(),
        Some(p) => repo.join(p),
        None => relkit_vuln::sample::default_db_path(),
    };
    match std::fs::metadata(&path) {
        Ok(m) => format!("{} {} {:?}", path.display(), m.len(), m.modified().ok()),
        Err(_) => "bundled sample".into(),
    }
}

/// The version: `[project] version`, else `[release] version-file` at the commit, else the
/// tag through `[release] tag`.
fn version_of(repo: &Path, plan: &Plan, rev: &str, commit: &str) -> Result<String> {
    if let Some(v) = &plan.project.version {
        return Ok(v.clone());
    }
    if let Some(file) = &plan.release.version_file {
        let bytes =
            relkit_source::read_file_at(repo, commit, file).map_err(|e| Error::RefusedBecause {
                context: format!("cannot read [release] version-file {file}"),
                source: Box::new(e),
            })?;
        let text = String::from_utf8_lossy(&bytes);
        let line = text.lines().next().unwrap_or("").trim().to_string();
        if line.is_empty() {
            return Err(Error::Refused(format!(
                "[release] version-file {file} is empty at {rev}"
            )));
        }
        return Ok(line);
    }
    let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
    let pattern = &plan.release.tag;
    let (before, after) = pattern
        .split_once("{version}")
        .expect("validated: the tag pattern has {version}");
    match tag.strip_prefix(before).and_then(|t| t.strip_suffix(after)) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(Error::Refused(format!(
            "{tag} does not match the tag pattern {pattern:?} of [release] tag; give the version with [project] version or fix the pattern"
        ))),
    }
}

/// Tracked files with uncommitted changes, read with gitoxide (`Err` with the reason when the
/// work tree's state cannot be read: the release then refuses, it never assumes "clean").
fn dirty_files(repo: &Path) -> std::result::Result<Vec<String>, String> {
    relkit_source::worktree_changes(repo)
        .map(|changes| {
            changes
                .into_iter()
                .map(|c| {
                    let kind = serde_json::to_value(c.kind).expect("a kind serializes");
                    format!("{}: {}", c.path, kind.as_str().unwrap_or("changed"))
                })
                .collect()
        })
        .map_err(|e| error_chain(&e))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn an_unresolvable_revision_is_refused_with_the_git_error_as_cause() {
        let dir = tempfile::tempdir().unwrap();
        let plan_path = dir.path().join("relkit.toml");
        std::fs::write(
            &plan_path,
            "[project]\nname = \"demo\"\nversion = \"1.0.0\"\n",
        )
        .unwrap();
        let plan = Plan::load(&plan_path).unwrap();
        let Err(e) = Release::open(dir.path(), plan, "v9.9.9") else {
            panic!("a directory that is not a repository has no revision v9.9.9");
        };
        assert!(matches!(e, Error::RefusedBecause { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "refusing to release: cannot resolve the revision \"v9.9.9\""
        );
        let cause = e.source().expect("the git error is kept").to_string();
        assert!(cause.contains("not a git repository"), "{cause}");
    }

    #[test]
    fn error_chain_does_not_repeat_a_cause_the_message_already_shows() {
        let e = Error::Io {
            path: "x".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(error_chain(&e), "x: disk full");
    }
}
