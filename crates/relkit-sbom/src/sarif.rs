//! SARIF helpers shared by every relkit report that is rendered as SARIF 2.1.0 (scan,
//! SBOM verify): the SBOM crate is the one they all depend on.

/// A SARIF `artifactLocation.uri`: relative paths as they are (with `/`), absolute paths
/// as `file://` URIs (SARIF §3.10: a relative reference must not begin with `/`), with `.`
/// and `..` segments resolved lexically (SARIF validators reject `..` in file URIs).
pub fn artifact_uri(target: &str) -> String {
    let path = normalize(&target.replace('\\', "/"));
    let mut out = String::new();
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    if out.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

/// Resolves `.` and inner `..` segments of a `/`-separated path without touching the disk;
/// leading `..` of a relative path stay.
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn absolute_paths_become_file_uris_and_relative_ones_stay() {
        assert_eq!(artifact_uri("/tmp/a b/x.json"), "file:///tmp/a%20b/x.json");
        assert_eq!(
            artifact_uri("Modules/expat/expat.h"),
            "Modules/expat/expat.h"
        );
        assert_eq!(
            artifact_uri("/w/crates/relkit/../truth/./x.json"),
            "file:///w/crates/truth/x.json"
        );
        assert_eq!(artifact_uri("../a/../b.json"), "../b.json");
    }
}
