//! The shell-pipe alarm: lines that run data through a shell or decode it the way the 2024
//! xz backdoor's `build-to-host.m4` did — a pipe into `$SHELL`/`sh`/`eval`, `grep -a`
//! (binary files searched as text), a decompressor or decoder run with `-d`.
//!
//! Every text member of the tarball is scanned while it is read ([`Scanner`], fed the
//! member's bytes in pieces: one pass, the pattern compiled once per process). Whether a
//! line that matches is a finding depends on what explains it: the tag's file (for files
//! identical to or changed from the tag), the known upstream copy (vendored files), or an
//! alarm line of a known input of the generator (generated files: [`Explainers`]). No macro
//! or helper script of gnulib's history (27,572 versions), gettext, libtool or automake has
//! a line that matches and is not explained that way.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::Serialize;

/// Matching lines kept per member (the count is always complete).
const MAX_KEPT: usize = 200;
/// Longest line kept whole (longer ones are cut, with `…`).
const MAX_LINE: usize = 400;

/// The alarm pattern. A pipe is a single `|` (not `||`, the shell's "or": see
/// [`Scanner::scan`]); the shell is `$SHELL`, `${SHELL}`, make's `$(SHELL)`,
/// `$CONFIG_SHELL`, `sh`, `bash`… or `eval`. ASCII only (`-u`), and every branch starts
/// with a literal, so the search runs on the regex crate's literal prefilter.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(concat!(
            r"(?m-u)\|[ \t]*(?:\$[{(]?(?:CONFIG_)?SHELL[})]?|(?:/bin/)?(?:ba|da|k|z)?sh|eval)",
            r"(?:[ \t]*$|[ \t]+[^|\s]|[ \t]*[;)\]`&])",
            r"|\bgrep[ \t]+-[A-Za-z]*a",
            r"|\b(?:xz|unxz|xzcat|lzma|unlzma|lzip|gzip|gunzip|zcat|bzip2|bunzip2|zstd|unzstd|lz4|base64|uudecode)[ \t]+(?:-[A-Za-z]*d[A-Za-z]*|--decompress|--decode)\b",
        ))
        .expect("static regex")
    })
}

/// One line that matches the alarm pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AlarmLine {
    /// 1-based line number in the member.
    pub line: usize,
    /// The line, without its end of line.
    pub text: String,
}

/// What the scan of one member found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Whether the member holds a NUL byte (binary: not judged).
    pub binary: bool,
    /// Number of matching lines.
    pub count: usize,
    /// The first matching lines (at most 200).
    pub lines: Vec<AlarmLine>,
}

/// Scans one member's bytes, given in pieces, for lines that match the alarm pattern.
#[derive(Debug, Default)]
pub struct Scanner {
    /// The start of a line cut by the end of the last piece.
    carry: Vec<u8>,
    /// Lines ended so far.
    lines: usize,
    found: Found,
}

impl Scanner {
    /// Starts a new member.
    pub fn reset(&mut self) {
        self.carry.clear();
        self.lines = 0;
        self.found = Found::default();
    }

    /// Scans the next piece of the member.
    pub fn feed(&mut self, piece: &[u8]) {
        if self.found.binary {
            return;
        }
        if piece.contains(&0) {
            self.found.binary = true;
            return;
        }
        let Some(last) = piece.iter().rposition(|&b| b == b'\n') else {
            self.carry.extend_from_slice(piece);
            return;
        };
        let mut rest = &piece[..=last];
        if !self.carry.is_empty() {
            let first = rest.iter().position(|&b| b == b'\n').unwrap_or(0);
            let mut line = std::mem::take(&mut self.carry);
            line.extend_from_slice(&rest[..=first]);
            self.scan(&line);
            line.clear();
            self.carry = line;
            rest = &rest[first + 1..];
        }
        self.scan(rest);
        self.carry.extend_from_slice(&piece[last + 1..]);
    }

    /// Ends the member: what was found.
    pub fn finish(&mut self) -> Found {
        if !self.carry.is_empty() && !self.found.binary {
            let line = std::mem::take(&mut self.carry);
            self.scan(&line);
        }
        std::mem::take(&mut self.found)
    }

    /// Scans whole lines (`text` ends with a newline, or is the member's last line).
    fn scan(&mut self, text: &[u8]) {
        let mut counted = 0;
        let mut last_end = None;
        for m in pattern().find_iter(text) {
            // `||` is the shell's "or", not a pipe.
            if text[m.start()] == b'|' && m.start() > 0 && text[m.start() - 1] == b'|' {
                continue;
            }
            let at = m.start();
            let start = text[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            if last_end.is_some_and(|e| start < e) {
                continue; // a second match on the same line
            }
            let end = text[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |i| at + i);
            self.lines += newlines(&text[counted..start]);
            counted = start;
            last_end = Some(end + 1);
            self.found.count += 1;
            if self.found.lines.len() < MAX_KEPT {
                self.found.lines.push(AlarmLine {
                    line: self.lines + 1,
                    text: shown(&text[start..end]),
                });
            }
        }
        self.lines += newlines(&text[counted..]);
    }
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

fn shown(line: &[u8]) -> String {
    String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
}

/// `line` as reports show it: cut at 400 bytes (on a character boundary), with `…`.
pub fn cut(line: &str) -> String {
    if line.len() <= MAX_LINE {
        return line.to_string();
    }
    let mut end = MAX_LINE;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// The matching lines of a whole text (empty for binary content).
pub fn scan(content: &[u8]) -> Found {
    let mut s = Scanner::default();
    s.feed(content);
    s.finish()
}

/// Lines of the generators' own libraries that match the alarm pattern, as they appear in
/// their output (`*` stands for what an m4 macro expands to): automake's `lib/am/distdir.am`
/// (the `dist-*` and `distcheck` rules of every top-level `Makefile.in`; automake 1.16.5 as
/// Debian 12 installs it, the 1.17 forms as xz 5.8.1's automake-1.17 `Makefile.in` has them,
/// and the `GZIP=$(GZIP_ENV)` forms of automake 1.15 as flex 2.6.4's has them), autoconf's `lib/autoconf/status.m4` and `lib/autotest/general.m4` (2.71).
/// Read with `grep` over `/usr/share/automake-1.16` and `/usr/share/autoconf`; nothing
/// else in either library (nor in libtool's) matches.
pub const GENERATOR_LINES: &[(&str, &str)] = &[
    (
        "automake lib/am/distdir.am",
        "tardir=$(distdir) && $(am__tar) | eval GZIP= gzip $(GZIP_ENV) -c >$(distdir).tar.gz",
    ),
    (
        "automake lib/am/distdir.am",
        "shar $(distdir) | eval GZIP= gzip $(GZIP_ENV) -c >$(distdir).shar.gz",
    ),
    (
        "automake lib/am/distdir.am",
        "eval GZIP= gzip $(GZIP_ENV) -dc $(distdir).tar.gz | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "eval GZIP= gzip -dc $(distdir).tar.gz | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "bzip2 -dc $(distdir).tar.bz2 | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "lzip -dc $(distdir).tar.lz | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "xz -dc $(distdir).tar.xz | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "eval GZIP= gzip $(GZIP_ENV) -dc $(distdir).shar.gz | unshar ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "eval GZIP= gzip -dc $(distdir).shar.gz | unshar ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "zstd -dc $(distdir).tar.zst | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "GZIP=$(GZIP_ENV) gzip -dc $(distdir).tar.gz | $(am__untar) ;;\\",
    ),
    (
        "automake lib/am/distdir.am",
        "GZIP=$(GZIP_ENV) gzip -dc $(distdir).shar.gz | unshar ;;\\",
    ),
    (
        "autoconf lib/autoconf/status.m4",
        "$AWK -f \"$ac_tmp/subs.awk\" | $SHELL",
    ),
    (
        "autoconf lib/autotest/general.m4",
        ") *>&1 2>&1 *>&- | eval $at_tee_pipe",
    ),
];

/// Alarm lines of a generator's known inputs (m4 macros, `configure.ac`, `Makefile.am`…,
/// and the generator's own library: [`GENERATOR_LINES`]), each turned into a pattern that
/// a generated line matches when the generator wrote it from that input line: m4's quotes
/// `[`/`]` and blanks set aside, macro arguments (`$1`…`$9`, `$@`, `$*`) standing for any
/// text.
#[derive(Debug, Default)]
pub struct Explainers {
    /// Each input line as literal pieces between arguments, with where it comes from
    /// (`file:line`) and the file alone.
    lines: Vec<(Vec<String>, String, String)>,
    /// Normalized input lines already taken.
    seen: BTreeSet<String>,
}

/// A line with m4 quotes and blanks set aside.
fn normalized(line: &str) -> String {
    line.chars()
        .filter(|c| !matches!(c, '[' | ']') && !c.is_whitespace())
        .collect()
}

/// A normalized line cut at its macro arguments.
fn pieces(norm: &str) -> Vec<String> {
    let bytes = norm.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && matches!(bytes[i + 1], b'0'..=b'9' | b'@' | b'*') {
            pieces.push(norm[start..i].to_string());
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    pieces.push(norm[start..].to_string());
    pieces
}

impl Explainers {
    /// Takes the alarm lines `found` in an input named `file`.
    pub fn add(&mut self, file: &str, found: &[AlarmLine]) {
        for l in found {
            let norm = normalized(&l.text);
            if self.seen.insert(norm.clone()) {
                let from = format!("{file}:{}", l.line);
                self.lines.push((pieces(&norm), from, file.to_string()));
            }
        }
    }

    /// Takes the lines of [`GENERATOR_LINES`] whose source starts with `tool`
    /// (`automake`, `autoconf`).
    pub fn add_generator(&mut self, tool: &str) {
        for (source, line) in GENERATOR_LINES {
            if source.split_whitespace().next() == Some(tool) {
                let pieces = line.split('*').map(normalized).collect();
                self.lines
                    .push((pieces, (*source).to_string(), (*source).to_string()));
            }
        }
    }

    /// The input line that explains `line`: `(file:line, file)`, if any.
    pub fn explain(&self, line: &str) -> Option<(&str, &str)> {
        let norm = normalized(line);
        self.lines
            .iter()
            .find(|(pieces, _, _)| glob(pieces, &norm))
            .map(|(_, from, file)| (from.as_str(), file.as_str()))
    }
}

/// The words of documentation text, its markup set aside: roff's font and character
/// escapes (`\fB`, `\-`, `\(em`), po4a's and gettext's (`B<…>`, `E<gt>`, `msgid`), and
/// roff requests and other words of one or two capitals (`.TP`, `CW`).
pub fn words(text: &str) -> Vec<String> {
    static ESCAPE: OnceLock<regex::Regex> = OnceLock::new();
    let escape = ESCAPE.get_or_init(|| {
        regex::Regex::new(r"\\f(?:\[[^\]]*\]|\(..|.)|\\\(..|\\.").expect("static regex")
    });
    let text = escape.replace_all(text, " ");
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .filter(|w| !(w.len() <= 2 && w.chars().all(|c| c.is_ascii_uppercase())))
        .filter(|w| !matches!(*w, "msgid" | "msgstr" | "msgctxt" | "gt" | "lt"))
        .map(str::to_string)
        .collect()
}

/// Whether the words of `line` (at least two) follow each other in `text` (as [`words`]).
pub fn said_in(line: &str, text: &[String]) -> bool {
    let w = words(line);
    w.len() >= 2 && text.windows(w.len()).any(|win| win == w.as_slice())
}

/// Whether `text` is the pieces in order with anything between them (a whole match).
fn glob(pieces: &[String], text: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let Some(mut tail) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    if rest.is_empty() {
        return tail.is_empty();
    }
    let (middle, last) = rest.split_at(rest.len() - 1);
    for p in middle {
        match tail.find(p.as_str()) {
            Some(i) => tail = &tail[i + p.len()..],
            None => return false,
        }
    }
    tail.ends_with(last[0].as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(f: &Found) -> Vec<&str> {
        f.lines.iter().map(|l| l.text.trim()).collect()
    }

    #[test]
    fn the_backdoor_lines_match_and_ordinary_shell_does_not() {
        // The 2024 backdoor's build-to-host.m4 additions and its decoder line.
        let attack = concat!(
            "  gl_am_configmake=`grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/ 2>/dev/null`\n",
            "  gl_[$1]_config='sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'\n",
            "  AC_CONFIG_COMMANDS([build-to-host], [eval $gl_config_gt | $SHELL 2>/dev/null], [gl_config_gt=\"eval \\$gl_[$1]_config\"])\n",
            "  payload=`xz -dc $srcdir/tests/files/good.xz`\n",
        );
        let f = scan(attack.as_bytes());
        assert_eq!(f.count, 4);
        assert_eq!(
            f.lines.iter().map(|l| l.line).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        // Ordinary lines of configure scripts and macros: a case pattern naming the sh CPU,
        // tests, tr, gzip -9, eval of a variable, `|| eval` (or, not a pipe).
        let ordinary = concat!(
            "       | sh | sh[1234] | sh[1234]e[lb] \\\n",
            "  if test -d \"$dir\"; then :; fi\n",
            "  case `echo r | tr -d '\\r'` in\n",
            "  gzip -9 -c file > file.gz\n",
            "  eval ac_val=\\$$ac_var\n",
            "    test -d \"$as_dir\" || eval $as_mkdir_p || {\n",
        );
        assert_eq!(scan(ordinary.as_bytes()), Found::default());
        // Binary content is not judged.
        assert!(scan(b"x | sh\n\0").binary);
    }

    #[test]
    fn lines_cut_between_pieces_are_found_with_their_numbers() {
        let text = b"a\nb\nx | $SHELL\nc\ncat f | $(SHELL)\nxz -d f";
        for cut in 0..text.len() {
            for second in cut..text.len() {
                let mut s = Scanner::default();
                s.feed(&text[..cut]);
                s.feed(&text[cut..second]);
                s.feed(&text[second..]);
                let f = s.finish();
                let got: Vec<(usize, &str)> =
                    f.lines.iter().map(|l| (l.line, l.text.as_str())).collect();
                assert_eq!(
                    got,
                    [(3, "x | $SHELL"), (5, "cat f | $(SHELL)"), (6, "xz -d f")],
                    "cut at {cut} and {second}"
                );
            }
        }
        // Two matches on one line are one line.
        assert_eq!(texts(&scan(b"a | sh | eval x\n")), ["a | sh | eval x"]);
    }

    #[test]
    fn generated_lines_are_explained_by_the_macro_lines_they_come_from() {
        let macro_text = b"x\n    gl_[$1]_config='sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_[$1]_prefix -d 2>/dev/null'\n";
        let mut e = Explainers::default();
        e.add("m4/build-to-host.m4", &scan(macro_text).lines);
        let expanded = "    gl_localedir_config='sed \\\"r\\n\\\" $gl_am_configmake | eval $gl_path_map | $gl_localedir_prefix -d 2>/dev/null'";
        assert_eq!(
            e.explain(expanded),
            Some(("m4/build-to-host.m4:2", "m4/build-to-host.m4"))
        );
        // A line no input has is not explained, even if it shares the start of one.
        assert_eq!(
            e.explain("    gl_x_config='sed \\\"r\\n\\\" $f | eval $m | sh'"),
            None
        );
        assert_eq!(e.explain("xz -dc $srcdir/tests/files/bad.xz | sh"), None);
        // m4's quotes do not survive into configure.
        let mut q = Explainers::default();
        q.add(
            "aclocal.m4",
            &scan(b"  v=`grep -aErls \"#{4}[[:alnum:]]{5}#{4}$\" $srcdir/`\n").lines,
        );
        assert!(
            q.explain("  v=`grep -aErls \"#{4}[:alnum:]{5}#{4}$\" $srcdir/`")
                .is_some()
        );
        // automake's own dist rules, in the forms of 1.16 and 1.17.
        let mut a = Explainers::default();
        a.add_generator("automake");
        for line in [
            "\t  eval GZIP= gzip -dc $(distdir).tar.gz | $(am__untar) ;;\\",
            "\ttardir=$(distdir) && $(am__tar) | eval GZIP= gzip $(GZIP_ENV) -c >$(distdir).tar.gz",
            "\t  GZIP=$(GZIP_ENV) gzip -dc $(distdir).shar.gz | unshar ;;\\",
        ] {
            assert!(a.explain(line).is_some(), "{line}");
        }
        assert!(
            a.explain("\txz -dc $(srcdir)/tests/files/x.xz | sh")
                .is_none()
        );
        let mut t = Explainers::default();
        t.add_generator("autoconf");
        assert!(t.explain(") 5>&1 2>&1 7>&- | eval $at_tee_pipe").is_some());
    }

    #[test]
    fn documentation_lines_are_said_in_their_source_despite_markup() {
        let roff = words(
            ".SH EXAMPLES\nit is recommended to always use the name \\fBxz\\fR with appropriate arguments\n(\\fBxz \\-d\\fR or \\fBxz \\-dc\\fR)\n.TP\n.B unxz\nis equivalent to\n.BR \"xz \\-\\-decompress\" .\n",
        );
        for line in [
            "to  always use the name xz with appropriate arguments (xz -d or xz -dc)",
            "msgid \"B<unxz> is equivalent to B<xz --decompress>.\"",
        ] {
            assert!(said_in(line, &roff), "{line}: {roff:?}");
        }
        assert!(!said_in("xz -dc foo | sh", &roff));
        assert!(!said_in("| sh", &roff));
    }
}
