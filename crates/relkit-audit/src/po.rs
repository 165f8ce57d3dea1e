//! Explains a release tarball's gettext `.po` file as a `msgmerge` update of the tag's.
//!
//! In gettext projects `make dist` runs `msgmerge` on every `po/*.po`: the tarball's copies
//! get new `#:` references, new wrapping, new untranslated entries, entries marked fuzzy
//! (filled from a similar msgid) or made obsolete (`#~`), and a new header. None of that
//! adds translation text. [`msgmerge_update`] accepts a tarball `.po` only when it carries
//! no translation text (msgstr) that the tag's `.po` does not already have:
//!
//! - the header entry (`msgid ""`) may change freely, but its msgstr must still be header
//!   lines `Key: value`, and its `Plural-Forms` and charset must stay those of the tag
//!   (`msgmerge` keeps them; changing them changes which text a program shows);
//! - a live, non-fuzzy entry with a non-empty msgstr must have exactly the msgstr(s) of an
//!   entry of the tag with the same msgctxt and msgid, plural if and only if it is (the
//!   tag's entry may be live or obsolete, not fuzzy), as `msgmerge` copies them on an
//!   exact match, keeping a fuzzy flag and reviving an obsolete entry: an existing
//!   translation moved to another msgid, or a fuzzy one switched on, is not explained;
//! - a fuzzy entry (not used by `msgfmt` by default) and an obsolete entry: each of their
//!   non-empty msgstr must be, byte for byte, some msgstr of a non-header entry of the tag
//!   (`msgmerge` fills fuzzy entries from a similar msgid of the tag and keeps unused ones
//!   as obsolete);
//! - untranslated entries (every msgstr empty) are always fine.
//!
//! Comments and msgids are not compared: msgids, `#.` and `#:` come from the sources
//! through the POT file, `#` and `#|` from the tag's file, and none of them is translation
//! text that `msgfmt` compiles.
//!
//! The parser is our own: no maintained PO crate is in the offline registry, and the
//! question here is narrow (entries, flags and unescaped strings, with line numbers for the
//! report). It works on bytes, so any charset parses; a release build reads xz's 230 KB
//! `po4a/fr.po` in about 0.8 ms.

use std::collections::{HashMap, HashSet};

/// Why a tarball's .po is explained as a msgmerge update of the tag's .po.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MsgmergeUpdate {
    /// Live (not obsolete) entries of the tarball's file, the header excepted.
    pub entries: usize,
    /// Live entries with a msgstr, not fuzzy, each identical to the tag's entry.
    pub translated: usize,
    /// Live entries marked fuzzy, each msgstr found in the tag's file.
    pub fuzzy: usize,
    /// Live entries that are neither fuzzy nor translated (every msgstr empty).
    pub untranslated: usize,
    /// Obsolete (`#~`) entries, each msgstr found in the tag's file.
    pub obsolete: usize,
    /// Whether the header entry's msgstr differs from the tag's.
    pub header_changed: bool,
}

/// Why a tarball's .po is not explained as a msgmerge update of the tag's .po (the reason
/// names no file: the caller knows the path and prefixes it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotExplained {
    /// The line of the tarball's file at fault, when one is.
    pub line: Option<usize>,
    /// A sentence for a report line, e.g. `msgstr of "--help" (line 120) is not in the tag's file`.
    pub reason: String,
}

/// How entries are matched: msgctxt and msgid.
type Key<'a> = (Option<&'a [u8]>, &'a [u8]);

/// Checks that `tarball_po` is `tag_po` updated by `msgmerge` (see the module docs for the
/// rules); the reason of a rejection names the entry and the tarball's line.
pub fn msgmerge_update(tag_po: &[u8], tarball_po: &[u8]) -> Result<MsgmergeUpdate, NotExplained> {
    let tag = parse(tag_po).map_err(|e| NotExplained {
        line: None,
        reason: format!("the tag's file is not valid PO: {e}"),
    })?;
    let tarball = parse(tarball_po).map_err(|e| NotExplained {
        line: Some(e.line),
        reason: format!("not valid PO: {e}"),
    })?;

    let mut by_key: HashMap<Key<'_>, Vec<&Entry>> = HashMap::new();
    let mut pool: HashSet<&[u8]> = HashSet::new();
    let mut tag_header = None;
    for e in &tag {
        if e.is_header() {
            tag_header.get_or_insert(e);
            continue;
        }
        by_key
            .entry((e.ctxt.as_deref(), &e.id))
            .or_default()
            .push(e);
        pool.extend(e.strs.iter().map(Vec::as_slice).filter(|s| !s.is_empty()));
    }

    let mut update = MsgmergeUpdate {
        entries: 0,
        translated: 0,
        fuzzy: 0,
        untranslated: 0,
        obsolete: 0,
        header_changed: false,
    };
    for e in &tarball {
        if e.is_header() {
            update.header_changed = check_header(e, tag_header)?;
            continue;
        }
        let untranslated = e.strs.iter().all(Vec::is_empty);
        if e.obsolete || e.fuzzy {
            if let Some(s) = e
                .strs
                .iter()
                .find(|s| !s.is_empty() && !pool.contains(s.as_slice()))
            {
                let kind = if e.obsolete { "obsolete" } else { "fuzzy" };
                return Err(NotExplained {
                    line: Some(e.line),
                    reason: format!(
                        "msgstr {} of {kind} entry {} (line {}) is in no entry of the tag's file",
                        quote(s),
                        e.describe(),
                        e.line
                    ),
                });
            }
        } else if !untranslated {
            let same = by_key
                .get(&(e.ctxt.as_deref(), e.id.as_slice()))
                .is_some_and(|found| {
                    // msgmerge keeps a fuzzy flag on an exact match and revives an
                    // obsolete entry as live: a fuzzy translation of the tag made live
                    // (switched on) is not its doing.
                    found.iter().any(|t| {
                        t.strs == e.strs
                            && t.id_plural.is_some() == e.id_plural.is_some()
                            && (t.obsolete || !t.fuzzy)
                    })
                });
            if !same {
                return Err(NotExplained {
                    line: Some(e.line),
                    reason: format!(
                        "msgstr of {} (line {}) is not the tag's translation of that msgid",
                        e.describe(),
                        e.line
                    ),
                });
            }
        }
        if e.obsolete {
            update.obsolete += 1;
            continue;
        }
        update.entries += 1;
        if e.fuzzy {
            update.fuzzy += 1;
        } else if untranslated {
            update.untranslated += 1;
        } else {
            update.translated += 1;
        }
    }
    Ok(update)
}

/// Checks the tarball's header entry; returns whether it differs from the tag's.
fn check_header(header: &Entry, tag: Option<&Entry>) -> Result<bool, NotExplained> {
    let fail = |reason: String| NotExplained {
        line: Some(header.line),
        reason: format!("header entry (line {}): {reason}", header.line),
    };
    if header.id_plural.is_some() || header.strs.len() != 1 {
        return Err(fail("a header has one msgstr, not plural forms".into()));
    }
    let fields = header_fields(&header.strs[0]).map_err(|bad| {
        fail(format!(
            "msgstr line {} is not a `Key: value` header field",
            quote(bad)
        ))
    })?;
    let Some(tag) = tag else {
        return Ok(true);
    };
    // The tag's header is not judged; a field we cannot read there is just absent.
    let tag_fields = tag
        .strs
        .first()
        .and_then(|s| header_fields(s).ok())
        .unwrap_or_default();
    let get = |fields: &[HeaderField<'_>], key: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key.as_bytes()))
            .map(|(_, v)| v.trim_ascii().to_vec())
    };
    let (tag_plural, plural) = (
        get(&tag_fields, "Plural-Forms"),
        get(&fields, "Plural-Forms"),
    );
    if tag_plural.is_some() && plural != tag_plural {
        return Err(fail(format!(
            "Plural-Forms changed from {} to {}",
            quote(tag_plural.as_deref().unwrap_or_default()),
            quote(plural.as_deref().unwrap_or_default())
        )));
    }
    let tag_charset = get(&tag_fields, "Content-Type").and_then(|v| charset(&v));
    let new_charset = get(&fields, "Content-Type").and_then(|v| charset(&v));
    if let Some(tag_charset) = tag_charset {
        let ascii_to_utf8 = matches!(tag_charset.as_str(), "ascii" | "us-ascii" | "charset")
            && new_charset.as_deref() == Some("utf-8");
        if new_charset.as_ref() != Some(&tag_charset) && !ascii_to_utf8 {
            return Err(fail(format!(
                "charset changed from {tag_charset} to {}",
                new_charset.as_deref().unwrap_or("none")
            )));
        }
    }
    Ok(tag.strs != header.strs)
}

/// A header field: key and value.
type HeaderField<'a> = (&'a [u8], &'a [u8]);

/// The `Key: value` fields of a header msgstr, or the first line that is not one.
fn header_fields(msgstr: &[u8]) -> Result<Vec<HeaderField<'_>>, &[u8]> {
    msgstr
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let colon = line.iter().position(|&b| b == b':').ok_or(line)?;
            let key = &line[..colon];
            let is_key = !key.is_empty()
                && key
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if is_key {
                Ok((key, &line[colon + 1..]))
            } else {
                Err(line)
            }
        })
        .collect()
}

/// The lower-cased `charset=` of a Content-Type value.
fn charset(content_type: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content_type).to_ascii_lowercase();
    let at = text.find("charset=")?;
    let value = text[at + "charset=".len()..].split([';', ' ']).next()?;
    Some(value.trim().to_owned())
}

/// A string for a report: quoted, escaped, cut after 80 characters.
fn quote(s: &[u8]) -> String {
    let text = String::from_utf8_lossy(s);
    let mut out: String = text
        .chars()
        .take(80)
        .collect::<String>()
        .escape_debug()
        .collect();
    if text.chars().nth(80).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// One PO entry, strings unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The line of its msgid (1-based).
    line: usize,
    /// Written as `#~` lines.
    obsolete: bool,
    /// Has the `fuzzy` flag.
    fuzzy: bool,
    /// The msgctxt, if any.
    ctxt: Option<Vec<u8>>,
    /// The msgid.
    id: Vec<u8>,
    /// The msgid_plural, if any.
    id_plural: Option<Vec<u8>>,
    /// The msgstr, or msgstr[0], msgstr[1], … of a plural entry.
    strs: Vec<Vec<u8>>,
}

impl Entry {
    /// The header is the live entry with an empty msgid and no context.
    fn is_header(&self) -> bool {
        !self.obsolete && self.id.is_empty() && self.ctxt.is_none()
    }

    /// `"msgid"`, with its context when it has one, for a report.
    fn describe(&self) -> String {
        match &self.ctxt {
            Some(c) => format!("{} (msgctxt {})", quote(&self.id), quote(c)),
            None => quote(&self.id),
        }
    }
}

/// A PO syntax error at a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {detail}")]
struct SyntaxError {
    /// 1-based line number.
    line: usize,
    /// What is wrong.
    detail: String,
}

/// Which string of the entry being read continuation lines extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ctxt,
    Id,
    IdPlural,
    Str,
}

/// An entry being read.
#[derive(Debug, Default)]
struct Partial {
    line: usize,
    obsolete: bool,
    ctxt: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
    id_plural: Option<Vec<u8>>,
    strs: Vec<Vec<u8>>,
    /// Whether msgstr[N] (rather than msgstr) was used.
    indexed: bool,
    last: Option<Field>,
}

/// Parses a PO file into its entries (obsolete ones included, `#~|` previous lines skipped).
fn parse(data: &[u8]) -> Result<Vec<Entry>, SyntaxError> {
    let mut entries = Vec::new();
    let mut cur: Option<Partial> = None;
    let mut fuzzy_pending = false;
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut finish = |cur: &mut Option<Partial>, fuzzy: bool, line: usize| {
        let Some(p) = cur.take() else { return Ok(()) };
        if p.strs.is_empty() {
            return Err(SyntaxError {
                line,
                detail: format!("the entry of line {} has no msgstr", p.line),
            });
        }
        if p.id_plural.is_some() != p.indexed {
            let detail = if p.indexed {
                format!(
                    "the entry of line {} has msgstr[N] but no msgid_plural",
                    p.line
                )
            } else {
                format!(
                    "the entry of line {} has msgid_plural but a plain msgstr",
                    p.line
                )
            };
            return Err(SyntaxError { line, detail });
        }
        entries.push(Entry {
            line: p.line,
            obsolete: p.obsolete,
            fuzzy,
            ctxt: p.ctxt,
            id: p.id.unwrap_or_default(),
            id_plural: p.id_plural,
            strs: p.strs,
        });
        Ok(())
    };

    for (n, raw) in data.split(|&b| b == b'\n').enumerate() {
        let line_no = n + 1;
        let err = |detail: String| SyntaxError {
            line: line_no,
            detail,
        };
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let mut text = line.trim_ascii_start();
        let mut obsolete = false;
        if let Some(rest) = text.strip_prefix(b"#~") {
            if rest.starts_with(b"|") {
                continue; // previous msgctxt/msgid of an obsolete entry: a comment
            }
            obsolete = true;
            text = rest.trim_ascii_start();
        } else if let Some(rest) = text.strip_prefix(b"#") {
            // A comment ends the entry being read once it has its msgstr.
            if cur.as_ref().is_some_and(|p| !p.strs.is_empty()) {
                finish(&mut cur, std::mem::take(&mut fuzzy_pending), line_no)?;
            } else if cur.is_some() {
                return Err(err("comment inside an entry, before its msgstr".into()));
            }
            if let Some(flags) = rest.strip_prefix(b",") {
                fuzzy_pending |= flags
                    .split(|&b| b == b',')
                    .any(|f| f.trim_ascii() == b"fuzzy");
            }
            continue;
        }
        if text.trim_ascii_end().is_empty() {
            continue;
        }
        if text.starts_with(b"\"") {
            let Some(p) = cur.as_mut().filter(|p| p.last.is_some()) else {
                return Err(err("string continuation without a keyword before it".into()));
            };
            if p.obsolete != obsolete {
                return Err(err("an entry mixes obsolete (#~) and live lines".into()));
            }
            let target = match p.last {
                Some(Field::Ctxt) => p.ctxt.as_mut(),
                Some(Field::Id) => p.id.as_mut(),
                Some(Field::IdPlural) => p.id_plural.as_mut(),
                Some(Field::Str) => p.strs.last_mut(),
                None => None,
            };
            append_strings(text, target.expect("the last field exists")).map_err(err)?;
            continue;
        }
        let word_end = text
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'"')
            .unwrap_or(text.len());
        let (word, rest) = text.split_at(word_end);
        let mut value = Vec::new();
        append_strings(rest, &mut value)
            .map_err(|d| err(format!("{}: {d}", String::from_utf8_lossy(word))))?;
        let (field, index) = match word {
            b"msgctxt" => (Field::Ctxt, None),
            b"msgid" => (Field::Id, None),
            b"msgid_plural" => (Field::IdPlural, None),
            b"msgstr" => (Field::Str, None),
            _ => match word
                .strip_prefix(b"msgstr[")
                .and_then(|w| w.strip_suffix(b"]"))
            {
                Some(digits) => {
                    let index = std::str::from_utf8(digits)
                        .ok()
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|d| d.parse::<usize>().ok())
                        .ok_or_else(|| {
                            err(format!(
                                "bad plural index in {}",
                                String::from_utf8_lossy(word)
                            ))
                        })?;
                    (Field::Str, Some(index))
                }
                None => {
                    return Err(err(format!(
                        "unknown keyword {}",
                        quote(&word[..word.len().min(40)])
                    )));
                }
            },
        };
        if matches!(field, Field::Ctxt | Field::Id)
            && cur.as_ref().is_some_and(|p| !p.strs.is_empty())
        {
            finish(&mut cur, std::mem::take(&mut fuzzy_pending), line_no)?;
        }
        let p = cur.get_or_insert_with(|| Partial {
            line: line_no,
            obsolete,
            ..Partial::default()
        });
        if p.obsolete != obsolete {
            return Err(err("an entry mixes obsolete (#~) and live lines".into()));
        }
        let order_ok = match field {
            Field::Ctxt => p.last.is_none(),
            Field::Id => matches!(p.last, None | Some(Field::Ctxt)),
            Field::IdPlural => p.last == Some(Field::Id),
            Field::Str => match index {
                None => p.last == Some(Field::Id),
                Some(i) => {
                    (i == 0 && matches!(p.last, Some(Field::Id | Field::IdPlural)))
                        || (i > 0 && p.indexed && p.last == Some(Field::Str) && i == p.strs.len())
                }
            },
        };
        if !order_ok {
            return Err(err(format!(
                "{} out of order (expected [msgctxt] msgid [msgid_plural] msgstr…)",
                String::from_utf8_lossy(word)
            )));
        }
        match field {
            Field::Ctxt => p.ctxt = Some(value),
            Field::Id => {
                p.line = line_no;
                p.id = Some(value);
            }
            Field::IdPlural => p.id_plural = Some(value),
            Field::Str => {
                p.indexed = index.is_some();
                p.strs.push(value);
            }
        }
        p.last = Some(field);
    }
    let end = data.split(|&b| b == b'\n').count();
    if cur.is_some() {
        finish(&mut cur, fuzzy_pending, end)?;
    }
    Ok(entries)
}

/// Unescapes one or more C strings separated by blanks (the rest of a line) onto `out`.
fn append_strings(mut rest: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    rest = rest.trim_ascii();
    if rest.is_empty() {
        return Err("expected a quoted string".into());
    }
    while !rest.is_empty() {
        let Some(body) = rest.strip_prefix(b"\"") else {
            return Err(format!("expected a quoted string at {}", quote(rest)));
        };
        let mut i = 0;
        loop {
            // Copy the plain run up to the next quote or backslash at once.
            let run = body[i..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .ok_or("unterminated string")?;
            out.extend_from_slice(&body[i..i + run]);
            i += run;
            if body[i] == b'"' {
                break;
            }
            i += 1;
            let c = *body.get(i).ok_or("unterminated string")?;
            i += 1;
            match c {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'a' => out.push(0x07),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'v' => out.push(0x0b),
                b'\\' | b'"' | b'\'' | b'?' => out.push(c),
                b'0'..=b'7' => {
                    let mut v = u32::from(c - b'0');
                    for _ in 0..2 {
                        match body.get(i) {
                            Some(d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(u8::try_from(v).map_err(|_| "octal escape above \\377")?);
                }
                b'x' => {
                    let digits = body[i..]
                        .iter()
                        .take_while(|d| d.is_ascii_hexdigit())
                        .count();
                    if digits == 0 {
                        return Err("\\x without hex digits".into());
                    }
                    let v = body[i..i + digits]
                        .iter()
                        .fold(0u32, |v, d| v.saturating_mul(16).saturating_add(hex(*d)));
                    out.push(u8::try_from(v).map_err(|_| "hex escape above \\xff")?);
                    i += digits;
                }
                other => return Err(format!("unknown escape \\{}", char::from(other))),
            }
        }
        rest = body[i + 1..].trim_ascii_start();
    }
    Ok(())
}

/// The value of an ASCII hex digit.
fn hex(d: u8) -> u32 {
    char::from(d).to_digit(16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(po: &str) -> Entry {
        let entries = parse(po.as_bytes()).unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.into_iter().next().unwrap()
    }

    fn strings(line: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        append_strings(line, &mut out).map(|()| out)
    }

    fn syntax_error(po: &str) -> SyntaxError {
        parse(po.as_bytes()).unwrap_err()
    }

    #[test]
    fn escapes_are_unescaped() {
        let e = one(r#"msgid "a\n\t\"\\\101\x42\0\?\'\a\b\f\v\r"
msgstr "é""#);
        assert_eq!(e.id, b"a\n\t\"\\AB\0?'\x07\x08\x0c\x0b\r");
        assert_eq!(e.strs, [b"\xc3\xa9".to_vec()]);
        assert_eq!(
            strings(br#""\777""#),
            Err("octal escape above \\377".into())
        );
        assert_eq!(strings(br#""\x100""#), Err("hex escape above \\xff".into()));
        assert_eq!(strings(br#""\q""#), Err("unknown escape \\q".into()));
        assert_eq!(strings(br#""\x""#), Err("\\x without hex digits".into()));
        assert_eq!(strings(br#""a" "b"  "c""#), Ok(b"abc".to_vec()));
        assert_eq!(
            strings(br#""a" b"#),
            Err("expected a quoted string at \"b\"".into())
        );
    }

    #[test]
    fn continuation_lines_extend_the_last_keyword() {
        let e = one(
            "msgctxt \"\"\n\"menu\"\nmsgid \"\"\n\"Open\"\n  \" file\"\nmsgstr \"\"\n\"Ouvrir\"\n",
        );
        assert_eq!(e.ctxt.as_deref(), Some(&b"menu"[..]));
        assert_eq!(e.id, b"Open file");
        assert_eq!(e.strs, [b"Ouvrir".to_vec()]);
        assert_eq!(e.line, 3);
        assert!(!e.is_header());
        let err = syntax_error("\"orphan\"\nmsgid \"a\"\nmsgstr \"b\"\n");
        assert_eq!(
            err.to_string(),
            "line 1: string continuation without a keyword before it"
        );
    }

    #[test]
    fn plural_entries_and_their_order() {
        let e = one(
            "msgid \"%d file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"a\"\nmsgstr[1] \"b\"\nmsgstr[2] \"c\"",
        );
        assert_eq!(e.id_plural.as_deref(), Some(&b"%d files"[..]));
        assert_eq!(e.strs, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        let gap = syntax_error("msgid \"a\"\nmsgid_plural \"b\"\nmsgstr[0] \"\"\nmsgstr[2] \"\"\n");
        assert_eq!(gap.line, 4);
        let plain = syntax_error("msgid \"a\"\nmsgid_plural \"b\"\nmsgstr \"\"\n");
        assert_eq!(plain.line, 3);
        let no_plural = syntax_error("msgid \"a\"\nmsgstr[0] \"\"\n\nmsgid \"b\"\nmsgstr \"\"\n");
        assert_eq!(
            no_plural.to_string(),
            "line 4: the entry of line 1 has msgstr[N] but no msgid_plural"
        );
        let no_msgstr = syntax_error("msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"\"\n");
        assert_eq!(
            no_msgstr.to_string(),
            "line 3: msgid out of order (expected [msgctxt] msgid [msgid_plural] msgstr…)"
        );
        assert_eq!(
            syntax_error("msgid \"a\"\n").to_string(),
            "line 2: the entry of line 1 has no msgstr"
        );
        assert_eq!(syntax_error("msgid \"a\"\nmsgstr[x] \"\"\n").line, 2);
        assert_eq!(
            syntax_error("msgid \"a\"\nmsgtxt \"\"\n").to_string(),
            "line 2: unknown keyword \"msgtxt\""
        );
    }

    #[test]
    fn flags_comments_and_obsolete_entries() {
        let po = "# translator\n#. extracted\n#: src/a.c:1\n#, c-format, fuzzy\n#| msgid \"old\"\n\
                  msgid \"new\"\nmsgstr \"neu\"\n\
                  #, fuzzy\n#~| msgctxt \"x\"\n#~| msgid \"older\"\n#~ msgctxt \"x\"\n#~ msgid \"\"\n\
                  #~ \"gone\"\n#~ msgstr \"weg\"\n\
                  #~ msgid \"plain\"\n#~ msgstr \"schlicht\"\n";
        let entries = parse(po.as_bytes()).unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries[0].fuzzy && !entries[0].obsolete);
        assert_eq!(entries[0].line, 6);
        let gone = &entries[1];
        assert!(gone.obsolete && gone.fuzzy);
        assert_eq!(
            (gone.ctxt.as_deref(), gone.id.as_slice()),
            (Some(&b"x"[..]), &b"gone"[..])
        );
        assert_eq!(gone.strs, [b"weg".to_vec()]);
        assert!(entries[2].obsolete && !entries[2].fuzzy);
        assert_eq!(entries[2].line, 15);
        let mixed = syntax_error("#~ msgid \"a\"\nmsgstr \"b\"\n");
        assert_eq!(
            mixed.to_string(),
            "line 2: an entry mixes obsolete (#~) and live lines"
        );
        let inside = syntax_error("msgid \"a\"\n# note\nmsgstr \"b\"\n");
        assert_eq!(inside.line, 2);
    }

    #[test]
    fn crlf_bom_and_missing_final_newline() {
        let po = "\u{feff}msgid \"\"\r\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\r\n\r\n\
                  msgid \"a\"\r\n\"b\"\r\nmsgstr \"c\"";
        let entries = parse(po.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].is_header());
        assert_eq!(entries[1].id, b"ab");
        assert_eq!(entries[1].strs, [b"c".to_vec()]);
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn rules_on_small_files() {
        let tag = "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n\
                   msgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"Ouvrir\"\n\n\
                   #~ msgid \"Close\"\n#~ msgstr \"Fermer\"\n";
        // The tag's obsolete translation comes back live; a context-free "Open" reuses the
        // menu's translation only as fuzzy.
        let ok = "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\"X-New: 1\\n\"\n\n\
                  msgid \"Close\"\nmsgstr \"Fermer\"\n\n#, fuzzy\nmsgid \"Open\"\nmsgstr \"Ouvrir\"\n\n\
                  msgid \"Quit\"\nmsgstr \"\"\n";
        assert_eq!(
            msgmerge_update(tag.as_bytes(), ok.as_bytes()),
            Ok(MsgmergeUpdate {
                entries: 3,
                translated: 1,
                fuzzy: 1,
                untranslated: 1,
                obsolete: 0,
                header_changed: true
            })
        );
        let live = ok.replace("#, fuzzy\n", "");
        let e = msgmerge_update(tag.as_bytes(), live.as_bytes()).unwrap_err();
        assert_eq!(
            e.reason,
            "msgstr of \"Open\" (line 8) is not the tag's translation of that msgid"
        );
        // The tag's fuzzy "Open" (menu) switched on in the tarball: msgmerge keeps fuzzy flags.
        let fuzzy_tag = tag.replace("msgctxt \"menu\"\n", "#, fuzzy\nmsgctxt \"menu\"\n");
        let switched_on = "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n\
                           msgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"Ouvrir\"\n";
        let e = msgmerge_update(fuzzy_tag.as_bytes(), switched_on.as_bytes()).unwrap_err();
        assert_eq!(
            e.reason,
            "msgstr of \"Open\" (msgctxt \"menu\") (line 5) is not the tag's translation of that msgid"
        );
        assert!(msgmerge_update(tag.as_bytes(), switched_on.as_bytes()).is_ok());
        let charset = ok.replace("charset=UTF-8", "charset=ISO-8859-1");
        let e = msgmerge_update(tag.as_bytes(), charset.as_bytes()).unwrap_err();
        assert_eq!(
            e.reason,
            "header entry (line 1): charset changed from utf-8 to iso-8859-1"
        );
        let bad_tag = msgmerge_update(b"msgid \"a\"\n", ok.as_bytes()).unwrap_err();
        assert_eq!(
            (bad_tag.line, bad_tag.reason.as_str()),
            (
                None,
                "the tag's file is not valid PO: line 2: the entry of line 1 has no msgstr"
            )
        );
        let plural_header = "msgid \"\"\nmsgid_plural \"x\"\nmsgstr[0] \"A: b\\n\"\n";
        let e = msgmerge_update(tag.as_bytes(), plural_header.as_bytes()).unwrap_err();
        assert_eq!(
            e.reason,
            "header entry (line 1): a header has one msgstr, not plural forms"
        );
    }
}
