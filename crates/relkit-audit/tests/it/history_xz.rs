//! The history audit on the real xz repository, v5.4.0..v5.6.1: the period in which the
//! backdoor was prepared. The facts checked are public record (CVE-2024-3094 analyses).

use relkit_audit::audit_history;
use relkit_audit::history::{entropy, magic};

#[test]
fn xz_540_to_561_surfaces_the_test_files_build_changes_and_the_shift_to_jia_tan() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let r = audit_history(&repo, "v5.4.0", "v5.6.1").expect("history");
    assert_eq!(r.commits, 726);

    // The payload carriers, added in February 2024 by the second maintainer, changed again
    // in March 2024 (5.6.1).
    let file = |p: &str| {
        r.opaque_files
            .iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p} not reported"))
    };
    let bad3 = file("tests/files/bad-3-corrupt_lzma2.xz");
    assert_eq!(bad3.status, "added");
    assert_eq!(
        (bad3.size, bad3.magic.as_str(), bad3.binary),
        (512, "xz", true)
    );
    assert_eq!(bad3.commits[0].date, "2024-02-23");
    assert_eq!(bad3.commits[0].author, "Jia Tan");
    assert_eq!(bad3.commits[0].subject, "Tests: Add a few test files.");
    assert_eq!(bad3.commits[1].subject, "Tests: Update two test files.");
    let large = file("tests/files/good-large_compressed.lzma");
    assert_eq!((large.size, large.magic.as_str()), (35421, "lzma"));
    assert!(large.entropy > 7.9, "{}", large.entropy);
    assert_eq!(large.commits[0].id, bad3.commits[0].id);
    // Only the README names it: no test script or build file uses it.
    assert_eq!(large.referenced_by, ["tests/files/README"]);
    assert!(!large.referenced_by_test_or_build);
    assert!(
        bad3.referenced_by
            .contains(&"tests/test_files.sh".to_string())
    );
    assert!(bad3.referenced_by_test_or_build);

    // Build machinery changes, with who made them.
    let build = |p: &str| {
        r.build_changes
            .iter()
            .find(|b| b.path == p)
            .unwrap_or_else(|| panic!("{p} not reported"))
    };
    assert_eq!(build("configure.ac").category, "autotools");
    assert_eq!(build("CMakeLists.txt").commit_count, 98);
    let ci = build("build-aux/ci_build.sh");
    assert_eq!(ci.status, "added");
    assert!(ci.commits.iter().all(|c| c.author == "Jia Tan"));
    assert_eq!(build(".github/workflows/ci.yml").category, "ci");
    assert!(r.build_changes.iter().any(|b| b.category == "m4"));

    // Who: the second maintainer made most commits of the range and tags the releases.
    let p = &r.people;
    assert_eq!(p.authors[0].name, "Jia Tan");
    assert_eq!(p.authors[0].commits, 422);
    assert_eq!(p.authors[1].name, "Lasse Collin");
    assert_eq!(p.committers[0].name, "Jia Tan");
    assert!(
        p.new_committers.contains(&"Jia Tan".to_string()),
        "{:?}",
        p.new_committers
    );
    assert!(
        p.new_to_build_files.contains(&"Hans Jansen".to_string()),
        "{:?}",
        p.new_to_build_files
    );
    let tagger = |t: &str| {
        p.release_tags
            .iter()
            .find(|x| x.tag == t)
            .unwrap()
            .tagger
            .clone()
    };
    assert_eq!(tagger("v5.4.0"), "Lasse Collin");
    for t in ["v5.4.5", "v5.4.6", "v5.6.0", "v5.6.1"] {
        assert_eq!(tagger(t), "Jia Tan", "{t}");
    }
    assert_eq!(p.tagger_changes.len(), 1);
    assert_eq!(
        (
            p.tagger_changes[0].previous.as_str(),
            p.tagger_changes[0].tagger.as_str()
        ),
        ("Lasse Collin", "Jia Tan")
    );
    let year = |y: i32| p.timeline.iter().find(|x| x.year == y).unwrap();
    assert_eq!(year(2021).top[0].name, "Lasse Collin");
    assert_eq!(year(2023).top[0].name, "Jia Tan");
    assert!(year(2023).top[0].percent > 60.0);
}

#[test]
fn missing_tags_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let err = audit_history(&repo, "v5.4.0", "v9.9")
        .unwrap_err()
        .to_string();
    assert!(err.contains("revision \"v9.9\" not found"), "{err}");
}

#[test]
fn entropy_and_magic() {
    assert_eq!(entropy(b"aaaa"), 0.0);
    let all: Vec<u8> = (0..=255).collect();
    assert!((entropy(&all) - 8.0).abs() < 1e-9);
    assert_eq!(magic(b"\xfd7zXZ\x00\x00\x04"), "xz");
    assert_eq!(
        magic(b"\x5d\x00\x00\x80\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00"),
        "lzma"
    );
    assert_eq!(magic(b"\x7fELF\x02\x01"), "ELF");
    assert_eq!(magic(b"hello\n"), "text");
}
