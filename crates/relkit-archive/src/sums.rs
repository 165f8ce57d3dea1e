//! SHA256SUMS files in GNU coreutils format (`sha256sum -c` accepts them).

/// Formats `(file name, sha256)` pairs as `sha256sum` prints them, sorted by name.
///
/// Like coreutils, a name holding a backslash, newline or carriage return is escaped and
/// its line starts with a backslash.
pub fn format_sha256sums(entries: &[(String, [u8; 32])]) -> String {
    let mut sorted: Vec<&(String, [u8; 32])> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (name, digest) in sorted {
        let needs_escape = name.contains(['\\', '\n', '\r']);
        if needs_escape {
            out.push('\\');
        }
        out.push_str(&hex::encode(digest));
        out.push_str("  ");
        if needs_escape {
            out.push_str(
                &name
                    .replace('\\', "\\\\")
                    .replace('\n', "\\n")
                    .replace('\r', "\\r"),
            );
        } else {
            out.push_str(name);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_format_sorted_and_escaped() {
        let text = format_sha256sums(&[("b.tar.gz".into(), [0x11; 32]), ("a\\b".into(), [0; 32])]);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], format!("\\{}  a\\\\b", "00".repeat(32)));
        assert_eq!(lines[1], format!("{}  b.tar.gz", "11".repeat(32)));
    }
}
