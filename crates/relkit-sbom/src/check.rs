//! `sbom check`: validation of SPDX 2.2/2.3 and CycloneDX 1.4/1.5/1.6 JSON documents.
//!
//! Layers: the official JSON schema (vendored under `schemas/`), spec rules the schema cannot
//! express (id syntax and uniqueness, referential integrity, checksum lengths, license
//! expressions, download locations, CPE 2.3 / PURL syntax, SPDX-2.2-only mandatory fields),
//! and advisory checks as warnings: NTIA minimum elements and version consistency between a
//! package's version, its CPE and its PURL. Errors decide validity; warnings only fail with
//! `strict`. The error rules mirror what `pyspdxtools -i` rejects, so the verdicts agree.
//!
//! With a CPE dictionary ([`add_identity`]), the identity checks of relkit-ident run too: each
//! CPE must name a product the dictionary knows (else `cpe-unknown`, an error when another
//! vendor's product of that name has CVEs, e.g. `xz_project:xz` on the C xz, with `tukaani:xz`
//! suggested), not a deprecated one, and one whose CVE history fits the component's ecosystem.
//!
//! CPE 2.3 and PURL: errors use the regexes of the SPDX spec / tools-python (so verdicts match
//! pyspdxtools); the full CPE (NISTIR 7695) and purl-spec parsers and the version comparison
//! come from relkit-ident and report warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is invalid.
    Error,
    /// Allowed by the spec, but a consumer will suffer (NTIA, consistency).
    Warning,
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// JSON path, e.g. `$.packages[3].externalRefs[0].referenceLocator`.
    pub path: String,
    /// Short rule id: `schema`, `duplicate-id`, `dangling-ref`, `checksum`, `license`, `cpe`,
    /// `purl`, `ntia`, `version-consistency`, ….
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// The result of checking one document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The checked file.
    pub file: String,
    /// `spdx` or `cyclonedx`.
    pub format: &'static str,
    /// `SPDX-2.3`, `1.6`, ….
    pub spec_version: String,
    /// No errors.
    pub valid: bool,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// All problems, errors first, then by path.
    pub problems: Vec<Problem>,
    /// The CPE dictionary the identity checks used (`None`: they did not run).
    pub dictionary: Option<String>,
}

/// Sorts and counts `problems` into the report's totals.
fn tally(report: &mut Report) {
    report.problems.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.message.cmp(&b.message))
    });
    report.problems.dedup();
    report.errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    report.warnings = report.problems.len() - report.errors;
    report.valid = report.errors == 0;
}

/// Adds the identity checks of relkit-ident (`check_components` against the CPE dictionary
/// `dict`, opened from `dict_path`) to a report on `value`: rules `cpe-unknown`,
/// `cpe-deprecated`, `cpe-ecosystem-mismatch`, `cpe-cve-history-unrelated`, with the
/// dictionary's better CPEs in the hint. CPE/PURL syntax and version agreement are already
/// checked by [`check_value`] and are not repeated.
pub fn add_identity(
    report: &mut Report,
    value: &Value,
    dict: &relkit_ident::dict::Dictionary,
    dict_path: &str,
) -> Result<()> {
    use relkit_ident::check::{Severity as IdSeverity, check_components, sbom_components};
    let components = sbom_components(value).map_err(|e| Error::UnsupportedFormat {
        origin: report.file.clone(),
        message: e.to_string(),
    })?;
    for c in check_components(dict, &components)? {
        for f in c.findings {
            if matches!(
                f.code,
                "cpe-syntax" | "purl-syntax" | "cpe-version" | "purl-version"
            ) {
                continue;
            }
            let hint = if f.suggestions.is_empty() {
                "look the product up with `relkit cpe search NAME` and use the CPE NVD lists for it"
                    .to_string()
            } else {
                let list: Vec<&str> = f.suggestions.iter().map(|s| s.cpe.as_str()).collect();
                format!("use {} (from the CPE dictionary)", list.join(" or "))
            };
            report.problems.push(Problem {
                severity: match f.severity {
                    IdSeverity::Error => Severity::Error,
                    IdSeverity::Warning => Severity::Warning,
                },
                path: f.path,
                rule: f.code,
                message: format!(
                    "{} {}: {}",
                    c.name,
                    c.version.as_deref().unwrap_or(""),
                    f.message
                ),
                hint,
            });
        }
    }
    report.dictionary = Some(dict_path.to_string());
    tally(report);
    Ok(())
}

/// Checks SBOM bytes. Malformed JSON, unknown formats and unsupported spec versions are `Err`.
/// JSON SBOMs must be UTF-8 (RFC 8259 §8.1); a UTF-16 document is refused, as `pyspdxtools -i`
/// refuses it, though `convert` and `merge` still read it.
pub fn check_bytes(bytes: &[u8], origin: &str) -> Result<Report> {
    check_bytes_with(bytes, origin, None)
}

/// [`check_bytes`], plus the identity checks ([`add_identity`]) when a CPE dictionary and its
/// path are given.
pub fn check_bytes_with(
    bytes: &[u8],
    origin: &str,
    identity: Option<(&relkit_ident::dict::Dictionary, &str)>,
) -> Result<Report> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Error::UnsupportedFormat {
            origin: origin.into(),
            message: "the file is UTF-16 (byte order mark); JSON SBOMs must be UTF-8 (RFC 8259): re-encode it, e.g. iconv -f UTF-16 -t UTF-8".into(),
        });
    }
    let value = crate::json::parse(bytes, origin)?;
    let mut report = check_value(&value, origin)?;
    if let Some((dict, path)) = identity {
        add_identity(&mut report, &value, dict, path)?;
    }
    Ok(report)
}

/// Checks a parsed document.
pub fn check_value(value: &Value, origin: &str) -> Result<Report> {
    let mut c = Checker::default();
    // A document with a specVersion but a wrong bomFormat is an invalid CycloneDX BOM (the
    // schema says so), not an unknown format.
    let detected = crate::detect(value).or_else(|| {
        (value.get("specVersion").is_some() && value.get("spdxVersion").is_none())
            .then_some(crate::Format::CycloneDxJson)
    });
    let (format, version) = match detected {
        Some(crate::Format::SpdxJson) => {
            let v = value["spdxVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if v != "SPDX-2.3" && v != "SPDX-2.2" {
                return Err(Error::UnsupportedFormat {
                    origin: origin.into(),
                    message: format!(
                        "spdxVersion {v:?} is not supported; relkit checks SPDX-2.2 and SPDX-2.3 JSON"
                    ),
                });
            }
            c.schema(spdx_schema(), value);
            check_spdx(&mut c, value, &v);
            ("spdx", v)
        }
        Some(crate::Format::CycloneDxJson) => {
            let v = value["specVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            match v.as_str() {
                "1.6" => c.schema(cdx_schema("1.6"), value),
                "1.5" => c.schema(cdx_schema("1.5"), value),
                "1.4" => c.push(
                    Severity::Warning,
                    "$.specVersion".into(),
                    "schema",
                    "CycloneDX 1.4 schema is not bundled: only semantic checks ran".into(),
                    "convert to 1.6 with `relkit sbom convert --to cyclonedx-json`".into(),
                ),
                _ => {
                    return Err(Error::UnsupportedFormat {
                        origin: origin.into(),
                        message: format!(
                            "CycloneDX specVersion {v:?} is not supported; relkit checks 1.4, 1.5 and 1.6"
                        ),
                    });
                }
            }
            check_cdx(&mut c, value);
            ("cyclonedx", v)
        }
        None => {
            return Err(Error::UnsupportedFormat {
                origin: origin.into(),
                message: "neither SPDX (no \"spdxVersion\") nor CycloneDX (no \"bomFormat\": \"CycloneDX\")".into(),
            });
        }
    };
    let mut report = Report {
        file: origin.into(),
        format,
        spec_version: version,
        valid: true,
        errors: 0,
        warnings: 0,
        problems: c.problems,
        dictionary: None,
    };
    tally(&mut report);
    Ok(report)
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(
        &mut self,
        severity: Severity,
        path: String,
        rule: &'static str,
        message: String,
        hint: String,
    ) {
        self.problems.push(Problem {
            severity,
            path,
            rule,
            message,
            hint,
        });
    }
    fn error(
        &mut self,
        path: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(
            Severity::Error,
            path.into(),
            rule,
            message.into(),
            hint.into(),
        );
    }
    fn warn(
        &mut self,
        path: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.push(
            Severity::Warning,
            path.into(),
            rule,
            message.into(),
            hint.into(),
        );
    }

    fn schema(&mut self, validator: &jsonschema::Validator, value: &Value) {
        for e in validator.iter_errors(value).take(200) {
            let pointer = e.instance_path().to_string();
            self.error(
                pointer_to_path(&pointer),
                "schema",
                e.to_string().chars().take(300).collect::<String>(),
                "make the document conform to the official JSON schema of its spec version",
            );
        }
    }
}

fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::from("$");
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.chars().all(|c| c.is_ascii_digit()) && !seg.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            out.push('.');
            out.push_str(&seg);
        }
    }
    out
}

fn load(schema: &str) -> Value {
    serde_json::from_str(schema).expect("vendored schema is valid JSON")
}

fn spdx_schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&load(include_str!("../schemas/spdx-schema-2.3.json")))
            .expect("vendored SPDX schema compiles")
    })
}

fn cdx_schema(version: &str) -> &'static jsonschema::Validator {
    static V15: OnceLock<jsonschema::Validator> = OnceLock::new();
    static V16: OnceLock<jsonschema::Validator> = OnceLock::new();
    let build = |text: &str| {
        let spdx = load(include_str!("../schemas/spdx.schema.json"));
        let mut jsf = load(include_str!("../schemas/jsf-0.82.schema.json"));
        // Schema bug: JSF `algorithm` is oneOf [enum, string], so every listed algorithm
        // ("ES256") matches both branches and strict oneOf rejects valid signatures.
        // The intent is "one of these, or any string": anyOf.
        if let Some(alg) = jsf.pointer_mut("/definitions/signaturecore/properties/algorithm")
            && let Some(one_of) = alg.as_object_mut().and_then(|o| o.remove("oneOf"))
        {
            alg["anyOf"] = one_of;
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .with_resource(
                "http://cyclonedx.org/schema/spdx.schema.json",
                jsonschema::Resource::from_contents(spdx),
            )
            .with_resource(
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                jsonschema::Resource::from_contents(jsf),
            )
            .build(&load(text))
            .expect("vendored CycloneDX schema compiles")
    };
    match version {
        "1.5" => V15.get_or_init(|| build(include_str!("../schemas/bom-1.5.schema.json"))),
        _ => V16.get_or_init(|| build(include_str!("../schemas/bom-1.6.schema.json"))),
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

/// CPE 2.3 formatted-string syntax (the regex of the SPDX 2.3 spec, Appendix VI).
pub fn is_cpe23(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r##"^cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){4}$"##).is_match(s)
}

/// CPE 2.2 URI syntax.
pub fn is_cpe22(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^c[pP][eE]:/[AHOaho]?(:[A-Za-z0-9._\-~%]*){0,6}$").is_match(s)
}

/// The PURL regex `pyspdxtools` applies to SPDX `purl` external references: errors at exactly
/// this level keep relkit's verdicts equal to the reference validator's; the full purl-spec
/// parse (relkit-ident) adds warnings on top.
fn is_spdx_purl(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^pkg:.+(/.+)?/.+(@.+)?(\?.+)?(#.+)?$").is_match(s)
}

/// Full purl-spec parse (relkit-ident), as a warning when it fails.
fn purl_spec_warning(c: &mut Checker, path: &str, purl: &str) -> Option<relkit_ident::purl::Purl> {
    match relkit_ident::purl::Purl::parse(purl) {
        Ok(p) => Some(p),
        Err(e) => {
            c.warn(
                path,
                "purl",
                format!("{purl:?} does not follow the purl spec: {e}"),
                "write pkg:type/namespace/name@version with percent-encoding",
            );
            None
        }
    }
}

fn hex_len(alg: &str) -> Option<usize> {
    Some(match alg.to_ascii_uppercase().as_str() {
        "MD2" | "MD4" | "MD5" => 32,
        "MD6" => return None,
        "SHA1" | "SHA-1" => 40,
        "SHA224" => 56,
        "SHA256" | "SHA-256" | "SHA3-256" | "BLAKE2B-256" => 64,
        "SHA384" | "SHA-384" | "SHA3-384" | "BLAKE2B-384" => 96,
        "SHA512" | "SHA-512" | "SHA3-512" | "BLAKE2B-512" => 128,
        "BLAKE3" => return None,
        "ADLER32" => 8,
        _ => return None,
    })
}

fn check_checksum(c: &mut Checker, path: &str, alg: &str, value: &str) {
    let is_hex = !value.is_empty() && value.chars().all(|ch| ch.is_ascii_hexdigit());
    match hex_len(alg) {
        Some(n) if value.len() != n || !is_hex => c.error(
            path,
            "checksum",
            format!("{alg} checksum must be {n} hex digits, found {:?}", value),
            "recompute the digest and write it as lowercase hex",
        ),
        None if !is_hex => c.error(
            path,
            "checksum",
            format!("{alg} checksum is not hex: {value:?}"),
            "write the digest as lowercase hex",
        ),
        _ => {}
    }
}

/// Parse mode close to the `license-expression` library tools-python uses: SPDX ids (also
/// deprecated ones), `LicenseRef-`, `DocumentRef-…:LicenseRef-`, `WITH` exceptions.
fn license_problem(expr: &str) -> Option<String> {
    if expr == "NOASSERTION" || expr == "NONE" {
        return None;
    }
    // Case-insensitive ids and `+` after GPL ids are accepted by license-expression too.
    let mode = spdx::ParseMode {
        allow_deprecated: true,
        allow_imprecise_license_names: true,
        allow_postfix_plus_on_gpl: true,
        ..spdx::ParseMode::STRICT
    };
    let parsed = match spdx::Expression::parse_mode(expr, mode) {
        Ok(p) => p,
        Err(e) => {
            return Some(
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            );
        }
    };
    // Deprecated ids that fold an exception into the license name (GPL-2.0-with-classpath-
    // exception, eCos-2.0) are exceptions, not licenses, for the SPDX license-expression grammar.
    parsed.requirements().find_map(|r| match r.req.license {
        spdx::LicenseItem::Spdx { id, .. } if id.is_deprecated() && (id.name.contains("-with-") || id.name == "eCos-2.0") => Some(format!(
            "deprecated id {} folds an exception into the license: write it as <license> WITH <exception>",
            id.name
        )),
        _ => None,
    })
}

fn license_refs(expr: &str) -> Vec<String> {
    expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| t.starts_with("LicenseRef-"))
        .map(str::to_string)
        .collect()
}

fn check_license(
    c: &mut Checker,
    path: &str,
    expr: &str,
    declared_refs: Option<&BTreeSet<String>>,
) {
    if let Some(msg) = license_problem(expr) {
        c.error(path, "license", format!("invalid license expression {expr:?}: {msg}"), "use SPDX license ids (https://spdx.org/licenses/) joined with AND/OR/WITH, or LicenseRef-<id> declared in hasExtractedLicensingInfos");
        return;
    }
    if let Some(known) = declared_refs {
        for r in license_refs(expr) {
            if !known.contains(&r) {
                c.error(path, "license", format!("{r} is not declared in hasExtractedLicensingInfos"), format!("add {{\"licenseId\": \"{r}\", \"extractedText\": …}} to hasExtractedLicensingInfos"));
            }
        }
    }
}

fn is_download_location(s: &str) -> bool {
    static URL: OnceLock<Regex> = OnceLock::new();
    static DL: OnceLock<Regex> = OnceLock::new();
    let url = r"(http://www\.|https://www\.|http://|https://|ssh://|git://|svn://|sftp://|ftp://)?([\w\-.!~*'()%;:&=+$,]+@)?[a-z0-9]+([\-\.]{1}[a-z0-9]+){0,100}\.[a-z]{2,5}(:[0-9]{1,5})?(/.*)?";
    if s == "NONE" || s == "NOASSERTION" {
        return true;
    }
    let u = re(&URL, &format!("(?i)^{url}"));
    let d = re(
        &DL,
        &format!(
            r"(?i)^(((git|hg|svn|bzr)\+)?{url}|(git\+git@[a-zA-Z0-9\.\-]+:[a-zA-Z0-9/\\.@\-]+)|(bzr\+lp:[a-zA-Z0-9\.\-]+))$"
        ),
    );
    u.is_match(s) || d.is_match(s)
}

fn is_spdx_id(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^SPDXRef-[a-zA-Z0-9.\-]+$").is_match(s)
}

fn is_actor(s: &str) -> bool {
    s == "NOASSERTION"
        || s.starts_with("Person: ")
        || s.starts_with("Organization: ")
        || s.starts_with("Tool: ")
}

fn is_spdx_date(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$").is_match(s)
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn check_spdx(c: &mut Checker, doc: &Value, version: &str) {
    let v22 = version == "SPDX-2.2";
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
    let extracted: BTreeSet<String> = arr(doc, "hasExtractedLicensingInfos")
        .iter()
        .filter_map(|l| s(l, "licenseId"))
        .map(str::to_string)
        .collect();
    let doc_refs: BTreeSet<&str> = arr(doc, "externalDocumentRefs")
        .iter()
        .filter_map(|r| s(r, "externalDocumentId"))
        .collect();

    // Ids: syntax and uniqueness.
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
    let resolves = |id: &str| -> bool {
        if ids.contains_key(id) {
            return true;
        }
        match id.split_once(':') {
            Some((d, el)) if d.starts_with("DocumentRef-") => {
                doc_refs.contains(d) && el.starts_with("SPDXRef-")
            }
            _ => false,
        }
    };
    let file_ids: BTreeSet<&str> = arr(doc, "files")
        .iter()
        .filter_map(|f| s(f, "SPDXID"))
        .collect();

    // Relationships.
    let mut describes = !arr(doc, "documentDescribes").is_empty();
    let mut contains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut has_dependency = false;
    for (i, r) in arr(doc, "relationships").iter().enumerate() {
        let path = format!("$.relationships[{i}]");
        let from = s(r, "spdxElementId").unwrap_or_default();
        let to = s(r, "relatedSpdxElement").unwrap_or_default();
        let kind = s(r, "relationshipType").unwrap_or_default();
        if !resolves(from) {
            c.error(format!("{path}.spdxElementId"), "dangling-ref", format!("{from:?} is not an element of this document"), "point the relationship at an existing SPDXID or declare the DocumentRef in externalDocumentRefs");
        }
        if to != "NONE" && to != "NOASSERTION" && !resolves(to) {
            c.error(format!("{path}.relatedSpdxElement"), "dangling-ref", format!("{to:?} is not an element of this document"), "point the relationship at an existing SPDXID or declare the DocumentRef in externalDocumentRefs");
        }
        if v22 && (kind == "SPECIFICATION_FOR" || kind == "REQUIREMENT_DESCRIPTION_FOR") {
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
        if kind == "CONTAINS" && file_ids.contains(to) {
            contains.entry(from).or_default().push(to);
        }
        if kind == "CONTAINED_BY" && file_ids.contains(from) {
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
    for (i, d) in arr(doc, "documentDescribes").iter().enumerate() {
        if let Some(d) = d.as_str()
            && !resolves(d)
        {
            c.error(
                format!("$.documentDescribes[{i}]"),
                "dangling-ref",
                format!("{d:?} is not an element of this document"),
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

    for (i, p) in arr(doc, "packages").iter().enumerate() {
        let path = format!("$.packages[{i}]");
        let id = s(p, "SPDXID").unwrap_or_default();
        let analyzed = p
            .get("filesAnalyzed")
            .and_then(Value::as_bool)
            .unwrap_or(true);
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
                    format!(
                        "{key} {a:?} must be \"Person: …\", \"Organization: …\" or NOASSERTION"
                    ),
                    "prefix the name with Person: or Organization:",
                );
            }
        }
        for key in ["licenseConcluded", "licenseDeclared"] {
            if let Some(l) = s(p, key) {
                check_license(c, &format!("{path}.{key}"), l, Some(&extracted));
            } else if v22 {
                c.error(
                    format!("{path}.{key}"),
                    "spec",
                    format!("{key} is mandatory in SPDX-2.2"),
                    "add it (NOASSERTION is allowed)",
                );
            }
        }
        if v22 && p.get("copyrightText").is_none() {
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
                    Some(&extracted),
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
        if v22 {
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
                && !resolves(f)
            {
                c.error(
                    format!("{path}.hasFiles[{j}]"),
                    "dangling-ref",
                    format!("{f:?} is not an element of this document"),
                    "list SPDXIDs of files in this document",
                );
            }
        }
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
    for (i, f) in arr(doc, "files").iter().enumerate() {
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
            Some(l) => check_license(c, &format!("{path}.licenseConcluded"), l, Some(&extracted)),
            None if v22 => c.error(
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
                    Some(&extracted),
                );
            }
        }
        if v22 && f.get("copyrightText").is_none() {
            c.error(
                format!("{path}.copyrightText"),
                "spec",
                "copyrightText is mandatory in SPDX-2.2",
                "add it (NOASSERTION is allowed)",
            );
        }
    }
    for (i, sn) in arr(doc, "snippets").iter().enumerate() {
        if let Some(from) = s(sn, "snippetFromFile")
            && !resolves(from)
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
                Some(&extracted),
            );
        }
    }
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

/// Version consistency (relkit-ident): the package version, the CPE version and the PURL
/// version must agree. `cpes` / `purls` are (JSON path, identifier) pairs.
fn consistency(
    c: &mut Checker,
    path: &str,
    version_key: &str,
    version: Option<&str>,
    cpes: &[(String, String)],
    purls: &[(String, String)],
) {
    let parsed_cpes: Vec<relkit_ident::cpe::Wfn> = cpes
        .iter()
        .filter_map(|(p, cpe)| match relkit_ident::cpe::Wfn::parse(cpe) {
            Ok(w) => Some(w),
            Err(e) => {
                c.warn(
                    p,
                    "cpe",
                    format!("{cpe:?} is not a CPE name: {e}"),
                    "write cpe:2.3:part:vendor:product:version:… with 13 fields",
                );
                None
            }
        })
        .collect();
    let parsed_purls: Vec<relkit_ident::purl::Purl> = purls
        .iter()
        .filter_map(|(p, purl)| purl_spec_warning(c, p, purl))
        .collect();
    let Some(v) = version.filter(|v| !v.is_empty() && *v != "NOASSERTION") else {
        return;
    };
    let problems = parsed_cpes
        .iter()
        .flat_map(|w| relkit_ident::consistency::check_versions(v, Some(w), None))
        .chain(
            parsed_purls
                .iter()
                .flat_map(|p| relkit_ident::consistency::check_versions(v, None, Some(p))),
        );
    for problem in problems {
        c.warn(
            format!("{path}.{version_key}"),
            "version-consistency",
            format!("version {v:?}: {}", problem.message()),
            "scanners match vulnerabilities on the CPE/PURL version: make all three agree",
        );
    }
}

fn ntia_package(
    c: &mut Checker,
    path: &str,
    name: Option<&str>,
    version: Option<&str>,
    supplier: Option<&str>,
    vkey: &str,
    skey: &str,
) {
    if name.is_none_or(str::is_empty) {
        c.warn(
            format!("{path}.name"),
            "ntia",
            "component has no name",
            "NTIA minimum elements: add the component name",
        );
    }
    if version.is_none_or(|v| v.is_empty() || v == "NOASSERTION") {
        c.warn(
            format!("{path}.{vkey}"),
            "ntia",
            format!("component {:?} has no version", name.unwrap_or("")),
            "NTIA minimum elements: add the version",
        );
    }
    if supplier.is_none_or(|s| s == "NOASSERTION") {
        c.warn(
            format!("{path}.{skey}"),
            "ntia",
            format!("component {:?} has no supplier", name.unwrap_or("")),
            "NTIA minimum elements: add the supplier (Organization: …)",
        );
    }
}

fn check_cdx(c: &mut Checker, doc: &Value) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_syntax() {
        assert!(is_cpe23(
            "cpe:2.3:a:libexpat_project:libexpat:2.6.3:*:*:*:*:*:*:*"
        ));
        assert!(!is_cpe23("cpe:2.3:a:libexpat_project:libexpat:2.6.3"));
        assert!(is_spdx_purl("pkg:pypi/macholib@1.0"));
        assert!(!is_spdx_purl("pypi/macholib@1.0"));
    }

    #[test]
    fn license_expressions() {
        assert!(license_problem("MIT OR Apache-2.0").is_none());
        assert!(license_problem("GPL-2.0-or-later WITH Classpath-exception-2.0").is_none());
        assert!(license_problem("LicenseRef-foo AND MIT").is_none());
        assert!(license_problem("MIT OR").is_some());
        assert!(license_problem("Not A License").is_some());
    }

    #[test]
    fn download_locations() {
        assert!(is_download_location(
            "https://github.com/libexpat/libexpat/releases/download/R_2_6_3/expat-2.6.3.tar.gz"
        ));
        assert!(is_download_location(
            "git+https://git.myproject.org/MyProject.git@v10.0"
        ));
        assert!(is_download_location("NOASSERTION"));
        assert!(!is_download_location("not a url"));
    }
}
