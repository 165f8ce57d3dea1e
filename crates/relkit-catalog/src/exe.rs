//! The little of ELF, PE and Mach-O (thin and fat) that reading a Go binary's build info
//! needs: which region holds the build-info blob (Go's `debug/buildinfo` rule per format) and
//! how a virtual address maps to a file offset (for the pre-1.18 blob, which holds pointers).
//! Every read is bounds-checked: a truncated or garbled header is an `Err(String)` describing
//! it, never a panic.

/// A loaded range: `[addr, addr + size)` in memory is `[offset, offset + size)` in the file.
#[derive(Debug, Clone, Copy)]
struct Range {
    addr: u64,
    offset: u64,
    size: u64,
}

/// One executable image (a fat Mach-O has several).
#[derive(Debug)]
pub(crate) struct Image<'a> {
    /// The image's bytes (a fat Mach-O's slice).
    bytes: &'a [u8],
    /// Its format, for messages (`ELF`, `PE`, `Mach-O`).
    pub(crate) format: &'static str,
    ranges: Vec<Range>,
    /// Where Go puts the build info: `(address, size)` of the section or segment.
    pub(crate) data: Option<(u64, u64)>,
}

impl<'a> Image<'a> {
    /// `len` bytes at virtual address `addr`, if the file holds them.
    pub(crate) fn read(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let r = self
            .ranges
            .iter()
            .find(|r| addr >= r.addr && addr - r.addr < r.size)?;
        let start = r.offset.checked_add(addr - r.addr)?;
        let avail = r.size - (addr - r.addr);
        if len > avail {
            return None;
        }
        let start = usize::try_from(start).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.bytes.get(start..end)
    }

    /// The file-backed bytes of the build-info region.
    pub(crate) fn data_bytes(&self) -> Option<&'a [u8]> {
        let (addr, size) = self.data?;
        let r = self
            .ranges
            .iter()
            .find(|r| addr >= r.addr && addr - r.addr < r.size)?;
        let avail = (r.size - (addr - r.addr)).min(size);
        self.read(addr, avail)
    }
}

/// Whether the bytes start like an ELF, PE or Mach-O (thin or fat) executable.
pub(crate) fn looks_executable(b: &[u8]) -> bool {
    b.starts_with(b"\x7fELF")
        || b.starts_with(b"MZ")
        || [
            [0xfe, 0xed, 0xfa, 0xce],
            [0xfe, 0xed, 0xfa, 0xcf],
            [0xce, 0xfa, 0xed, 0xfe],
            [0xcf, 0xfa, 0xed, 0xfe],
        ]
        .iter()
        .any(|m| b.starts_with(m))
        || is_fat(b)
}

/// A fat Mach-O: `0xcafebabe` (also Java's class-file magic: told apart, as Apple's tools
/// do, by a small architecture count where a class file has its version ≥ 45).
fn is_fat(b: &[u8]) -> bool {
    (b.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) || b.starts_with(&[0xca, 0xfe, 0xba, 0xbf]))
        && be32(b, 4).is_some_and(|n| (1..=20).contains(&n))
}

/// The images of an executable (one, or one per architecture of a fat Mach-O).
pub(crate) fn parse(b: &[u8]) -> Result<Vec<Image<'_>>, String> {
    if b.starts_with(b"\x7fELF") {
        return Ok(vec![elf(b)?]);
    }
    if b.starts_with(b"MZ") {
        return Ok(vec![pe(b)?]);
    }
    if is_fat(b) {
        let wide = b[3] == 0xbf;
        let n = be32(b, 4).unwrap_or(0) as usize;
        let mut out = Vec::new();
        for i in 0..n {
            let (offset, size) = if wide {
                let e = 8 + i * 32;
                (be64(b, e + 8), be64(b, e + 16))
            } else {
                let e = 8 + i * 20;
                (
                    be32(b, e + 8).map(u64::from),
                    be32(b, e + 12).map(u64::from),
                )
            };
            let (Some(offset), Some(size)) = (offset, size) else {
                return Err(format!("fat Mach-O: architecture {i} truncated"));
            };
            let slice = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(o, s)| b.get(o..o.checked_add(s)?))
                .ok_or_else(|| format!("fat Mach-O: architecture {i} lies outside the file"))?;
            out.push(macho(slice)?);
        }
        return Ok(out);
    }
    if looks_executable(b) {
        return Ok(vec![macho(b)?]);
    }
    Err("not an ELF, PE or Mach-O file".into())
}

fn elf(b: &[u8]) -> Result<Image<'_>, String> {
    let bad = |what: &str| format!("ELF: {what}");
    let wide = match b.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err(bad("unknown class")),
    };
    let big = match b.get(5) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err(bad("unknown byte order")),
    };
    let r = Reader { b, big };
    let word = |o: usize| {
        if wide {
            r.u64(o)
        } else {
            r.u32(o).map(u64::from)
        }
    };
    let h = |o64: usize, o32: usize| if wide { o64 } else { o32 };
    let trunc = || bad("header truncated");
    let phoff = word(h(0x20, 0x1c)).ok_or_else(trunc)?;
    let shoff = word(h(0x28, 0x20)).ok_or_else(trunc)?;
    let phentsize = r.u16(h(0x36, 0x2a)).ok_or_else(trunc)? as u64;
    let phnum = r.u16(h(0x38, 0x2c)).ok_or_else(trunc)? as u64;
    let shentsize = r.u16(h(0x3a, 0x2e)).ok_or_else(trunc)? as u64;
    let shnum = r.u16(h(0x3c, 0x30)).ok_or_else(trunc)? as u64;
    let shstrndx = r.u16(h(0x3e, 0x32)).ok_or_else(trunc)? as u64;
    let mut ranges = Vec::new();
    let mut writable = None;
    for i in 0..phnum {
        let p =
            to_usize(phoff.saturating_add(i * phentsize)).ok_or_else(|| bad("program header"))?;
        // Offsets near usize::MAX (a header pointing past any file) are "truncated", not an
        // overflow.
        let f = |o64: usize, o32: usize| p.checked_add(h(o64, o32)).and_then(word);
        let ptype = r.u32(p).ok_or_else(|| bad("program header truncated"))?;
        let flags = r
            .u32(
                p.checked_add(h(4, 24))
                    .ok_or_else(|| bad("program header"))?,
            )
            .ok_or_else(|| bad("program header truncated"))?;
        let (Some(offset), Some(vaddr), Some(filesz), Some(memsz)) =
            (f(8, 4), f(16, 8), f(32, 16), f(40, 20))
        else {
            return Err(bad("program header truncated"));
        };
        if ptype == 1 {
            ranges.push(Range {
                addr: vaddr,
                offset,
                size: filesz,
            });
            // PT_LOAD, writable, not executable: Go's fallback for binaries without
            // a .go.buildinfo section.
            if writable.is_none() && flags & 3 == 2 {
                writable = Some((vaddr, memsz));
            }
        }
    }
    let mut data = None;
    if shnum > 0 && shoff > 0 {
        let sh = |i: u64| to_usize(shoff.saturating_add(i * shentsize));
        let str_off = sh(shstrndx)
            .and_then(|s| s.checked_add(h(24, 16)))
            .and_then(word)
            .ok_or_else(|| bad("section names truncated"))?;
        for i in 0..shnum {
            let s = sh(i).ok_or_else(|| bad("section header"))?;
            let name = r.u32(s).ok_or_else(|| bad("section header truncated"))? as u64;
            let field = |o64: usize, o32: usize| s.checked_add(h(o64, o32)).and_then(word);
            let (Some(addr), Some(size)) = (field(16, 12), field(32, 20)) else {
                return Err(bad("section header truncated"));
            };
            let name = cstr(b, str_off.saturating_add(name));
            if name == Some(&b".go.buildinfo"[..]) {
                data = Some((addr, size));
                break;
            }
        }
    }
    Ok(Image {
        bytes: b,
        format: "ELF",
        ranges,
        data: data.or(writable),
    })
}

fn pe(b: &[u8]) -> Result<Image<'_>, String> {
    let bad = |what: &str| format!("PE: {what}");
    let r = Reader { b, big: false };
    let pe = r.u32(0x3c).ok_or_else(|| bad("DOS header truncated"))? as usize;
    if b.get(pe..pe + 4) != Some(b"PE\0\0") {
        return Err(bad("no PE signature"));
    }
    let coff = pe + 4;
    let trunc = || bad("headers truncated");
    let nsect = r.u16(coff + 2).ok_or_else(trunc)? as usize;
    let optsize = r.u16(coff + 16).ok_or_else(trunc)? as usize;
    let opt = coff + 20;
    let image_base = match r.u16(opt).ok_or_else(trunc)? {
        0x10b => r.u32(opt + 28).map(u64::from),
        0x20b => r.u64(opt + 24),
        m => return Err(bad(&format!("unknown optional header magic {m:#x}"))),
    }
    .ok_or_else(trunc)?;
    let mut ranges = Vec::new();
    let mut data = None;
    for i in 0..nsect {
        let s = opt + optsize + i * 40;
        let (Some(vsize), Some(va), Some(rawsize), Some(rawptr), Some(chars)) = (
            r.u32(s + 8),
            r.u32(s + 12),
            r.u32(s + 16),
            r.u32(s + 20),
            r.u32(s + 36),
        ) else {
            return Err(bad("section table truncated"));
        };
        let addr = image_base.wrapping_add(u64::from(va));
        ranges.push(Range {
            addr,
            offset: u64::from(rawptr),
            size: u64::from(vsize.min(rawsize)),
        });
        // Go's rule: the first initialized, readable, writable data section.
        const WANT: u32 = 0x40 | 0x4000_0000 | 0x8000_0000;
        if data.is_none() && va != 0 && rawsize != 0 && chars & !0x0060_0000 == WANT {
            data = Some((addr, u64::from(vsize)));
        }
    }
    Ok(Image {
        bytes: b,
        format: "PE",
        ranges,
        data,
    })
}

fn macho(b: &[u8]) -> Result<Image<'_>, String> {
    let bad = |what: &str| format!("Mach-O: {what}");
    let (big, wide) = match b.get(..4) {
        Some([0xfe, 0xed, 0xfa, 0xce]) => (true, false),
        Some([0xfe, 0xed, 0xfa, 0xcf]) => (true, true),
        Some([0xce, 0xfa, 0xed, 0xfe]) => (false, false),
        Some([0xcf, 0xfa, 0xed, 0xfe]) => (false, true),
        _ => return Err(bad("unknown magic")),
    };
    let r = Reader { b, big };
    let ncmds = r.u32(16).ok_or_else(|| bad("header truncated"))?;
    let mut at = if wide { 32 } else { 28 };
    let mut ranges = Vec::new();
    let (mut section, mut segment) = (None, None);
    for _ in 0..ncmds {
        let (Some(cmd), Some(size)) = (r.u32(at), r.u32(at + 4)) else {
            return Err(bad("load commands truncated"));
        };
        if size < 8 {
            return Err(bad("load command of size < 8"));
        }
        let is_seg = (cmd == 0x19 && wide) || (cmd == 0x1 && !wide);
        if is_seg {
            let word = |o: usize| {
                if wide {
                    r.u64(o)
                } else {
                    r.u32(o).map(u64::from)
                }
            };
            let o = |w: usize, n: usize| at + if wide { w } else { n };
            let (Some(vmaddr), Some(vmsize), Some(fileoff), Some(filesize)) = (
                word(o(24, 24)),
                word(o(32, 28)),
                word(o(40, 32)),
                word(o(48, 36)),
            ) else {
                return Err(bad("segment truncated"));
            };
            let (Some(maxprot), Some(initprot), Some(nsects)) =
                (r.u32(o(56, 40)), r.u32(o(60, 44)), r.u32(o(64, 48)))
            else {
                return Err(bad("segment truncated"));
            };
            ranges.push(Range {
                addr: vmaddr,
                offset: fileoff,
                size: filesize.min(vmsize),
            });
            if segment.is_none() && vmaddr != 0 && filesize != 0 && initprot == 3 && maxprot == 3 {
                segment = Some((vmaddr, vmsize));
            }
            let (first, each) = if wide { (72, 80) } else { (56, 68) };
            for s in 0..nsects as usize {
                let s = at + first + s * each;
                let name = b.get(s..s + 16).ok_or_else(|| bad("section truncated"))?;
                if name.starts_with(b"__go_buildinfo") && section.is_none() {
                    let (Some(addr), Some(size)) =
                        (word(s + 32), word(s + if wide { 40 } else { 36 }))
                    else {
                        return Err(bad("section truncated"));
                    };
                    section = Some((addr, size));
                }
            }
        }
        at = at
            .checked_add(size as usize)
            .ok_or_else(|| bad("load commands overflow"))?;
    }
    Ok(Image {
        bytes: b,
        format: "Mach-O",
        ranges,
        data: section.or(segment),
    })
}

/// Bounds-checked integer reads in one byte order.
pub(crate) struct Reader<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) big: bool,
}

impl Reader<'_> {
    fn arr<const N: usize>(&self, o: usize) -> Option<[u8; N]> {
        self.b.get(o..o.checked_add(N)?)?.try_into().ok()
    }
    pub(crate) fn u16(&self, o: usize) -> Option<u16> {
        let a = self.arr(o)?;
        Some(if self.big {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
    pub(crate) fn u32(&self, o: usize) -> Option<u32> {
        let a = self.arr(o)?;
        Some(if self.big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    pub(crate) fn u64(&self, o: usize) -> Option<u64> {
        let a = self.arr(o)?;
        Some(if self.big {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }
}

fn be32(b: &[u8], o: usize) -> Option<u32> {
    Reader { b, big: true }.u32(o)
}

fn be64(b: &[u8], o: usize) -> Option<u64> {
    Reader { b, big: true }.u64(o)
}

fn to_usize(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// The NUL-terminated string at `offset`.
fn cstr(b: &[u8], offset: u64) -> Option<&[u8]> {
    let rest = b.get(to_usize(offset)?..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF header whose section or program headers lie at the very end of the address
    /// space is "truncated", not an overflow (found by fuzzing relkit-sbom's `elf` target: the
    /// `s + 24` of the section-name table's offset panicked with overflow checks on and read a
    /// wrapped offset without them).
    #[test]
    fn headers_at_the_end_of_the_address_space_are_truncated() {
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[0x28..0x30].copy_from_slice(&(u64::MAX - 10).to_le_bytes()); // e_shoff
        b[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        b[0x3c..0x3e].copy_from_slice(&1u16.to_le_bytes()); // e_shnum
        assert_eq!(parse(&b).unwrap_err(), "ELF: section names truncated");
        let mut b = vec![0u8; 64];
        b[..6].copy_from_slice(b"\x7fELF\x02\x01");
        b[0x20..0x28].copy_from_slice(&(u64::MAX - 3).to_le_bytes()); // e_phoff
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        assert!(parse(&b).unwrap_err().starts_with("ELF: program header"));
    }
}
