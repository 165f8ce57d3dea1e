//! The steps of a release, what each depends on, and what each does. Every step is built
//! from the other relkit capabilities: reproducible source archives (relkit-source), SBOMs
//! (relkit-sbom, relkit-truth), the vulnerability scan (relkit-vuln), the tarball audit
//! (relkit-audit) and signing/attestation/verification (relkit-attest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use relkit_attest::checksum::{Algo, parse_sums, sha256_file, write_sums};
use relkit_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use relkit_attest::intoto::{BuildInfo, Subject, now_rfc3339, provenance_statement};
use relkit_attest::keys::PrivateKey;
use relkit_attest::sigstore::{Artifact, Bundle};
use relkit_attest::verify::{Input, Inputs, VerifyKey, verify};
use relkit_source::config::SourceConfig;
use relkit_source::{BuildRequest, Format, SourceInput, build_source, export_rev};
use relkit_vuln::Level;

use crate::Error;
use crate::exec::{Exit, run_shell};
use crate::plan::Plan;
use crate::state::State;

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
#[derive(Debug)]
pub enum StepError {
    /// It failed: what happened and what to do.
    Failed(String, Option<PathBuf>),
    /// It was cancelled.
    Interrupted(Option<PathBuf>),
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        StepError::Failed(e.to_string(), None)
    }
}

fn fail<E: std::fmt::Display>(context: impl std::fmt::Display) -> impl FnOnce(E) -> StepError {
    move |e| StepError::Failed(format!("{context}: {e}"), None)
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
        PrivateKey::from_pem(&pem, pass.as_ref().map(|p| p.as_slice())).map_err(fail(format!(
            "cannot use the signing key {}",
            path.display()
        )))
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
        Step::Source => source(cx),
        Step::Docs => docs(cx),
        Step::Gather => crate::gather::gather(cx),
        Step::Test(i) => test(cx, *i),
        Step::Sbom => sbom(cx),
        Step::Scan => scan(cx),
        Step::Audit => audit(cx),
        Step::Health => health(cx),
        Step::Sign => sign(cx),
        Step::Attest => attest(cx),
        Step::Checksums => checksums(cx),
        Step::Publish => crate::publish::publish(cx),
        Step::Verify => verify_published(cx),
    }
}

fn source(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let work = cx.work("source")?;
    let request = BuildRequest {
        input: SourceInput::Git {
            repo: cx.repo.to_path_buf(),
            rev: cx.commit.to_string(),
        },
        out_dir: work.clone(),
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        prefix: None,
        mtime: None,
        no_clamp: false,
        formats: None,
        source: cx.plan.source.clone(),
        force: true,
    };
    let result = build_source(&request).map_err(fail("building the source archives"))?;
    cx.check_cancel()?;
    let mut out = StepOutput::default();
    for path in result
        .artifacts
        .iter()
        .chain(std::iter::once(&result.manifest_path))
    {
        let target = cx.dist.join(file_name(path));
        move_into(path, &target)?;
        out.outputs.push(target);
    }
    out.notes.push(format!(
        "{} members from commit {}",
        result.manifest.members, cx.commit
    ));
    Ok(out)
}

fn docs(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let docs = cx
        .plan
        .docs
        .as_ref()
        .expect("docs step only when [docs] is set");
    let work = cx.work("docs")?;
    let tree = work.join("tree");
    export_rev(cx.repo, cx.commit, &tree, &Default::default())
        .map_err(fail("exporting the tag for the docs build"))?;
    let log = cx.log("docs");
    let env = BTreeMap::from([
        ("SOURCE_DATE_EPOCH".to_string(), cx.commit_time.to_string()),
        ("TZ".to_string(), "UTC".to_string()),
    ]);
    match run_shell(&docs.command, &tree, &env, &log, cx.cancel)? {
        Exit::Success => {}
        Exit::Interrupted => return Err(StepError::Interrupted(Some(log))),
        Exit::Failed(how) => {
            return Err(StepError::Failed(
                format!("`{}` ended with {how}", docs.command),
                Some(log),
            ));
        }
    }
    let output = tree.join(&docs.output);
    if !output.is_dir() {
        return Err(StepError::Failed(
            format!(
                "the docs command did not create {}; fix [docs] output",
                docs.output
            ),
            Some(log),
        ));
    }
    let formats = docs
        .formats
        .iter()
        .map(|f| Format::parse(f).expect("validated with the plan"))
        .collect();
    let request = BuildRequest {
        input: SourceInput::Dir { path: output },
        out_dir: work.join("out"),
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        prefix: Some(cx.expand(&docs.prefix)),
        mtime: Some(cx.commit_time),
        no_clamp: false,
        formats: Some(formats),
        source: SourceConfig {
            exclude: Vec::new(),
            prepare: Vec::new(),
            ..cx.plan.source.clone()
        },
        force: true,
    };
    let result = build_source(&request).map_err(fail("archiving the docs"))?;
    let mut out = StepOutput {
        log: Some(log),
        ..StepOutput::default()
    };
    for path in &result.artifacts {
        let target = cx.dist.join(file_name(path));
        move_into(path, &target)?;
        out.outputs.push(target);
    }
    out.notes.push(format!(
        "{} files of documentation",
        result.manifest.members
    ));
    Ok(out)
}

fn test(cx: &Cx<'_>, index: usize) -> Result<StepOutput, StepError> {
    let t = &cx.plan.test[index];
    let archive = cx.source_archive(t.archive.as_deref())?;
    let work = cx.work(&format!("test-{}", t.name))?;
    unpack(&archive, &work).map_err(fail(format!("unpacking {}", archive.display())))?;
    let top = single_top_dir(&work).unwrap_or(work.clone());
    let log = cx.log(&format!("test-{}", t.name));
    let mut env = t.env.clone();
    env.entry("SOURCE_DATE_EPOCH".into())
        .or_insert_with(|| cx.commit_time.to_string());
    match run_shell(&t.command, &top, &env, &log, cx.cancel)? {
        Exit::Success => Ok(StepOutput {
            notes: vec![format!("passed on {}", file_name(&archive))],
            log: Some(log),
            ..StepOutput::default()
        }),
        Exit::Interrupted => Err(StepError::Interrupted(Some(log))),
        Exit::Failed(how) => Err(StepError::Failed(
            format!(
                "`{}` ended with {how} in {} (unpacked {})",
                t.command,
                top.display(),
                file_name(&archive)
            ),
            Some(log),
        )),
    }
}

/// Unpacks a source archive into `dest` (tar crate: refuses members escaping `dest`).
fn unpack(archive: &Path, dest: &Path) -> std::io::Result<()> {
    let file = std::fs::File::open(archive)?;
    let reader = std::io::BufReader::new(file);
    let ext = extension(archive);
    match Format::parse(&ext) {
        Some(Format::TarGz) => tar::Archive::new(flate2::read::GzDecoder::new(reader)).unpack(dest),
        Some(Format::TarXz) => {
            tar::Archive::new(liblzma::read::XzDecoder::new(reader)).unpack(dest)
        }
        Some(Format::Tar) => tar::Archive::new(reader).unpack(dest),
        _ => Err(std::io::Error::other(
            "tests unpack tar archives; set the test's `archive` to tar.gz, tar.xz or tar",
        )),
    }
}

fn single_top_dir(dir: &Path) -> Option<PathBuf> {
    let mut entries = std::fs::read_dir(dir).ok()?;
    let first = entries.next()?.ok()?;
    if entries.next().is_some() || !first.file_type().ok()?.is_dir() {
        return None;
    }
    Some(first.path())
}

fn sbom(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    use relkit_sbom::{Format as SbomFormat, binary, merge, source as sbom_source};
    let settings = &cx.plan.sbom;
    let formats: Vec<SbomFormat> = settings
        .formats
        .iter()
        .map(|f| SbomFormat::parse(f).expect("validated with the plan"))
        .collect();
    let created = cx.created();
    let mut docs = Vec::new();
    let mut out = StepOutput::default();
    let write =
        |doc: &relkit_sbom::Document, stem: &str, out: &mut StepOutput| -> Result<(), StepError> {
            for f in &formats {
                let (bytes, _lost) = relkit_sbom::write(doc, *f);
                let ext = match f.name() {
                    n if n.contains("cyclonedx") => "cdx.json",
                    _ => "spdx.json",
                };
                let path = cx.dist.join(format!("{stem}.{ext}"));
                write_atomic(&path, &bytes)?;
                out.outputs.push(path);
            }
            Ok(())
        };
    // Every source archive gets its own SBOM (the file it describes differs even though the
    // tree is the same); the first one also joins the release SBOM.
    let base = sbom_source::SourceOptions {
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        supplier: settings.supplier.clone(),
        download_location: settings.download_location.clone(),
        license: settings.license.clone(),
        cpes: settings.cpe.iter().map(|c| cx.expand(c)).collect(),
        purls: settings.purl.iter().map(|p| cx.expand(p)).collect(),
        in_tree_sbom: settings.in_tree.clone(),
        no_in_tree_sbom: false,
        wheel_dirs: Vec::new(),
        created: created.clone(),
        namespace: None,
    };
    let docs_opts = sbom_source::SourceOptions {
        name: Some(format!("{}-docs", cx.name)),
        cpes: Vec::new(),
        purls: Vec::new(),
        in_tree_sbom: None,
        no_in_tree_sbom: true,
        ..base.clone()
    };
    let archives = cx.source_archives().into_iter().map(|a| (a, &base)).chain(
        cx.outputs_of(&["docs"])
            .into_iter()
            .map(|a| (a, &docs_opts)),
    );
    for (i, (archive, opts)) in archives.enumerate() {
        cx.check_cancel()?;
        let mut doc = sbom_source::generate(&archive, opts, &|_| {})
            .map_err(fail(format!("SBOM of {}", archive.display())))?;
        doc.normalize();
        write(&doc, &file_name(&archive), &mut out)?;
        out.notes.push(format!(
            "{}: {} packages, {} files",
            file_name(&archive),
            doc.packages.len(),
            doc.files.len()
        ));
        if i == 0 {
            docs.push(doc);
        }
    }
    for path in cx.outputs_of(&["gather"]) {
        cx.check_cancel()?;
        if !binary::looks_binary(&path).unwrap_or(false) {
            continue;
        }
        let opts = binary::BinaryOptions {
            name: Some(file_name(&path)),
            version: Some(cx.version.to_string()),
            created: created.clone(),
        };
        let mut doc =
            binary::generate(&path, &opts).map_err(fail(format!("SBOM of {}", path.display())))?;
        doc.normalize();
        write(&doc, &file_name(&path), &mut out)?;
        out.notes.push(format!(
            "{}: {} packages from the bytes",
            file_name(&path),
            doc.packages.len()
        ));
        docs.push(doc);
    }
    let mut release = merge::merge(&docs, cx.name, Some(cx.version), &created);
    release.normalize();
    write(
        &release,
        &format!("{}-{}.release", cx.name, cx.version),
        &mut out,
    )?;
    Ok(out)
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

/// The DB the scan step may use, and a note saying which and how old: `[scan] db` (a path, or
/// `"sample"` for the bundled demo DB), else the user's imported DB; never the sample without
/// being asked, never a DB older than `[scan] max-age`.
fn scan_db(cx: &Cx<'_>) -> Result<(PathBuf, String), StepError> {
    let refuse = |msg: String| StepError::Failed(msg, None);
    let path = match cx.plan.scan.db.as_deref() {
        Some("sample") => {
            let path = relkit_vuln::sample::sample_db().map_err(fail("the bundled sample DB"))?;
            return Ok((
                path,
                "warning: scanned against relkit's bundled sample DB (demo data, as [scan] db = \"sample\" asks): this is no vulnerability gate".into(),
            ));
        }
        Some(p) => cx.repo.join(p),
        None => {
            let user = relkit_vuln::sample::default_db_path();
            if !user.exists() {
                return Err(refuse(format!(
                    "no vulnerability DB: {} does not exist; run `relkit db update` (or `relkit db import FILES`), or set [scan] db = PATH in the plan ([scan] db = \"sample\" scans against demo data only)",
                    user.display()
                )));
            }
            user
        }
    };
    let db = relkit_vuln::Db::open(&path).map_err(fail(format!("opening {}", path.display())))?;
    let fresh = db
        .freshness()
        .map_err(fail(format!("reading the age of {}", path.display())))?;
    if fresh.sample {
        return Err(refuse(format!(
            "{} is relkit's bundled sample DB (demo data); use a real DB, or write [scan] db = \"sample\" to scan against demo data on purpose",
            path.display()
        )));
    }
    let max_age = relkit_vuln::freshness::parse_max_age(&cx.plan.scan.max_age)
        .expect("validated when the plan was read");
    fresh
        .check(max_age, time::OffsetDateTime::now_utc())
        .map_err(|why| {
            refuse(format!(
                "{}: {why}; or raise [scan] max-age",
                path.display()
            ))
        })?;
    Ok((
        path,
        format!(
            "DB imported {}, newest record {} (max age {})",
            fresh.last_import.as_deref().unwrap_or("?"),
            fresh.newest_record.as_deref().unwrap_or("?"),
            cx.plan.scan.max_age
        ),
    ))
}

fn scan(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let sbom_path = release_sbom(cx)?;
    let (doc, _, _) = relkit_sbom::read_file(&sbom_path)
        .map_err(fail(format!("reading {}", sbom_path.display())))?;
    let (db, db_note) = scan_db(cx)?;
    let report = relkit_vuln::scan_with_db(
        &doc,
        &file_name(&sbom_path),
        &db,
        &relkit_vuln::ScanOptions::default(),
    )
    .map_err(fail(format!("scanning with {}", db.display())))?;
    let report_path = cx.report_path("scan");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&report).expect("report serializes"),
    )?;
    let mut notes = vec![format!(
        "{} components, {} finding(s) with {}; report {}",
        report.components,
        report.findings.len(),
        db.display(),
        report_path.display()
    )];
    notes.push(db_note);
    for f in &report.findings {
        notes.push(format!(
            "{} in {} {} ({})",
            f.id,
            f.component,
            f.installed.as_deref().unwrap_or("?"),
            format!("{:?}", f.severity).to_lowercase()
        ));
    }
    // The declared versions of vendored packages, proven against the bytes of the archive.
    let archive = cx.source_archive(None)?;
    let source_sbom = cx.dist.join(format!("{}.spdx.json", file_name(&archive)));
    {
        let (source_doc, _, _) = relkit_sbom::read_file(&source_sbom).map_err(fail(format!(
            "reading the source SBOM {} to check the declared versions of vendored packages",
            source_sbom.display()
        )))?;
        let truth = relkit_truth::verify(&source_doc, &archive).map_err(fail(format!(
            "checking declared versions in {}",
            archive.display()
        )))?;
        for p in truth
            .packages
            .iter()
            .filter(|p| p.verdict == relkit_truth::Verdict::Contradicted)
        {
            notes.push(format!(
                "warning: {} is declared as {} but its files say {}",
                p.name,
                p.declared_version.as_deref().unwrap_or("?"),
                p.found_version.as_deref().unwrap_or("?")
            ));
        }
    }
    let threshold = severity_threshold(&cx.plan.scan.fail_on).expect("validated with the plan");
    if let Some(level) = threshold {
        let stopping: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity >= level)
            .map(|f| {
                format!(
                    "{} ({} {})",
                    f.id,
                    f.component,
                    f.installed.as_deref().unwrap_or("?")
                )
            })
            .collect();
        if !stopping.is_empty() {
            return Err(StepError::Failed(
                format!(
                    "{} finding(s) at or above {}: {}; fix them, or set [scan] fail-on; report {}",
                    stopping.len(),
                    cx.plan.scan.fail_on,
                    stopping.join(", "),
                    report_path.display()
                ),
                None,
            ));
        }
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}

fn audit(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let archives = cx.source_archives();
    let tarball = archives
        .iter()
        .find(|p| {
            matches!(
                Format::parse(&extension(p)),
                Some(Format::TarGz | Format::TarXz | Format::Tar)
            )
        })
        .cloned()
        .ok_or_else(|| StepError::Failed("no tar source archive to audit".into(), None))?;
    let reference = relkit_audit::Reference::Git {
        repo: cx.repo.to_path_buf(),
        rev: cx.commit.to_string(),
    };
    // The tarball relkit built must be fully explained by the tag plus the prepare steps
    // (re-run on a fresh export, with the build's environment), and nothing in it may be
    // critical (e.g. a vendored macro that differs from every known upstream copy).
    let env = [
        ("SOURCE_DATE_EPOCH", cx.commit_time.to_string()),
        ("TZ", "UTC".to_string()),
        ("LC_ALL", "C.UTF-8".to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let audit = relkit_audit::audit_release(
        &tarball,
        &reference,
        &cx.plan.source.prepare,
        &env,
        &Default::default(),
    )
    .map_err(fail(format!("auditing {}", tarball.display())))?;
    let report_path = cx.report_path("audit");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&audit).expect("report serializes"),
    )?;
    let counts: Vec<String> = audit
        .report
        .severities
        .iter()
        .map(|(s, n)| format!("{n} {s:?}").to_lowercase())
        .collect();
    if !audit.fully_explained() {
        let shown: Vec<&str> = audit
            .unexplained
            .iter()
            .take(10)
            .map(String::as_str)
            .collect();
        return Err(StepError::Failed(
            format!(
                "{} is not fully explained by {} plus the [source] prepare steps ({} critical; {} unexplained: {}{}); see {}",
                file_name(&tarball),
                cx.rev,
                audit.critical,
                audit.unexplained.len(),
                shown.join("; "),
                if audit.unexplained.len() > shown.len() {
                    "; …"
                } else {
                    ""
                },
                report_path.display()
            ),
            None,
        ));
    }
    Ok(StepOutput {
        notes: vec![format!(
            "{} against {}: {}",
            file_name(&tarball),
            cx.rev,
            counts.join(", ")
        )],
        ..StepOutput::default()
    })
}

/// `relkit health` on the release SBOM: every component's verdict in the report, the
/// critical-languishing and transition ones (and those without data) named in the notes.
fn health(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let settings = cx
        .plan
        .health
        .as_ref()
        .expect("the step runs only with [health]");
    let policy = match &settings.policy {
        Some(p) => {
            let path = cx.repo.join(p);
            let text = std::fs::read_to_string(&path)
                .map_err(fail(format!("[health] policy {}", path.display())))?;
            relkit_health::Policy::parse(&text, &path.display().to_string())
                .map_err(fail("[health] policy"))?
        }
        None => relkit_health::Policy::default(),
    };
    let packages = settings
        .debian_packages
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((suite, file)) if !suite.is_empty() && !suite.contains('/') => {
                (suite.to_string(), cx.repo.join(file))
            }
            _ => {
                let path = cx.repo.join(spec);
                (relkit_health::report::suite_from_file_name(&path), path)
            }
        })
        .collect();
    let inputs = relkit_health::Inputs {
        sbom: release_sbom(cx)?,
        repos: settings.repos.as_ref().map(|r| cx.repo.join(r)),
        packages,
        maps: Vec::new(),
        policy,
        as_of: None,
        timeline: false,
        roots: relkit_health::debian::DEFAULT_ROOTS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cache: relkit_vuln::sample::cache_dir().join("health"),
    };
    let report = relkit_health::assess(&inputs, &|_| {}).map_err(fail("relkit health"))?;
    let report_path = cx.report_path("health");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&report).expect("report serializes"),
    )?;
    let summary: Vec<String> = report
        .summary
        .iter()
        .map(|(verdict, n)| format!("{n} {verdict}"))
        .collect();
    let mut notes = vec![format!(
        "{} components as of {}: {}; report {}",
        report.components.len(),
        report.as_of,
        summary.join(", "),
        report_path.display()
    )];
    use relkit_health::Verdict;
    for c in &report.components {
        let what = match c.verdict {
            Verdict::CriticalLanguishing | Verdict::Transition => c.reasons.join("; "),
            Verdict::NoData => format!("no data: {}", c.missing.join("; ")),
            _ => continue,
        };
        notes.push(format!(
            "warning: {} is {}: {what}",
            c.name,
            c.verdict.name()
        ));
    }
    if settings.fail_on_findings && report.has_findings() {
        return Err(StepError::Failed(
            format!(
                "components are critical-languishing or in transition (see {}): {}",
                report_path.display(),
                notes[1..].join("; ")
            ),
            None,
        ));
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}

/// The release's own files (not signatures): what sign/attest/verify cover.
fn release_files(cx: &Cx<'_>) -> Vec<PathBuf> {
    cx.outputs_of(Step::Sign.deps())
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Signs `files` in the plan's style; returns the signature files.
fn sign_files(cx: &Cx<'_>, key: &PrivateKey, files: &[PathBuf]) -> Result<Vec<PathBuf>, StepError> {
    let style = cx.plan.sign.as_ref().map_or("bundle", |s| s.style.as_str());
    let mut out = Vec::new();
    for file in files {
        cx.check_cancel()?;
        let data = std::fs::read(file).map_err(fail(file.display()))?;
        let (path, bytes) = match style {
            "minisign" => {
                let PrivateKey::Ed25519(sk) = key else {
                    return Err(StepError::Failed(
                        "minisign signatures need an ed25519 key".into(),
                        None,
                    ));
                };
                let vk = sk.verifying_key();
                let key_id = relkit_attest::minisign::derived_key_id(&vk);
                let tc = format!("file:{}\thashed", file_name(file));
                let sig = relkit_attest::minisign::sign(sk, &key_id, &data, &tc);
                (with_ext(file, ".minisig"), sig.into_bytes())
            }
            "raw" => (with_ext(file, ".sig"), key.sign(&data)),
            _ => (
                with_ext(file, ".sigstore.json"),
                Bundle::sign_message(key, &data).to_json().into_bytes(),
            ),
        };
        write_atomic(&path, &bytes)?;
        out.push(path);
    }
    Ok(out)
}

fn sign(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let key = cx.signing_key()?;
    let files = release_files(cx);
    let outputs = sign_files(cx, &key, &files)?;
    Ok(StepOutput {
        notes: vec![format!(
            "{} file(s) signed with {} key {}",
            files.len(),
            key.kind().name(),
            key.public().key_id()
        )],
        outputs,
        ..StepOutput::default()
    })
}

fn provenance_path(cx: &Cx<'_>) -> PathBuf {
    cx.dist.join(format!(
        "{}-{}.provenance.sigstore.json",
        cx.name, cx.version
    ))
}

fn attest(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let key = cx.signing_key()?;
    let mut subjects = Vec::new();
    for file in release_files(cx) {
        let digest = sha256_file(&file).map_err(fail(file.display()))?;
        subjects.push(Subject::sha256(&file_name(&file), &digest));
    }
    let mut info = BuildInfo::from_github_env(|k| std::env::var(k).ok()).unwrap_or_default();
    let settings = &cx.plan.attest;
    if let Some(r) = &settings.repository {
        info.repository = r.clone();
    }
    if info.repository.is_empty() {
        let abs = std::fs::canonicalize(cx.repo).unwrap_or_else(|_| cx.repo.to_path_buf());
        info.repository = format!("file://{}", abs.display());
    }
    if let Some(b) = &settings.builder_id {
        info.builder_id = b.clone();
    }
    if info.builder_id.is_empty() {
        info.builder_id = "https://relkit.dev/release-run/local".into();
    }
    if info.git_ref.is_empty() {
        info.git_ref = cx
            .tag_ref
            .map(str::to_string)
            .unwrap_or_else(|| cx.rev.to_string());
    }
    info.commit = cx.commit.to_string();
    if info.started_on.is_empty() {
        info.started_on = cx
            .state
            .steps
            .get("verify-input")
            .map(|r| r.started.clone())
            .unwrap_or_else(now_rfc3339);
    }
    info.finished_on = now_rfc3339();
    let statement = provenance_statement(subjects, &info);
    let payload = serde_json::to_vec(&statement).expect("statement serializes");
    let envelope = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &payload);
    let path = provenance_path(cx);
    let mut bytes = Bundle::from_envelope(&key.public(), envelope)
        .to_json()
        .into_bytes();
    bytes.push(b'\n');
    write_atomic(&path, &bytes)?;
    Ok(StepOutput {
        notes: vec![format!(
            "SLSA provenance for {} subject(s): {} at {}",
            statement.subject.len(),
            info.git_ref,
            info.commit
        )],
        outputs: vec![path],
        ..StepOutput::default()
    })
}

fn checksums(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let mut files = cx.outputs_of(Step::Checksums.deps());
    files.sort_by_key(|p| file_name(p));
    let mut entries = Vec::new();
    for f in &files {
        let digest = sha256_file(f).map_err(fail(f.display()))?;
        entries.push((file_name(f), digest));
    }
    let path = cx.dist.join("SHA256SUMS");
    write_atomic(&path, write_sums(&entries).as_bytes())?;
    let mut outputs = vec![path.clone()];
    if cx.plan.sign.is_some() {
        let key = cx.signing_key()?;
        outputs.extend(sign_files(cx, &key, std::slice::from_ref(&path))?);
    }
    Ok(StepOutput {
        notes: vec![format!("{} file(s) listed", entries.len())],
        outputs,
        ..StepOutput::default()
    })
}

/// The public key the final verification trusts.
fn verify_key(cx: &Cx<'_>) -> Result<Option<VerifyKey>, StepError> {
    let Some(sign) = &cx.plan.sign else {
        return Ok(None);
    };
    match &sign.public_key {
        Some(p) => {
            let text = std::fs::read_to_string(cx.repo.join(p))
                .map_err(fail(format!("cannot read the public key {p}")))?;
            VerifyKey::parse(&text)
                .map(Some)
                .map_err(fail(format!("cannot use the public key {p}")))
        }
        None => {
            let key = cx.signing_key()?;
            Ok(Some(match (&key, sign.style.as_str()) {
                (PrivateKey::Ed25519(sk), "minisign") => {
                    let vk = sk.verifying_key();
                    VerifyKey::Minisign(relkit_attest::minisign::PublicKey {
                        key_id: relkit_attest::minisign::derived_key_id(&vk),
                        key: vk,
                    })
                }
                _ => VerifyKey::Pkix(key.public()),
            }))
        }
    }
}

/// Verifies every release file in `dir` against SHA256SUMS, its signature and the provenance.
pub fn verify_dir(
    cx: &Cx<'_>,
    dir: &Path,
) -> Result<Vec<relkit_attest::verify::Report>, StepError> {
    let key = verify_key(cx)?;
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path).map_err(fail(sums_path.display()))?;
    let listed = parse_sums(Algo::Sha256, &sums);
    let provenance_file = dir.join(file_name(&provenance_path(cx)));
    let provenance = std::fs::read_to_string(&provenance_file).ok();
    let style = cx.plan.sign.as_ref().map(|s| s.style.clone());
    let mut reports = Vec::new();
    for file in release_files(cx) {
        cx.check_cancel()?;
        let name = file_name(&file);
        let published = dir.join(&name);
        let data = std::fs::read(&published).map_err(fail(published.display()))?;
        if !listed.lines.iter().any(|e| e.name == name) {
            return Err(StepError::Failed(
                format!("{name} is not listed in {}", sums_path.display()),
                None,
            ));
        }
        let digest = relkit_attest::checksum::sha256(&data);
        let read = |ext: &str| std::fs::read(with_ext(&published, ext)).ok();
        let (signature, bundle) = match style.as_deref() {
            Some("minisign") => (read(".minisig"), None),
            Some("raw") => (read(".sig"), None),
            Some(_) => (
                None,
                read(".sigstore.json").map(|b| String::from_utf8_lossy(&b).into_owned()),
            ),
            None => (None, None),
        };
        if style.is_some() && signature.is_none() && bundle.is_none() {
            return Err(StepError::Failed(
                format!("{name} was published without its signature"),
                None,
            ));
        }
        let inputs = Inputs {
            name: name.clone(),
            artifact: Artifact {
                sha256: digest,
                bytes: Some(&data),
            },
            checksums: Some(Input {
                path: sums_path.display().to_string(),
                content: sums.clone(),
            }),
            signature: signature.map(|content| Input {
                path: format!("{name} signature"),
                content,
            }),
            key: key.clone(),
            bundle: bundle.map(|content| Input {
                path: format!("{name}.sigstore.json"),
                content,
            }),
            provenance: provenance.clone().map(|content| Input {
                path: provenance_file.display().to_string(),
                content,
            }),
            policy: None,
            trusted_root: None,
        };
        let report = verify(&inputs).map_err(fail(format!("verifying {name}")))?;
        if !report.passed {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.check, c.detail))
                .collect();
            return Err(StepError::Failed(
                format!(
                    "{} does not verify: {}",
                    published.display(),
                    failed.join("; ")
                ),
                None,
            ));
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Downloads every uploaded file and the server's SHA256SUMS from a `relkit serve` server and
/// checks they are the local files; returns the names checked.
fn verify_served(cx: &Cx<'_>, url: &str) -> Result<Vec<String>, StepError> {
    let client = relkit_client::Client::new(url.trim_end_matches('/'), None);
    let base = format!("/api/v1/projects/{}/releases/{}", cx.name, cx.version);
    let (sums, _) = client
        .download(&format!("{base}/SHA256SUMS"))
        .map_err(fail(format!("downloading SHA256SUMS from {url}")))?;
    let sums = String::from_utf8_lossy(&sums).into_owned();
    let listed = parse_sums(Algo::Sha256, &sums);
    let mut served = Vec::new();
    for file in cx.outputs_of(ARTIFACT_STEPS) {
        let name = file_name(&file);
        if name == relkit_source::manifest::MANIFEST_FILE {
            continue;
        }
        cx.check_cancel()?;
        let local = hex::encode(sha256_file(&file).map_err(fail(file.display()))?);
        let (_, remote) = client
            .download(&format!("{base}/files/{name}"))
            .map_err(fail(format!("downloading {name} from {url}")))?;
        if remote != local {
            return Err(StepError::Failed(
                format!("{url} serves {name} with sha256 {remote}, but the release built {local}"),
                None,
            ));
        }
        if !listed
            .lines
            .iter()
            .any(|l| l.name == name && l.hex == local)
        {
            return Err(StepError::Failed(
                format!("the server's SHA256SUMS does not list {name} with sha256 {local}"),
                None,
            ));
        }
        served.push(name);
    }
    Ok(served)
}

fn verify_published(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let publish = cx.plan.publish.as_ref().expect("verify runs after publish");
    let (dir, served) = match (&publish.dir, &publish.url) {
        (Some(d), _) => (cx.repo.join(cx.expand(d)), None),
        // What the server serves must be the files verified here, byte for byte.
        (None, Some(url)) => (cx.dist.clone(), Some((url, verify_served(cx, url)?))),
        (None, None) => unreachable!("validated: dir or url"),
    };
    let reports = verify_dir(cx, &dir)?;
    let report_path = cx.report_path("verify");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&reports).expect("reports serialize"),
    )?;
    let checks: usize = reports.iter().map(|r| r.checks.len()).sum();
    let mut notes = vec![format!(
        "{} file(s) in {} verified ({checks} checks passed)",
        reports.len(),
        dir.display()
    )];
    if let Some((url, names)) = served {
        notes.push(format!(
            "{} file(s) downloaded from {url} are the ones verified, and its SHA256SUMS lists them",
            names.len()
        ));
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}
