//! CycloneDX 1.4 / 1.5 / 1.6 JSON reader and CycloneDX 1.6 JSON writer for the [`Document`]
//! model.
//!
//! Mapping: `metadata.component` is the described package; components of type `file` are
//! files; nesting (`components` inside a component) is CONTAINS; `dependencies` is DEPENDS_ON.
//! SPDX-only package fields travel in `properties` named `relkit:spdx:*` so that a round trip
//! SPDX → CycloneDX → SPDX keeps them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{
    Checksum, Document, Dropped, Evidence, File, IdAllocator, Package, Relationship,
};

const PROP_PURPOSE: &str = "relkit:spdx:primaryPackagePurpose";
const PROP_CODE: &str = "relkit:spdx:packageVerificationCode";
const PROP_ANALYZED: &str = "relkit:spdx:filesAnalyzed";
const PROP_ORIGINATOR: &str = "relkit:spdx:originator";
const PROP_CONCLUDED: &str = "relkit:spdx:licenseConcluded";
const PROP_DECLARED: &str = "relkit:spdx:licenseDeclared";
const PROP_SUPPLIER: &str = "relkit:spdx:supplier";
const PROP_DOWNLOAD: &str = "relkit:spdx:downloadLocation";
const PROP_CPE: &str = "relkit:cpe";
const PROP_PURL: &str = "relkit:purl";
/// Prefix of the properties that carry linking facts ([`Evidence::is_linking`]): the name ends
/// with the method (`relkit:evidence:macho-id-dylib`), the value is `{"file": …, "text": …}`.
/// They are not occurrences of the component nor evidence of its version, so they are not
/// written under `evidence`.
const PROP_LINKING: &str = "relkit:evidence:";

/// CycloneDX hash algorithm names and their SPDX spellings.
const HASHES: &[(&str, &str)] = &[
    ("MD5", "MD5"),
    ("SHA-1", "SHA1"),
    ("SHA-256", "SHA256"),
    ("SHA-384", "SHA384"),
    ("SHA-512", "SHA512"),
    ("SHA3-256", "SHA3-256"),
    ("SHA3-384", "SHA3-384"),
    ("SHA3-512", "SHA3-512"),
    ("BLAKE2b-256", "BLAKE2b-256"),
    ("BLAKE2b-384", "BLAKE2b-384"),
    ("BLAKE2b-512", "BLAKE2b-512"),
    ("BLAKE3", "BLAKE3"),
];

const COMPONENT_KEYS: &[&str] = &[
    "type",
    "bom-ref",
    "name",
    "group",
    "version",
    "supplier",
    "author",
    "authors",
    "licenses",
    "copyright",
    "hashes",
    "purl",
    "cpe",
    "externalReferences",
    "components",
    "evidence",
    "properties",
    "description",
];

/// Reads a CycloneDX 1.4, 1.5 or 1.6 JSON document into the model.
pub fn read(value: &Value, origin: &str) -> Result<(Document, Dropped)> {
    let obj = value.as_object().ok_or_else(|| Error::Invalid {
        origin: origin.into(),
        path: "$".into(),
        message: "a CycloneDX document must be a JSON object".into(),
    })?;
    let spec = obj
        .get("specVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(spec, "1.4" | "1.5" | "1.6") {
        return Err(Error::UnsupportedFormat {
            origin: origin.into(),
            message: format!("CycloneDX specVersion is {spec:?}; relkit reads 1.4, 1.5 and 1.6"),
        });
    }
    let mut dropped = Vec::new();
    for k in obj.keys() {
        if ![
            "bomFormat",
            "specVersion",
            "serialNumber",
            "version",
            "metadata",
            "components",
            "dependencies",
            "$schema",
        ]
        .contains(&k.as_str())
        {
            dropped.push(format!("$.{k}"));
        }
    }
    let mut r = Reader {
        doc: Document::default(),
        dropped,
        ids: IdAllocator::default(),
    };
    r.doc.namespace = obj
        .get("serialNumber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let meta = obj.get("metadata").and_then(Value::as_object);
    if let Some(meta) = meta {
        r.metadata(meta);
    }
    // Reserve every explicit bom-ref first so generated ids never collide with them.
    collect_refs(obj.get("components"), &mut r.ids);
    if let Some(c) = meta.and_then(|m| m.get("component")) {
        r.ids.reserve(c["bom-ref"].as_str().unwrap_or_default());
        collect_refs(c.get("components"), &mut r.ids);
    }
    let top = match meta.and_then(|m| m.get("component")) {
        Some(c) => {
            let id = r.component(c, None, "$.metadata.component");
            r.doc.describes.push(id.clone());
            Some(id)
        }
        None => None,
    };
    for (i, c) in obj
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let is_file = c["type"].as_str() == Some("file");
        let parent = if is_file { top.as_deref() } else { None };
        r.component(c, parent, &format!("$.components[{i}]"));
    }
    r.dependencies(obj.get("dependencies"));
    if r.doc.name.is_empty() {
        r.doc.name = top
            .as_deref()
            .and_then(|t| r.doc.package(t))
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "sbom".into());
    }
    let mut doc = r.doc;
    doc.normalize();
    Ok((doc, r.dropped))
}

fn collect_refs(components: Option<&Value>, ids: &mut IdAllocator) {
    for c in components.and_then(Value::as_array).into_iter().flatten() {
        if let Some(r) = c["bom-ref"].as_str() {
            ids.reserve(r);
        }
        collect_refs(c.get("components"), ids);
    }
}

struct Reader {
    doc: Document,
    dropped: Dropped,
    ids: IdAllocator,
}

impl Reader {
    fn component(&mut self, c: &Value, parent: Option<&str>, path: &str) -> String {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let version = c["version"].as_str().map(str::to_string);
        let id = match c["bom-ref"].as_str() {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => self.ids.allocate(
                "SPDXRef-",
                &format!("{name}-{}", version.clone().unwrap_or_default()),
            ),
        };
        if let Some(o) = c.as_object() {
            for k in o.keys().filter(|k| !COMPONENT_KEYS.contains(&k.as_str())) {
                self.dropped.push(format!("{path}.{k}"));
            }
        }
        let checksums: Vec<Checksum> = c["hashes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| {
                let alg = h["alg"].as_str()?;
                let spdx = HASHES.iter().find(|(c, _)| *c == alg).map(|(_, s)| *s)?;
                Some(Checksum {
                    algorithm: spdx.into(),
                    value: h["content"].as_str()?.to_ascii_lowercase(),
                })
            })
            .collect();
        if let Some(p) = parent {
            self.doc.relationships.push(Relationship {
                from: p.into(),
                kind: "CONTAINS".into(),
                to: id.clone(),
            });
        }
        let props = properties(c);
        if c["type"].as_str() == Some("file") {
            self.doc.files.push(File {
                id: id.clone(),
                name,
                checksums,
                license_concluded: license_of(&c["licenses"], &mut self.dropped, path).1,
                copyright: c["copyright"].as_str().map(str::to_string),
                comment: c["description"].as_str().map(str::to_string),
            });
        } else {
            let pkg = self.package(c, id.clone(), name, version, checksums, &props, path);
            self.doc.packages.push(pkg);
        }
        for (i, child) in c["components"].as_array().into_iter().flatten().enumerate() {
            self.component(child, Some(&id), &format!("{path}.components[{i}]"));
        }
        id
    }
    /// The metadata: creation time, creators (tools, authors, manufacturer, supplier).
    fn metadata(&mut self, meta: &Map<String, Value>) {
        self.doc.created = meta
            .get("timestamp")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let tools = meta.get("tools");
        let tool_list = match tools {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) => o
                .get("components")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        for t in tool_list {
            let name = t["name"].as_str().unwrap_or("unknown");
            let creator = match t["version"].as_str() {
                Some(v) => format!("Tool: {name}-{v}"),
                None => format!("Tool: {name}"),
            };
            self.doc.creators.push(creator);
        }
        for a in meta
            .get("authors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = a["name"].as_str() {
                self.doc.creators.push(format!("Person: {n}"));
            }
        }
        for key in ["manufacturer", "manufacture", "supplier"] {
            if let Some(n) = meta.get(key).and_then(|m| m["name"].as_str()) {
                self.doc.creators.push(format!("Organization: {n}"));
            }
        }
        for k in meta.keys() {
            if ![
                "timestamp",
                "tools",
                "authors",
                "manufacturer",
                "manufacture",
                "supplier",
                "component",
            ]
            .contains(&k.as_str())
            {
                self.dropped.push(format!("$.metadata.{k}"));
            }
        }
    }

    /// `dependencies`: every `dependsOn` a DEPENDS_ON relationship.
    fn dependencies(&mut self, dependencies: Option<&Value>) {
        for d in dependencies.and_then(Value::as_array).into_iter().flatten() {
            let from = d["ref"].as_str().unwrap_or_default();
            for to in d["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                self.doc.relationships.push(Relationship {
                    from: from.into(),
                    kind: "DEPENDS_ON".into(),
                    to: to.into(),
                });
            }
        }
    }

    /// A component that is not a file: a package, with relkit's SPDX properties read back.
    #[allow(clippy::too_many_arguments)]
    fn package(
        &mut self,
        c: &Value,
        id: String,
        name: String,
        version: Option<String>,
        checksums: Vec<Checksum>,
        props: &BTreeMap<&str, Vec<&str>>,
        path: &str,
    ) -> Package {
        let prop = |k: &str| props.get(k).and_then(|v| v.first()).map(|s| s.to_string());
        let (declared, concluded) = license_of(&c["licenses"], &mut self.dropped, path);
        let mut pkg = Package {
            id,
            name: match c["group"].as_str() {
                Some(g) if !g.is_empty() => {
                    format!("{g}/{}", c["name"].as_str().unwrap_or_default())
                }
                _ => name,
            },
            version,
            supplier: prop(PROP_SUPPLIER).or_else(|| {
                c["supplier"]["name"]
                    .as_str()
                    .map(|n| format!("Organization: {n}"))
            }),
            originator: prop(PROP_ORIGINATOR)
                .or_else(|| c["author"].as_str().map(|a| format!("Person: {a}"))),
            license_declared: prop(PROP_DECLARED).or(declared),
            license_concluded: prop(PROP_CONCLUDED).or(concluded),
            copyright: c["copyright"].as_str().map(str::to_string),
            checksums,
            cpes: c["cpe"].as_str().map(str::to_string).into_iter().collect(),
            purls: c["purl"].as_str().map(str::to_string).into_iter().collect(),
            verification_code: prop(PROP_CODE),
            files_analyzed: prop(PROP_ANALYZED).is_some_and(|v| v == "true"),
            purpose: prop(PROP_PURPOSE)
                .or_else(|| purpose_of(c["type"].as_str().unwrap_or_default())),
            comment: c["description"].as_str().map(str::to_string),
            download_location: prop(PROP_DOWNLOAD),
            ..Package::default()
        };
        pkg.cpes.extend(
            props
                .get(PROP_CPE)
                .into_iter()
                .flatten()
                .map(|s| s.to_string()),
        );
        pkg.purls.extend(
            props
                .get(PROP_PURL)
                .into_iter()
                .flatten()
                .map(|s| s.to_string()),
        );
        for r in c["externalReferences"].as_array().into_iter().flatten() {
            let url = r["url"].as_str().map(str::to_string);
            match r["type"].as_str() {
                Some("distribution") if pkg.download_location.is_none() => {
                    pkg.download_location = url
                }
                Some("website") => pkg.homepage = url,
                _ => {}
            }
        }
        for (method, values) in props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PROP_LINKING)?, v)))
        {
            for v in values {
                let body: Value = serde_json::from_str(v).unwrap_or_default();
                pkg.evidence.push(Evidence {
                    file: body["file"].as_str().unwrap_or_default().into(),
                    offset: None,
                    method: method.into(),
                    text: body["text"].as_str().unwrap_or(v).into(),
                });
            }
        }
        for o in c["evidence"]["occurrences"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let ctx = o["additionalContext"].as_str().unwrap_or_default();
            let (method, text) = ctx.split_once(": ").unwrap_or(("", ctx));
            pkg.evidence.push(Evidence {
                file: o["location"].as_str().unwrap_or_default().into(),
                offset: o["offset"].as_u64(),
                method: method.into(),
                text: text.into(),
            });
        }
        pkg
    }
}

/// A component's `properties`: name → values, in order.
fn properties(c: &Value) -> BTreeMap<&str, Vec<&str>> {
    c["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .fold(BTreeMap::new(), |mut m, p| {
            if let (Some(n), Some(v)) = (p["name"].as_str(), p["value"].as_str()) {
                m.entry(n).or_default().push(v);
            }
            m
        })
}

fn purpose_of(kind: &str) -> Option<String> {
    Some(
        match kind {
            "application" => "APPLICATION",
            "library" => "LIBRARY",
            "framework" => "FRAMEWORK",
            "container" => "CONTAINER",
            "operating-system" => "OPERATING-SYSTEM",
            "device" | "firmware" => "FIRMWARE",
            "file" => "FILE",
            _ => return None,
        }
        .to_string(),
    )
}

/// Returns (declared, concluded) license expressions of a CycloneDX `licenses` array.
fn license_of(v: &Value, dropped: &mut Dropped, path: &str) -> (Option<String>, Option<String>) {
    let mut declared = Vec::new();
    let mut concluded = Vec::new();
    for (i, l) in v.as_array().into_iter().flatten().enumerate() {
        let ack = l["acknowledgement"]
            .as_str()
            .or(l["license"]["acknowledgement"].as_str());
        let expr = if let Some(e) = l["expression"].as_str() {
            e.to_string()
        } else if let Some(id) = l["license"]["id"].as_str() {
            id.to_string()
        } else {
            dropped.push(format!("{path}.licenses[{i}] (license by name only)"));
            continue;
        };
        if ack == Some("concluded") {
            concluded.push(expr)
        } else {
            declared.push(expr)
        }
    }
    let join = |v: Vec<String>| match v.len() {
        0 => None,
        1 => v.into_iter().next(),
        _ => Some(
            v.iter()
                .map(|e| format!("({e})"))
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    };
    (join(declared), join(concluded))
}

/// Writes the model as CycloneDX 1.6 JSON. Returns the document and what could not be carried.
pub fn write(doc: &Document) -> (Value, Vec<String>) {
    let mut doc = doc.clone();
    doc.normalize();
    let mut lost = Vec::new();
    let files: BTreeMap<&str, &File> = doc.files.iter().map(|f| (f.id.as_str(), f)).collect();
    let packages: BTreeMap<&str, &Package> =
        doc.packages.iter().map(|p| (p.id.as_str(), p)).collect();
    // Each element goes under its first container; elements never contained are top-level.
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &doc.relationships {
        match r.kind.as_str() {
            "CONTAINS"
                if (files.contains_key(r.to.as_str()) || packages.contains_key(r.to.as_str()))
                    && packages.contains_key(r.from.as_str()) =>
            {
                if parent.contains_key(r.to.as_str()) {
                    lost.push(format!(
                        "relationship {} CONTAINS {} (element already nested elsewhere)",
                        r.from, r.to
                    ));
                } else {
                    parent.insert(&r.to, &r.from);
                }
            }
            "DEPENDS_ON" => {
                deps.entry(&r.from).or_default().insert(&r.to);
            }
            "DEPENDENCY_OF" => {
                deps.entry(&r.to).or_default().insert(&r.from);
            }
            _ => lost.push(format!("relationship {} {} {}", r.from, r.kind, r.to)),
        }
    }
    let top = doc.describes.first().map(String::as_str);
    for extra in doc.describes.iter().skip(1) {
        lost.push(format!("document DESCRIBES {extra} (CycloneDX has one metadata.component; listed as a component)"));
    }
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (child, p) in &parent {
        // Files directly in the described package stay top-level components (the BOM subject).
        if Some(*p) == top && files.contains_key(child) {
            continue;
        }
        children.entry(p).or_default().push(child);
    }
    let nested: BTreeSet<&str> = children.values().flatten().copied().collect();
    let w = Writer {
        files: &files,
        packages: &packages,
        children: &children,
    };
    let mut components = Vec::new();
    for p in &doc.packages {
        if Some(p.id.as_str()) != top && !nested.contains(p.id.as_str()) {
            components.push(w.component(&p.id, &mut lost));
        }
    }
    for f in &doc.files {
        if !nested.contains(f.id.as_str()) {
            components.push(w.component(&f.id, &mut lost));
        }
    }
    let (tool_name, tool_version) = split_tool(&doc.creators);
    let mut meta = json!({
        "timestamp": doc.created,
        "tools": { "components": [ { "type": "application", "name": tool_name, "version": tool_version } ] },
    });
    let authors: Vec<Value> = doc
        .creators
        .iter()
        .filter_map(|c| c.strip_prefix("Person: "))
        .map(|n| json!({"name": n}))
        .collect();
    if !authors.is_empty() {
        meta["authors"] = authors.into();
    }
    if let Some(org) = doc
        .creators
        .iter()
        .find_map(|c| c.strip_prefix("Organization: "))
    {
        meta["manufacturer"] = json!({"name": org});
    }
    if let Some(t) = top {
        meta["component"] = w.component(t, &mut lost);
    }
    let dependencies: Vec<Value> = deps
        .iter()
        .map(|(from, to)| json!({"ref": from, "dependsOn": to.iter().collect::<Vec<_>>()}))
        .collect();
    let mut out = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number(&doc.namespace),
        "version": 1,
        "metadata": meta,
        "components": components,
    });
    if !dependencies.is_empty() {
        out["dependencies"] = dependencies.into();
    }
    (out, lost)
}

/// A stable `urn:uuid:` serial number derived from the document namespace (UUID v4 layout
/// over SHA-256 bytes, so the same document always gets the same serial).
pub fn serial_number(namespace: &str) -> String {
    let h = Sha256::digest(namespace.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

fn split_tool(creators: &[String]) -> (String, String) {
    let tool = creators
        .iter()
        .find_map(|c| c.strip_prefix("Tool: "))
        .map(str::to_string)
        .unwrap_or_else(|| {
            crate::tool_creator()
                .trim_start_matches("Tool: ")
                .to_string()
        });
    match tool.rfind('-') {
        Some(i) if tool[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => {
            (tool[..i].to_string(), tool[i + 1..].to_string())
        }
        _ => (tool, String::new()),
    }
}

struct Writer<'a> {
    files: &'a BTreeMap<&'a str, &'a File>,
    packages: &'a BTreeMap<&'a str, &'a Package>,
    children: &'a BTreeMap<&'a str, Vec<&'a str>>,
}

impl Writer<'_> {
    fn component(&self, id: &str, lost: &mut Vec<String>) -> Value {
        let mut m = Map::new();
        m.insert("bom-ref".into(), id.into());
        if let Some(f) = self.files.get(id) {
            file_component(f, id, lost, &mut m);
        } else if let Some(p) = self.packages.get(id) {
            package_component(p, id, lost, &mut m);
        }
        if let Some(kids) = self.children.get(id) {
            let mut kids = kids.clone();
            kids.sort();
            let nested: Vec<Value> = kids.iter().map(|k| self.component(k, lost)).collect();
            m.insert("components".into(), nested.into());
        }
        Value::Object(m)
    }
}

/// The fields of a file component.
fn file_component(f: &File, id: &str, lost: &mut Vec<String>, m: &mut Map<String, Value>) {
    m.insert("type".into(), "file".into());
    m.insert("name".into(), f.name.clone().into());
    m.insert("hashes".into(), hashes(&f.checksums, id, lost));
    if let Some(l) = f
        .license_concluded
        .as_deref()
        .filter(|l| !is_noassertion(l))
    {
        m.insert(
            "licenses".into(),
            json!([{"expression": l, "acknowledgement": "concluded"}]),
        );
    }
    if let Some(c) = &f.copyright {
        m.insert("copyright".into(), c.clone().into());
    }
    if let Some(c) = &f.comment {
        m.insert("description".into(), c.clone().into());
    }
}

/// The fields of a package component; what CycloneDX cannot say goes in relkit's properties.
fn package_component(p: &Package, id: &str, lost: &mut Vec<String>, m: &mut Map<String, Value>) {
    let kind = match p.purpose.as_deref() {
        Some("APPLICATION") => "application",
        Some("FRAMEWORK") => "framework",
        Some("CONTAINER") => "container",
        Some("OPERATING-SYSTEM") => "operating-system",
        Some("FIRMWARE") => "firmware",
        Some("FILE") => "file",
        _ => "library",
    };
    m.insert("type".into(), kind.into());
    m.insert("name".into(), p.name.clone().into());
    let mut props: Vec<(String, String)> = Vec::new();
    if let Some(v) = &p.version {
        m.insert("version".into(), v.clone().into());
    }
    if let Some(s) = &p.supplier {
        // CycloneDX suppliers are organizations; anything else keeps its SPDX form too.
        match s.split_once(": ") {
            Some((kind, n)) => {
                m.insert("supplier".into(), json!({"name": n}));
                if kind != "Organization" {
                    props.push((PROP_SUPPLIER.into(), s.clone()));
                }
            }
            None => props.push((PROP_SUPPLIER.into(), s.clone())),
        }
    }
    if let Some(o) = &p.originator {
        props.push((PROP_ORIGINATOR.into(), o.clone()));
    }
    if !p.checksums.is_empty() {
        m.insert("hashes".into(), hashes(&p.checksums, id, lost));
    }
    licenses(p, m, &mut props);
    if let Some(c) = &p.copyright {
        m.insert("copyright".into(), c.clone().into());
    }
    if let Some(c) = &p.comment {
        m.insert("description".into(), c.clone().into());
    }
    if let Some((first, rest)) = p.cpes.split_first() {
        m.insert("cpe".into(), first.clone().into());
        props.extend(rest.iter().map(|c| (PROP_CPE.to_string(), c.clone())));
    }
    if let Some((first, rest)) = p.purls.split_first() {
        m.insert("purl".into(), first.clone().into());
        props.extend(rest.iter().map(|c| (PROP_PURL.to_string(), c.clone())));
    }
    let mut refs = Vec::new();
    if let Some(d) = p.download_location.as_deref() {
        if d.contains("://") {
            refs.push(json!({"type": "distribution", "url": d}));
        } else {
            props.push((PROP_DOWNLOAD.into(), d.into()));
        }
    }
    if let Some(h) = &p.homepage {
        refs.push(json!({"type": "website", "url": h}));
    }
    if !refs.is_empty() {
        m.insert("externalReferences".into(), refs.into());
    }
    if let Some(purpose) = &p.purpose {
        props.push((PROP_PURPOSE.into(), purpose.clone()));
    }
    if p.files_analyzed {
        props.push((PROP_ANALYZED.into(), "true".into()));
    }
    if let Some(code) = &p.verification_code {
        props.push((PROP_CODE.into(), code.clone()));
    }
    for e in p.evidence.iter().filter(|e| e.is_linking()) {
        props.push((
            format!("{PROP_LINKING}{}", e.method),
            json!({"file": e.file, "text": e.text}).to_string(),
        ));
    }
    if p.evidence.iter().any(|e| !e.is_linking()) {
        m.insert("evidence".into(), evidence(p));
    }
    if !props.is_empty() {
        props.sort();
        let props: Vec<Value> = props
            .into_iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        m.insert("properties".into(), props.into());
    }
}

/// The license: CycloneDX holds one expression; the declared one goes there, the concluded
/// one (and NOASSERTION/NONE values, which CycloneDX cannot say) go in properties.
fn licenses(p: &Package, m: &mut Map<String, Value>, props: &mut Vec<(String, String)>) {
    let declared = p.license_declared.as_deref().filter(|l| !is_noassertion(l));
    if let Some(d) = declared {
        m.insert(
            "licenses".into(),
            json!([{"expression": d, "acknowledgement": "declared"}]),
        );
    } else if let Some(d) = &p.license_declared {
        props.push((PROP_DECLARED.into(), d.clone()));
    }
    match (&p.license_concluded, declared) {
        (Some(c), None) if !is_noassertion(c) => {
            m.insert(
                "licenses".into(),
                json!([{"expression": c, "acknowledgement": "concluded"}]),
            );
        }
        (Some(c), _) => props.push((PROP_CONCLUDED.into(), c.clone())),
        (None, _) => {}
    }
}

/// The evidence of a package: occurrences, and the identity of its version.
fn evidence(p: &Package) -> Value {
    let occurrences: Vec<Value> = p
                    .evidence
                    .iter()
                    .filter(|e| !e.is_linking())
                    .map(|e| {
                        let mut o = json!({"location": e.file, "additionalContext": format!("{}: {}", e.method, e.text)});
                        if let Some(off) = e.offset {
                            o["offset"] = off.into();
                        }
                        o
                    })
                    .collect();
    // Linking facts (sonames, install names, imports) are properties, not version identity.
    let methods: Vec<Value> = p
        .evidence
        .iter()
        .filter(|e| !e.is_linking())
        .map(|e| {
            let technique = if e.is_manifest() {
                "manifest-analysis"
            } else {
                "binary-analysis"
            };
            json!({"technique": technique, "confidence": 1.0, "value": e.text})
        })
        .collect();
    let mut ev = json!({"occurrences": occurrences});
    if p.version.is_some() && !methods.is_empty() {
        ev["identity"] = json!([{"field": "version", "confidence": 1.0, "methods": methods}]);
    }
    ev
}

fn is_noassertion(s: &str) -> bool {
    s == "NOASSERTION" || s == "NONE"
}

fn hashes(c: &[Checksum], id: &str, lost: &mut Vec<String>) -> Value {
    c.iter()
        .filter_map(|c| match HASHES.iter().find(|(_, s)| *s == c.algorithm) {
            Some((alg, _)) => Some(json!({"alg": alg, "content": c.value})),
            None => {
                lost.push(format!(
                    "{id}: checksum {} (no CycloneDX equivalent)",
                    c.algorithm
                ));
                None
            }
        })
        .collect::<Vec<_>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_are_stable_uuids() {
        let a = serial_number("https://example.org/x");
        assert_eq!(a, serial_number("https://example.org/x"));
        assert_ne!(a, serial_number("https://example.org/y"));
        let re = regex::Regex::new(
            "^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(re.is_match(&a), "{a}");
    }
}
