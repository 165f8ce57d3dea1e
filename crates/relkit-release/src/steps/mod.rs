//! The steps of a release, what each depends on, and what each does. Every step is built
//! from the other relkit capabilities: reproducible source archives (relkit-source), SBOMs
//! (relkit-sbom, relkit-truth), the vulnerability scan (relkit-vuln), the tarball audit
//! (relkit-audit) and signing/attestation/verification (relkit-attest).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use relkit_attest::keys::PrivateKey;
use relkit_attest::sign::{Signer, Style};
use relkit_source::Format;
use relkit_vuln::Level;

use crate::Error;
use crate::plan::Plan;
use crate::state::State;

mod attest;
mod audit;
mod checksums;
mod docs;
mod health;
mod sbom;
mod scan;
mod sign;
mod source;
mod test;
mod verify;

pub use verify::verify_dir;

/// The steps whose outputs are the release's artifacts (what gets SBOMs, is uploaded as a
/// file, and is downloaded back to verify).
pub const ARTIFACT_STEPS: &[&str] = &["source", "docs", "gather"];

/// One step of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The tag resolves to the expected commit, the work tree is clean.
    VerifyInput,
    /// Reproducible source archives from the tag.
    Source,
    /// The docs command in a clean export, its output archived reproducibly.
    Docs,
    /// Artifacts built elsewhere, fetched and checked.
    Gather,
    /// A `[[test]]` command on the unpacked source archive (index into `plan.test`).
    Test(usize),
    /// SBOMs per artifact and the merged release SBOM.
    Sbom,
    /// Vulnerability scan and declared-version check of the SBOMs.
    Scan,
    /// The built tarball audited against the tag.
    Audit,
    /// How critical and how looked-after the release's dependencies are (`[health]`).
    Health,
    /// A signature per file.
    Sign,
    /// SLSA provenance over the release's files.
    Attest,
    /// SHA256SUMS over the release's files.
    Checksums,
    /// The release copied (staged, renamed) to the target directory, or uploaded.
    Publish,
    /// Everything published verified again: checksums, signatures, provenance.
    Verify,
}

impl Step {
    /// The step's name, as `--from`/`--only` take it.
    pub fn name(&self, plan: &Plan) -> String {
        match self {
            Step::VerifyInput => "verify-input".into(),
            Step::Source => "source".into(),
            Step::Docs => "docs".into(),
            Step::Gather => "gather".into(),
            Step::Test(i) => format!("test:{}", plan.test[*i].name),
            Step::Sbom => "sbom".into(),
            Step::Scan => "scan".into(),
            Step::Audit => "audit".into(),
            Step::Health => "health".into(),
            Step::Sign => "sign".into(),
            Step::Attest => "attest".into(),
            Step::Checksums => "checksums".into(),
            Step::Publish => "publish".into(),
            Step::Verify => "verify".into(),
        }
    }

    /// Steps whose outputs this step reads.
    pub fn deps(&self) -> &'static [&'static str] {
        match self {
            Step::VerifyInput | Step::Gather => &[],
            Step::Source | Step::Docs => &["verify-input"],
            Step::Test(_) | Step::Audit => &["source"],
            Step::Sbom => &["source", "gather"],
            Step::Scan | Step::Health => &["sbom"],
            Step::Sign | Step::Attest => &["source", "docs", "gather", "sbom"],
            Step::Checksums => &["source", "docs", "gather", "sbom", "sign", "attest"],
            Step::Publish => &[
                "source",
                "docs",
                "gather",
                "sbom",
                "sign",
                "attest",
                "checksums",
            ],
            Step::Verify => &["publish", "checksums"],
        }
    }

    /// What the step does, in one line.
    pub fn describe(&self, plan: &Plan) -> String {
        match self {
            Step::VerifyInput => {
                "check that the tag points at the expected commit and the work tree is clean".into()
            }
            Step::Source => format!(
                "build reproducible source archives ({}) from the tag",
                plan.source.formats.join(", ")
            ),
            Step::Docs => match &plan.docs {
                Some(d) => format!(
                    "run `{}` in a clean export, archive {} ({})",
                    d.command,
                    d.output,
                    d.formats.join(", ")
                ),
                None => String::new(),
            },
            Step::Gather => format!(
                "fetch and check {} artifact(s) built elsewhere",
                plan.gather.len()
            ),
            Step::Test(i) => format!(
                "unpack the source archive in a clean directory and run `{}`",
                plan.test[*i].command
            ),
            Step::Sbom => format!(
                "SBOMs ({}) per artifact and for the whole release",
                plan.sbom.formats.join(", ")
            ),
            Step::Scan => format!(
                "scan the release SBOM for known vulnerabilities (stop on {}) and check declared versions",
                plan.scan.fail_on
            ),
            Step::Audit => {
                "audit the source tarball against the tag (files not in git, vendored macros)"
                    .into()
            }
            Step::Health => {
                "assess how critical and how looked-after every SBOM component is (relkit health)"
                    .into()
            }
            Step::Sign => format!(
                "sign every file ({})",
                plan.sign.as_ref().map_or("", |s| s.style.as_str())
            ),
            Step::Attest => "write signed SLSA provenance for every file".into(),
            Step::Checksums => "write SHA256SUMS for every file".into(),
            Step::Publish => match &plan.publish {
                Some(p) => match (&p.dir, &p.url) {
                    (Some(d), _) => format!("copy the release to {d} (staged, then renamed)"),
                    (_, Some(u)) => format!("upload the release to {u}"),
                    _ => String::new(),
                },
                None => String::new(),
            },
            Step::Verify => {
                "verify every published file against SHA256SUMS, signatures and provenance".into()
            }
        }
    }
}

/// The steps of `plan`, in order.
pub fn plan_steps(plan: &Plan) -> Vec<Step> {
    let mut steps = vec![Step::VerifyInput, Step::Source];
    if plan.docs.is_some() {
        steps.push(Step::Docs);
    }
    if !plan.gather.is_empty() {
        steps.push(Step::Gather);
    }
    steps.extend((0..plan.test.len()).map(Step::Test));
    steps.push(Step::Sbom);
    if plan.scan.enabled {
        steps.push(Step::Scan);
    }
    if plan.audit.enabled {
        steps.push(Step::Audit);
    }
    if plan.health.is_some() {
        steps.push(Step::Health);
    }
    if plan.sign.is_some() {
        steps.push(Step::Sign);
        if plan.attest.provenance {
            steps.push(Step::Attest);
        }
    }
    steps.push(Step::Checksums);
    if plan.publish.is_some() {
        steps.push(Step::Publish);
        steps.push(Step::Verify);
    }
    steps
}

/// The scan threshold named by `[scan] fail-on` (`None` inside = never fail).
pub fn severity_threshold(name: &str) -> Option<Option<Level>> {
    Some(match name {
        "critical" => Some(Level::Critical),
        "high" => Some(Level::High),
        "medium" => Some(Level::Medium),
        "low" => Some(Level::Low),
        "none" => None,
        _ => return None,
    })
}

/// Everything a step may use.
pub struct Cx<'a> {
    /// The repository.
    pub repo: &'a Path,
    /// The plan.
    pub plan: &'a Plan,
    /// The revision as given.
    pub rev: &'a str,
    /// The commit it resolved to.
    pub commit: &'a str,
    /// The commit's time (the archives' time).
    pub commit_time: i64,
    /// Full tag ref, when the revision is a tag.
    pub tag_ref: Option<&'a str>,
    /// Project name.
    pub name: &'a str,
    /// Release version.
    pub version: &'a str,
    /// The release's output directory.
    pub dist: PathBuf,
    /// The state directory (logs, reports, work).
    pub state_dir: PathBuf,
    /// The checkpoint so far (earlier steps' outputs).
    pub state: &'a State,
    /// Signing key override (`--key`).
    pub key_override: Option<&'a Path>,
    /// Set when the run is cancelled.
    pub cancel: &'a AtomicBool,
}

/// What a finished step produced.
#[derive(Debug, Default)]
pub struct StepOutput {
    /// Files made (absolute paths).
    pub outputs: Vec<PathBuf>,
    /// Notes worth keeping (warnings, counts).
    pub notes: Vec<String>,
    /// Log of the commands it ran.
    pub log: Option<PathBuf>,
}

/// Why a step did not finish.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// It failed on its own terms (a check that did not pass): what happened and what to do,
    /// and the log of the command it ran.
    #[error("{0}")]
    Failed(String, Option<PathBuf>),
    /// Something the step needed failed: what it was doing, and the error that stopped it.
    #[error("{context}")]
    Caused {
        /// What the step was doing.
        context: String,
        /// The error that stopped it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// It was cancelled.
    #[error("interrupted")]
    Interrupted(Option<PathBuf>),
}

impl StepError {
    /// A failure caused by `source` while doing `context`.
    pub fn caused(
        context: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StepError::Caused {
            context: context.to_string(),
            source: Box::new(source),
        }
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        match e {
            Error::Io { path, source } => StepError::caused(path.display(), source),
            Error::RefusedBecause { context, source } => StepError::Caused {
                context: format!("refusing to release: {context}"),
                source,
            },
            other => StepError::Failed(other.to_string(), None),
        }
    }
}

/// Maps an error to a failure of the step while doing `context`, keeping the error as its
/// cause.
fn fail<E: std::error::Error + Send + Sync + 'static>(
    context: impl std::fmt::Display,
) -> impl FnOnce(E) -> StepError {
    move |e| StepError::caused(context, e)
}

impl Cx<'_> {
    /// Expands `{name}` and `{version}`.
    pub fn expand(&self, template: &str) -> String {
        template
            .replace("{name}", self.name)
            .replace("{version}", self.version)
    }

    /// Absolute path of an output recorded in state.json.
    pub fn resolve(&self, recorded: &str) -> PathBuf {
        self.repo.join(recorded)
    }

    /// Files recorded as outputs of the given steps, in step then name order.
    pub fn outputs_of(&self, steps: &[&str]) -> Vec<PathBuf> {
        steps
            .iter()
            .filter_map(|s| self.state.steps.get(*s))
            .flat_map(|r| r.outputs.keys().map(|p| self.resolve(p)))
            .collect()
    }

    /// The source archives built, in the order of `[source] formats`.
    fn source_archives(&self) -> Vec<PathBuf> {
        self.outputs_of(&["source"])
            .into_iter()
            .filter(|p| Format::parse(&extension(p)).is_some())
            .collect()
    }

    /// The preferred source archive: `wanted` format, or the first tar format, or any.
    fn source_archive(&self, wanted: Option<&str>) -> Result<PathBuf, StepError> {
        let archives = self.source_archives();
        let pick = match wanted.and_then(Format::parse) {
            Some(f) => archives
                .iter()
                .find(|p| Format::parse(&extension(p)) == Some(f)),
            None => archives
                .iter()
                .find(|p| Format::parse(&extension(p)) != Some(Format::Zip))
                .or(archives.first()),
        };
        pick.cloned().ok_or_else(|| {
            StepError::Failed(
                format!(
                    "no {} source archive was built; add it to [source] formats",
                    wanted.unwrap_or("")
                ),
                None,
            )
        })
    }

    fn work(&self, what: &str) -> Result<PathBuf, StepError> {
        let dir = self.state_dir.join("work").join(what);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(fail(dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(fail(dir.display()))?;
        Ok(dir)
    }

    fn log(&self, what: &str) -> PathBuf {
        let log = self.state_dir.join("logs").join(format!("{what}.log"));
        let _ = std::fs::remove_file(&log);
        log
    }

    fn report_path(&self, what: &str) -> PathBuf {
        self.state_dir.join("reports").join(format!("{what}.json"))
    }

    fn created(&self) -> String {
        rfc3339(self.commit_time)
    }

    fn check_cancel(&self) -> Result<(), StepError> {
        if self.cancel.load(Ordering::SeqCst) {
            return Err(StepError::Interrupted(None));
        }
        Ok(())
    }

    fn signing_key(&self) -> Result<PrivateKey, StepError> {
        self.signing_key_at().map(|(key, _)| key)
    }

    /// The signer of the plan's `[sign] style`, with the minisign key-id rule of
    /// [`relkit_attest::sign::minisign_key_id`] (an imported minisign key keeps its id).
    fn signer(&self) -> Result<Signer, StepError> {
        let (key, path) = self.signing_key_at()?;
        let style = self
            .plan
            .sign
            .as_ref()
            .map_or("bundle", |s| s.style.as_str());
        Signer::new(Style::from_plan(style), key, &path).map_err(fail("[sign] style"))
    }

    /// The signing key (`--key`, else `[sign] key`) and the path it was read from.
    fn signing_key_at(&self) -> Result<(PrivateKey, PathBuf), StepError> {
        let sign = self
            .plan
            .sign
            .as_ref()
            .ok_or_else(|| StepError::Failed("no [sign] section in the plan".into(), None))?;
        let path = self
            .key_override
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.repo.join(&sign.key));
        let pem = relkit_attest::Zeroizing::new(std::fs::read_to_string(&path).map_err(fail(
            format!(
                "cannot read the signing key {} (set [sign] key or pass --key)",
                path.display()
            ),
        ))?);
        let pass = match &sign.passphrase_file {
            Some(p) => {
                let text = std::fs::read(self.repo.join(p))
                    .map_err(fail(format!("cannot read the passphrase file {p}")))?;
                let end = text
                    .iter()
                    .rposition(|b| *b != b'\n' && *b != b'\r')
                    .map_or(0, |i| i + 1);
                Some(relkit_attest::Zeroizing::new(text[..end].to_vec()))
            }
            None => None,
        };
        let key = PrivateKey::from_pem(&pem, pass.as_ref().map(|p| p.as_slice())).map_err(fail(
            format!("cannot use the signing key {}", path.display()),
        ))?;
        Ok((key, path))
    }
}

/// RFC 3339 UTC of a Unix time.
fn rfc3339(t: i64) -> String {
    relkit_core::time::rfc3339_from_epoch(t)
}

fn extension(p: &Path) -> String {
    let name = file_name(p);
    for ext in ["tar.gz", "tar.xz", "tgz", "txz", "tar", "zip"] {
        if name.ends_with(&format!(".{ext}")) {
            return ext.into();
        }
    }
    String::new()
}

/// The file name of `p` as a string.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Moves `from` to `to`, replacing it (same file system: the work dir is beside dist).
fn move_into(from: &Path, to: &Path) -> Result<(), StepError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(fail(dir.display()))?;
    }
    std::fs::rename(from, to).or_else(|_| {
        std::fs::copy(from, to).map(|_| ()).map_err(fail(format!(
            "{} -> {}",
            from.display(),
            to.display()
        )))
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename
/// ([`relkit_core::fs::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(io)?;
    relkit_core::fs::write_atomic(path, bytes).map_err(io)
}

/// Runs one step.
pub fn run_step(step: &Step, cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    match step {
        Step::VerifyInput => Ok(StepOutput {
            notes: vec![format!("{} = {}", cx.rev, cx.commit)],
            ..StepOutput::default()
        }),
        Step::Source => source::source(cx),
        Step::Docs => docs::docs(cx),
        Step::Gather => crate::gather::gather(cx),
        Step::Test(i) => test::test(cx, *i),
        Step::Sbom => sbom::sbom(cx),
        Step::Scan => scan::scan(cx),
        Step::Audit => audit::audit(cx),
        Step::Health => health::health(cx),
        Step::Sign => sign::sign(cx),
        Step::Attest => attest::attest(cx),
        Step::Checksums => checksums::checksums(cx),
        Step::Publish => crate::publish::publish(cx),
        Step::Verify => verify::verify_published(cx),
    }
}

/// The merged release SBOM written by the sbom step (SPDX preferred).
fn release_sbom(cx: &Cx<'_>) -> Result<PathBuf, StepError> {
    let outputs = cx.outputs_of(&["sbom"]);
    let stem = format!("{}-{}.release.", cx.name, cx.version);
    outputs
        .iter()
        .find(|p| file_name(p) == format!("{stem}spdx.json"))
        .or_else(|| outputs.iter().find(|p| file_name(p).starts_with(&stem)))
        .cloned()
        .ok_or_else(|| StepError::Failed("the sbom step wrote no release SBOM".into(), None))
}
