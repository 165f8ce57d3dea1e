//! SARIF 2.1.0 for every relkit report rendered as SARIF (scan, SBOM verify, audit): the log
//! envelope with relkit as the tool, and artifact URIs.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};

/// What a path segment of a URI reference may not hold as is: controls, space, `%`, `#`, `?`
/// (and every non-ASCII byte, which `utf8_percent_encode` always encodes).
const PATH: &AsciiSet = &CONTROLS.add(b' ').add(b'%').add(b'#').add(b'?');

/// A SARIF 2.1.0 log with one run of relkit: `rules` (reportingDescriptor objects) and
/// `results` as given.
pub fn log(rules: Vec<Value>, results: Vec<Value>) -> Value {
    log_of("relkit", rules, results, Map::new())
}

/// A SARIF 2.1.0 log with one run of the relkit tool named `driver` (`relkit audit
/// tarball`), `rules` and `results` as given, and further properties of the run (such as
/// `originalUriBaseIds`) from `run_extra`.
pub fn log_of(
    driver: &str,
    rules: Vec<Value>,
    results: Vec<Value>,
    run_extra: Map<String, Value>,
) -> Value {
    let mut run = json!({
        "tool": {"driver": {
            "name": driver,
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/relkit/relkit",
            "rules": rules,
        }},
        "results": results,
    });
    if let Value::Object(fields) = &mut run {
        fields.extend(run_extra);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// A SARIF `artifactLocation.uri`: relative paths as they are (with `/`), absolute paths
/// as `file://` URIs (SARIF §3.10: a relative reference must not begin with `/`), with `.`
/// and `..` segments resolved lexically (SARIF validators reject `..` in file URIs).
pub fn artifact_uri(target: &str) -> String {
    let path = normalize(&target.replace('\\', "/"));
    let out = utf8_percent_encode(&path, PATH).to_string();
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
        assert_eq!(artifact_uri("a#b?c%d"), "a%23b%3Fc%25d");
        assert_eq!(artifact_uri("Lib/é.py"), "Lib/%C3%A9.py");
    }

    #[test]
    fn the_log_names_relkit_and_the_schema() {
        let v = super::log(vec![], vec![]);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "relkit");
    }
}
