//! The release plan: every section of `relkit.toml` a release uses, parsed with serde, with
//! errors that name the file, the line and column, and the closest known key.
//!
//! `[project]` and `[source]` are the same types `relkit build source` reads
//! (relkit-source); the other sections are defined here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relkit_source::config::{ProjectConfig, SourceConfig};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The whole release plan (`relkit.toml`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Plan {
    /// `[project]`: name and (optionally) version.
    #[serde(default)]
    pub project: ProjectConfig,
    /// `[source]`: how the source archives are made.
    #[serde(default)]
    pub source: SourceConfig,
    /// `[release]`: version source and where outputs and state go.
    #[serde(default)]
    pub release: ReleaseSettings,
    /// `[docs]`: the documentation build, if the project ships docs.
    #[serde(default)]
    pub docs: Option<DocsSettings>,
    /// `[[gather]]`: artifacts built elsewhere (Windows/macOS installers…) to collect and check.
    #[serde(default)]
    pub gather: Vec<GatherSettings>,
    /// `[[test]]`: commands run on the unpacked source archive.
    #[serde(default)]
    pub test: Vec<TestSettings>,
    /// `[sbom]`: SBOM formats and the top package's identity.
    #[serde(default)]
    pub sbom: SbomSettings,
    /// `[scan]`: vulnerability scan of the release SBOM.
    #[serde(default)]
    pub scan: ScanSettings,
    /// `[audit]`: the built tarball audited against the tag (the xz lesson).
    #[serde(default)]
    pub audit: AuditSettings,
    /// `[health]`: how critical and how looked-after the release's dependencies are
    /// (`relkit health`); no section = no health step.
    #[serde(default)]
    pub health: Option<HealthSettings>,
    /// `[sign]`: signing key and signature style; no section = nothing is signed.
    #[serde(default)]
    pub sign: Option<SignSettings>,
    /// `[attest]`: SLSA provenance for the release's artifacts.
    #[serde(default)]
    pub attest: AttestSettings,
    /// `[publish]`: where the release goes.
    #[serde(default)]
    pub publish: Option<PublishSettings>,
}

/// `[release]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct ReleaseSettings {
    /// Tag pattern; `{version}` is the version (default `v{version}`).
    pub tag: String,
    /// A file in the tagged tree whose first line is the version (instead of the tag).
    pub version_file: Option<String>,
    /// Output directory for the release's files, relative to the repository.
    pub dist: String,
    /// Directory for `state.json`, logs and work files, relative to the repository.
    pub state_dir: String,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            tag: "v{version}".into(),
            version_file: None,
            dist: "dist".into(),
            state_dir: ".relkit".into(),
        }
    }
}

/// `[docs]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DocsSettings {
    /// Shell command run in a clean export of the tag.
    pub command: String,
    /// Directory (relative to the tree) the command writes the docs to.
    pub output: String,
    /// Archive formats of the docs (default `tar.xz`).
    #[serde(default = "default_docs_formats")]
    pub formats: Vec<String>,
    /// Top-level directory in the docs archives (default `{name}-{version}-docs`).
    #[serde(default = "default_docs_prefix")]
    pub prefix: String,
}

fn default_docs_formats() -> Vec<String> {
    vec!["tar.xz".into()]
}

fn default_docs_prefix() -> String {
    "{name}-{version}-docs".into()
}

/// One `[[gather]]` entry: a file made elsewhere, fetched and checked before it joins the release.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatherSettings {
    /// File name in the release (`{version}` is replaced).
    pub name: String,
    /// HTTPS (or loopback HTTP) URL to download from.
    pub url: Option<String>,
    /// Local path (relative to the repository) to copy from.
    pub path: Option<String>,
    /// Expected SHA-256 (hex).
    pub sha256: Option<String>,
    /// A SHA256SUMS file (URL or path) that lists the file.
    pub sums: Option<String>,
    /// A signature over the SHA256SUMS file (minisign `.minisig` or raw `.sig`), URL or path.
    pub sums_signature: Option<String>,
    /// Public key (path) that must have made `sums-signature`.
    pub key: Option<String>,
}

/// One `[[test]]` step.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TestSettings {
    /// Step name (letters, digits, `-`, `_`).
    pub name: String,
    /// Shell command run in the unpacked archive's top directory.
    pub command: String,
    /// Which source archive to unpack (`tar.gz`, `tar.xz`, `tar`, `zip`; default: the first built).
    pub archive: Option<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `[sbom]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct SbomSettings {
    /// Formats: `spdx-json`, `cyclonedx-json`.
    pub formats: Vec<String>,
    /// The in-tree SBOM declaring vendored packages (default: `Misc/sbom.spdx.json` when present).
    pub in_tree: Option<String>,
    /// Supplier of the top package, e.g. `Organization: Python Software Foundation`.
    pub supplier: Option<String>,
    /// Download location of the top package.
    pub download_location: Option<String>,
    /// SPDX license expression of the top package.
    pub license: Option<String>,
    /// CPEs of the top package (`{version}` is replaced).
    pub cpe: Vec<String>,
    /// PURLs of the top package (`{version}` is replaced).
    pub purl: Vec<String>,
}

impl Default for SbomSettings {
    fn default() -> Self {
        SbomSettings {
            formats: vec!["spdx-json".into(), "cyclonedx-json".into()],
            in_tree: None,
            supplier: None,
            download_location: None,
            license: None,
            cpe: Vec::new(),
            purl: Vec::new(),
        }
    }
}

/// `[scan]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct ScanSettings {
    /// Run the scan (default true).
    pub enabled: bool,
    /// Vulnerability DB: a path (relative to the repository), else the user's DB from `relkit db
    /// import`/`update`; `"sample"` selects the bundled demo DB (never chosen silently). With
    /// neither, the scan step fails.
    pub db: Option<String>,
    /// The oldest the DB may be — both its last import and its newest record — as `7d` or
    /// `36h` (default `7d`); an older DB stops the release. The sample DB is exempt (it is
    /// demo data by name).
    pub max_age: String,
    /// Stop the release on findings at or above this severity:
    /// `critical`, `high`, `medium`, `low`, or `none` to only report.
    pub fail_on: String,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            enabled: true,
            db: None,
            max_age: "7d".into(),
            fail_on: "critical".into(),
        }
    }
}

/// `[audit]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct AuditSettings {
    /// Audit the built tarball against the tag (default true); critical findings stop the release.
    pub enabled: bool,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { enabled: true }
    }
}

/// `[health]` settings: the inputs of `relkit health` for the release SBOM. Its findings
/// (critical-languishing or transition components) are reported in the step's notes and
/// report; they stop the release only with `fail-on-findings = true`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct HealthSettings {
    /// Directory of upstream histories (git directories, bare repositories, `.bundle`
    /// files), relative to the repository.
    pub repos: Option<String>,
    /// Debian `Packages` indexes (`FILE` or `SUITE=FILE`), relative to the repository.
    pub debian_packages: Vec<String>,
    /// Thresholds (TOML, as `relkit health --policy`).
    pub policy: Option<String>,
    /// Stop the release when a component is critical-languishing or in transition.
    pub fail_on_findings: bool,
}

/// `[sign]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignSettings {
    /// Private key (PEM from `relkit key generate`), relative to the repository; `--key` overrides.
    pub key: String,
    /// File holding the key's passphrase, if it has one.
    pub passphrase_file: Option<String>,
    /// Public key the final verification uses (default: derived from the private key).
    pub public_key: Option<String>,
    /// `bundle` (Sigstore v0.3 key-based bundle, `.sigstore.json`), `minisign` (`.minisig`)
    /// or `raw` (`.sig`).
    #[serde(default = "default_sign_style")]
    pub style: String,
}

fn default_sign_style() -> String {
    "bundle".into()
}

/// `[attest]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct AttestSettings {
    /// Write SLSA provenance (needs `[sign]`; default true).
    pub provenance: bool,
    /// Source repository URL recorded in the provenance (default: from GitHub Actions, else the
    /// repository path).
    pub repository: Option<String>,
    /// Builder id recorded in the provenance (default: GitHub workflow, else `relkit release run`).
    pub builder_id: Option<String>,
}

impl Default for AttestSettings {
    fn default() -> Self {
        AttestSettings {
            provenance: true,
            repository: None,
            builder_id: None,
        }
    }
}

/// `[publish]` settings: exactly one of `dir` and `url`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PublishSettings {
    /// Directory to publish to (`{name}` and `{version}` are replaced); written by staging
    /// beside it and renaming, so it appears whole or not at all.
    pub dir: Option<String>,
    /// HTTP upload endpoint (a `relkit serve` server).
    pub url: Option<String>,
    /// File holding the upload token for `url`.
    pub token_file: Option<String>,
}

/// Builds a located plan error: the text to find in the plan, and the message.
type Locate<'a> = &'a dyn Fn(&str, String) -> Error;

impl Plan {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Plan, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Plan::parse(&text, path)
    }

    /// Parses and validates the text of a plan; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Plan, Error> {
        let plan: Plan = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    let col = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    (line, col)
                })
                .unwrap_or((0, 0));
            Error::Plan {
                path: path.to_path_buf(),
                line,
                column,
                message: with_suggestion(e.message()),
            }
        })?;
        plan.validate(text, path)?;
        Ok(plan)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), Error> {
        let err = |needle: &str, message: String| {
            let (line, column) = locate(text, needle);
            Error::Plan {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        self.check_archives(&err)?;
        self.check_gather(&err)?;
        self.check_tests(&err)?;
        self.check_settings(&err)
    }

    /// The tag names the version; every archive format is known.
    fn check_archives(&self, err: Locate<'_>) -> Result<(), Error> {
        if !self.release.tag.contains("{version}") && self.project.version.is_none() {
            return Err(err(
                "tag",
                format!(
                    "[release] tag = {:?} has no {{version}}; add it (e.g. \"v{{version}}\") or set [project] version",
                    self.release.tag
                ),
            ));
        }
        for f in self.source.formats.iter().chain(
            self.docs
                .iter()
                .flat_map(|d| d.formats.iter())
                .chain(self.test.iter().filter_map(|t| t.archive.as_ref())),
        ) {
            if relkit_source::Format::parse(f).is_none() {
                return Err(err(
                    f,
                    format!("unknown archive format {f:?}; use tar.gz, tar.xz, zip or tar"),
                ));
            }
        }
        Ok(())
    }

    /// Every `[[gather]]` entry is fetched from one place and checked before it joins.
    fn check_gather(&self, err: Locate<'_>) -> Result<(), Error> {
        for g in &self.gather {
            if g.url.is_some() == g.path.is_some() {
                return Err(err(
                    &g.name,
                    format!(
                        "[[gather]] {:?}: give exactly one of `url` and `path`",
                        g.name
                    ),
                ));
            }
            if g.sha256.is_none() && g.sums.is_none() {
                return Err(err(
                    &g.name,
                    format!(
                        "[[gather]] {:?}: give `sha256` or `sums` (a SHA256SUMS listing it): nothing joins a release unchecked",
                        g.name
                    ),
                ));
            }
            if let Some(h) = &g.sha256
                && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(err(
                    h,
                    format!("[[gather]] {:?}: sha256 must be 64 hex digits", g.name),
                ));
            }
            if g.sums_signature.is_some() != g.key.is_some() {
                return Err(err(
                    &g.name,
                    format!(
                        "[[gather]] {:?}: `sums-signature` and `key` go together",
                        g.name
                    ),
                ));
            }
            if g.name.contains('/') || g.name.starts_with('.') {
                return Err(err(
                    &g.name,
                    format!("[[gather]] name {:?} must be a plain file name", g.name),
                ));
            }
        }
        Ok(())
    }

    /// Every `[[test]]` has a distinct plain name.
    fn check_tests(&self, err: Locate<'_>) -> Result<(), Error> {
        let mut names = std::collections::BTreeSet::new();
        for t in &self.test {
            if t.name.is_empty()
                || !t
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(err(
                    &t.name,
                    format!(
                        "[[test]] name {:?}: use letters, digits, `-` and `_`",
                        t.name
                    ),
                ));
            }
            if !names.insert(&t.name) {
                return Err(err(
                    &t.name,
                    format!("[[test]] name {:?} is used twice", t.name),
                ));
            }
        }
        Ok(())
    }

    /// The `[sbom]`, `[scan]`, `[health]`, `[sign]` and `[publish]` settings.
    fn check_settings(&self, err: Locate<'_>) -> Result<(), Error> {
        for f in &self.sbom.formats {
            if relkit_sbom::Format::parse(f).is_none() {
                return Err(err(
                    f,
                    format!("[sbom] unknown format {f:?}; use spdx-json or cyclonedx-json"),
                ));
            }
        }
        if crate::steps::severity_threshold(&self.scan.fail_on).is_none() {
            return Err(err(
                "fail-on",
                format!(
                    "[scan] fail-on = {:?}: use critical, high, medium, low or none",
                    self.scan.fail_on
                ),
            ));
        }
        if let Some(h) = &self.health
            && h.repos.is_none()
            && h.debian_packages.is_empty()
        {
            return Err(err(
                "[health]",
                "[health] needs repos = DIR and/or debian-packages = [FILE, …]: with neither there is nothing to assess".into(),
            ));
        }
        if let Err(e) = relkit_vuln::freshness::parse_max_age(&self.scan.max_age) {
            return Err(err("max-age", format!("[scan] max-age = {e}")));
        }
        if let Some(s) = &self.sign
            && !matches!(s.style.as_str(), "bundle" | "minisign" | "raw")
        {
            return Err(err(
                "style",
                format!("[sign] style = {:?}: use bundle, minisign or raw", s.style),
            ));
        }
        if let Some(p) = &self.publish {
            if p.dir.is_some() == p.url.is_some() {
                return Err(err(
                    "[publish]",
                    "[publish]: give exactly one of `dir` and `url`".into(),
                ));
            }
            if p.url.is_some() && p.token_file.is_none() {
                return Err(err(
                    "[publish]",
                    "[publish]: an upload `url` needs `token-file`".into(),
                ));
            }
        }
        Ok(())
    }

    /// The release's output directory under `repo`.
    pub fn dist_dir(&self, repo: &Path) -> PathBuf {
        repo.join(&self.release.dist)
    }

    /// The state directory under `repo`.
    pub fn state_dir(&self, repo: &Path) -> PathBuf {
        repo.join(&self.release.state_dir)
    }
}

/// Line and column (1-based) of the first occurrence of `needle`, or (0, 0).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match text.find(needle) {
        Some(at) => {
            let line = text[..at].matches('\n').count() + 1;
            let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        }
        None => (0, 0),
    }
}

/// Adds "did you mean `x`?" to serde's "unknown field `y`, expected one of `a`, `b`".
fn with_suggestion(message: &str) -> String {
    let message = message.trim_end();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::damerau_levenshtein(unknown, candidate), candidate))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min();
    match best {
        Some((_, candidate)) => format!("{message}; did you mean `{candidate}`?"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPYTHON_LIKE: &str = r#"
[project]
name = "Python"

[release]
tag = "v{version}"

[source]
exclude = [".github", ".azure-pipelines"]
prefix = "Python-{version}"
formats = ["tgz", "tar.xz"]

[docs]
command = "make -C Doc html"
output = "Doc/build/html"
formats = ["tar.bz2"]

[[test]]
name = "unit"
command = "./configure && make -j2 && ./python -m test"
"#;

    #[test]
    fn a_bad_docs_format_is_located() {
        let err = Plan::parse(CPYTHON_LIKE, Path::new("relkit.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("relkit.toml:16:13"), "{text}");
        assert!(
            text.contains("unknown archive format \"tar.bz2\""),
            "{text}"
        );
    }

    #[test]
    fn a_misspelt_key_gets_a_suggestion_and_its_line() {
        let text = "[release]\ntag = \"v{version}\"\ndsit = \"out\"\n";
        let err = Plan::parse(text, Path::new("relkit.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("relkit.toml:3:1"), "{err}");
        assert!(err.contains("did you mean `dist`?"), "{err}");
        let err = Plan::parse("[tset]\nname = \"x\"\n", Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `test`?"), "{err}");
    }

    #[test]
    fn gather_entries_must_be_checkable() {
        let text = "[[gather]]\nname = \"win.zip\"\nurl = \"https://example.org/win.zip\"\n";
        let err = Plan::parse(text, Path::new("relkit.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nothing joins a release unchecked"), "{err}");
        assert!(err.contains("relkit.toml:2:9"), "{err}");
    }

    #[test]
    fn defaults_are_a_complete_plan() {
        let plan = Plan::parse("", Path::new("relkit.toml")).unwrap();
        assert_eq!(plan.release.tag, "v{version}");
        assert_eq!(plan.release.dist, "dist");
        assert_eq!(plan.scan.fail_on, "critical");
        assert!(plan.audit.enabled && plan.attest.provenance);
        assert!(plan.sign.is_none() && plan.publish.is_none());
    }
}
