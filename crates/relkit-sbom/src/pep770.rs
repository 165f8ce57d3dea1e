//! PEP 770 SBOMs: the SPDX or CycloneDX documents a wheel carries in
//! `NAME-VERSION.dist-info/sboms/` (written by auditwheel for the system libraries it copies
//! into `NAME.libs/`, or by the project for what it bundles).
//!
//! They are declarations, read and merged into the wheel's SBOM, each declared component kept
//! with its source (the document's path and the tool that wrote it) and contained in the
//! wheel's package. What a declaration lacks is said, not filled in: a component without a
//! PURL or a CPE cannot be matched to any advisory, which is a warning naming it.

use std::collections::BTreeMap;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{Document, Evidence, IdAllocator, Package, Relationship};

/// The method of evidence taken from a PEP 770 SBOM.
pub const METHOD: &str = "pep770: ";

/// Whether a wheel member is a PEP 770 SBOM (`*.dist-info/sboms/*.json`).
pub fn is_sbom(path: &str) -> bool {
    path.ends_with(".json")
        && path
            .rsplit_once('/')
            .is_some_and(|(dir, _)| dir.ends_with(".dist-info/sboms"))
}

/// Merges the PEP 770 SBOMs among `kept` (wheel members by path) into `doc`, whose package
/// `top` is the wheel's own distribution (`name`, normalized as PyPI does). Returns the
/// warnings: documents that cannot be read, components that cannot be matched.
pub fn merge(
    doc: &mut Document,
    top: &str,
    name: &str,
    kept: &BTreeMap<String, Vec<u8>>,
    origin: &str,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut ids = IdAllocator::default();
    for p in &doc.packages {
        ids.reserve(&p.id);
    }
    for f in &doc.files {
        ids.reserve(&f.id);
    }
    let mut by_purl: BTreeMap<String, String> = BTreeMap::new();
    for (path, bytes) in kept.iter().filter(|(p, _)| is_sbom(p)) {
        let label = format!("{origin}!{path}");
        let declared = match crate::json::parse(bytes, &label).and_then(|v| crate::read(&v, &label))
        {
            Ok((d, _, _)) => d,
            Err(e) => {
                warnings.push(format!(
                    "{label}: PEP 770 SBOM not read, its declarations are missing: {e}"
                ));
                continue;
            }
        };
        let tool = declared
            .creators
            .iter()
            .find_map(|c| c.strip_prefix("Tool: "))
            .unwrap_or("an unnamed tool")
            .to_string();
        let file = path.rsplit('/').next().unwrap_or(path);
        for p in declared.packages {
            if declared.describes.contains(&p.id) || is_the_wheel(&p, name) {
                continue;
            }
            let key = p
                .purls
                .first()
                .map(|u| u.split('#').next().unwrap_or(u).to_string());
            let evidence = Evidence {
                file: path.clone(),
                offset: None,
                method: format!("{METHOD}{file} by {tool}"),
                text: format!("{} {}", p.name, p.version.as_deref().unwrap_or("")),
            };
            if let Some(id) = key.as_ref().and_then(|k| by_purl.get(k)) {
                let id = id.clone();
                let same = doc.packages.iter_mut().find(|q| q.id == id);
                if let Some(q) = same.filter(|q| !q.evidence.contains(&evidence)) {
                    q.evidence.push(evidence);
                }
                continue;
            }
            if p.purls.is_empty() && p.cpes.is_empty() {
                warnings.push(format!(
                    "{label}: component {} {} has no PURL and no CPE: no advisory can be matched to it",
                    p.name,
                    p.version.as_deref().unwrap_or("(no version)")
                ));
            }
            let id = ids.allocate(
                "SPDXRef-Package-",
                &format!("{}-{}", p.name, p.version.as_deref().unwrap_or("")),
            );
            if let Some(k) = key {
                by_purl.insert(k, id.clone());
            }
            doc.relationships.push(Relationship {
                from: top.to_string(),
                kind: "CONTAINS".into(),
                to: id.clone(),
            });
            doc.packages.push(Package {
                id,
                comment: Some(format!("declared in {path} (PEP 770) by {tool}")),
                evidence: vec![evidence],
                files_analyzed: false,
                verification_code: None,
                ..p
            });
        }
    }
    warnings
}

/// A declared `pkg:pypi/NAME@…` that is the wheel's own distribution.
fn is_the_wheel(p: &Package, name: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    p.purls.iter().any(|u| {
        u.strip_prefix("pkg:pypi/")
            .and_then(|r| r.split(['@', '?', '#']).next())
            .is_some_and(|n| norm(n) == norm(name))
    })
}

/// Where [`write_wheel`] puts relkit's SBOM inside the wheel's `.dist-info` directory.
pub const RELKIT_SBOM: &str = "sboms/relkit.cdx.json";

/// Writes to `dest` a copy of the wheel `input` with `sbom` added as
/// `NAME-VERSION.dist-info/sboms/relkit.cdx.json` (PEP 770) and RECORD updated with its
/// SHA-256 and size; every other member is copied byte for byte, in the same order, with its
/// mode and time. A previous relkit SBOM in the wheel is replaced. The original is never
/// touched (`dest` must be another file) and `dest` appears whole or not at all.
pub fn write_wheel(input: &Path, sbom: &[u8], dest: &Path) -> Result<()> {
    let origin = input.display().to_string();
    let invalid = |message: String| Error::Invalid {
        origin: origin.clone(),
        path: String::new(),
        message,
    };
    if let (Ok(a), Ok(b)) = (input.canonicalize(), dest.canonicalize())
        && a == b
    {
        return Err(invalid(format!(
            "the PEP 770 wheel would overwrite its input: write it to another directory than {}",
            dest.parent().unwrap_or(Path::new(".")).display()
        )));
    }
    let members = read_members(input)?;
    let record = members
        .iter()
        .map(|m| m.path.as_str())
        .find(|p| p.ends_with(".dist-info/RECORD") && p.matches('/').count() == 1)
        .ok_or_else(|| invalid("no NAME-VERSION.dist-info/RECORD: not a wheel".into()))?
        .to_string();
    let dist_info = record.trim_end_matches("RECORD");
    let sbom_path = format!("{dist_info}{RELKIT_SBOM}");
    let record_line = format!(
        "{sbom_path},sha256={},{}",
        base64url(&Sha256::digest(sbom)),
        sbom.len()
    );
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut entries = Vec::new();
    let mut newest = 0;
    for (i, m) in members.iter().enumerate() {
        newest = newest.max(m.mtime);
        if m.path == sbom_path {
            continue;
        }
        let content = if m.path == record {
            updated_record(&m.bytes, &sbom_path, &record_line)
                .ok_or_else(|| invalid(format!("{record} is not UTF-8")))?
        } else {
            m.bytes.clone()
        };
        if m.path == record {
            entries.push(entry(
                tmp.path(),
                usize::MAX,
                &sbom_path,
                sbom,
                0o644,
                newest,
            )?);
        }
        if m.dir {
            entries.push(relkit_archive::entry::Entry {
                path: m.path.trim_end_matches('/').as_bytes().to_vec(),
                kind: relkit_archive::entry::EntryKind::Dir,
                mode: m.mode,
                mtime: relkit_archive::entry::Timestamp::from_secs(m.mtime),
                size: 0,
                source: None,
            });
            continue;
        }
        entries.push(entry(tmp.path(), i, &m.path, &content, m.mode, m.mtime)?);
    }
    let mut zip = std::io::Cursor::new(Vec::new());
    relkit_archive::write::zip::write_zip(&entries, &mut zip)
        .map_err(|e| invalid(format!("writing the wheel failed: {e}")))?;
    relkit_core::fs::write_atomic(dest, zip.get_ref()).map_err(|e| Error::io(dest, e))
}

/// One file (or directory) member of a wheel, whole.
struct Member {
    path: String,
    dir: bool,
    mode: u32,
    mtime: i64,
    bytes: Vec<u8>,
}

fn read_members(input: &Path) -> Result<Vec<Member>> {
    struct Collect(Vec<Member>);
    impl relkit_archive::read::Visit for Collect {
        fn visit(
            &mut self,
            member: relkit_archive::read::Member,
            content: &mut dyn std::io::Read,
        ) -> std::io::Result<relkit_archive::read::Flow> {
            let dir = member.kind == relkit_archive::read::MemberKind::Dir;
            if member.kind == relkit_archive::read::MemberKind::File || dir {
                let mut bytes = Vec::new();
                content.read_to_end(&mut bytes)?;
                let path = String::from_utf8(member.path.clone()).map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "member name {:?} is not UTF-8 (a wheel's names are); not copied",
                            String::from_utf8_lossy(&member.path)
                        ),
                    )
                })?;
                self.0.push(Member {
                    path,
                    dir,
                    mode: member.mode.unwrap_or(0o644) & 0o7777,
                    mtime: member.mtime,
                    bytes,
                });
            }
            Ok(relkit_archive::read::Flow::Continue)
        }
    }
    let mut c = Collect(Vec::new());
    relkit_archive::read::walk_path(input, &mut c).map_err(|source| Error::Wheel {
        origin: input.display().to_string(),
        source: Box::new(source),
    })?;
    Ok(c.0)
}

/// RECORD with the SBOM's line (an earlier one removed) before RECORD's own line.
fn updated_record(record: &[u8], sbom_path: &str, line: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(record).ok()?;
    let mut out = String::new();
    let mut added = false;
    for l in text.lines() {
        let path = l.split(',').next().unwrap_or("");
        if path == sbom_path {
            continue;
        }
        if path.ends_with(".dist-info/RECORD") && !added {
            out.push_str(line);
            out.push('\n');
            added = true;
        }
        out.push_str(l);
        out.push('\n');
    }
    if !added {
        out.push_str(line);
        out.push('\n');
    }
    Some(out.into_bytes())
}

fn entry(
    dir: &Path,
    i: usize,
    path: &str,
    bytes: &[u8],
    mode: u32,
    mtime: i64,
) -> Result<relkit_archive::entry::Entry> {
    let file = dir.join(format!("m{i}"));
    std::fs::write(&file, bytes).map_err(|e| Error::io(&file, e))?;
    Ok(relkit_archive::entry::Entry {
        path: path.as_bytes().to_vec(),
        kind: relkit_archive::entry::EntryKind::File,
        mode,
        mtime: relkit_archive::entry::Timestamp::from_secs(mtime),
        size: bytes.len() as u64,
        source: Some(file),
    })
}

/// Unpadded URL-safe base64, as RECORD writes hashes.
fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_hashes_are_unpadded_urlsafe_base64() {
        // RECORD of a real wheel: the SHA-256 of an empty file.
        assert_eq!(
            base64url(&Sha256::digest(b"")),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
    }

    #[test]
    fn sbom_members_are_the_dist_info_sboms_json_files() {
        assert!(is_sbom("x-1.dist-info/sboms/auditwheel.cdx.json"));
        assert!(!is_sbom("x-1.dist-info/RECORD"));
        assert!(!is_sbom("x/sboms/a.json"));
    }
}
