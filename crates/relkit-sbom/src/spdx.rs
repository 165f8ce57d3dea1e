//! SPDX 2.2 / 2.3 JSON reader and SPDX 2.3 JSON writer for the [`Document`] model.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::model::{Checksum, Document, Dropped, Evidence, File, Package, Relationship};

/// The SPDX id of the document itself.
pub const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
/// Prefix of the annotation comments that carry [`Evidence`].
pub const EVIDENCE_PREFIX: &str = "relkit-evidence: ";

const DOC_KEYS: &[&str] = &[
    "spdxVersion",
    "dataLicense",
    "SPDXID",
    "name",
    "documentNamespace",
    "creationInfo",
    "packages",
    "files",
    "relationships",
    "documentDescribes",
];
const PACKAGE_KEYS: &[&str] = &[
    "SPDXID",
    "name",
    "versionInfo",
    "supplier",
    "originator",
    "downloadLocation",
    "homepage",
    "licenseConcluded",
    "licenseDeclared",
    "copyrightText",
    "checksums",
    "externalRefs",
    "packageVerificationCode",
    "filesAnalyzed",
    "primaryPackagePurpose",
    "comment",
    "annotations",
    "hasFiles",
];
const FILE_KEYS: &[&str] = &[
    "SPDXID",
    "fileName",
    "checksums",
    "licenseConcluded",
    "copyrightText",
    "comment",
];

/// Reads an SPDX 2.2 or 2.3 JSON document. With `partial`, top-level document fields may be
/// missing (CPython's in-tree `Misc/sbom.spdx.json`); otherwise they are still not required
/// here — completeness is [`crate::check`]'s job. Returns the model and the fields it dropped.
pub fn read(value: &Value, origin: &str) -> Result<(Document, Dropped)> {
    let obj = value
        .as_object()
        .ok_or_else(|| invalid(origin, "$", "an SPDX document must be a JSON object"))?;
    let version = obj
        .get("spdxVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if version != "SPDX-2.3" && version != "SPDX-2.2" {
        return Err(Error::UnsupportedFormat {
            origin: origin.to_string(),
            message: format!("spdxVersion is {version:?}; relkit reads SPDX-2.2 and SPDX-2.3 JSON"),
        });
    }
    let mut dropped = Vec::new();
    unknown_keys(obj, DOC_KEYS, "$", &mut dropped);
    let mut doc = Document {
        name: str_field(obj, "name").unwrap_or_default(),
        namespace: str_field(obj, "documentNamespace").unwrap_or_default(),
        ..Document::default()
    };
    if let Some(ci) = obj.get("creationInfo").and_then(Value::as_object) {
        doc.created = str_field(ci, "created").unwrap_or_default();
        doc.creators = strings(ci.get("creators"));
        unknown_keys(ci, &["created", "creators"], "$.creationInfo", &mut dropped);
    }
    doc.describes = strings(obj.get("documentDescribes"));
    for (i, p) in array(obj, "packages", origin)?.iter().enumerate() {
        let pkg = read_package(p, i, origin, &mut doc.relationships, &mut dropped)?;
        doc.packages.push(pkg);
    }
    for (i, f) in array(obj, "files", origin)?.iter().enumerate() {
        let path = format!("$.files[{i}]");
        let f = f
            .as_object()
            .ok_or_else(|| invalid(origin, &path, "a file must be an object"))?;
        unknown_keys(f, FILE_KEYS, &path, &mut dropped);
        let name = str_field(f, "fileName").unwrap_or_default();
        doc.files.push(File {
            id: str_field(f, "SPDXID").unwrap_or_default(),
            name: name.strip_prefix("./").unwrap_or(&name).to_string(),
            checksums: checksums(f.get("checksums")),
            license_concluded: str_field(f, "licenseConcluded"),
            copyright: str_field(f, "copyrightText"),
            comment: str_field(f, "comment"),
        });
    }
    for (i, r) in array(obj, "relationships", origin)?.iter().enumerate() {
        let path = format!("$.relationships[{i}]");
        let r = r
            .as_object()
            .ok_or_else(|| invalid(origin, &path, "a relationship must be an object"))?;
        unknown_keys(
            r,
            &["spdxElementId", "relationshipType", "relatedSpdxElement"],
            &path,
            &mut dropped,
        );
        let rel = Relationship {
            from: str_field(r, "spdxElementId").unwrap_or_default(),
            kind: str_field(r, "relationshipType").unwrap_or_default(),
            to: str_field(r, "relatedSpdxElement").unwrap_or_default(),
        };
        if rel.from == DOCUMENT_ID && rel.kind == "DESCRIBES" {
            doc.describes.push(rel.to);
        } else if rel.to == DOCUMENT_ID && rel.kind == "DESCRIBED_BY" {
            doc.describes.push(rel.from);
        } else {
            doc.relationships.push(rel);
        }
    }
    doc.normalize();
    Ok((doc, dropped))
}

/// One package (`$.packages[i]`); its `hasFiles` become CONTAINS relationships.
fn read_package(
    p: &Value,
    i: usize,
    origin: &str,
    relationships: &mut Vec<Relationship>,
    dropped: &mut Dropped,
) -> Result<Package> {
    let path = format!("$.packages[{i}]");
    let p = p
        .as_object()
        .ok_or_else(|| invalid(origin, &path, "a package must be an object"))?;
    unknown_keys(p, PACKAGE_KEYS, &path, dropped);
    let mut pkg = Package {
        id: str_field(p, "SPDXID").unwrap_or_default(),
        name: str_field(p, "name").unwrap_or_default(),
        version: str_field(p, "versionInfo"),
        supplier: str_field(p, "supplier"),
        originator: str_field(p, "originator"),
        download_location: str_field(p, "downloadLocation"),
        homepage: str_field(p, "homepage"),
        license_concluded: str_field(p, "licenseConcluded"),
        license_declared: str_field(p, "licenseDeclared"),
        copyright: str_field(p, "copyrightText"),
        checksums: checksums(p.get("checksums")),
        files_analyzed: p
            .get("filesAnalyzed")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        purpose: str_field(p, "primaryPackagePurpose"),
        comment: str_field(p, "comment"),
        verification_code: p
            .get("packageVerificationCode")
            .and_then(|v| v.get("packageVerificationCodeValue"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Package::default()
    };
    package_refs(&mut pkg, p, &path, dropped);
    package_annotations(&mut pkg, p, &path, dropped);
    for f in strings(p.get("hasFiles")) {
        relationships.push(Relationship {
            from: pkg.id.clone(),
            kind: "CONTAINS".into(),
            to: f,
        });
    }
    Ok(pkg)
}

/// A package's externalRefs: CPEs and PURLs kept, other references dropped.
fn package_refs(pkg: &mut Package, p: &Map<String, Value>, path: &str, dropped: &mut Dropped) {
    for (j, r) in p
        .get("externalRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = r
            .get("referenceType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let loc = r
            .get("referenceLocator")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match kind {
            "cpe23Type" | "cpe22Type" => pkg.cpes.push(loc),
            "purl" => pkg.purls.push(loc),
            _ => dropped.push(format!("{path}.externalRefs[{j}] ({kind})")),
        }
    }
}

/// A package's annotations: relkit's evidence kept, others dropped.
fn package_annotations(
    pkg: &mut Package,
    p: &Map<String, Value>,
    path: &str,
    dropped: &mut Dropped,
) {
    for (j, a) in p
        .get("annotations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let comment = a.get("comment").and_then(Value::as_str).unwrap_or_default();
        match comment
            .strip_prefix(EVIDENCE_PREFIX)
            .and_then(|j| serde_json::from_str::<Value>(j).ok())
        {
            Some(e) => pkg.evidence.push(Evidence {
                file: e["file"].as_str().unwrap_or_default().to_string(),
                offset: e["offset"].as_u64(),
                method: e["method"].as_str().unwrap_or_default().to_string(),
                text: e["text"].as_str().unwrap_or_default().to_string(),
            }),
            None => dropped.push(format!("{path}.annotations[{j}]")),
        }
    }
}

/// Fills what SPDX requires but a converted document may lack, and returns what was changed:
/// relkit as a `Tool:` creator, `created` in UTC `Z` form (or `fallback_created`), a
/// namespace and name, and SPDX-safe element ids (bom-refs such as `pkg:npm/x@1` are not).
pub fn complete(doc: &mut Document, fallback_created: &str) -> Vec<String> {
    let mut notes = Vec::new();
    complete_creation(doc, fallback_created, &mut notes);
    spdx_element_ids(doc, &mut notes);
    drop_foreign_relationships(doc, &mut notes);
    describe_something(doc, &mut notes);
    complete_namespace(doc, &mut notes);
    for f in &doc.files {
        if f.checksum("SHA1").is_none() {
            notes.push(format!(
                "file {} has no SHA-1, which SPDX requires: the document will not validate",
                f.name
            ));
        }
    }
    doc.normalize();
    notes
}

/// relkit as a `Tool:` creator, `created` in UTC `Z` form (or `fallback_created`), a name.
fn complete_creation(doc: &mut Document, fallback_created: &str, notes: &mut Vec<String>) {
    let tool = crate::tool_creator();
    if !doc.creators.contains(&tool) {
        doc.creators.push(tool);
    }
    match crate::model::normalize_timestamp(&doc.created) {
        Some(t) if t == doc.created => {}
        Some(t) => {
            notes.push(format!(
                "created {:?} written as {t:?} (SPDX wants UTC with Z)",
                doc.created
            ));
            doc.created = t;
        }
        None => {
            notes.push(format!(
                "created {:?} is not RFC 3339; using {fallback_created}",
                doc.created
            ));
            doc.created = fallback_created.to_string();
        }
    }
    if doc.name.is_empty() {
        doc.name = "sbom".into();
    }
}

/// SPDX-safe element ids: every invalid id rewritten (`SPDXRef-` + its sanitized form), and
/// the relationships and describes that name it.
fn spdx_element_ids(doc: &mut Document, notes: &mut Vec<String>) {
    use std::collections::BTreeMap;
    let valid = |id: &str| {
        id.strip_prefix("SPDXRef-").is_some_and(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
    };
    let mut ids = crate::model::IdAllocator::default();
    ids.reserve(DOCUMENT_ID);
    for id in doc
        .packages
        .iter()
        .map(|p| &p.id)
        .chain(doc.files.iter().map(|f| &f.id))
    {
        if valid(id) {
            ids.reserve(id);
        }
    }
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for id in doc
        .packages
        .iter_mut()
        .map(|p| &mut p.id)
        .chain(doc.files.iter_mut().map(|f| &mut f.id))
    {
        if !valid(id) {
            let new = ids.allocate("SPDXRef-", id);
            map.insert(id.clone(), new.clone());
            *id = new;
        }
    }
    if !map.is_empty() {
        notes.push(format!(
            "{} element id(s) rewritten as SPDX ids (e.g. {:?} -> {:?})",
            map.len(),
            map.keys().next().unwrap_or(&String::new()),
            map.values().next().unwrap_or(&String::new())
        ));
        let fix = |s: &mut String| {
            if let Some(n) = map.get(s.as_str()) {
                *s = n.clone();
            }
        };
        for r in &mut doc.relationships {
            fix(&mut r.from);
            fix(&mut r.to);
        }
        for d in &mut doc.describes {
            fix(d);
        }
    }
}

/// Relationships to elements SPDX cannot hold (e.g. CycloneDX services) dropped, and
/// describes of them.
fn drop_foreign_relationships(doc: &mut Document, notes: &mut Vec<String>) {
    let elements: std::collections::BTreeSet<String> = doc
        .packages
        .iter()
        .map(|p| p.id.clone())
        .chain(doc.files.iter().map(|f| f.id.clone()))
        .collect();
    let before = doc.relationships.len();
    doc.relationships.retain(|r| {
        elements.contains(&r.from)
            && (elements.contains(&r.to) || r.to == "NONE" || r.to == "NOASSERTION")
    });
    if doc.relationships.len() < before {
        notes.push(format!(
            "{} relationship(s) to elements SPDX cannot hold (e.g. CycloneDX services) dropped",
            before - doc.relationships.len()
        ));
    }
    doc.describes.retain(|d| elements.contains(d));
}

/// Something to describe: a placeholder package when there is none, the root packages when
/// nothing is described.
fn describe_something(doc: &mut Document, notes: &mut Vec<String>) {
    if doc.packages.is_empty() {
        // SPDX needs something to describe; the BOM's subject is unknown, so say exactly that.
        let id = format!("SPDXRef-PACKAGE-{}", crate::model::sanitize_id(&doc.name));
        doc.packages.push(crate::model::Package {
            id: id.clone(),
            name: doc.name.clone(),
            download_location: Some("NOASSERTION".into()),
            files_analyzed: false,
            comment: Some("placeholder: the source document described no component".into()),
            ..crate::model::Package::default()
        });
        notes.push(format!(
            "the document has no component; placeholder package {id} added as the described element"
        ));
    }
    if doc.describes.is_empty() && !doc.packages.is_empty() {
        let targets: std::collections::BTreeSet<&str> =
            doc.relationships.iter().map(|r| r.to.as_str()).collect();
        let mut roots: Vec<String> = doc
            .packages
            .iter()
            .filter(|p| !targets.contains(p.id.as_str()))
            .map(|p| p.id.clone())
            .collect();
        if roots.is_empty() {
            roots = doc.packages.iter().map(|p| p.id.clone()).collect();
        }
        notes.push(format!(
            "no described component: the document DESCRIBES its {} root package(s)",
            roots.len()
        ));
        doc.describes = roots;
    }
}

/// A valid document namespace (an absolute URI without `#`), derived from the packages when
/// the document has none.
fn complete_namespace(doc: &mut Document, notes: &mut Vec<String>) {
    if doc.namespace.is_empty() || doc.namespace.contains('#') || !doc.namespace.contains(':') {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for p in &doc.packages {
            h.update(p.id.as_bytes());
            h.update(p.version.as_deref().unwrap_or("").as_bytes());
        }
        let ns = format!(
            "https://spdx.org/spdxdocs/relkit/{}-{}",
            crate::model::sanitize_id(&doc.name),
            &hex::encode(h.finalize())[..16]
        );
        notes.push(format!(
            "documentNamespace {:?} replaced by {ns}",
            doc.namespace
        ));
        doc.namespace = ns;
    }
}

/// Writes the model as SPDX 2.3 JSON. Keys come out sorted; arrays in canonical order.
pub fn write(doc: &Document) -> Value {
    let mut doc = doc.clone();
    doc.normalize();
    let tool = doc
        .creators
        .iter()
        .find(|c| c.starts_with("Tool:"))
        .cloned()
        .unwrap_or_else(crate::tool_creator);
    let packages: Vec<Value> = doc
        .packages
        .iter()
        .map(|p| write_package(p, &doc.created, &tool))
        .collect();
    let files: Vec<Value> = doc.files.iter().map(write_file).collect();
    let mut relationships: Vec<Value> = doc
        .describes
        .iter()
        .map(|d| rel_json(DOCUMENT_ID, "DESCRIBES", d))
        .collect();
    relationships.extend(
        doc.relationships
            .iter()
            .map(|r| rel_json(&r.from, &r.kind, &r.to)),
    );
    let mut out = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": DOCUMENT_ID,
        "name": doc.name,
        "documentNamespace": doc.namespace,
        "creationInfo": { "created": doc.created, "creators": doc.creators },
        "packages": packages,
        "relationships": relationships,
    });
    if !files.is_empty() {
        out["files"] = Value::Array(files);
    }
    out
}

fn write_package(p: &Package, created: &str, tool: &str) -> Value {
    let mut m = Map::new();
    m.insert("SPDXID".into(), p.id.clone().into());
    m.insert("name".into(), p.name.clone().into());
    m.insert(
        "downloadLocation".into(),
        p.download_location
            .clone()
            .unwrap_or_else(|| "NOASSERTION".into())
            .into(),
    );
    m.insert("filesAnalyzed".into(), p.files_analyzed.into());
    let opt = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    };
    opt(&mut m, "versionInfo", &p.version);
    opt(&mut m, "supplier", &p.supplier);
    opt(&mut m, "originator", &p.originator);
    opt(&mut m, "homepage", &p.homepage);
    opt(&mut m, "licenseConcluded", &p.license_concluded);
    opt(&mut m, "licenseDeclared", &p.license_declared);
    opt(&mut m, "copyrightText", &p.copyright);
    opt(&mut m, "primaryPackagePurpose", &p.purpose);
    opt(&mut m, "comment", &p.comment);
    if p.files_analyzed
        && let Some(code) = &p.verification_code
    {
        m.insert(
            "packageVerificationCode".into(),
            json!({ "packageVerificationCodeValue": code }),
        );
    }
    if !p.checksums.is_empty() {
        m.insert("checksums".into(), checksums_json(&p.checksums));
    }
    let mut refs: Vec<Value> = p
        .cpes
        .iter()
        .map(|c| {
            let kind = if c.starts_with("cpe:2.3:") {
                "cpe23Type"
            } else {
                "cpe22Type"
            };
            json!({"referenceCategory": "SECURITY", "referenceType": kind, "referenceLocator": c})
        })
        .collect();
    refs.extend(p.purls.iter().map(|u| {
        json!({"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": u})
    }));
    if !refs.is_empty() {
        m.insert("externalRefs".into(), Value::Array(refs));
    }
    if !p.evidence.is_empty() {
        let annotations: Vec<Value> = p
            .evidence
            .iter()
            .map(|e| {
                let body =
                    json!({"file": e.file, "offset": e.offset, "method": e.method, "text": e.text});
                json!({
                    "annotationDate": created,
                    "annotationType": "OTHER",
                    "annotator": tool,
                    "comment": format!("{EVIDENCE_PREFIX}{body}"),
                })
            })
            .collect();
        m.insert("annotations".into(), Value::Array(annotations));
    }
    Value::Object(m)
}

fn write_file(f: &File) -> Value {
    let mut m = Map::new();
    m.insert("SPDXID".into(), f.id.clone().into());
    m.insert("fileName".into(), f.name.clone().into());
    m.insert("checksums".into(), checksums_json(&f.checksums));
    if let Some(l) = &f.license_concluded {
        m.insert("licenseConcluded".into(), l.clone().into());
    }
    if let Some(c) = &f.copyright {
        m.insert("copyrightText".into(), c.clone().into());
    }
    if let Some(c) = &f.comment {
        m.insert("comment".into(), c.clone().into());
    }
    Value::Object(m)
}

fn rel_json(from: &str, kind: &str, to: &str) -> Value {
    json!({"spdxElementId": from, "relationshipType": kind, "relatedSpdxElement": to})
}

fn checksums_json(c: &[Checksum]) -> Value {
    c.iter()
        .map(|c| json!({"algorithm": c.algorithm, "checksumValue": c.value}))
        .collect::<Vec<_>>()
        .into()
}

fn checksums(v: Option<&Value>) -> Vec<Checksum> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| Checksum {
            algorithm: c["algorithm"].as_str().unwrap_or_default().to_string(),
            value: c["checksumValue"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        })
        .collect()
}

fn str_field(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn array<'a>(m: &'a Map<String, Value>, key: &str, origin: &str) -> Result<&'a [Value]> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(origin, &format!("$.{key}"), "must be an array")),
    }
}

fn unknown_keys(m: &Map<String, Value>, known: &[&str], path: &str, dropped: &mut Dropped) {
    dropped.extend(
        m.keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| format!("{path}.{k}")),
    );
}

fn invalid(origin: &str, path: &str, message: &str) -> Error {
    Error::Invalid {
        origin: origin.into(),
        path: path.into(),
        message: message.into(),
    }
}
