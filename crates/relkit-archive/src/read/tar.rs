//! The tar reader (ustar, GNU and PAX; via the `tar` crate, which merges GNU long-name and
//! PAX extended headers into the entry they describe) over any decompressed stream. It
//! records the raw header details the diff needs (`tar.format`, `tar.typeflag`, every PAX
//! record as `tar.pax.<key>`) and hashes the whole uncompressed tar stream.

use std::io::{self, Read};

use super::util::{ExactReader, HashingReader, escape_bytes, normalize_member_path};
use super::{Container, Error, Flow, Member, MemberKind, Visit};

/// PAX keys already reflected in the member's path, link target and size.
const PAX_KEYS_IN_MEMBER: [&str; 3] = ["path", "linkpath", "size"];

/// Stream-level facts gathered while walking.
pub(crate) struct TarInfo {
    size: u64,
    sha256: Option<String>,
    pax_global: Vec<String>,
}

impl TarInfo {
    /// Copies the facts into the container.
    pub fn apply(self, c: &mut Container) {
        c.tar_size = Some(self.size);
        c.tar_sha256 = self.sha256;
        c.pax_global = self.pax_global;
    }
}

/// Walks the tar stream `inner` (already decompressed); `layer` names the format
/// (`tar`, `tar.gz`, `tar.xz`) for errors. Returns the facts and `inner`, drained to its end.
pub(crate) fn walk<T: Read>(
    inner: T,
    label: &str,
    layer: &'static str,
    visitor: &mut dyn Visit,
    hash: bool,
) -> Result<(TarInfo, T), Error> {
    let mut archive = tar::Archive::new(HashingReader::new(inner, hash));
    let mut pax_global = Vec::new();
    let corrupt = |member: Option<String>, offset: Option<u64>, e: io::Error| Error::Corrupt {
        archive: label.to_string(),
        layer,
        member,
        offset,
        detail: e.to_string(),
    };
    let mut last: Option<(String, u64)> = None;
    // Where the data of the last entry ends; the end-of-archive zero blocks follow it.
    let mut data_end = 0u64;
    let mut stopped = false;
    {
        let entries = archive.entries().map_err(|e| corrupt(None, Some(0), e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| {
                let e = match &last {
                    Some((m, at)) => io::Error::new(
                        e.kind(),
                        format!("reading the header after member '{m}' (at offset {at}): {e}"),
                    ),
                    None => io::Error::new(e.kind(), format!("reading the first header: {e}")),
                };
                corrupt(None, None, e)
            })?;
            let offset = entry.raw_header_position();
            let stored = if entry.header().entry_type().is_gnu_sparse() {
                entry.header().entry_size().unwrap_or(0)
            } else {
                entry.size()
            };
            data_end = entry
                .raw_file_position()
                .saturating_add(stored.div_ceil(512).saturating_mul(512));
            let raw_path = entry.path_bytes().into_owned();
            let shown = escape_bytes(&raw_path);
            let mut pax = Vec::new();
            if let Some(exts) = entry
                .pax_extensions()
                .map_err(|e| corrupt(Some(shown.clone()), Some(offset), e))?
            {
                for ext in exts {
                    let ext = ext.map_err(|e| corrupt(Some(shown.clone()), Some(offset), e))?;
                    pax.push((
                        escape_bytes(ext.key_bytes()),
                        escape_bytes(ext.value_bytes()),
                    ));
                }
            }
            let header = entry.header().clone();
            let etype = header.entry_type();
            if etype.is_pax_global_extensions() {
                let mut data = Vec::new();
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| corrupt(Some(shown.clone()), Some(offset), e))?;
                for ext in tar::PaxExtensions::new(&data) {
                    let ext = ext.map_err(|e| corrupt(Some(shown.clone()), Some(offset), e))?;
                    pax_global.push(format!(
                        "{}={}",
                        escape_bytes(ext.key_bytes()),
                        escape_bytes(ext.value_bytes())
                    ));
                }
                continue;
            }
            let path = normalize_member_path(&raw_path).map_err(|p| Error::UnsafePath {
                archive: label.to_string(),
                member: shown.clone(),
                reason: p.reason(),
            })?;
            last = Some((shown.clone(), offset));
            if path.is_empty() {
                // The archive root itself (`./`), as written by `tar -C dir .`.
                continue;
            }
            let kind = if etype.is_dir() || (etype.is_file() && raw_path.ends_with(b"/")) {
                MemberKind::Dir
            } else if etype.is_file() || etype.is_contiguous() || etype.is_gnu_sparse() {
                MemberKind::File
            } else if etype.is_symlink() {
                MemberKind::Symlink
            } else if etype.is_hard_link() {
                MemberKind::Hardlink
            } else if etype.is_character_special() {
                MemberKind::Other("char-device".into())
            } else if etype.is_block_special() {
                MemberKind::Other("block-device".into())
            } else if etype.is_fifo() {
                MemberKind::Other("fifo".into())
            } else {
                MemberKind::Other(format!("tar-type-{}", escape_bytes(&[etype.as_byte()])))
            };
            let mut m = Member::new(path, kind);
            let bad = |what: &str, e: io::Error| {
                corrupt(
                    Some(shown.clone()),
                    Some(offset),
                    io::Error::new(e.kind(), format!("{what} field: {e}")),
                )
            };
            m.mode = Some(header.mode().map_err(|e| bad("mode", e))? & 0o7777);
            // Owners are informational: an unparsable (e.g. blank) field is just absent.
            m.uid = header.uid().ok();
            m.gid = header.gid().ok();
            m.mtime =
                i64::try_from(header.mtime().map_err(|e| bad("mtime", e))?).unwrap_or(i64::MAX);
            m.uname = header.username_bytes().map(<[u8]>::to_vec);
            m.gname = header.groupname_bytes().map(<[u8]>::to_vec);
            if matches!(m.kind, MemberKind::Symlink | MemberKind::Hardlink) {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                if m.kind == MemberKind::Hardlink {
                    // A hard link names another member: the same safety rule applies.
                    let target = normalize_member_path(&target).map_err(|p| Error::UnsafePath {
                        archive: label.to_string(),
                        member: format!("{shown} (hard link to {})", escape_bytes(&target)),
                        reason: p.reason(),
                    })?;
                    m.link_target = Some(target);
                } else {
                    m.link_target = Some(target);
                }
            }
            let magic = &header.as_bytes()[257..265];
            let format = if magic == b"ustar\x0000" {
                if pax.is_empty() { "ustar" } else { "pax" }
            } else if magic == b"ustar  \0" {
                "gnu"
            } else {
                "v7"
            };
            m.details.insert("tar.format".into(), format.into());
            m.details
                .insert("tar.typeflag".into(), escape_bytes(&[etype.as_byte()]));
            for (key, value) in pax {
                match key.as_str() {
                    "mtime" => {
                        if let Some(secs) = parse_pax_seconds(&value) {
                            m.mtime = secs;
                        }
                    }
                    "uid" => m.uid = value.parse().ok().or(m.uid),
                    "gid" => m.gid = value.parse().ok().or(m.gid),
                    "uname" => m.uname = Some(value.clone().into_bytes()),
                    "gname" => m.gname = Some(value.clone().into_bytes()),
                    _ => {}
                }
                if !PAX_KEYS_IN_MEMBER.contains(&key.as_str()) {
                    m.details.insert(format!("tar.pax.{key}"), value);
                }
            }
            let declared = entry.size();
            m.size = declared;
            let flow = visitor
                .visit(m, &mut ExactReader::new(&mut entry, declared))
                .map_err(|e| corrupt(Some(shown.clone()), Some(offset), e))?;
            if let Flow::Stop = flow {
                stopped = true;
                break;
            }
        }
    }
    let mut hashing = archive.into_inner();
    if !stopped {
        io::copy(&mut hashing, &mut io::sink())
            .map_err(|e| corrupt(Some("(end of archive)".into()), Some(hashing.count()), e))?;
        if last.is_some() && hashing.count() <= data_end {
            // The tar crate takes a clean end of input after a member as the end of the
            // archive; GNU tar requires the zero blocks, and so do we: without them the
            // archive was cut at a member boundary.
            let e = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the end-of-archive zero blocks are missing: the archive was cut after a member",
            );
            return Err(corrupt(None, Some(hashing.count()), e));
        }
    }
    let (size, sha256, inner) = hashing.finish();
    Ok((
        TarInfo {
            size,
            sha256,
            pax_global,
        },
        inner,
    ))
}

/// The whole seconds of a PAX time value such as `1700000000.123456789` or `-5.5`.
fn parse_pax_seconds(value: &str) -> Option<i64> {
    let whole = value.split('.').next()?;
    if whole.is_empty() || whole == "-" {
        return Some(0);
    }
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_seconds() {
        assert_eq!(parse_pax_seconds("1700000000.5"), Some(1_700_000_000));
        assert_eq!(parse_pax_seconds("-3.25"), Some(-3));
        assert_eq!(parse_pax_seconds("x"), None);
    }
}
