//! Scan report formats and VEX: OpenVEX `not_affected` suppression, SARIF 2.1.0 and
//! CycloneDX 1.6 VEX output.

use relkit_core::sarif::artifact_uri;
use serde_json::{Value, json};

use crate::record::Level;
use crate::scan::{Finding, Report, Suppressed};

/// An OpenVEX document that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OpenVEX at {path}: {message}")]
pub struct VexError {
    /// JSON path.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The statuses an OpenVEX 0.2 statement may have.
pub const VEX_STATUSES: &[&str] = &["not_affected", "affected", "fixed", "under_investigation"];

/// The justifications an OpenVEX 0.2 `not_affected` statement may give.
pub const VEX_JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// A product an OpenVEX statement is about: its `@id` (a PURL, a name, or an IRI) and the
/// `@id`s of its subcomponents (the components the statement really concerns, when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexProduct {
    /// The product's `@id` (or the string form's value).
    pub id: String,
    /// Its subcomponents' `@id`s.
    pub subcomponents: Vec<String>,
}

/// One OpenVEX statement, as [`read_openvex`] read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// One of [`VEX_STATUSES`].
    pub status: String,
    /// The vulnerability's name first, then its `@id` and aliases.
    pub names: Vec<String>,
    /// The products; empty: every product.
    pub products: Vec<VexProduct>,
    /// One of [`VEX_JUSTIFICATIONS`] (`not_affected`).
    pub justification: Option<String>,
    /// Why the product is not affected, in words (`not_affected`).
    pub impact_statement: Option<String>,
    /// What to do (`affected`).
    pub action_statement: Option<String>,
    /// Free-text notes on the status.
    pub status_notes: Option<String>,
}

impl VexStatement {
    /// Whether the statement concerns the vulnerability known by `ids`.
    pub fn names_any<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        ids.any(|id| self.names.iter().any(|n| n == id))
    }
}

/// Whether a product (or subcomponent) `@id` names a component: its name or reference, or a
/// PURL of the same package whose version, if given, is the component's.
pub fn product_matches(
    product: &str,
    component: &str,
    component_ref: &str,
    purl: Option<&str>,
    installed: Option<&str>,
) -> bool {
    if product == component || product == component_ref {
        return true;
    }
    let Ok(p) = relkit_ident::purl::Purl::parse(product) else {
        return false;
    };
    let Some(fp) = purl.and_then(|t| relkit_ident::purl::Purl::parse(t).ok()) else {
        return false;
    };
    p.ty == fp.ty
        && p.namespace == fp.namespace
        && p.name == fp.name
        && (p.version.is_none() || p.version == fp.version || p.version.as_deref() == installed)
}

fn finding_matches(st: &VexStatement, f: &Finding) -> bool {
    let m = |id: &str| {
        product_matches(
            id,
            &f.component,
            &f.component_ref,
            f.purl.as_deref(),
            f.installed.as_deref(),
        )
    };
    st.names_any(f.all_ids())
        && (st.products.is_empty()
            || st
                .products
                .iter()
                .any(|p| m(&p.id) || p.subcomponents.iter().any(|s| m(s))))
}

fn product_id(p: &Value) -> Option<String> {
    match p {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("@id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Reads the statements of an OpenVEX 0.2 document: each needs a known status
/// ([`VEX_STATUSES`]) and a vulnerability (a name, or an object with `name`, `@id` or
/// `aliases`); a `not_affected` statement needs a justification ([`VEX_JUSTIFICATIONS`]) or
/// an impact statement, as the OpenVEX specification requires. Errors are located by JSON path.
pub fn read_openvex(vex: &Value) -> Result<Vec<VexStatement>, VexError> {
    let err = |path: String, message: &str| VexError {
        path,
        message: message.to_string(),
    };
    let statements = vex
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| err("$.statements".into(), "missing statements array"))?;
    let mut out = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        let base = format!("$.statements[{i}]");
        let status = st
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| err(format!("{base}.status"), "missing status"))?;
        if !VEX_STATUSES.contains(&status) {
            return Err(err(
                format!("{base}.status"),
                &format!(
                    "unknown status {status:?} (OpenVEX 0.2: {})",
                    VEX_STATUSES.join(", ")
                ),
            ));
        }
        let vuln = st
            .get("vulnerability")
            .ok_or_else(|| err(format!("{base}.vulnerability"), "missing vulnerability"))?;
        let mut names: Vec<String> = Vec::new();
        match vuln {
            Value::String(s) => names.push(s.clone()),
            Value::Object(o) => {
                for k in ["name", "@id"] {
                    if let Some(s) = o.get(k).and_then(Value::as_str) {
                        names.push(s.to_string());
                    }
                }
                if let Some(a) = o.get("aliases").and_then(Value::as_array) {
                    names.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                }
            }
            _ => {
                return Err(err(
                    format!("{base}.vulnerability"),
                    "expected a string or an object with name",
                ));
            }
        }
        names.retain(|n| !n.is_empty());
        if names.is_empty() {
            return Err(err(format!("{base}.vulnerability"), "no name"));
        }
        let products: Vec<VexProduct> = st
            .get("products")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        Some(VexProduct {
                            id: product_id(p)?,
                            subcomponents: p
                                .get("subcomponents")
                                .and_then(Value::as_array)
                                .map(|s| s.iter().filter_map(product_id).collect())
                                .unwrap_or_default(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text = |k: &str| {
            st.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
        };
        let justification = text("justification");
        if let Some(j) = &justification
            && !VEX_JUSTIFICATIONS.contains(&j.as_str())
        {
            return Err(err(
                format!("{base}.justification"),
                &format!(
                    "unknown justification {j:?} (OpenVEX 0.2: {})",
                    VEX_JUSTIFICATIONS.join(", ")
                ),
            ));
        }
        if status == "not_affected" && justification.is_none() && text("impact_statement").is_none()
        {
            return Err(err(
                base,
                "a not_affected statement needs a justification or impact_statement",
            ));
        }
        out.push(VexStatement {
            status: status.to_string(),
            names,
            products,
            justification,
            impact_statement: text("impact_statement"),
            action_statement: text("action_statement"),
            status_notes: text("status_notes"),
        });
    }
    Ok(out)
}

/// Moves findings that an OpenVEX document marks `not_affected` into `report.suppressed`.
pub fn apply_openvex(report: &mut Report, vex: &Value) -> Result<usize, VexError> {
    let rules = read_openvex(vex)?;
    let mut kept = Vec::new();
    let mut n = 0;
    for f in std::mem::take(&mut report.findings) {
        let rule = rules
            .iter()
            .find(|st| st.status == "not_affected" && finding_matches(st, &f));
        match rule {
            Some(st) => {
                n += 1;
                report.suppressed.push(Suppressed {
                    finding: f,
                    status: st.status.clone(),
                    justification: st.justification.clone(),
                    statement: st.impact_statement.clone(),
                });
            }
            None => kept.push(f),
        }
    }
    report.findings = kept;
    Ok(n)
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Critical | Level::High => "error",
        Level::Medium => "warning",
        _ => "note",
    }
}

fn help_uri(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

/// SARIF 2.1.0: one rule per vulnerability id, one result per finding.
pub fn to_sarif(report: &Report) -> Value {
    let uri = artifact_uri(&report.target);
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let f = report
                .findings
                .iter()
                .find(|f| f.id == *id)
                .expect("id from findings");
            let mut props = json!({"tags": ["security", "vulnerability"], "aliases": f.aliases});
            if let Some(s) = f.score {
                props["security-severity"] = json!(format!("{s:.1}"));
            }
            json!({
                "id": id,
                "shortDescription": {"text": f.summary.clone().unwrap_or_else(|| id.to_string())},
                "helpUri": help_uri(id),
                "properties": props,
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut msg = format!(
                "{} {} is affected by {} ({}{})",
                f.component,
                f.installed.as_deref().unwrap_or("?"),
                f.id,
                f.severity.as_str(),
                f.score.map(|s| format!(" {s:.1}")).unwrap_or_default()
            );
            if let Some(x) = &f.fixed {
                msg.push_str(&format!("; fixed in {x}"));
            }
            if let Some(c) = &f.condition {
                msg.push_str(&format!("; only when {c}"));
            }
            json!({
                "ruleId": f.id,
                "level": sarif_level(f.severity),
                "message": {"text": msg},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                    "logicalLocations": [{"name": f.component, "fullyQualifiedName": f.purl.clone().unwrap_or_else(|| f.component_ref.clone()), "kind": "package"}],
                }],
                "properties": {"installed": f.installed, "fixed": f.fixed, "reasons": f.reasons, "condition": f.condition, "foundIn": f.locations},
            })
        })
        .collect();
    relkit_core::sarif::log(rules, results)
}

fn cdx_justification(openvex: Option<&str>) -> Option<&'static str> {
    Some(match openvex? {
        "component_not_present" | "vulnerable_code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "requires_environment",
        "inline_mitigations_already_exist" => "protected_by_mitigating_control",
        _ => return None,
    })
}

fn cdx_vuln(f: &Finding, state: &str, justification: Option<&str>, detail: Option<&str>) -> Value {
    let mut ratings = Vec::new();
    if f.severity != Level::Unknown {
        let method = match f.vector.as_deref() {
            Some(v) if v.starts_with("CVSS:4") => Some("CVSSv4"),
            Some(v) if v.starts_with("CVSS:3.1") => Some("CVSSv31"),
            Some(v) if v.starts_with("CVSS:3") => Some("CVSSv3"),
            Some(_) => Some("CVSSv2"),
            None => None,
        };
        let mut r = json!({"severity": f.severity.as_str()});
        if let Some(s) = f.score {
            r["score"] = json!(s);
        }
        if let Some(m) = method {
            r["method"] = json!(m);
        }
        if let Some(v) = &f.vector {
            r["vector"] = json!(v);
        }
        ratings.push(r);
    }
    let source_name = if f.id.starts_with("CVE-") {
        "NVD"
    } else {
        "OSV"
    };
    let mut analysis = json!({"state": state});
    if let Some(j) = justification {
        analysis["justification"] = json!(j);
    }
    if let Some(d) = detail {
        analysis["detail"] = json!(d);
    }
    let affects_ref = f.purl.clone().unwrap_or_else(|| f.component_ref.clone());
    let mut version =
        json!({"status": if state == "not_affected" {"unaffected"} else {"affected"}});
    if let Some(v) = &f.installed {
        version["version"] = json!(v);
    }
    let mut v = json!({
        "id": f.id,
        "source": {"name": source_name, "url": help_uri(&f.id)},
        "references": f.aliases.iter().map(|a| json!({"id": a, "source": {"name": if a.starts_with("CVE-") {"NVD"} else {"OSV"}, "url": help_uri(a)}})).collect::<Vec<_>>(),
        "ratings": ratings,
        "analysis": analysis,
        "affects": [{"ref": affects_ref, "versions": [version]}],
    });
    if let Some(d) = &f.summary {
        v["description"] = json!(d);
    }
    if let Some(x) = &f.fixed {
        v["recommendation"] = json!(format!("Upgrade {} to {x} or later", f.component));
    }
    v
}

/// CycloneDX 1.6 VEX: findings as `in_triage` (or `exploitable` when unconditional) and
/// VEX-suppressed ones as `not_affected` with the mapped justification.
pub fn to_cyclonedx_vex(report: &Report) -> Value {
    let mut vulns: Vec<Value> = report
        .findings
        .iter()
        .map(|f| cdx_vuln(f, "in_triage", None, f.condition.as_deref()))
        .collect();
    for s in &report.suppressed {
        vulns.push(cdx_vuln(
            &s.finding,
            "not_affected",
            cdx_justification(s.justification.as_deref()),
            s.statement.as_deref().or(s.justification.as_deref()),
        ));
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "relkit", "version": env!("CARGO_PKG_VERSION")}]}},
        "vulnerabilities": vulns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Finding;

    fn finding(id: &str, aliases: &[&str], purl: &str) -> Finding {
        Finding {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            component: "urllib3".into(),
            component_ref: "SPDXRef-u".into(),
            purl: Some(purl.into()),
            installed: Some("1.26.16".into()),
            fixed: Some("1.26.17".into()),
            severity: Level::Medium,
            score: Some(5.9),
            vector: None,
            summary: None,
            condition: None,
            reasons: Vec::new(),
            locations: Vec::new(),
            informational: None,
        }
    }

    #[test]
    fn sarif_uris() {
        assert_eq!(artifact_uri("/tmp/a b/x.json"), "file:///tmp/a%20b/x.json");
        assert_eq!(artifact_uri("dist/x#1.json"), "dist/x%231.json");
    }

    #[test]
    fn openvex_matches_aliases_and_product_versions() {
        let mut r = Report {
            schema: "relkit-scan/1",
            target: "t".into(),
            database: "d".into(),
            components: 1,
            warnings: Vec::new(),
            findings: vec![
                finding(
                    "CVE-2023-43804",
                    &["GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"],
                    "pkg:pypi/urllib3@1.26.16",
                ),
                finding(
                    "CVE-2024-37891",
                    &["GHSA-34jh-p97f-mpxf"],
                    "pkg:pypi/urllib3@1.26.16",
                ),
            ],
            suppressed: Vec::new(),
            notes: Vec::new(),
            unchecked: Vec::new(),
        };
        // By alias (GHSA id), string-form vulnerability, product purl with another version: no match.
        let vex = serde_json::json!({"statements": [
            {"vulnerability": "GHSA-v845-jxx5-vc9f", "products": ["pkg:pypi/urllib3@2.0.0"],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
            {"vulnerability": {"name": "PYSEC-2023-192"}, "products": [{"@id": "pkg:pypi/urllib3"}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
            {"vulnerability": {"name": "CVE-2024-37891"}, "status": "under_investigation"}
        ]});
        assert_eq!(apply_openvex(&mut r, &vex).unwrap(), 1);
        assert_eq!(r.suppressed[0].finding.id, "CVE-2023-43804");
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].id, "CVE-2024-37891");
        let bad = serde_json::json!({"statements": [{"status": "not_affected"}]});
        let e = apply_openvex(&mut r, &bad).unwrap_err();
        assert_eq!(e.path, "$.statements[0].vulnerability");
        let bad = serde_json::json!({"statements": [{"vulnerability": "X", "status": "fine"}]});
        assert_eq!(
            apply_openvex(&mut r, &bad).unwrap_err().path,
            "$.statements[0].status"
        );
        let bad =
            serde_json::json!({"statements": [{"vulnerability": "X", "status": "not_affected"}]});
        assert_eq!(
            apply_openvex(&mut r, &bad).unwrap_err().path,
            "$.statements[0]"
        );
        let bad = serde_json::json!({"statements": [{"vulnerability": "X", "status": "not_affected", "justification": "trust_me"}]});
        assert_eq!(
            apply_openvex(&mut r, &bad).unwrap_err().path,
            "$.statements[0].justification"
        );
        // A subcomponent of the product names the component.
        let vex = serde_json::json!({"statements": [
            {"vulnerability": {"name": "CVE-2024-37891"}, "status": "not_affected",
             "products": [{"@id": "pkg:pypi/app@1.0", "subcomponents": [{"@id": "pkg:pypi/urllib3@1.26.16"}]}],
             "impact_statement": "never reached"}
        ]});
        assert_eq!(apply_openvex(&mut r, &vex).unwrap(), 1);
        assert!(r.findings.is_empty());
    }
}
