//! Streaming readers for the dictionary's sources, feeding an [`Accumulator`]:
//! NVD's official CPE dictionary (XML, CPE 2.3 extension), NVD CPE API 2.0 JSON pages,
//! and NVD CVE JSON 2.0 (single records, as in the fkie-cad feed, or API pages).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

use quick_xml::events::Event;
use serde_json::Value;

use super::DictError;
use relkit_ident::cpe::Wfn;

/// (part, vendor, product), unquoted.
pub type ProductKey = (String, String, String);

/// Everything learned about one vendor:product while importing.
#[derive(Debug, Default)]
pub(super) struct ProductAcc {
    pub title: Option<String>,
    pub names: u64,
    pub deprecated_names: u64,
    pub deprecated_by: BTreeMap<String, u64>,
    pub versions: Vec<String>,
    pub cves: BTreeMap<String, ()>,
    pub sample: Option<(String, String)>,
    pub target_sw: BTreeMap<String, u64>,
}

/// Collected entries: products, full names, CVE descriptions.
#[derive(Debug, Default)]
pub(super) struct Accumulator {
    pub products: HashMap<ProductKey, ProductAcc>,
    /// Full dictionary names: (formatted string, product key, deprecated, deprecated by).
    pub names: Vec<(String, ProductKey, bool, Option<String>)>,
    /// CVE id -> English description.
    pub cve_descriptions: BTreeMap<String, String>,
    /// Entries read (dictionary names + CVE records), for statistics.
    pub entries: u64,
}

fn key_of(w: &Wfn) -> Option<ProductKey> {
    Some((w.part()?, w.vendor()?, w.product()?))
}

impl Accumulator {
    fn add_name(
        &mut self,
        fs: &str,
        title: Option<&str>,
        deprecated_by: &[String],
        deprecated: bool,
    ) {
        let Ok(w) = Wfn::parse(fs) else {
            return;
        };
        let Some(key) = key_of(&w) else {
            return;
        };
        let acc = self.products.entry(key.clone()).or_default();
        acc.names += 1;
        if acc.title.is_none() {
            acc.title = title.map(product_title);
        }
        if let Some(v) = w.version() {
            acc.versions.push(v);
        }
        if let Some(t) = w.get(relkit_ident::cpe::Attribute::TargetSw).unquoted() {
            *acc.target_sw.entry(t).or_default() += 1;
        }
        let mut replacement = None;
        if deprecated {
            acc.deprecated_names += 1;
            for by in deprecated_by {
                if let Ok(bw) = Wfn::parse(by)
                    && let (Some(v), Some(p)) = (bw.vendor(), bw.product())
                {
                    *acc.deprecated_by.entry(format!("{v}:{p}")).or_default() += 1;
                    replacement = Some(by.clone());
                }
            }
        }
        self.names.push((w.to_fs(), key, deprecated, replacement));
        self.entries += 1;
    }

    fn add_cve(&mut self, cve: &Value) {
        let Some(id) = cve["id"].as_str() else {
            return;
        };
        self.entries += 1;
        let description = cve["descriptions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["lang"] == "en")
            .and_then(|d| d["value"].as_str())
            .unwrap_or_default()
            .to_string();
        self.cve_descriptions
            .insert(id.to_string(), description.clone());
        for config in cve["configurations"].as_array().into_iter().flatten() {
            for node in config["nodes"].as_array().into_iter().flatten() {
                for m in node["cpeMatch"].as_array().into_iter().flatten() {
                    if m["vulnerable"] != true {
                        continue;
                    }
                    let Some(Ok(w)) = m["criteria"].as_str().map(Wfn::parse) else {
                        continue;
                    };
                    let Some(key) = key_of(&w) else {
                        continue;
                    };
                    let acc = self.products.entry(key).or_default();
                    acc.cves.insert(id.to_string(), ());
                    if acc.sample.is_none() && !description.is_empty() {
                        acc.sample = Some((id.to_string(), description.clone()));
                    }
                    if let Some(v) = w.version() {
                        acc.versions.push(v);
                    }
                    for bound in [
                        "versionStartIncluding",
                        "versionStartExcluding",
                        "versionEndIncluding",
                        "versionEndExcluding",
                    ] {
                        if let Some(v) = m[bound].as_str() {
                            acc.versions.push(v.to_string());
                        }
                    }
                    if let Some(t) = w.get(relkit_ident::cpe::Attribute::TargetSw).unquoted() {
                        *acc.target_sw.entry(t).or_default() += 1;
                    }
                }
            }
        }
    }
}

/// Strips a trailing version from a dictionary title ("UKG vault-cli 0.2.0 for Python").
fn product_title(t: &str) -> String {
    t.trim().to_string()
}

/// Reads one source file (format detected from its content) into the accumulator.
pub(super) fn read_file(path: &Path, acc: &mut Accumulator) -> Result<(), DictError> {
    let file = std::fs::File::open(path).map_err(|e| DictError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let first = {
        let buf = reader.fill_buf().map_err(|e| DictError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        buf.iter().copied().find(|c| !c.is_ascii_whitespace())
    };
    match first {
        Some(b'<') => read_xml(path, reader, acc),
        Some(b'{') => read_json(path, reader, acc),
        _ => Err(DictError::Format {
            path: path.to_path_buf(),
            position: 0,
            reason: "not XML or JSON: expected NVD's CPE dictionary XML, a CPE API 2.0 page or CVE JSON 2.0".into(),
        }),
    }
}

/// The fields of an NVD CPE API 2.0 page the dictionary uses, borrowed from the file's bytes.
/// Deserializing pages into this (rather than a `serde_json::Value` tree) was more than half of
/// a million-name import.
#[derive(serde::Deserialize)]
struct CpePage<'a> {
    #[serde(borrow)]
    products: Option<Vec<CpeItem<'a>>>,
}

#[derive(serde::Deserialize)]
struct CpeItem<'a> {
    #[serde(borrow)]
    cpe: Option<CpeEntry<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeEntry<'a> {
    #[serde(borrow)]
    cpe_name: Option<Cow<'a, str>>,
    deprecated: Option<bool>,
    #[serde(borrow)]
    titles: Option<Vec<CpeTitle<'a>>>,
    #[serde(borrow)]
    deprecated_by: Option<Vec<CpeRef<'a>>>,
}

#[derive(serde::Deserialize)]
struct CpeTitle<'a> {
    #[serde(borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    lang: Option<Cow<'a, str>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeRef<'a> {
    #[serde(borrow)]
    cpe_name: Option<Cow<'a, str>>,
}

fn read_json(
    path: &Path,
    mut reader: impl BufRead,
    acc: &mut Accumulator,
) -> Result<(), DictError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|e| DictError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let malformed = |e: serde_json::Error| DictError::Format {
        path: path.to_path_buf(),
        position: e.line(),
        reason: format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    };
    let page: CpePage = serde_json::from_slice(&bytes).map_err(malformed)?;
    if let Some(products) = page.products {
        // NVD CPE API 2.0 page.
        for (i, p) in products.into_iter().enumerate() {
            let Some(cpe) = p.cpe else {
                return Err(DictError::Format {
                    path: path.to_path_buf(),
                    position: 0,
                    reason: format!("$.products[{i}].cpe is missing"),
                });
            };
            let Some(name) = cpe.cpe_name else {
                return Err(DictError::Format {
                    path: path.to_path_buf(),
                    position: 0,
                    reason: format!("$.products[{i}].cpe.cpeName is missing"),
                });
            };
            let title = cpe
                .titles
                .iter()
                .flatten()
                .find(|t| t.lang.as_deref() == Some("en"))
                .and_then(|t| t.title.as_deref());
            let by: Vec<String> = cpe
                .deprecated_by
                .iter()
                .flatten()
                .filter_map(|d| d.cpe_name.as_deref().map(str::to_string))
                .collect();
            acc.add_name(&name, title, &by, cpe.deprecated == Some(true));
        }
        return Ok(());
    }
    // CVE data: the general tree.
    let doc: Value = serde_json::from_slice(&bytes).map_err(malformed)?;
    if let Some(vulns) = doc["vulnerabilities"].as_array() {
        for v in vulns {
            acc.add_cve(&v["cve"]);
        }
        Ok(())
    } else if doc["id"].is_string() && doc.get("descriptions").is_some() {
        acc.add_cve(&doc);
        Ok(())
    } else if doc["cve"]["id"].is_string() {
        acc.add_cve(&doc["cve"]);
        Ok(())
    } else {
        Err(DictError::Format {
            path: path.to_path_buf(),
            position: 0,
            reason: "JSON is neither a CPE API 2.0 page ($.products), a CVE API 2.0 page ($.vulnerabilities) nor a CVE record ($.id + $.descriptions)".into(),
        })
    }
}

fn read_xml(path: &Path, reader: impl BufRead, acc: &mut Accumulator) -> Result<(), DictError> {
    let mut xml = quick_xml::Reader::from_reader(reader);
    xml.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut depth: usize = 0;
    let mut saw_list = false;
    // State of the current <cpe-item>.
    let mut title: Option<String> = None;
    let mut in_title = false;
    let mut item_deprecated = false;
    let mut name23: Option<String> = None;
    let mut deprecated_by: Vec<String> = Vec::new();
    let err = |xml: &quick_xml::Reader<_>, reason: String| DictError::Format {
        path: path.to_path_buf(),
        position: xml.buffer_position() as usize,
        reason,
    };
    loop {
        let ev = xml
            .read_event_into(&mut buf)
            .map_err(|e| err(&xml, format!("malformed XML: {e}")))?;
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name();
                match local.as_ref() {
                    b"cpe-list" => saw_list = true,
                    b"cpe-item" => {
                        title = None;
                        name23 = None;
                        deprecated_by.clear();
                        item_deprecated = e
                            .try_get_attribute("deprecated")
                            .ok()
                            .flatten()
                            .is_some_and(|a| a.value.as_ref() == b"true");
                    }
                    b"title" => in_title = !empty && title.is_none(),
                    b"cpe23-item" => {
                        name23 = attr(&e, b"name");
                    }
                    b"deprecated-by" => {
                        if let Some(n) = attr(&e, b"name") {
                            deprecated_by.push(n);
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) if in_title => {
                let text = t
                    .decode()
                    .map_err(|e| err(&xml, format!("bad text: {e}")))?;
                title = Some(
                    quick_xml::escape::unescape(&text)
                        .map(|c| c.into_owned())
                        .unwrap_or_else(|_| text.into_owned()),
                );
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    // Stop at the end of the root: syft's real sample of NVD's file ends
                    // with two stray `</cpe-list>` tags after it.
                    b"cpe-list" if depth == 0 => break,
                    b"title" => in_title = false,
                    b"cpe-item" => {
                        if let Some(n) = name23.take() {
                            acc.add_name(&n, title.as_deref(), &deprecated_by, item_deprecated);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_list {
        return Err(err(
            &xml,
            "no <cpe-list> element: not an NVD CPE dictionary".into(),
        ));
    }
    if depth != 0 {
        return Err(err(
            &xml,
            format!("file ends inside {depth} open element(s): the dictionary is truncated"),
        ));
    }
    Ok(())
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    let a = e.try_get_attribute(name).ok().flatten()?;
    // XML 1.0 attribute-value normalization with the predefined entities (what
    // `unescape_value` did before quick-xml 0.41 deprecated it).
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()
        .map(|v| v.into_owned())
}
