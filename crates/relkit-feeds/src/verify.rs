//! Checks a download before anything is imported from it: a complete archive (relkit-archive
//! reads it to the end: a truncated zip has no valid central directory, a truncated tar.gz no
//! valid end), every JSON member valid JSON, every markdown member UTF-8, and at least one
//! advisory. `db update` itself verifies downloads and git trees in the import pass instead
//! (relkit-vuln's `SourceImport::verify`: the same checks inside the source's transaction, one
//! read of the data); this module checks a download on its own.

use std::io::Read;
use std::path::Path;

use relkit_archive::read::{Flow, Member, MemberKind, Visit};
use relkit_vuln::input::{DocKind, kind_of};

use crate::error::ErrorKind;

/// What a verified download holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verified {
    /// Documents (JSON, YAML, markdown members).
    pub documents: u64,
    /// Documents that look like advisories (JSON objects with an `id`, RustSec markdown).
    pub advisories: u64,
}

/// Verifies the archive at `path` (any format relkit-archive reads, found by magic bytes).
pub fn archive(path: &Path) -> Result<Verified, ErrorKind> {
    let mut v = Checker::default();
    let walked = relkit_archive::read::walk_path(path, &mut v);
    if let Some(e) = v.failed {
        return Err(e);
    }
    walked.map_err(|e| ErrorKind::Archive(Box::new(e)))?;
    if v.seen.advisories == 0 {
        return Err(ErrorKind::Empty);
    }
    Ok(v.seen)
}

/// Checks one document's bytes; `Ok(true)` when it is an advisory.
pub fn document(member: &str, kind: DocKind, bytes: &[u8]) -> Result<bool, ErrorKind> {
    let lower = member.to_ascii_lowercase();
    if lower.ends_with(".gz") || lower.ends_with(".xz") {
        // Compressed on its own: checked when imported (relkit-archive decompresses it).
        return Ok(true);
    }
    match kind {
        DocKind::Json => {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|source| ErrorKind::Json {
                    member: member.to_string(),
                    source,
                })?;
            Ok(v.get("id").is_some()
                || v.get("cve").is_some()
                || v.get("vulnerabilities").is_some())
        }
        DocKind::Markdown => {
            let text = std::str::from_utf8(bytes).map_err(|_| ErrorKind::NotText {
                member: member.to_string(),
            })?;
            Ok(relkit_vuln::parse::is_rustsec_markdown(text))
        }
        DocKind::Yaml => {
            std::str::from_utf8(bytes).map_err(|_| ErrorKind::NotText {
                member: member.to_string(),
            })?;
            Ok(true)
        }
    }
}

#[derive(Default)]
struct Checker {
    seen: Verified,
    failed: Option<ErrorKind>,
}

impl Visit for Checker {
    fn visit(&mut self, member: Member, content: &mut dyn Read) -> std::io::Result<Flow> {
        if member.kind != MemberKind::File {
            return Ok(Flow::Continue);
        }
        let name = member.display_path();
        let Some(kind) = kind_of(&name) else {
            return Ok(Flow::Continue);
        };
        let mut bytes = Vec::with_capacity(member.size.min(64 << 20) as usize);
        content.read_to_end(&mut bytes)?;
        self.seen.documents += 1;
        match document(&name, kind, &bytes) {
            Ok(advisory) => {
                self.seen.advisories += advisory as u64;
                Ok(Flow::Continue)
            }
            Err(e) => {
                self.failed = Some(e);
                Ok(Flow::Stop)
            }
        }
    }
}
