//! A local (bare or not) git repository of advisories read with gix: the tree of HEAD, no
//! network transport and no `git` process. Its advisory files are written to a temporary
//! directory for the importer; the commit id tells whether anything changed.

use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice;
use relkit_vuln::input::kind_of;

use crate::error::ErrorKind;

/// The commit HEAD points to.
pub fn head(repo_path: &Path) -> Result<(gix::Repository, ObjectId), ErrorKind> {
    let repo = gix::open_opts(repo_path, gix::open::Options::isolated())
        .map_err(|e| ErrorKind::Git(format!("cannot open the git repository: {e}")))?;
    let id = repo
        .head_commit()
        .map_err(|e| ErrorKind::Git(format!("cannot read HEAD's commit: {e}")))?
        .id;
    Ok((repo, id))
}

/// Writes the documents of `commit`'s tree (the files the importer reads: JSON, YAML,
/// markdown) under `out`, same relative paths; returns how many. They are verified by the
/// import that reads them (relkit-vuln's `SourceImport::verify`), in one pass.
pub fn export(repo: &gix::Repository, commit: ObjectId, out: &Path) -> Result<u64, ErrorKind> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree_id())
        .map_err(|e| ErrorKind::Git(format!("cannot read commit {commit}: {e}")))?;
    let mut documents = 0;
    walk(repo, tree.detach(), "", out, &mut documents)?;
    if documents == 0 {
        return Err(ErrorKind::Empty);
    }
    Ok(documents)
}

fn walk(
    repo: &gix::Repository,
    tree: ObjectId,
    prefix: &str,
    out: &Path,
    documents: &mut u64,
) -> Result<(), ErrorKind> {
    let t = repo
        .find_tree(tree)
        .map_err(|e| ErrorKind::Git(format!("cannot read tree {tree}: {e}")))?;
    let decoded = t
        .decode()
        .map_err(|e| ErrorKind::Git(format!("cannot decode tree {tree}: {e}")))?;
    let entries: Vec<(String, bool, bool, ObjectId)> = decoded
        .entries
        .iter()
        .map(|e| {
            (
                e.filename.to_str_lossy().into_owned(),
                e.mode.is_tree(),
                e.mode.is_blob(),
                e.oid.to_owned(),
            )
        })
        .collect();
    for (name, is_tree, is_blob, id) in entries {
        if name.contains(['/', '\\']) || name == ".." || name == "." {
            return Err(ErrorKind::Git(format!(
                "tree {tree} has an unsafe entry name {name:?}"
            )));
        }
        let path = format!("{prefix}{name}");
        if is_tree {
            walk(repo, id, &format!("{path}/"), out, documents)?;
            continue;
        }
        if !is_blob || kind_of(&path).is_none() {
            continue;
        }
        let blob = repo
            .find_blob(id)
            .map_err(|e| ErrorKind::Git(format!("cannot read blob {id} ({path}): {e}")))?;
        *documents += 1;
        let dest = out.join(&path);
        let io = |source| ErrorKind::Io {
            path: dest.display().to_string(),
            source,
        };
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&dest, &blob.data).map_err(io)?;
    }
    Ok(())
}
