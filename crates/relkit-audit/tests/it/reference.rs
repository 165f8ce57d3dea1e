//! The reference side of `audit tarball`: a git tag is streamed (nothing exported to disk)
//! exactly as `git archive` writes it — `.gitattributes` conversions applied, export-ignore
//! honoured, export-subst expansions recognized — and tarballs whose members do not share one top directory are compared by
//! their full paths (the single read of the tarball guesses the top directory from its first
//! file and reads again when the guess was wrong).

use std::path::Path;
use std::process::Command;

use crate::common::member;
use relkit_audit::{Class, CorpusSpec, Reference, audit_tarball};
use relkit_testkit::{oracle, run_ok};

/// A tar of (path, content) members.
fn tar(path: &Path, members: &[(&str, &[u8])]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.finish().unwrap();
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = run_ok(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@invalid"])
            .args(["-c", "core.autocrlf=false"])
            .args(args),
    );
    String::from_utf8(out).unwrap().trim().to_string()
}

#[test]
fn git_tag_is_compared_as_git_archive_writes_it() {
    if oracle("git").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    let attributes = "*.txt text eol=crlf\nsecret export-ignore\n.git_archival.txt export-subst\n";
    // setuptools-scm's archive file: git archive expands its placeholders.
    std::fs::write(
        repo.join(".git_archival.txt"),
        "node: $Format:%H$\nref-names: $Format:%D$\n",
    )
    .unwrap();
    std::fs::write(repo.join(".gitattributes"), attributes).unwrap();
    std::fs::write(repo.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::write(repo.join("b.txt"), "x\n").unwrap();
    std::fs::write(repo.join("secret"), "not released\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    git(&repo, &["tag", "v1"]);
    let commit = git(&repo, &["rev-parse", "v1^{commit}"]);

    // git archive itself is the oracle of what the tag's release content is.
    let archived =
        run_ok(
            Command::new("git")
                .arg("-C")
                .arg(&repo)
                .args(["archive", "--prefix=p-1/", "v1"]),
        );
    let from_git = tmp.path().join("git-archive.tar");
    std::fs::write(&from_git, &archived).unwrap();
    let reference = Reference::Git {
        repo: repo.clone(),
        rev: "v1".into(),
    };
    let r = audit_tarball(&from_git, &reference, &CorpusSpec::default()).unwrap();
    assert_eq!(r.commit.as_deref(), Some(commit.as_str()));
    let paths: Vec<(&str, Class)> = r
        .members
        .iter()
        .map(|m| (m.path.as_str(), m.class))
        .collect();
    assert_eq!(
        paths,
        [
            (".git_archival.txt", Class::Updated),
            (".gitattributes", Class::Same),
            ("a.txt", Class::Same),
            ("b.txt", Class::Same)
        ]
    );
    assert_eq!(
        member(&r, ".git_archival.txt").detail,
        "the tag's file with its 2 `$Format:…$` placeholders expanded for the tag's commit, as `git archive` does (export-subst)"
    );

    // A release whose b.txt gained a line: the diff is against the converted (CRLF) text.
    let release = tmp.path().join("release.tar");
    tar(
        &release,
        &[
            ("p-1/.gitattributes", attributes.as_bytes()),
            (
                "p-1/.git_archival.txt",
                b"node: $Format:%H$\nref-names: $Format:%D$\n",
            ),
            ("p-1/a.txt", b"one\r\ntwo\r\n"),
            ("p-1/b.txt", b"x\r\ny\r\n"),
        ],
    );
    let r = audit_tarball(&release, &reference, &CorpusSpec::default()).unwrap();
    assert_eq!(member(&r, "a.txt").class, Class::Same);
    let b = member(&r, "b.txt");
    assert_eq!(b.class, Class::Differs);
    let diff = b.diff.as_ref().expect("a line diff");
    assert_eq!((diff.added, diff.removed), (1, 0), "{diff:?}");
    assert_eq!(diff.added_lines, ["y\r"]);
    assert!(r.members.iter().all(|m| m.path != "secret"));
}

#[test]
fn members_outside_the_first_files_directory_are_compared_by_full_path() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(tag.join("src")).unwrap();
    std::fs::write(tag.join("src/a.c"), "int a;\n").unwrap();
    std::fs::write(tag.join("README"), "hi\n").unwrap();
    // What src/a.c would match were `src/` taken for the top directory.
    std::fs::write(tag.join("a.c"), "int a;\nint b;\n").unwrap();
    // The first file is src/a.c, but the tarball has no top directory.
    let t = tmp.path().join("flat.tar");
    tar(
        &t,
        &[
            ("src/a.c", b"int a;\nint b;\n"),
            ("README", b"hi\n"),
            ("extra.txt", b"?\n"),
        ],
    );
    let r = audit_tarball(&t, &Reference::Tree(tag), &CorpusSpec::default()).unwrap();
    assert_eq!(r.stripped_prefix, None);
    assert_eq!(member(&r, "README").class, Class::Same);
    assert_eq!(member(&r, "extra.txt").class, Class::Unexplained);
    assert_eq!(member(&r, "a.c").class, Class::OnlyInReference);
    let a = member(&r, "src/a.c");
    assert_eq!(a.class, Class::Differs);
    assert_eq!(a.diff.as_ref().unwrap().added_lines, ["int b;"]);
}

#[test]
fn a_changed_file_that_now_runs_data_through_a_shell_is_critical() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    std::fs::write(tag.join("autogen.sh"), "#!/bin/sh\nautoreconf -fi\n").unwrap();
    std::fs::write(tag.join("bootstrap.sh"), "#!/bin/sh\nautoreconf -fi\n").unwrap();
    let t = tmp.path().join("p.tar");
    tar(
        &t,
        &[
            (
                "p-1/autogen.sh",
                b"#!/bin/sh\nautoreconf -fi\ncat tests/files/x.bin | tr 'a-z' 'n-za-m' | $SHELL\n",
            ),
            ("p-1/bootstrap.sh", b"#!/bin/sh\nautoreconf -fi -v\n"),
        ],
    );
    let r = audit_tarball(&t, &Reference::Tree(tag), &CorpusSpec::default()).unwrap();
    assert!(r.has_critical());
    let a = member(&r, "autogen.sh");
    assert_eq!(
        (a.class, a.severity),
        (Class::Differs, relkit_audit::Severity::Critical)
    );
    assert!(
        a.detail.ends_with("; CRITICAL: 1 line that the tag's file does not have runs data through a shell or decodes it, as the 2024 xz backdoor's macro did: line 3: cat tests/files/x.bin | tr 'a-z' 'n-za-m' | $SHELL"),
        "{}",
        a.detail
    );
    // An ordinary change stays a warning.
    let b = member(&r, "bootstrap.sh");
    assert_eq!(
        (b.class, b.severity),
        (Class::Differs, relkit_audit::Severity::Warning)
    );
}

#[test]
fn automake_install_and_copying_added_by_add_missing_are_vendored() {
    // `automake --add-missing --copy` puts its INSTALL and COPYING into projects whose tag
    // has none: the installed automake's own files (Debian 12: automake 1.16.5).
    let Some(automake) = relkit_testkit::oracle("automake") else {
        return;
    };
    let out = run_ok(Command::new(&automake).arg("--print-libdir"));
    let libdir = std::path::PathBuf::from(String::from_utf8(out).unwrap().trim());
    let install = std::fs::read(libdir.join("INSTALL")).unwrap();
    let copying = std::fs::read(libdir.join("COPYING")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    std::fs::write(tag.join("configure.ac"), "AC_INIT([p], [1])\n").unwrap();
    let t = tmp.path().join("p.tar");
    tar(
        &t,
        &[
            ("p-1/configure.ac", b"AC_INIT([p], [1])\n"),
            ("p-1/INSTALL", &install),
            ("p-1/COPYING", &copying),
        ],
    );
    let r = audit_tarball(&t, &Reference::Tree(tag), &CorpusSpec::default()).unwrap();
    for path in ["INSTALL", "COPYING"] {
        let m = member(&r, path);
        assert_eq!(m.class, Class::Vendored, "{path}: {}", m.detail);
        let sources = &m.known.as_ref().unwrap().sources;
        assert!(
            sources.iter().any(|s| s.starts_with("automake ")),
            "{path}: {sources:?}"
        );
    }
}

#[test]
fn python_sdist_metadata_is_explained() {
    // A setuptools sdist of a tagged project (setuptools is the oracle of what an sdist
    // adds): PKG-INFO, the egg-info files and setup.cfg's [egg_info] section.
    if oracle("git").is_none()
        || !relkit_testkit::oracle_runs("python3", &["-c", "import setuptools"])
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("demo");
    std::fs::create_dir_all(repo.join("src/demo")).unwrap();
    std::fs::write(
        repo.join("setup.py"),
        "from setuptools import setup\nsetup(name='demo', version='1.0', packages=['demo'], package_dir={'': 'src'}, install_requires=['requests>=2'])\n",
    )
    .unwrap();
    std::fs::write(repo.join("setup.cfg"), "[metadata]\ndescription = A demo\n").unwrap();
    std::fs::write(repo.join("src/demo/__init__.py"), "x = 1\n").unwrap();
    std::fs::write(repo.join("README.md"), "# demo\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "c"]);
    git(&repo, &["tag", "v1.0"]);
    run_ok(
        Command::new("python3")
            .args(["setup.py", "-q", "sdist", "--formats=gztar"])
            .current_dir(&repo),
    );
    let sdist = repo.join("dist/demo-1.0.tar.gz");
    let reference = Reference::Git {
        repo: repo.clone(),
        rev: "v1.0".into(),
    };
    let r = audit_tarball(&sdist, &reference, &CorpusSpec::default()).unwrap();
    let flagged: Vec<&str> = r
        .members
        .iter()
        .filter(|m| m.severity != relkit_audit::Severity::Ok)
        .map(|m| m.path.as_str())
        .collect();
    // The core metadata's content (PKG-INFO, also in egg-info/) is not reproduced (no build
    // backend runs here): for review. setuptools' egg-info lists are checked line by line.
    assert_eq!(flagged, ["PKG-INFO", "src/demo.egg-info/PKG-INFO"]);
    assert_eq!(member(&r, "PKG-INFO").class, Class::GeneratedUnverified);
    assert_eq!(
        member(&r, "src/demo.egg-info/SOURCES.txt").class,
        Class::Generated
    );
    assert_eq!(member(&r, "setup.cfg").class, Class::Updated);
    assert_eq!(
        member(&r, "src/demo.egg-info/SOURCES.txt").detail,
        "generated by setuptools egg_info (sdist metadata) from setup.py"
    );
    assert_eq!(
        member(&r, "PKG-INFO").detail,
        "generated by a Python build backend (core metadata PKG-INFO) from setup.py; content not reproduced: not regenerated (run with --regenerate and the generator's version to reproduce it)"
    );

    // A SOURCES.txt naming a file the tag does not have is not explained.
    let x = tmp.path().join("x");
    std::fs::create_dir_all(&x).unwrap();
    run_ok(
        Command::new("tar")
            .arg("-xzf")
            .arg(&sdist)
            .arg("-C")
            .arg(&x),
    );
    let sources = x.join("demo-1.0/src/demo.egg-info/SOURCES.txt");
    let text = std::fs::read_to_string(&sources).unwrap();
    let text = format!("{}\nsrc/demo.egg-info/payload.bin\n", text.trim_end());
    std::fs::write(&sources, text).unwrap();
    let r = audit_tarball(&x, &reference, &CorpusSpec::default()).unwrap();
    assert_eq!(
        member(&r, "src/demo.egg-info/SOURCES.txt").class,
        Class::Unexplained
    );
}
