//! The zip reader: the `zip` crate locates entries, inflates them and verifies their
//! CRC-32; the raw central-directory and local headers are parsed here because the crate
//! re-serializes extra fields instead of exposing the stored bytes, and the diff must show
//! exactly what differs (extra fields such as `UT`/`ux` written by Info-ZIP without `-X`,
//! external attributes, method, DOS time).

use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;
use zip::ZipArchive;
use zip::result::ZipError;

use super::util::{ExactReader, escape_bytes, hex, normalize_member_path};

/// A zip member's content: [`ExactReader`] over the declared size, then one more read of
/// the zip crate's reader, so that it reaches its end and checks the CRC-32 (a reader that
/// stopped at the declared size would never see a corrupt member), and so that data running
/// past the declared size is an error rather than silently cut.
struct DeclaredSize<R> {
    inner: ExactReader<R>,
    checked: bool,
}

impl<R: Read> DeclaredSize<R> {
    fn new(inner: R, size: u64) -> Self {
        DeclaredSize {
            inner: ExactReader::new(inner, size),
            checked: false,
        }
    }
}

impl<R: Read> Read for DeclaredSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.checked {
            self.checked = true;
            let mut probe = [0u8; 1];
            if self.inner.get_mut().read(&mut probe)? != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "member data runs past its declared size",
                ));
            }
        }
        Ok(n)
    }
}
use super::{Error, Flow, Member, MemberKind, Visit};

/// Longest symlink target read from a zip entry.
const MAX_LINK_TARGET: u64 = 64 * 1024;
/// A member declared larger than this whose data is compressed more than [`BOMB_RATIO`] times
/// is refused as a zip bomb (real archives do not compress 64 MiB a thousandfold).
const BOMB_MIN_SIZE: u64 = 64 << 20;
/// See [`BOMB_MIN_SIZE`].
const BOMB_RATIO: u64 = 1000;

/// Container facts of a zip archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZipInfo {
    /// The archive comment (escaped).
    pub comment: String,
    /// Number of entries in the central directory.
    pub entries: u64,
}

/// The raw header bytes of one entry that the `zip` crate does not expose.
struct RawEntry {
    version_made_by: u16,
    version_needed: u16,
    flags: u16,
    method: u16,
    dos_time: u16,
    dos_date: u16,
    internal_attrs: u16,
    external_attrs: u32,
    central_extra: Vec<u8>,
    local_extra: Vec<u8>,
    comment: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_vec<R: Read>(r: &mut R, len: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Parses the central header at `central` and the local header at `local`.
fn raw_entry<R: Read + Seek>(r: &mut R, central: u64, local: u64) -> io::Result<RawEntry> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    r.seek(SeekFrom::Start(central))?;
    let mut c = [0u8; 46];
    r.read_exact(&mut c)?;
    if u32_at(&c, 0) != 0x0201_4b50 {
        return Err(bad("bad central directory header signature"));
    }
    let name_len = usize::from(u16_at(&c, 28));
    let extra_len = usize::from(u16_at(&c, 30));
    let comment_len = usize::from(u16_at(&c, 32));
    r.seek(SeekFrom::Current(name_len as i64))?;
    let central_extra = read_vec(r, extra_len)?;
    let comment = read_vec(r, comment_len)?;
    r.seek(SeekFrom::Start(local))?;
    let mut l = [0u8; 30];
    r.read_exact(&mut l)?;
    if u32_at(&l, 0) != 0x0403_4b50 {
        return Err(bad("bad local file header signature"));
    }
    let local_name_len = u16_at(&l, 26);
    let local_extra_len = usize::from(u16_at(&l, 28));
    r.seek(SeekFrom::Current(i64::from(local_name_len)))?;
    let local_extra = read_vec(r, local_extra_len)?;
    Ok(RawEntry {
        version_made_by: u16_at(&c, 4),
        version_needed: u16_at(&c, 6),
        flags: u16_at(&c, 8),
        method: u16_at(&c, 10),
        dos_time: u16_at(&c, 12),
        dos_date: u16_at(&c, 14),
        internal_attrs: u16_at(&c, 36),
        external_attrs: u32_at(&c, 38),
        central_extra,
        local_extra,
        comment,
    })
}

/// Splits an extra-field block into (header id, data) pairs; a malformed tail is kept as
/// one pseudo-field with id `0xffff_ffff` so nothing is silently dropped.
fn extra_fields(mut data: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let id = u16_at(data, 0);
        let len = usize::from(u16_at(data, 2));
        if data.len() < 4 + len {
            break;
        }
        out.push((u32::from(id), &data[4..4 + len]));
        data = &data[4 + len..];
    }
    if !data.is_empty() {
        out.push((0xffff_ffff, data));
    }
    out
}

/// `id:hex` list of extra fields, e.g. `5455:03a1b2c3d4 7875:01040000000004000000 00`.
fn describe_extra(data: &[u8]) -> String {
    extra_fields(data)
        .iter()
        .map(|(id, d)| {
            if *id == 0xffff_ffff {
                format!("malformed:{}", hex(d))
            } else {
                format!("{id:04x}:{}", hex(d))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Modification time from an extended-timestamp (`UT`, 0x5455) field.
fn ut_mtime(data: &[u8]) -> Option<i64> {
    extra_fields(data).into_iter().find_map(|(id, d)| {
        (id == 0x5455 && d.len() >= 5 && d[0] & 1 != 0)
            .then(|| i64::from(i32::from_le_bytes([d[1], d[2], d[3], d[4]])))
    })
}

/// (uid, gid) from an Info-ZIP Unix (`ux`, 0x7875) field.
fn ux_owner(data: &[u8]) -> Option<(u64, u64)> {
    extra_fields(data).into_iter().find_map(|(id, d)| {
        if id != 0x7875 || d.first() != Some(&1) {
            return None;
        }
        let read = |at: usize| -> Option<(u64, usize)> {
            let n = usize::from(*d.get(at)?);
            let bytes = d.get(at + 1..at + 1 + n)?;
            if n > 8 {
                return None;
            }
            let v = bytes
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            Some((v, at + 1 + n))
        };
        let (uid, next) = read(1)?;
        let (gid, _) = read(next)?;
        Some((uid, gid))
    })
}

/// Seconds since the epoch of a DOS date/time, taken as UTC (zip stores local time and
/// no zone; readers that need exact times use the `UT` field when present).
fn dos_to_unix(date: u16, time: u16) -> i64 {
    let year = i32::from(date >> 9) + 1980;
    let month = ((date >> 5) & 15).clamp(1, 12) as u8;
    let day = (date & 31).max(1) as u8;
    let secs =
        i64::from(time >> 11) * 3600 + i64::from((time >> 5) & 63) * 60 + i64::from(time & 31) * 2;
    relkit_core::time::epoch_from_civil(year, month, day)
        .expect("DOS years 1980-2107 and months clamped to 1-12 are representable")
        + secs
}

fn dos_string(date: u16, time: u16) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        (date >> 9) + 1980,
        (date >> 5) & 15,
        date & 31,
        time >> 11,
        (time >> 5) & 63,
        (time & 31) * 2
    )
}

/// Walks every entry of a zip archive in central-directory order.
pub(crate) fn walk<R: Read + Seek>(
    reader: R,
    label: &str,
    visitor: &mut dyn Visit,
) -> Result<ZipInfo, Error> {
    let corrupt = |member: Option<String>, offset: Option<u64>, detail: String| Error::Corrupt {
        archive: label.to_string(),
        layer: "zip",
        member,
        offset,
        detail,
    };
    let zip_err = |e: ZipError| corrupt(None, None, e.to_string());
    let mut za = ZipArchive::new(reader).map_err(zip_err)?;
    let info = ZipInfo {
        comment: escape_bytes(za.comment()),
        entries: za.len() as u64,
    };
    let mut offsets = Vec::with_capacity(za.len().min(1 << 16));
    for i in 0..za.len() {
        let f = za
            .by_index_raw(i)
            .map_err(|e| corrupt(Some(format!("entry #{i}")), None, e.to_string()))?;
        offsets.push((
            f.central_header_start(),
            f.header_start(),
            escape_bytes(f.name_raw()),
        ));
    }
    let mut reader = za.into_inner();
    let mut raws = Vec::with_capacity(offsets.len());
    for (central, local, name) in &offsets {
        let raw = raw_entry(&mut reader, *central, *local)
            .map_err(|e| corrupt(Some(name.clone()), Some(*local), e.to_string()))?;
        raws.push(raw);
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| corrupt(None, None, e.to_string()))?;
    let mut za = ZipArchive::new(reader).map_err(zip_err)?;
    for (i, raw) in raws.into_iter().enumerate() {
        let (_, local, shown) = &offsets[i];
        let here = |e: String| corrupt(Some(shown.clone()), Some(*local), e);
        let mut f = za.by_index(i).map_err(|e| here(e.to_string()))?;
        let raw_name = f.name_raw().to_vec();
        let path = normalize_member_path(&raw_name).map_err(|p| Error::UnsafePath {
            archive: label.to_string(),
            member: shown.clone(),
            reason: p.reason(),
        })?;
        if path.is_empty() {
            continue;
        }
        let unix = raw.version_made_by >> 8 == 3;
        let st_mode = raw.external_attrs >> 16;
        let is_symlink = unix && st_mode & 0o170000 == 0o120000;
        let kind = if raw_name.ends_with(b"/") || (unix && st_mode & 0o170000 == 0o040000) {
            MemberKind::Dir
        } else if is_symlink {
            MemberKind::Symlink
        } else {
            MemberKind::File
        };
        let mut m = Member::new(path, kind);
        if unix {
            m.mode = Some(st_mode & 0o7777);
        }
        m.mtime = ut_mtime(&raw.central_extra)
            .or_else(|| ut_mtime(&raw.local_extra))
            .unwrap_or_else(|| dos_to_unix(raw.dos_date, raw.dos_time));
        if let Some((uid, gid)) =
            ux_owner(&raw.local_extra).or_else(|| ux_owner(&raw.central_extra))
        {
            m.uid = Some(uid);
            m.gid = Some(gid);
        }
        let d = &mut m.details;
        d.insert(
            "zip.version_made_by".into(),
            format!("{:04x}", raw.version_made_by),
        );
        d.insert(
            "zip.version_needed".into(),
            format!("{:04x}", raw.version_needed),
        );
        d.insert("zip.flags".into(), format!("{:04x}", raw.flags));
        d.insert(
            "zip.method".into(),
            format!("{} ({:?})", raw.method, f.compression()),
        );
        d.insert(
            "zip.dos_time".into(),
            dos_string(raw.dos_date, raw.dos_time),
        );
        d.insert(
            "zip.internal_attrs".into(),
            format!("{:04x}", raw.internal_attrs),
        );
        d.insert(
            "zip.external_attrs".into(),
            format!("{:08x}", raw.external_attrs),
        );
        d.insert(
            "zip.central_extra".into(),
            describe_extra(&raw.central_extra),
        );
        d.insert("zip.local_extra".into(), describe_extra(&raw.local_extra));
        d.insert("zip.comment".into(), escape_bytes(&raw.comment));
        let (size, packed) = (f.size(), f.compressed_size().max(1));
        if size > BOMB_MIN_SIZE && size / packed > BOMB_RATIO {
            return Err(here(format!(
                "refusing the member: {packed} bytes expand to {size} (a zip bomb?)"
            )));
        }
        let flow = if is_symlink {
            let mut target = Vec::new();
            f.by_ref()
                .take(MAX_LINK_TARGET)
                .read_to_end(&mut target)
                .map_err(|e| here(e.to_string()))?;
            m.link_target = Some(target);
            visitor.visit(m, &mut io::empty())
        } else {
            // Exactly the declared size (an error when the data ends early or runs on), and the
            // zip reader's CRC check at its end.
            m.size = size;
            visitor.visit(m, &mut DeclaredSize::new(&mut f, size))
        }
        .map_err(|e| here(e.to_string()))?;
        if let Flow::Stop = flow {
            break;
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_zip_fields() {
        // UT with mtime 0x01020304, ux with uid 1000 / gid 100 (2-byte sizes).
        let mut extra = vec![0x55, 0x54, 5, 0, 1, 4, 3, 2, 1];
        extra.extend([0x75, 0x78, 7, 0, 1, 2, 0xe8, 0x03, 2, 100, 0]);
        assert_eq!(ut_mtime(&extra), Some(0x0102_0304));
        assert_eq!(ux_owner(&extra), Some((1000, 100)));
        assert_eq!(describe_extra(&extra[..9]), "5455:0104030201");
        assert_eq!(describe_extra(&[1, 2, 3]), "malformed:010203");
    }

    #[test]
    fn dos_time_as_utc() {
        // 2024-03-05 10:20:30
        let date = ((2024 - 1980) << 9) | (3 << 5) | 5;
        let time = (10 << 11) | (20 << 5) | 15;
        assert_eq!(dos_to_unix(date, time), 1_709_634_030);
        assert_eq!(dos_string(date, time), "2024-03-05 10:20:30");
    }
}
