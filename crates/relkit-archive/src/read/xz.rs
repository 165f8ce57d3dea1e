//! Facts about an `.xz` container that the decoder does not expose: the integrity check
//! type (stream header), the number of blocks (index of the last stream) and the LZMA2
//! dictionary size of the first block (a hint at the preset). Parsed from the raw bytes
//! per the .xz file format specification 1.2.1; every read is bounds-checked.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Memory limit of the xz decoder. xz's presets use at most a 64 MiB dictionary (`-9`,
/// `-9e`), so 512 MiB accepts every ordinary archive while refusing forged headers that
/// claim a dictionary of up to 4 GiB (found by fuzzing: the allocation alone aborts).
pub const XZ_MEMORY_LIMIT: u64 = 512 << 20;

/// A decoder for `.xz` only (no legacy `.lzma`, which `new_multi_decoder` would also
/// accept), concatenated streams allowed, memory bounded by [`XZ_MEMORY_LIMIT`].
/// With `checks` (from [`sha256_checks`]) liblzma skips the SHA-256 block checks and
/// [`CheckedBlocks`] verifies them instead.
pub(crate) fn decoder<R: BufRead>(
    r: R,
    checks: Option<Vec<BlockCheck>>,
) -> io::Result<CheckedBlocks<liblzma::bufread::XzDecoder<R>>> {
    let flags = liblzma::stream::CONCATENATED
        | if checks.is_some() {
            liblzma::stream::IGNORE_CHECK
        } else {
            0
        };
    let stream = liblzma::stream::Stream::new_stream_decoder(XZ_MEMORY_LIMIT, flags)
        .map_err(io::Error::other)?;
    Ok(CheckedBlocks::new(
        liblzma::bufread::XzDecoder::new_stream(r, stream),
        checks,
    ))
}

/// One block of an `.xz` file: its uncompressed size and the SHA-256 stored after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockCheck {
    uncompressed: u64,
    sha256: [u8; 32],
}

/// The SHA-256 check of every block of a single-stream `.xz` file whose check type is
/// SHA-256, read from its index (CRC-32 verified) and the end of each block; `None` for
/// anything else (other checks, several streams, an index that does not add up), which
/// liblzma then verifies itself.
///
/// Why relkit verifies these checks itself: liblzma's SHA-256 is portable C, as slow as
/// the LZMA2 decoding itself (xz-utils' own release tarballs use SHA-256 checks: 30 ms of
/// the 100 ms a 11 MB tarball takes); sha2 uses the CPU's SHA instructions.
pub(crate) fn sha256_checks<R: Read + Seek>(
    reader: &mut R,
    head: &[u8],
) -> io::Result<Option<Vec<BlockCheck>>> {
    const SHA256_CHECK: u8 = 10;
    if head.len() < 12 || head.get(7).map(|b| b & 0x0f) != Some(SHA256_CHECK) {
        return Ok(None);
    }
    let end = reader.seek(SeekFrom::End(0))?;
    if end < 12 + 12 + 8 {
        return Ok(None);
    }
    let Some(Footer {
        flags,
        index_start,
        backward,
    }) = footer(reader, end)?
    else {
        return Ok(None);
    };
    if flags != head[6..8] {
        return Ok(None);
    }
    // An index is at most a few bytes per block; a forged size must not drive allocation.
    if backward > 64 << 20 || index_start < 12 {
        return Ok(None);
    }
    let mut index = vec![0u8; backward as usize];
    reader.seek(SeekFrom::Start(index_start))?;
    reader.read_exact(&mut index)?;
    let (body, crc) = index.split_at(index.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc || body.first() != Some(&0) {
        return Ok(None);
    }
    let mut pos = 1;
    let Some(records) = varint(body, &mut pos) else {
        return Ok(None);
    };
    let mut sizes = Vec::new();
    for _ in 0..records {
        let (Some(unpadded), Some(uncompressed)) = (varint(body, &mut pos), varint(body, &mut pos))
        else {
            return Ok(None);
        };
        if unpadded < 32 + 8 || sizes.len() as u64 >= records {
            return Ok(None);
        }
        sizes.push((unpadded, uncompressed));
    }
    // The blocks must fill the stream exactly from its header to its index.
    let mut start = 12u64;
    let mut checks = Vec::with_capacity(sizes.len());
    for (unpadded, uncompressed) in sizes {
        let Some(next) = start.checked_add(unpadded.div_ceil(4) * 4) else {
            return Ok(None);
        };
        if next > index_start {
            return Ok(None);
        }
        let mut sha256 = [0u8; 32];
        reader.seek(SeekFrom::Start(next - 32))?;
        reader.read_exact(&mut sha256)?;
        checks.push(BlockCheck {
            uncompressed,
            sha256,
        });
        start = next;
    }
    Ok((start == index_start).then_some(checks))
}

/// Hashes the decoder's output block by block and compares each block's SHA-256 with the
/// one stored in the file (liblzma was told to skip them; see [`sha256_checks`]); without
/// checks to verify, a plain pass-through.
pub(crate) struct CheckedBlocks<R> {
    inner: R,
    /// `None`: liblzma verifies the checks.
    blocks: Option<Vec<BlockCheck>>,
    /// The block being read (index in `blocks`).
    current: usize,
    /// Bytes of the current block still to come.
    left: u64,
    sha: Sha256,
}

impl<R: Read> CheckedBlocks<R> {
    fn new(inner: R, blocks: Option<Vec<BlockCheck>>) -> Self {
        let left = blocks
            .as_ref()
            .and_then(|b| b.first())
            .map_or(0, |b| b.uncompressed);
        CheckedBlocks {
            inner,
            blocks,
            current: 0,
            left,
            sha: Sha256::new(),
        }
    }

    /// Verifies every block that is complete, moving to the next.
    fn close_blocks(&mut self, blocks: &[BlockCheck]) -> io::Result<()> {
        while self.left == 0 && self.current < blocks.len() {
            let got: [u8; 32] = std::mem::take(&mut self.sha).finalize().into();
            if got != blocks[self.current].sha256 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "xz block {} fails its SHA-256 integrity check: the file is corrupt",
                        self.current + 1
                    ),
                ));
            }
            self.current += 1;
            self.left = blocks.get(self.current).map_or(0, |b| b.uncompressed);
        }
        Ok(())
    }
}

impl<R: Read> Read for CheckedBlocks<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(blocks) = self.blocks.take() else {
            return self.inner.read(buf);
        };
        let result = self.read_checked(buf, &blocks);
        self.blocks = Some(blocks);
        result
    }
}

impl<R: Read> CheckedBlocks<R> {
    fn read_checked(&mut self, buf: &mut [u8], blocks: &[BlockCheck]) -> io::Result<usize> {
        self.close_blocks(blocks)?;
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && self.current < blocks.len() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("xz data ends inside block {}", self.current + 1),
            ));
        }
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            if self.current >= blocks.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "xz data goes on past the blocks its index lists: the file is corrupt",
                ));
            }
            let take = (self.left.min(rest.len() as u64)) as usize;
            self.sha.update(&rest[..take]);
            self.left -= take as u64;
            rest = &rest[take..];
            self.close_blocks(blocks)?;
        }
        Ok(n)
    }
}

/// Container facts of an xz stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XzInfo {
    /// Integrity check: `none`, `crc32`, `crc64`, `sha256` or `other(N)`.
    pub check: String,
    /// Number of blocks recorded in the index of the last stream.
    pub blocks: Option<u64>,
    /// LZMA2 dictionary size of the first block (xz preset 6 = 8 MiB, 9 = 64 MiB).
    pub lzma2_dict_size: Option<u64>,
}

/// Reads the facts from the first bytes already read (`head`) and the index at the end.
pub(crate) fn info<R: Read + Seek>(reader: &mut R, head: &[u8]) -> io::Result<XzInfo> {
    let check = match head.get(7).map(|b| b & 0x0f) {
        Some(0) => "none".to_string(),
        Some(1) => "crc32".to_string(),
        Some(4) => "crc64".to_string(),
        Some(10) => "sha256".to_string(),
        Some(n) => format!("other({n})"),
        None => "unknown".to_string(),
    };
    Ok(XzInfo {
        check,
        blocks: block_count(reader)?,
        lzma2_dict_size: first_block_dict_size(head),
    })
}

/// Decodes a multibyte integer (at most 9 bytes), advancing `pos`.
fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let b = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The LZMA2 dictionary size from the first block header, if it is within `head`.
fn first_block_dict_size(head: &[u8]) -> Option<u64> {
    let size_byte = *head.get(12)?;
    if size_byte == 0 {
        return None;
    }
    let end = 12 + (usize::from(size_byte) + 1) * 4;
    let block = head.get(12..end)?;
    let flags = *block.get(1)?;
    let mut pos = 2;
    if flags & 0x40 != 0 {
        varint(block, &mut pos)?;
    }
    if flags & 0x80 != 0 {
        varint(block, &mut pos)?;
    }
    for _ in 0..=(flags & 3) {
        let id = varint(block, &mut pos)?;
        let props_len = usize::try_from(varint(block, &mut pos)?).ok()?;
        let props = block.get(pos..pos.checked_add(props_len)?)?;
        pos += props_len;
        if id == 0x21 && props_len == 1 {
            let bits = u32::from(props[0] & 0x3f);
            return match bits {
                0..=39 => Some((2 | u64::from(bits & 1)) << (bits / 2 + 11)),
                40 => Some(u64::from(u32::MAX)),
                _ => None,
            };
        }
    }
    None
}

/// What the stream footer ending at `end` says.
struct Footer {
    /// The stream flags (check type), as in the stream header.
    flags: [u8; 2],
    /// Where the index starts.
    index_start: u64,
    /// The index's size in bytes.
    backward: u64,
}

/// Reads the stream footer that ends at `end` (`None`: no footer magic, or an index size
/// that points before the start of the file).
fn footer<R: Read + Seek>(reader: &mut R, end: u64) -> io::Result<Option<Footer>> {
    let mut footer = [0u8; 12];
    reader.seek(SeekFrom::Start(end - 12))?;
    reader.read_exact(&mut footer)?;
    if &footer[10..12] != b"YZ" {
        return Ok(None);
    }
    let backward = (u64::from(u32::from_le_bytes([
        footer[4], footer[5], footer[6], footer[7],
    ])) + 1)
        * 4;
    Ok((end - 12).checked_sub(backward).map(|index_start| Footer {
        flags: [footer[8], footer[9]],
        index_start,
        backward,
    }))
}

/// The record count of the index of the last stream, via the stream footer.
fn block_count<R: Read + Seek>(reader: &mut R) -> io::Result<Option<u64>> {
    let mut end = reader.seek(SeekFrom::End(0))?;
    // Skip stream padding (groups of four zero bytes), bounded.
    for _ in 0..1024 {
        if end < 4 {
            return Ok(None);
        }
        let mut word = [0u8; 4];
        reader.seek(SeekFrom::Start(end - 4))?;
        reader.read_exact(&mut word)?;
        if word != [0; 4] {
            break;
        }
        end -= 4;
    }
    if end < 24 {
        return Ok(None);
    }
    let Some(Footer { index_start, .. }) = footer(reader, end)? else {
        return Ok(None);
    };
    let mut index = Vec::with_capacity(10);
    reader.seek(SeekFrom::Start(index_start))?;
    reader.by_ref().take(10).read_to_end(&mut index)?;
    if index.first() != Some(&0) {
        return Ok(None);
    }
    let mut pos = 1;
    Ok(varint(&index, &mut pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_dict_sizes() {
        let mut pos = 0;
        assert_eq!(varint(&[0x80, 0x01], &mut pos), Some(128));
        // Preset 6 stores dictionary byte 22 (8 MiB).
        let mut head = vec![0u8; 12];
        head.extend([2, 0, 0x21, 1, 22, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(first_block_dict_size(&head), Some(8 << 20));
    }
}
