//! `rebuild`: build a published artifact again from its recorded settings and say
//! "identical" or exactly why not (through the member-level diff engine).

use std::path::{Path, PathBuf};

use relkit_archive::diff::{DiffOptions, DiffReport, diff_paths};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::build::{BuildError, BuildRequest, Format, SourceInput, build_source};
use crate::config::SourceConfig;
use crate::manifest::{MANIFEST_FILE, Manifest, ManifestError, ManifestSource};

/// What to rebuild.
#[derive(Debug, Clone)]
pub struct RebuildRequest {
    /// The published artifact.
    pub artifact: PathBuf,
    /// The manifest (default: `relkit-manifest.json` beside the artifact).
    pub manifest: Option<PathBuf>,
    /// Repository for git-sourced artifacts.
    pub repo: PathBuf,
    /// Revision override (default: the manifest's revision).
    pub rev: Option<String>,
    /// Directory for directory-sourced artifacts.
    pub from_dir: Option<PathBuf>,
}

/// The verdict of a rebuild.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildReport {
    /// The artifact checked.
    pub artifact: String,
    /// Its SHA-256.
    pub artifact_sha256: String,
    /// SHA-256 the manifest recorded for it.
    pub recorded_sha256: Option<String>,
    /// SHA-256 of the rebuilt artifact.
    pub rebuilt_sha256: String,
    /// The rebuilt bytes equal the artifact's.
    pub identical: bool,
    /// Commit the manifest recorded, if git.
    pub recorded_commit: Option<String>,
    /// Commit the revision resolves to now, if git.
    pub rebuilt_commit: Option<String>,
    /// Plain-language reasons when not identical.
    pub reasons: Vec<String>,
    /// Member-level differences when not identical.
    pub diff: Option<DiffReport>,
}

/// Errors from a rebuild.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The manifest is missing or bad.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest does not list the artifact.
    #[error(
        "{manifest} does not list {artifact}; pass the manifest of the build that produced it with --manifest"
    )]
    NotInManifest {
        /// The manifest path.
        manifest: PathBuf,
        /// The artifact file name.
        artifact: String,
    },
    /// The artifact cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The rebuild itself failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Comparing failed.
    #[error(transparent)]
    Diff(#[from] relkit_archive::read::Error),
    /// A directory-sourced artifact needs the directory.
    #[error("the artifact was built from a directory ({0}); pass --from-dir with that directory")]
    NeedsDir(PathBuf),
}

/// Rebuilds `req.artifact` and compares.
pub fn rebuild(req: &RebuildRequest) -> Result<RebuildReport, RebuildError> {
    let artifact_name = req
        .artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest_path = req.manifest.clone().unwrap_or_else(|| {
        req.artifact
            .parent()
            .unwrap_or(Path::new("."))
            .join(MANIFEST_FILE)
    });
    let manifest = Manifest::load(&manifest_path)?;
    let record = manifest
        .artifact(&artifact_name)
        .ok_or_else(|| RebuildError::NotInManifest {
            manifest: manifest_path.clone(),
            artifact: artifact_name.clone(),
        })?;
    let format = Format::parse(&record.format).ok_or_else(|| RebuildError::NotInManifest {
        manifest: manifest_path.clone(),
        artifact: artifact_name.clone(),
    })?;
    let artifact_sha256 = sha256_file(&req.artifact)?;
    let s = &manifest.settings;
    let (input, recorded_commit) = match &manifest.source {
        ManifestSource::Git { rev, commit, .. } => (
            SourceInput::Git {
                repo: req.repo.clone(),
                rev: req.rev.clone().unwrap_or_else(|| rev.clone()),
            },
            Some(commit.clone()),
        ),
        ManifestSource::Dir { path } => match &req.from_dir {
            Some(dir) => (SourceInput::Dir { path: dir.clone() }, None),
            None => return Err(RebuildError::NeedsDir(path.clone())),
        },
    };
    let out = tempfile::tempdir().map_err(|source| RebuildError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let built = build_source(&BuildRequest {
        input,
        out_dir: out.path().to_path_buf(),
        name: Some(s.name.clone()),
        version: Some(s.version.clone()),
        prefix: Some(s.prefix.clone()),
        mtime: s.mtime,
        no_clamp: !s.clamp_mtime,
        formats: Some(vec![format]),
        source: SourceConfig {
            exclude: s.exclude.clone(),
            prefix: s.prefix.clone(),
            prepare: s.prepare.clone(),
            formats: vec![format.extension().into()],
            gzip_level: s.gzip_level,
            xz_preset: s.xz_preset,
            submodules: s.submodules,
        },
        force: true,
    })?;
    let rebuilt_path = &built.artifacts[0];
    let rebuilt_sha256 = built.manifest.artifacts[0].sha256.clone();
    let rebuilt_commit = match &built.manifest.source {
        ManifestSource::Git { commit, .. } => Some(commit.clone()),
        ManifestSource::Dir { .. } => None,
    };
    let identical = rebuilt_sha256 == artifact_sha256;
    let mut reasons = Vec::new();
    if recorded_commit.is_some() && recorded_commit != rebuilt_commit {
        reasons.push(format!(
            "the revision now points to commit {} but the artifact was built from {}",
            rebuilt_commit.as_deref().unwrap_or("?"),
            recorded_commit.as_deref().unwrap_or("?")
        ));
    }
    if record.sha256 != artifact_sha256 {
        reasons.push(format!(
            "the artifact's SHA-256 {artifact_sha256} is not the one its manifest recorded ({}): it was changed after the build",
            record.sha256
        ));
    }
    let diff = if identical {
        None
    } else {
        let report = diff_paths(&req.artifact, rebuilt_path, &DiffOptions::default())?;
        if report.is_identical() {
            reasons
                .push("members are identical; only the compressed container bytes differ".into());
        }
        Some(report)
    };
    Ok(RebuildReport {
        artifact: req.artifact.display().to_string(),
        artifact_sha256,
        recorded_sha256: Some(record.sha256.clone()),
        rebuilt_sha256,
        identical,
        recorded_commit,
        rebuilt_commit,
        reasons,
        diff,
    })
}

fn sha256_file(path: &Path) -> Result<String, RebuildError> {
    let io = |source| RebuildError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io)?;
    Ok(hex::encode(hasher.finalize()))
}
