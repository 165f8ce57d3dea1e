//! Facts about an `.xz` container that the decoder does not expose: the integrity check
//! type (stream header), the number of blocks (index of the last stream) and the LZMA2
//! dictionary size of the first block (a hint at the preset). Parsed from the raw bytes
//! per the .xz file format specification 1.2.1; every read is bounds-checked.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use serde::Serialize;

/// Memory limit of the xz decoder. xz's presets use at most a 64 MiB dictionary (`-9`,
/// `-9e`), so 512 MiB accepts every ordinary archive while refusing forged headers that
/// claim a dictionary of up to 4 GiB (found by fuzzing: the allocation alone aborts).
pub const XZ_MEMORY_LIMIT: u64 = 512 << 20;

/// A decoder for `.xz` only (no legacy `.lzma`, which `new_multi_decoder` would also
/// accept), concatenated streams allowed, memory bounded by [`XZ_MEMORY_LIMIT`].
pub(crate) fn decoder<R: BufRead>(r: R) -> io::Result<liblzma::bufread::XzDecoder<R>> {
    let stream =
        liblzma::stream::Stream::new_stream_decoder(XZ_MEMORY_LIMIT, liblzma::stream::CONCATENATED)
            .map_err(io::Error::other)?;
    Ok(liblzma::bufread::XzDecoder::new_stream(r, stream))
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
    let Some(index_start) = (end - 12).checked_sub(backward) else {
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
