//! The bundled sample project: a small C project written as a real git repository with
//! gitoxide (no `git` binary), used by `relkit demo` and by tests.
//!
//! It has what a source release must get right: an executable file, a symbolic link, a
//! nested directory, a name longer than 100 bytes, a non-ASCII name, an
//! `export-ignore`d directory, a `relkit.toml`, and a vendored library (xz 5.6.1's version
//! header) declared in an in-tree SBOM, `Misc/sbom.spdx.json`, as CPython declares its own.

use std::path::Path;

use gix::bstr::BString;
use gix::objs::tree::{Entry, EntryKind};

/// The tag the sample's release commit carries.
pub const SAMPLE_TAG: &str = "v1.0.0";
/// Committer time of the sample's release commit (2024-03-29T12:00:00Z).
pub const SAMPLE_TIME: i64 = 1_711_713_600;

/// A file of the sample tree: path, content, executable.
type SampleFile = (&'static str, &'static [u8], bool);

const FILES: &[SampleFile] = &[
    ("README.md", include_bytes!("../sample/README.md"), false),
    ("hello.c", include_bytes!("../sample/hello.c"), false),
    (
        "include/version.h",
        include_bytes!("../sample/version.h"),
        false,
    ),
    ("configure", include_bytes!("../sample/configure"), true),
    ("Makefile", include_bytes!("../sample/Makefile"), false),
    (
        ".gitattributes",
        include_bytes!("../sample/gitattributes"),
        false,
    ),
    (
        "relkit.toml",
        include_bytes!("../sample/relkit.toml"),
        false,
    ),
    (
        "vendor/xz/lzma/version.h",
        include_bytes!("../sample/xz-version.h"),
        false,
    ),
    (
        "Misc/sbom.spdx.json",
        include_bytes!("../sample/sbom.spdx.json"),
        false,
    ),
    ("ci/build.yml", b"steps: [make]\n", false),
    (
        "docs/café.txt",
        b"non-ASCII names are kept exactly\n",
        false,
    ),
    (
        "tests/data/a-rather-long-directory-name-for-the-ustar-name-field/and-a-file-name-that-pushes-it-past-one-hundred-bytes.txt",
        b"long names need a PAX path record\n",
        false,
    ),
];

/// Errors creating the sample repository.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the sample repository in {path}: {message}")]
pub struct SampleError {
    /// Where it was being created.
    pub path: std::path::PathBuf,
    /// What failed.
    pub message: String,
}

/// Writes the sample project as a git repository (with a work tree) in `dir` and tags
/// its commit [`SAMPLE_TAG`]; returns the commit id.
pub fn create_sample_repo(dir: &Path) -> Result<String, SampleError> {
    let fail = |e: &dyn std::fmt::Display| SampleError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let repo = gix::init(dir).map_err(|e| fail(&e))?;
    let mut files: Vec<(Vec<&str>, gix::ObjectId, EntryKind)> = Vec::new();
    for (path, content, exec) in FILES {
        let id = repo.write_blob(content).map_err(|e| fail(&e))?.detach();
        let kind = if *exec {
            EntryKind::BlobExecutable
        } else {
            EntryKind::Blob
        };
        files.push((path.split('/').collect(), id, kind));
        let on_disk = dir.join(path);
        if let Some(parent) = on_disk.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        std::fs::write(&on_disk, content).map_err(|e| fail(&e))?;
        if *exec {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&on_disk, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| fail(&e))?;
        }
    }
    std::os::unix::fs::symlink("include/version.h", dir.join("version.h")).map_err(|e| fail(&e))?;
    let link = repo
        .write_blob(b"include/version.h")
        .map_err(|e| fail(&e))?
        .detach();
    files.push((vec!["version.h"], link, EntryKind::Link));
    let tree = write_tree(&repo, &files, 0).map_err(|e| fail(&e))?;

    let signature = gix::actor::Signature {
        name: "Release Manager".into(),
        email: "rm@example.org".into(),
        time: gix::date::Time {
            seconds: SAMPLE_TIME,
            offset: 0,
        },
    };
    let mut time_buf = gix::date::parse::TimeBuf::default();
    let sig = signature.to_ref(&mut time_buf);
    let commit = repo
        .commit_as(
            sig,
            sig,
            "HEAD",
            "hello 1.0.0",
            tree,
            Vec::<gix::ObjectId>::new(),
        )
        .map_err(|e| fail(&e))?
        .detach();
    repo.tag_reference(
        SAMPLE_TAG,
        commit,
        gix::refs::transaction::PreviousValue::MustNotExist,
    )
    .map_err(|e| fail(&e))?;
    // An index matching the commit, so `git status` sees a clean checkout.
    let mut index = repo.index_from_tree(&tree).map_err(|e| fail(&e))?;
    index
        .write(gix::index::write::Options::default())
        .map_err(|e| fail(&e))?;
    Ok(commit.to_string())
}

/// Writes the tree for the files whose path components at `depth` share a directory.
fn write_tree(
    repo: &gix::Repository,
    files: &[(Vec<&str>, gix::ObjectId, EntryKind)],
    depth: usize,
) -> Result<gix::ObjectId, Box<dyn std::error::Error + Send + Sync>> {
    let mut entries = Vec::new();
    let mut dirs: Vec<&str> = Vec::new();
    for (parts, id, kind) in files {
        if parts.len() == depth + 1 {
            entries.push(Entry {
                mode: (*kind).into(),
                filename: BString::from(parts[depth]),
                oid: *id,
            });
        } else if !dirs.contains(&parts[depth]) {
            dirs.push(parts[depth]);
        }
    }
    for dir in dirs {
        let below: Vec<_> = files
            .iter()
            .filter(|(parts, _, _)| parts.len() > depth + 1 && parts[depth] == dir)
            .cloned()
            .collect();
        let id = write_tree(repo, &below, depth + 1)?;
        entries.push(Entry {
            mode: EntryKind::Tree.into(),
            filename: BString::from(dir),
            oid: id,
        });
    }
    entries.sort();
    Ok(repo.write_object(gix::objs::Tree { entries })?.detach())
}
