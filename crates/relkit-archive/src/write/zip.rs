//! A deterministic zip writer.
//!
//! The `zip` crate decides version fields, extra fields and time handling itself and
//! writes data descriptors when streaming; release archives need every byte pinned down,
//! so this writer lays out the format directly (APPNOTE 6.3):
//! - members in the given (sorted) order, directories with a trailing `/`;
//! - DOS times from the member's mtime read as UTC (so TZ never matters), clamped to the
//!   DOS range 1980..2107; no extended-timestamp or uid/gid extra fields;
//! - "version made by" Unix 3.0 with the Unix type and permission bits in the external
//!   attributes (the MS-DOS directory bit for directories), UTF-8 flag for non-ASCII names;
//! - deflate at level 9, or stored when deflate does not make a member smaller; symbolic
//!   links stored with their target as content; hard links written as copies;
//! - Zip64 records only when a size, an offset or the member count needs them.
//!
//! Members are compressed in parallel batches and written in order, so the bytes do not
//! depend on the number of threads.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use flate2::Compression;
use flate2::write::DeflateEncoder;
use rayon::prelude::*;

use crate::entry::{Entry, EntryKind};
use crate::write::WriteError;

/// Members larger than this are compressed while streaming instead of in memory.
const IN_MEMORY_LIMIT: u64 = 16 << 20;
/// Bytes of input compressed per parallel batch.
const BATCH_BYTES: u64 = 64 << 20;
const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
const VERSION_MADE_BY: u16 = (3 << 8) | 30;
const U32_MAX: u64 = 0xFFFF_FFFF;

/// Writes `entries` (in archive order) as a zip archive to `out`; returns the bytes written.
pub fn write_zip<W: Write + Seek>(entries: &[Entry], out: &mut W) -> Result<u64, WriteError> {
    let sources = resolve_sources(entries)?;
    let mut central = Vec::new();
    let mut offset = out.stream_position()?;
    let start = offset;
    let mut i = 0;
    while i < entries.len() {
        // A batch of small members compressed in parallel, then written in order.
        let mut j = i;
        let mut batch_bytes = 0;
        while j < entries.len() && batch_bytes < BATCH_BYTES && sources[j].1 <= IN_MEMORY_LIMIT {
            batch_bytes += sources[j].1;
            j += 1;
        }
        if j == i {
            let record = write_streaming(&entries[i], &sources[i], out, offset)?;
            offset = out.stream_position()?;
            central.push(record);
            i += 1;
            continue;
        }
        let prepared: Vec<Result<Prepared, WriteError>> = (i..j)
            .into_par_iter()
            .map(|k| prepare(&entries[k], &sources[k]))
            .collect();
        for p in prepared {
            let p = p?;
            let record = write_prepared(p, out, offset)?;
            offset += record.local_len;
            central.push(record);
        }
        i = j;
    }
    let cd_start = offset;
    let mut cd = Vec::new();
    for record in &central {
        central_header(&mut cd, record);
    }
    out.write_all(&cd)?;
    let cd_end = cd_start + cd.len() as u64;
    end_records(out, central.len() as u64, cd_start, cd.len() as u64, cd_end)?;
    Ok(out.stream_position()? - start)
}

/// The content source and size of each entry (hard links resolved to their target).
fn resolve_sources(entries: &[Entry]) -> Result<Vec<(Content, u64)>, WriteError> {
    let by_path: HashMap<&[u8], &Entry> = entries.iter().map(|e| (e.path.as_slice(), e)).collect();
    entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::Dir => Ok((Content::None, 0)),
            EntryKind::Symlink(t) => Ok((Content::Bytes(t.clone()), t.len() as u64)),
            EntryKind::File => Ok((Content::File(source(e)?), e.size)),
            EntryKind::Hardlink(target) => {
                let t = by_path
                    .get(target.as_slice())
                    .filter(|t| t.kind == EntryKind::File)
                    .ok_or_else(|| WriteError::Unrepresentable {
                        path: String::from_utf8_lossy(&e.path).into_owned(),
                        message: "hard link to a member that is not a regular file in the archive"
                            .into(),
                    })?;
                Ok((Content::File(source(t)?), t.size))
            }
        })
        .collect()
}

fn source(e: &Entry) -> Result<PathBuf, WriteError> {
    e.source.clone().ok_or_else(|| WriteError::Unrepresentable {
        path: String::from_utf8_lossy(&e.path).into_owned(),
        message: "a file entry has no content source".into(),
    })
}

#[derive(Debug, Clone)]
enum Content {
    None,
    Bytes(Vec<u8>),
    File(PathBuf),
}

struct Prepared {
    meta: Meta,
    data: Vec<u8>,
}

/// Everything the headers need about one member.
#[derive(Debug, Clone)]
struct Meta {
    name: Vec<u8>,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    dos_time: u16,
    dos_date: u16,
    external: u32,
}

struct CentralRecord {
    meta: Meta,
    offset: u64,
    local_len: u64,
}

fn read_all(path: &PathBuf, expected: u64) -> Result<Vec<u8>, WriteError> {
    let mut data = Vec::with_capacity(expected as usize);
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(|source| WriteError::Read {
            path: path.clone(),
            source,
        })?;
    if data.len() as u64 != expected {
        return Err(WriteError::Changed {
            path: path.clone(),
            expected,
        });
    }
    Ok(data)
}

fn base_meta(entry: &Entry) -> Meta {
    let (dos_time, dos_date) = dos_datetime(entry.mtime.secs);
    let type_bits = match entry.kind {
        EntryKind::Dir => 0o040000,
        EntryKind::Symlink(_) => 0o120000,
        EntryKind::File | EntryKind::Hardlink(_) => 0o100000,
    };
    let dos_dir = if entry.kind == EntryKind::Dir {
        0x10
    } else {
        0
    };
    Meta {
        name: entry.archive_name(),
        method: 0,
        crc: 0,
        compressed: 0,
        size: 0,
        dos_time,
        dos_date,
        external: ((type_bits | (entry.mode & 0o7777)) << 16) | dos_dir,
    }
}

fn prepare(entry: &Entry, (content, size): &(Content, u64)) -> Result<Prepared, WriteError> {
    let mut meta = base_meta(entry);
    let raw = match content {
        Content::None => Vec::new(),
        Content::Bytes(b) => b.clone(),
        Content::File(p) => read_all(p, *size)?,
    };
    meta.crc = crc32fast::hash(&raw);
    meta.size = raw.len() as u64;
    let data = if matches!(entry.kind, EntryKind::File | EntryKind::Hardlink(_)) && !raw.is_empty()
    {
        let mut enc = DeflateEncoder::new(Vec::with_capacity(raw.len() / 2), Compression::best());
        enc.write_all(&raw)?;
        let deflated = enc.finish()?;
        if deflated.len() < raw.len() {
            meta.method = 8;
            deflated
        } else {
            raw
        }
    } else {
        raw
    };
    meta.compressed = data.len() as u64;
    Ok(Prepared { meta, data })
}

fn write_prepared<W: Write>(
    p: Prepared,
    out: &mut W,
    offset: u64,
) -> Result<CentralRecord, WriteError> {
    let header = local_header(&p.meta);
    out.write_all(&header)?;
    out.write_all(&p.data)?;
    Ok(CentralRecord {
        local_len: header.len() as u64 + p.data.len() as u64,
        meta: p.meta,
        offset,
    })
}

/// Streams one large file: header with placeholders, deflated data, then the header is
/// patched with the CRC and sizes.
fn write_streaming<W: Write + Seek>(
    entry: &Entry,
    (content, size): &(Content, u64),
    out: &mut W,
    offset: u64,
) -> Result<CentralRecord, WriteError> {
    let Content::File(path) = content else {
        let p = prepare(entry, &(content.clone(), *size))?;
        return write_prepared(p, out, offset);
    };
    let mut meta = base_meta(entry);
    meta.method = 8;
    meta.size = *size;
    // Reserve Zip64 room in the local header whenever the sizes could need it.
    meta.compressed = if *size >= U32_MAX { U32_MAX } else { 0 };
    let header = local_header(&meta);
    out.write_all(&header)?;
    let data_start = out.stream_position()?;
    let mut file = File::open(path).map_err(|source| WriteError::Read {
        path: path.clone(),
        source,
    })?;
    let mut crc = crc32fast::Hasher::new();
    let mut enc = DeflateEncoder::new(&mut *out, Compression::best());
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|source| WriteError::Read {
            path: path.clone(),
            source,
        })?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        enc.write_all(&buf[..n])?;
        total += n as u64;
    }
    enc.finish()?;
    if total != *size {
        return Err(WriteError::Changed {
            path: path.clone(),
            expected: *size,
        });
    }
    let data_end = out.stream_position()?;
    meta.crc = crc.finalize();
    meta.compressed = data_end - data_start;
    let patched = local_header(&meta);
    if patched.len() != header.len() {
        return Err(WriteError::Unrepresentable {
            path: String::from_utf8_lossy(&entry.path).into_owned(),
            message: "compressed size crossed the Zip64 limit unexpectedly".into(),
        });
    }
    out.seek(SeekFrom::Start(offset))?;
    out.write_all(&patched)?;
    out.seek(SeekFrom::Start(data_end))?;
    Ok(CentralRecord {
        local_len: data_end - offset,
        meta,
        offset,
    })
}

fn needs_zip64_local(meta: &Meta) -> bool {
    meta.size >= U32_MAX || meta.compressed >= U32_MAX
}

fn general_flags(name: &[u8]) -> u16 {
    if name.is_ascii() { 0 } else { 0x0800 }
}

fn version_needed(meta: &Meta, zip64: bool) -> u16 {
    if zip64 {
        45
    } else if meta.method == 8 || meta.name.ends_with(b"/") {
        20
    } else {
        10
    }
}

fn local_header(meta: &Meta) -> Vec<u8> {
    let zip64 = needs_zip64_local(meta);
    let mut h = Vec::with_capacity(30 + meta.name.len() + 20);
    put32(&mut h, LOCAL_SIG);
    put16(&mut h, version_needed(meta, zip64));
    put16(&mut h, general_flags(&meta.name));
    put16(&mut h, meta.method);
    put16(&mut h, meta.dos_time);
    put16(&mut h, meta.dos_date);
    put32(&mut h, meta.crc);
    if zip64 {
        put32(&mut h, U32_MAX as u32);
        put32(&mut h, U32_MAX as u32);
    } else {
        put32(&mut h, meta.compressed as u32);
        put32(&mut h, meta.size as u32);
    }
    put16(&mut h, meta.name.len() as u16);
    put16(&mut h, if zip64 { 20 } else { 0 });
    h.extend_from_slice(&meta.name);
    if zip64 {
        put16(&mut h, 0x0001);
        put16(&mut h, 16);
        put64(&mut h, meta.size);
        put64(&mut h, meta.compressed);
    }
    h
}

fn central_header(cd: &mut Vec<u8>, r: &CentralRecord) {
    let m = &r.meta;
    let mut extra = Vec::new();
    if m.size >= U32_MAX {
        put64(&mut extra, m.size);
    }
    if m.compressed >= U32_MAX {
        put64(&mut extra, m.compressed);
    }
    if r.offset >= U32_MAX {
        put64(&mut extra, r.offset);
    }
    let zip64 = !extra.is_empty();
    put32(cd, CENTRAL_SIG);
    put16(cd, VERSION_MADE_BY);
    put16(cd, version_needed(m, zip64 || needs_zip64_local(m)));
    put16(cd, general_flags(&m.name));
    put16(cd, m.method);
    put16(cd, m.dos_time);
    put16(cd, m.dos_date);
    put32(cd, m.crc);
    put32(cd, m.compressed.min(U32_MAX) as u32);
    put32(cd, m.size.min(U32_MAX) as u32);
    put16(cd, m.name.len() as u16);
    put16(cd, if zip64 { extra.len() as u16 + 4 } else { 0 });
    put16(cd, 0); // comment length
    put16(cd, 0); // disk number
    put16(cd, 0); // internal attributes
    put32(cd, m.external);
    put32(cd, r.offset.min(U32_MAX) as u32);
    cd.extend_from_slice(&m.name);
    if zip64 {
        put16(cd, 0x0001);
        put16(cd, extra.len() as u16);
        cd.extend_from_slice(&extra);
    }
}

fn end_records<W: Write>(
    out: &mut W,
    count: u64,
    cd_start: u64,
    cd_len: u64,
    cd_end: u64,
) -> io::Result<()> {
    let mut e = Vec::new();
    let zip64 = count >= 0xFFFF || cd_start >= U32_MAX || cd_len >= U32_MAX;
    if zip64 {
        put32(&mut e, EOCD64_SIG);
        put64(&mut e, 44);
        put16(&mut e, VERSION_MADE_BY);
        put16(&mut e, 45);
        put32(&mut e, 0);
        put32(&mut e, 0);
        put64(&mut e, count);
        put64(&mut e, count);
        put64(&mut e, cd_len);
        put64(&mut e, cd_start);
        put32(&mut e, EOCD64_LOCATOR_SIG);
        put32(&mut e, 0);
        put64(&mut e, cd_end);
        put32(&mut e, 1);
    }
    put32(&mut e, EOCD_SIG);
    put16(&mut e, 0);
    put16(&mut e, 0);
    put16(&mut e, count.min(0xFFFF) as u16);
    put16(&mut e, count.min(0xFFFF) as u16);
    put32(&mut e, cd_len.min(U32_MAX) as u32);
    put32(&mut e, cd_start.min(U32_MAX) as u32);
    put16(&mut e, 0);
    out.write_all(&e)
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// MS-DOS (time, date) of a Unix time read as UTC, clamped to 1980-01-01..2107-12-31.
pub fn dos_datetime(secs: i64) -> (u16, u16) {
    let min = 315_532_800; // 1980-01-01T00:00:00Z
    let max = 4_354_819_198; // 2107-12-31T23:59:58Z
    let secs = secs.clamp(min, max);
    let c = relkit_core::time::civil(secs);
    let time = (u16::from(c.hour) << 11) | (u16::from(c.minute) << 5) | (u16::from(c.second) / 2);
    let date = (((c.year - 1980) as u16) << 9) | (u16::from(c.month) << 5) | u16::from(c.day);
    (time, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dos_time_is_utc_and_clamped() {
        // 2025-06-11T15:36:57Z, CPython 3.13.5's tarball mtime.
        let (t, d) = dos_datetime(1_749_656_217);
        assert_eq!(d, ((2025 - 1980) << 9) | (6 << 5) | 11);
        assert_eq!(t, (15 << 11) | (36 << 5) | 28);
        assert_eq!(dos_datetime(0), (0, 1 << 5 | 1));
    }
}
