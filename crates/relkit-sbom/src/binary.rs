//! `sbom generate` for binary artifacts: a directory, zip or plain tarball of Windows
//! DLL/PYD/EXE files or other binaries (or a single PE file). Components come only from evidence in the bytes: PE VERSIONINFO and the
//! version strings of well-known bundled libraries, described by the binary rules of relkit's
//! one libraries table (`relkit_ident::libraries`, `[library.binary]`); for ELF and Mach-O
//! files also the bare version strings of read-only data next to the library's own exported
//! API (`symbols` + `rodata` rules, [`crate::elf`], [`crate::macho`]), and for any format the
//! libraries compiled in ([`crate::linked`]). `--declared` comparison lives here too.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::{OnceLock, mpsc};

use rayon::prelude::*;
use regex::Regex;
use regex::bytes::Regex as BytesRegex;
use relkit_ident::libraries::Library;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{self, Checksum, Document, Evidence, File, IdAllocator, Package, Relationship};

/// Archive members larger than this are refused (a binary member is scanned in memory).
const MAX_MEMBER: u64 = 1 << 30;
/// How many tarball members [`looks_binary`] inspects.
const TAR_PEEK: usize = 256;

/// One library of `relkit_ident::libraries` with its binary rules compiled.
struct Rule {
    lib: &'static Library,
    ascii: Vec<BytesRegex>,
    /// The `marker` literal, searched as a regex of that literal (SIMD).
    marker: Option<BytesRegex>,
    /// The `unless` literals, as one regex of the escaped alternatives.
    unless: Option<BytesRegex>,
    rodata: Vec<Regex>,
    utf16: Vec<Regex>,
    product: Option<Regex>,
    company: Option<Regex>,
    description: Option<Regex>,
}

/// A library's `unless` literals as one regex (`None` without any).
pub(crate) fn unless_regex(literals: &[String]) -> Option<BytesRegex> {
    (!literals.is_empty()).then(|| {
        let alternatives: Vec<String> = literals.iter().map(|l| regex::escape(l)).collect();
        BytesRegex::new(&alternatives.join("|")).expect("escaped literals compile")
    })
}

impl Rule {
    /// Whether the file carries one of the library's `unless` literals: it is another library.
    fn excluded(&self, bytes: &[u8]) -> bool {
        self.unless.as_ref().is_some_and(|u| u.is_match(bytes))
    }
}

/// The binary rules of the libraries table, compiled once (the table is unit-tested).
fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let re = |r: &String| {
            Regex::new(r).unwrap_or_else(|e| panic!("libraries.toml: bad binary regex {r:?}: {e}"))
        };
        relkit_ident::libraries::all()
            .iter()
            .map(|lib| Rule {
                ascii: lib
                    .binary
                    .ascii
                    .iter()
                    .map(|r| {
                        BytesRegex::new(r)
                            .unwrap_or_else(|e| panic!("libraries.toml: bad regex {r:?}: {e}"))
                    })
                    .collect(),
                unless: unless_regex(&lib.binary.unless),
                marker: lib.binary.marker.as_ref().map(|m| {
                    BytesRegex::new(&regex::escape(m)).expect("an escaped literal compiles")
                }),
                utf16: lib.binary.utf16.iter().map(re).collect(),
                rodata: lib.binary.rodata.iter().map(re).collect(),
                product: lib.binary.product.as_ref().map(re),
                company: lib.binary.company.as_ref().map(re),
                description: lib.binary.description.as_ref().map(re),
                lib,
            })
            .collect()
    })
}

/// PE VERSIONINFO strings relkit uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// FileVersion string (or the fixed version when absent).
    pub file_version: Option<String>,
    /// ProductVersion string.
    pub product_version: Option<String>,
    /// ProductName string.
    pub product_name: Option<String>,
    /// CompanyName string.
    pub company_name: Option<String>,
    /// FileDescription string.
    pub file_description: Option<String>,
    /// OriginalFilename string.
    pub original_filename: Option<String>,
}

/// A component version found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// Component name (rule name, or the file stem for unrecognized VERSIONINFO).
    pub component: String,
    /// Version read from the bytes; empty when the library is present but states no version
    /// the rules can read (*present, version unknown*: never a guess).
    pub version: String,
    /// Where and how.
    pub evidence: Evidence,
}

/// What the scanner learned about one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileScan {
    /// Path of the file (relative to the scanned root).
    pub path: String,
    /// Whether the file is a PE image.
    pub is_pe: bool,
    /// VERSIONINFO, when the PE has one.
    pub version_info: Option<VersionInfo>,
    /// DLL names from the import table, then from the delay-load import table.
    pub imports: Vec<String>,
    /// Components found.
    pub hits: Vec<Hit>,
    /// SHA-1 hex.
    pub sha1: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// A Go executable's embedded build information (main module, dependencies, toolchain),
    /// read by relkit-catalog.
    pub go: Option<relkit_catalog::Catalog>,
    /// What an ELF file says about itself (soname, needed libraries, build-id, `.comment`).
    pub elf: Option<ElfSummary>,
    /// What a Mach-O file says about itself, per architecture (install name, loaded dylibs).
    pub macho: Option<MachoSummary>,
    /// Why a rule that applied to the file reported no version (several distinct version
    /// strings: ambiguous), one sentence each, starting with the file's path.
    pub notes: Vec<String>,
}

/// The identity fields of an ELF file (see [`crate::elf::ElfInfo`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ElfSummary {
    /// `DT_SONAME` (its number is an ABI version, never a release version).
    pub soname: Option<String>,
    /// `DT_NEEDED` entries.
    pub needed: Vec<String>,
    /// GNU build-id, lowercase hex.
    pub build_id: Option<String>,
    /// Strings of the `.comment` section.
    pub comment: Vec<String>,
}

/// The linking facts of a Mach-O file (see [`crate::macho::MachoInfo`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MachoSummary {
    /// Whether the file is fat (universal).
    pub fat: bool,
    /// Per architecture, in file order.
    pub slices: Vec<MachoSliceSummary>,
}

/// The linking facts of one Mach-O architecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MachoSliceSummary {
    /// Architecture name (`x86_64`, `arm64`).
    pub arch: String,
    /// `LC_ID_DYLIB`: install name, `current_version`, `compatibility_version` (ABI numbers,
    /// never a release version).
    pub id: Option<(String, String, String)>,
    /// The install names of the libraries it loads.
    pub loads: Vec<String>,
}

/// Scans one file's bytes. A file that starts with `MZ` but is not a parsable PE, or with the
/// ELF magic but is not a readable ELF file ([`crate::elf::read`]), is an error naming the file.
pub fn scan_bytes(path: &str, bytes: &[u8]) -> Result<FileScan> {
    let mut scan = FileScan {
        path: path.to_string(),
        sha1: hex::encode(Sha1::digest(bytes)),
        sha256: hex::encode(Sha256::digest(bytes)),
        ..FileScan::default()
    };
    if relkit_catalog::looks_executable(bytes) {
        scan.go =
            relkit_catalog::go_build_info(path, bytes).map_err(|e| Error::Catalog(Box::new(e)))?;
    }
    apply_rules(scan, path, bytes)
}

/// The libraries one native binary (PE, ELF, Mach-O) carries, by the binary rules, for a
/// caller that has hashed the file and read its Go build info itself (the tree walk of `sbom
/// generate` on a directory or archive: a `site-packages`, a source tree with prebuilt
/// binaries). The checksums and `go` of the result are left empty. Errors as [`scan_bytes`].
pub fn scan_libraries(path: &str, bytes: &[u8]) -> Result<FileScan> {
    let scan = FileScan {
        path: path.to_string(),
        ..FileScan::default()
    };
    apply_rules(scan, path, bytes)
}

/// The rules part of [`scan_bytes`].
fn apply_rules(mut scan: FileScan, path: &str, bytes: &[u8]) -> Result<FileScan> {
    if !bytes.starts_with(b"MZ") {
        // ELF and Mach-O files (a plain tarball of Linux/macOS binaries) get the string rules;
        // other files (text, data) none, so a README quoting a version is no component.
        if !is_native_binary(bytes) {
            return Ok(scan);
        }
        // The banners first: a bare version string another library's banner claims in this
        // file is that library's (see `claimed_versions`).
        scan_strings(&mut scan, path, bytes, false);
        if crate::elf::is_elf(bytes) {
            let info = crate::elf::read(bytes).map_err(|e| Error::Binary {
                file: path.into(),
                message: format!(
                    "starts with the ELF magic but is not a valid ELF file ({e}); truncated or \
                     corrupt download?"
                ),
            })?;
            scan_elf(&mut scan, path, &info);
        } else if crate::macho::is_macho(bytes) {
            let info = crate::macho::read(bytes).map_err(|e| Error::Binary {
                file: path.into(),
                message: format!(
                    "starts with a Mach-O magic but is not a valid Mach-O file ({e}); \
                     truncated or corrupt download?"
                ),
            })?;
            scan_macho(&mut scan, path, &info);
        }
        crate::linked::scan_linked(&mut scan, path, bytes);
        dedup_hits(&mut scan.hits);
        return Ok(scan);
    }
    let pe = crate::pe::Pe::parse(bytes).map_err(|e| Error::Binary {
        file: path.into(),
        message: format!(
            "starts with MZ but is not a valid PE image ({e}); truncated or corrupt download?"
        ),
    })?;
    scan.is_pe = true;
    scan.version_info = pe
        .version_resource()
        .and_then(crate::pe::parse_version_info)
        .map(|v| {
            let get = |k: &str| {
                v.strings
                    .iter()
                    .find(|(key, val)| key == k && !val.is_empty())
                    .map(|(_, val)| val.clone())
            };
            VersionInfo {
                file_version: get("FileVersion").or(v.fixed_file_version.clone()),
                product_version: get("ProductVersion"),
                product_name: get("ProductName"),
                company_name: get("CompanyName"),
                file_description: get("FileDescription"),
                original_filename: get("OriginalFilename"),
            }
        });
    scan.imports = pe.imports().map_err(|e| Error::Binary {
        file: path.into(),
        message: format!("unreadable import table ({e}); truncated or corrupt download?"),
    })?;
    // A DLL loaded on first call is linked all the same.
    scan.imports
        .extend(pe.delay_imports().map_err(|e| Error::Binary {
            file: path.into(),
            message: format!(
                "unreadable delay-load import table ({e}); truncated or corrupt download?"
            ),
        })?);
    let mut matched_rule = false;
    for rule in rules() {
        if let (Some(vi), Some(product)) = (&scan.version_info, &rule.product) {
            let field_ok = |re: &Option<Regex>, value: &Option<String>| {
                re.as_ref()
                    .is_none_or(|r| value.as_deref().is_some_and(|v| r.is_match(v)))
            };
            let company_ok = field_ok(&rule.company, &vi.company_name)
                && field_ok(&rule.description, &vi.file_description);
            if let (Some(name), Some(ver)) = (&vi.product_name, &vi.file_version)
                && company_ok
                && product.is_match(name)
            {
                matched_rule = true;
                let version = trim_parts(ver, rule.lib.binary.version_parts);
                scan.hits.push(Hit {
                    component: rule.lib.name.clone(),
                    version,
                    evidence: Evidence {
                        file: path.into(),
                        offset: None,
                        method: "pe-versioninfo".into(),
                        text: format!("ProductName={name}; FileVersion={ver}"),
                    },
                });
            }
        }
    }
    scan_strings(&mut scan, path, bytes, true);
    crate::linked::scan_linked(&mut scan, path, bytes);
    dedup_hits(&mut scan.hits);
    if !matched_rule
        && let Some(vi) = &scan.version_info
        && let Some(ver) = vi
            .file_version
            .clone()
            .or_else(|| vi.product_version.clone())
    {
        let file_name = vi
            .original_filename
            .clone()
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string());
        let stem = file_name
            .rsplit_once('.')
            .map_or(file_name.as_str(), |(s, _)| s)
            .to_ascii_lowercase();
        scan.hits.push(Hit {
            component: stem,
            version: leading_version(&ver).to_string(),
            evidence: Evidence {
                file: path.into(),
                offset: None,
                method: "pe-versioninfo".into(),
                text: format!(
                    "ProductName={}; CompanyName={}; FileVersion={ver}",
                    vi.product_name.as_deref().unwrap_or(""),
                    vi.company_name.as_deref().unwrap_or("")
                ),
            },
        });
    }
    Ok(scan)
}

/// The version at the start of a VERSIONINFO version string, without the free text some
/// builds append (`14.29.30139.0 built by: vcwrkspc`, `10.0.19041.1 (WinBuild.160101.0800)`);
/// the whole string stays in the evidence. A string that does not start with a number is kept
/// whole.
fn leading_version(v: &str) -> &str {
    let v = v.trim();
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    match v[..end].trim_end_matches('.') {
        "" => v,
        lead => lead,
    }
}

/// The same component/version seen twice in one file by one method is one hit.
fn dedup_hits(hits: &mut Vec<Hit>) {
    let mut seen = BTreeSet::new();
    hits.retain(|h| {
        seen.insert((
            h.component.clone(),
            h.version.clone(),
            h.evidence.method.clone(),
        ))
    });
}

/// ELF or Mach-O (thin or fat) magic.
fn is_native_binary(bytes: &[u8]) -> bool {
    crate::elf::is_elf(bytes) || crate::macho::is_macho(bytes)
}

/// Applies the `symbols` + `rodata` rules to an ELF file: a rule applies only when the file
/// exports one of the rule's symbols (the library's own API), and then its `rodata` regexes are
/// matched against whole `.rodata` strings. Exactly one distinct version found is a hit; several
/// are a note (ambiguous) and no hit: a bare version is never guessed.
fn scan_elf(scan: &mut FileScan, path: &str, info: &crate::elf::ElfInfo) {
    scan.elf = Some(ElfSummary {
        soname: info.soname.clone(),
        needed: info.needed.clone(),
        build_id: info.build_id.clone(),
        comment: info.comment.clone(),
    });
    let claimed = claimed_versions(scan);
    for rule in rules() {
        let Some(symbol) = rule
            .lib
            .binary
            .symbols
            .iter()
            .find(|s| info.exports.contains(*s))
        else {
            continue;
        };
        let mut versions = rule_versions(rule, &info.rodata);
        drop_claimed(&mut versions, &claimed, &rule.lib.name);
        match versions.len() {
            // The file exports the library's own API: it is the library, whose version is
            // an integer its code returns (libwebp, Little CMS, brotli, libpq) or a string
            // not found: present, version unknown.
            0 => scan.hits.push(Hit {
                component: rule.lib.name.clone(),
                version: String::new(),
                evidence: Evidence {
                    file: path.into(),
                    offset: None,
                    method: "elf-exports".into(),
                    text: format!(
                        "exports {symbol}; no version string in .rodata: version unknown"
                    ),
                },
            }),
            1 => {
                let (version, s) = versions.into_iter().next().expect("one version");
                scan.hits.push(Hit {
                    component: rule.lib.name.clone(),
                    version,
                    evidence: Evidence {
                        file: path.into(),
                        offset: Some(s.offset),
                        method: "elf-rodata".into(),
                        text: format!(".rodata string {:?} in a file exporting {symbol}", s.text),
                    },
                });
            }
            _ => scan.notes.push(format!(
                "{path}: {} (exports {symbol}): several version strings in .rodata ({}): \
                 ambiguous, no version reported",
                rule.lib.name,
                versions
                    .values()
                    .map(|s| format!("{:?} at {}", s.text, s.offset))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// The versions the banners of a file give, by library (`AOMedia Project AV1 Encoder 3.13.2`
/// says "3.13.2" is libaom's).
fn claimed_versions(scan: &FileScan) -> BTreeMap<String, String> {
    scan.hits
        .iter()
        .filter(|h| !h.version.is_empty())
        .map(|h| (h.version.clone(), h.component.clone()))
        .collect()
}

/// Drops the bare versions another library's banner in the same file claims: libavif's
/// dylib carries libaom, whose `aom_codec_version_str()` "3.13.2" is a whole string beside
/// libavif's own "1.4.1", and libaom's banner says whose it is.
fn drop_claimed<V>(
    versions: &mut BTreeMap<String, V>,
    claimed: &BTreeMap<String, String>,
    name: &str,
) {
    versions.retain(|v, _| claimed.get(v).is_none_or(|owner| owner == name));
}

/// The versions a rule's `rodata` regexes find in whole strings: version → the first string
/// that gave it.
fn rule_versions<'a>(
    rule: &Rule,
    strings: &'a [crate::elf::RodataString],
) -> BTreeMap<String, &'a crate::elf::RodataString> {
    let mut versions = BTreeMap::new();
    for s in strings {
        for re in &rule.rodata {
            if let Some(c) = re.captures(&s.text) {
                versions.entry(rodata_version(&c)).or_insert(s);
            }
        }
    }
    versions
}

/// Applies the `symbols` + `rodata` rules to each architecture of a Mach-O file, as
/// [`scan_elf`] does to an ELF file, with the strings of `__TEXT,__cstring` / `__TEXT,__const`
/// for `.rodata`. Every slice that exports the rule's symbol is read on its own: one version in
/// all of them is a hit (the evidence names the slices); several versions in one slice, or
/// slices that disagree, are a note (ambiguous) and no hit.
fn scan_macho(scan: &mut FileScan, path: &str, info: &crate::macho::MachoInfo) {
    scan.macho = Some(MachoSummary {
        fat: info.fat,
        slices: info
            .slices
            .iter()
            .map(|s| MachoSliceSummary {
                arch: s.arch.clone(),
                id: s.id.as_ref().map(|d| {
                    (
                        d.name.clone(),
                        d.current_version.clone(),
                        d.compatibility_version.clone(),
                    )
                }),
                loads: s.loads.iter().map(|d| d.name.clone()).collect(),
            })
            .collect(),
    });
    let claimed = claimed_versions(scan);
    for rule in rules() {
        // The first slice exporting the library's API, and the symbol.
        let mut exporting: Option<(&str, &str)> = None;
        // version → (slice architectures, first string, its section and the symbol)
        type Seen<'a> = (Vec<&'a str>, &'a crate::elf::RodataString, &'a str, &'a str);
        let mut found: BTreeMap<String, Seen<'_>> = BTreeMap::new();
        let mut ambiguous = Vec::new();
        for slice in &info.slices {
            let Some(symbol) = rule
                .lib
                .binary
                .symbols
                .iter()
                .find(|s| slice.exports.contains(*s))
            else {
                continue;
            };
            exporting.get_or_insert((slice.arch.as_str(), symbol.as_str()));
            let mut versions = rule_versions(rule, &slice.strings);
            drop_claimed(&mut versions, &claimed, &rule.lib.name);
            if versions.len() > 1 {
                ambiguous.push(format!(
                    "{} slice (exports _{symbol}): {}",
                    slice.arch,
                    versions
                        .values()
                        .map(|s| format!("{:?} at {}", s.text, s.offset))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            }
            for (version, s) in versions {
                let section = slice.section_at(s.offset).unwrap_or("?");
                found
                    .entry(version)
                    .or_insert_with(|| (Vec::new(), s, section, symbol.as_str()))
                    .0
                    .push(&slice.arch);
            }
        }
        if !ambiguous.is_empty() {
            scan.notes.push(format!(
                "{path}: {}: several version strings in __TEXT ({}): ambiguous, no version \
                 reported",
                rule.lib.name,
                ambiguous.join("; ")
            ));
            continue;
        }
        match found.len() {
            // The library's own API is exported: present, version unknown (as for ELF).
            0 => {
                if let Some((arch, symbol)) = exporting {
                    scan.hits.push(Hit {
                        component: rule.lib.name.clone(),
                        version: String::new(),
                        evidence: Evidence {
                            file: path.into(),
                            offset: None,
                            method: "macho-exports".into(),
                            text: format!(
                                "the {arch} slice exports _{symbol}; no version string in \
                                 __TEXT: version unknown"
                            ),
                        },
                    });
                }
            }
            1 => {
                let (version, (arches, s, section, symbol)) =
                    found.into_iter().next().expect("one");
                scan.hits.push(Hit {
                    component: rule.lib.name.clone(),
                    version,
                    evidence: Evidence {
                        file: path.into(),
                        offset: Some(s.offset),
                        method: "macho-text-string".into(),
                        text: format!(
                            "__TEXT,{section} string {:?} in the {} slice{} exporting \
                             _{symbol}",
                            s.text,
                            arches.join(" and "),
                            if arches.len() > 1 { "s" } else { "" }
                        ),
                    },
                });
            }
            _ => scan.notes.push(format!(
                "{path}: {}: the architectures disagree ({}): ambiguous, no version reported",
                rule.lib.name,
                found
                    .iter()
                    .map(|(v, (arches, s, _, _))| format!(
                        "{v} in {} at {}",
                        arches.join(", "),
                        s.offset
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
}

/// The version a `rodata` match gives: group 1, or, for a packed decimal version (libxml2's
/// "21406"), the named groups `major`, `minor`, `patch` as numbers joined by dots (2.14.6).
fn rodata_version(c: &regex::Captures<'_>) -> String {
    match (c.name("major"), c.name("minor"), c.name("patch")) {
        (Some(a), Some(b), Some(p)) => [a, b, p]
            .iter()
            .map(|m| {
                let t = m.as_str().trim_start_matches('0');
                if t.is_empty() { "0" } else { t }
            })
            .collect::<Vec<_>>()
            .join("."),
        _ => c[1].to_string(),
    }
}

/// Applies every rule's ASCII patterns to `bytes`, and for a PE file (`pe`) the UTF-16
/// patterns (UTF-16 strings are Windows resources and signatures; no rule reads them
/// elsewhere).
fn scan_strings(scan: &mut FileScan, path: &str, bytes: &[u8], pe: bool) {
    // One search per pattern: each has a literal the regex engine finds with SIMD; a
    // `RegexSet` of them all (one pass, no literal prefilter) measured 4x slower.
    let strings16 = if pe { utf16_strings(bytes) } else { Vec::new() };
    for rule in rules() {
        if rule.excluded(bytes) {
            continue;
        }
        let marked = rule.marker.as_ref().is_none_or(|m| m.is_match(bytes));
        for re in rule.ascii.iter().filter(|_| marked) {
            if let Some(c) = re.captures(bytes) {
                let whole = c.get(0).expect("group 0");
                scan.hits.push(Hit {
                    component: rule.lib.name.clone(),
                    // A rule may match the library's banner without its version (group 1
                    // optional): present, version unknown.
                    version: c.get(1).map_or(String::new(), |v| {
                        String::from_utf8_lossy(v.as_bytes()).into()
                    }),
                    evidence: Evidence {
                        file: path.into(),
                        offset: Some(whole.start() as u64),
                        method: "ascii-string".into(),
                        text: String::from_utf8_lossy(whole.as_bytes()).into_owned(),
                    },
                });
            }
        }
        for re in &rule.utf16 {
            if let Some((off, c)) = strings16
                .iter()
                .find_map(|(off, s)| re.captures(s).map(|c| (*off, c)))
            {
                scan.hits.push(Hit {
                    component: rule.lib.name.clone(),
                    version: c.get(1).map_or(String::new(), |v| v.as_str().to_string()),
                    evidence: Evidence {
                        file: path.into(),
                        offset: Some(off),
                        method: "utf16-string".into(),
                        text: c[0].to_string(),
                    },
                });
            }
        }
    }
}

fn trim_parts(v: &str, parts: Option<usize>) -> String {
    match parts {
        Some(n) => v.split('.').take(n).collect::<Vec<_>>().join("."),
        None => v.to_string(),
    }
}

/// Extracts printable UTF-16LE strings (at least 6 characters) with their byte offsets, at
/// both byte alignments, like `strings -el`.
fn utf16_strings(bytes: &[u8]) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for align in 0..2 {
        let mut start = None;
        let mut cur = String::new();
        let mut i = align;
        while i + 1 < bytes.len() {
            let (lo, hi) = (bytes[i], bytes[i + 1]);
            if hi == 0 && (0x20..0x7f).contains(&lo) {
                start.get_or_insert(i);
                cur.push(lo as char);
            } else {
                if cur.len() >= 6 {
                    out.push((start.unwrap_or(i) as u64, std::mem::take(&mut cur)));
                }
                cur.clear();
                start = None;
            }
            i += 2;
        }
        if cur.len() >= 6 {
            out.push((start.unwrap_or(0) as u64, cur));
        }
    }
    out
}

/// Options for binary SBOM generation.
#[derive(Debug, Clone, Default)]
pub struct BinaryOptions {
    /// Name of the top package (default: the directory or zip name).
    pub name: Option<String>,
    /// Version of the top package.
    pub version: Option<String>,
    /// Creation time (RFC 3339); empty = [`crate::input_time`].
    pub created: String,
}

/// Reads every file of a directory, zip, tarball (.tar, .tar.gz/.tgz, .tar.xz/.txz) or single
/// file into scans (parallel), sorted by path.
pub fn scan_path(path: &Path) -> Result<Vec<FileScan>> {
    scan_path_with_time(path).map(|(scans, _)| scans)
}

/// [`scan_path`] plus the newest member modification time (RFC 3339) of a directory or archive.
fn scan_path_with_time(path: &Path) -> Result<(Vec<FileScan>, Option<String>)> {
    let origin = path.display().to_string();
    if path.is_dir() {
        let mut files = Vec::new();
        let mut newest = None;
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::io(path, e.into()))?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(path).expect("under root");
                let rel = rel.to_str().ok_or_else(|| Error::Archive {
                    origin: origin.clone(),
                    message: format!("file name is not valid UTF-8: {:?}", rel.to_string_lossy()),
                })?;
                if let Some(t) = entry.metadata().ok().and_then(|m| m.modified().ok()) {
                    crate::tree::keep_newest(&mut newest, crate::tree::rfc3339_of(t));
                }
                files.push((rel.replace('\\', "/"), entry.into_path()));
            }
        }
        let scans = files
            .par_iter()
            .map(|(rel, full)| {
                let bytes = std::fs::read(full).map_err(|e| Error::io(full, e))?;
                scan_bytes(rel, &bytes)
            })
            .collect::<Result<_>>()?;
        return Ok((scans, newest));
    }
    match crate::tree::kind_of(path) {
        Ok(kind) if kind == crate::tree::Kind::Zip || kind.is_tar() => {
            scan_stream(|tx| archive_members(path, &origin, tx))
        }
        _ => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((vec![scan_bytes(&name, &bytes)?], None))
        }
    }
}

/// A member read from an archive: its path and bytes.
type Member = (String, Vec<u8>);

/// Runs `produce` (which sends archive members and returns their newest modification time) on
/// its own thread and scans the members on the rayon pool as they arrive. The channel is
/// small, so at most a few members are in memory at once, whatever the archive's size.
fn scan_stream(
    produce: impl FnOnce(&mpsc::SyncSender<Member>) -> Result<Option<String>> + Send,
) -> Result<(Vec<FileScan>, Option<String>)> {
    let (tx, rx) = mpsc::sync_channel::<Member>(2);
    std::thread::scope(|s| {
        let producer = s.spawn(move || produce(&tx));
        let scans: Result<Vec<FileScan>> = rx
            .into_iter()
            .par_bridge()
            .map(|(name, bytes)| scan_bytes(&name, &bytes))
            .collect();
        let newest = producer.join().expect("archive reader does not panic")?;
        let mut scans = scans?;
        scans.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((scans, newest))
    })
}

fn too_large(origin: &str, name: &str) -> Error {
    Error::Archive {
        origin: origin.into(),
        message: format!("member {name} is larger than 1 GiB (zip bomb?); scan it on its own"),
    }
}

/// Sends every file member of an archive, read by relkit-archive's one streaming reader
/// (zip, tar, .tar.gz/.xz/.bz2/.zst), to the scanners; returns the newest member time.
fn archive_members(
    path: &Path,
    origin: &str,
    tx: &mpsc::SyncSender<Member>,
) -> Result<Option<String>> {
    let mut sender = MemberSender {
        origin,
        tx,
        newest: None,
        failed: None,
    };
    let walked = crate::tree::walk_archive(path, &mut sender);
    if let Some(e) = sender.failed {
        return Err(e);
    }
    walked?;
    Ok(sender.newest)
}

struct MemberSender<'a> {
    origin: &'a str,
    tx: &'a mpsc::SyncSender<Member>,
    newest: Option<String>,
    /// Our own reason to stop (a refused name, a member over 1 GiB).
    failed: Option<Error>,
}

impl relkit_archive::read::Visit for MemberSender<'_> {
    fn visit(
        &mut self,
        member: relkit_archive::read::Member,
        content: &mut dyn Read,
    ) -> std::io::Result<relkit_archive::read::Flow> {
        use relkit_archive::read::{Flow, MemberKind};
        if member.kind != MemberKind::File {
            return Ok(Flow::Continue);
        }
        let name = match crate::tree::safe_name(&member.path, self.origin) {
            Ok(n) => n,
            Err(e) => {
                self.failed = Some(e);
                return Ok(Flow::Stop);
            }
        };
        if member.size > MAX_MEMBER {
            self.failed = Some(too_large(self.origin, &name));
            return Ok(Flow::Stop);
        }
        crate::tree::keep_newest(&mut self.newest, model::rfc3339_from_epoch(member.mtime));
        let mut bytes = Vec::with_capacity(member.size as usize);
        content.read_to_end(&mut bytes)?;
        if self.tx.send((name, bytes)).is_err() {
            return Ok(Flow::Stop); // the scanner stopped on an error; it reports it
        }
        Ok(Flow::Continue)
    }
}

/// Stops an archive walk at the first PE file name near the top (binary archives put their
/// executables there), or after `limit` members, reading no content.
struct PePeek {
    seen: usize,
    limit: usize,
    found: bool,
}

impl relkit_archive::read::Visit for PePeek {
    fn visit(
        &mut self,
        member: relkit_archive::read::Member,
        _content: &mut dyn Read,
    ) -> std::io::Result<relkit_archive::read::Flow> {
        use relkit_archive::read::Flow;
        let name = String::from_utf8_lossy(&member.path).into_owned();
        self.seen += 1;
        if name.matches('/').count() <= 1 && is_pe_name(&name) {
            self.found = true;
            return Ok(Flow::Stop);
        }
        Ok(if self.seen >= self.limit {
            Flow::Stop
        } else {
            Flow::Continue
        })
    }
}

/// Whether a file name is a Windows executable or module (`.dll`, `.pyd`, `.exe`).
fn is_pe_name(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    n.ends_with(".dll") || n.ends_with(".pyd") || n.ends_with(".exe")
}

/// Whether `path` looks like binary input: a PE file name, or a directory / zip / tarball with
/// `.dll`/`.pyd`/`.exe` files at its top level (or one directory down in an archive; in a
/// tarball among its first members).
pub fn looks_binary(path: &Path) -> Result<bool> {
    if path.is_dir() {
        for e in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            if is_pe_name(
                &e.map_err(|e| Error::io(path, e))?
                    .file_name()
                    .to_string_lossy(),
            ) {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if is_pe_name(&name) {
        return Ok(true);
    }
    match crate::tree::kind_of(path) {
        // A single file that is not an archive: an executable by its magic (a Go or C program
        // named without extension).
        Err(_) if path.is_file() => {
            let mut head = [0u8; 8];
            let n = std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
                .map_err(|e| Error::io(path, e))?;
            Ok(relkit_catalog::looks_executable(&head[..n]))
        }
        Ok(kind) if kind == crate::tree::Kind::Zip || kind.is_tar() => {
            // In a tarball only the first members are looked at, so a large source tarball is
            // not decompressed twice: binary tarballs put their executables near the top. A
            // zip's names are all listed up front (its central directory).
            let mut peek = PePeek {
                seen: 0,
                limit: if kind.is_tar() { TAR_PEEK } else { usize::MAX },
                found: false,
            };
            crate::tree::walk_archive(path, &mut peek)?;
            Ok(peek.found)
        }
        _ => Ok(false),
    }
}

/// Builds the binary SBOM of a directory, zip, tarball or file. An empty `opts.created` is
/// filled by [`crate::input_time`].
pub fn generate(path: &Path, opts: &BinaryOptions) -> Result<Document> {
    let (scans, newest) = scan_path_with_time(path)?;
    let mut opts = opts.clone();
    if opts.created.is_empty() {
        opts.created = crate::input_time(path, newest.as_deref());
    }
    Ok(build(&scans, path, &opts))
}

/// The executables at the root of the scanned input (inside its single top directory, if all
/// files are in one: `cp313/python.exe`) that are a component by their own VERSIONINFO — what
/// [`crate::identity::programs_claim`] names a binary distribution after.
pub(crate) fn programs(scans: &[FileScan]) -> Vec<crate::identity::Program> {
    let top = scans
        .first()
        .and_then(|s| s.path.split_once('/'))
        .map(|(t, _)| format!("{t}/"))
        .filter(|t| scans.iter().all(|s| s.path.starts_with(t.as_str())));
    scans
        .iter()
        .filter_map(|s| {
            let rel = top
                .as_deref()
                .and_then(|t| s.path.strip_prefix(t))
                .unwrap_or(&s.path);
            (!rel.contains('/') && rel.to_ascii_lowercase().ends_with(".exe")).then_some((s, rel))
        })
        .flat_map(|(s, rel)| {
            s.hits
                .iter()
                .filter(|h| h.evidence.method == "pe-versioninfo")
                .map(move |h| crate::identity::Program {
                    path: rel.to_string(),
                    component: h.component.clone(),
                    version: h.version.clone(),
                })
        })
        .collect()
}

fn build(scans: &[FileScan], path: &Path, opts: &BinaryOptions) -> Document {
    let default_name = path
        .file_name()
        .map(|n| {
            let n = n.to_string_lossy();
            crate::tree::ARCHIVE_SUFFIXES
                .iter()
                .find_map(|s| n.strip_suffix(s))
                .unwrap_or(&n)
                .to_string()
        })
        .unwrap_or_else(|| "artifact".into());
    // Without --name, a binary distribution is what its root programs are (CPython's
    // embeddable zip is its python.exe), else it is named after its file.
    let claim = opts
        .name
        .is_none()
        .then(|| crate::identity::programs_claim(&programs(scans)))
        .flatten();
    let (name, version, comment) = match (&opts.name, claim) {
        (None, Some((origin, c))) => (
            c.name.unwrap_or(default_name),
            opts.version.clone().or(c.version),
            Some(format!("Name and version from {origin}.")),
        ),
        _ => (
            opts.name.clone().unwrap_or(default_name),
            opts.version.clone(),
            None,
        ),
    };
    let cpes = match (&version, name == crate::identity::CPYTHON) {
        (Some(v), true) => vec![crate::identity::cpython_cpe(v)],
        _ => Vec::new(),
    };
    let mut ids = IdAllocator::default();
    ids.reserve(crate::spdx::DOCUMENT_ID);
    let top_id = ids.allocate("SPDXRef-PACKAGE-", &name.to_ascii_lowercase());
    let mut doc = Document {
        created: opts.created.clone(),
        creators: vec![crate::tool_creator()],
        ..Document::default()
    };
    let mut found = Found::default();
    for s in scans {
        let fid = ids.allocate("SPDXRef-FILE-", &s.path);
        doc.files.push(File {
            id: fid.clone(),
            name: s.path.clone(),
            checksums: vec![
                Checksum {
                    algorithm: "SHA1".into(),
                    value: s.sha1.clone(),
                },
                Checksum {
                    algorithm: "SHA256".into(),
                    value: s.sha256.clone(),
                },
            ],
            ..File::default()
        });
        doc.relationships.push(Relationship {
            from: top_id.clone(),
            kind: "CONTAINS".into(),
            to: fid,
        });
        found.add_hits(s);
    }
    let id_of = component_ids(&mut doc, &mut found.comps, &mut ids, &top_id);
    component_dependencies(&mut doc, scans, &found, &id_of);
    doc.packages.push(Package {
        id: top_id.clone(),
        name: name.clone(),
        version,
        download_location: Some("NOASSERTION".into()),
        license_concluded: Some("NOASSERTION".into()),
        files_analyzed: true,
        purpose: Some("ARCHIVE".into()),
        cpes,
        comment,
        ..Package::default()
    });
    doc.packages.extend(found.comps.into_values());
    let go: Vec<relkit_catalog::Catalog> = scans.iter().filter_map(|s| s.go.clone()).collect();
    crate::dependencies::add(
        &mut doc,
        &mut ids,
        Some(&top_id),
        &go,
        crate::dependencies::Selection::default(),
    );
    let sha1s: Vec<&str> = doc
        .files
        .iter()
        .filter_map(|f| f.checksum("SHA1"))
        .collect();
    if let Some(top) = doc.packages.iter_mut().find(|p| p.id == top_id) {
        if sha1s.is_empty() {
            top.files_analyzed = false;
        } else {
            top.verification_code = Some(model::verification_code(sha1s));
        }
    }
    doc.describes.push(top_id);
    doc.name = match &opts.version {
        Some(v) => format!("{name}-{v}"),
        None => name.clone(),
    };
    let mut h = Sha256::new();
    for f in &doc.files {
        h.update(f.name.as_bytes());
        h.update(f.checksum("SHA256").unwrap_or_default().as_bytes());
    }
    doc.namespace = format!(
        "https://spdx.org/spdxdocs/relkit/{}-{}",
        model::sanitize_id(&doc.name),
        &hex::encode(h.finalize())[..16]
    );
    doc.normalize();
    doc
}

/// The components the binary rules find in already-scanned files (one package per name and
/// version, evidence merged, CPE/PURL/supplier/license from the rule), without SPDX ids.
pub fn components_of(scans: &[FileScan]) -> Vec<Package> {
    let mut found = Found::default();
    for s in scans {
        found.add_hits(s);
    }
    found.comps.into_values().collect()
}

/// Components keyed by (name, version), evidence merged, and which file is which component.
#[derive(Default)]
struct Found {
    comps: BTreeMap<(String, String), Package>,
    /// Per file (lowercase path): the component that *is* the file (VERSIONINFO).
    primary: BTreeMap<String, (String, String)>,
    /// (file, component) for the components a file bundles.
    bundled: Vec<(String, (String, String))>,
}

impl Found {
    /// Adds the components found in one file.
    fn add_hits(&mut self, s: &FileScan) {
        let linking = linking_evidence(s);
        for h in &s.hits {
            let key = (h.component.clone(), h.version.clone());
            let rule = rules()
                .iter()
                .find(|r| r.lib.name == h.component)
                .map(|r| r.lib);
            let pkg = self.comps.entry(key.clone()).or_insert_with(|| Package {
                name: h.component.clone(),
                version: (!h.version.is_empty()).then(|| h.version.clone()),
                supplier: rule.and_then(|r| r.supplier.clone()),
                download_location: Some("NOASSERTION".into()),
                license_concluded: Some("NOASSERTION".into()),
                license_declared: Some(
                    rule.and_then(|r| r.license.clone())
                        .unwrap_or_else(|| "NOASSERTION".into()),
                ),
                // No CPE or PURL without a version: a versionless identifier would match
                // every advisory of the library, or none.
                cpes: rule
                    .filter(|_| !h.version.is_empty())
                    .and_then(|r| r.cpe_for(&h.version))
                    .into_iter()
                    .collect(),
                purls: rule
                    .filter(|_| !h.version.is_empty())
                    .and_then(|r| r.purl_for(&h.version))
                    .into_iter()
                    .collect(),
                purpose: Some("LIBRARY".into()),
                files_analyzed: false,
                ..Package::default()
            });
            if pkg.supplier.is_none()
                && let Some(c) = s.version_info.as_ref().and_then(|v| v.company_name.clone())
            {
                pkg.supplier = Some(format!("Organization: {c}"));
            }
            pkg.evidence.push(h.evidence.clone());
            for e in &linking {
                if !pkg.evidence.contains(e) {
                    pkg.evidence.push(e.clone());
                }
            }
            if h.evidence.method == "pe-versioninfo" {
                self.primary.insert(s.path.to_ascii_lowercase(), key);
            } else {
                self.bundled.push((s.path.to_ascii_lowercase(), key));
            }
        }
    }
}

/// The linking facts of the file a component was found in, as evidence about that file (see
/// [`Evidence::is_linking`]): ELF `DT_SONAME`, `DT_NEEDED`, GNU build-id and `.comment`
/// strings; the DLL names of a PE import table; a Mach-O file's `LC_ID_DYLIB` (install name,
/// `current_version`, `compatibility_version`) and `LC_LOAD_DYLIB` names, with the
/// architectures stating each in a fat file. Their numbers are ABI numbers: they are never
/// read as the component's version.
fn linking_evidence(s: &FileScan) -> Vec<Evidence> {
    let ev = |method: &str, text: String| Evidence {
        file: s.path.clone(),
        offset: None,
        method: method.into(),
        text,
    };
    let mut out = Vec::new();
    if let Some(e) = &s.elf {
        out.extend(e.soname.iter().map(|n| ev("elf-soname", n.clone())));
        out.extend(e.needed.iter().map(|n| ev("elf-needed", n.clone())));
        out.extend(e.build_id.iter().map(|b| ev("elf-build-id", b.clone())));
        out.extend(e.comment.iter().map(|c| ev("elf-comment", c.clone())));
    }
    out.extend(s.imports.iter().map(|d| ev("pe-import", d.clone())));
    if let Some(m) = &s.macho {
        // (method, fact) → the architectures that state it, in file order.
        let mut facts: Vec<((&str, String), Vec<&str>)> = Vec::new();
        for sl in &m.slices {
            let mut keys: Vec<(&str, String)> = Vec::new();
            if let Some((name, cur, compat)) = &sl.id {
                keys.push((
                    "macho-id-dylib",
                    format!("{name} (current_version {cur}, compatibility_version {compat})"),
                ));
            }
            keys.extend(sl.loads.iter().map(|l| ("macho-load-dylib", l.clone())));
            for key in keys {
                match facts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, arches)) => arches.push(&sl.arch),
                    None => facts.push((key, vec![&sl.arch])),
                }
            }
        }
        for ((method, text), arches) in facts {
            let text = if m.fat {
                format!("{text} [{}]", arches.join(", "))
            } else {
                text
            };
            out.push(ev(method, text));
        }
    }
    out
}

/// Gives every component its SPDX id (in (name, version) order), each a dependency of the top
/// package; returns (name, version) → id.
fn component_ids(
    doc: &mut Document,
    comps: &mut BTreeMap<(String, String), Package>,
    ids: &mut IdAllocator,
    top_id: &str,
) -> BTreeMap<(String, String), String> {
    let mut id_of: BTreeMap<(String, String), String> = BTreeMap::new();
    for (key, pkg) in comps {
        pkg.id = ids.allocate("SPDXRef-PACKAGE-", &format!("{}-{}", key.0, key.1));
        id_of.insert(key.clone(), pkg.id.clone());
        doc.relationships.push(Relationship {
            from: top_id.to_string(),
            kind: "DEPENDS_ON".into(),
            to: pkg.id.clone(),
        });
    }
    id_of
}

/// A file's own component depends on what it bundles and on the components of the DLLs it
/// imports.
fn component_dependencies(
    doc: &mut Document,
    scans: &[FileScan],
    found: &Found,
    id_of: &BTreeMap<(String, String), String>,
) {
    let (primary, bundled) = (&found.primary, &found.bundled);
    let by_basename: BTreeMap<String, &(String, String)> = primary
        .iter()
        .map(|(p, k)| (p.rsplit('/').next().unwrap_or(p).to_string(), k))
        .collect();
    for (file, lib) in bundled {
        if let Some(owner) = primary.get(file)
            && owner != lib
        {
            doc.relationships.push(Relationship {
                from: id_of[owner].clone(),
                kind: "DEPENDS_ON".into(),
                to: id_of[lib].clone(),
            });
        }
    }
    for s in scans {
        let Some(owner) = primary.get(&s.path.to_ascii_lowercase()) else {
            continue;
        };
        for imp in &s.imports {
            if let Some(dep) = by_basename.get(&imp.to_ascii_lowercase())
                && *dep != owner
            {
                doc.relationships.push(Relationship {
                    from: id_of[owner].clone(),
                    kind: "DEPENDS_ON".into(),
                    to: id_of[*dep].clone(),
                });
            }
        }
    }
}

/// One row of the declared-vs-found comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredRow {
    /// Component name (declared name where there is one).
    pub name: String,
    /// Version the declared SBOM gives.
    pub declared_version: Option<String>,
    /// Versions found in the bytes.
    pub found_versions: Vec<String>,
    /// Evidence for the found versions (`file@offset: text`).
    pub evidence: Vec<String>,
}

/// Result of comparing a declared SBOM (e.g. `Misc/externals.spdx.json`) with the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeclaredReport {
    /// Declared, found, and the versions agree.
    pub confirmed: Vec<DeclaredRow>,
    /// Declared and found, but the bytes say another version.
    pub contradicted: Vec<DeclaredRow>,
    /// Declared and found, but the bytes state no version relkit can read (*present, version
    /// unknown*): neither confirmed nor contradicted, and a finding — nothing was checked.
    pub version_unknown: Vec<DeclaredRow>,
    /// Declared but no evidence in the bytes.
    pub not_found: Vec<DeclaredRow>,
    /// Found in the bytes but not declared.
    pub undeclared: Vec<DeclaredRow>,
}

impl DeclaredReport {
    /// Whether anything disagrees.
    pub fn has_findings(&self) -> bool {
        !(self.contradicted.is_empty()
            && self.version_unknown.is_empty()
            && self.not_found.is_empty()
            && self.undeclared.is_empty())
    }
}

/// Compares the declared packages with the components of a generated binary SBOM. Names match
/// case-insensitively, through the rule aliases, or by CPE vendor:product; versions match
/// ignoring trailing `.0` parts (`3.49.1.0` = `3.49.1`).
pub fn compare_declared(found: &Document, declared: &Document) -> DeclaredReport {
    let top: BTreeSet<&str> = found.describes.iter().map(String::as_str).collect();
    let found_pkgs: Vec<&Package> = found
        .packages
        .iter()
        .filter(|p| !top.contains(p.id.as_str()))
        .collect();
    let declared_top: BTreeSet<&str> = declared.describes.iter().map(String::as_str).collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut report = DeclaredReport::default();
    for d in declared
        .packages
        .iter()
        .filter(|p| !declared_top.contains(p.id.as_str()))
    {
        let matches: Vec<&&Package> = found_pkgs.iter().filter(|f| same_component(d, f)).collect();
        let row = DeclaredRow {
            name: d.name.clone(),
            declared_version: d.version.clone(),
            found_versions: matches.iter().filter_map(|f| f.version.clone()).collect(),
            // The evidence of the version; the files' linking facts say nothing about it.
            evidence: matches
                .iter()
                .flat_map(|f| f.evidence.iter().filter(|e| !e.is_linking()))
                .map(evidence_line)
                .collect(),
        };
        used.extend(matches.iter().map(|f| f.id.as_str()));
        if matches.is_empty() {
            report.not_found.push(row);
        } else if matches
            .iter()
            .any(|f| versions_equal(f.version.as_deref(), d.version.as_deref()))
        {
            report.confirmed.push(row);
        } else if matches.iter().all(|f| f.version.is_none()) {
            report.version_unknown.push(row);
        } else {
            report.contradicted.push(row);
        }
    }
    for f in found_pkgs.iter().filter(|f| !used.contains(f.id.as_str())) {
        report.undeclared.push(DeclaredRow {
            name: f.name.clone(),
            declared_version: None,
            found_versions: f.version.clone().into_iter().collect(),
            evidence: f
                .evidence
                .iter()
                .filter(|e| !e.is_linking())
                .map(evidence_line)
                .collect(),
        });
    }
    report
}

fn evidence_line(e: &Evidence) -> String {
    match e.offset {
        Some(o) => format!("{}@{o:#x} ({}): {}", e.file, e.method, e.text),
        None => format!("{} ({}): {}", e.file, e.method, e.text),
    }
}

fn same_component(declared: &Package, found: &Package) -> bool {
    let dn = declared.name.to_ascii_lowercase();
    if dn == found.name.to_ascii_lowercase() {
        return true;
    }
    if let Some(rule) = rules().iter().find(|r| r.lib.name == found.name)
        && rule.lib.aliases.iter().any(|a| a.eq_ignore_ascii_case(&dn))
    {
        return true;
    }
    let vp = |cpe: &str| {
        cpe.split(':')
            .nth(3)
            .zip(cpe.split(':').nth(4))
            .map(|(v, p)| format!("{v}:{p}"))
    };
    // CPE vendor:product identity, unless both sides carry distinct names (tcl vs tk share one).
    declared
        .cpes
        .iter()
        .filter_map(|c| vp(c))
        .any(|d| found.cpes.iter().filter_map(|c| vp(c)).any(|f| f == d))
        && !rules().iter().any(|r| {
            r.lib.name.eq_ignore_ascii_case(&dn)
                || r.lib.aliases.iter().any(|a| a.eq_ignore_ascii_case(&dn))
        })
}

/// Whether two known versions name the same release, by the one judge
/// ([`relkit_ident::version::same_release`]); an unknown version equals nothing.
pub fn versions_equal(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => relkit_ident::version::same_release(a, b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_file_compiles() {
        assert!(rules().len() >= 10);
        assert!(rules().iter().any(|r| r.lib.name == "openssl"));
        for r in rules() {
            // A bare `.rodata` version means something only next to the library's own API.
            assert!(
                r.lib.binary.symbols.is_empty() <= r.rodata.is_empty(),
                "{}: `rodata` without `symbols`",
                r.lib.name
            );
            for re in &r.rodata {
                assert!(
                    re.captures_len() >= 2,
                    "{}: {re} has no group 1",
                    r.lib.name
                );
                assert!(re.as_str().ends_with('$'), "{}: {re}", r.lib.name);
            }
        }
    }

    #[test]
    fn versioninfo_versions_lose_the_free_text_after_them() {
        assert_eq!(
            leading_version("14.29.30139.0 built by: vcwrkspc"),
            "14.29.30139.0"
        );
        assert_eq!(
            leading_version("10.0.19041.1 (WinBuild.160101.0800)"),
            "10.0.19041.1"
        );
        assert_eq!(leading_version("3.13.2"), "3.13.2");
        assert_eq!(leading_version("v2 beta"), "v2 beta");
    }

    #[test]
    fn packed_decimal_versions_are_unpacked() {
        let rule = rules().iter().find(|r| r.lib.name == "libxml2").unwrap();
        let c = rule.rodata[0].captures("21406").unwrap();
        assert_eq!(rodata_version(&c), "2.14.6");
        let rule = rules().iter().find(|r| r.lib.name == "libxslt").unwrap();
        let c = rule.rodata[0].captures("10143").unwrap();
        assert_eq!(rodata_version(&c), "1.1.43");
        assert!(rule.rodata[0].captures("21406").is_none());
    }

    #[test]
    fn truncated_pe_is_an_error() {
        let err = scan_bytes("x.dll", b"MZ\x90\x00\x03\x00\x00\x00").unwrap_err();
        assert!(err.to_string().contains("not a valid PE"), "{err}");
    }

    #[test]
    fn utf16_strings_are_found_at_odd_offsets() {
        let mut b = vec![0xAAu8];
        for c in "LibFFI for Python (libffi-3.4.4".encode_utf16() {
            b.extend_from_slice(&c.to_le_bytes());
        }
        let s = utf16_strings(&b);
        assert_eq!(s, vec![(1, "LibFFI for Python (libffi-3.4.4".to_string())]);
    }

    #[test]
    fn version_equality_ignores_trailing_zeros() {
        assert!(versions_equal(Some("3.49.1.0"), Some("3.49.1")));
        assert!(!versions_equal(Some("3.0.15"), Some("3.0.16")));
    }
}
