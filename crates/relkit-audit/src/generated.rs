//! Recognizing files that a known tool generated, from their content (generator banners
//! and structure), never from the file name alone: autoconf `configure`, automake
//! `Makefile.in`, aclocal's `aclocal.m4`, autoheader's `config.h.in`, gettext's compiled
//! catalogs (`.gmo`), message templates (`.pot`, from xgettext or po4a), po4a-translated
//! man pages, man pages rendered to text or typeset by groff to PDF/PostScript/HTML,
//! gettext's `stamp-po`, the `.tarball-version` stamp of gnulib's git-version-gen, Python
//! sdist metadata (PKG-INFO, setuptools' egg-info files), Bison parsers, flex scanners,
//! gperf hash functions, makeinfo's Info manuals, texi2html's and Texinfo's HTML manuals,
//! help2man's man pages and automake's `version.texi`/`stamp-vti`.
//!
//! Each recognizer also names the input the tool works from (`Makefile.am`,
//! `configure.ac`, `de.po`…), so the audit can check that this input is in the tag.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::bytes::Regex;

/// A file recognized as the output of a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// The tool and what it made, e.g. `automake 1.17 (Makefile.in)`.
    pub tool: String,
    /// The inputs the tool works from: any one of them present in the tag explains the file.
    pub inputs: Vec<String>,
    /// Whether the recognizer checked the whole content, so that nothing in it is left
    /// unexplained (a one-line version stamp, setuptools' egg-info lists, `@set` lines):
    /// such a file is `generated`; any other needs regeneration to be more than
    /// `generated_unverified`.
    pub checked: bool,
}

fn first_line(content: &[u8]) -> &[u8] {
    let end = content
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(content.len());
    &content[..end]
}

fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i + 1])
}

fn captured(re: &Regex, hay: &[u8]) -> Option<String> {
    let c = re.captures(hay)?;
    Some(String::from_utf8_lossy(c.get(1)?.as_bytes()).into_owned())
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// Recognizes the tool that generated `content` (stored at `path` in the tarball); `tag`
/// holds the tag's file paths, used to name the generator's input when it has several
/// possible places.
pub fn recognize(path: &str, content: &[u8], tag: &BTreeSet<String>) -> Option<Recognized> {
    let head = &content[..content.len().min(4096)];
    let dir = dir_of(path);
    let line1 = first_line(head);
    let found = autotools(content, head, dir, line1)
        .or_else(|| gettext_files(path, content, head, dir, tag))
        .or_else(|| man_pages(path, content, head, dir, line1, tag));
    if found.is_some() {
        return found;
    }
    // Python sdists: the core metadata (PKG-INFO) and setuptools' egg-info directory, made
    // by the build backend from the project's pyproject.toml / setup.py / setup.cfg.
    if let Some(tool) = python_metadata(path, content, tag) {
        return Some(Recognized {
            tool: tool.into(),
            inputs: python_project_files(path, tag),
            checked: tool.starts_with("setuptools egg_info"),
        });
    }
    // gnulib's dist-hook writes the version git-version-gen computed into .tarball-version
    // (and `.version`): one line holding a version.
    static VERSION_FILE: OnceLock<Regex> = OnceLock::new();
    let name = path.rsplit('/').next().unwrap_or(path);
    if matches!(name, ".tarball-version" | ".version")
        && re(&VERSION_FILE, r"^[0-9][0-9A-Za-z.+~-]*\n?$").is_match(content)
    {
        let inputs = tag
            .iter()
            .filter(|p| p.rsplit('/').next() == Some("git-version-gen"))
            .cloned()
            .collect();
        return Some(Recognized {
            tool: "git-version-gen via make dist (version stamp)".into(),
            inputs,
            checked: true,
        });
    }
    if let Some(r) = parser_or_doc_generator(path, content, head, tag) {
        return Some(r);
    }
    if content == b"timestamp\n" && path.ends_with("stamp-po") {
        return Some(Recognized {
            tool: "gettext po/Makefile (catalog update stamp)".into(),
            inputs: vec![format!("{dir}Makevars"), format!("{dir}LINGUAS")],
            checked: true,
        });
    }
    None
}

/// The autotools' outputs: a configure script, a Makefile.in, aclocal.m4, a config header
/// template.
fn autotools(content: &[u8], head: &[u8], dir: &str, line1: &[u8]) -> Option<Recognized> {
    static AUTOCONF: OnceLock<Regex> = OnceLock::new();
    static AUTOMAKE: OnceLock<Regex> = OnceLock::new();
    static ACLOCAL: OnceLock<Regex> = OnceLock::new();
    // autoconf: a shell script whose header names the generator and that defines as_fn_*.
    if head.starts_with(b"#! /bin/sh") || head.starts_with(b"#!/bin/sh") {
        let autoconf = re(
            &AUTOCONF,
            r"(?m)^# Generated by GNU Autoconf ([0-9][0-9.a-z]*)",
        );
        if let Some(v) = captured(autoconf, head)
            && contains(content, b"as_fn_exit")
        {
            return Some(Recognized {
                tool: format!("autoconf {v} (configure script)"),
                inputs: vec![format!("{dir}configure.ac"), format!("{dir}configure.in")],
                checked: false,
            });
        }
    }
    let automake = re(
        &AUTOMAKE,
        r"^# Makefile\.in generated by automake ([0-9][0-9.a-z]*) from Makefile\.am\.",
    );
    if let Some(v) = captured(automake, line1) {
        return Some(Recognized {
            tool: format!("automake {v} (Makefile.in)"),
            inputs: vec![format!("{dir}Makefile.am")],
            checked: false,
        });
    }
    let aclocal = re(
        &ACLOCAL,
        r"^# generated automatically by aclocal ([0-9][0-9.a-z]*) ",
    );
    if let Some(v) = captured(aclocal, line1) {
        return Some(Recognized {
            tool: format!("aclocal {v} (aclocal.m4)"),
            inputs: vec![format!("{dir}configure.ac"), format!("{dir}configure.in")],
            checked: false,
        });
    }
    if line1.starts_with(b"/* ")
        && line1.ends_with(b"Generated from configure.ac by autoheader.  */")
    {
        // The header may live below configure.ac (AC_CONFIG_HEADERS([src/config.h])).
        return Some(Recognized {
            tool: "autoheader (config header template)".into(),
            inputs: ancestors(dir).map(|d| format!("{d}configure.ac")).collect(),
            checked: false,
        });
    }
    None
}

/// gettext's outputs: a compiled message catalog, a PO template (xgettext or po4a).
fn gettext_files(
    path: &str,
    content: &[u8],
    head: &[u8],
    dir: &str,
    tag: &BTreeSet<String>,
) -> Option<Recognized> {
    // GNU message catalog: the magic number in either byte order.
    if content.len() >= 28
        && (content.starts_with(&[0xde, 0x12, 0x04, 0x95])
            || content.starts_with(&[0x95, 0x04, 0x12, 0xde]))
    {
        let stem = path.rsplit('/').next().unwrap_or(path);
        let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
        return Some(Recognized {
            tool: "msgfmt (compiled message catalog)".into(),
            inputs: vec![format!("{dir}{stem}.po")],
            checked: false,
        });
    }
    // A PO template: the header entry with POT-Creation-Date and the placeholder revision.
    if contains(head, b"\nmsgid \"\"\nmsgstr \"\"\n")
        && contains(head, b"\"POT-Creation-Date: ")
        && contains(head, b"\"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE")
    {
        let (tool, inputs) = if contains(head, b"\"Project-Id-Version: ")
            && tag.contains(&format!("{dir}po4a.conf"))
        {
            (
                "po4a (translation template)",
                vec![format!("{dir}po4a.conf")],
            )
        } else {
            (
                "xgettext (translation template)",
                vec![format!("{dir}POTFILES.in")],
            )
        };
        return Some(Recognized {
            tool: tool.into(),
            inputs,
            checked: false,
        });
    }
    None
}

/// Man pages made from another form: translated by po4a, rendered to text, typeset by groff.
fn man_pages(
    path: &str,
    content: &[u8],
    head: &[u8],
    dir: &str,
    line1: &[u8],
    tag: &BTreeSet<String>,
) -> Option<Recognized> {
    static MANHEAD: OnceLock<Regex> = OnceLock::new();
    static PO4A: OnceLock<Regex> = OnceLock::new();
    // A man page translated by po4a: roff with po4a's banner.
    let po4a = re(
        &PO4A,
        r#"(?m)^\.\\" This file was generated with po4a\. Translate the source file\."#,
    );
    if po4a.is_match(head) {
        // po4a/man/<lang>/page.1 comes from po4a/<lang>.po: any `<lang>.po` beside po4a.conf.
        let lang = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let inputs = tag
            .iter()
            .filter(|p| {
                p.ends_with(&format!("/{lang}.po"))
                    && tag.contains(&format!("{}po4a.conf", dir_of(p)))
            })
            .cloned()
            .collect();
        return Some(Recognized {
            tool: "po4a (translated man page)".into(),
            inputs,
            checked: false,
        });
    }
    // A man page rendered to text: `NAME(1)  Title  NAME(1)` then a NAME section.
    let manhead = re(
        &MANHEAD,
        r"^([A-Za-z0-9_.+-]+)\(([0-9][a-z]*)\) .*\b([A-Za-z0-9_.+-]+)\(([0-9][a-z]*)\)$",
    );
    if let Some(c) = manhead.captures(line1)
        && c[1] == c[3]
        && contains(head, b"\nNAME\n")
    {
        let page = format!(
            "{}.{}",
            String::from_utf8_lossy(&c[1]).to_lowercase(),
            String::from_utf8_lossy(&c[2])
        );
        let inputs = tag
            .iter()
            .filter(|p| p.rsplit('/').next() == Some(page.as_str()))
            .cloned()
            .collect();
        return Some(Recognized {
            tool: format!("man (page {page} rendered to text)"),
            inputs,
            checked: false,
        });
    }
    // A man page typeset by groff to PDF or PostScript: the creator groff writes.
    static GROFF_PDF: OnceLock<Regex> = OnceLock::new();
    static GROFF_PS: OnceLock<Regex> = OnceLock::new();
    let groff = if content.starts_with(b"%PDF-") {
        captured(
            re(&GROFF_PDF, r"/Creator ?\(groff version ([0-9][0-9.]*)\)"),
            content,
        )
        .map(|v| (v, "PDF"))
    } else if content.starts_with(b"%!PS-Adobe-") {
        captured(
            re(&GROFF_PS, r"(?m)^%%Creator: groff version ([0-9][0-9.]*)"),
            head,
        )
        .map(|v| (v, "PostScript"))
    } else {
        None
    };
    if let Some((version, format)) = groff {
        // The page is named by the file: xz-a4.pdf, xz-letter.pdf, xz.pdf → a page xz.<section>.
        let name = path.rsplit('/').next().unwrap_or(path);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        let mut stems = vec![stem];
        let mut rest = stem;
        while let Some((shorter, _)) = rest.rsplit_once('-') {
            stems.push(shorter);
            rest = shorter;
        }
        let inputs = tag
            .iter()
            .filter(|p| {
                let file = p.rsplit('/').next().unwrap_or(p);
                file.rsplit_once('.').is_some_and(|(page, section)| {
                    stems.contains(&page)
                        && section.starts_with(|c: char| c.is_ascii_digit())
                        && section.len() <= 4
                })
            })
            .cloned()
            .collect();
        return Some(Recognized {
            tool: format!("groff {version} (man page typeset to {format})"),
            inputs,
            checked: false,
        });
    }
    None
}

/// Tag files that a generator names as its input (`plural.y`, `gettext.texi`): the name
/// beside the generated file first, then any file of the tag with that base name.
fn named_input(dir: &str, name: &str, tag: &BTreeSet<String>) -> Vec<String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let beside = format!("{dir}{name}");
    let elsewhere: Vec<String> = tag
        .iter()
        .filter(|p| p.rsplit('/').next() == Some(base) && **p != beside)
        .cloned()
        .collect();
    let mut out = vec![beside];
    out.extend(elsewhere);
    out
}

/// The Texinfo manuals of the tag directly in `dir` (the sources of a generated
/// `version.texi` or HTML manual beside them).
fn texinfo_sources_in(dir: &str, tag: &BTreeSet<String>) -> Vec<String> {
    tag.iter()
        .filter(|p| {
            dir_of(p) == dir
                && [".texi", ".texinfo", ".txi"]
                    .iter()
                    .any(|e| p.rsplit('/').next().is_some_and(|f| f.ends_with(e)))
        })
        .cloned()
        .collect()
}

/// Parser generators (Bison, flex, gperf) and documentation tools (makeinfo, texi2html,
/// Texinfo's HTML, help2man, automake's `version.texi` stamp, groff's HTML) as GNU release
/// tarballs carry their output: each by its banner plus a structural mark (the C code the
/// banner heads, Info's node separators, an HTML document, roff's `.TH`), with the input
/// the output itself names where it does.
fn parser_or_doc_generator(
    path: &str,
    content: &[u8],
    head: &[u8],
    tag: &BTreeSet<String>,
) -> Option<Recognized> {
    parser_generator(path, content, head, tag).or_else(|| doc_generator(path, content, head, tag))
}

/// Parser generators: Bison, flex, gperf (the grammar named by `#line` directives or the
/// command line the output records).
fn parser_generator(
    path: &str,
    content: &[u8],
    head: &[u8],
    tag: &BTreeSet<String>,
) -> Option<Recognized> {
    static BISON: OnceLock<Regex> = OnceLock::new();
    static GPERF: OnceLock<Regex> = OnceLock::new();
    static LINE_DIRECTIVE: OnceLock<Regex> = OnceLock::new();
    let dir = dir_of(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    // `#line N "grammar.y"` directives name the grammar a parser or scanner was made from.
    let grammar = |extensions: &[&str]| -> Vec<String> {
        let line = re(&LINE_DIRECTIVE, r#"(?m)^#line [0-9]+ "([^"\n]+)""#);
        let mut inputs = Vec::new();
        for c in line.captures_iter(&content[..content.len().min(256 << 10)]) {
            let file = String::from_utf8_lossy(&c[1]).into_owned();
            if extensions.iter().any(|e| file.ends_with(e)) && !inputs.contains(&file) {
                inputs.push(file);
            }
        }
        if inputs.is_empty() {
            inputs = extensions.iter().map(|e| format!("{stem}{e}")).collect();
        }
        inputs
            .iter()
            .flat_map(|f| named_input(dir, f, tag))
            .collect()
    };
    if let Some(v) = captured(
        re(
            &BISON,
            r"^/\* A Bison parser, made by GNU Bison ([0-9][0-9.]*)\.  \*/",
        ),
        head,
    ) && (contains(content, b"YYBISON") || contains(content, b"Bison interface"))
    {
        return Some(Recognized {
            tool: format!("GNU Bison {v} (parser)"),
            inputs: grammar(&[".y", ".yy", ".ypp"]),
            checked: false,
        });
    }
    // At the start of lines: flex's own skeleton (skel.c) quotes both in C strings.
    if contains(head, b"\n/* A lexical scanner generated by flex */\n")
        && contains(content, b"\n#define FLEX_SCANNER")
    {
        return Some(Recognized {
            tool: "flex (scanner)".into(),
            inputs: grammar(&[".l", ".ll", ".lex"]),
            checked: false,
        });
    }
    let gperf = re(
        &GPERF,
        r"^/\* (?:ANSI-)?C(?:\+\+)? code produced by gperf version ([0-9][0-9.]*) \*/\n/\* Command-line: gperf [^\n]*?(\S+\.gperf)\s",
    );
    if let Some(c) = gperf.captures(head) {
        let input = String::from_utf8_lossy(&c[2]).into_owned();
        return Some(Recognized {
            tool: format!("gperf {} (perfect hash)", String::from_utf8_lossy(&c[1])),
            inputs: named_input(dir, &input, tag),
            checked: false,
        });
    }
    None
}

/// Documentation tools: makeinfo, texi2html, Texinfo's HTML, help2man, groff's HTML and
/// automake's `version.texi` stamp.
fn doc_generator(
    path: &str,
    content: &[u8],
    head: &[u8],
    tag: &BTreeSet<String>,
) -> Option<Recognized> {
    static MAKEINFO: OnceLock<Regex> = OnceLock::new();
    static TEXI2HTML: OnceLock<Regex> = OnceLock::new();
    static TEXINFO_HTML: OnceLock<Regex> = OnceLock::new();
    static HELP2MAN: OnceLock<Regex> = OnceLock::new();
    static GROFF_HTML: OnceLock<Regex> = OnceLock::new();
    static VERSION_TEXI: OnceLock<Regex> = OnceLock::new();
    let dir = dir_of(path);
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let makeinfo = re(
        &MAKEINFO,
        r"^This is (\S+), produced by [Mm]akeinfo version ([0-9][0-9.]*) from\s+(\S+?)\.?\s",
    );
    // Info files are nodes separated by `\x1f` lines; a split manual's main file holds the
    // indirect table instead.
    if let Some(c) = makeinfo.captures(head)
        && [
            &b"\x1f\nFile: "[..],
            b"\x1f\nIndirect:",
            b"\x1f\nTag Table:",
        ]
        .iter()
        .any(|mark| contains(content, mark))
    {
        let source = String::from_utf8_lossy(&c[3]).into_owned();
        return Some(Recognized {
            tool: format!("makeinfo {} (Info manual)", String::from_utf8_lossy(&c[2])),
            inputs: named_input(dir, &source, tag),
            checked: false,
        });
    }
    let texi2html = re(
        &TEXI2HTML,
        r#"<meta name="[Gg]enerator" content="texi2html ([0-9][0-9.a-z]*)">"#,
    );
    let texinfo_html = re(
        &TEXINFO_HTML,
        r"<!-- Created by GNU Texinfo ([0-9][0-9.]*),",
    );
    let html = if let Some(v) = captured(texi2html, head) {
        Some(format!("texi2html {v} (HTML manual)"))
    } else {
        captured(texinfo_html, head).map(|v| format!("GNU Texinfo {v} (HTML manual)"))
    };
    // The banner inside an HTML document, not merely quoted in a file.
    if let Some(tool) = html.filter(|_| contains(head, b"<html")) {
        // Split manuals live beside their source or in a `manual/`-like subdirectory.
        let mut inputs = texinfo_sources_in(dir, tag);
        if inputs.is_empty() {
            let parent = dir_of(dir.trim_end_matches('/'));
            inputs = texinfo_sources_in(parent, tag);
        }
        return Some(Recognized {
            tool,
            inputs,
            checked: false,
        });
    }
    if let Some(v) = captured(
        re(
            &HELP2MAN,
            r#"^\.\\" DO NOT MODIFY THIS FILE!  It was generated by help2man ([0-9][0-9.]*)\."#,
        ),
        head,
    ) && contains(head, b"\n.TH ")
    {
        // help2man runs the built program; what the tag holds is its include file
        // (`page.x`) or the build rule that names it.
        let page = stem;
        let mut inputs = vec![format!("{dir}{page}.x")];
        inputs
            .extend(["Makefile.am", "CMakeLists.txt", "meson.build"].map(|f| format!("{dir}{f}")));
        return Some(Recognized {
            tool: format!("help2man {v} (man page from --help)"),
            inputs,
            checked: false,
        });
    }
    if let Some(v) = captured(
        re(
            &GROFF_HTML,
            r"^<!-- Creator     : groff version ([0-9][0-9.]*) -->",
        ),
        head,
    ) && contains(head, b"groff -Thtml")
    {
        // page.1.html is typeset from page.1 (itself possibly generated: its include file
        // page.x then).
        let page = name.strip_suffix(".html").unwrap_or(name);
        let page_stem = page.rsplit_once('.').map_or(page, |(s, _)| s);
        let mut inputs = named_input(dir, page, tag);
        inputs.push(format!("{dir}{page_stem}.x"));
        return Some(Recognized {
            tool: format!("groff {v} (man page typeset to HTML)"),
            inputs,
            checked: false,
        });
    }
    // automake's texinfo rules write version.texi / stamp-vti with mdate-sh: `@set` lines
    // (UPDATED, UPDATED-MONTH, EDITION, VERSION…) and nothing else.
    if name.starts_with("stamp-") || (name.starts_with("version") && name.ends_with(".texi")) {
        let only_sets = re(&VERSION_TEXI, r"^(?:@set [A-Z][A-Z-]* [^\n`$;|&]*\n){2,8}$");
        if only_sets.is_match(content) && contains(content, b"@set UPDATED ") {
            return Some(Recognized {
                tool: "automake's mdate-sh via make (Texinfo version stamp)".into(),
                inputs: texinfo_sources_in(dir, tag),
                checked: true,
            });
        }
    }
    None
}

/// The files setuptools' egg_info writes into `NAME.egg-info/`.
const EGG_INFO_FILES: [&str; 9] = [
    "PKG-INFO",
    "SOURCES.txt",
    "top_level.txt",
    "requires.txt",
    "dependency_links.txt",
    "entry_points.txt",
    "namespace_packages.txt",
    "not-zip-safe",
    "zip-safe",
];

/// The kind of Python packaging metadata `content` is, checked by content: PKG-INFO's
/// `Metadata-Version`/`Name` headers, and in a `*.egg-info/` directory the files setuptools'
/// egg_info writes (SOURCES.txt listing files of the tag or of the egg-info directory,
/// top_level.txt listing identifiers, requirement and link lists without shell syntax).
fn python_metadata(path: &str, content: &[u8], tag: &BTreeSet<String>) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let text = std::str::from_utf8(content).ok()?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    if name == "PKG-INFO" {
        let core = text.starts_with("Metadata-Version: ") && text.contains("\nName: ");
        return core.then_some("a Python build backend (core metadata PKG-INFO)");
    }
    let dir = dir_of(path);
    let egg_info = dir.trim_end_matches('/');
    if !egg_info.ends_with(".egg-info") {
        return None;
    }
    let plain = |l: &str| !l.contains(['`', '$', ';', '|', '&']);
    let ok = match name {
        // Paths relative to the project root (where setup.py is): the egg-info directory's
        // parent, or one of its ancestors (`src/` layouts).
        "SOURCES.txt" => {
            let listed: Vec<&str> = lines.map(str::trim_end).collect();
            let mut root = dir_of(egg_info);
            loop {
                let fits = listed.iter().all(|l| {
                    let in_root = format!("{root}{l}");
                    tag.contains(&in_root)
                        || in_root
                            .strip_prefix(dir)
                            .is_some_and(|f| EGG_INFO_FILES.contains(&f))
                        || matches!(*l, "PKG-INFO" | "setup.cfg")
                });
                if fits || root.is_empty() {
                    break fits;
                }
                root = dir_of(root.trim_end_matches('/'));
            }
        }
        "top_level.txt" => lines.all(|l| {
            l.trim_end()
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        }),
        "not-zip-safe" | "zip-safe" => content.iter().all(u8::is_ascii_whitespace),
        other if EGG_INFO_FILES.contains(&other) => lines.all(plain),
        _ => false,
    };
    ok.then_some("setuptools egg_info (sdist metadata)")
}

/// The Python project files (pyproject.toml, setup.py, setup.cfg) of the tag in the
/// directories containing `path`, nearest first.
fn python_project_files(path: &str, tag: &BTreeSet<String>) -> Vec<String> {
    ancestors(dir_of(path))
        .flat_map(|dir| ["pyproject.toml", "setup.py", "setup.cfg"].map(|f| format!("{dir}{f}")))
        .filter(|candidate| tag.contains(candidate))
        .collect()
}

/// `dir` (a directory prefix ending in `/`, or empty for the top) and each directory above
/// it, nearest first, ending with the top (`""`).
fn ancestors(dir: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(dir), |d| {
        (!d.is_empty()).then(|| dir_of(d.trim_end_matches('/')))
    })
}

/// Whether a `setup.cfg` is the tag's with only the `[egg_info]` section (`tag_build`,
/// `tag_date`, `tag_svn_revision`) that setuptools' sdist appends.
pub fn setuptools_setup_cfg(tag: &[u8], tarball: &[u8]) -> bool {
    let (Ok(tag), Ok(tarball)) = (std::str::from_utf8(tag), std::str::from_utf8(tarball)) else {
        return false;
    };
    let Some(at) = tarball.rfind("[egg_info]") else {
        return false;
    };
    let (before, section) = tarball.split_at(at);
    let keys_ok = section.lines().skip(1).all(|l| {
        let key = l.split('=').next().unwrap_or("").trim();
        key.is_empty() || matches!(key, "tag_build" | "tag_date" | "tag_svn_revision")
    });
    keys_ok && before.trim_end() == tag.trim_end()
}

/// Whether `needle` occurs in `hay`.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(paths: &[&str]) -> BTreeSet<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    /// A real generated file of `tests/fixtures/generated/` (see its ATTRIBUTION.md).
    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../tests/fixtures/generated/", $name)).as_slice()
        };
    }

    #[test]
    fn parser_generators_are_recognized_with_the_grammar_they_name() {
        let t = tag(&["src/scan.l", "src/parse.y", "lib/iconv_open-aix.gperf"]);
        let r = recognize("src/scan.c", fixture!("scan.c"), &t).unwrap();
        assert_eq!(r.tool, "flex (scanner)");
        assert_eq!(r.inputs, ["src/scan.l"]);
        let r = recognize("src/parse.h", fixture!("parse.h"), &t).unwrap();
        assert_eq!(r.tool, "GNU Bison 3.0.4 (parser)");
        assert_eq!(r.inputs, ["src/parse.y", "src/parse.yy", "src/parse.ypp"]);
        // gperf's command line names its input; found elsewhere in the tag by its name.
        let r = recognize(
            "gnulib-lib/iconv_open-aix.h",
            fixture!("iconv_open-aix.h"),
            &t,
        )
        .unwrap();
        assert_eq!(r.tool, "gperf 3.3 (perfect hash)");
        assert_eq!(
            r.inputs,
            [
                "gnulib-lib/iconv_open-aix.gperf",
                "lib/iconv_open-aix.gperf"
            ]
        );
        // A banner alone, without the generator's structure, is not enough.
        let banner_only =
            b"/* A Bison parser, made by GNU Bison 3.8.2.  */\nint main(void) { return 0; }\n";
        assert_eq!(recognize("src/parse.c", banner_only, &t), None);
        let flex_banner_only = b"\n/* A lexical scanner generated by flex */\nsystem(\"sh\");\n";
        assert_eq!(recognize("src/scan.c", flex_banner_only, &t), None);
        // flex's skeleton compiled into flex: the banner quoted in a C string.
        let skeleton = b"const char *skel[] = {\n  \"/* A lexical scanner generated by flex */\",\n  \"#define FLEX_SCANNER\",\n";
        assert_eq!(recognize("src/skel.c", skeleton, &t), None);
    }

    #[test]
    fn autoheader_templates_below_configure_ac_name_it() {
        let header = b"/* src/config.h.in.  Generated from configure.ac by autoheader.  */\n";
        let r = recognize("src/config.h.in", header, &tag(&["configure.ac"])).unwrap();
        assert_eq!(r.inputs, ["src/configure.ac", "configure.ac"]);
    }

    #[test]
    fn documentation_tools_are_recognized_with_their_sources() {
        let t = tag(&["doc/flex.texi", "doc/Makefile.am", "doc/gettext.texi"]);
        let r = recognize("doc/flex.info", fixture!("flex.info"), &t).unwrap();
        assert_eq!(r.tool, "makeinfo 6.1 (Info manual)");
        assert_eq!(r.inputs, ["doc/flex.texi"]);
        let r = recognize("doc/flex.info-1", fixture!("flex.info-1"), &t).unwrap();
        assert_eq!(r.inputs, ["doc/flex.texi"]);
        let r = recognize("doc/stamp-vti", fixture!("stamp-vti"), &t).unwrap();
        assert_eq!(
            r.tool,
            "automake's mdate-sh via make (Texinfo version stamp)"
        );
        assert_eq!(r.inputs, ["doc/flex.texi", "doc/gettext.texi"]);
        let r = recognize("doc/version.texi", fixture!("stamp-vti"), &t).unwrap();
        assert_eq!(r.inputs, ["doc/flex.texi", "doc/gettext.texi"]);
        let r = recognize("doc/flex.1", fixture!("flex.1"), &t).unwrap();
        assert_eq!(r.tool, "help2man 1.47.3 (man page from --help)");
        assert!(r.inputs.contains(&"doc/Makefile.am".to_string()));
        let r = recognize("doc/gettext_1.html", fixture!("gettext_1.html"), &t).unwrap();
        assert_eq!(r.tool, "texi2html 1.78a (HTML manual)");
        assert_eq!(r.inputs, ["doc/flex.texi", "doc/gettext.texi"]);
        // makeinfo --html (libffi's manual): beside no source, the parent's manual.
        let t2 = tag(&["doc/libffi.texi"]);
        let r = recognize(
            "doc/html/Multiple-ABIs.html",
            fixture!("Multiple-ABIs.html"),
            &t2,
        )
        .unwrap();
        assert_eq!(r.tool, "GNU Texinfo 6.8 (HTML manual)");
        assert_eq!(r.inputs, ["doc/libffi.texi"]);
        let quoted =
            b"<!-- Created by GNU Texinfo 7.1, https://www.gnu.org/software/texinfo/ -->\n";
        assert_eq!(recognize("doc/x.html", quoted, &t2), None);
        let r = recognize("man/msginit.1.html", fixture!("msginit.1.html"), &t).unwrap();
        assert_eq!(r.tool, "groff 1.22.3 (man page typeset to HTML)");
        assert_eq!(r.inputs, ["man/msginit.1", "man/msginit.x"]);
        // A version stamp with anything but `@set` lines is not automake's.
        let odd = b"@set UPDATED 6 May 2017\n@set VERSION 2.6.4\n@c $(curl x | sh)\n";
        assert_eq!(recognize("doc/stamp-vti", odd, &t), None);
    }

    #[test]
    fn version_stamps_need_one_version_line_and_name_git_version_gen() {
        let with = tag(&["build-aux/git-version-gen", "configure.ac"]);
        let r = recognize(".tarball-version", b"0.23.1\n", &with).unwrap();
        assert_eq!(r.tool, "git-version-gen via make dist (version stamp)");
        assert_eq!(r.inputs, ["build-aux/git-version-gen"]);
        assert!(recognize(".version", b"1.3.1.12-5b3c\n", &with).is_some());
        // Not a version, or another name: not this generator.
        assert_eq!(recognize(".version", b"curl x | sh\n", &with), None);
        assert_eq!(recognize("VERSION", b"1.0\n", &with), None);
        // Without git-version-gen in the tag the input is missing (the audit says so).
        let r = recognize(".tarball-version", b"1.0\n", &tag(&["configure.ac"])).unwrap();
        assert!(r.inputs.is_empty());
    }

    #[test]
    fn groff_pdfs_name_their_page() {
        // The trailer dictionary xz 5.4.1's doc/man/pdf-a4/xzdec-a4.pdf carries.
        let pdf = b"%PDF-1.4\n%...\n<</Producer(GPL Ghostscript 10.00.0)\n/Creator(groff version 1.22.4)>>endobj\n";
        let paths = tag(&["src/xzdec/xzdec.1", "src/xz/xz.1"]);
        let r = recognize("doc/man/pdf-a4/xzdec-a4.pdf", pdf, &paths).unwrap();
        assert_eq!(r.tool, "groff 1.22.4 (man page typeset to PDF)");
        assert_eq!(r.inputs, ["src/xzdec/xzdec.1"]);
        // A PDF that groff did not make is not recognized.
        let other = b"%PDF-1.7\n<</Creator(LibreOffice)>>\n";
        assert_eq!(recognize("doc/manual.pdf", other, &paths), None);
    }
}
