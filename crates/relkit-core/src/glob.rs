//! `*`-only wildcard matching for names that users write in policies and tables (signer
//! identities, tag names, Debian package names).
//!
//! Not globset on purpose: these patterns match URLs and e-mail addresses, where `?`, `[…]`
//! and `{…}` are ordinary characters and `*` must cross `/`. Only `*` is special here.

/// Whether `text` matches `pattern`, where `*` stands for any run of characters (including
/// none and `/`) and every other character stands for itself; anchored at both ends.
pub fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_only() {
        assert!(matches("refs/tags/v3.*", "refs/tags/v3.13.5"));
        assert!(!matches("refs/tags/v3.*", "refs/heads/main"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(matches(
            "https://github.com/org/*",
            "https://github.com/org/r/.github/w.yml@x"
        ));
        assert!(matches("a?b", "a?b") && !matches("a?b", "axb"));
        assert!(matches("exact", "exact") && !matches("exact", "exactly"));
        assert!(!matches("ab*ba", "aba") && matches("ab*ba", "abba"));
    }
}
