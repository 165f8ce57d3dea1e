//! Readers turning one input document into records: NVD CVE API 2.0 JSON (single CVE
//! objects, `{"cve": …}` items, API response pages), OSV 1.x (JSON or YAML values) and
//! RustSec's native advisories (TOML front matter in markdown).
//!
//! Every problem is reported with the JSON path of the offending value so that a user can
//! find it in the file.

use serde::Deserialize;
use serde_json::Value;

use crate::record::{
    Affected, Configuration, CpeMatch, Event, Level, Node, Range, Record, RustsecVersions,
    Severity, Source, cvss_severity,
};

/// A record that could not be read, with the JSON path where reading failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {path}: {message}")]
pub struct RecordError {
    /// JSON path (`$.vulnerabilities[3].cve.id`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn rerr(path: &str, message: impl Into<String>) -> RecordError {
    RecordError {
        path: path.to_string(),
        message: message.into(),
    }
}

/// What a parsed document yielded: records and per-record errors (a bad record does not
/// prevent reading the others of the same page).
pub type Parsed = Vec<Result<Record, RecordError>>;

/// Reads a JSON or YAML value holding NVD or OSV data; `None` when it is neither.
pub fn parse_value(v: &Value) -> Option<Parsed> {
    let obj = v.as_object()?;
    if let Some(items) = obj.get("vulnerabilities").and_then(Value::as_array) {
        return Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let base = format!("$.vulnerabilities[{i}]");
                    match item.get("cve") {
                        Some(cve) => nvd_cve(cve, &format!("{base}.cve")),
                        None => Err(rerr(&base, "item has no \"cve\" object")),
                    }
                })
                .collect(),
        );
    }
    if let Some(cve) = obj.get("cve").filter(|c| c.is_object()) {
        return Some(vec![nvd_cve(cve, "$.cve")]);
    }
    if obj.contains_key("vulnStatus") || obj.contains_key("sourceIdentifier") {
        return Some(vec![nvd_cve(v, "$")]);
    }
    if obj.contains_key("id")
        && (obj.contains_key("affected")
            || obj.contains_key("schema_version")
            || obj.contains_key("modified"))
    {
        return Some(vec![osv(v)]);
    }
    None
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn arr<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a [Value], RecordError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(rerr(&format!("{path}.{key}"), "expected an array")),
    }
}

/// One NVD CVE object (`cve` of an API item, or a per-CVE feed file).
pub fn nvd_cve(cve: &Value, path: &str) -> Result<Record, RecordError> {
    let id = s(cve, "id")
        .ok_or_else(|| rerr(&format!("{path}.id"), "missing CVE id"))?
        .to_string();
    if !id.starts_with("CVE-") {
        return Err(rerr(
            &format!("{path}.id"),
            format!("{id:?} is not a CVE id"),
        ));
    }
    let summary = arr(cve, "descriptions", path)?
        .iter()
        .find(|d| s(d, "lang") == Some("en"))
        .and_then(|d| s(d, "value"))
        .map(first_sentence);
    let mut cwes = Vec::new();
    for (i, w) in arr(cve, "weaknesses", path)?.iter().enumerate() {
        for d in arr(w, "description", &format!("{path}.weaknesses[{i}]"))? {
            if let Some(c) = s(d, "value").filter(|c| c.starts_with("CWE-"))
                && !cwes.iter().any(|x: &String| x == c)
            {
                cwes.push(c.to_string());
            }
        }
    }
    let severity = nvd_severity(cve.get("metrics").unwrap_or(&Value::Null));
    let mut configurations = Vec::new();
    for (ci, c) in arr(cve, "configurations", path)?.iter().enumerate() {
        let cpath = format!("{path}.configurations[{ci}]");
        let mut nodes = Vec::new();
        for (ni, n) in arr(c, "nodes", &cpath)?.iter().enumerate() {
            let npath = format!("{cpath}.nodes[{ni}]");
            let mut matches = Vec::new();
            for (mi, m) in arr(n, "cpeMatch", &npath)?.iter().enumerate() {
                let mpath = format!("{npath}.cpeMatch[{mi}]");
                let criteria = s(m, "criteria")
                    .ok_or_else(|| rerr(&format!("{mpath}.criteria"), "missing criteria"))?;
                relkit_ident::cpe::Wfn::parse(criteria).map_err(|e| {
                    rerr(
                        &format!("{mpath}.criteria"),
                        format!("bad CPE {criteria:?}: {e}"),
                    )
                })?;
                let vulnerable = m
                    .get("vulnerable")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| rerr(&format!("{mpath}.vulnerable"), "missing boolean"))?;
                let opt = |k: &str| s(m, k).map(str::to_string);
                matches.push(CpeMatch {
                    vulnerable,
                    criteria: criteria.to_string(),
                    start_including: opt("versionStartIncluding"),
                    start_excluding: opt("versionStartExcluding"),
                    end_including: opt("versionEndIncluding"),
                    end_excluding: opt("versionEndExcluding"),
                });
            }
            nodes.push(Node {
                and: s(n, "operator") == Some("AND"),
                negate: n.get("negate").and_then(Value::as_bool).unwrap_or(false),
                matches,
            });
        }
        configurations.push(Configuration {
            and: s(c, "operator") == Some("AND"),
            negate: c.get("negate").and_then(Value::as_bool).unwrap_or(false),
            nodes,
        });
    }
    Ok(Record {
        id,
        source: Source::Nvd,
        aliases: Vec::new(),
        modified: s(cve, "lastModified").map(str::to_string),
        withdrawn: None,
        status: s(cve, "vulnStatus").map(str::to_string),
        summary,
        cwes,
        severity,
        affected: Vec::new(),
        configurations,
        informational: None,
    })
}

/// NVD metrics: CVSS v4.0, then v3.1, v3.0, v2; Primary (NVD) before Secondary.
fn nvd_severity(metrics: &Value) -> Option<Severity> {
    for key in [
        "cvssMetricV40",
        "cvssMetricV31",
        "cvssMetricV30",
        "cvssMetricV2",
    ] {
        let Some(list) = metrics.get(key).and_then(Value::as_array) else {
            continue;
        };
        let best = list
            .iter()
            .find(|m| s(m, "type") == Some("Primary"))
            .or_else(|| list.first());
        let Some(m) = best else { continue };
        let data = m.get("cvssData").unwrap_or(&Value::Null);
        let score = data.get("baseScore").and_then(Value::as_f64);
        let word = s(data, "baseSeverity").or_else(|| s(m, "baseSeverity"));
        let level = match (word, score) {
            (Some(w), _) if Level::from_word(w) != Level::Unknown => Level::from_word(w),
            (_, Some(sc)) if key == "cvssMetricV2" => {
                if sc >= 7.0 {
                    Level::High
                } else if sc >= 4.0 {
                    Level::Medium
                } else {
                    Level::Low
                }
            }
            (_, Some(sc)) => Level::from_score(sc),
            _ => Level::Unknown,
        };
        return Some(Severity {
            level,
            score,
            vector: s(data, "vectorString").map(str::to_string),
            origin: format!("nvd:{key}:{}", s(m, "source").unwrap_or("?")),
        });
    }
    None
}

fn first_sentence(t: &str) -> String {
    let line = t.lines().next().unwrap_or("").trim();
    if line.chars().count() > 200 {
        let cut: String = line.chars().take(197).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}

/// One OSV 1.x record.
pub fn osv(v: &Value) -> Result<Record, RecordError> {
    let id = s(v, "id")
        .filter(|i| !i.is_empty())
        .ok_or_else(|| rerr("$.id", "missing id"))?
        .to_string();
    let mut aliases: Vec<String> = Vec::new();
    for key in ["aliases", "upstream"] {
        for (i, a) in arr(v, key, "$")?.iter().enumerate() {
            let a = a
                .as_str()
                .ok_or_else(|| rerr(&format!("$.{key}[{i}]"), "expected a string"))?;
            if a != id && !aliases.iter().any(|x| x == a) {
                aliases.push(a.to_string());
            }
        }
    }
    let mut severity: Option<Severity> = None;
    for (i, sv) in arr(v, "severity", "$")?.iter().enumerate() {
        let kind = s(sv, "type").unwrap_or("");
        let Some(score) = s(sv, "score") else {
            return Err(rerr(&format!("$.severity[{i}].score"), "missing score"));
        };
        if let Some(found) = cvss_severity(score, &format!("osv:{kind}"))
            && severity.as_ref().is_none_or(|b| found.score > b.score)
        {
            severity = Some(found);
        }
    }
    if severity.is_none()
        && let Some(w) = v
            .get("database_specific")
            .and_then(|d| s(d, "severity"))
            .map(Level::from_word)
            .filter(|l| *l != Level::Unknown)
    {
        severity = Some(Severity {
            level: w,
            score: None,
            vector: None,
            origin: "osv:database_specific".into(),
        });
    }
    let mut affected = Vec::new();
    for (ai, a) in arr(v, "affected", "$")?.iter().enumerate() {
        let apath = format!("$.affected[{ai}]");
        let pkg = a.get("package");
        let (ecosystem, name) = match pkg {
            Some(p) => (
                s(p, "ecosystem")
                    .ok_or_else(|| rerr(&format!("{apath}.package.ecosystem"), "missing"))?,
                s(p, "name").ok_or_else(|| rerr(&format!("{apath}.package.name"), "missing"))?,
            ),
            None => continue,
        };
        let mut ranges = Vec::new();
        for (ri, r) in arr(a, "ranges", &apath)?.iter().enumerate() {
            let rpath = format!("{apath}.ranges[{ri}]");
            let kind = s(r, "type").ok_or_else(|| rerr(&format!("{rpath}.type"), "missing"))?;
            if !matches!(kind, "ECOSYSTEM" | "SEMVER" | "GIT") {
                return Err(rerr(
                    &format!("{rpath}.type"),
                    format!("unknown range type {kind:?} (ECOSYSTEM, SEMVER or GIT)"),
                ));
            }
            let mut events = Vec::new();
            for (ei, e) in arr(r, "events", &rpath)?.iter().enumerate() {
                let epath = format!("{rpath}.events[{ei}]");
                let obj = e
                    .as_object()
                    .ok_or_else(|| rerr(&epath, "expected an object"))?;
                let (k, val) = obj
                    .iter()
                    .next()
                    .filter(|_| obj.len() == 1)
                    .ok_or_else(|| rerr(&epath, "an event has exactly one key"))?;
                let text = match val {
                    Value::String(t) => t.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(rerr(&format!("{epath}.{k}"), "expected a string")),
                };
                events.push(match k.as_str() {
                    "introduced" => Event::Introduced(text),
                    "fixed" => Event::Fixed(text),
                    "last_affected" => Event::LastAffected(text),
                    "limit" => Event::Limit(text),
                    other => {
                        return Err(rerr(
                            &format!("{epath}.{other}"),
                            "unknown event (introduced, fixed, last_affected, limit)",
                        ));
                    }
                });
            }
            ranges.push(Range {
                kind: kind.to_string(),
                repo: s(r, "repo").map(str::to_string),
                events,
            });
        }
        let mut versions = Vec::new();
        for (vi, ver) in arr(a, "versions", &apath)?.iter().enumerate() {
            versions.push(match ver {
                Value::String(t) => t.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(rerr(
                        &format!("{apath}.versions[{vi}]"),
                        "expected a string",
                    ));
                }
            });
        }
        if severity.is_none()
            && let Some(w) = a
                .get("database_specific")
                .and_then(|d| s(d, "severity"))
                .or_else(|| a.get("ecosystem_specific").and_then(|d| s(d, "severity")))
                .map(Level::from_word)
                .filter(|l| *l != Level::Unknown)
        {
            severity = Some(Severity {
                level: w,
                score: None,
                vector: None,
                origin: "osv:affected.database_specific".into(),
            });
        }
        affected.push(Affected {
            ecosystem: ecosystem.to_string(),
            name: name.to_string(),
            ranges,
            versions,
            rustsec: None,
        });
    }
    let summary = s(v, "summary")
        .or_else(|| s(v, "details"))
        .map(first_sentence);
    let mut cwes = Vec::new();
    if let Some(list) = v
        .get("database_specific")
        .and_then(|d| d.get("cwe_ids"))
        .and_then(Value::as_array)
    {
        cwes.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    // RustSec's OSV export: `database_specific.informational` on the record or on an affected
    // package (`unmaintained`, `unsound`, `notice`).
    let informational = std::iter::once(v)
        .chain(arr(v, "affected", "$")?.iter())
        .find_map(|x| {
            x.get("database_specific")
                .and_then(|d| s(d, "informational"))
        })
        .map(str::to_string);
    Ok(Record {
        id,
        source: Source::Osv,
        aliases,
        modified: s(v, "modified").map(str::to_string),
        withdrawn: s(v, "withdrawn").map(str::to_string),
        status: None,
        summary,
        cwes,
        severity,
        affected,
        configurations: Vec::new(),
        informational,
    })
}

#[derive(Deserialize)]
struct RsFile {
    advisory: RsAdvisory,
    #[serde(default)]
    versions: RsVersions,
}

#[derive(Deserialize)]
struct RsAdvisory {
    id: String,
    package: String,
    date: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    cvss: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize, Default)]
struct RsVersions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Whether a markdown text is a RustSec advisory (starts with a TOML code fence).
pub fn is_rustsec_markdown(text: &str) -> bool {
    text.trim_start().starts_with("```toml")
}

/// One RustSec advisory in its native format (TOML front matter in a markdown file).
pub fn rustsec(text: &str) -> Result<Record, RecordError> {
    let body = text
        .trim_start()
        .strip_prefix("```toml")
        .ok_or_else(|| rerr("front matter", "expected a ```toml fence at the start"))?;
    let end = body
        .find("\n```")
        .ok_or_else(|| rerr("front matter", "the ```toml fence is not closed"))?;
    let front: RsFile = toml::from_str(&body[..end]).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!("front matter byte {}", s.start))
            .unwrap_or_else(|| "front matter".into());
        rerr(&at, e.message().to_string())
    })?;
    let rest = &body[end + 4..];
    let heading = rest
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string());
    for (i, req) in front
        .versions
        .patched
        .iter()
        .chain(&front.versions.unaffected)
        .enumerate()
    {
        semver::VersionReq::parse(req).map_err(|e| {
            rerr(
                &format!("versions[{i}]"),
                format!("bad SemVer requirement {req:?}: {e}"),
            )
        })?;
    }
    let a = front.advisory;
    let severity = a
        .cvss
        .as_deref()
        .and_then(|v| cvss_severity(v, "rustsec:cvss"));
    let summary = a.title.or(heading);
    Ok(Record {
        id: a.id.clone(),
        source: Source::Rustsec,
        aliases: a.aliases.into_iter().filter(|x| *x != a.id).collect(),
        modified: Some(a.date),
        withdrawn: a.withdrawn,
        status: None,
        summary,
        cwes: Vec::new(),
        severity,
        affected: vec![Affected {
            ecosystem: "crates.io".into(),
            name: a.package,
            ranges: Vec::new(),
            versions: Vec::new(),
            rustsec: Some(RustsecVersions {
                patched: front.versions.patched,
                unaffected: front.versions.unaffected,
            }),
        }],
        configurations: Vec::new(),
        informational: a.informational,
    })
}
