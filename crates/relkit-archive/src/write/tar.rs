//! A tar writer that produces exactly the bytes of GNU tar 1.35 in POSIX format with
//! CPython's release.py flags (`--format=posix --sort=name --owner=0 --group=0
//! --numeric-owner --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime
//! --mode=go+u,go-w`).
//!
//! The `tar` crate lays headers out differently (field padding, PAX record placement,
//! ustar prefix splitting), so the header encoding is written here, field by field:
//! - numbers are zero-padded octal with a trailing NUL (`%07o\0`, `%011o\0`), the checksum
//!   is `%06o\0 `;
//! - uid/gid are 0, user and group names are empty, devmajor/devminor are left NUL for
//!   every member that is not a device (GNU tar 1.34 writes `0000000` there; the official
//!   CPython tarballs, made with a newer tar, do not);
//! - a name longer than 100 bytes or not ASCII gets a PAX `path` record (the ustar
//!   prefix field is never used), likewise `linkpath` for link targets, `size` for
//!   members of 8 GiB or more, and `mtime` when the time has a fraction of a second;
//! - a PAX header is named `%d/PaxHeaders/%f` cut to 100 bytes, has mode 0644 and the
//!   `--mtime` time when one is given (else the member's);
//! - the archive ends with two zero blocks, padded to a 10240-byte record.

use std::fs::File;
use std::io::{self, Read, Write};

use crate::entry::{Entry, EntryKind, Timestamp};
use crate::write::WriteError;

/// Size of one tar block.
pub const BLOCK: usize = 512;
/// GNU tar's default record size (blocking factor 20).
pub const RECORD: u64 = 10240;

/// Settings for [`write_tar`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TarOptions {
    /// The `--mtime` time, which GNU tar stamps on PAX extended headers.
    pub pax_header_mtime: Option<Timestamp>,
}

/// Writes `entries` (already in archive order) as a tar stream to `out`; returns the
/// number of bytes written.
pub fn write_tar<W: Write>(
    entries: &[Entry],
    opts: &TarOptions,
    out: &mut W,
) -> Result<u64, WriteError> {
    let mut written = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    for entry in entries {
        written += write_entry(entry, opts, out, &mut buf)?;
    }
    let end = 2 * BLOCK as u64;
    let total = written + end;
    let padded = total.div_ceil(RECORD) * RECORD;
    write_zeros(out, padded - written)?;
    Ok(padded)
}

fn write_zeros<W: Write>(out: &mut W, mut n: u64) -> io::Result<()> {
    let zeros = [0u8; BLOCK];
    while n > 0 {
        let k = n.min(BLOCK as u64) as usize;
        out.write_all(&zeros[..k])?;
        n -= k as u64;
    }
    Ok(())
}

fn write_entry<W: Write>(
    entry: &Entry,
    opts: &TarOptions,
    out: &mut W,
    buf: &mut [u8],
) -> Result<u64, WriteError> {
    let name = entry.archive_name();
    let (typeflag, link) = match &entry.kind {
        EntryKind::File => (b'0', None),
        EntryKind::Dir => (b'5', None),
        EntryKind::Symlink(t) => (b'2', Some(t.as_slice())),
        EntryKind::Hardlink(t) => (b'1', Some(t.as_slice())),
    };
    let size = if entry.kind == EntryKind::File {
        entry.size
    } else {
        0
    };

    let mut records = Vec::new();
    if name.len() > 100 || !name.is_ascii() {
        pax_record(&mut records, "path", &name);
    }
    if let Some(target) = link
        && (target.len() > 100 || !target.is_ascii())
    {
        pax_record(&mut records, "linkpath", target);
    }
    if size > MAX_OCTAL_11 {
        pax_record(&mut records, "size", size.to_string().as_bytes());
    }
    if entry.mtime.nanos != 0 {
        pax_record(&mut records, "mtime", format_time(entry.mtime).as_bytes());
    }

    let mut written = 0u64;
    if !records.is_empty() {
        let pax_name = pax_header_name(&entry.path);
        let mtime = opts.pax_header_mtime.unwrap_or(entry.mtime).secs;
        let header = header(&pax_name, 0o644, records.len() as u64, mtime, b'x', b"");
        out.write_all(&header)?;
        out.write_all(&records)?;
        let pad = padding(records.len() as u64);
        write_zeros(out, pad)?;
        written += BLOCK as u64 + records.len() as u64 + pad;
    }

    let stored_size = if size > MAX_OCTAL_11 { 0 } else { size };
    let header = header(
        &name,
        entry.mode,
        stored_size,
        entry.mtime.secs,
        typeflag,
        link.unwrap_or(b""),
    );
    out.write_all(&header)?;
    written += BLOCK as u64;

    if entry.kind == EntryKind::File {
        let path = entry
            .source
            .as_ref()
            .ok_or_else(|| WriteError::Unrepresentable {
                path: String::from_utf8_lossy(&entry.path).into_owned(),
                message: "a file entry has no content source".into(),
            })?;
        let read_err = |source| WriteError::Read {
            path: path.clone(),
            source,
        };
        let mut file = File::open(path).map_err(read_err)?;
        let mut remaining = size;
        while remaining > 0 {
            let want = remaining.min(buf.len() as u64) as usize;
            let got = file.read(&mut buf[..want]).map_err(read_err)?;
            if got == 0 {
                return Err(WriteError::Changed {
                    path: path.clone(),
                    expected: size,
                });
            }
            out.write_all(&buf[..got])?;
            remaining -= got as u64;
        }
        if file.read(&mut buf[..1]).map_err(read_err)? != 0 {
            return Err(WriteError::Changed {
                path: path.clone(),
                expected: size,
            });
        }
        let pad = padding(size);
        write_zeros(out, pad)?;
        written += size + pad;
    }
    Ok(written)
}

const MAX_OCTAL_11: u64 = 0o77777777777;

fn padding(len: u64) -> u64 {
    (BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64
}

/// Formats a time like GNU tar's PAX `mtime`: seconds, then the fraction without
/// trailing zeros.
fn format_time(t: Timestamp) -> String {
    let mut s = format!("{}.{:09}", t.secs, t.nanos);
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s
}

/// Appends one `"<len> key=value\n"` PAX record, where `<len>` counts the whole record.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// `%d/PaxHeaders/%f` for a member path (without the directory's trailing slash).
fn pax_header_name(path: &[u8]) -> Vec<u8> {
    let (dir, base) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b"."[..], path),
    };
    let mut name = dir.to_vec();
    name.extend_from_slice(b"/PaxHeaders/");
    name.extend_from_slice(base);
    name
}

fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    let text = text.as_bytes();
    field[..digits].copy_from_slice(&text[text.len() - digits..]);
    field[digits] = 0;
}

fn header(name: &[u8], mode: u32, size: u64, mtime: i64, typeflag: u8, link: &[u8]) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    octal(&mut h[100..108], u64::from(mode & 0o7777));
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime.max(0) as u64);
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}");
    h[148..154].copy_from_slice(text.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        let mut out = Vec::new();
        pax_record(&mut out, "path", "ä/".as_bytes());
        assert_eq!(out, "12 path=ä/\n".as_bytes());
        let mut out = Vec::new();
        pax_record(&mut out, "path", &[b'x'; 95]);
        // 95 + "path=" 5 + " " + "\n" = 102 body, plus 3 digits = 105.
        assert!(out.starts_with(b"105 path="));
        assert_eq!(out.len(), 105);
    }

    #[test]
    fn fraction_of_a_second_is_trimmed() {
        assert_eq!(
            format_time(Timestamp {
                secs: 500,
                nanos: 250_000_000
            }),
            "500.25"
        );
        assert_eq!(format_time(Timestamp { secs: 7, nanos: 1 }), "7.000000001");
    }

    #[test]
    fn pax_header_names_follow_the_dir_paxheaders_file_pattern() {
        assert_eq!(pax_header_name(b"longlink"), b"./PaxHeaders/longlink");
        assert_eq!(pax_header_name(b"a/b/c.txt"), b"a/b/PaxHeaders/c.txt");
    }
}
