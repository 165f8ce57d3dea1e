//! The build manifest written beside the artifacts (`relkit-manifest.json`): every setting
//! a rebuild needs, and what came out. Its JSON layout is stable (`schema` names the version).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the manifest in the output directory.
pub const MANIFEST_FILE: &str = "relkit-manifest.json";
/// Current manifest schema identifier.
pub const SCHEMA: &str = "https://relkit.dev/schema/build-manifest/v1";

/// A build manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema identifier ([`SCHEMA`]).
    pub schema: String,
    /// relkit version that wrote it.
    pub relkit_version: String,
    /// Where the tree came from.
    pub source: ManifestSource,
    /// Settings that decide the bytes.
    pub settings: ManifestSettings,
    /// The uncompressed tar stream all tar formats share.
    pub tar: Option<ArtifactRecord>,
    /// The archives written.
    pub artifacts: Vec<ArtifactRecord>,
    /// Number of archive members.
    pub members: usize,
}

/// Where a build's tree came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ManifestSource {
    /// A git revision.
    Git {
        /// The revision as given (tag, branch, commit).
        rev: String,
        /// The commit it resolved to.
        commit: String,
        /// The commit's committer time.
        commit_time: i64,
        /// Submodules left out.
        omitted_submodules: Vec<String>,
        /// Submodules exported in place: path and commit.
        #[serde(default)]
        included_submodules: Vec<(String, String)>,
    },
    /// A plain directory.
    Dir {
        /// The directory as given.
        path: PathBuf,
    },
}

/// The settings that decide the archive bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestSettings {
    /// Project name.
    pub name: String,
    /// Project version.
    pub version: String,
    /// Top-level directory in the archives.
    pub prefix: String,
    /// The mtime given (seconds), if any.
    pub mtime: Option<i64>,
    /// Whether newer times are clamped to `mtime` (else all set to it).
    pub clamp_mtime: bool,
    /// Permission normalization.
    pub mode_policy: relkit_archive::ModePolicy,
    /// Exclude patterns.
    pub exclude: Vec<String>,
    /// Prepare commands run before archiving.
    pub prepare: Vec<String>,
    /// gzip level.
    pub gzip_level: u32,
    /// xz preset.
    pub xz_preset: u32,
    /// Formats written (`tar.gz`, `tar.xz`, `zip`, `tar`).
    pub formats: Vec<String>,
    /// Submodule policy used.
    #[serde(default)]
    pub submodules: crate::export::SubmodulePolicy,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    /// File name in the output directory.
    pub name: String,
    /// Format (`tar.gz`, …).
    pub format: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// Errors reading a manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read build manifest {path}: {source}")]
    Io {
        /// The manifest path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a relkit manifest.
    #[error("{path} is not a relkit build manifest: {message}")]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong (with line and column).
        message: String,
    },
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| ManifestError::Invalid {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if manifest.schema != SCHEMA {
            return Err(ManifestError::Invalid {
                path: path.to_path_buf(),
                message: format!("unknown schema {:?} (expected {SCHEMA:?})", manifest.schema),
            });
        }
        Ok(manifest)
    }

    /// The record of the artifact with this file name.
    pub fn artifact(&self, name: &str) -> Option<&ArtifactRecord> {
        self.artifacts.iter().find(|a| a.name == name)
    }
}
