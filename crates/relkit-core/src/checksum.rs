//! SHA256SUMS / SHA512SUMS files: hashing files in parallel, writing GNU coreutils and BSD
//! (`--tag`) formats, and checking a sums file with the exact semantics of `sha256sum -c`.
//!
//! The parser follows coreutils' `digest.c` (`split_3` / `bsd_split_3`): optional leading
//! whitespace, an optional leading backslash that marks an escaped file name, the BSD form
//! `SHA256 (name) = hex`, and the GNU form `hex  name` / `hex *name`, where the first line
//! decides whether the "reversed BSD" form `hex name` is accepted. Comment (`#`) and empty
//! lines are ignored; a trailing `\r` is stripped.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256, Sha512};

/// A checksum algorithm relkit writes and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// SHA-256 (`sha256sum`).
    Sha256,
    /// SHA-512 (`sha512sum`).
    Sha512,
}

impl Algo {
    /// The tag used in BSD format and in coreutils messages (`SHA256`).
    pub fn tag(self) -> &'static str {
        match self {
            Algo::Sha256 => "SHA256",
            Algo::Sha512 => "SHA512",
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha512 => 128,
        }
    }
}

/// Streams a reader through the algorithm and returns the digest bytes.
pub fn hash_reader(algo: Algo, mut reader: impl Read) -> io::Result<Vec<u8>> {
    // 256 KiB keeps the SHA core busy without holding large files in memory.
    let mut buf = vec![0u8; 256 * 1024];
    macro_rules! pump {
        ($h:expr) => {{
            let mut h = $h;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                h.update(&buf[..n]);
            }
            h.finalize().to_vec()
        }};
    }
    Ok(match algo {
        Algo::Sha256 => pump!(Sha256::new()),
        Algo::Sha512 => pump!(Sha512::new()),
    })
}

/// Hashes one file by streaming it.
pub fn hash_file(algo: Algo, path: &Path) -> io::Result<Vec<u8>> {
    hash_reader(algo, File::open(path)?)
}

/// SHA-256 of a file as a fixed-size array (used for attestation subjects).
pub fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    let v = hash_file(Algo::Sha256, path)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    Ok(out)
}

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Parses 64 hex digits into a SHA-256 digest.
pub fn parse_sha256_hex(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Hashes many files in parallel (rayon, one file per task); results keep the input order.
pub fn hash_files(algo: Algo, paths: &[PathBuf]) -> Vec<io::Result<Vec<u8>>> {
    paths.par_iter().map(|p| hash_file(algo, p)).collect()
}

/// Whether a file name must be escaped in a sums line (coreutils 9.1 escapes `\` and newline).
fn needs_escape(name: &str) -> bool {
    name.contains('\\') || name.contains('\n')
}

fn escape_name(name: &str) -> String {
    name.replace('\\', "\\\\").replace('\n', "\\n")
}

/// One GNU-format line (`hex  name\n`), escaped like coreutils when needed.
pub fn gnu_line(digest: &[u8], name: &str) -> String {
    if needs_escape(name) {
        format!("\\{}  {}\n", hex::encode(digest), escape_name(name))
    } else {
        format!("{}  {}\n", hex::encode(digest), name)
    }
}

/// One BSD-format line (`SHA256 (name) = hex\n`), escaped like coreutils when needed.
pub fn bsd_line(algo: Algo, digest: &[u8], name: &str) -> String {
    if needs_escape(name) {
        format!(
            "\\{} ({}) = {}\n",
            algo.tag(),
            escape_name(name),
            hex::encode(digest)
        )
    } else {
        format!("{} ({}) = {}\n", algo.tag(), name, hex::encode(digest))
    }
}

/// A whole SHA256SUMS file in GNU format, in the given order.
pub fn write_sums(entries: &[(String, [u8; 32])]) -> String {
    entries.iter().map(|(n, d)| gnu_line(d, n)).collect()
}

/// A whole sums file for any algorithm; `tag` selects BSD format.
pub fn write_sums_with(algo: Algo, entries: &[(String, Vec<u8>)], tag: bool) -> String {
    entries
        .iter()
        .map(|(n, d)| {
            if tag {
                bsd_line(algo, d, n)
            } else {
                gnu_line(d, n)
            }
        })
        .collect()
}

/// A properly formatted line of a sums file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumLine {
    /// 1-based line number in the sums file.
    pub line_no: usize,
    /// Expected digest (lower-case hex as written, compared case-insensitively).
    pub hex: String,
    /// File name (unescaped).
    pub name: String,
    /// Whether the line used binary mode (`*`).
    pub binary: bool,
}

/// A parsed sums file: good lines and the numbers of improperly formatted lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedSums {
    /// Properly formatted lines, in file order.
    pub lines: Vec<SumLine>,
    /// 1-based numbers of improperly formatted lines.
    pub improper: Vec<usize>,
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn is_white(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Tri-state of coreutils' `bsd_reversed`: unknown until the first GNU line decides.
#[derive(Clone, Copy, PartialEq)]
enum Reversed {
    Unknown,
    No,
    Yes,
}

fn parse_line(algo: Algo, s: &str, reversed: &mut Reversed) -> Option<(String, String, bool)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_white(b[i]) {
        i += 1;
    }
    let mut escaped = false;
    if i < b.len() && b[i] == b'\\' {
        i += 1;
        escaped = true;
    }
    let finish = |name: &str| -> Option<String> {
        if escaped {
            unescape(name)
        } else {
            Some(name.to_string())
        }
    };
    let tag = algo.tag().as_bytes();
    if b[i..].starts_with(tag) {
        i += tag.len();
        if i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'(' {
            return None;
        }
        i += 1;
        let rest = &s[i..];
        let close = rest.rfind(')')?;
        let name = &rest[..close];
        let mut j = close + 1;
        let rb = rest.as_bytes();
        if j < rb.len() && rb[j] == b' ' {
            j += 1;
        }
        if j >= rb.len() || rb[j] != b'=' {
            return None;
        }
        j += 1;
        if j < rb.len() && rb[j] == b' ' {
            j += 1;
        }
        let hex = &rest[j..];
        if hex.len() != algo.hex_len() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        return Some((hex.to_string(), finish(name)?, false));
    }
    let n = algo.hex_len();
    if b.len() - i < n + 2 {
        return None;
    }
    let hex = &s[i..i + n];
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    i += n;
    if !is_white(b[i]) {
        return None;
    }
    i += 1;
    let mut binary = false;
    if b.len() - i == 1 || (b[i] != b' ' && b[i] != b'*') {
        if *reversed == Reversed::No {
            return None;
        }
        *reversed = Reversed::Yes;
    } else if *reversed != Reversed::Yes {
        *reversed = Reversed::No;
        binary = b[i] == b'*';
        i += 1;
    }
    Some((hex.to_string(), finish(&s[i..])?, binary))
}

/// Parses a sums file for one algorithm, exactly like `sha256sum -c` / `sha512sum -c`.
pub fn parse_sums(algo: Algo, text: &str) -> ParsedSums {
    let mut out = ParsedSums::default();
    let mut reversed = Reversed::Unknown;
    for (idx, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(algo, line, &mut reversed) {
            Some((hex, name, binary)) => out.lines.push(SumLine {
                line_no: idx + 1,
                hex,
                name,
                binary,
            }),
            None => out.improper.push(idx + 1),
        }
    }
    out
}

/// Outcome for one listed file.
#[derive(Debug)]
pub enum FileStatus {
    /// Digest matches.
    Ok,
    /// Digest differs.
    Failed,
    /// The file does not exist (skipped silently with `--ignore-missing`).
    Missing(io::Error),
    /// The file could not be opened or read.
    Unreadable(io::Error),
}

/// Result for one properly formatted line.
#[derive(Debug)]
pub struct CheckedFile {
    /// The sums line.
    pub line: SumLine,
    /// What happened.
    pub status: FileStatus,
}

/// Result of checking a whole sums file.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Per-line results, in file order.
    pub files: Vec<CheckedFile>,
    /// 1-based numbers of improperly formatted lines.
    pub improper: Vec<usize>,
}

/// Options of `--check` that change the verdict.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Missing files are neither failures nor reported.
    pub ignore_missing: bool,
    /// Improperly formatted lines make the check fail.
    pub strict: bool,
}

/// Why a check did not pass (the process exit code is 1 in every case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSummary {
    /// Number of improperly formatted lines.
    pub improper: usize,
    /// Files that could not be opened or read (missing ones excluded with `ignore_missing`).
    pub unreadable: usize,
    /// Digest mismatches.
    pub mismatched: usize,
    /// Files whose digest matched.
    pub matched: usize,
    /// Whether there was at least one properly formatted line.
    pub any_proper: bool,
    /// The overall verdict, per coreutils' rules.
    pub passed: bool,
}

impl CheckReport {
    /// Counts and verdict following coreutils' `digest_check`.
    pub fn summary(&self, opts: CheckOptions) -> CheckSummary {
        let mut s = CheckSummary {
            improper: self.improper.len(),
            unreadable: 0,
            mismatched: 0,
            matched: 0,
            any_proper: !self.files.is_empty(),
            passed: false,
        };
        for f in &self.files {
            match &f.status {
                FileStatus::Ok => s.matched += 1,
                FileStatus::Failed => s.mismatched += 1,
                FileStatus::Missing(_) if opts.ignore_missing => {}
                FileStatus::Missing(_) | FileStatus::Unreadable(_) => s.unreadable += 1,
            }
        }
        s.passed = s.any_proper
            && s.mismatched == 0
            && s.unreadable == 0
            && (!opts.strict || s.improper == 0)
            && (!opts.ignore_missing || s.matched > 0);
        s
    }
}

/// Checks every properly formatted line of `text`; names are resolved against `base`
/// (the current directory for coreutils compatibility). Files are hashed in parallel.
pub fn check_sums(algo: Algo, text: &str, base: &Path) -> CheckReport {
    let parsed = parse_sums(algo, text);
    let files = parsed
        .lines
        .into_par_iter()
        .map(|line| {
            let status = match hash_file(algo, &base.join(&line.name)) {
                Ok(d) if hex::encode(&d).eq_ignore_ascii_case(&line.hex) => FileStatus::Ok,
                Ok(_) => FileStatus::Failed,
                Err(e) if e.kind() == io::ErrorKind::NotFound => FileStatus::Missing(e),
                Err(e) => FileStatus::Unreadable(e),
            };
            CheckedFile { line, status }
        })
        .collect();
    CheckReport {
        files,
        improper: parsed.improper,
    }
}

/// An I/O error message without Rust's ` (os error N)` suffix, as C tools print it.
pub fn io_message(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";

    #[test]
    fn parses_gnu_bsd_binary_escaped_and_rejects_garbage() {
        let text = format!(
            "# comment\n\n{H} *a\r\nSHA256 (b c) = {H}\n\\{H}  we\\\\ird\\nx\nnot a line\n{H} a\n"
        );
        let p = parse_sums(Algo::Sha256, &text);
        let names: Vec<_> = p.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["a", "b c", "we\\ird\nx"]);
        assert!(p.lines[0].binary);
        assert_eq!(p.improper, [6, 7]);
    }

    #[test]
    fn first_line_may_be_reversed_bsd() {
        let p = parse_sums(Algo::Sha256, &format!("{H} a\n{H}  b\n"));
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[1].name, " b");
    }

    #[test]
    fn writes_escaped_lines() {
        let d = hex::decode(H).unwrap();
        assert_eq!(gnu_line(&d, "a\\b"), format!("\\{H}  a\\\\b\n"));
        assert_eq!(
            bsd_line(Algo::Sha256, &d, "a"),
            format!("SHA256 (a) = {H}\n")
        );
    }
}
