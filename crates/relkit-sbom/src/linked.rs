//! Libraries compiled *into* a binary of any format (a static library inside CPython's
//! `_decimal.pyd`, zlib inside `python313.dll`): the `linked` + `bare` binary rules of relkit's
//! libraries table (`relkit_ident::libraries`).
//!
//! A statically linked library exports nothing and has no file of its own; what it leaves in
//! the binary are its own constant strings. A rule names some of them (`linked`: whole strings
//! only that library's code contains, such as libmpdec's internal-error message or zlib's
//! inflate messages) and, optionally, the shape of the version string its version API returns
//! (`bare`: a whole string such as `"4.0.0"`, what `mpd_version()` / `zlibVersion()` return).
//!
//! - Every `linked` pattern must match a whole string of the file, or the rule does not apply:
//!   a binding that only *calls* a shared library (the same module linked dynamically) carries
//!   the binding's strings, not the library's.
//! - A bare version string names no library by itself, so it counts only in a file that
//!   carries the library's own strings; exactly one distinct version is reported, with the
//!   string and its offset as evidence.
//! - No version string, or several distinct ones, is reported as the library being *present,
//!   version unknown* (an empty [`Hit::version`]) with the reason in [`FileScan::notes`]:
//!   never a guess.
//!
//! Rules that read a version another way (VERSIONINFO, a banner, the ELF `symbols` + `rodata`
//! rules) win: a library already found in the file is not looked for here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::{Regex, RegexSet};

use crate::binary::{FileScan, Hit};
use crate::model::Evidence;

/// The evidence method of a version read this way.
pub const METHOD: &str = "linked-strings";

struct Rule {
    name: String,
    /// The library's `unless` literals (the file is another library).
    unless: Option<regex::bytes::Regex>,
    /// Indexes into [`Rules::set`] of this rule's `linked` patterns.
    linked: Vec<usize>,
    bare: Vec<Regex>,
}

struct Rules {
    /// Every rule's `linked` patterns, matched against each string once.
    set: RegexSet,
    /// The same patterns over the raw bytes (`^` as "after a non-printable byte", `$` as "at a
    /// NUL"), each matching a superset of what its pattern matches in whole strings: a file
    /// in which no rule's patterns all occur is not cut into strings (that took a fifth of
    /// `sbom generate` on a `site-packages`). One regex each, not a `RegexSet`: each finds its
    /// literal with SIMD, a set searches without.
    prefilter: Vec<regex::bytes::Regex>,
    rules: Vec<Rule>,
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut rules = Vec::new();
        for lib in relkit_ident::libraries::all() {
            let b = &lib.binary;
            if b.linked.is_empty() {
                continue;
            }
            let linked = (patterns.len()..patterns.len() + b.linked.len()).collect();
            patterns.extend(b.linked.iter().cloned());
            rules.push(Rule {
                name: lib.name.clone(),
                unless: crate::binary::unless_regex(&b.unless),
                linked,
                bare: b
                    .bare
                    .iter()
                    .map(|r| Regex::new(r).expect("libraries.toml: bare regex"))
                    .collect(),
            });
        }
        Rules {
            prefilter: patterns
                .iter()
                .map(|p| regex::bytes::Regex::new(&on_bytes(p)).expect("libraries.toml: linked"))
                .collect(),
            set: RegexSet::new(&patterns).expect("libraries.toml: linked regexes"),
            rules,
        }
    })
}

/// A whole-string pattern as a pattern over a file's bytes. A literal string (anchors aside)
/// becomes that literal, which the regex engine finds with SIMD (an anchor-like prefix such as
/// "after a non-printable byte" makes it scan byte by byte: a third of the run time); other
/// patterns get `^` as "after a non-printable byte" (or at the start), `$` as "before a NUL".
fn on_bytes(pattern: &str) -> String {
    if let Some(lit) = literal_core(pattern) {
        return regex::escape(&lit);
    }
    let mut p = pattern.to_string();
    if let Some(rest) = p.strip_prefix('^') {
        p = format!("(?-u:(?:^|[^\\x20-\\x7e])){rest}");
    }
    if let Some(rest) = p.strip_suffix('$') {
        p = format!("{rest}(?-u:\\x00)");
    }
    p
}

/// The text a pattern matches when it is a literal between optional `^`/`$` anchors (escaped
/// punctuation allowed), else `None`.
fn literal_core(pattern: &str) -> Option<String> {
    let p = pattern.strip_prefix('^').unwrap_or(pattern);
    let p = p.strip_suffix('$').unwrap_or(p);
    let mut out = String::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => out.push(e),
                _ => return None,
            },
            '.' | '[' | ']' | '(' | ')' | '{' | '}' | '*' | '+' | '?' | '|' | '^' | '$' => {
                return None;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// The printable ASCII runs of at least 3 bytes that end at a NUL — whole C strings, as
/// `strings` prints them — with their byte offsets.
pub fn whole_strings(bytes: &[u8]) -> Vec<(u64, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if (0x20..0x7f).contains(&b) {
            continue;
        }
        if b == 0 && i - start >= 3 {
            let s = std::str::from_utf8(&bytes[start..i]).expect("printable ASCII");
            out.push((start as u64, s));
        }
        start = i + 1;
    }
    out
}

/// Applies the `linked` + `bare` rules to one file's bytes, for the libraries not already
/// found in it.
pub fn scan_linked(scan: &mut FileScan, path: &str, bytes: &[u8]) {
    let rules = rules();
    if !rules
        .rules
        .iter()
        .any(|r| r.linked.iter().all(|&i| rules.prefilter[i].is_match(bytes)))
    {
        return;
    }
    let strings = whole_strings(bytes);
    // pattern index → the first string it matched.
    let mut first: BTreeMap<usize, (u64, &str)> = BTreeMap::new();
    for &(off, s) in &strings {
        for i in rules.set.matches(s).iter() {
            first.entry(i).or_insert((off, s));
        }
    }
    for rule in &rules.rules {
        if scan.hits.iter().any(|h| h.component == rule.name)
            || !rule.linked.iter().all(|i| first.contains_key(i))
            || rule.unless.as_ref().is_some_and(|u| u.is_match(bytes))
        {
            continue;
        }
        let (_, marker) = first[&rule.linked[0]];
        let mut versions: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
        for &(off, s) in &strings {
            if let Some(v) = rule
                .bare
                .iter()
                .find_map(|re| re.captures(s))
                .and_then(|c| c.get(1))
            {
                versions.entry(v.as_str()).or_insert((off, s));
            }
        }
        let (version, offset, text) = match versions.len() {
            1 => {
                let (v, (off, s)) = versions.pop_first().expect("one version");
                (
                    v.to_string(),
                    Some(off),
                    format!("version string {s:?} in a file carrying the library's own {marker:?}"),
                )
            }
            n => {
                let why = if n == 0 {
                    "it embeds no version string".to_string()
                } else {
                    format!(
                        "several version strings ({}), none chosen",
                        versions.keys().copied().collect::<Vec<_>>().join(", ")
                    )
                };
                scan.notes.push(format!(
                    "{path}: {} is compiled in (its own string {marker:?}) but its version is \
                     unknown: {why}",
                    rule.name
                ));
                (
                    String::new(),
                    None,
                    format!("the library's own string {marker:?}; version unknown: {why}"),
                )
            }
        };
        scan.hits.push(Hit {
            component: rule.name.clone(),
            version,
            evidence: Evidence {
                file: path.into(),
                offset,
                method: METHOD.into(),
                text,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_are_searched_as_literals() {
        assert_eq!(literal_core("^7zXZ$").as_deref(), Some("7zXZ"));
        assert_eq!(
            literal_core(r"^libmpdec: internal error \(x\)$").as_deref(),
            Some("libmpdec: internal error (x)")
        );
        assert_eq!(literal_core(r"^(\d+)$"), None);
        assert_eq!(literal_core(r"a\d"), None);
        assert_eq!(on_bytes("^7zXZ$"), "7zXZ");
        assert_eq!(
            on_bytes(r"^(\d+)$"),
            r"(?-u:(?:^|[^\x20-\x7e]))(\d+)(?-u:\x00)"
        );
    }

    #[test]
    fn whole_strings_end_at_a_nul() {
        let b = b"\x01abc\x00de\x00\xfd7zXZ\x00tail";
        assert_eq!(whole_strings(b), vec![(1, "abc"), (9, "7zXZ")]);
    }

    fn scan(bytes: &[u8]) -> FileScan {
        let mut s = FileScan::default();
        scan_linked(&mut s, "f", bytes);
        s
    }

    #[test]
    fn a_bare_version_counts_only_beside_the_library_s_own_strings() {
        let own = b"\x00libmpdec: internal error in _mpd_base_ndivmod: please report\x00";
        let s = scan(&[&own[..], b"2.5.1\x00"].concat());
        let h = s.hits.iter().find(|h| h.component == "mpdecimal").unwrap();
        assert_eq!(h.version, "2.5.1");
        assert!(scan(b"\x002.5.1\x00").hits.is_empty());
        // Two distinct versions: present, version unknown, and a note says why.
        let s = scan(&[&own[..], b"2.5.1\x004.0.0\x00"].concat());
        let h = s.hits.iter().find(|h| h.component == "mpdecimal").unwrap();
        assert_eq!(h.version, "");
        assert!(s.notes[0].contains("2.5.1, 4.0.0"), "{:?}", s.notes);
    }
}
