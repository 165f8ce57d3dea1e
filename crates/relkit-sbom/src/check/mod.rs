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

mod common;
pub(crate) use common::is_download_location;
mod cyclonedx;
mod spdx;

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use relkit_ident::dictionary::CpeDictionary;

use crate::error::{Error, Result};

pub use common::{is_cpe22, is_cpe23};
use cyclonedx::check_cdx;
use spdx::check_spdx;

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
pub fn add_identity<D: CpeDictionary + ?Sized>(
    report: &mut Report,
    value: &Value,
    dict: &D,
    dict_path: &str,
) -> Result<()> {
    use relkit_ident::check::{Severity as IdSeverity, check_components, sbom_components};
    let components = sbom_components(value).map_err(|e| Error::UnsupportedFormat {
        origin: report.file.clone(),
        message: e.to_string(),
    })?;
    let reports =
        check_components(dict, &components).map_err(|e| Error::Dictionary(Box::new(e)))?;
    for c in reports {
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
    let value = parse_utf8(bytes, origin)?;
    check_value(&value, origin)
}

/// [`check_bytes`], plus the identity checks ([`add_identity`]) when a CPE dictionary and its
/// path are given.
pub fn check_bytes_with<D: CpeDictionary + ?Sized>(
    bytes: &[u8],
    origin: &str,
    identity: Option<(&D, &str)>,
) -> Result<Report> {
    let value = parse_utf8(bytes, origin)?;
    let mut report = check_value(&value, origin)?;
    if let Some((dict, path)) = identity {
        add_identity(&mut report, &value, dict, path)?;
    }
    Ok(report)
}

/// Parses a JSON SBOM, refusing UTF-16 (see [`check_bytes`]).
fn parse_utf8(bytes: &[u8], origin: &str) -> Result<Value> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Error::UnsupportedFormat {
            origin: origin.into(),
            message: "the file is UTF-16 (byte order mark); JSON SBOMs must be UTF-8 (RFC 8259): re-encode it, e.g. iconv -f UTF-16 -t UTF-8".into(),
        });
    }
    crate::json::parse(bytes, origin)
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
            .build(&load(include_str!("../../schemas/spdx-schema-2.3.json")))
            .expect("vendored SPDX schema compiles")
    })
}

fn cdx_schema(version: &str) -> &'static jsonschema::Validator {
    static V15: OnceLock<jsonschema::Validator> = OnceLock::new();
    static V16: OnceLock<jsonschema::Validator> = OnceLock::new();
    let build = |text: &str| {
        let spdx = load(include_str!("../../schemas/spdx.schema.json"));
        let mut jsf = load(include_str!("../../schemas/jsf-0.82.schema.json"));
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
        "1.5" => V15.get_or_init(|| build(include_str!("../../schemas/bom-1.5.schema.json"))),
        _ => V16.get_or_init(|| build(include_str!("../../schemas/bom-1.6.schema.json"))),
    }
}

#[cfg(test)]
mod tests {
    use super::common::{is_cpe23, is_download_location, is_spdx_purl, license_problem};

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
