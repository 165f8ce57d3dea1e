//! Explaining a `ChangeLog` that `make dist` wrote from the git history with `git log`
//! (xz-utils' dist-hook does, and replaces the tag's short pointer file with it): every
//! `commit <id>` block must name a commit of the tag's history and carry that commit's
//! subject line. The rest of each block (author, date, body, `--stat` lines) is inert text
//! and is not compared.

use std::collections::HashMap;

/// What [`git_log_entries`] verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitLogChangeLog {
    /// Commit blocks, each naming an ancestor of the tag with the same subject.
    pub commits: usize,
}

/// Whether `content` starts like `git log` output (`commit <hex id>` on the first line).
pub fn looks_like_git_log(content: &[u8]) -> bool {
    let first = content.split(|&b| b == b'\n').next().unwrap_or(b"");
    commit_id(first).is_some()
}

/// The id of a `commit <id>[ (decorations)]` line.
fn commit_id(line: &[u8]) -> Option<&str> {
    let rest = line.strip_prefix(b"commit ")?;
    let id = rest.split(|&b| b == b' ').next()?;
    let ok = (id.len() == 40 || id.len() == 64)
        && id
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    ok.then(|| std::str::from_utf8(id).expect("ascii hex"))
}

/// Checks every `commit` block of `content` against `subjects` (commit id → subject line
/// of every commit reachable from the tag); `Err` says which block does not match.
pub fn git_log_entries(
    content: &[u8],
    subjects: &HashMap<String, String>,
) -> Result<GitLogChangeLog, String> {
    let text = String::from_utf8_lossy(content);
    let mut commits = 0;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let Some(id) = commit_id(line.as_bytes()) else {
            continue;
        };
        let Some(expected) = subjects.get(id) else {
            return Err(format!(
                "line {}: commit {id} is not in the tag's history",
                n + 1
            ));
        };
        // Header lines up to the first blank line, then the indented message.
        let mut subject = None;
        let mut in_message = false;
        while let Some((_, next)) = lines.peek() {
            if commit_id(next.as_bytes()).is_some() {
                break;
            }
            let (_, next) = lines.next().expect("peeked");
            if !in_message {
                in_message = next.is_empty();
                continue;
            }
            if let Some(m) = next.strip_prefix("    ") {
                subject = Some(m.trim_end());
                break;
            }
        }
        let subject = subject.unwrap_or("");
        if subject != expected.trim_end() {
            return Err(format!(
                "line {}: commit {id} has the subject {expected:?} in the tag's history, not {subject:?}",
                n + 1
            ));
        }
        commits += 1;
    }
    if commits == 0 {
        return Err("no commit blocks".into());
    }
    Ok(GitLogChangeLog { commits })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "commit 18b845e69752c975dfeda418ec00eda22605c2ee\nAuthor: Lasse Collin <lasse.collin@tukaani.org>\nDate:   2023-01-11 18:52:54 +0200\n\n    Bump version and soname for 5.4.1.\n\n src/liblzma/Makefile.am        | 2 +-\n 1 file changed\n\ncommit 4080bbb844fb36701ffb978f0c41ea2c2c9f8960\nAuthor: Jia Tan <jiat0218@gmail.com>\nDate:   2023-01-11 23:58:16 +0800\n\n    Add NEWS for 5.4.1.\n";

    fn history() -> HashMap<String, String> {
        [
            (
                "18b845e69752c975dfeda418ec00eda22605c2ee",
                "Bump version and soname for 5.4.1.",
            ),
            (
                "4080bbb844fb36701ffb978f0c41ea2c2c9f8960",
                "Add NEWS for 5.4.1.",
            ),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    #[test]
    fn every_block_is_checked() {
        assert!(looks_like_git_log(LOG.as_bytes()));
        assert_eq!(
            git_log_entries(LOG.as_bytes(), &history()),
            Ok(GitLogChangeLog { commits: 2 })
        );
        let forged = LOG.replace("Add NEWS for 5.4.1.", "Add a test file.");
        let err = git_log_entries(forged.as_bytes(), &history()).unwrap_err();
        assert!(err.starts_with("line 10: commit 4080bbb8"), "{err}");
        let unknown = LOG.replace("4080bbb844fb", "5080bbb844fb");
        let err = git_log_entries(unknown.as_bytes(), &history()).unwrap_err();
        assert!(err.contains("not in the tag's history"), "{err}");
        assert!(!looks_like_git_log(
            b"See the commit log in the git repository:\n"
        ));
    }
}
