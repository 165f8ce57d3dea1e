//! Binary evidence: every file of a directory, an archive (zip, tar, .tar.gz/.xz/.bz2/.zst,
//! read by relkit-archive) or a single file is scanned with
//! relkit-sbom's binary rules (PE VERSIONINFO, embedded version strings of bundled C
//! libraries); the declared packages are then compared with what was found using
//! relkit-sbom's declared-vs-found matching. A file that cannot be read or is a corrupt PE is
//! a note, not a failure; files that are not PE images simply yield no evidence.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use relkit_sbom::Document;
use relkit_sbom::binary::{FileScan, compare_declared, scan_bytes};
use relkit_sbom::model::Package;

use crate::error::{Error, Result};
use crate::{Evidence, FilesInfo, PackageReport, Undeclared, judge};

/// Files larger than this are not scanned (noted): no DLL is that large.
const MAX_BINARY: u64 = 1 << 30;

fn scan_all(against: &Path, notes: &mut Vec<String>) -> Result<Vec<FileScan>> {
    let io = |source| Error::Io {
        path: against.display().to_string(),
        source,
    };
    let mut scans = Vec::new();
    let mut scan = |name: String, read: &mut dyn Read, size: u64, notes: &mut Vec<String>| {
        if size > MAX_BINARY {
            notes.push(format!(
                "{name}: {size} bytes, larger than 1 GiB: not scanned"
            ));
            return;
        }
        let mut bytes = Vec::new();
        if let Err(e) = read.take(MAX_BINARY).read_to_end(&mut bytes) {
            notes.push(format!("{name}: cannot read: {e}"));
            return;
        }
        match scan_bytes(&name, &bytes) {
            Ok(s) => scans.push(s),
            Err(e) => notes.push(e.to_string()),
        }
    };
    if against.is_dir() {
        for entry in walkdir::WalkDir::new(against).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    notes.push(format!("walking {}: {e}", against.display()));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(against)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            match std::fs::File::open(entry.path()) {
                Ok(mut f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    scan(rel, &mut f, size, notes);
                }
                Err(e) => notes.push(format!("{rel}: cannot read: {e}")),
            }
        }
        return Ok(scans);
    }
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(against)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(io)?;
    if relkit_archive::read::detect(&head).is_some() {
        // Any archive relkit-archive reads (zip, tar, .tar.gz/.xz/.bz2/.zst), in one pass:
        // each file member is buffered (up to MAX_BINARY) and scanned when complete.
        let mut members = MemberScanner {
            current: None,
            scan: &mut |name: String, bytes: &[u8], notes: &mut Vec<String>| {
                scan(name, &mut &bytes[..], bytes.len() as u64, notes)
            },
            notes,
        };
        relkit_archive::read::read_path_observed(against, &mut members).map_err(|source| {
            Error::Archive {
                path: against.display().to_string(),
                what: "not a readable archive",
                source: Box::new(source),
            }
        })?;
        return Ok(scans);
    }
    let mut f = std::fs::File::open(against).map_err(io)?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let name = against
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    scan(name, &mut f, size, notes);
    Ok(scans)
}

/// Scans one whole member: its name, its bytes, and the notes to add to.
type ScanMember<'a> = &'a mut dyn FnMut(String, &[u8], &mut Vec<String>);

/// Hands each file member of an archive, whole, to `scan` as relkit-archive streams it.
struct MemberScanner<'a> {
    /// The member being read: its name and bytes (`None` past [`MAX_BINARY`]).
    current: Option<(String, Option<Vec<u8>>)>,
    scan: ScanMember<'a>,
    notes: &'a mut Vec<String>,
}

impl relkit_archive::read::ContentObserver for MemberScanner<'_> {
    fn begin(&mut self, member: &relkit_archive::read::Member) {
        self.current = Some((member.display_path(), Some(Vec::new())));
    }

    fn content(&mut self, bytes: &[u8]) {
        if let Some((_, slot)) = &mut self.current
            && let Some(buf) = slot
        {
            if (buf.len() + bytes.len()) as u64 > MAX_BINARY {
                *slot = None;
            } else {
                buf.extend_from_slice(bytes);
            }
        }
    }

    fn done(&mut self, member: &relkit_archive::read::Member) {
        match self.current.take() {
            Some((name, Some(bytes))) => (self.scan)(name, &bytes, self.notes),
            Some((name, None)) => self.notes.push(format!(
                "{name}: {} bytes, larger than 1 GiB: not scanned",
                member.size
            )),
            None => {}
        }
    }
}

fn evidence_of(e: &relkit_sbom::model::Evidence, version: &str) -> Evidence {
    Evidence {
        file: e.file.clone(),
        line: None,
        offset: e.offset,
        method: e.method.clone(),
        text: e.text.clone(),
        version: version.to_string(),
    }
}

/// Verifies the declared packages against binaries.
pub(crate) fn verify(
    doc: &Document,
    against: &Path,
) -> Result<(Vec<PackageReport>, Vec<Undeclared>, Vec<String>)> {
    let mut notes = Vec::new();
    let scans = scan_all(against, &mut notes)?;
    // One found component per (name, version), its evidence merged.
    let mut comps: BTreeMap<(String, String), Package> = BTreeMap::new();
    for s in &scans {
        for h in &s.hits {
            let key = (h.component.clone(), h.version.clone());
            let p = comps.entry(key).or_insert_with(|| Package {
                id: format!("found-{}-{}", h.component, h.version),
                name: h.component.clone(),
                version: (!h.version.is_empty()).then(|| h.version.clone()),
                ..Package::default()
            });
            p.evidence.push(h.evidence.clone());
        }
    }
    let found = Document {
        packages: comps.into_values().collect(),
        ..Document::default()
    };
    let cmp = compare_declared(&found, doc);
    let rows: Vec<&relkit_sbom::binary::DeclaredRow> = cmp
        .confirmed
        .iter()
        .chain(&cmp.contradicted)
        .chain(&cmp.version_unknown)
        .chain(&cmp.not_found)
        .collect();
    let looked_for = vec![format!(
        "PE VERSIONINFO and embedded version strings (relkit-sbom binary rules) in the {} file(s) of {}",
        scans.len(),
        against.display()
    )];
    let mut reports = Vec::new();
    for pkg in &doc.packages {
        let row = rows
            .iter()
            .find(|r| r.name == pkg.name && r.declared_version == pkg.version);
        let mut evidence = Vec::new();
        if let Some(row) = row {
            for f in found.packages.iter().filter(|f| {
                f.version
                    .as_ref()
                    .is_some_and(|v| row.found_versions.contains(v))
            }) {
                let v = f.version.as_deref().unwrap_or_default();
                for e in &f.evidence {
                    if row
                        .evidence
                        .iter()
                        .any(|line| line.starts_with(&e.file) && line.ends_with(&e.text))
                    {
                        evidence.push(evidence_of(e, v));
                    }
                }
            }
        }
        let mut looked = looked_for.clone();
        if row.is_none() {
            looked.insert(
                0,
                "the SBOM describes this package as the top-level artifact: not a bundled component"
                    .into(),
            );
        } else {
            looked.insert(
                0,
                "the SBOM assigns no files to binary components: every file was scanned".into(),
            );
        }
        reports.push(judge(pkg, evidence, FilesInfo::default(), looked));
    }
    let undeclared = cmp
        .undeclared
        .iter()
        .map(|r| {
            let version = r.found_versions.first().cloned();
            let evidence = found
                .packages
                .iter()
                .filter(|f| f.name == r.name && f.version == version)
                .flat_map(|f| {
                    f.evidence
                        .iter()
                        .map(|e| evidence_of(e, f.version.as_deref().unwrap_or_default()))
                })
                .collect();
            Undeclared {
                name: r.name.clone(),
                version,
                evidence,
            }
        })
        .collect();
    Ok((reports, undeclared, notes))
}
