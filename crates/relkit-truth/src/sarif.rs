//! SARIF 2.1.0 rendering of a [`Report`]: one result per contradicted,
//! inconsistent or unverifiable package, located at the evidence file and line.

use relkit_core::sarif::artifact_uri;
use serde_json::{Value, json};

use crate::{Report, Verdict};

/// 1-based line of the first `"id"` in the SBOM text (where the package is declared).
fn declared_line(sbom_text: &str, id: &str) -> Option<usize> {
    let needle = format!("\"{id}\"");
    let at = sbom_text.find(&needle)?;
    Some(sbom_text[..at].matches('\n').count() + 1)
}

/// The SARIF log of a report. `sbom_text` (the SBOM as read) lets results without evidence
/// point at the line declaring the package.
pub fn to_sarif(report: &Report, sbom_text: Option<&str>) -> Value {
    let mut results = Vec::new();
    for p in &report.packages {
        let (rule, level, message) = match p.verdict {
            Verdict::Contradicted => ("contradicted", "error", p.problems.join("; ")),
            Verdict::Unverifiable => (
                "unverifiable",
                "note",
                format!(
                    "{} {}: no evidence found; looked for {}",
                    p.name,
                    p.declared_version.as_deref().unwrap_or("(no version)"),
                    p.looked_for.join("; ")
                ),
            ),
            Verdict::Confirmed if p.inconsistent() => {
                ("inconsistent-identifiers", "warning", p.problems.join("; "))
            }
            Verdict::Confirmed => continue,
        };
        let location = match p.evidence.first() {
            Some(e) => {
                let region = match (e.line, e.offset) {
                    (Some(l), _) => json!({"startLine": l, "endLine": l}),
                    (None, Some(o)) => json!({"byteOffset": o, "byteLength": e.text.len()}),
                    (None, None) => json!({"byteOffset": 0}),
                };
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(&e.file)},
                    "region": region
                }})
            }
            None => {
                let line = sbom_text.and_then(|t| declared_line(t, &p.id)).unwrap_or(1);
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(&report.sbom)},
                    "region": {"startLine": line, "endLine": line}
                }})
            }
        };
        results.push(json!({
            "ruleId": rule,
            "level": level,
            "message": {"text": message},
            "locations": [location],
            "properties": {
                "package": p.id,
                "name": p.name,
                "declaredVersion": p.declared_version,
                "foundVersion": p.found_version
            }
        }));
    }
    relkit_core::sarif::log(
        vec![
            json!({"id": "contradicted", "shortDescription": {"text": "The bytes show another version than the SBOM declares"}}),
            json!({"id": "inconsistent-identifiers", "shortDescription": {"text": "A CPE or PURL names another version than the package"}}),
            json!({"id": "unverifiable", "shortDescription": {"text": "No evidence of the declared version was found"}}),
        ],
        results,
    )
}
