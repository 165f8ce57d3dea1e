//! `build source`: from a git revision (or a plain directory) to reproducible archives,
//! `SHA256SUMS` and the build manifest, all written to temporary files in the output
//! directory and renamed into place only once every one of them is complete.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use relkit_archive::write::pipeline::{Compression, compress_tar};
use relkit_archive::write::tar::TarOptions;
use relkit_archive::write::zip::write_zip;
use relkit_archive::{ModePolicy, Timestamp, TreeOptions, collect_tree};
use relkit_core::checksum::write_sums;
use serde::Serialize;
use tempfile::NamedTempFile;

use crate::config::SourceConfig;
use crate::export::{ExportOptions, export_rev};
use crate::manifest::{
    ArtifactRecord, MANIFEST_FILE, Manifest, ManifestSettings, ManifestSource, SCHEMA,
};

/// An archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// Plain `.tar`.
    Tar,
    /// `.tar.gz`.
    TarGz,
    /// `.tar.xz`.
    TarXz,
    /// `.zip`.
    Zip,
}

impl Format {
    /// Parses `tar`, `tar.gz`/`tgz`, `tar.xz`/`txz`, `zip`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim_start_matches('.') {
            "tar" => Some(Format::Tar),
            "tar.gz" | "tgz" => Some(Format::TarGz),
            "tar.xz" | "txz" => Some(Format::TarXz),
            "zip" => Some(Format::Zip),
            _ => None,
        }
    }

    /// The file extension, which is also the canonical name.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::TarXz => "tar.xz",
            Format::Zip => "zip",
        }
    }
}

/// Where the tree to archive comes from.
#[derive(Debug, Clone)]
pub enum SourceInput {
    /// A git revision of a repository.
    Git {
        /// Repository path.
        repo: PathBuf,
        /// Tag, branch or commit.
        rev: String,
    },
    /// A plain directory (for example an unpacked release), archived as is.
    Dir {
        /// The directory.
        path: PathBuf,
    },
}

/// Everything `build source` needs.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The tree.
    pub input: SourceInput,
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// Project name override.
    pub name: Option<String>,
    /// Version override.
    pub version: Option<String>,
    /// Top-level directory override (else `[source] prefix`, or the directory's name for
    /// directory input).
    pub prefix: Option<String>,
    /// Archive time override; git builds default to the commit time.
    pub mtime: Option<i64>,
    /// Set every time to `mtime` instead of clamping newer ones.
    pub no_clamp: bool,
    /// Formats override (else `[source] formats`).
    pub formats: Option<Vec<Format>>,
    /// `[source]` settings.
    pub source: SourceConfig,
    /// Overwrite existing outputs.
    pub force: bool,
}

/// What a build wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BuildResult {
    /// The manifest (also written to disk).
    pub manifest: Manifest,
    /// Paths of the archives written.
    pub artifacts: Vec<PathBuf>,
    /// Path of SHA256SUMS.
    pub sha256sums: PathBuf,
    /// Path of the manifest.
    pub manifest_path: PathBuf,
}

/// Errors from a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Exporting from git failed.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// Walking the tree failed.
    #[error(transparent)]
    Tree(#[from] relkit_archive::tree::TreeError),
    /// Writing an archive failed.
    #[error(transparent)]
    Write(#[from] relkit_archive::write::WriteError),
    /// A setting is invalid.
    #[error("{0}")]
    Settings(String),
    /// An output exists and `force` is off.
    #[error("{0} already exists; pass --force to overwrite it")]
    Exists(PathBuf),
    /// The output directory cannot be used.
    #[error("cannot write to output directory {path}: {source}")]
    OutDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A prepare command failed.
    #[error("prepare step `{command}` failed ({status}); nothing was written")]
    Prepare {
        /// The command.
        command: String,
        /// Its exit status or spawn error.
        status: String,
    },
}

/// Builds the source archives described by `req`: the settings checked, the input resolved
/// (a git export with its prepare steps, or a directory), the tree collected, every archive
/// written to a temporary file, then SHA256SUMS and the manifest, and all renamed into place.
pub fn build_source(req: &BuildRequest) -> Result<BuildResult, BuildError> {
    let formats = selected_formats(req)?;
    std::fs::create_dir_all(&req.out_dir).map_err(|source| BuildError::OutDir {
        path: req.out_dir.clone(),
        source,
    })?;
    let stage = tempfile::Builder::new()
        .prefix(".relkit-stage-")
        .tempdir()
        .map_err(|source| BuildError::OutDir {
            path: std::env::temp_dir(),
            source,
        })?;
    let input = match &req.input {
        SourceInput::Git { repo, rev } => resolve_git(req, repo, rev, stage.path())?,
        SourceInput::Dir { path } => resolve_dir(req, path)?,
    };
    let prefix = &input.prefix;
    if prefix.is_empty() || prefix.contains('/') || prefix == "." || prefix == ".." {
        return Err(BuildError::Settings(format!(
            "invalid top-level directory name {prefix:?}"
        )));
    }
    let tree_opts = TreeOptions {
        prefix: Some(prefix.clone().into_bytes()),
        mtime: input.mtime.map(Timestamp::from_secs),
        clamp: !req.no_clamp,
        mode: ModePolicy::GoPlusUGoMinusW,
        exclude: req.source.exclude.clone(),
    };
    let entries = collect_tree(&input.root, &tree_opts)?;
    let outputs = planned_outputs(req, prefix, &formats)?;
    let written = write_archives(req, &entries, prefix, &outputs.archives, input.mtime)?;
    let manifest = Manifest {
        schema: SCHEMA.into(),
        relkit_version: env!("CARGO_PKG_VERSION").into(),
        source: input.record,
        settings: ManifestSettings {
            name: input.name,
            version: input.version,
            prefix: input.prefix,
            mtime: input.mtime,
            clamp_mtime: !req.no_clamp,
            mode_policy: ModePolicy::GoPlusUGoMinusW,
            exclude: req.source.exclude.clone(),
            prepare: req.source.prepare.clone(),
            gzip_level: req.source.gzip_level,
            xz_preset: req.source.xz_preset,
            formats: formats.iter().map(|f| f.extension().to_string()).collect(),
            submodules: req.source.submodules,
        },
        tar: written.tar_record,
        artifacts: written.records,
        members: entries.len(),
    };
    let artifacts = put_in_place(req, &manifest, written.files, &outputs)?;
    Ok(BuildResult {
        manifest,
        artifacts,
        sha256sums: outputs.sums,
        manifest_path: outputs.manifest,
    })
}

/// The archive formats asked for (the request's, else `[source] formats`), and the
/// compression settings checked.
fn selected_formats(req: &BuildRequest) -> Result<Vec<Format>, BuildError> {
    let formats: Vec<Format> = match &req.formats {
        Some(f) => f.clone(),
        None => req
            .source
            .formats
            .iter()
            .map(|s| {
                Format::parse(s).ok_or_else(|| {
                    BuildError::Settings(format!(
                        "unknown format {s:?} in [source] formats; use tar.gz, tar.xz, zip or tar"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if formats.is_empty() {
        return Err(BuildError::Settings("no archive formats selected".into()));
    }
    if !(1..=9).contains(&req.source.gzip_level) || req.source.xz_preset > 9 {
        return Err(BuildError::Settings(
            "gzip_level must be 1-9 and xz_preset 0-9".into(),
        ));
    }
    Ok(formats)
}

/// The tree to archive and what the manifest says about it.
struct ResolvedInput {
    root: PathBuf,
    record: ManifestSource,
    name: String,
    version: String,
    prefix: String,
    mtime: Option<i64>,
}

/// A git revision exported into `stage`, its prepare steps run there.
fn resolve_git(
    req: &BuildRequest,
    repo: &Path,
    rev: &str,
    stage: &Path,
) -> Result<ResolvedInput, BuildError> {
    let name = req.name.clone().unwrap_or_else(|| {
        dir_name(&std::fs::canonicalize(repo).unwrap_or_else(|_| repo.to_path_buf()))
    });
    let export_dir = stage.join("tree");
    let exported = export_rev(
        repo,
        rev,
        &export_dir,
        &ExportOptions {
            submodules: req.source.submodules,
        },
    )?;
    let version = req
        .version
        .clone()
        .unwrap_or_else(|| version_from_rev(rev, &exported.commit));
    let prefix = expand_prefix(
        req.prefix.as_deref().unwrap_or(&req.source.prefix),
        &name,
        &version,
    );
    let mtime = req.mtime.unwrap_or(exported.commit_time);
    run_prepare(&req.source.prepare, &export_dir, mtime)?;
    let record = ManifestSource::Git {
        rev: rev.to_string(),
        commit: exported.commit.clone(),
        commit_time: exported.commit_time,
        omitted_submodules: exported.omitted_submodules.clone(),
        included_submodules: exported.included_submodules.clone(),
    };
    Ok(ResolvedInput {
        root: export_dir,
        record,
        name,
        version,
        prefix,
        mtime: Some(mtime),
    })
}

/// A plain directory, archived as it is.
fn resolve_dir(req: &BuildRequest, path: &Path) -> Result<ResolvedInput, BuildError> {
    if !req.source.prepare.is_empty() {
        return Err(BuildError::Settings(
            "prepare steps only run on git exports; run them yourself before archiving a directory"
                .into(),
        ));
    }
    let meta = std::fs::metadata(path).map_err(|source| relkit_archive::tree::TreeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(BuildError::Settings(format!(
            "{} is not a directory",
            path.display()
        )));
    }
    let base = dir_name(&std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
    let name = req.name.clone().unwrap_or_else(|| base.clone());
    let version = req.version.clone().unwrap_or_default();
    let prefix = match &req.prefix {
        Some(p) => expand_prefix(p, &name, &version),
        None => base,
    };
    Ok(ResolvedInput {
        root: path.to_path_buf(),
        record: ManifestSource::Dir {
            path: path.to_path_buf(),
        },
        name,
        version,
        prefix,
        mtime: req.mtime,
    })
}

/// Where each output goes.
struct PlannedOutputs {
    /// Each archive's format and final path, in the order of the formats.
    archives: Vec<(Format, PathBuf)>,
    /// SHA256SUMS.
    sums: PathBuf,
    /// The manifest.
    manifest: PathBuf,
}

/// The outputs' paths; refused when one exists and `force` is off.
fn planned_outputs(
    req: &BuildRequest,
    prefix: &str,
    formats: &[Format],
) -> Result<PlannedOutputs, BuildError> {
    let archives: Vec<(Format, PathBuf)> = formats
        .iter()
        .map(|f| (*f, req.out_dir.join(format!("{prefix}.{}", f.extension()))))
        .collect();
    let sums = req.out_dir.join("SHA256SUMS");
    let manifest = req.out_dir.join(MANIFEST_FILE);
    if !req.force {
        for path in archives.iter().map(|(_, p)| p).chain([&sums, &manifest]) {
            if path.exists() {
                return Err(BuildError::Exists(path.clone()));
            }
        }
    }
    Ok(PlannedOutputs {
        archives,
        sums,
        manifest,
    })
}

/// A temporary file in `dir`, renamed into place once every output is complete.
fn temp_in(dir: &Path) -> Result<NamedTempFile, BuildError> {
    NamedTempFile::with_prefix_in(".relkit-", dir).map_err(|source| BuildError::OutDir {
        path: dir.to_path_buf(),
        source,
    })
}

/// The archives written to temporary files, with their records.
struct WrittenArchives {
    /// The uncompressed tar stream's record (when a tar format was asked for).
    tar_record: Option<ArtifactRecord>,
    /// One record per archive, sorted by name.
    records: Vec<ArtifactRecord>,
    /// Each temporary file and its final path.
    files: Vec<(NamedTempFile, PathBuf)>,
}

/// Writes every archive of `planned`: the tar stream once, compressed into each tar format,
/// while the zip is written on another thread.
fn write_archives(
    req: &BuildRequest,
    entries: &[relkit_archive::Entry],
    prefix: &str,
    planned: &[(Format, PathBuf)],
    mtime: Option<i64>,
) -> Result<WrittenArchives, BuildError> {
    let tar_opts = TarOptions {
        pax_header_mtime: mtime.map(Timestamp::from_secs),
    };
    let mut tar_outputs = Vec::new();
    let mut tar_files = Vec::new();
    let mut zip_file = None;
    for (format, path) in planned {
        let tmp = temp_in(&req.out_dir)?;
        let compression = match format {
            Format::Tar => Compression::None,
            Format::TarGz => Compression::Gzip {
                level: req.source.gzip_level,
            },
            Format::TarXz => Compression::Xz {
                preset: req.source.xz_preset,
            },
            Format::Zip => {
                zip_file = Some((tmp, path.clone()));
                continue;
            }
        };
        let handle = tmp.reopen().map_err(|source| BuildError::OutDir {
            path: req.out_dir.clone(),
            source,
        })?;
        tar_outputs.push((compression, handle));
        tar_files.push((*format, tmp, path.clone()));
    }

    let (tar_result, zip_result) = std::thread::scope(|scope| {
        let zip = zip_file.as_mut().map(|(tmp, _)| {
            let file = tmp.as_file_mut();
            scope.spawn(move || -> Result<(u64, [u8; 32]), BuildError> {
                let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut *file);
                write_zip(entries, &mut out).map_err(BuildError::from)?;
                out.flush()
                    .map_err(relkit_archive::write::WriteError::from)?;
                drop(out);
                file.sync_all()
                    .map_err(relkit_archive::write::WriteError::from)?;
                hash_file(file)
            })
        });
        let tar = if tar_outputs.is_empty() {
            None
        } else {
            Some(compress_tar(entries, &tar_opts, tar_outputs).map_err(BuildError::from))
        };
        let zip = zip.map(|h| h.join().expect("zip writer thread panicked"));
        (tar, zip)
    });

    let mut written = WrittenArchives {
        tar_record: None,
        records: Vec::new(),
        files: Vec::new(),
    };
    if let Some(result) = tar_result {
        let result = result?;
        written.tar_record = Some(ArtifactRecord {
            name: format!("{prefix}.tar"),
            format: "tar".into(),
            size: result.tar.size,
            sha256: hex::encode(result.tar.sha256),
        });
        for ((format, tmp, path), out) in tar_files.into_iter().zip(result.outputs) {
            written.records.push(ArtifactRecord {
                name: file_name(&path),
                format: format.extension().into(),
                size: out.size,
                sha256: hex::encode(out.sha256),
            });
            written.files.push((tmp, path));
        }
    }
    if let (Some(result), Some((tmp, path))) = (zip_result, zip_file) {
        let (size, sha256) = result?;
        written.records.push(ArtifactRecord {
            name: file_name(&path),
            format: "zip".into(),
            size,
            sha256: hex::encode(sha256),
        });
        written.files.push((tmp, path));
    }
    written.records.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(written)
}

/// Writes SHA256SUMS and the manifest to temporary files, then renames every output into
/// place (0644); returns the archives' paths.
fn put_in_place(
    req: &BuildRequest,
    manifest: &Manifest,
    mut finals: Vec<(NamedTempFile, PathBuf)>,
    outputs: &PlannedOutputs,
) -> Result<Vec<PathBuf>, BuildError> {
    let sums: Vec<(String, [u8; 32])> = manifest
        .artifacts
        .iter()
        .map(|r| {
            let mut digest = [0u8; 32];
            hex::decode_to_slice(&r.sha256, &mut digest).expect("we encoded it");
            (r.name.clone(), digest)
        })
        .collect();
    let mut sums_tmp = temp_in(&req.out_dir)?;
    let mut manifest_tmp = temp_in(&req.out_dir)?;
    let write_err = |source| BuildError::OutDir {
        path: req.out_dir.clone(),
        source,
    };
    sums_tmp
        .write_all(write_sums(&sums).as_bytes())
        .map_err(write_err)?;
    let json = serde_json::to_string_pretty(manifest).expect("manifest serializes") + "\n";
    manifest_tmp.write_all(json.as_bytes()).map_err(write_err)?;
    finals.push((sums_tmp, outputs.sums.clone()));
    finals.push((manifest_tmp, outputs.manifest.clone()));

    let mut artifacts = Vec::new();
    for (tmp, path) in finals {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(write_err)?;
        tmp.persist(&path).map_err(|e| BuildError::OutDir {
            path: path.clone(),
            source: e.error,
        })?;
        if path != outputs.sums && path != outputs.manifest {
            artifacts.push(path);
        }
    }
    Ok(artifacts)
}

fn hash_file(file: &mut File) -> Result<(u64, [u8; 32]), BuildError> {
    use sha2::{Digest, Sha256};
    use std::io::{Seek, SeekFrom};
    let mut hasher = Sha256::new();
    file.seek(SeekFrom::Start(0))
        .map_err(relkit_archive::write::WriteError::from)?;
    let size = std::io::copy(file, &mut hasher).map_err(relkit_archive::write::WriteError::from)?;
    Ok((size, hasher.finalize().into()))
}

fn run_prepare(commands: &[String], dir: &Path, mtime: i64) -> Result<(), BuildError> {
    for command in commands {
        let status = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", mtime.to_string())
            .env("TZ", "UTC")
            .env("LC_ALL", "C.UTF-8")
            .status()
            .map_err(|e| BuildError::Prepare {
                command: command.clone(),
                status: e.to_string(),
            })?;
        if !status.success() {
            return Err(BuildError::Prepare {
                command: command.clone(),
                status: status.to_string(),
            });
        }
    }
    Ok(())
}

fn dir_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "source".into())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `v3.13.5` → `3.13.5`; a revision that is not a version-like tag gives the short commit id.
pub fn version_from_rev(rev: &str, commit: &str) -> String {
    let tag = rev.strip_prefix("refs/tags/").unwrap_or(rev);
    let stripped = tag.strip_prefix('v').unwrap_or(tag);
    if stripped.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        stripped.to_string()
    } else {
        commit.chars().take(12).collect()
    }
}

fn expand_prefix(template: &str, name: &str, version: &str) -> String {
    template
        .replace("{name}", name)
        .replace("{version}", version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_comes_from_version_like_tags() {
        assert_eq!(version_from_rev("v3.13.5", "abc"), "3.13.5");
        assert_eq!(version_from_rev("refs/tags/5.8.1", "abc"), "5.8.1");
        assert_eq!(version_from_rev("main", "0123456789abcdef"), "0123456789ab");
    }

    #[test]
    fn formats_parse_with_aliases() {
        assert_eq!(Format::parse("tgz"), Some(Format::TarGz));
        assert_eq!(Format::parse(".tar.xz"), Some(Format::TarXz));
        assert_eq!(Format::parse("rar"), None);
    }
}
