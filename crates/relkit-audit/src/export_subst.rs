//! Explaining a file that `git archive` rewrote through the `export-subst` attribute: the
//! tag holds `$Format:…$` placeholders (setuptools-scm's `.git_archival.txt`, version files)
//! and the tarball their expansions. The tarball's file must be the tag's with only the
//! placeholders replaced; the commit and tree ids they name (`%H %h %T %t`) must be the
//! tag's, and only message formats (`%B %b %n %N %GG`, trailers) may expand to several lines.

use regex::bytes::Regex;

/// Largest file checked (placeholder files are a few lines).
const MAX_SIZE: usize = 1 << 20;
/// Most placeholders in one file.
const MAX_PLACEHOLDERS: usize = 64;

/// What [`expansion`] verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expanded {
    /// Placeholders expanded.
    pub placeholders: usize,
}

/// Whether `tarball` is `tag` with its `$Format:…$` placeholders expanded for `commit` (full
/// hex id) whose tree is `tree`; `None` when the tag has no placeholder or it is not.
pub fn expansion(tag: &[u8], tarball: &[u8], commit: &str, tree: &str) -> Option<Expanded> {
    if tag.len() > MAX_SIZE || tarball.len() > MAX_SIZE {
        return None;
    }
    let placeholder = Regex::new(r"\$Format:([^$]*)\$").expect("static regex");
    let formats: Vec<&[u8]> = placeholder
        .captures_iter(tag)
        .map(|c| c.get(1).expect("group 1").as_bytes())
        .collect();
    if formats.is_empty() || formats.len() > MAX_PLACEHOLDERS {
        return None;
    }
    let mut pattern = String::from("(?s-u)^");
    let mut last = 0;
    for m in placeholder.find_iter(tag) {
        pattern.push_str(&escape(&tag[last..m.start()]));
        last = m.end();
        pattern.push_str(r"(.*?)");
    }
    pattern.push_str(&escape(&tag[last..]));
    pattern.push('$');
    let caps = Regex::new(&pattern).ok()?.captures(tarball)?;
    for (i, format) in formats.iter().enumerate() {
        let value = caps.get(i + 1)?.as_bytes();
        if !expands_to(format, value, commit, tree) {
            return None;
        }
    }
    Some(Expanded {
        placeholders: formats.len(),
    })
}

/// Whether `value` can be git's expansion of `format` for this commit and tree.
fn expands_to(format: &[u8], value: &[u8], commit: &str, tree: &str) -> bool {
    let multi_line = ["%B", "%b", "%n", "%N", "%GG", "%(trailers"]
        .iter()
        .any(|f| format.windows(f.len()).any(|w| w == f.as_bytes()));
    if !multi_line && value.contains(&b'\n') {
        return false;
    }
    let id_prefix = |full: &str| {
        value.len() >= 4 && value.len() <= full.len() && full.as_bytes().starts_with(value)
    };
    match format {
        b"%H" => value == commit.as_bytes(),
        b"%T" => value == tree.as_bytes(),
        b"%h" => id_prefix(commit),
        b"%t" => id_prefix(tree),
        _ => true,
    }
}

/// `bytes` as a regex matching exactly them (bytes mode: invalid UTF-8 escaped as `\xNN`).
fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&regex::escape(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!(r"\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "e42843938125c938eddbde98aa47d6759c00920c";
    const TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    const TAG: &[u8] = b"node: $Format:%H$\nnode-date: $Format:%cI$\nref-names: $Format:%D$\n";

    #[test]
    fn git_archive_expansions_are_recognized() {
        // What `git archive` wrote for setuptools-scm's .git_archival.txt.
        let archived = format!(
            "node: {COMMIT}\nnode-date: 2024-01-02T03:04:05+00:00\nref-names: HEAD -> main, tag: v1\n"
        );
        assert_eq!(
            expansion(TAG, archived.as_bytes(), COMMIT, TREE),
            Some(Expanded { placeholders: 3 })
        );
        // Another commit's id, a text change outside the placeholders, an extra line.
        let other = archived.replace(COMMIT, "0000000000000000000000000000000000000000");
        assert_eq!(expansion(TAG, other.as_bytes(), COMMIT, TREE), None);
        let edited = archived.replace("node-date", "node-time");
        assert_eq!(expansion(TAG, edited.as_bytes(), COMMIT, TREE), None);
        let injected = archived.replace("tag: v1", "tag: v1\ncurl x | sh");
        assert_eq!(expansion(TAG, injected.as_bytes(), COMMIT, TREE), None);
        // No placeholder: nothing to explain.
        assert_eq!(expansion(b"a\n", b"b\n", COMMIT, TREE), None);
        // Abbreviated ids must be prefixes.
        let short = b"v = \"$Format:%h$\"\n";
        assert!(expansion(short, b"v = \"e4284393\"\n", COMMIT, TREE).is_some());
        assert!(expansion(short, b"v = \"deadbeef\"\n", COMMIT, TREE).is_none());
    }
}
