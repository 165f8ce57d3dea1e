//! `relkit.toml`: the project's release settings (the parts source builds use).

use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::export::SubmodulePolicy;

/// The whole `relkit.toml` as far as source builds are concerned: `[project]` and
/// `[source]`; the release plan's sections (relkit-release) are accepted without being read,
/// so one file serves both while a misspelt section is still an error.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[project]`: name and version.
    #[serde(default)]
    pub project: ProjectConfig,
    /// `[source]`: how the source archives are made.
    #[serde(default)]
    pub source: SourceConfig,
    /// `[release]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub release: Option<IgnoredAny>,
    /// `[docs]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub docs: Option<IgnoredAny>,
    /// `[[gather]]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub gather: Option<IgnoredAny>,
    /// `[[test]]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub test: Option<IgnoredAny>,
    /// `[sbom]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub sbom: Option<IgnoredAny>,
    /// `[scan]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub scan: Option<IgnoredAny>,
    /// `[audit]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub audit: Option<IgnoredAny>,
    /// `[sign]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub sign: Option<IgnoredAny>,
    /// `[attest]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub attest: Option<IgnoredAny>,
    /// `[publish]` of the release plan: validated by relkit-release, accepted unread here.
    #[serde(default, skip_serializing)]
    pub publish: Option<IgnoredAny>,
}

/// `[project]` settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project name (default: the repository directory's name).
    pub name: Option<String>,
    /// Version (default: the tag name without a leading `v`).
    pub version: Option<String>,
}

/// `[source]` settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Glob patterns (relative to the tree root) left out of the archives.
    pub exclude: Vec<String>,
    /// Top-level directory in the archives; `{name}` and `{version}` are replaced.
    pub prefix: String,
    /// Shell commands run in the exported tree before archiving, in order.
    pub prepare: Vec<String>,
    /// Archive formats to write: `tar.gz`, `tar.xz`, `zip`, `tar`.
    pub formats: Vec<String>,
    /// gzip level (1-9).
    pub gzip_level: u32,
    /// xz preset (0-9).
    pub xz_preset: u32,
    /// What to do with submodules: `error`, `omit` or `include`.
    pub submodules: SubmodulePolicy,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            exclude: Vec::new(),
            prefix: "{name}-{version}".into(),
            prepare: Vec::new(),
            formats: vec!["tar.gz".into(), "tar.xz".into(), "zip".into()],
            gzip_level: 9,
            xz_preset: 6,
            submodules: SubmodulePolicy::Error,
        }
    }
}

/// Errors reading `relkit.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid for relkit.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load_or_default(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses the text of a `relkit.toml`; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let location = e
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    let col = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            ConfigError::Invalid {
                path: path.to_path_buf(),
                message: format!("{location}{}", e.message()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpython_style_config_parses() {
        let text = r#"
[project]
name = "Python"

[source]
exclude = [".github", ".azure-pipelines", ".gitattributes", ".gitignore"]
prefix = "Python-{version}"
prepare = ["echo generated > Misc/NEWS"]
"#;
        let c = Config::parse(text, Path::new("relkit.toml")).unwrap();
        assert_eq!(c.project.name.as_deref(), Some("Python"));
        assert_eq!(c.source.exclude.len(), 4);
        assert_eq!(c.source.gzip_level, 9);
        assert_eq!(c.source.formats, ["tar.gz", "tar.xz", "zip"]);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let text = "[source]\nprefx = \"x\"\n";
        let err = Config::parse(text, Path::new("relkit.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("relkit.toml: line 2, column 1"), "{err}");
        assert!(err.contains("prefx"), "{err}");
    }
}
