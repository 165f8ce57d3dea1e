//! Extracting an archive into a directory, on top of the one streaming reader
//! ([`crate::read::walk_path`]): every format the reader knows (tar, .tar.gz/.xz/.bz2/.zst,
//! zip, a directory), with the reader's limits and path checks (no absolute or `..` member
//! path ever reaches this module).
//!
//! What this module adds is the writing side, done safely: nothing is written outside the
//! destination. A member is never written through a symlink that leads out of it (each
//! directory on the way is checked, an existing file or symlink at the member's own path is
//! replaced, never followed), a symlink whose target is absolute or climbs out of the
//! destination is refused, and a hard link must name a regular file extracted before it.
//! Files get their permission bits (without set-id bits) and modification times, so a build
//! in the extracted tree sees what the archive holds; directories get theirs at the end, so
//! that a read-only directory does not stop its own members from being written.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::read::{self, Flow, Member, MemberKind, Visit};

/// Why an archive could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The archive could not be read (corrupt, unknown format, unsafe member path, limits).
    #[error(transparent)]
    Read(#[from] read::Error),
    /// A member would be written outside the destination, or through a link.
    #[error("{archive}: member '{member}' {reason}; nothing is written outside {dest}")]
    Escape {
        /// The archive.
        archive: String,
        /// The member path.
        member: String,
        /// Why.
        reason: String,
        /// The destination directory.
        dest: PathBuf,
    },
    /// A file or directory could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The path being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What an extraction wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// Regular files written (hard links included).
    pub files: usize,
    /// Directories created or kept.
    pub dirs: usize,
    /// Symlinks created.
    pub symlinks: usize,
    /// Members not written because they are not files, directories or links (devices,
    /// FIFOs, sockets), by path.
    pub skipped: Vec<String>,
}

/// Extracts `archive` (any format the reader detects) into `dest`, which is created when it
/// does not exist. Existing files at members' paths are replaced.
pub fn extract_path(archive: &Path, dest: &Path) -> Result<Extracted, ExtractError> {
    std::fs::create_dir_all(dest).map_err(|source| ExtractError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    let root = std::fs::canonicalize(dest).map_err(|source| ExtractError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    let mut writer = Writer {
        archive: archive.display().to_string(),
        dest: dest.to_path_buf(),
        root,
        done: Extracted::default(),
        dir_times: Vec::new(),
        failure: None,
    };
    let walked = read::walk_path(archive, &mut writer);
    if let Some(e) = writer.failure.take() {
        return Err(e);
    }
    walked?;
    writer.finish_dirs()?;
    Ok(writer.done)
}

/// The visitor writing members under `root`.
struct Writer {
    archive: String,
    dest: PathBuf,
    /// `dest`, canonical.
    root: PathBuf,
    done: Extracted,
    /// Directories with their mode and time, applied once everything is written.
    dir_times: Vec<(PathBuf, Option<u32>, i64)>,
    /// The error that stopped the walk (the reader only sees an I/O error).
    failure: Option<ExtractError>,
}

impl Visit for Writer {
    fn visit(&mut self, member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        match self.write(&member, content) {
            Ok(()) => Ok(Flow::Continue),
            Err(e) => {
                let message = e.to_string();
                self.failure = Some(e);
                Err(std::io::Error::other(message))
            }
        }
    }
}

/// The member path as a relative path of normal components (the reader has refused absolute
/// and `..` paths already; this is checked again rather than assumed).
fn relative(member: &Member) -> Option<PathBuf> {
    let text = String::from_utf8_lossy(&member.path);
    let rel = PathBuf::from(text.as_ref());
    rel.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rel)
        .filter(|p| !p.as_os_str().is_empty())
}

/// Whether the symlink target `target`, found in directory `parent` (relative to the
/// destination), stays inside the destination when read component by component.
fn link_stays_inside(parent: &Path, target: &Path) -> bool {
    let mut depth = parent.components().count();
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

fn system_time(mtime: i64) -> SystemTime {
    if mtime >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(mtime as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(mtime.unsigned_abs())
    }
}

impl Writer {
    fn escape(&self, member: &Member, reason: impl Into<String>) -> ExtractError {
        ExtractError::Escape {
            archive: self.archive.clone(),
            member: member.display_path(),
            reason: reason.into(),
            dest: self.dest.clone(),
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExtractError + '_ {
        move |source| ExtractError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Makes sure every directory from the destination down to `rel`'s parent exists and
    /// leads nowhere outside the destination; returns the member's full path.
    fn prepare(&self, member: &Member, rel: &Path) -> Result<PathBuf, ExtractError> {
        let mut at = self.dest.clone();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                at.push(c);
                match std::fs::symlink_metadata(&at) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        // A link from the archive itself: followed only when it stays inside.
                        let real = std::fs::canonicalize(&at).map_err(Self::io(&at))?;
                        if !real.starts_with(&self.root) || !real.is_dir() {
                            return Err(self.escape(
                                member,
                                format!(
                                    "would be written through the symlink {} leading outside",
                                    at.display()
                                ),
                            ));
                        }
                    }
                    Ok(meta) if meta.is_dir() => {}
                    Ok(_) => {
                        return Err(self.escape(
                            member,
                            format!("has {} as a directory, but it is a file", at.display()),
                        ));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        std::fs::create_dir(&at).map_err(Self::io(&at))?;
                    }
                    Err(e) => return Err(Self::io(&at)(e)),
                }
            }
        }
        Ok(at.join(
            rel.file_name()
                .expect("a relative path of normal components"),
        ))
    }

    /// Removes whatever non-directory sits at `path`, so that it is replaced, never followed.
    fn clear(path: &Path) -> Result<(), ExtractError> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).map_err(Self::io(path)),
            Ok(_) => std::fs::remove_file(path).map_err(Self::io(path)),
            Err(_) => Ok(()),
        }
    }

    fn write(&mut self, member: &Member, content: &mut dyn Read) -> Result<(), ExtractError> {
        let rel = relative(member)
            .ok_or_else(|| self.escape(member, "has a path that is not relative"))?;
        let path = self.prepare(member, &rel)?;
        match &member.kind {
            MemberKind::Dir => self.write_dir(member, &path),
            MemberKind::File => self.write_file(member, &path, content),
            MemberKind::Symlink => self.write_symlink(member, &rel, &path),
            MemberKind::Hardlink => self.write_hardlink(member, &path),
            MemberKind::Other(_) => {
                self.done.skipped.push(member.display_path());
                Ok(())
            }
        }
    }

    fn write_dir(&mut self, member: &Member, path: &Path) -> Result<(), ExtractError> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                Self::clear(path)?;
                std::fs::create_dir(path).map_err(Self::io(path))?;
            }
            Err(_) => std::fs::create_dir(path).map_err(Self::io(path))?,
        }
        self.dir_times
            .push((path.to_path_buf(), member.mode, member.mtime));
        self.done.dirs += 1;
        Ok(())
    }

    fn write_file(
        &mut self,
        member: &Member,
        path: &Path,
        content: &mut dyn Read,
    ) -> Result<(), ExtractError> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        Self::clear(path)?;
        let mode = member.mode.unwrap_or(0o644) & 0o777;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(Self::io(path))?;
        std::io::copy(content, &mut file).map_err(Self::io(path))?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(Self::io(path))?;
        file.set_modified(system_time(member.mtime))
            .map_err(Self::io(path))?;
        self.done.files += 1;
        Ok(())
    }

    fn write_symlink(
        &mut self,
        member: &Member,
        rel: &Path,
        path: &Path,
    ) -> Result<(), ExtractError> {
        let target = PathBuf::from(
            String::from_utf8_lossy(member.link_target.as_deref().unwrap_or_default()).as_ref(),
        );
        let parent = rel.parent().unwrap_or(Path::new(""));
        if target.as_os_str().is_empty() || !link_stays_inside(parent, &target) {
            return Err(self.escape(
                member,
                format!(
                    "is a symlink to {}, which leads outside the destination",
                    target.display()
                ),
            ));
        }
        Self::clear(path)?;
        std::os::unix::fs::symlink(&target, path).map_err(Self::io(path))?;
        self.done.symlinks += 1;
        Ok(())
    }

    fn write_hardlink(&mut self, member: &Member, path: &Path) -> Result<(), ExtractError> {
        let target = member
            .link_target
            .as_deref()
            .map(|t| PathBuf::from(String::from_utf8_lossy(t).as_ref()))
            .filter(|t| t.components().all(|c| matches!(c, Component::Normal(_))))
            .ok_or_else(|| self.escape(member, "is a hard link to a path outside the archive"))?;
        let source = self.dest.join(&target);
        let real = std::fs::canonicalize(&source).ok();
        let is_file = std::fs::symlink_metadata(&source).is_ok_and(|m| m.is_file());
        if !is_file || !real.is_some_and(|r| r.starts_with(&self.root)) {
            return Err(self.escape(
                member,
                format!(
                    "is a hard link to {}, which is not a file extracted before it",
                    target.display()
                ),
            ));
        }
        Self::clear(path)?;
        std::fs::hard_link(&source, path).map_err(Self::io(path))?;
        self.done.files += 1;
        Ok(())
    }

    /// Applies the directories' modes and times, deepest first (writing into a directory
    /// changes its time).
    fn finish_dirs(&mut self) -> Result<(), ExtractError> {
        use std::os::unix::fs::PermissionsExt;
        self.dir_times
            .sort_by_key(|(p, _, _)| std::cmp::Reverse(p.components().count()));
        for (path, mode, mtime) in &self.dir_times {
            let dir = std::fs::File::open(path).map_err(Self::io(path))?;
            dir.set_modified(system_time(*mtime))
                .map_err(Self::io(path))?;
            if let Some(mode) = mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
                    .map_err(Self::io(path))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::*;

    /// A tar archive from `(path, kind, target-or-content)` triples, headers written raw so
    /// that hostile paths and link targets get in as they are.
    fn tar_of(members: &[(&str, u8, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in members {
            let mut header = tar::Header::new_ustar();
            header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_entry_type(tar::EntryType::new(*kind));
            header.set_mode(0o755);
            header.set_mtime(1_700_000_000);
            let body: &[u8] = match *kind {
                b'0' => data.as_bytes(),
                b'1' | b'2' => {
                    header.as_old_mut().linkname[..data.len()].copy_from_slice(data.as_bytes());
                    b""
                }
                _ => b"",
            };
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append(&header, body).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn extract_bytes(bytes: &[u8]) -> (tempfile::TempDir, Result<Extracted, ExtractError>) {
        let tmp = tempfile::tempdir().unwrap();
        let archive = tmp.path().join("a.tar");
        std::fs::write(&archive, bytes).unwrap();
        let dest = tmp.path().join("out");
        let result = extract_path(&archive, &dest);
        (tmp, result)
    }

    #[test]
    fn files_dirs_links_and_modes_are_written() {
        let (tmp, result) = extract_bytes(&tar_of(&[
            ("p/", b'5', ""),
            ("p/configure", b'0', "#!/bin/sh\n"),
            ("p/sub/x.c", b'0', "int x;\n"),
            ("p/link", b'2', "sub/x.c"),
            ("p/hard", b'1', "p/configure"),
        ]));
        let done = result.unwrap();
        assert_eq!((done.files, done.dirs, done.symlinks), (3, 1, 1));
        let out = tmp.path().join("out/p");
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(out.join("configure")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        assert_eq!(
            meta.modified().unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(
            std::fs::read_to_string(out.join("link")).unwrap(),
            "int x;\n"
        );
        assert_eq!(std::fs::read(out.join("hard")).unwrap(), b"#!/bin/sh\n");
    }

    #[test]
    fn path_traversal_is_refused_by_the_reader() {
        for hostile in ["../evil", "p/../../evil", "/tmp/evil"] {
            let (tmp, result) = extract_bytes(&tar_of(&[(hostile, b'0', "x")]));
            let err = result.unwrap_err();
            assert!(
                matches!(err, ExtractError::Read(read::Error::UnsafePath { .. })),
                "{hostile}: {err}"
            );
            assert!(!tmp.path().join("evil").exists());
        }
    }

    #[test]
    fn a_symlink_out_of_the_destination_is_refused() {
        for target in ["/etc", "../..", "a/../../x"] {
            let (tmp, result) = extract_bytes(&tar_of(&[
                ("escape", b'2', target),
                ("escape/passwd", b'0', "owned"),
            ]));
            let err = result.unwrap_err();
            assert!(
                matches!(err, ExtractError::Escape { .. }),
                "{target}: {err}"
            );
            assert!(err.to_string().contains("leads outside"), "{err}");
            assert!(!tmp.path().join("out/escape").exists());
        }
    }

    #[test]
    fn nothing_is_written_through_a_link_leading_out() {
        // A symlink already in the destination (say, left by a build) that leads outside:
        // a member below it is refused rather than written through it.
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let dest = tmp.path().join("out");
        std::fs::create_dir_all(&dest).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("d")).unwrap();
        let archive = tmp.path().join("a.tar");
        std::fs::write(&archive, tar_of(&[("d/file", b'0', "owned")])).unwrap();
        let err = extract_path(&archive, &dest).unwrap_err();
        assert!(matches!(err, ExtractError::Escape { .. }), "{err}");
        assert!(!outside.join("file").exists());
        // A file member replaces a link at its own path instead of writing through it.
        std::fs::write(outside.join("target"), "kept").unwrap();
        std::fs::remove_file(dest.join("d")).unwrap();
        std::os::unix::fs::symlink(outside.join("target"), dest.join("f")).unwrap();
        std::fs::write(&archive, tar_of(&[("f", b'0', "new")])).unwrap();
        extract_path(&archive, &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(outside.join("target")).unwrap(),
            "kept"
        );
        assert_eq!(std::fs::read_to_string(dest.join("f")).unwrap(), "new");
    }

    #[test]
    fn a_hard_link_to_a_missing_member_is_refused() {
        let (_tmp, result) = extract_bytes(&tar_of(&[("h", b'1', "nope")]));
        assert!(matches!(result, Err(ExtractError::Escape { .. })));
    }

    /// The same tree as GNU tar extracts from a real release tarball: every path, kind,
    /// content, link target and permission bits.
    #[test]
    fn a_real_tarball_extracts_like_gnu_tar() {
        let Some(tarball) = relkit_testkit::upstream_data("xz-utils_5.4.1.orig.tar.xz") else {
            return;
        };
        let Some(gnu_tar) = relkit_testkit::oracle("tar") else {
            return;
        };
        let tmp = tempfile::tempdir().unwrap();
        let ours = tmp.path().join("ours");
        let theirs = tmp.path().join("theirs");
        std::fs::create_dir_all(&theirs).unwrap();
        let done = extract_path(&tarball, &ours).unwrap();
        assert!(done.files > 500, "{done:?}");
        relkit_testkit::run_ok(
            std::process::Command::new(gnu_tar)
                .arg("-xf")
                .arg(&tarball)
                .arg("-C")
                .arg(&theirs),
        );
        let mut a = Vec::new();
        let mut b = Vec::new();
        listing(&ours, &ours, &mut a);
        listing(&theirs, &theirs, &mut b);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y);
        }
    }

    fn listing(root: &Path, dir: &Path, out: &mut Vec<String>) {
        use std::os::unix::fs::PermissionsExt;
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o777;
            if meta.file_type().is_symlink() {
                out.push(format!(
                    "{rel} -> {}",
                    std::fs::read_link(&path).unwrap().display()
                ));
            } else if meta.is_dir() {
                out.push(format!("{rel}/ {mode:o}"));
                listing(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let mtime = meta.modified().unwrap();
                out.push(format!(
                    "{rel} {mode:o} {} {mtime:?}",
                    crate::read::util::hex(&sha2::Sha256::digest(&bytes))
                ));
            }
        }
    }
}
