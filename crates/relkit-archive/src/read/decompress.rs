//! Single compressed streams that are not archives: a `Packages.xz` index, an `all.json.gz`
//! advisory export, an apt list in LZ4. The compression is detected from the magic bytes,
//! never from the name, and the output is bounded: a stream that expands past the caller's
//! limit is refused (a decompression bomb), not half-read.
//!
//! Concatenated streams are read whole, as the reference tools do (`xz -d` and `gzip -d`
//! decode every stream of a multi-stream file; Debian's indexes and `pigz` output have them).

use std::io::Read;

/// A compression recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952), `1f 8b`.
    Gzip,
    /// xz, `fd 37 7a 58 5a 00`.
    Xz,
    /// bzip2, `BZh`.
    Bzip2,
    /// Zstandard, `28 b5 2f fd`.
    Zstd,
    /// The LZ4 frame format, `04 22 4d 18` (apt's `*_Packages.lz4` lists).
    Lz4,
}

impl Compression {
    /// The compression whose magic `head` starts with, if any.
    pub fn detect(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else if head.starts_with(b"BZh") {
            Some(Compression::Bzip2)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
            Some(Compression::Lz4)
        } else {
            None
        }
    }

    /// The usual name of the format (`gzip`, `xz`, …), for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        }
    }
}

/// Why a stream could not be decompressed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The stream is corrupt or truncated.
    #[error("corrupt or truncated {} stream", .format.name())]
    Corrupt {
        /// The compression being decoded.
        format: Compression,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not start with the magic of the compression they were said to be in.
    #[error("not {} data (its first bytes are not {}'s magic)", .format.name(), .format.name())]
    NotThisFormat {
        /// The compression expected.
        format: Compression,
    },
    /// The stream expands past the caller's limit.
    #[error(
        "{} stream expands past {limit} bytes; refused as a possible decompression bomb",
        .format.name()
    )]
    TooLarge {
        /// The compression being decoded.
        format: Compression,
        /// The limit in bytes.
        limit: u64,
    },
}

/// Decompresses `bytes` if they start with a known compression's magic; returns them as
/// they are otherwise (with `None`), so that a caller reading "plain or compressed" input
/// needs one call. The output may not exceed `limit` bytes.
pub fn decompress_auto(
    bytes: Vec<u8>,
    limit: u64,
) -> Result<(Vec<u8>, Option<Compression>), DecompressError> {
    match Compression::detect(&bytes) {
        Some(format) => Ok((decompress(format, &bytes, limit)?, Some(format))),
        None => Ok((bytes, None)),
    }
}

/// Decompresses `bytes` as `format`, every concatenated stream, into at most `limit` bytes;
/// bytes that do not start with `format`'s magic are refused before any decoding.
pub fn decompress(
    format: Compression,
    bytes: &[u8],
    limit: u64,
) -> Result<Vec<u8>, DecompressError> {
    if Compression::detect(bytes) != Some(format) {
        return Err(DecompressError::NotThisFormat { format });
    }
    let reader: Box<dyn Read + '_> = match format {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(bytes)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(bytes)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(bytes)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(bytes)
                .map_err(|source| DecompressError::Corrupt { format, source })?,
        ),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(bytes)),
    };
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|source| DecompressError::Corrupt { format, source })?;
    if out.len() as u64 > limit {
        return Err(DecompressError::TooLarge { format, limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_format_round_trips_and_plain_passes_through() {
        let data = b"Package: zlib1g\nVersion: 1:1.3.dfsg-3\n".repeat(50);
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&data[..], 6)
            .read_to_end(&mut xz)
            .unwrap();
        let mut bz = Vec::new();
        bzip2::read::BzEncoder::new(&data[..], bzip2::Compression::default())
            .read_to_end(&mut bz)
            .unwrap();
        let zst = zstd::stream::encode_all(&data[..], 3).unwrap();
        let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz4.write_all(&data).unwrap();
        let lz4 = lz4.finish().unwrap();
        for (packed, format) in [
            (gzip(&data), Compression::Gzip),
            (xz, Compression::Xz),
            (bz, Compression::Bzip2),
            (zst, Compression::Zstd),
            (lz4, Compression::Lz4),
        ] {
            let (out, found) = decompress_auto(packed, 1 << 20).unwrap();
            assert_eq!(found, Some(format));
            assert_eq!(out, data);
        }
        let (out, found) = decompress_auto(data.clone(), 10).unwrap();
        assert_eq!((out, found), (data, None));
    }

    #[test]
    fn concatenated_gzip_streams_are_read_whole() {
        let mut two = gzip(b"first\n");
        two.extend(gzip(b"second\n"));
        assert_eq!(
            decompress(Compression::Gzip, &two, 100).unwrap(),
            b"first\nsecond\n"
        );
    }

    #[test]
    fn a_bomb_and_a_truncated_stream_are_refused() {
        let big = gzip(&vec![0u8; 10_000]);
        let err = decompress(Compression::Gzip, &big, 9_999).unwrap_err();
        assert!(
            matches!(err, DecompressError::TooLarge { limit: 9_999, .. }),
            "{err}"
        );
        assert_eq!(
            decompress(Compression::Gzip, &big, 10_000).unwrap().len(),
            10_000
        );
        let cut = &big[..big.len() - 6];
        let err = decompress(Compression::Gzip, cut, 1 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::Corrupt { .. }), "{err}");
        let err = decompress(Compression::Xz, &big, 1 << 20).unwrap_err();
        assert!(
            matches!(err, DecompressError::NotThisFormat { .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "not xz data (its first bytes are not xz's magic)"
        );
    }
}
