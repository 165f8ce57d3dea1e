//! One tar stream, several outputs: the tar is generated once and its bytes are handed
//! to one thread per output (plain tar, gzip, xz), each hashing what it writes.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use sha2::{Digest, Sha256};

use crate::entry::Entry;
use crate::write::WriteError;
use crate::write::gzip::GzipWriter;
use crate::write::tar::{TarOptions, write_tar};
use crate::write::xz::xz_writer;

/// How one output compresses the tar stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Compression {
    /// The plain tar.
    None,
    /// gzip at a level (1-9).
    Gzip {
        /// Compression level.
        level: u32,
    },
    /// xz at a preset (0-9).
    Xz {
        /// Compression preset.
        preset: u32,
    },
}

/// What was written to one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub size: u64,
    /// SHA-256 of the bytes written.
    pub sha256: [u8; 32],
}

/// The result of [`compress_tar`].
#[derive(Debug, Clone)]
pub struct TarOutputs {
    /// The uncompressed tar stream.
    pub tar: Written,
    /// One result per requested output, in the order given.
    pub outputs: Vec<Written>,
}

const CHUNK: usize = 1 << 20;

/// Writes the tar of `entries` once, compressed as each of `outputs` says, into its file.
pub fn compress_tar(
    entries: &[Entry],
    tar_opts: &TarOptions,
    outputs: Vec<(Compression, File)>,
) -> Result<TarOutputs, WriteError> {
    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for (compression, file) in outputs {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(8);
            senders.push(tx);
            handles.push(scope.spawn(move || sink(compression, file, rx)));
        }
        let mut tee = Tee {
            buf: Vec::with_capacity(CHUNK),
            senders,
            hasher: Sha256::new(),
            size: 0,
        };
        let tar_result = write_tar(entries, tar_opts, &mut tee)
            .and_then(|_| tee.send().map_err(WriteError::from));
        let Tee {
            hasher,
            size,
            senders,
            ..
        } = tee;
        drop(senders);
        let mut outputs = Vec::new();
        let mut first_err = tar_result.err();
        for handle in handles {
            match handle.join().expect("compressor thread panicked") {
                Ok(written) => outputs.push(written),
                Err(e) => {
                    first_err.get_or_insert(WriteError::Write(e));
                }
            }
        }
        if let Some(err) = first_err {
            return Err(err);
        }
        Ok(TarOutputs {
            tar: Written {
                size,
                sha256: hasher.finalize().into(),
            },
            outputs,
        })
    })
}

struct Tee {
    buf: Vec<u8>,
    senders: Vec<SyncSender<Arc<Vec<u8>>>>,
    hasher: Sha256,
    size: u64,
}

impl Tee {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Arc::new(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.hasher.update(&chunk[..]);
        self.size += chunk.len() as u64;
        for tx in &self.senders {
            tx.send(Arc::clone(&chunk))
                .map_err(|_| io::Error::other("an output stopped early"))?;
        }
        Ok(())
    }
}

impl Write for Tee {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn sink(compression: Compression, file: File, rx: Receiver<Arc<Vec<u8>>>) -> io::Result<Written> {
    let out = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        size: 0,
    };
    let mut out = match compression {
        Compression::None => {
            let mut out = out;
            for chunk in rx {
                out.write_all(&chunk)?;
            }
            out
        }
        Compression::Gzip { level } => {
            let mut gz = GzipWriter::new(out, level);
            for chunk in rx {
                gz.write_all(&chunk)?;
            }
            gz.finish()?
        }
        Compression::Xz { preset } => {
            let mut xz = xz_writer(out, preset)?;
            for chunk in rx {
                xz.write_all(&chunk)?;
            }
            xz.finish()?
        }
    };
    out.flush()?;
    out.inner.get_ref().sync_all()?;
    Ok(Written {
        size: out.size,
        sha256: out.hasher.finalize().into(),
    })
}
