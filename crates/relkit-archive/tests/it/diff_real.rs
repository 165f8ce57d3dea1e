//! The diff engine on real archives written by GNU tar, gzip, xz and Info-ZIP zip from a
//! sample tree of real files: every kind of difference the engine claims to find.

use crate::diff_support;

use std::path::Path;
use std::process::Command;

use diff_support::*;
use relkit_archive::diff::{DiffReport, FieldDiff};
use relkit_archive::{DiffOptions, diff_paths, render_text};

fn diff(a: &Path, b: &Path) -> DiffReport {
    diff_paths(a, b, &DiffOptions::default()).expect("diff runs")
}

fn fields(r: &DiffReport, member: &str) -> Vec<FieldDiff> {
    r.members
        .iter()
        .find(|m| m.path == member)
        .unwrap_or_else(|| panic!("{member} not reported: {}", render_text(r)))
        .fields
        .clone()
}

/// A path inside the sample tree's top directory (kept when both sides share it).
fn p(rel: &str) -> String {
    format!("proj-1.0/{rel}")
}

fn container_fields(r: &DiffReport) -> Vec<String> {
    r.container.iter().map(|f| f.field.clone()).collect()
}

/// Two work dirs holding the same sample tree.
fn two_trees() -> (tempfile::TempDir, tempfile::TempDir) {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    make_tree(a.path());
    make_tree(b.path());
    (a, b)
}

#[test]
fn identical_archives_are_identical() {
    if !have("tar") {
        return;
    }
    let (a, b) = two_trees();
    tar_release(a.path(), &a.path().join("x.tar"));
    tar_release(b.path(), &b.path().join("x.tar"));
    let r = diff(&a.path().join("x.tar"), &b.path().join("x.tar"));
    assert!(r.is_identical(), "{}", render_text(&r));
    assert!(r.identical);
    assert_eq!(r.a.members, 14, "{:?}", r.a);
    assert!(render_text(&r).ends_with("identical\n"));
}

#[test]
fn content_change_gives_exact_offset_sizes_and_text_diff() {
    if !have_all(&["tar", "xz"]) {
        return;
    }
    let (a, b) = two_trees();
    let tb = b.path().join("proj-1.0");
    // A byte deep inside the 72 KiB SBOM (past the first 64 KiB: chunked search).
    flip_byte(&tb.join("data/sbom.spdx.json"), 70_001);
    // One byte of the binary.
    flip_byte(&tb.join("bin/libffi-8.dll"), 12_345);
    // A line of a small text file, and growth of another.
    std::fs::write(tb.join("README.txt"), "proj 1.0\n\nline 3\nline four\n").unwrap();
    let mut ext = std::fs::read(tb.join("data/externals.spdx.json")).unwrap();
    let old_len = ext.len() as u64;
    ext.extend_from_slice(b"\n");
    std::fs::write(tb.join("data/externals.spdx.json"), ext).unwrap();
    retouch(b.path());
    tar_release(a.path(), &a.path().join("x.tar"));
    tar_release(b.path(), &b.path().join("x.tar"));
    run(Command::new("xz").arg("-k").arg(a.path().join("x.tar")));
    run(Command::new("xz").arg("-k").arg(b.path().join("x.tar")));
    let r = diff(&a.path().join("x.tar.xz"), &b.path().join("x.tar.xz"));
    assert!(!r.is_identical());
    assert!(r.only_in_a.is_empty() && r.only_in_b.is_empty() && r.order.is_none());
    assert!(r.container.is_empty(), "{:?}", r.container);
    let content = |path: &str| {
        r.members
            .iter()
            .find(|m| m.path == path)
            .and_then(|m| m.content.clone())
            .unwrap_or_else(|| panic!("no content diff for {path}: {}", render_text(&r)))
    };
    let sbom = content(&p("data/sbom.spdx.json"));
    assert_eq!((sbom.size_a, sbom.size_b), (72_318, 72_318));
    assert_eq!(sbom.first_difference, Some(70_001));
    assert_ne!(sbom.sha256_a, sbom.sha256_b);
    assert!(sbom.text_diff.is_none(), "no text diff above 64 KiB");
    let dll = content(&p("bin/libffi-8.dll"));
    assert_eq!(dll.first_difference, Some(12_345));
    assert!(dll.text_diff.is_none(), "binary: no text diff");
    let readme = content(&p("README.txt"));
    assert_eq!(readme.first_difference, Some(15));
    let text = readme.text_diff.unwrap();
    assert!(text.contains("-line three\n+line 3\n"), "{text}");
    assert!(
        text.starts_with("--- a/proj-1.0/README.txt\n+++ b/proj-1.0/README.txt\n"),
        "{text}"
    );
    let ext = content(&p("data/externals.spdx.json"));
    assert_eq!((ext.size_a, ext.size_b), (old_len, old_len + 1));
    assert_eq!(ext.first_difference, Some(old_len));
    // Exactly these four members differ, and only in content.
    assert_eq!(r.members.len(), 4, "{}", render_text(&r));
    assert!(r.members.iter().all(|m| m.fields.is_empty()));
    // The sha256 values are the real ones.
    let real = relkit_archive::read::read_path(&b.path().join("proj-1.0")).unwrap();
    let m = real
        .members
        .iter()
        .find(|m| m.path == b"bin/libffi-8.dll")
        .unwrap();
    assert_eq!(hex::encode(m.sha256.unwrap()), dll.sha256_b);
}

#[test]
fn mode_and_mtime_changes() {
    if !have("tar") {
        return;
    }
    let (a, b) = two_trees();
    let tb = b.path().join("proj-1.0");
    sh(
        &tb,
        "chmod 0600 README.txt && touch -h -d @1700000100 data/externals.spdx.json",
    );
    tar_release(a.path(), &a.path().join("x.tar"));
    tar_release(b.path(), &b.path().join("x.tar"));
    let r = diff(&a.path().join("x.tar"), &b.path().join("x.tar"));
    assert_eq!(
        fields(&r, &p("README.txt")),
        vec![FieldDiff {
            field: "mode".into(),
            a: Some("0644".into()),
            b: Some("0600".into())
        }]
    );
    assert_eq!(
        fields(&r, &p("data/externals.spdx.json")),
        vec![FieldDiff {
            field: "mtime".into(),
            a: Some("2023-11-14T22:13:20Z (1700000000)".into()),
            b: Some("2023-11-14T22:15:00Z (1700000100)".into())
        }]
    );
    assert_eq!(r.members.len(), 2);
}

#[test]
fn owner_differences_between_archives() {
    if !have("tar") {
        return;
    }
    let (a, b) = two_trees();
    tar_release(a.path(), &a.path().join("x.tar"));
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--owner=builder:1000",
            "--group=staff:50",
            "--format=posix",
        ])
        .args([
            "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
            "-cf",
            "x.tar",
            "proj-1.0",
        ])
        .current_dir(b.path()));
    let r = diff(&a.path().join("x.tar"), &b.path().join("x.tar"));
    let f: Vec<String> = fields(&r, &p("README.txt"))
        .into_iter()
        .map(|f| format!("{}={:?}->{:?}", f.field, f.a, f.b))
        .collect();
    assert_eq!(
        f,
        vec![
            "uid=Some(\"0\")->Some(\"1000\")",
            "gid=Some(\"0\")->Some(\"50\")",
            "uname=Some(\"\")->Some(\"builder\")",
            "gname=Some(\"\")->Some(\"staff\")",
        ]
    );
}

#[test]
fn order_difference_same_members() {
    if !have("tar") {
        return;
    }
    let (a, _b) = two_trees();
    let p = a.path();
    // The same members, listed in name order and in reverse order.
    sh(
        p,
        "find proj-1.0 | LC_ALL=C sort > list && LC_ALL=C sort -r list > rlist",
    );
    let flags = "--format=posix --pax-option=delete=atime,delete=ctime";
    sh(
        p,
        &format!(
            "tar --no-recursion {flags} -cf sorted.tar -T list && tar --no-recursion {flags} -cf reversed.tar -T rlist"
        ),
    );
    let r = diff(&p.join("sorted.tar"), &p.join("reversed.tar"));
    assert!(
        r.members.is_empty() && r.only_in_a.is_empty() && r.only_in_b.is_empty(),
        "{}",
        render_text(&r)
    );
    let o = r.order.as_ref().expect("order difference");
    assert_eq!(o.common, 14);
    assert_eq!(o.first_mismatch, 0);
    assert_eq!(o.a_member, "proj-1.0");
    assert_eq!(o.moved, 13);
    assert!(render_text(&r).contains("order: 13 of 14 common members"));
    // GNU tar without --sort follows readdir order; with --sort=name it is sorted: if the
    // file system returned another order, the diff must say so, and never list contents.
    sh(
        p,
        &format!(
            "tar {flags} -cf plain.tar proj-1.0 && tar --sort=name {flags} -cf byname.tar proj-1.0"
        ),
    );
    let listed = |t: &str| {
        let out = Command::new("tar")
            .args(["-tf", t])
            .current_dir(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let r = diff(&p.join("plain.tar"), &p.join("byname.tar"));
    assert_eq!(
        r.order.is_some(),
        listed("plain.tar") != listed("byname.tar")
    );
    assert!(r.members.is_empty());
}

#[test]
fn gzip_name_and_mtime_are_container_differences() {
    if !have_all(&["tar", "gzip"]) {
        return;
    }
    let (a, b) = two_trees();
    tar_release(a.path(), &a.path().join("x.tar"));
    tar_release(b.path(), &b.path().join("x.tar"));
    sh(a.path(), "touch -d @1600000000 x.tar && gzip -9 -k x.tar");
    sh(b.path(), "gzip -9 -n -k x.tar");
    let r = diff(&a.path().join("x.tar.gz"), &b.path().join("x.tar.gz"));
    assert!(r.members.is_empty() && r.only_in_a.is_empty() && r.order.is_none());
    let get = |f: &str| r.container.iter().find(|c| c.field == f).cloned();
    assert_eq!(get("gzip.name").unwrap().a.as_deref(), Some("x.tar"));
    assert_eq!(get("gzip.name").unwrap().b, None);
    assert_eq!(get("gzip.mtime").unwrap().a.as_deref(), Some("1600000000"));
    assert_eq!(get("gzip.mtime").unwrap().b.as_deref(), Some("0"));
    assert_eq!(
        container_fields(&r),
        vec!["gzip.name", "gzip.mtime", "gzip.flags"]
    );
    let gz = r.a.container.gzip.as_ref().unwrap();
    assert_eq!((gz.os, gz.xfl, gz.members), (3, 2, 1));
    // Level hint (XFL) and "same members, different compressed bytes".
    sh(
        b.path(),
        "gzip -1 -n -c x.tar > fast.tar.gz && gzip -5 -n -c x.tar > five.tar.gz && gzip -6 -n -c x.tar > six.tar.gz",
    );
    let r = diff(&b.path().join("x.tar.gz"), &b.path().join("fast.tar.gz"));
    assert_eq!(container_fields(&r), vec!["gzip.xfl"]);
    assert_eq!(
        r.container[0].a.as_deref(),
        Some("2 (best compression (-9))")
    );
    let r = diff(&b.path().join("five.tar.gz"), &b.path().join("six.tar.gz"));
    assert!(r.members.is_empty());
    let mut want = Vec::new();
    if r.a.container.size != r.b.container.size {
        want.push("file.size");
    }
    if r.a.container.sha256 != r.b.container.sha256 {
        want.push("file.sha256");
    }
    assert!(!want.is_empty(), "gzip -5 and -6 gave the same bytes");
    assert_eq!(container_fields(&r), want);
}

#[test]
fn gz_versus_xz_of_the_same_tar() {
    if !have_all(&["tar", "gzip", "xz"]) {
        return;
    }
    let (a, _b) = two_trees();
    tar_release(a.path(), &a.path().join("x.tar"));
    sh(a.path(), "gzip -9 -n -k x.tar && xz -k x.tar");
    let r = diff(&a.path().join("x.tar.gz"), &a.path().join("x.tar.xz"));
    assert!(
        r.members.is_empty()
            && r.only_in_a.is_empty()
            && r.only_in_b.is_empty()
            && r.order.is_none()
    );
    assert_eq!(container_fields(&r), vec!["format"]);
    assert_eq!(r.a.container.tar_sha256, r.b.container.tar_sha256);
    let xz = r.b.container.xz.as_ref().unwrap();
    assert_eq!(xz.check, "crc64");
    assert_eq!(xz.blocks, Some(1));
    assert_eq!(xz.lzma2_dict_size, Some(8 << 20));
    // Plain tar against its own xz: same tar stream, only the format differs.
    let r = diff(&a.path().join("x.tar"), &a.path().join("x.tar.xz"));
    assert_eq!(container_fields(&r), vec!["format"]);
    // xz -9 with CRC32: check and dictionary size are reported.
    sh(a.path(), "xz -9 -C crc32 -c x.tar > x9.tar.xz");
    let r = diff(&a.path().join("x.tar.xz"), &a.path().join("x9.tar.xz"));
    assert_eq!(container_fields(&r), vec!["xz.check", "xz.lzma2_dict_size"]);
}

#[test]
fn zip_extra_fields() {
    if !have("zip") {
        return;
    }
    let (a, _b) = two_trees();
    sh(
        a.path(),
        "zip -q -r -y -X plain.zip proj-1.0 && zip -q -r -y extra.zip proj-1.0",
    );
    let r = diff(&a.path().join("plain.zip"), &a.path().join("extra.zip"));
    assert!(
        r.only_in_a.is_empty() && r.only_in_b.is_empty() && r.order.is_none(),
        "{}",
        render_text(&r)
    );
    let f = fields(&r, &p("README.txt"));
    let names: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
    assert!(names.contains(&"zip.central_extra"), "{names:?}");
    assert!(names.contains(&"zip.local_extra"), "{names:?}");
    let central = f.iter().find(|f| f.field == "zip.central_extra").unwrap();
    assert_eq!(central.a.as_deref(), Some(""));
    assert!(
        central.b.as_deref().unwrap().contains("5455:"),
        "UT field: {central:?}"
    );
    assert!(r.members.iter().all(|m| m.content.is_none()));
    // Identical zips are identical.
    sh(a.path(), "cp extra.zip copy.zip");
    assert!(diff(&a.path().join("extra.zip"), &a.path().join("copy.zip")).is_identical());
}

#[test]
fn directory_against_archives() {
    if !have_all(&["tar", "gzip", "zip"]) {
        return;
    }
    let (a, _b) = two_trees();
    let top = a.path().join("proj-1.0");
    tar_release(a.path(), &a.path().join("x.tar"));
    sh(a.path(), "gzip -n -k x.tar && zip -q -r -y x.zip proj-1.0");
    for archive in ["x.tar", "x.tar.gz", "x.zip"] {
        let r = diff(&top, &a.path().join(archive));
        assert!(r.is_identical(), "{archive}: {}", render_text(&r));
        assert_eq!(r.b.stripped_prefix.as_deref(), Some("proj-1.0/"));
        assert!(r.notes.iter().any(|n| n.contains("a side is a directory")));
        let r = diff(&a.path().join(archive), &top);
        assert!(r.is_identical(), "{archive} reversed: {}", render_text(&r));
    }
    // A change in the tree shows up against the archive.
    flip_byte(&top.join("bin/run.sh"), 2);
    std::fs::remove_file(top.join("link")).unwrap();
    retouch(&top);
    let r = diff(&top, &a.path().join("x.tar.gz"));
    assert_eq!(r.members.len(), 1, "{}", render_text(&r));
    assert_eq!(r.members[0].path, "bin/run.sh");
    assert_eq!(
        r.members[0].content.as_ref().unwrap().first_difference,
        Some(2)
    );
    assert_eq!(r.only_in_b.len(), 1);
    assert_eq!(r.only_in_b[0].path, "link");
    assert_eq!(r.only_in_b[0].kind, "symlink");
    // Explicit --strip-components 1 gives the same answer.
    let opts = DiffOptions {
        strip_components: Some(1),
        ignore: vec![],
    };
    let r2 = diff_paths(&top, &a.path().join("x.tar.gz"), &opts).unwrap();
    assert_eq!(r2.members.len(), 1);
    assert_eq!(r2.b.strip_components, 1);
    // Ignoring paths.
    let opts = DiffOptions {
        strip_components: None,
        ignore: vec!["bin".into(), "link".into()],
    };
    assert!(
        diff_paths(&top, &a.path().join("x.tar.gz"), &opts)
            .unwrap()
            .is_identical()
    );
}

#[test]
fn different_top_directories_are_stripped() {
    if !have("tar") {
        return;
    }
    let (a, _b) = two_trees();
    sh(
        a.path(),
        "cp -a proj-1.0 proj-1.1 && tar --sort=name -cf a.tar proj-1.0 && tar --sort=name -cf b.tar proj-1.1",
    );
    let r = diff(&a.path().join("a.tar"), &a.path().join("b.tar"));
    assert!(
        r.members.is_empty() && r.only_in_a.is_empty() && r.only_in_b.is_empty(),
        "{}",
        render_text(&r)
    );
    assert_eq!(container_fields(&r), vec!["top_directory"]);
    assert_eq!(r.a.stripped_prefix.as_deref(), Some("proj-1.0/"));
    assert_eq!(r.b.stripped_prefix.as_deref(), Some("proj-1.1/"));
}

#[test]
fn long_and_non_utf8_names() {
    if !have("tar") {
        return;
    }
    let (a, b) = two_trees();
    sh(
        a.path(),
        "tar --sort=name --format=gnu -cf gnu.tar proj-1.0 && tar --sort=name --format=posix --pax-option=delete=atime,delete=ctime -cf pax.tar proj-1.0",
    );
    let arch = relkit_archive::read::read_path(&a.path().join("gnu.tar")).unwrap();
    let long = format!("proj-1.0/{LONG_NAME}");
    assert!(long.len() > 100);
    assert!(arch.members.iter().any(|m| m.path == long.as_bytes()));
    let mut latin = b"proj-1.0/".to_vec();
    latin.extend_from_slice(LATIN1_NAME);
    assert!(arch.members.iter().any(|m| m.path == latin));
    // GNU vs POSIX layout: same members, header format differs where it had to.
    let r = diff(&a.path().join("gnu.tar"), &a.path().join("pax.tar"));
    assert!(
        r.only_in_a.is_empty() && r.only_in_b.is_empty(),
        "{}",
        render_text(&r)
    );
    let f = fields(&r, &p(LONG_NAME));
    assert!(
        f.iter().any(|f| f.field == "tar.format"
            && f.a.as_deref() == Some("gnu")
            && f.b.as_deref() == Some("pax")),
        "{f:?}"
    );
    // Content change of both special names, compared across formats.
    let tb = b.path().join("proj-1.0");
    std::fs::write(tb.join(LONG_NAME), "long name!\n").unwrap();
    std::fs::write(tb.join("x"), "new\n").unwrap();
    std::fs::write(
        tb.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(LATIN1_NAME)),
        "latin-1 name?\n",
    )
    .unwrap();
    retouch(b.path());
    sh(
        b.path(),
        "tar --sort=name --format=posix --pax-option=delete=atime,delete=ctime -cf pax.tar proj-1.0",
    );
    let r = diff(&a.path().join("pax.tar"), &b.path().join("pax.tar"));
    let latin = r
        .members
        .iter()
        .find(|m| m.path == "proj-1.0/caf\\xe9.txt")
        .expect("non-UTF-8 member reported");
    assert_eq!(
        latin.path_hex.as_deref(),
        Some("70726f6a2d312e302f636166e92e747874")
    );
    assert_eq!(latin.content.as_ref().unwrap().first_difference, Some(12));
    assert!(r.members.iter().any(|m| m.path == p(LONG_NAME)));
    assert_eq!(r.only_in_b.len(), 1);
    assert_eq!(r.only_in_b[0].path, "proj-1.0/x");
}

#[test]
fn zip_content_difference_and_zip_against_tar() {
    if !have_all(&["tar", "zip"]) {
        return;
    }
    let (a, b) = two_trees();
    flip_byte(&b.path().join("proj-1.0/data/sbom.spdx.json"), 66_000);
    retouch(b.path());
    // zip records access times too (the UT extra field); reading a file or directory after a
    // retouch updates its atime (relatime: an atime older than a day) at whatever second the
    // read happens. An atime one hour ahead, the same in both trees, is never updated.
    let ahead = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    for t in [a.path(), b.path()] {
        sh(t, &format!("find . -exec touch -h -a -d @{ahead} {{}} +"));
    }
    sh(a.path(), "zip -q -r -y x.zip proj-1.0");
    sh(b.path(), "zip -q -r -y x.zip proj-1.0");
    let r = diff(&a.path().join("x.zip"), &b.path().join("x.zip"));
    assert_eq!(r.members.len(), 1, "{}", render_text(&r));
    let c = r.members[0].content.as_ref().unwrap();
    assert_eq!(c.first_difference, Some(66_000));
    // The local header CRC and sizes are not member fields; only the content differs.
    assert!(r.members[0].fields.is_empty(), "{:?}", r.members[0].fields);
    // A zip against a tar of the same tree: same members, the format differs, and the
    // format-specific details of different families are not compared.
    tar_release(a.path(), &a.path().join("x.tar"));
    let r = diff(&a.path().join("x.zip"), &a.path().join("x.tar"));
    assert!(
        r.only_in_a.is_empty() && r.only_in_b.is_empty(),
        "{}",
        render_text(&r)
    );
    assert_eq!(container_fields(&r), vec!["format"]);
    assert!(
        r.members.iter().all(|m| m.content.is_none()
            && m.fields
                .iter()
                .all(|f| ["uid", "gid"].contains(&f.field.as_str()))),
        "{}",
        render_text(&r)
    );
}
