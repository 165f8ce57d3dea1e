//! Identity checks against a CPE dictionary (any [`CpeDictionary`]): CPE suggestions for a package, and the audit
//! of every CPE in an SPDX 2.3 or CycloneDX JSON SBOM (does the vendor:product exist, is it
//! deprecated, does its CVE history fit the component, do the versions agree).

use serde::Serialize;
use serde_json::Value;

use crate::consistency::check_versions;
use crate::cpe::Wfn;
use crate::dictionary::{CpeDictionary, MatchKind, Product};
use crate::purl::Purl;

/// A suggested CPE vendor:product with the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The suggested CPE 2.3 name (with the version when one was given).
    pub cpe: String,
    /// Score used for ranking (higher is better).
    pub score: f64,
    /// Why it was suggested.
    pub reasons: Vec<String>,
    /// The dictionary entry.
    pub product: Product,
}

/// Ecosystem words that CVE descriptions use, by purl type.
const ECOSYSTEMS: &[(&str, &[&str])] = &[
    (
        "golang",
        &[
            "golang",
            " go module",
            " go package",
            "for go",
            "in go ",
            "go library",
        ],
    ),
    ("pypi", &["python", "pypi"]),
    ("npm", &["node.js", "npm", "javascript"]),
    ("cargo", &["rust", "crate"]),
    ("gem", &["ruby"]),
    ("maven", &["java ", "maven"]),
    ("nuget", &[".net", "nuget"]),
    ("composer", &["php"]),
];

/// The ecosystem a CVE description is about, if it says so.
fn description_ecosystem(description: &str) -> Option<&'static str> {
    let d = format!(" {} ", description.to_lowercase());
    ECOSYSTEMS
        .iter()
        .find(|(_, words)| words.iter().any(|w| d.contains(w)))
        .map(|(eco, _)| *eco)
}

/// The ecosystem a target_sw value names.
fn target_sw_ecosystem(t: &str) -> Option<&'static str> {
    match t {
        "go" | "golang" => Some("golang"),
        "python" => Some("pypi"),
        "node.js" | "nodejs" => Some("npm"),
        "rust" => Some("cargo"),
        "ruby" => Some("gem"),
        "java" => Some("maven"),
        ".net" => Some("nuget"),
        "php" => Some("composer"),
        _ => None,
    }
}

/// A component's ecosystem from its purl: a language registry, or `native` for generic,
/// OS packages and no purl at all.
fn component_ecosystem(purl: Option<&Purl>) -> &'static str {
    match purl.map(|p| p.ty.as_str()) {
        Some(t) => ECOSYSTEMS
            .iter()
            .map(|(e, _)| *e)
            .find(|e| *e == t)
            .unwrap_or("native"),
        None => "native",
    }
}

/// Suggests CPE vendor:products for a package name (optionally its version and purl).
pub fn suggest<D: CpeDictionary + ?Sized>(
    dict: &D,
    name: &str,
    version: Option<&str>,
    purl: Option<&Purl>,
    limit: usize,
) -> Result<Vec<Suggestion>, D::Error> {
    let mut queries = vec![name.to_string()];
    if let Some(p) = purl
        && !p.name.eq_ignore_ascii_case(name)
    {
        queries.push(p.name.clone());
    }
    let eco = component_ecosystem(purl);
    let namespace_words: Vec<String> = purl
        .and_then(|p| p.namespace.as_deref())
        .map(|ns| {
            ns.split(['/', '.', '-', '@'])
                .filter(|w| w.len() > 2)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let mut out: Vec<Suggestion> = Vec::new();
    for q in &queries {
        for hit in dict.search(q, 25)? {
            let p = hit.product;
            if out
                .iter()
                .any(|s| s.product.vendor == p.vendor && s.product.product == p.product)
            {
                continue;
            }
            let mut reasons = Vec::new();
            let mut score = match hit.kind {
                MatchKind::ExactProduct => 100.0,
                MatchKind::ExactVendor => 55.0,
                MatchKind::Prefix => 50.0,
                MatchKind::Word => 40.0,
                MatchKind::Substring => 20.0,
                MatchKind::Fuzzy => 10.0,
            };
            reasons.push(format!("{:?} match of {q:?}", hit.kind).replace('"', "'"));
            if p.cve_count > 0 {
                score += 10.0 * (1.0 + p.cve_count as f64).log10();
                reasons.push(format!(
                    "{} CVE(s) reference it{}",
                    p.cve_count,
                    p.sample_cve
                        .as_deref()
                        .map(|c| format!(", e.g. {c}"))
                        .unwrap_or_default()
                ));
            }
            if p.deprecated {
                score -= 60.0;
                reasons.push(format!(
                    "deprecated{}",
                    p.deprecated_by
                        .as_deref()
                        .map(|b| format!(" in favour of {b}"))
                        .unwrap_or_default()
                ));
            }
            if let Some(v) = version
                && let (Some(lo), Some(hi)) = (&p.min_version, &p.max_version)
            {
                use crate::dictionary::compare_versions;
                if compare_versions(lo, v).is_le() && compare_versions(v, hi).is_le() {
                    score += 10.0;
                    reasons.push(format!("version {v} is within the known range {lo} – {hi}"));
                }
            }
            let vendor = p.vendor.to_lowercase();
            if namespace_words.iter().any(|w| vendor.contains(w.as_str())) {
                score += 25.0;
                reasons.push(format!("vendor {} matches the purl namespace", p.vendor));
            }
            let product_eco = p
                .target_sw
                .as_deref()
                .and_then(target_sw_ecosystem)
                .or_else(|| {
                    p.sample_description
                        .as_deref()
                        .and_then(description_ecosystem)
                });
            match product_eco {
                Some(e) if e == eco => {
                    score += 15.0;
                    reasons.push(format!(
                        "its CVEs/target_sw are about the {e} ecosystem, like the package"
                    ));
                }
                Some(e) => {
                    score -= 40.0;
                    reasons.push(format!(
                        "its CVEs/target_sw are about the {e} ecosystem, the package is {eco}"
                    ));
                }
                None => {}
            }
            let cpe = format!(
                "cpe:2.3:{}:{}:{}:{}:*:*:*:*:*:*:*",
                p.part,
                fs_escape(&p.vendor),
                fs_escape(&p.product),
                version.map(fs_escape).unwrap_or_else(|| "*".into())
            );
            out.push(Suggestion {
                cpe,
                score: (score * 10.0).round() / 10.0,
                reasons,
                product: p,
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(limit);
    Ok(out)
}

/// Quotes a plain value for a formatted string.
fn fs_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How serious a finding is; errors make `relkit cpe check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// The identity is wrong.
    Error,
}

/// One problem with one component's identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code: `cpe-syntax`, `purl-syntax`, `cpe-unknown`, `cpe-deprecated`,
    /// `cpe-ecosystem-mismatch`, `cpe-cve-history-unrelated`, `cpe-version`, `purl-version`.
    pub code: &'static str,
    /// JSON path of the offending value in the SBOM.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
    /// Better CPEs, best first (for `cpe-unknown` and mismatches).
    pub suggestions: Vec<Suggestion>,
}

/// The identity audit of one SBOM component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentReport {
    /// Component name.
    pub name: String,
    /// Declared version.
    pub version: Option<String>,
    /// JSON path of the component.
    pub path: String,
    /// Its CPE, if any.
    pub cpe: Option<String>,
    /// Its PURL, if any.
    pub purl: Option<String>,
    /// Problems found (empty = fine).
    pub findings: Vec<Finding>,
}

/// A component with its identifiers, as read from an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomComponent {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// JSON path of the component.
    pub path: String,
    /// (CPE string, JSON path of it).
    pub cpe: Option<(String, String)>,
    /// (PURL string, JSON path of it).
    pub purl: Option<(String, String)>,
}

/// Errors reading an SBOM's identities.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Neither SPDX nor CycloneDX.
    #[error("not an SPDX 2.x JSON ($.spdxVersion) or CycloneDX JSON ($.bomFormat) document")]
    UnknownFormat,
}

/// Reads name, version, CPE and PURL of every package (SPDX 2.3: `externalRefs` of
/// category SECURITY type cpe23Type/cpe22Type and PACKAGE-MANAGER type purl) or component
/// (CycloneDX: `cpe`, `purl`, nested `components`).
pub fn sbom_components(doc: &Value) -> Result<Vec<SbomComponent>, SbomError> {
    let mut out = Vec::new();
    if doc.get("spdxVersion").is_some() || doc.get("SPDXID").is_some() {
        for (i, p) in doc["packages"].as_array().into_iter().flatten().enumerate() {
            let path = format!("$.packages[{i}]");
            let mut c = SbomComponent {
                name: p["name"].as_str().unwrap_or_default().to_string(),
                version: p["versionInfo"].as_str().map(str::to_string),
                path: path.clone(),
                cpe: None,
                purl: None,
            };
            for (j, r) in p["externalRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let loc = r["referenceLocator"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let rpath = format!("{path}.externalRefs[{j}].referenceLocator");
                match r["referenceType"].as_str() {
                    Some("cpe23Type" | "cpe22Type") if c.cpe.is_none() => {
                        c.cpe = Some((loc, rpath))
                    }
                    Some("purl") if c.purl.is_none() => c.purl = Some((loc, rpath)),
                    _ => {}
                }
            }
            out.push(c);
        }
        Ok(out)
    } else if doc.get("bomFormat").is_some() {
        fn walk(list: &Value, prefix: &str, out: &mut Vec<SbomComponent>) {
            for (i, c) in list.as_array().into_iter().flatten().enumerate() {
                let path = format!("{prefix}[{i}]");
                out.push(SbomComponent {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    version: c["version"].as_str().map(str::to_string),
                    path: path.clone(),
                    cpe: c["cpe"]
                        .as_str()
                        .map(|s| (s.to_string(), format!("{path}.cpe"))),
                    purl: c["purl"]
                        .as_str()
                        .map(|s| (s.to_string(), format!("{path}.purl"))),
                });
                walk(&c["components"], &format!("{path}.components"), out);
            }
        }
        if doc["metadata"]["component"].is_object() {
            walk(
                &Value::Array(vec![doc["metadata"]["component"].clone()]),
                "$.metadata.component",
                &mut out,
            );
            // The path of a metadata component has no index.
            if let Some(first) = out.first_mut() {
                first.path = "$.metadata.component".into();
            }
        }
        walk(&doc["components"], "$.components", &mut out);
        Ok(out)
    } else {
        Err(SbomError::UnknownFormat)
    }
}

/// Checks every component that has a CPE or a PURL.
pub fn check_components<D: CpeDictionary + ?Sized>(
    dict: &D,
    components: &[SbomComponent],
) -> Result<Vec<ComponentReport>, D::Error> {
    let mut reports = Vec::new();
    for c in components {
        if c.cpe.is_none() && c.purl.is_none() {
            continue;
        }
        let mut findings = Vec::new();
        let purl = match &c.purl {
            Some((s, path)) => match Purl::parse(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    findings.push(finding(
                        Severity::Error,
                        "purl-syntax",
                        path,
                        format!("invalid PURL {s:?}: {e}"),
                    ));
                    None
                }
            },
            None => None,
        };
        let cpe = match &c.cpe {
            Some((s, path)) => match Wfn::parse(s) {
                Ok(w) => Some((w, path.clone())),
                Err(e) => {
                    findings.push(finding(
                        Severity::Error,
                        "cpe-syntax",
                        path,
                        format!("invalid CPE {s:?}: {e}"),
                    ));
                    None
                }
            },
            None => None,
        };
        if let Some((w, path)) = &cpe {
            check_cpe(dict, c, w, path, purl.as_ref(), &mut findings)?;
        }
        if let Some(v) = &c.version {
            for p in check_versions(v, cpe.as_ref().map(|(w, _)| w), purl.as_ref()) {
                let (code, path) = match p {
                    crate::consistency::VersionProblem::PurlVersionDiffers { .. }
                    | crate::consistency::VersionProblem::PurlVersionMissing => {
                        ("purl-version", c.purl.as_ref().map(|x| x.1.clone()))
                    }
                    _ => ("cpe-version", c.cpe.as_ref().map(|x| x.1.clone())),
                };
                findings.push(finding(
                    Severity::Error,
                    code,
                    path.as_deref().unwrap_or(&c.path),
                    p.message(),
                ));
            }
        }
        reports.push(ComponentReport {
            name: c.name.clone(),
            version: c.version.clone(),
            path: c.path.clone(),
            cpe: c.cpe.as_ref().map(|x| x.0.clone()),
            purl: c.purl.as_ref().map(|x| x.0.clone()),
            findings,
        });
    }
    Ok(reports)
}

fn finding(severity: Severity, code: &'static str, path: &str, message: String) -> Finding {
    Finding {
        severity,
        code,
        path: path.to_string(),
        message,
        suggestions: Vec::new(),
    }
}

fn check_cpe<D: CpeDictionary + ?Sized>(
    dict: &D,
    c: &SbomComponent,
    w: &Wfn,
    path: &str,
    purl: Option<&Purl>,
    findings: &mut Vec<Finding>,
) -> Result<(), D::Error> {
    let (Some(vendor), Some(product)) = (w.vendor(), w.product()) else {
        findings.push(finding(
            Severity::Error,
            "cpe-unknown",
            path,
            "the CPE has no concrete vendor and product (ANY/NA): it identifies nothing".into(),
        ));
        return Ok(());
    };
    let entries = dict.lookup(&vendor, &product)?;
    let suggestions = || {
        suggest(dict, &c.name, c.version.as_deref(), purl, 3).map(|s| {
            s.into_iter()
                .filter(|s| !(s.product.vendor == vendor && s.product.product == product))
                .collect::<Vec<_>>()
        })
    };
    let Some(entry) = entries.first() else {
        let sugg = suggestions()?;
        // If another vendor ships a product of exactly the component's name, the CPE is
        // most likely wrong rather than merely missing from the dictionary.
        let strong = sugg
            .iter()
            .any(|s| s.product.product.eq_ignore_ascii_case(&c.name) && s.product.cve_count > 0);
        let mut f = finding(
            if strong {
                Severity::Error
            } else {
                Severity::Warning
            },
            "cpe-unknown",
            path,
            format!(
                "{vendor}:{product} is not in the CPE dictionary{}",
                sugg.first()
                    .map(|s| format!(
                        "; did you mean {}:{}? ({} CVEs)",
                        s.product.vendor, s.product.product, s.product.cve_count
                    ))
                    .unwrap_or_else(|| ": no similar product either".into())
            ),
        );
        f.suggestions = sugg;
        findings.push(f);
        return Ok(());
    };
    if entry.deprecated {
        let mut f = finding(
            Severity::Error,
            "cpe-deprecated",
            path,
            format!(
                "{vendor}:{product} is deprecated in the CPE dictionary{}",
                entry
                    .deprecated_by
                    .as_deref()
                    .map(|b| format!("; use {b}"))
                    .unwrap_or_default()
            ),
        );
        if let Some((bv, bp)) = entry
            .deprecated_by
            .as_deref()
            .and_then(|b| b.split_once(':'))
            && let Some(p) = dict.lookup(bv, bp)?.into_iter().next()
        {
            f.suggestions.push(Suggestion {
                cpe: format!(
                    "cpe:2.3:{}:{}:{}:*:*:*:*:*:*:*:*",
                    p.part,
                    fs_escape(bv),
                    fs_escape(bp)
                ),
                score: 100.0,
                reasons: vec!["the dictionary's deprecated-by link".into()],
                product: p,
            });
        }
        findings.push(f);
    }
    // CVE history: ecosystem and mentions of the component.
    let cves = dict.cve_descriptions(&vendor, &product, 200)?;
    if !cves.is_empty() {
        let eco = component_ecosystem(purl);
        let ecos: Vec<&str> = cves
            .iter()
            .filter_map(|(_, d)| description_ecosystem(d))
            .chain(entry.target_sw.as_deref().and_then(target_sw_ecosystem))
            .collect();
        let name = c.name.to_lowercase();
        let mentions = cves
            .iter()
            .filter(|(_, d)| {
                let d = d.to_lowercase();
                d.contains(&name) || d.contains(&product.to_lowercase())
            })
            .count();
        if !ecos.is_empty() && ecos.iter().all(|e| *e != eco) {
            let mut f = finding(
                Severity::Error,
                "cpe-ecosystem-mismatch",
                path,
                format!(
                    "the CVEs of {vendor}:{product} are about the {} ecosystem (e.g. {}), but the component is {}: this CPE identifies a different project",
                    ecos[0],
                    cves[0].0,
                    if eco == "native" {
                        "a native (non-registry) package".to_string()
                    } else {
                        format!("a {eco} package")
                    }
                ),
            );
            f.suggestions = suggestions()?;
            findings.push(f);
        } else if mentions == 0 {
            findings.push(finding(
                Severity::Warning,
                "cpe-cve-history-unrelated",
                path,
                format!(
                    "none of the {} CVE descriptions of {vendor}:{product} mention {:?}: check that this CPE identifies this component",
                    cves.len(),
                    c.name
                ),
            ));
        }
    }
    Ok(())
}
