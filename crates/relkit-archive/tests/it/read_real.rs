//! The readers on real and hostile input: member listings against GNU tar's own, format
//! detection by magic bytes, and clear typed errors for truncated, corrupt and unsafe
//! archives (which member, which archive). Nothing here ever extracts anything.

use crate::diff_support;

use std::path::Path;
use std::process::Command;

use diff_support::*;
use relkit_archive::read::{self, Error, Format, MemberKind};
use relkit_archive::{DiffOptions, diff_paths};

/// A tar archive whose headers carry exactly the given names (no sanitizing).
fn crafted_tar(entries: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, typeflag, link) in entries {
        let mut h = tar::Header::new_ustar();
        {
            let u = h.as_ustar_mut().unwrap();
            u.name[..name.len()].copy_from_slice(name);
            u.linkname[..link.len()].copy_from_slice(link);
        }
        h.set_entry_type(tar::EntryType::new(*typeflag));
        h.set_mode(0o644);
        h.set_mtime(MTIME as u64);
        let data: &[u8] = if *typeflag == b'0' { b"evil\n" } else { b"" };
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// (member name, tar typeflag, link target, name shown in the error, reason fragment)
type Case = (&'static [u8], u8, &'static [u8], &'static str, &'static str);

fn unsafe_member(err: Error) -> (String, &'static str) {
    match err {
        Error::UnsafePath { member, reason, .. } => (member, reason),
        other => panic!("expected UnsafePath, got {other}"),
    }
}

#[test]
fn dot_dot_and_absolute_members_are_refused() {
    let cases: [Case; 4] = [
        (b"../evil", b'0', b"", "../evil", "'..'"),
        (b"/abs/passwd", b'0', b"", "/abs/passwd", "absolute"),
        (b"ok/../../x", b'0', b"", "ok/../../x", "'..'"),
        (
            b"hard",
            b'1',
            b"../outside",
            "hard (hard link to ../outside)",
            "'..'",
        ),
    ];
    for (name, flag, link, shown, why) in cases {
        let bytes = crafted_tar(&[(b"fine.txt", b'0', b""), (name, flag, link)]);
        let err = read::read_archive_bytes(&bytes).unwrap_err();
        let text = err.to_string();
        let (member, reason) = unsafe_member(err);
        assert_eq!(member, shown);
        assert!(reason.contains(why), "{reason}");
        assert!(text.starts_with("<memory>: member '"), "{text}");
    }
    // The same through a file on disk and through diff_paths (which the CLI uses).
    let dir = tempfile::tempdir().unwrap();
    let evil = dir.path().join("evil.tar");
    std::fs::write(&evil, crafted_tar(&[(b"../evil", b'0', b"")])).unwrap();
    let err = diff_paths(&evil, &evil, &DiffOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("evil.tar: member '../evil' has an unsafe path"),
        "{err}"
    );
    // A symlink may point anywhere: it is recorded, not refused (nothing is extracted).
    let bytes = crafted_tar(&[(b"link", b'2', b"/etc/passwd")]);
    let arch = read::read_archive_bytes(&bytes).unwrap();
    assert_eq!(arch.members[0].kind, MemberKind::Symlink);
    assert_eq!(
        arch.members[0].link_target.as_deref(),
        Some(&b"/etc/passwd"[..])
    );
}

#[test]
fn zip_with_dot_dot_member_is_refused() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("fine.txt", opts).unwrap();
    w.start_file("../../evil.sh", opts).unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let (member, _) = unsafe_member(read::read_archive_bytes(&bytes).unwrap_err());
    assert_eq!(member, "../../evil.sh");
}

fn corrupt_at(err: Error) -> (String, &'static str, Option<String>) {
    match err {
        Error::Corrupt {
            archive,
            layer,
            member,
            ..
        } => (archive, layer, member),
        other => panic!("expected Corrupt, got {other}"),
    }
}

#[test]
fn truncated_compressed_tars_name_archive_and_member() {
    if !have_all(&["tar", "gzip", "xz"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_tree(dir.path());
    tar_release(dir.path(), &dir.path().join("x.tar"));
    sh(dir.path(), "gzip -n -k x.tar && xz -k x.tar");
    for (name, layer) in [
        ("x.tar.gz", "tar.gz"),
        ("x.tar.xz", "tar.xz"),
        ("x.tar", "tar"),
    ] {
        let full = std::fs::read(dir.path().join(name)).unwrap();
        let cut = dir.path().join(format!("cut-{name}"));
        std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
        let err = read::read_path(&cut).unwrap_err();
        let text = err.to_string();
        let (archive, got_layer, member) = corrupt_at(err);
        assert_eq!(archive, cut.display().to_string());
        assert_eq!(got_layer, layer);
        let member = member.unwrap_or_else(|| panic!("{name}: no member in {text}"));
        assert!(member.starts_with("proj-1.0/"), "{name}: {member}");
        assert!(text.contains("truncated or corrupt"), "{text}");
        // Losing only the last bytes (gzip trailer, xz index/footer) is caught too.
        let tail = dir.path().join(format!("tail-{name}"));
        std::fs::write(&tail, &full[..full.len() - 6]).unwrap();
        if name != "x.tar" {
            let err = read::read_path(&tail).unwrap_err();
            assert_eq!(corrupt_at(err).1, layer);
        }
    }
}

#[test]
fn corrupt_zip_names_the_member() {
    if !have("zip") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_tree(dir.path());
    sh(dir.path(), "zip -q -0 -r -y stored.zip proj-1.0");
    let mut bytes = std::fs::read(dir.path().join("stored.zip")).unwrap();
    // The stored SBOM text appears verbatim: damage one byte of it.
    let needle = b"\"SPDXID\": \"SPDXRef-PACKAGE-expat\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("stored text");
    bytes[at + 5] ^= 1;
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, &bytes).unwrap();
    let err = read::read_path(&bad).unwrap_err();
    let text = err.to_string();
    let (archive, layer, member) = corrupt_at(err);
    assert_eq!((archive.as_str(), layer), (bad.to_str().unwrap(), "zip"));
    assert_eq!(
        member.as_deref(),
        Some("proj-1.0/data/sbom.spdx.json"),
        "{text}"
    );
    // Cut off the central directory: the archive itself is refused.
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(corrupt_at(read::read_path(&cut).unwrap_err()).1, "zip");
}

#[test]
fn member_listing_matches_gnu_tar() {
    if !have("tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_tree(dir.path());
    let tarball = dir.path().join("x.tar");
    tar_release(dir.path(), &tarball);
    let out = Command::new("tar")
        .args(["--numeric-owner", "-tvf"])
        .arg(&tarball)
        .output()
        .unwrap();
    assert!(out.status.success());
    let arch = read::read_path(&tarball).unwrap();
    assert_eq!(arch.container.format, Format::Tar);
    let listing: Vec<&[u8]> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(listing.len(), arch.members.len());
    for (line, m) in listing.iter().zip(&arch.members) {
        let kind = match line[0] {
            b'd' => MemberKind::Dir,
            b'l' => MemberKind::Symlink,
            b'-' => MemberKind::File,
            other => panic!("unexpected type {}", other as char),
        };
        assert_eq!(m.kind, kind);
        let cols: Vec<&[u8]> = line
            .split(|&b| b == b' ')
            .filter(|c| !c.is_empty())
            .collect();
        // drwxr-xr-x 0/0 0 2023-11-14 22:13 proj-1.0/  (GNU tar escapes non-ASCII names)
        assert_eq!(cols[1], b"0/0");
        assert_eq!(std::str::from_utf8(cols[2]).unwrap(), m.size.to_string());
        let name = cols[5];
        if m.path.is_ascii() {
            let name = name.strip_suffix(b"/").unwrap_or(name);
            assert_eq!(name, &m.path[..]);
        }
        let mode = m.mode.unwrap();
        let perms: String = line[1..10].iter().map(|&b| b as char).collect();
        let want: String = (0..9)
            .map(|i| {
                if mode & (0o400 >> i) != 0 {
                    ['r', 'w', 'x'][i % 3]
                } else {
                    '-'
                }
            })
            .collect();
        assert_eq!(perms, want, "{}", m.display_path());
    }
    // Every regular file's SHA-256 equals that of the file on disk.
    for m in arch.members.iter().filter(|m| m.kind == MemberKind::File) {
        let disk = std::fs::read(dir.path().join(std::ffi::OsStr::new(
            &<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&m.path),
        )))
        .unwrap();
        use sha2::Digest;
        assert_eq!(
            m.sha256.unwrap(),
            <[u8; 32]>::from(sha2::Sha256::digest(&disk))
        );
    }
}

#[test]
fn formats_are_detected_by_magic_not_name() {
    if !have_all(&["tar", "gzip", "xz", "zip"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_tree(dir.path());
    let p = dir.path();
    tar_release(p, &p.join("x.tar"));
    sh(
        p,
        "gzip -n -c x.tar > gz.zip && xz -c x.tar > xz.tgz && cp x.tar tar.xz && zip -q -r -y zip.tar proj-1.0",
    );
    for (file, format) in [
        ("gz.zip", Format::TarGz),
        ("xz.tgz", Format::TarXz),
        ("tar.xz", Format::Tar),
        ("zip.tar", Format::Zip),
    ] {
        let arch = read::read_path(&p.join(file)).unwrap();
        assert_eq!(arch.container.format, format, "{file}");
        assert_eq!(arch.members.len(), 14, "{file}");
        let from_bytes = read::read_archive_bytes(&std::fs::read(p.join(file)).unwrap()).unwrap();
        assert_eq!(from_bytes.members, arch.members, "{file}");
    }
    std::fs::write(p.join("notes.txt"), "just some text, not an archive\n").unwrap();
    let err = read::read_path(&p.join("notes.txt")).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("notes.txt: not a supported archive"),
        "{err}"
    );
    let err = read::read_path(&p.join("missing.tar")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    // An empty tar archive has no members.
    sh(p, "tar -cf empty.tar -T /dev/null");
    assert!(
        read::read_path(&p.join("empty.tar"))
            .unwrap()
            .members
            .is_empty()
    );
}

#[test]
fn symlink_loops_in_directories_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::os::unix::fs::symlink(".", root.join("sub/self")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("b", root.join("a")).unwrap();
    std::os::unix::fs::symlink("a", root.join("b")).unwrap();
    let arch = read::read_path(&root).unwrap();
    let names: Vec<String> = arch.members.iter().map(|m| m.display_path()).collect();
    assert_eq!(names, vec!["a", "b", "sub", "sub/self", "sub/up"]);
    assert!(
        arch.members
            .iter()
            .filter(|m| m.kind == MemberKind::Symlink)
            .count()
            == 4
    );
    assert!(
        diff_paths(&root, &root, &DiffOptions::default())
            .unwrap()
            .is_identical()
    );
}

#[test]
fn directory_reader_records_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let top = make_tree(dir.path());
    let arch = read::read_path(Path::new(&top)).unwrap();
    assert_eq!(arch.container.format, Format::Directory);
    let run = arch
        .members
        .iter()
        .find(|m| m.path == b"bin/run.sh")
        .unwrap();
    assert_eq!((run.mode, run.mtime, run.size), (Some(0o755), MTIME, 19));
    let link = arch.members.iter().find(|m| m.path == b"link").unwrap();
    assert_eq!(link.link_target.as_deref(), Some(&b"README.txt"[..]));
    assert!(arch.members.iter().any(|m| m.path == LATIN1_NAME));
}
