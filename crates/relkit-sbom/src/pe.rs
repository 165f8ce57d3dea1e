//! A small, bounds-checked PE/COFF reader: just what evidence scanning needs (the DLL names
//! of the import and delay-load import tables, and the VERSIONINFO resource).
//!
//! Written here instead of using `pelite` because pelite builds typed slices straight from
//! header offsets and is unsound on malformed input: our mutation test
//! (`tests/robustness.rs`) hit a misaligned `slice::from_raw_parts` inside it. Every read below
//! goes through `get`, which returns `None` past the end, so hostile files give errors.

/// Parsed view of a PE image.
pub struct Pe<'a> {
    data: &'a [u8],
    /// (virtual address, virtual size, raw offset, raw size) of each section.
    sections: Vec<(u32, u32, u32, u32)>,
    /// Data directories: (rva, size).
    dirs: Vec<(u32, u32)>,
    /// The preferred load address (`ImageBase`): old-style delay-load descriptors hold
    /// virtual addresses, not RVAs.
    image_base: u64,
}

/// Why a file is not a usable PE image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeError(pub String);

impl std::fmt::Display for PeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at.checked_add(2)?)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn err(msg: &str) -> PeError {
    PeError(msg.to_string())
}

impl<'a> Pe<'a> {
    /// Parses the headers and section table.
    pub fn parse(data: &'a [u8]) -> Result<Pe<'a>, PeError> {
        if u16_at(data, 0) != Some(0x5A4D) {
            return Err(err("no MZ signature"));
        }
        let nt = u32_at(data, 0x3C).ok_or_else(|| err("truncated DOS header"))? as usize;
        if u32_at(data, nt) != Some(0x0000_4550) {
            return Err(err(
                "no PE signature at e_lfanew (truncated or not a PE image)",
            ));
        }
        let coff = nt + 4;
        let nsections =
            u16_at(data, coff + 2).ok_or_else(|| err("truncated COFF header"))? as usize;
        let opt_size =
            u16_at(data, coff + 16).ok_or_else(|| err("truncated COFF header"))? as usize;
        let opt = coff + 20;
        let magic = u16_at(data, opt).ok_or_else(|| err("truncated optional header"))?;
        let (count_at, dirs_at) = match magic {
            0x10b => (opt + 92, opt + 96),
            0x20b => (opt + 108, opt + 112),
            _ => return Err(err("unknown optional header magic")),
        };
        let image_base = match magic {
            0x10b => u32_at(data, opt + 28).map(u64::from),
            _ => u32_at(data, opt + 24)
                .zip(u32_at(data, opt + 28))
                .map(|(lo, hi)| u64::from(lo) | (u64::from(hi) << 32)),
        }
        .ok_or_else(|| err("truncated optional header"))?;
        let ndirs = (u32_at(data, count_at).ok_or_else(|| err("truncated optional header"))?
            as usize)
            .min(16);
        let mut dirs = Vec::with_capacity(ndirs);
        for i in 0..ndirs {
            let at = dirs_at + i * 8;
            if at + 8 > opt + opt_size {
                break;
            }
            dirs.push((
                u32_at(data, at).ok_or_else(|| err("truncated data directories"))?,
                u32_at(data, at + 4).ok_or_else(|| err("truncated data directories"))?,
            ));
        }
        let table = opt + opt_size;
        let mut sections = Vec::with_capacity(nsections.min(96));
        for i in 0..nsections.min(96) {
            let s = table + i * 40;
            let field =
                |o: usize| u32_at(data, s + o).ok_or_else(|| err("truncated section table"));
            sections.push((field(12)?, field(8)?, field(20)?, field(16)?));
        }
        Ok(Pe {
            data,
            sections,
            dirs,
            image_base,
        })
    }

    /// The file bytes at a relative virtual address, up to `len` (clamped to the section).
    fn at_rva(&self, rva: u32, len: usize) -> Option<&'a [u8]> {
        let (va, _, raw, rsize) = *self.sections.iter().find(|(va, vs, _, rs)| {
            rva >= *va && u64::from(rva) < u64::from(*va) + u64::from((*vs).max(*rs))
        })?;
        let off = raw as usize + (rva - va) as usize;
        let end_of_section = (raw as usize)
            .checked_add(rsize as usize)?
            .min(self.data.len());
        if off >= end_of_section {
            return None;
        }
        Some(&self.data[off..off.saturating_add(len).min(end_of_section)])
    }

    fn c_string(&self, rva: u32) -> Option<String> {
        let b = self.at_rva(rva, 256)?;
        let end = b.iter().position(|&c| c == 0)?;
        std::str::from_utf8(&b[..end]).ok().map(str::to_string)
    }

    /// DLL names of the import table, in table order. An import table that leaves the image
    /// before its terminating null descriptor, has more than 1,024 descriptors, or names a DLL
    /// at an unreadable address is an error: a truncated list would hide dependencies.
    pub fn imports(&self) -> Result<Vec<String>, PeError> {
        let Some(&(rva, _)) = self.dirs.get(1) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if rva == 0 {
            return Ok(out);
        }
        for i in 0..1024u32 {
            let desc = self
                .at_rva(rva.saturating_add(i * 20), 20)
                .filter(|d| d.len() >= 20)
                .ok_or_else(|| {
                    err(&format!(
                        "import descriptor {i} at RVA {:#x} lies outside the image",
                        rva.saturating_add(i * 20)
                    ))
                })?;
            if desc.iter().all(|&b| b == 0) {
                return Ok(out);
            }
            let name_rva = u32_at(desc, 12).expect("20 bytes");
            let name = self.c_string(name_rva).ok_or_else(|| {
                err(&format!(
                    "import descriptor {i} names its DLL at RVA {name_rva:#x}, which is not \
                     a readable string"
                ))
            })?;
            out.push(name);
        }
        Err(err("more than 1024 import descriptors"))
    }

    /// DLL names of the delay-load import table (data directory 13: DLLs loaded on first
    /// call, as CPython's `_wmi.pyd` loads `ole32.dll`), in table order; damaged tables are
    /// errors as in [`Pe::imports`]. A descriptor without the RVA attribute (bit 0; Visual C++
    /// 6) holds a virtual address, made relative to the image base here.
    pub fn delay_imports(&self) -> Result<Vec<String>, PeError> {
        let Some(&(rva, _)) = self.dirs.get(13) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if rva == 0 {
            return Ok(out);
        }
        for i in 0..1024u32 {
            let at = rva.saturating_add(i * 32);
            let desc = self
                .at_rva(at, 32)
                .filter(|d| d.len() >= 32)
                .ok_or_else(|| {
                    err(&format!(
                        "delay-load import descriptor {i} at RVA {at:#x} lies outside the image"
                    ))
                })?;
            if desc.iter().all(|&b| b == 0) {
                return Ok(out);
            }
            let attributes = u32_at(desc, 0).expect("32 bytes");
            let raw = u32_at(desc, 4).expect("32 bytes");
            let name_rva = if attributes & 1 == 1 {
                Some(raw)
            } else {
                u64::from(raw)
                    .checked_sub(self.image_base)
                    .and_then(|r| u32::try_from(r).ok())
            };
            let name = name_rva.and_then(|r| self.c_string(r)).ok_or_else(|| {
                err(&format!(
                    "delay-load import descriptor {i} names its DLL at {raw:#x}, which is not \
                     a readable string"
                ))
            })?;
            out.push(name);
        }
        Err(err("more than 1024 delay-load import descriptors"))
    }

    /// The raw VS_VERSIONINFO resource (type 16, first name, first language).
    pub fn version_resource(&self) -> Option<&'a [u8]> {
        let &(root_rva, root_size) = self.dirs.get(2)?;
        let root = self.at_rva(root_rva, root_size as usize)?;
        let find = |dir_off: usize, want: Option<u32>| -> Option<u32> {
            let named = u16_at(root, dir_off + 12)? as usize;
            let ids = u16_at(root, dir_off + 14)? as usize;
            (0..(named + ids).min(4096)).find_map(|i| {
                let e = dir_off + 16 + i * 8;
                let name = u32_at(root, e)?;
                let target = u32_at(root, e + 4)?;
                match want {
                    Some(w) if name != w => None,
                    _ => Some(target),
                }
            })
        };
        let types = find(0, Some(16))?;
        let names = find((types & 0x7fff_ffff) as usize, None)?;
        let langs = find((names & 0x7fff_ffff) as usize, None)?;
        if langs & 0x8000_0000 != 0 {
            return None;
        }
        let entry = langs as usize;
        let data_rva = u32_at(root, entry)?;
        let size = u32_at(root, entry + 4)? as usize;
        self.at_rva(data_rva, size)
    }
}

/// The pieces of a VS_VERSIONINFO block: string table values and the fixed file version.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VersionStrings {
    /// `(key, value)` pairs of the first string table.
    pub strings: Vec<(String, String)>,
    /// VS_FIXEDFILEINFO file version, `a.b.c.d`.
    pub fixed_file_version: Option<String>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One version-resource block: key, value bytes, children.
type Block<'a> = (String, &'a [u8], Vec<&'a [u8]>);

/// Splits a version-resource block into key, value bytes and children.
fn block(d: &[u8]) -> Option<Block<'_>> {
    let len = (u16_at(d, 0)? as usize).min(d.len());
    let vlen = u16_at(d, 2)? as usize;
    let text = u16_at(d, 4)? == 1;
    let mut pos = 6;
    let mut key = Vec::new();
    loop {
        let c = u16_at(d, pos)?;
        pos += 2;
        if c == 0 {
            break;
        }
        key.push(c);
    }
    pos = align4(pos);
    let vbytes = if text { vlen * 2 } else { vlen };
    let value = d.get(pos..(pos + vbytes).min(len)).unwrap_or(&[]);
    pos = align4(pos + vbytes);
    let mut children = Vec::new();
    while pos + 6 <= len {
        let clen = u16_at(d, pos)? as usize;
        if clen == 0 {
            break;
        }
        children.push(d.get(pos..(pos + clen).min(len))?);
        pos = align4(pos + clen);
    }
    Some((String::from_utf16_lossy(&key), value, children))
}

/// Decodes a VS_VERSIONINFO resource.
pub fn parse_version_info(d: &[u8]) -> Option<VersionStrings> {
    let (key, value, children) = block(d)?;
    if key != "VS_VERSION_INFO" {
        return None;
    }
    let mut out = VersionStrings::default();
    if u32_at(value, 0) == Some(0xFEEF_04BD) {
        let ms = u32_at(value, 8)?;
        let ls = u32_at(value, 12)?;
        out.fixed_file_version = Some(format!(
            "{}.{}.{}.{}",
            ms >> 16,
            ms & 0xffff,
            ls >> 16,
            ls & 0xffff
        ));
    }
    for child in children {
        let Some((k, _, tables)) = block(child) else {
            continue;
        };
        if k != "StringFileInfo" {
            continue;
        }
        let Some(table) = tables.first() else {
            continue;
        };
        let Some((_, _, strings)) = block(table) else {
            continue;
        };
        for s in strings {
            if let Some((k, v, _)) = block(s) {
                let units: Vec<u16> = v
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                let v = String::from_utf16_lossy(&units)
                    .trim_end_matches('\0')
                    .trim()
                    .to_string();
                out.strings.push((k, v));
            }
        }
        break;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A damaged import table is an error, not a shorter list: on a real DLL (CPython's
    /// `_ssl.pyd`, which imports libcrypto, libssl, python313 and the C runtime), the table
    /// moved outside the image, and its first DLL name moved outside the image.
    #[test]
    fn a_damaged_import_table_is_an_error_not_a_shorter_list() {
        let bytes = std::fs::read(relkit_testkit::fixture("windows-embed-3.13/_ssl.pyd")).unwrap();
        let pe = Pe::parse(&bytes).unwrap();
        let names = pe.imports().unwrap();
        assert!(names.iter().any(|n| n == "libcrypto-3.dll"), "{names:?}");
        let mut moved = Pe::parse(&bytes).unwrap();
        moved.dirs[1].0 = 0x7fff_0000;
        let e = moved.imports().unwrap_err();
        assert!(e.to_string().contains("outside the image"), "{e}");
        // The first descriptor's name RVA (offset 12) pointed past the end of the image.
        let table = pe.dirs[1].0;
        let desc = pe.at_rva(table, 20).unwrap();
        let at = desc.as_ptr() as usize - bytes.as_ptr() as usize + 12;
        let mut damaged = bytes.clone();
        damaged[at..at + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        let e = Pe::parse(&damaged).unwrap().imports().unwrap_err();
        assert!(e.to_string().contains("not a readable string"), "{e}");
    }

    /// The import tables of every DLL and extension module of the real Windows wheels of
    /// psycopg2-binary, Pillow and lxml (delvewheel; `.ci/deps.d/59-macos-windows-wheels.sh`)
    /// and of CPython's embeddable 3.12 and 3.13 (`.ci/deps.d/61-cpython-embeddable.sh`) name
    /// the same DLLs, in the same order, as LLVM's `llvm-readobj --coff-imports` — its
    /// `Import` entries, and its `DelayImport` entries for the delay-load table (`_wmi.pyd`
    /// delay-loads `ole32.dll`).
    #[test]
    fn real_import_tables_read_as_llvm_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut checked = 0;
        let mut delayed = 0;
        for wheel in [
            "psycopg2_binary-2.9.13-cp313-cp313-win_amd64.whl",
            "pillow-12.2.0-cp313-cp313-win_amd64.whl",
            "lxml-6.2.0-cp311-cp311-win_amd64.whl",
            "cpython-embed/python-3.12-embed-amd64.zip",
            "cpython-embed/python-3.13-embed-amd64.zip",
        ] {
            let Some(path) = relkit_testkit::upstream_data(wheel) else {
                return;
            };
            let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
            for i in 0..z.len() {
                let mut f = z.by_index(i).unwrap();
                let name = f.name().unwrap().to_string();
                if !(name.ends_with(".dll") || name.ends_with(".pyd") || name.ends_with(".exe")) {
                    continue;
                }
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
                let pe = Pe::parse(&bytes).unwrap();
                let (ours, ours_delayed) = (pe.imports().unwrap(), pe.delay_imports().unwrap());
                let file = dir.path().join("module");
                std::fs::write(&file, &bytes).unwrap();
                let Some(out) = relkit_testkit::run_oracle(
                    "llvm-readobj",
                    &["--coff-imports", file.to_str().unwrap()],
                ) else {
                    return;
                };
                assert!(out.status.success(), "{name}");
                let text = String::from_utf8(out.stdout).unwrap();
                let lines: Vec<&str> = text.lines().map(str::trim).collect();
                let entries = |kind: &str| -> Vec<String> {
                    lines
                        .windows(2)
                        .filter(|w| w[0] == kind)
                        .filter_map(|w| w[1].strip_prefix("Name: ").map(str::to_string))
                        .collect()
                };
                // CPython's python3.dll only forwards to python3XX.dll: it imports nothing.
                let want = entries("Import {");
                assert!(
                    !want.is_empty() || name.ends_with("python3.dll"),
                    "{name}: {text}"
                );
                assert_eq!(ours, want, "{wheel}: {name}");
                assert_eq!(ours_delayed, entries("DelayImport {"), "{wheel}: {name}");
                delayed += ours_delayed.len();
                checked += 1;
            }
        }
        assert!(checked >= 15, "{checked}");
        assert!(delayed >= 2, "{delayed} delay-load imports compared");
    }
}
