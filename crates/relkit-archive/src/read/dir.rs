//! The directory reader: walks a tree without following symlinks (a symlink loop is just
//! symlinks), in byte-wise name order, and reads permissions, mtime and numeric owners
//! from `lstat`. Owner names are not looked up (no passwd access); see the diff docs.

use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Error, Flow, Member, MemberKind, Visit};

/// Walks `root` depth-first in sorted order, visiting every object below it.
pub(crate) fn walk(root: &Path, visitor: &mut dyn Visit) -> Result<(), Error> {
    let io_err = |path: &Path, source: io::Error| Error::Io {
        path: path.display().to_string(),
        source,
    };
    // Stack of (absolute path, relative path bytes), processed in sorted order.
    let mut stack: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    push_children(root, &[], &mut stack).map_err(|e| io_err(root, e))?;
    while let Some((abs, rel)) = stack.pop() {
        let meta = fs::symlink_metadata(&abs).map_err(|e| io_err(&abs, e))?;
        let ft = meta.file_type();
        let kind = if ft.is_symlink() {
            MemberKind::Symlink
        } else if ft.is_dir() {
            MemberKind::Dir
        } else if ft.is_file() {
            MemberKind::File
        } else {
            use std::os::unix::fs::FileTypeExt;
            MemberKind::Other(
                if ft.is_fifo() {
                    "fifo"
                } else if ft.is_char_device() {
                    "char-device"
                } else if ft.is_block_device() {
                    "block-device"
                } else {
                    "socket"
                }
                .into(),
            )
        };
        let mut m = Member::new(rel.clone(), kind.clone());
        m.mode = Some(meta.mode() & 0o7777);
        m.mtime = meta.mtime();
        m.uid = Some(u64::from(meta.uid()));
        m.gid = Some(u64::from(meta.gid()));
        let flow = match kind {
            MemberKind::File => {
                m.size = meta.len();
                let mut f = File::open(&abs).map_err(|e| io_err(&abs, e))?;
                visitor.visit(m, &mut f).map_err(|e| io_err(&abs, e))?
            }
            MemberKind::Symlink => {
                let target = fs::read_link(&abs).map_err(|e| io_err(&abs, e))?;
                m.link_target = Some(target.as_os_str().as_bytes().to_vec());
                visitor
                    .visit(m, &mut io::empty())
                    .map_err(|e| io_err(&abs, e))?
            }
            MemberKind::Dir => {
                let flow = visitor
                    .visit(m, &mut io::empty())
                    .map_err(|e| io_err(&abs, e))?;
                push_children(&abs, &rel, &mut stack).map_err(|e| io_err(&abs, e))?;
                flow
            }
            _ => visitor
                .visit(m, &mut io::empty())
                .map_err(|e| io_err(&abs, e))?,
        };
        if let Flow::Stop = flow {
            break;
        }
    }
    Ok(())
}

/// Pushes the children of `dir` so that they pop in ascending byte order.
fn push_children(dir: &Path, rel: &[u8], stack: &mut Vec<(PathBuf, Vec<u8>)>) -> io::Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for name in names.into_iter().rev() {
        let mut child_rel = rel.to_vec();
        if !child_rel.is_empty() {
            child_rel.push(b'/');
        }
        child_rel.extend_from_slice(name.as_bytes());
        stack.push((dir.join(&name), child_rel));
    }
    Ok(())
}
