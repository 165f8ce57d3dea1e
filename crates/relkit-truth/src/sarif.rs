//! SARIF 2.1.0 rendering of a [`Report`](crate::Report): one result per contradicted,
//! inconsistent or unverifiable package, located at the evidence file and line.

use serde_json::{Value, json};

use crate::{Report, Verdict};

/// The SARIF log of a report.
pub fn to_sarif(report: &Report) -> Value {
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
                let mut region = serde_json::Map::new();
                if let Some(l) = e.line {
                    region.insert("startLine".into(), json!(l));
                } else if let Some(o) = e.offset {
                    region.insert("byteOffset".into(), json!(o));
                }
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": e.file},
                    "region": region
                }})
            }
            None => json!({"physicalLocation": {"artifactLocation": {"uri": report.sbom}}}),
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
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "relkit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/relkit/relkit",
                "rules": [
                    {"id": "contradicted", "shortDescription": {"text": "The bytes show another version than the SBOM declares"}},
                    {"id": "inconsistent-identifiers", "shortDescription": {"text": "A CPE or PURL names another version than the package"}},
                    {"id": "unverifiable", "shortDescription": {"text": "No evidence of the declared version was found"}}
                ]
            }},
            "results": results
        }]
    })
}
