//! SPDX 2.2 / 2.3 rules the schema cannot express, section by section of the document:
//! document fields, creation info, element ids, relationships, packages (fields, files,
//! external references), files, snippets, annotations and extracted licenses.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Checker;
use super::common::{
    arr, check_checksum, check_license, consistency, is_actor, is_cpe22, is_cpe23,
    is_download_location, is_spdx_date, is_spdx_id, is_spdx_purl, ntia_package, s,
};

/// (JSON path, identifier) pairs: CPEs or PURLs with where they are.
type Located = Vec<(String, String)>;

/// What the per-element rules need to know about the whole document.
struct Doc<'a> {
    /// The document declares SPDX-2.2 (stricter mandatory fields, fewer keys).
    v22: bool,
    /// SPDXID → JSON path of the element that declares it.
    ids: BTreeMap<String, String>,
    /// `DocumentRef-` ids of the external documents.
    doc_refs: BTreeSet<&'a str>,
    /// SPDXIDs of the files.
    file_ids: BTreeSet<&'a str>,
    /// `LicenseRef-` ids declared in hasExtractedLicensingInfos.
    extracted: BTreeSet<String>,
}

impl Doc<'_> {
    /// An id of this document, or `DocumentRef-…:SPDXRef-…` of a declared external document.
    fn resolves(&self, id: &str) -> bool {
        if self.ids.contains_key(id) {
            return true;
        }
        match id.split_once(':') {
            Some((d, el)) if d.starts_with("DocumentRef-") => {
                self.doc_refs.contains(d) && el.starts_with("SPDXRef-")
            }
            _ => false,
        }
    }
}

/// Checks an SPDX document (`version`: `SPDX-2.2` or `SPDX-2.3`), section by section.
pub(super) fn check_spdx(c: &mut Checker, doc: &Value, version: &str) {
    document_fields(c, doc);
    creation_info(c, doc);
    let ids = element_ids(c, doc);
    let d = Doc {
        v22: version == "SPDX-2.2",
        ids,
        doc_refs: arr(doc, "externalDocumentRefs")
            .iter()
            .filter_map(|r| s(r, "externalDocumentId"))
            .collect(),
        file_ids: arr(doc, "files")
            .iter()
            .filter_map(|f| s(f, "SPDXID"))
            .collect(),
        extracted: arr(doc, "hasExtractedLicensingInfos")
            .iter()
            .filter_map(|l| s(l, "licenseId"))
            .map(str::to_string)
            .collect(),
    };
    let contains = relationships(c, doc, &d);
    for (i, p) in arr(doc, "packages").iter().enumerate() {
        package(c, &d, &contains, i, p);
    }
    for (i, f) in arr(doc, "files").iter().enumerate() {
        file(c, &d, i, f);
    }
    snippets(c, doc, &d);
    annotations(c, doc);
    extracted_licenses(c, doc);
}

/// The document's own fields: SPDXID, the required fields, dataLicense, documentNamespace.
fn document_fields(c: &mut Checker, doc: &Value) {
    if s(doc, "SPDXID") != Some("SPDXRef-DOCUMENT") {
        c.error(
            "$.SPDXID",
            "spec",
            "the document's SPDXID must be \"SPDXRef-DOCUMENT\"",
            "set \"SPDXID\": \"SPDXRef-DOCUMENT\"",
        );
    }
    for (key, hint) in [
        ("name", "give the document a name, e.g. \"CPython-3.13.5\""),
        (
            "documentNamespace",
            "add a unique URI, e.g. https://example.org/spdx/<name>-<uuid>",
        ),
        ("dataLicense", "add \"dataLicense\": \"CC0-1.0\""),
        (
            "creationInfo",
            "add creationInfo with \"created\" and \"creators\"",
        ),
    ] {
        if doc.get(key).is_none() {
            c.error(
                format!("$.{key}"),
                "spec",
                format!("required field {key} is missing (a partial document such as CPython's in-tree Misc/sbom.spdx.json is not a complete SPDX document)"),
                hint,
            );
        }
    }
    if let Some(dl) = s(doc, "dataLicense")
        && dl != "CC0-1.0"
    {
        c.error(
            "$.dataLicense",
            "spec",
            format!("dataLicense must be CC0-1.0, found {dl:?}"),
            "set \"dataLicense\": \"CC0-1.0\"",
        );
    }
    if let Some(ns) = s(doc, "documentNamespace")
        && (ns.contains('#') || !ns.contains(':'))
    {
        c.error(
            "$.documentNamespace",
            "spec",
            format!("documentNamespace must be an absolute URI without '#', found {ns:?}"),
            "use e.g. https://example.org/spdx/<name>-<uuid>",
        );
    }
}

/// creationInfo: the timestamp, the creators' syntax, an author (NTIA).
fn creation_info(c: &mut Checker, doc: &Value) {
    let creators: Vec<&str> = arr(&doc["creationInfo"], "creators")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if let Some(ci) = doc.get("creationInfo") {
        match s(ci, "created") {
            Some(d) if !is_spdx_date(d) => c.error(
                "$.creationInfo.created",
                "spec",
                format!("created must be YYYY-MM-DDThh:mm:ssZ, found {d:?}"),
                "write the UTC time like 2025-06-11T00:00:00Z",
            ),
            None => c.error(
                "$.creationInfo.created",
                "ntia",
                "creation timestamp is missing",
                "add creationInfo.created",
            ),
            _ => {}
        }
        for (i, cr) in creators.iter().enumerate() {
            if !is_actor(cr) || *cr == "NOASSERTION" {
                c.error(format!("$.creationInfo.creators[{i}]"), "spec", format!("creator {cr:?} must start with \"Tool: \", \"Organization: \" or \"Person: \""), "prefix the creator with its kind");
            }
        }
        if !creators
            .iter()
            .any(|c| c.starts_with("Person: ") || c.starts_with("Organization: "))
        {
            c.warn("$.creationInfo.creators", "ntia", "no author (Person or Organization creator)", "NTIA minimum elements need the SBOM author: add e.g. \"Organization: Python Software Foundation\"");
        }
    }
}

/// Ids: syntax and uniqueness. Returns SPDXID → JSON path of its element.
fn element_ids(c: &mut Checker, doc: &Value) -> BTreeMap<String, String> {
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    ids.insert("SPDXRef-DOCUMENT".into(), "$".into());
    for (section, _) in [("packages", ()), ("files", ()), ("snippets", ())] {
        for (i, el) in arr(doc, section).iter().enumerate() {
            let path = format!("$.{section}[{i}].SPDXID");
            let Some(id) = s(el, "SPDXID") else { continue };
            if !is_spdx_id(id) {
                c.error(
                    &path,
                    "spdx-id",
                    format!("{id:?} is not a valid SPDX id"),
                    "ids look like SPDXRef-<letters, digits, '.', '-'>",
                );
            }
            if let Some(first) = ids.insert(id.to_string(), path.clone()) {
                c.error(
                    &path,
                    "duplicate-id",
                    format!("duplicate SPDXID {id:?} (first at {first})"),
                    "give every element a unique SPDXID",
                );
            }
        }
    }
    ids
}

/// Relationships and documentDescribes: references resolve, the document describes
/// something, dependencies exist (NTIA). Returns the files each element CONTAINS.
fn relationships<'a>(
    c: &mut Checker,
    doc: &'a Value,
    d: &Doc<'_>,
) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut describes = !arr(doc, "documentDescribes").is_empty();
    let mut contains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut has_dependency = false;
    for (i, r) in arr(doc, "relationships").iter().enumerate() {
        let path = format!("$.relationships[{i}]");
        let from = s(r, "spdxElementId").unwrap_or_default();
        let to = s(r, "relatedSpdxElement").unwrap_or_default();
        let kind = s(r, "relationshipType").unwrap_or_default();
        if !d.resolves(from) {
            c.error(format!("{path}.spdxElementId"), "dangling-ref", format!("{from:?} is not an element of this document"), "point the relationship at an existing SPDXID or declare the DocumentRef in externalDocumentRefs");
        }
        if to != "NONE" && to != "NOASSERTION" && !d.resolves(to) {
            c.error(format!("{path}.relatedSpdxElement"), "dangling-ref", format!("{to:?} is not an element of this document"), "point the relationship at an existing SPDXID or declare the DocumentRef in externalDocumentRefs");
        }
        if d.v22 && (kind == "SPECIFICATION_FOR" || kind == "REQUIREMENT_DESCRIPTION_FOR") {
            c.error(
                format!("{path}.relationshipType"),
                "spec",
                format!("{kind} is not supported in SPDX-2.2"),
                "use SPDX-2.3 or another relationship type",
            );
        }
        if (from == "SPDXRef-DOCUMENT" && kind == "DESCRIBES")
            || (to == "SPDXRef-DOCUMENT" && kind == "DESCRIBED_BY")
        {
            describes = true;
        }
        if kind == "CONTAINS" && d.file_ids.contains(to) {
            contains.entry(from).or_default().push(to);
        }
        if kind == "CONTAINED_BY" && d.file_ids.contains(from) {
            contains.entry(to).or_default().push(from);
        }
        if kind.starts_with("DEPENDS_ON")
            || kind.starts_with("DEPENDENCY_OF")
            || kind == "CONTAINS"
            || kind.ends_with("DEPENDENCY_OF")
        {
            has_dependency = true;
        }
    }
    for (i, described) in arr(doc, "documentDescribes").iter().enumerate() {
        if let Some(el) = described.as_str()
            && !d.resolves(el)
        {
            c.error(
                format!("$.documentDescribes[{i}]"),
                "dangling-ref",
                format!("{el:?} is not an element of this document"),
                "list SPDXIDs of packages or files in this document",
            );
        }
    }
    let single_package = arr(doc, "packages").len() == 1
        && arr(doc, "files").is_empty()
        && arr(doc, "snippets").is_empty();
    if !describes && !single_package {
        c.error("$.relationships", "spec", "no \"SPDXRef-DOCUMENT DESCRIBES …\" relationship", "add {\"spdxElementId\": \"SPDXRef-DOCUMENT\", \"relationshipType\": \"DESCRIBES\", \"relatedSpdxElement\": <top package>}");
    }
    if !has_dependency && arr(doc, "packages").len() > 1 {
        c.warn(
            "$.relationships",
            "ntia",
            "no dependency or containment relationships between components",
            "NTIA minimum elements need dependency relationships: add DEPENDS_ON / CONTAINS",
        );
    }
    contains
}

/// filesAnalyzed, true when absent (the spec's default).
fn files_analyzed(p: &Value) -> bool {
    p.get("filesAnalyzed")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// One package: its fields, its files, its external references, version consistency and
/// NTIA minimum elements.
fn package(
    c: &mut Checker,
    d: &Doc<'_>,
    contains: &BTreeMap<&str, Vec<&str>>,
    i: usize,
    p: &Value,
) {
    let path = format!("$.packages[{i}]");
    package_fields(c, d, &path, p);
    package_files(c, d, contains, &path, p);
    let (cpes, purls) = external_refs(c, &path, p);
    consistency(c, &path, "versionInfo", s(p, "versionInfo"), &cpes, &purls);
    ntia_package(
        c,
        &path,
        s(p, "name"),
        s(p, "versionInfo"),
        s(p, "supplier"),
        "versionInfo",
        "supplier",
    );
}

/// A package's download location, supplier/originator, licenses and version-specific keys.
fn package_fields(c: &mut Checker, d: &Doc<'_>, path: &str, p: &Value) {
    let analyzed = files_analyzed(p);
    if let Some(dl) = s(p, "downloadLocation")
        && !is_download_location(dl)
    {
        c.error(
            format!("{path}.downloadLocation"),
            "spec",
            format!("{dl:?} is not a URL, VCS location, NONE or NOASSERTION"),
            "use an https:// URL, git+https://…, NONE or NOASSERTION",
        );
    }
    for key in ["supplier", "originator"] {
        if let Some(a) = s(p, key)
            && (!is_actor(a) || a.starts_with("Tool: "))
        {
            c.error(
                format!("{path}.{key}"),
                "spec",
                format!("{key} {a:?} must be \"Person: …\", \"Organization: …\" or NOASSERTION"),
                "prefix the name with Person: or Organization:",
            );
        }
    }
    for key in ["licenseConcluded", "licenseDeclared"] {
        if let Some(l) = s(p, key) {
            check_license(c, &format!("{path}.{key}"), l, Some(&d.extracted));
        } else if d.v22 {
            c.error(
                format!("{path}.{key}"),
                "spec",
                format!("{key} is mandatory in SPDX-2.2"),
                "add it (NOASSERTION is allowed)",
            );
        }
    }
    if d.v22 && p.get("copyrightText").is_none() {
        c.error(
            format!("{path}.copyrightText"),
            "spec",
            "copyrightText is mandatory in SPDX-2.2",
            "add it (NOASSERTION is allowed)",
        );
    }
    for (j, l) in arr(p, "licenseInfoFromFiles").iter().enumerate() {
        if let Some(l) = l.as_str() {
            check_license(
                c,
                &format!("{path}.licenseInfoFromFiles[{j}]"),
                l,
                Some(&d.extracted),
            );
        }
    }
    if !analyzed && !arr(p, "licenseInfoFromFiles").is_empty() {
        c.error(
            format!("{path}.licenseInfoFromFiles"),
            "spec",
            "licenseInfoFromFiles must be absent when filesAnalyzed is false",
            "remove it or set filesAnalyzed true",
        );
    }
    if d.v22 {
        for key in [
            "primaryPackagePurpose",
            "builtDate",
            "releaseDate",
            "validUntilDate",
        ] {
            if p.get(key).is_some() {
                c.error(
                    format!("{path}.{key}"),
                    "spec",
                    format!("{key} is not supported in SPDX-2.2"),
                    "remove it or declare SPDX-2.3",
                );
            }
        }
    }
}

/// A package's checksums, verification code, filesAnalyzed agreement and hasFiles.
fn package_files(
    c: &mut Checker,
    d: &Doc<'_>,
    contains: &BTreeMap<&str, Vec<&str>>,
    path: &str,
    p: &Value,
) {
    let id = s(p, "SPDXID").unwrap_or_default();
    let analyzed = files_analyzed(p);
    for (j, ck) in arr(p, "checksums").iter().enumerate() {
        check_checksum(
            c,
            &format!("{path}.checksums[{j}].checksumValue"),
            s(ck, "algorithm").unwrap_or_default(),
            s(ck, "checksumValue").unwrap_or_default(),
        );
    }
    if let Some(code) = p.get("packageVerificationCode") {
        let value = s(code, "packageVerificationCodeValue").unwrap_or_default();
        if !analyzed {
            c.error(
                format!("{path}.packageVerificationCode"),
                "spec",
                "packageVerificationCode must be absent when filesAnalyzed is false",
                "remove it or set filesAnalyzed true",
            );
        } else {
            check_checksum(
                c,
                &format!("{path}.packageVerificationCode.packageVerificationCodeValue"),
                "SHA1",
                value,
            );
        }
    }
    if !analyzed {
        if let Some(files) = contains.get(id) {
            c.error(format!("{path}.filesAnalyzed"), "spec", format!("filesAnalyzed is false but the package CONTAINS {} file(s), e.g. {}", files.len(), files[0]), "set filesAnalyzed true (with a verification code) or drop the CONTAINS relationships");
        }
        if !arr(p, "hasFiles").is_empty() {
            c.error(
                format!("{path}.hasFiles"),
                "spec",
                "filesAnalyzed is false but hasFiles lists files",
                "set filesAnalyzed true or remove hasFiles",
            );
        }
    }
    for (j, f) in arr(p, "hasFiles").iter().enumerate() {
        if let Some(f) = f.as_str()
            && !d.resolves(f)
        {
            c.error(
                format!("{path}.hasFiles[{j}]"),
                "dangling-ref",
                format!("{f:?} is not an element of this document"),
                "list SPDXIDs of files in this document",
            );
        }
    }
}

/// A package's externalRefs: categories, CPE/PURL syntax, whitespace. Returns the
/// (JSON path, identifier) pairs of its CPE 2.3 names and PURLs.
fn external_refs(c: &mut Checker, path: &str, p: &Value) -> (Located, Located) {
    let mut cpes = Vec::new();
    let mut purls = Vec::new();
    for (j, r) in arr(p, "externalRefs").iter().enumerate() {
        let rpath = format!("{path}.externalRefs[{j}]");
        let cat = s(r, "referenceCategory")
            .unwrap_or_default()
            .replace('_', "-");
        let ty = s(r, "referenceType").unwrap_or_default();
        let loc = s(r, "referenceLocator").unwrap_or_default();
        let expected = match ty {
            "cpe22Type" | "cpe23Type" | "advisory" | "fix" | "url" | "swid" => Some("SECURITY"),
            "maven-central" | "npm" | "nuget" | "bower" | "purl" => Some("PACKAGE-MANAGER"),
            "swh" | "gitoid" => Some("PERSISTENT-ID"),
            _ => None,
        };
        if let Some(e) = expected
            && cat != e
        {
            c.error(
                format!("{rpath}.referenceCategory"),
                "spec",
                format!("referenceType {ty} belongs to category {e}, found {cat}"),
                format!("set referenceCategory to {e}"),
            );
        }
        match ty {
            "cpe23Type" => {
                if is_cpe23(loc) {
                    cpes.push((format!("{rpath}.referenceLocator"), loc.to_string()));
                } else {
                    c.error(format!("{rpath}.referenceLocator"), "cpe", format!("{loc:?} is not a CPE 2.3 formatted string"), "write cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other (13 fields)");
                }
            }
            "cpe22Type" if !is_cpe22(loc) => c.error(
                format!("{rpath}.referenceLocator"),
                "cpe",
                format!("{loc:?} is not a CPE 2.2 URI"),
                "write cpe:/a:vendor:product:version",
            ),
            "purl" if !is_spdx_purl(loc) => c.error(
                format!("{rpath}.referenceLocator"),
                "purl",
                format!("{loc:?} is not a PURL"),
                "write pkg:type/namespace/name@version",
            ),
            "purl" => purls.push((format!("{rpath}.referenceLocator"), loc.to_string())),
            _ => {}
        }
        if loc.contains(char::is_whitespace) {
            c.error(
                format!("{rpath}.referenceLocator"),
                "spec",
                format!("referenceLocator {loc:?} contains whitespace"),
                "remove the whitespace",
            );
        }
    }
    (cpes, purls)
}

/// One file: a relative name, a SHA1, checksums, licenses, SPDX-2.2 mandatory fields.
fn file(c: &mut Checker, d: &Doc<'_>, i: usize, f: &Value) {
    let path = format!("$.files[{i}]");
    let name = s(f, "fileName").unwrap_or_default();
    if name.starts_with('/') {
        c.error(
            format!("{path}.fileName"),
            "spec",
            format!("fileName {name:?} must be relative"),
            "write the path relative to the package root, e.g. ./src/a.c",
        );
    }
    let cks = arr(f, "checksums");
    if !cks.iter().any(|ck| s(ck, "algorithm") == Some("SHA1")) {
        c.error(
            format!("{path}.checksums"),
            "checksum",
            "every file needs a SHA1 checksum",
            "add {\"algorithm\": \"SHA1\", \"checksumValue\": <40 hex>}",
        );
    }
    for (j, ck) in cks.iter().enumerate() {
        check_checksum(
            c,
            &format!("{path}.checksums[{j}].checksumValue"),
            s(ck, "algorithm").unwrap_or_default(),
            s(ck, "checksumValue").unwrap_or_default(),
        );
    }
    match s(f, "licenseConcluded") {
        Some(l) => check_license(
            c,
            &format!("{path}.licenseConcluded"),
            l,
            Some(&d.extracted),
        ),
        None if d.v22 => c.error(
            format!("{path}.licenseConcluded"),
            "spec",
            "licenseConcluded is mandatory in SPDX-2.2",
            "add it (NOASSERTION is allowed)",
        ),
        None => {}
    }
    for (j, l) in arr(f, "licenseInfoInFiles").iter().enumerate() {
        if let Some(l) = l.as_str() {
            check_license(
                c,
                &format!("{path}.licenseInfoInFiles[{j}]"),
                l,
                Some(&d.extracted),
            );
        }
    }
    if d.v22 && f.get("copyrightText").is_none() {
        c.error(
            format!("{path}.copyrightText"),
            "spec",
            "copyrightText is mandatory in SPDX-2.2",
            "add it (NOASSERTION is allowed)",
        );
    }
}

/// Snippets: the file they come from, their license.
fn snippets(c: &mut Checker, doc: &Value, d: &Doc<'_>) {
    for (i, sn) in arr(doc, "snippets").iter().enumerate() {
        if let Some(from) = s(sn, "snippetFromFile")
            && !d.resolves(from)
        {
            c.error(
                format!("$.snippets[{i}].snippetFromFile"),
                "dangling-ref",
                format!("{from:?} is not an element of this document"),
                "point at an SPDXID of a file in this document",
            );
        }
        if let Some(l) = s(sn, "licenseConcluded") {
            check_license(
                c,
                &format!("$.snippets[{i}].licenseConcluded"),
                l,
                Some(&d.extracted),
            );
        }
    }
}

/// Annotations of the document and of its packages: date and annotator syntax.
fn annotations(c: &mut Checker, doc: &Value) {
    for (i, a) in arr(doc, "annotations")
        .iter()
        .chain(
            arr(doc, "packages")
                .iter()
                .flat_map(|p| arr(p, "annotations")),
        )
        .enumerate()
    {
        if let Some(d) = s(a, "annotationDate")
            && !is_spdx_date(d)
        {
            c.error(
                format!("$.annotations[{i}].annotationDate"),
                "spec",
                format!("annotationDate must be YYYY-MM-DDThh:mm:ssZ, found {d:?}"),
                "write the UTC time like 2025-06-11T00:00:00Z",
            );
        }
        if let Some(a) = s(a, "annotator")
            && (!is_actor(a) || a == "NOASSERTION")
        {
            c.error(
                format!("$.annotations[{i}].annotator"),
                "spec",
                format!("annotator {a:?} must start with Person:, Organization: or Tool:"),
                "prefix the annotator with its kind",
            );
        }
    }
}

/// hasExtractedLicensingInfos: LicenseRef- ids with their text.
fn extracted_licenses(c: &mut Checker, doc: &Value) {
    for (i, l) in arr(doc, "hasExtractedLicensingInfos").iter().enumerate() {
        let id = s(l, "licenseId").unwrap_or_default();
        if !id.starts_with("LicenseRef-") {
            c.error(
                format!("$.hasExtractedLicensingInfos[{i}].licenseId"),
                "license",
                format!("{id:?} must start with LicenseRef-"),
                "rename it LicenseRef-<id>",
            );
        }
        if l.get("extractedText").is_none() {
            c.error(
                format!("$.hasExtractedLicensingInfos[{i}].extractedText"),
                "license",
                "extractedText is required",
                "add the license text",
            );
        }
    }
}
