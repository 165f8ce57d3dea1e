//! What an ELF file (shared library, executable) says about itself, read with the `object`
//! crate: its `DT_SONAME`, its `DT_NEEDED` libraries, the names of the symbols it exports
//! (defined, global or weak, default or protected visibility, in `.dynsym`), its GNU build-id,
//! the strings of its `.comment` section (compiler banners) and the NUL-terminated strings of
//! its `.rodata` section with their file offsets. The binary rules (`relkit_ident::libraries`,
//! `symbols` + `rodata`) use the last two: a bare version string such as `"1.5.7"` counts only
//! in a file that exports the library's own API.
//!
//! A malformed file is an [`ElfError`] naming what could not be read; no input panics (tested
//! on every prefix and on byte-flipped copies of real libraries).

use std::collections::BTreeSet;

use object::read::elf::{ElfFile, FileHeader, SectionHeader, Sym};
use object::{Endianness, Object, elf};

/// Why an ELF file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable ELF file: {what}: {reason}")]
pub struct ElfError {
    /// The part that could not be read (`header`, `dynamic section`, `.rodata`, …).
    pub what: &'static str,
    /// The parser's reason.
    pub reason: String,
}

/// One NUL-terminated string of `.rodata`: the run of printable ASCII characters (and tabs,
/// as GNU `strings` counts them) that ends at a NUL byte. The linker may place a string right
/// after other constant data with no NUL between them (pcre's `"8.32 2012-11-30"` follows a
/// jump table), so a string starts after the last non-printable byte before it; printable
/// bytes of that data may still stand before it (`"333?1.5.3-0-gb546257"`: a float, then
/// dav1d's version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RodataString {
    /// Byte offset of the string's first byte in the file.
    pub offset: u64,
    /// The string.
    pub text: String,
}

/// What [`read`] learned about one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfInfo {
    /// Whether the file is 64-bit.
    pub is_64: bool,
    /// `DT_SONAME`, when the file has one (a shared library's link name; its number is the
    /// ABI version, never the release version).
    pub soname: Option<String>,
    /// `DT_NEEDED` entries, in file order.
    pub needed: Vec<String>,
    /// Names of the exported dynamic symbols (defined, global or weak, visible).
    pub exports: BTreeSet<String>,
    /// GNU build-id (`NT_GNU_BUILD_ID` note), lowercase hex.
    pub build_id: Option<String>,
    /// Non-empty NUL-terminated strings of `.comment` (e.g. `GCC: (GNU) 14.2.1 …`).
    pub comment: Vec<String>,
    /// Non-empty NUL-terminated strings of `.rodata`, in file order.
    pub rodata: Vec<RodataString>,
}

/// Whether `bytes` start with the ELF magic.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Reads an ELF file (32- or 64-bit, either byte order).
pub fn read(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    // e_ident[EI_CLASS] (byte 4): 1 = ELFCLASS32, 2 = ELFCLASS64.
    match bytes.get(4) {
        Some(1) => read_as::<elf::FileHeader32<Endianness>>(bytes, false),
        Some(2) => read_as::<elf::FileHeader64<Endianness>>(bytes, true),
        Some(c) => Err(ElfError {
            what: "header",
            reason: format!("unknown ELF class {c}"),
        }),
        None => Err(ElfError {
            what: "header",
            reason: "file shorter than the ELF identification".into(),
        }),
    }
}

fn err(what: &'static str) -> impl Fn(object::read::Error) -> ElfError {
    move |e| ElfError {
        what,
        reason: e.to_string(),
    }
}

fn read_as<Elf: FileHeader<Endian = Endianness>>(
    bytes: &[u8],
    is_64: bool,
) -> Result<ElfInfo, ElfError> {
    let file = ElfFile::<Elf, &[u8]>::parse(bytes).map_err(err("headers"))?;
    let endian = file.endian();
    let mut info = ElfInfo {
        is_64,
        ..ElfInfo::default()
    };

    let dynamic = file.elf_dynamic_table().map_err(err("dynamic section"))?;
    for d in dynamic.iter() {
        if d.tag == elf::DT_NEEDED || d.tag == elf::DT_SONAME {
            let name = d
                .string(dynamic.strings())
                .map_err(err("dynamic string table"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            if d.tag == elf::DT_NEEDED {
                info.needed.push(name);
            } else {
                info.soname = Some(name);
            }
        }
    }

    let dynsym = file.elf_dynamic_symbol_table();
    for sym in dynsym.iter() {
        let visible = matches!(sym.st_visibility(), elf::STV_DEFAULT | elf::STV_PROTECTED);
        let global = matches!(sym.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK);
        if sym.is_undefined(endian) || !visible || !global {
            continue;
        }
        let name = sym
            .name(endian, dynsym.strings())
            .map_err(err("dynamic symbol names"))?;
        if !name.is_empty() {
            info.exports
                .insert(String::from_utf8_lossy(name).into_owned());
        }
    }

    info.build_id = file
        .build_id()
        .map_err(err("GNU build-id note"))?
        .map(hex::encode);

    let sections = file.elf_section_table();
    if let Some((_, comment)) = sections.section_by_name(endian, b".comment") {
        let data = comment.data(endian, bytes).map_err(err(".comment"))?;
        info.comment = nul_strings(data, 0).map(|s| s.text).collect();
    }
    if let Some((_, rodata)) = sections.section_by_name(endian, b".rodata")
        && rodata.sh_type(endian) != elf::SHT_NOBITS
    {
        let data = rodata.data(endian, bytes).map_err(err(".rodata"))?;
        info.rodata = nul_strings(data, rodata.sh_offset(endian).into()).collect();
    }
    Ok(info)
}

/// The non-empty [`RodataString`]s of `data`: printable runs that end at a NUL (a trailing
/// run without its NUL is no C string and is left out), `base` being the file offset of `data`.
pub(crate) fn nul_strings(data: &[u8], base: u64) -> impl Iterator<Item = RodataString> + '_ {
    let printable = |b: u8| b == b'\t' || (0x20..0x7f).contains(&b);
    let mut end = 0usize;
    let terminated = data.iter().rposition(|&b| b == 0).map_or(0, |i| i + 1);
    data[..terminated].split(|&b| b == 0).filter_map(move |s| {
        let seg_start = end;
        end += s.len() + 1;
        let tail = s.iter().rposition(|&b| !printable(b)).map_or(0, |i| i + 1);
        if tail == s.len() {
            return None;
        }
        Some(RodataString {
            offset: base + (seg_start + tail) as u64,
            text: String::from_utf8_lossy(&s[tail..]).into_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_strings_have_their_offsets() {
        let got: Vec<(u64, String)> = nul_strings(b"\0\0abc\0\xff\xfe\0\x14\xffx\0tail", 100)
            .map(|s| (s.offset, s.text))
            .collect();
        assert_eq!(got, vec![(102, "abc".to_string()), (111, "x".to_string())]);
    }

    const PILLOW: &str = "pillow-12.2.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";

    /// The vendored library of the real Pillow wheel whose name starts with `prefix`.
    fn pillow_lib(prefix: &str) -> Option<(String, Vec<u8>)> {
        let wheel = relkit_testkit::upstream_data(PILLOW)?;
        let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
        let name = z
            .file_names()
            .map(|n| n.unwrap().to_string())
            .find(|n| n.starts_with(&format!("pillow.libs/{prefix}-")))
            .unwrap_or_else(|| panic!("{prefix} in {PILLOW}"));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut z.by_name(&name).unwrap(), &mut bytes).unwrap();
        Some((name, bytes))
    }

    /// SONAME, NEEDED, build-id, the exported symbols and `.rodata`'s strings of the real
    /// libzstd and liblzma of the Pillow wheel, against binutils' readelf, nm and objcopy.
    #[test]
    fn real_libraries_read_as_binutils_reads_them() {
        for prefix in ["libzstd", "liblzma", "libXau"] {
            let Some((name, bytes)) = pillow_lib(prefix) else {
                return;
            };
            let dir = tempfile::tempdir().unwrap();
            let so = dir.path().join("lib.so");
            std::fs::write(&so, &bytes).unwrap();
            let so_s = so.to_str().unwrap();
            let info = read(&bytes).unwrap();
            assert!(info.is_64);

            let Some(out) = relkit_testkit::run_oracle("readelf", &["-d", "-n", "-W", so_s]) else {
                return;
            };
            let text = String::from_utf8(out.stdout).unwrap();
            let bracketed = |tag: &str| -> Vec<String> {
                text.lines()
                    .filter(|l| l.contains(tag))
                    .filter_map(|l| Some(l.split_once('[')?.1.split_once(']')?.0.to_string()))
                    .collect()
            };
            assert_eq!(info.needed, bracketed("(NEEDED)"), "{name}");
            assert_eq!(
                info.soname.iter().cloned().collect::<Vec<_>>(),
                bracketed("(SONAME)"),
                "{name}"
            );
            let build_id = text
                .lines()
                .find_map(|l| l.split_once("Build ID: "))
                .map(|(_, id)| id.trim().to_string());
            assert!(build_id.is_some(), "{name}: {text}");
            assert_eq!(info.build_id, build_id, "{name}");

            let Some(out) =
                relkit_testkit::run_oracle("nm", &["-D", "--defined-only", "--format=posix", so_s])
            else {
                return;
            };
            let exports: BTreeSet<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let (sym, kind) = (f.next()?, f.next()?);
                    // Global (upper-case) or weak (V/W) definitions; nm prints versioned
                    // names as `name@@VERSION`.
                    let global = kind.chars().all(|c| c.is_ascii_uppercase());
                    global.then(|| sym.split('@').next().unwrap().to_string())
                })
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(info.exports, exports, "{name}");

            let ro = dir.path().join("rodata.bin");
            let Some(out) = relkit_testkit::run_oracle(
                "objcopy",
                &[
                    "-O",
                    "binary",
                    "--only-section=.rodata",
                    so_s,
                    ro.to_str().unwrap(),
                ],
            ) else {
                return;
            };
            assert!(out.status.success());
            let raw = std::fs::read(&ro).unwrap();
            // GNU strings' printable runs (any length) of the section that end at a NUL.
            let Some(out) = relkit_testkit::run_oracle(
                "strings",
                &["-a", "-n", "1", "-t", "d", ro.to_str().unwrap()],
            ) else {
                return;
            };
            let want: Vec<String> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .filter_map(|l| {
                    let (at, text) = l.trim_start().split_once(' ')?;
                    let at: usize = at.parse().ok()?;
                    (raw.get(at + text.len()) == Some(&0)).then(|| text.to_string())
                })
                .collect();
            let got: Vec<String> = info.rodata.iter().map(|s| s.text.clone()).collect();
            assert_eq!(got, want, "{name}");
            for s in &info.rodata {
                let at = usize::try_from(s.offset).unwrap();
                assert_eq!(&bytes[at..at + s.text.len()], s.text.as_bytes(), "{name}");
                assert_eq!(bytes[at + s.text.len()], 0, "{name}");
            }
        }
    }

    /// Every prefix of a small real library and 2,000 copies of it with bytes flipped (fixed
    /// seed) are read without a panic: each is an [`ElfInfo`] or an [`ElfError`].
    #[test]
    fn truncated_and_garbled_real_libraries_never_panic() {
        let Some((_, bytes)) = pillow_lib("libXau") else {
            return;
        };
        assert!(bytes.len() < 40_000, "libXau is small");
        let mut errors = 0;
        for n in 0..bytes.len() {
            errors += usize::from(read(&bytes[..n]).is_err());
        }
        assert!(errors > 0);
        crate::garble::flipped_copies(&bytes, 4096, 2000, |copy| {
            let _ = read(copy);
            let _ = crate::binary::scan_bytes("garbled.so", copy);
        });
    }

    /// The real libzstd gives zstd 1.5.7 from its `.rodata` with the string's offset and the
    /// symbol; with a second bare version written into another of its `.rodata` strings it
    /// gives no version and says why (ambiguous), naming both strings.
    #[test]
    fn a_second_bare_version_makes_the_rule_ambiguous() {
        let Some((name, mut bytes)) = pillow_lib("libzstd") else {
            return;
        };
        let scan = crate::binary::scan_bytes(&name, &bytes).unwrap();
        let hit = scan.hits.iter().find(|h| h.component == "zstd").unwrap();
        assert_eq!(hit.version, "1.5.7");
        assert_eq!(hit.evidence.method, "elf-rodata");
        let at = usize::try_from(hit.evidence.offset.unwrap()).unwrap();
        assert_eq!(&bytes[at..at + 6], b"1.5.7\0");
        assert!(
            hit.evidence.text.contains("exporting ZSTD_versionString"),
            "{}",
            hit.evidence.text
        );
        assert!(scan.notes.is_empty(), "{:?}", scan.notes);

        let other = read(&bytes)
            .unwrap()
            .rodata
            .into_iter()
            .find(|s| s.text == "Version not supported")
            .unwrap();
        let at = usize::try_from(other.offset).unwrap();
        bytes[at..at + 6].copy_from_slice(b"9.9.9\0");
        let scan = crate::binary::scan_bytes(&name, &bytes).unwrap();
        assert!(
            scan.hits.iter().all(|h| h.component != "zstd"),
            "{:?}",
            scan.hits
        );
        assert_eq!(scan.notes.len(), 1, "{:?}", scan.notes);
        let note = &scan.notes[0];
        assert!(
            note.contains("ambiguous") && note.contains("\"1.5.7\"") && note.contains("\"9.9.9\""),
            "{note}"
        );
    }

    #[test]
    fn short_and_unknown_class_files_are_errors() {
        assert_eq!(read(b"\x7fEL").unwrap_err().what, "header");
        assert_eq!(read(b"\x7fELF\x07").unwrap_err().what, "header");
        assert!(read(b"\x7fELF\x02\x01\x01").is_err());
    }
}
