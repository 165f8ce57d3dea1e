//! Small helpers shared by the readers: hashing while streaming, path normalization and
//! the safety check on member names, byte escaping for display.

use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

use super::CHUNK_SIZE;

/// What hashing a member's content produced.
pub(crate) struct ContentDigest {
    /// Bytes read.
    pub size: u64,
    /// SHA-256 of all bytes.
    pub sha256: [u8; 32],
    /// CRC-32 of each `CHUNK_SIZE` chunk.
    pub chunk_crcs: Vec<u32>,
}

/// Streams `content` to the end, hashing it; memory stays constant whatever the size.
pub(crate) fn hash_content(content: &mut dyn Read) -> io::Result<ContentDigest> {
    hash_content_tee(content, &mut |_| {})
}

/// [`hash_content`], handing every piece read to `tee` as well.
pub(crate) fn hash_content_tee(
    content: &mut dyn Read,
    tee: &mut dyn FnMut(&[u8]),
) -> io::Result<ContentDigest> {
    let mut sha = Sha256::new();
    let mut crcs = Vec::new();
    let mut crc = crc32fast::Hasher::new();
    let mut in_chunk = 0u64;
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match content.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &buf[..n];
        tee(data);
        sha.update(data);
        size += n as u64;
        let mut rest = data;
        while !rest.is_empty() {
            let take = ((CHUNK_SIZE - in_chunk) as usize).min(rest.len());
            crc.update(&rest[..take]);
            in_chunk += take as u64;
            rest = &rest[take..];
            if in_chunk == CHUNK_SIZE {
                crcs.push(std::mem::take(&mut crc).finalize());
                in_chunk = 0;
            }
        }
    }
    if in_chunk > 0 {
        crcs.push(crc.finalize());
    }
    Ok(ContentDigest {
        size,
        sha256: sha.finalize().into(),
        chunk_crcs: crcs,
    })
}

/// Hashes a whole seekable stream from the start and rewinds it: (size, hex SHA-256).
pub(crate) fn hash_whole<R: Read + Seek>(reader: &mut R) -> io::Result<(u64, String)> {
    reader.seek(SeekFrom::Start(0))?;
    let mut sha = Sha256::new();
    let size = io::copy(reader, &mut sha)?;
    reader.seek(SeekFrom::Start(0))?;
    Ok((size, hex(&sha.finalize())))
}

/// A reader that hashes and counts everything read through it (the uncompressed tar
/// stream), so the report can say whether two tar streams are byte-identical.
pub(crate) struct HashingReader<R> {
    inner: R,
    /// `None`: count only (a visitor walk that wants no container hashes).
    sha: Option<Sha256>,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; hashes what is read when `hash` is set, else only counts it.
    pub fn new(inner: R, hash: bool) -> Self {
        HashingReader {
            inner,
            sha: hash.then(Sha256::new),
            count: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// (bytes read, hex SHA-256 when hashing, the inner reader).
    pub fn finish(self) -> (u64, Option<String>, R) {
        (self.count, self.sha.map(|s| hex(&s.finalize())), self.inner)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// A reader over member data that must yield exactly `remaining` bytes: an early end of
/// input (a truncated archive) becomes an `UnexpectedEof` error instead of short content.
pub(crate) struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> ExactReader<R> {
    /// Wraps `inner`, which is expected to hold `size` bytes.
    pub fn new(inner: R, size: u64) -> Self {
        ExactReader {
            inner,
            remaining: size,
        }
    }

    /// The wrapped reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("member data ends {} bytes early", self.remaining),
            ));
        }
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// UTF-8 as is; bytes that are not valid UTF-8 as `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Why a member path is refused.
pub(crate) enum PathProblem {
    /// Starts with `/` (or a drive letter / backslash in zip names).
    Absolute,
    /// Has a `..` component.
    ParentDir,
}

impl PathProblem {
    /// Human description for the error.
    pub fn reason(&self) -> &'static str {
        match self {
            PathProblem::Absolute => "absolute path",
            PathProblem::ParentDir => "'..' component escapes the archive root",
        }
    }
}

/// Normalizes a member path (drops `.` and empty components and the trailing `/`) and
/// refuses absolute paths and `..` components. Backslashes count as separators for the
/// check, since some zip tools write them and extractors on Windows honour them.
pub(crate) fn normalize_member_path(raw: &[u8]) -> Result<Vec<u8>, PathProblem> {
    if raw.first() == Some(&b'/') || raw.first() == Some(&b'\\') {
        return Err(PathProblem::Absolute);
    }
    if raw.len() >= 2 && raw[1] == b':' && raw[0].is_ascii_alphabetic() {
        return Err(PathProblem::Absolute);
    }
    if raw.split(|&b| b == b'/' || b == b'\\').any(|c| c == b"..") {
        return Err(PathProblem::ParentDir);
    }
    let parts: Vec<&[u8]> = raw
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    Ok(parts.join(&b'/'))
}

/// `YYYY-MM-DDThh:mm:ssZ (seconds)` for a Unix time.
pub(crate) fn format_time(secs: i64) -> String {
    format!("{} ({secs})", relkit_core::time::rfc3339_from_epoch(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses() {
        assert_eq!(
            normalize_member_path(b"./a//b/").ok(),
            Some(b"a/b".to_vec())
        );
        assert_eq!(normalize_member_path(b"./").ok(), Some(Vec::new()));
        assert!(matches!(
            normalize_member_path(b"a/../../evil"),
            Err(PathProblem::ParentDir)
        ));
        assert!(matches!(
            normalize_member_path(b"..\\evil"),
            Err(PathProblem::ParentDir)
        ));
        assert!(matches!(
            normalize_member_path(b"/etc/passwd"),
            Err(PathProblem::Absolute)
        ));
        assert!(matches!(
            normalize_member_path(b"C:/x"),
            Err(PathProblem::Absolute)
        ));
        // A name that merely contains two dots is fine.
        assert_eq!(normalize_member_path(b"a..b").ok(), Some(b"a..b".to_vec()));
    }

    #[test]
    fn chunk_crcs_cover_all_bytes() {
        let data = vec![7u8; (CHUNK_SIZE * 2 + 5) as usize];
        let d = hash_content(&mut &data[..]).unwrap();
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(d.chunk_crcs.len(), 3);
        assert_eq!(d.chunk_crcs[2], crc32fast::hash(&[7u8; 5]));
        assert_eq!(hex(&d.sha256), hex(&Sha256::digest(&data)));
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z (0)");
        assert_eq!(
            format_time(1_709_634_030),
            "2024-03-05T10:20:30Z (1709634030)"
        );
    }

    #[test]
    fn escapes_invalid_utf8() {
        assert_eq!(escape_bytes(b"caf\xe9/\xc3\xa9"), "caf\\xe9/\u{e9}");
    }
}
