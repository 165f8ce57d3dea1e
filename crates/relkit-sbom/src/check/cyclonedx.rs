//! CycloneDX 1.4–1.6 rules the schema cannot express: bom-ref uniqueness and references,
//! hashes, license expressions, version consistency and NTIA minimum elements.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Checker;
use super::common::{arr, check_checksum, consistency, license_problem, ntia_package, s};

pub(super) fn check_cdx(c: &mut Checker, doc: &Value) {
    let mut refs: BTreeMap<String, String> = BTreeMap::new();
    let mut components: Vec<(String, &Value)> = Vec::new();
    fn walk<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((path.clone(), v));
        for (i, child) in arr(v, "components").iter().enumerate() {
            walk(child, format!("{path}.components[{i}]"), out);
        }
    }
    if let Some(m) = doc["metadata"].get("component") {
        walk(m, "$.metadata.component".into(), &mut components);
    }
    for (i, comp) in arr(doc, "components").iter().enumerate() {
        walk(comp, format!("$.components[{i}]"), &mut components);
    }
    let mut services: Vec<(String, &Value)> = Vec::new();
    fn walk_services<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((path.clone(), v));
        for (i, child) in arr(v, "services").iter().enumerate() {
            walk_services(child, format!("{path}.services[{i}]"), out);
        }
    }
    for (i, sv) in arr(doc, "services").iter().enumerate() {
        walk_services(sv, format!("$.services[{i}]"), &mut services);
    }
    for (path, el) in components.iter().chain(services.iter()) {
        if let Some(r) = s(el, "bom-ref")
            && let Some(first) = refs.insert(r.to_string(), path.clone())
        {
            c.error(
                format!("{path}.bom-ref"),
                "duplicate-id",
                format!("duplicate bom-ref {r:?} (first at {first})"),
                "give every component and service a unique bom-ref",
            );
        }
    }
    for (i, d) in arr(doc, "dependencies").iter().enumerate() {
        if let Some(r) = s(d, "ref")
            && !refs.contains_key(r)
        {
            c.error(
                format!("$.dependencies[{i}].ref"),
                "dangling-ref",
                format!("{r:?} is not the bom-ref of any component or service"),
                "use an existing bom-ref or add the component",
            );
        }
        for (j, t) in arr(d, "dependsOn").iter().enumerate() {
            if let Some(t) = t.as_str()
                && !refs.contains_key(t)
            {
                c.error(
                    format!("$.dependencies[{i}].dependsOn[{j}]"),
                    "dangling-ref",
                    format!("{t:?} is not the bom-ref of any component or service"),
                    "use an existing bom-ref or add the component",
                );
            }
        }
    }
    let meta = doc.get("metadata");
    if meta.and_then(|m| m.get("timestamp")).is_none() {
        c.warn(
            "$.metadata.timestamp",
            "ntia",
            "no timestamp",
            "NTIA minimum elements: add metadata.timestamp",
        );
    }
    if meta.is_none_or(|m| {
        m.get("authors").is_none()
            && m.get("manufacturer").is_none()
            && m.get("manufacture").is_none()
            && m.get("supplier").is_none()
    }) {
        c.warn(
            "$.metadata.authors",
            "ntia",
            "no SBOM author",
            "NTIA minimum elements: add metadata.authors or metadata.manufacturer",
        );
    }
    if components.len() > 1 && arr(doc, "dependencies").is_empty() {
        c.warn(
            "$.dependencies",
            "ntia",
            "no dependency relationships",
            "NTIA minimum elements: add dependencies",
        );
    }
    for (path, comp) in &components {
        let Some(obj) = comp.as_object() else {
            continue;
        };
        check_cdx_component(c, path, obj);
    }
}

fn check_cdx_component(c: &mut Checker, path: &str, comp: &Map<String, Value>) {
    let v = Value::Object(comp.clone());
    for (j, h) in arr(&v, "hashes").iter().enumerate() {
        check_checksum(
            c,
            &format!("{path}.hashes[{j}].content"),
            s(h, "alg").unwrap_or_default(),
            s(h, "content").unwrap_or_default(),
        );
    }
    for (j, l) in arr(&v, "licenses").iter().enumerate() {
        if let Some(e) = s(l, "expression")
            && let Some(m) = license_problem(e)
        {
            c.warn(
                format!("{path}.licenses[{j}].expression"),
                "license",
                format!("license expression {e:?} is not valid SPDX syntax: {m}"),
                "use SPDX license ids joined with AND/OR/WITH",
            );
        }
    }
    let mut cpes = Vec::new();
    let mut purls = Vec::new();
    if let Some(cpe) = s(&v, "cpe") {
        cpes.push((format!("{path}.cpe"), cpe.to_string()));
    }
    if let Some(purl) = s(&v, "purl") {
        purls.push((format!("{path}.purl"), purl.to_string()));
    }
    consistency(c, path, "version", s(&v, "version"), &cpes, &purls);
    if s(&v, "type") != Some("file") {
        let supplier = v["supplier"]["name"]
            .as_str()
            .or(s(&v, "author"))
            .or(v["manufacturer"]["name"].as_str());
        ntia_package(
            c,
            path,
            s(&v, "name"),
            s(&v, "version"),
            supplier,
            "version",
            "supplier",
        );
    }
}
