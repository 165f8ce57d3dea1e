//! Deterministic xz: one stream, one block, CRC64, a fixed preset, single-threaded
//! encoder — the layout of `xz -6` and `tar cJf`, which liblzma reproduces byte for byte.
//! (liblzma's multi-threaded encoder would cut the stream into blocks whose boundaries
//! depend on the thread count, so it is never used for release archives.)

use std::io::{self, Write};

use liblzma::stream::{Check, Stream};
use liblzma::write::XzEncoder;

/// An xz writer at `preset` (0-9); call `finish()` on it at the end.
pub fn xz_writer<W: Write>(out: W, preset: u32) -> io::Result<XzEncoder<W>> {
    let stream = Stream::new_easy_encoder(preset.min(9), Check::Crc64).map_err(io::Error::other)?;
    Ok(XzEncoder::new_stream(out, stream))
}
