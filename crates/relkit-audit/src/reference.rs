//! The reference side of a tarball audit: the files of the tag (streamed from git, nothing
//! written to disk) or of a directory holding an export, each with its SHA-256, and their
//! content read back for the few files a report diffs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use relkit_archive::read::{MemberKind, read_path};
use relkit_source::{ExportOptions, RevFileKind};
use sha2::{Digest, Sha256};

use crate::error::{Result, io};

/// One file or link of the reference.
#[derive(Debug, Clone)]
pub(crate) struct RefEntry {
    /// File or symlink.
    pub kind: MemberKind,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content (files).
    pub sha256: Option<[u8; 32]>,
    /// The target (symlinks).
    pub link_target: Option<Vec<u8>>,
    /// The git blob id (git references).
    blob: Option<String>,
}

/// Where the reference's content lives.
#[derive(Debug, Clone)]
enum Source {
    /// A revision of a repository.
    Git { repo: PathBuf, rev: String },
    /// A directory.
    Dir(PathBuf),
}

/// Every file and link of the reference by path (directories left out).
#[derive(Debug, Clone)]
pub(crate) struct RefTree {
    /// The entries by `/`-separated path.
    pub entries: BTreeMap<String, RefEntry>,
    /// The commit a git revision resolved to.
    pub commit: Option<String>,
    /// That commit's tree id.
    pub tree_id: Option<String>,
    source: Source,
    /// The repository and revision, when the reference is a git revision (also when its
    /// content was exported to a directory for `--regenerate`).
    git: Option<(PathBuf, String)>,
}

impl RefTree {
    /// Streams `rev` of `repo` as `git archive` would write it (export-ignore and
    /// `.gitattributes` conversions applied), hashing each file, without writing anything.
    pub fn from_git(repo: &Path, rev: &str) -> Result<RefTree> {
        let mut entries = BTreeMap::new();
        let exported =
            relkit_source::walk_rev(repo, rev, &ExportOptions::default(), &mut |file| {
                let (kind, sha256, link_target) = match file.kind {
                    RevFileKind::Dir => return Ok(()),
                    RevFileKind::Symlink => {
                        (MemberKind::Symlink, None, Some(file.content.to_vec()))
                    }
                    RevFileKind::File | RevFileKind::Executable => (
                        MemberKind::File,
                        Some(Sha256::digest(file.content).into()),
                        None,
                    ),
                };
                entries.insert(
                    String::from_utf8_lossy(file.path).into_owned(),
                    RefEntry {
                        kind,
                        size: file.content.len() as u64,
                        sha256,
                        link_target,
                        blob: Some(file.id.to_string()),
                    },
                );
                Ok(())
            })?;
        Ok(RefTree {
            entries,
            commit: Some(exported.commit),
            tree_id: Some(exported.tree),
            source: Source::Git {
                repo: repo.to_path_buf(),
                rev: rev.to_string(),
            },
            git: Some((repo.to_path_buf(), rev.to_string())),
        })
    }

    /// Reads the export in `dir`.
    pub fn from_dir(dir: &Path) -> Result<RefTree> {
        let tree = read_path(dir)?;
        let entries = tree
            .members
            .into_iter()
            .filter(|m| m.kind != MemberKind::Dir)
            .map(|m| {
                (
                    String::from_utf8_lossy(&m.path).into_owned(),
                    RefEntry {
                        kind: m.kind,
                        size: m.size,
                        sha256: m.sha256,
                        link_target: m.link_target,
                        blob: None,
                    },
                )
            })
            .collect();
        Ok(RefTree {
            entries,
            commit: None,
            tree_id: None,
            source: Source::Dir(dir.to_path_buf()),
            git: None,
        })
    }

    /// The export in `dir` of `rev` of `repo` (what [`relkit_source::export_rev`] said).
    pub fn from_export(
        dir: &Path,
        repo: &Path,
        rev: &str,
        exported: relkit_source::Exported,
    ) -> Result<RefTree> {
        let mut tree = RefTree::from_dir(dir)?;
        tree.commit = Some(exported.commit);
        tree.tree_id = Some(exported.tree);
        tree.git = Some((repo.to_path_buf(), rev.to_string()));
        Ok(tree)
    }

    /// The subject of every commit in the history of a git reference (`None` for a
    /// directory).
    pub fn commit_subjects(&self) -> Result<Option<HashMap<String, String>>> {
        match &self.git {
            Some((repo, rev)) => Ok(Some(relkit_source::commit_subjects(repo, rev)?)),
            None => Ok(None),
        }
    }

    /// The content of each of `paths` (files of the reference), as compared: from the
    /// directory, or the git blob when it is the exported content (no conversion applied),
    /// else from a second stream of the revision.
    pub fn contents(&self, paths: &BTreeSet<String>) -> Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        match &self.source {
            Source::Dir(dir) => {
                for p in paths {
                    let file = dir.join(p);
                    out.insert(p.clone(), std::fs::read(&file).map_err(io(&file))?);
                }
            }
            Source::Git { repo, rev } => {
                let mut converted = BTreeSet::new();
                for p in paths {
                    let Some(entry) = self.entries.get(p) else {
                        continue;
                    };
                    let raw = match &entry.blob {
                        Some(id) => relkit_source::read_blob(repo, id).ok(),
                        None => None,
                    };
                    match raw {
                        Some(raw)
                            if Some(<[u8; 32]>::from(Sha256::digest(&raw))) == entry.sha256 =>
                        {
                            out.insert(p.clone(), raw);
                        }
                        _ => {
                            converted.insert(p.as_bytes().to_vec());
                        }
                    }
                }
                if !converted.is_empty() {
                    relkit_source::walk_rev(repo, rev, &ExportOptions::default(), &mut |file| {
                        if converted.contains(file.path) {
                            out.insert(
                                String::from_utf8_lossy(file.path).into_owned(),
                                file.content.to_vec(),
                            );
                        }
                        Ok(())
                    })?;
                }
            }
        }
        Ok(out)
    }
}
