//! The source evidence rules and their extraction: which files to read for a library and how
//! to read its version out of them. The rules are the `[[library.source]]` rows of relkit's one
//! libraries table (`relkit_ident::libraries`), compiled here.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// One library of the rules table.
#[derive(Debug)]
pub struct Library {
    /// Name as SBOMs spell it.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// CPE `vendor:product` pairs.
    pub cpe: Vec<String>,
    /// Files to read, in order.
    pub evidence: Vec<FileRule>,
}

/// How one file records a version.
#[derive(Debug)]
pub struct FileRule {
    /// File name or path suffix; `None` for the wheel rule.
    pub file: Option<String>,
    /// Alternative regexes; group 1 is the version.
    pub version: Vec<Regex>,
    /// Regexes whose group 1 are the dot-joined parts.
    pub parts: Vec<Regex>,
    /// The version is a git commit.
    pub commit: bool,
    /// The bundled-wheel rule.
    pub wheel: bool,
}

/// The compiled rules table.
#[derive(Debug)]
pub struct Rules {
    /// Library-specific rows.
    pub libraries: Vec<Library>,
    /// Generic fallback rows, tried in the package directory.
    pub generic: Vec<FileRule>,
}

fn compile(row: &relkit_ident::libraries::SourceRule) -> FileRule {
    let re = |s: &String| {
        RegexBuilder::new(s)
            .multi_line(true)
            .build()
            .unwrap_or_else(|e| panic!("libraries.toml: bad source regex {s:?}: {e}"))
    };
    FileRule {
        file: row.file.clone(),
        version: row.version.iter().map(re).collect(),
        parts: row.parts.iter().map(re).collect(),
        commit: row.commit,
        wheel: row.wheel,
    }
}

/// The source rules of the libraries table, compiled once (the table is unit-tested).
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let table = relkit_ident::libraries::table();
        Rules {
            libraries: table
                .library
                .iter()
                .map(|l| Library {
                    name: l.name.clone(),
                    aliases: l.aliases.clone(),
                    cpe: l.cpe.clone(),
                    evidence: l.source.iter().map(compile).collect(),
                })
                .collect(),
            generic: table.generic.iter().map(compile).collect(),
        }
    })
}

/// A version read from a file: the version, the 1-based line and byte offset of the first
/// match, and the matched text (all parts, `; `-joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The version.
    pub version: String,
    /// 1-based line of the (first) match.
    pub line: u64,
    /// Byte offset of the (first) match.
    pub offset: u64,
    /// The matched text.
    pub text: String,
}

fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

impl FileRule {
    /// Reads the version out of a file's text, or `None` when the rule does not match.
    pub fn extract(&self, text: &str) -> Option<Extracted> {
        for re in &self.version {
            if let Some(c) = re.captures(text) {
                let whole = c.get(0).expect("group 0");
                return Some(Extracted {
                    version: c[1].to_string(),
                    line: line_of(text, whole.start()),
                    offset: whole.start() as u64,
                    text: whole.as_str().trim().to_string(),
                });
            }
        }
        if self.parts.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        let mut texts = Vec::new();
        let mut first = None;
        for re in &self.parts {
            let c = re.captures(text)?;
            let whole = c.get(0).expect("group 0");
            first.get_or_insert(whole.start());
            parts.push(c[1].to_string());
            texts.push(format!(
                "{} (line {})",
                whole.as_str().trim(),
                line_of(text, whole.start())
            ));
        }
        let start = first.expect("at least one part");
        Some(Extracted {
            version: parts.join("."),
            line: line_of(text, start),
            offset: start as u64,
            text: texts.join("; "),
        })
    }

    /// What this rule looks for, for "unverifiable" reports.
    pub fn describe(&self) -> String {
        if self.wheel {
            return "*.whl file name and *.dist-info/METADATA Version".into();
        }
        let file = self.file.as_deref().unwrap_or("?");
        let what = if !self.parts.is_empty() {
            "version parts"
        } else if self.commit {
            "pinned commit"
        } else {
            "version"
        };
        format!("{file} ({what})")
    }
}

/// Normalizes a name for comparison: lowercase, `_`/`.` as `-` (PEP 503 style).
pub fn normalize_name(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

impl Rules {
    /// The library row for a package, by name/alias, or by a CPE `vendor:product`.
    pub fn library_for(&self, name: &str, cpe_vendor_products: &[String]) -> Option<&Library> {
        let n = normalize_name(name);
        self.libraries
            .iter()
            .find(|l| {
                normalize_name(&l.name) == n || l.aliases.iter().any(|a| normalize_name(a) == n)
            })
            .or_else(|| {
                self.libraries.iter().find(|l| {
                    l.cpe.iter().any(|vp| {
                        cpe_vendor_products
                            .iter()
                            .any(|c| c.eq_ignore_ascii_case(vp))
                    })
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_compile_and_cover_the_named_libraries() {
        let r = rules();
        for name in [
            "expat",
            "zlib",
            "sqlite",
            "openssl",
            "mpdecimal",
            "libffi",
            "bzip2",
            "xz",
            "tcl-core",
            "tk",
            "libb2",
            "hacl-star",
            "macholib",
        ] {
            assert!(r.library_for(name, &[]).is_some(), "{name}");
        }
        assert_eq!(r.generic.iter().filter(|g| g.wheel).count(), 1);
    }

    #[test]
    fn parts_report_first_line_and_all_texts() {
        let lib = rules().library_for("expat", &[]).unwrap();
        let text = "x\n#define XML_MAJOR_VERSION 2\n#define XML_MINOR_VERSION 7\n#define XML_MICRO_VERSION 1\n";
        let e = lib.evidence[0].extract(text).unwrap();
        assert_eq!(e.version, "2.7.1");
        assert_eq!(e.line, 2);
        assert!(
            e.text.contains("XML_MICRO_VERSION 1 (line 4)"),
            "{}",
            e.text
        );
    }

    #[test]
    fn generic_rows_read_their_files() {
        let g = &rules().generic;
        let find = |f: &str| g.iter().find(|r| r.file.as_deref() == Some(f)).unwrap();
        let v = |f: &str, t: &str| find(f).extract(t).map(|e| e.version);
        assert_eq!(v("VERSION", "1.2.3\n").as_deref(), Some("1.2.3"));
        assert_eq!(
            v(
                "configure.ac",
                "AC_PREREQ(2.69)\nAC_INIT([libb2], [0.98.1], [x@y])\n"
            )
            .as_deref(),
            Some("0.98.1")
        );
        assert_eq!(
            v(
                "CMakeLists.txt",
                "cmake_minimum_required(VERSION 3.5)\nproject(zstd VERSION 1.5.6 LANGUAGES C)\n"
            )
            .as_deref(),
            Some("1.5.6")
        );
        assert_eq!(
            v(
                "meson.build",
                "project('glib', 'c',\n  version : '2.80.0',\n)\n"
            )
            .as_deref(),
            Some("2.80.0")
        );
        assert_eq!(
            v("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.4.1\"\n[dependencies]\ny = { version = \"9\" }\n").as_deref(),
            Some("0.4.1")
        );
        assert_eq!(
            v("package.json", "{\n  \"name\": \"left-pad\",\n  \"version\": \"1.3.0\",\n  \"x\": {\"version\": \"9\"}\n}").as_deref(),
            Some("1.3.0")
        );
        assert_eq!(
            v(
                "pyproject.toml",
                "[build-system]\nrequires = []\n[project]\nname = \"x\"\nversion = \"2.0\"\n"
            )
            .as_deref(),
            Some("2.0")
        );
        // A CMake minimum version is not the project version.
        assert_eq!(
            v("CMakeLists.txt", "cmake_minimum_required(VERSION 3.5)\n"),
            None
        );
    }

    #[test]
    fn libraries_are_found_by_cpe_vendor_product() {
        let r = rules();
        let l = r
            .library_for("libexpat-vendored", &["libexpat_project:libexpat".into()])
            .unwrap();
        assert_eq!(l.name, "expat");
        assert!(r.library_for("nothing-known", &[]).is_none());
    }
}
