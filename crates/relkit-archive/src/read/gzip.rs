//! A gzip (RFC 1952) decoder that keeps what `flate2::GzDecoder` hides: the raw header
//! fields (FLG, MTIME, XFL, OS, FNAME, FCOMMENT, FEXTRA), the number of members and any
//! trailing bytes. The diff engine reports these as container-level differences
//! (`gzip -n` vs not, level hint, OS byte). Inflation itself is `flate2`'s; the CRC-32 and
//! ISIZE trailer of every member are verified here.

use std::io::{self, BufRead, Read};

use flate2::bufread::DeflateDecoder;
use serde::Serialize;

use super::util::{escape_bytes, hex};

/// Longest FNAME/FCOMMENT field accepted (bounds memory on hostile input).
const MAX_TEXT_FIELD: u64 = 64 * 1024;

const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

/// The header of the first gzip member plus stream-level counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GzipInfo {
    /// The FLG byte.
    pub flags: u8,
    /// The MTIME field (0 = not set, as written by `gzip -n`).
    pub mtime: u32,
    /// The XFL byte: 2 = best compression (`-9`), 4 = fastest (`-1`), 0 = other.
    pub xfl: u8,
    /// The OS byte (3 = Unix, 255 = unknown).
    pub os: u8,
    /// The original file name (FNAME), if stored.
    pub name: Option<String>,
    /// The comment (FCOMMENT), if stored.
    pub comment: Option<String>,
    /// Hex of the FEXTRA field, if present.
    pub extra: Option<String>,
    /// Whether a header CRC-16 (FHCRC) is present.
    pub header_crc: bool,
    /// Number of concatenated gzip members.
    pub members: u32,
    /// Bytes after the last member that are not another member.
    pub trailing_bytes: u64,
}

impl GzipInfo {
    /// What the XFL byte says about the compression level.
    pub fn level_hint(&self) -> &'static str {
        match self.xfl {
            2 => "best compression (-9)",
            4 => "fastest (-1)",
            0 => "default/other",
            _ => "non-standard",
        }
    }
}

enum State<R: BufRead> {
    Header(R),
    Body(Box<DeflateDecoder<R>>),
    Done(R),
    Failed,
}

/// A streaming gzip decoder over a buffered reader that records header facts.
pub struct GzipReader<R: BufRead> {
    state: State<R>,
    first: Option<GzipInfo>,
    members: u32,
    trailing: u64,
    crc: crc32fast::Hasher,
    len: u32,
}

impl<R: BufRead> GzipReader<R> {
    /// Starts decoding `inner` at its current position.
    pub fn new(inner: R) -> Self {
        GzipReader {
            state: State::Header(inner),
            first: None,
            members: 0,
            trailing: 0,
            crc: crc32fast::Hasher::new(),
            len: 0,
        }
    }

    /// The first member's header and the counts, once at least one header was read.
    pub fn info(&self) -> Option<GzipInfo> {
        self.first.clone().map(|mut i| {
            i.members = self.members;
            i.trailing_bytes = self.trailing;
            i
        })
    }

    /// Runs the state machine until some output or the end.
    fn step(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Failed) {
                State::Header(mut r) => {
                    if self.members > 0 {
                        let avail = r.fill_buf()?;
                        if avail.is_empty() {
                            self.state = State::Done(r);
                            continue;
                        }
                        if avail[0] != 0x1f {
                            self.trailing = io::copy(&mut r, &mut io::sink())?;
                            self.state = State::Done(r);
                            continue;
                        }
                    }
                    let header = parse_header(&mut r)?;
                    if self.first.is_none() {
                        self.first = Some(header);
                    }
                    self.members += 1;
                    self.crc = crc32fast::Hasher::new();
                    self.len = 0;
                    self.state = State::Body(Box::new(DeflateDecoder::new(r)));
                }
                State::Body(mut d) => {
                    if buf.is_empty() {
                        self.state = State::Body(d);
                        return Ok(0);
                    }
                    let n = d.read(buf)?;
                    if n > 0 {
                        self.crc.update(&buf[..n]);
                        self.len = self.len.wrapping_add(n as u32);
                        self.state = State::Body(d);
                        return Ok(n);
                    }
                    let mut r = d.into_inner();
                    let mut trailer = [0u8; 8];
                    r.read_exact(&mut trailer).map_err(|e| {
                        io::Error::new(e.kind(), "gzip member trailer (CRC-32, ISIZE) is missing")
                    })?;
                    let crc = std::mem::take(&mut self.crc).finalize();
                    let want_crc =
                        u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
                    let want_len =
                        u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
                    if crc != want_crc {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "gzip CRC-32 mismatch: stored {want_crc:08x}, computed {crc:08x}"
                            ),
                        ));
                    }
                    if self.len != want_len {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "gzip ISIZE mismatch: stored {want_len}, decoded {}",
                                self.len
                            ),
                        ));
                    }
                    self.state = State::Header(r);
                }
                State::Done(r) => {
                    self.state = State::Done(r);
                    return Ok(0);
                }
                State::Failed => {
                    return Err(io::Error::other("gzip stream failed earlier"));
                }
            }
        }
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step(buf)
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Reads one member header (RFC 1952 section 2.3).
fn parse_header<R: BufRead>(r: &mut R) -> io::Result<GzipInfo> {
    let mut fixed = [0u8; 10];
    r.read_exact(&mut fixed)
        .map_err(|e| io::Error::new(e.kind(), "gzip header is truncated"))?;
    if fixed[0] != 0x1f || fixed[1] != 0x8b {
        return Err(invalid("not a gzip member (bad magic)"));
    }
    if fixed[2] != 8 {
        return Err(invalid("gzip compression method is not deflate"));
    }
    let flags = fixed[3];
    if flags & 0xe0 != 0 {
        return Err(invalid("gzip header has reserved flag bits set"));
    }
    let mtime = u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let extra = if flags & FEXTRA != 0 {
        let mut len = [0u8; 2];
        r.read_exact(&mut len)?;
        let mut data = vec![0u8; u16::from_le_bytes(len) as usize];
        r.read_exact(&mut data)?;
        Some(hex(&data))
    } else {
        None
    };
    let name = if flags & FNAME != 0 {
        Some(escape_bytes(&read_zero_terminated(r, "file name")?))
    } else {
        None
    };
    let comment = if flags & FCOMMENT != 0 {
        Some(escape_bytes(&read_zero_terminated(r, "comment")?))
    } else {
        None
    };
    if flags & FHCRC != 0 {
        let mut crc16 = [0u8; 2];
        r.read_exact(&mut crc16)?;
    }
    Ok(GzipInfo {
        flags,
        mtime,
        xfl: fixed[8],
        os: fixed[9],
        name,
        comment,
        extra,
        header_crc: flags & FHCRC != 0,
        members: 0,
        trailing_bytes: 0,
    })
}

fn read_zero_terminated<R: BufRead>(r: &mut R, what: &str) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.by_ref().take(MAX_TEXT_FIELD).read_until(0, &mut v)?;
    if v.last() != Some(&0) {
        return Err(invalid(&format!(
            "gzip header {what} is unterminated or longer than 64 KiB"
        )));
    }
    v.pop();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8], name: Option<&str>, mtime: u32) -> Vec<u8> {
        let mut b = flate2::GzBuilder::new().mtime(mtime);
        if let Some(n) = name {
            b = b.filename(n);
        }
        let mut e = b.write(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn decodes_multi_member_and_reads_header() {
        let mut bytes = gz(b"hello ", Some("a.txt"), 1234);
        bytes.extend(gz(b"world", None, 0));
        let mut r = GzipReader::new(&bytes[..]);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        let info = r.info().unwrap();
        assert_eq!(info.name.as_deref(), Some("a.txt"));
        assert_eq!(info.mtime, 1234);
        assert_eq!(info.members, 2);
        assert_eq!(info.flags, FNAME);
    }

    #[test]
    fn detects_truncation_and_crc_errors() {
        let bytes = gz(b"some data to compress", None, 0);
        let mut out = Vec::new();
        let err = GzipReader::new(&bytes[..bytes.len() - 3])
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 8] ^= 0xff;
        let err = GzipReader::new(&bad[..]).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("CRC-32 mismatch"), "{err}");
    }
}
