//! What a Mach-O file (a macOS `.dylib`, bundle or executable; thin 32- or 64-bit, or a fat /
//! universal2 file holding several architectures) says about itself, read with the `object`
//! crate, slice by slice: the names of the symbols it exports (from the exports trie or, when
//! there is none, the external defined symbols of the symbol table), the NUL-terminated strings
//! of its `__TEXT,__cstring` and `__TEXT,__const` sections (where a C compiler puts string
//! literals and constant arrays: the equivalent of ELF's `.rodata`) with their file offsets,
//! its `LC_ID_DYLIB` (install name, current and compatibility version) and the libraries it
//! loads (`LC_LOAD_DYLIB`, `LC_LOAD_WEAK_DYLIB`, `LC_REEXPORT_DYLIB`, …).
//!
//! C symbol names carry a leading `_` in Mach-O (`_ZSTD_versionString`); [`MachoSlice::exports`]
//! holds them without it, so the binary rules' `symbols` (`ZSTD_versionString`) apply to
//! `.dylib`s as they do to ELF libraries.
//!
//! The install name's number and `current_version` are ABI numbers the library's build chose
//! (`libz.1.dylib` 1.3.1 is zlib-ng 2.x in compat mode; `libcurl.4.dylib` is curl 8.x): they
//! are evidence about the file, never a release version.
//!
//! A malformed file is a [`MachoError`] naming what could not be read; no input panics
//! (tested on every prefix and on byte-flipped copies of real libraries).

use std::collections::BTreeSet;

use object::macho;
use object::read::macho::{FatArch, MachHeader, MachOFatFile32, MachOFatFile64, MachOFile};
use object::{Endianness, Object, ObjectSection};

use crate::elf::RodataString;

/// Why a Mach-O file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable Mach-O file: {what}: {reason}")]
pub struct MachoError {
    /// The part that could not be read (`header`, `fat header`, `load commands`, …), with the
    /// slice's architecture in a fat file.
    pub what: String,
    /// The parser's reason.
    pub reason: String,
}

/// A dylib load command's library: its install name and its two versions as written
/// (`current_version`, `compatibility_version`: `X.Y.Z`, packed in 16.8.8 bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dylib {
    /// The install name (`@rpath/libz.1.dylib`, `/usr/lib/libSystem.B.dylib`).
    pub name: String,
    /// `current_version`, `X.Y.Z` (an ABI number, never a release version).
    pub current_version: String,
    /// `compatibility_version`, `X.Y.Z`.
    pub compatibility_version: String,
}

/// What [`read`] learned about one architecture of a Mach-O file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachoSlice {
    /// The architecture (`x86_64`, `arm64`, `i386`, …, or `cputype N` when unknown).
    pub arch: String,
    /// Whether the slice is 64-bit.
    pub is_64: bool,
    /// Names of the exported symbols, one leading `_` removed (`ZSTD_versionString`).
    pub exports: BTreeSet<String>,
    /// Non-empty NUL-terminated strings of `__TEXT,__cstring` and `__TEXT,__const`, in file
    /// order per section, with offsets in the whole (possibly fat) file.
    pub strings: Vec<RodataString>,
    /// The sections the strings were read from: name (`__cstring`, `__const`) and file range
    /// (start, end) in the whole file.
    pub string_sections: Vec<(&'static str, u64, u64)>,
    /// `LC_ID_DYLIB`, when the slice is a dynamic library.
    pub id: Option<Dylib>,
    /// The libraries the slice loads (`LC_LOAD_DYLIB` and its weak, re-export, lazy and
    /// upward variants), in load-command order.
    pub loads: Vec<Dylib>,
}

impl MachoSlice {
    /// The `__TEXT` section (`__cstring`, `__const`) holding the file offset `at`.
    pub fn section_at(&self, at: u64) -> Option<&'static str> {
        self.string_sections
            .iter()
            .find(|(_, start, end)| (*start..*end).contains(&at))
            .map(|(name, _, _)| *name)
    }
}

/// What [`read`] learned about one Mach-O file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachoInfo {
    /// Whether the file is a fat (universal) file.
    pub fat: bool,
    /// Its architectures: one for a thin file, each slice of a fat file in header order.
    pub slices: Vec<MachoSlice>,
}

const FAT_MAGIC: u32 = 0xcafe_babe;
const FAT_MAGIC_64: u32 = 0xcafe_babf;

/// Whether `bytes` start with a Mach-O magic: thin 32/64-bit in either byte order, or fat. A
/// fat magic `CAFEBABE` is also a Java class file's; as `file(1)` does, it counts as Mach-O
/// only with fewer than 20 architectures (a class file has its major version, ≥ 45, there).
pub fn is_macho(bytes: &[u8]) -> bool {
    let Some(head) = bytes.get(..4) else {
        return false;
    };
    let magic = u32::from_be_bytes(head.try_into().expect("4 bytes"));
    match magic {
        macho::MH_MAGIC | macho::MH_CIGAM | macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => true,
        FAT_MAGIC | FAT_MAGIC_64 => bytes
            .get(4..8)
            .is_some_and(|n| u32::from_be_bytes(n.try_into().expect("4 bytes")) < 20),
        _ => false,
    }
}

/// Reads a Mach-O file: a thin file, or each slice of a fat file.
pub fn read(bytes: &[u8]) -> Result<MachoInfo, MachoError> {
    let head: [u8; 4] = bytes
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| MachoError {
            what: "header".into(),
            reason: "file shorter than the Mach-O magic".into(),
        })?;
    match u32::from_be_bytes(head) {
        FAT_MAGIC => {
            let fat = MachOFatFile32::parse(bytes).map_err(err("fat header".into()))?;
            read_fat(bytes, fat.arches())
        }
        FAT_MAGIC_64 => {
            let fat = MachOFatFile64::parse(bytes).map_err(err("fat header".into()))?;
            read_fat(bytes, fat.arches())
        }
        _ => Ok(MachoInfo {
            fat: false,
            slices: vec![read_slice(bytes, 0, None)?],
        }),
    }
}

fn err(what: String) -> impl Fn(object::read::Error) -> MachoError {
    move |e| MachoError {
        what: what.clone(),
        reason: e.to_string(),
    }
}

fn read_fat<A: FatArch>(bytes: &[u8], arches: &[A]) -> Result<MachoInfo, MachoError> {
    if arches.is_empty() {
        return Err(MachoError {
            what: "fat header".into(),
            reason: "no architecture".into(),
        });
    }
    let mut info = MachoInfo {
        fat: true,
        slices: Vec::new(),
    };
    for a in arches {
        let arch = arch_name(a.cputype());
        let data = a.data(bytes).map_err(err(format!("{arch} slice")))?;
        info.slices
            .push(read_slice(data, a.offset().into(), Some(&arch))?);
    }
    Ok(info)
}

/// The usual name of a Mach-O CPU type.
fn arch_name(cputype: macho::CpuType) -> String {
    [
        (macho::CPU_TYPE_X86_64, "x86_64"),
        (macho::CPU_TYPE_X86, "i386"),
        (macho::CPU_TYPE_ARM64, "arm64"),
        (macho::CPU_TYPE_ARM64_32, "arm64_32"),
        (macho::CPU_TYPE_ARM, "arm"),
        (macho::CPU_TYPE_POWERPC, "ppc"),
        (macho::CPU_TYPE_POWERPC64, "ppc64"),
    ]
    .iter()
    .find(|(t, _)| *t == cputype)
    .map_or_else(
        || format!("cputype {}", cputype.0),
        |(_, n)| (*n).to_string(),
    )
}

/// Reads one thin Mach-O image; `base` is its offset in the whole file, `arch` its name in a
/// fat header (for error messages).
fn read_slice(data: &[u8], base: u64, arch: Option<&str>) -> Result<MachoSlice, MachoError> {
    let at = |what: &str| match arch {
        Some(a) => format!("{a} slice: {what}"),
        None => what.to_string(),
    };
    let magic = data
        .get(..4)
        .map(|h| u32::from_be_bytes(h.try_into().expect("4 bytes")));
    match magic {
        Some(macho::MH_MAGIC_64 | macho::MH_CIGAM_64) => {
            read_as::<macho::MachHeader64<Endianness>>(data, base, true, &at)
        }
        Some(macho::MH_MAGIC | macho::MH_CIGAM) => {
            read_as::<macho::MachHeader32<Endianness>>(data, base, false, &at)
        }
        _ => Err(MachoError {
            what: at("header"),
            reason: "no thin Mach-O magic".into(),
        }),
    }
}

fn read_as<Mach: MachHeader<Endian = Endianness>>(
    data: &[u8],
    base: u64,
    is_64: bool,
    at: &dyn Fn(&str) -> String,
) -> Result<MachoSlice, MachoError> {
    let file = MachOFile::<Mach, &[u8]>::parse(data).map_err(err(at("headers")))?;
    let endian = file.endian();
    let mut slice = MachoSlice {
        arch: arch_name(file.macho_header().cputype(endian)),
        is_64,
        ..MachoSlice::default()
    };

    let mut commands = file
        .macho_load_commands()
        .map_err(err(at("load commands")))?;
    while let Some(command) = commands.next().map_err(err(at("load commands")))? {
        let dylib = if command.cmd() == macho::LC_ID_DYLIB {
            Some(
                command
                    .data::<macho::DylibCommand<Endianness>>()
                    .map_err(err(at("LC_ID_DYLIB")))?,
            )
        } else {
            command.dylib().map_err(err(at("dylib load command")))?
        };
        let Some(d) = dylib else {
            continue;
        };
        let name = command
            .string(endian, d.dylib.name)
            .map_err(err(at("dylib name")))?;
        let dylib = Dylib {
            name: String::from_utf8_lossy(name).into_owned(),
            current_version: packed_version(d.dylib.current_version.get(endian).0),
            compatibility_version: packed_version(d.dylib.compatibility_version.get(endian).0),
        };
        if command.cmd() == macho::LC_ID_DYLIB {
            slice.id = Some(dylib);
        } else {
            slice.loads.push(dylib);
        }
    }

    for e in file.exports().map_err(err(at("exports")))? {
        let e = e.map_err(err(at("exports")))?;
        let object::read::NameOrOrdinal::Name(name) = e.name() else {
            continue;
        };
        let name = name.strip_prefix(b"_").unwrap_or(name);
        if !name.is_empty() {
            slice
                .exports
                .insert(String::from_utf8_lossy(name).into_owned());
        }
    }

    for section in file.sections() {
        let segment = section.segment_name_bytes().map_err(err(at("sections")))?;
        let name = section.name_bytes().map_err(err(at("sections")))?;
        if segment != Some(b"__TEXT".as_slice()) || !matches!(name, b"__cstring" | b"__const") {
            continue;
        }
        // A zero-fill section has no file range and no strings.
        let Some((offset, size)) = section.file_range() else {
            continue;
        };
        let bytes = section.data().map_err(err(at("__TEXT section data")))?;
        let name = if name == b"__cstring" {
            "__cstring"
        } else {
            "__const"
        };
        slice
            .string_sections
            .push((name, base + offset, base + offset + size));
        slice
            .strings
            .extend(crate::elf::nul_strings(bytes, base + offset));
    }
    Ok(slice)
}

/// `X.Y.Z` of a dylib version packed as 16.8.8 bits.
fn packed_version(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_versions_unpack() {
        assert_eq!(packed_version(0x0001_0301), "1.3.1");
        assert_eq!(packed_version(0x000c_0000), "12.0.0");
    }

    #[test]
    fn java_classes_are_not_fat_files() {
        // CAFEBABE, minor 0, major 61 (Java 17).
        assert!(!is_macho(b"\xca\xfe\xba\xbe\x00\x00\x00\x3d"));
        assert!(is_macho(b"\xca\xfe\xba\xbe\x00\x00\x00\x02"));
        assert!(is_macho(b"\xcf\xfa\xed\xfe"));
        assert!(!is_macho(b"\xcf\xfa"));
    }

    const PILLOW_ARM64: &str = "pillow-12.2.0-cp313-cp313-macosx_11_0_arm64.whl";
    const PILLOW_X86_64: &str = "pillow-12.2.0-cp313-cp313-macosx_10_13_x86_64.whl";
    const LXML_UNIVERSAL2: &str = "lxml-6.2.0-cp311-cp311-macosx_10_9_universal2.whl";

    /// The member of a real macOS wheel (`.ci/deps.d/59-macos-windows-wheels.sh`) whose name
    /// starts with `prefix`.
    pub(crate) fn wheel_member(wheel: &str, prefix: &str) -> Option<(String, Vec<u8>)> {
        let path = relkit_testkit::upstream_data(wheel)?;
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let name = z
            .file_names()
            .map(|n| n.unwrap().to_string())
            .find(|n| n.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {wheel}"));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut z.by_name(&name).unwrap(), &mut bytes).unwrap();
        Some((name, bytes))
    }

    /// What LLVM's tools say about one architecture of a Mach-O file: the exported symbols
    /// (`llvm-nm --extern-only --defined-only`), `LC_ID_DYLIB` and the loaded dylibs with
    /// their versions (`llvm-objdump --macho --dylib-id` / `--dylibs-used`).
    fn llvm_view(path: &str, arch: &str) -> Option<(BTreeSet<String>, Vec<String>)> {
        let arch = format!("--arch={arch}");
        let out = relkit_testkit::run_oracle(
            "llvm-nm",
            &[
                "--extern-only",
                "--defined-only",
                "--just-symbol-name",
                &arch,
                path,
            ],
        )?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exports = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty() && !l.ends_with(':'))
            .map(|l| l.strip_prefix('_').unwrap_or(l).to_string())
            .collect();
        let out =
            relkit_testkit::run_oracle("llvm-objdump", &["--macho", "--dylibs-used", &arch, path])?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dylibs = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix('\t'))
            .map(str::to_string)
            .collect();
        Some((exports, dylibs))
    }

    /// `name (compatibility version C, current version V)` as LLVM prints a dylib.
    fn llvm_line(d: &Dylib) -> String {
        format!(
            "{} (compatibility version {}, current version {})",
            d.name, d.compatibility_version, d.current_version
        )
    }

    /// Thin arm64 and x86_64 dylibs of the real Pillow wheels and both slices of lxml's
    /// universal2 `etree` module: exports, `LC_ID_DYLIB` and `LC_LOAD_DYLIB`s equal LLVM's
    /// reading; every string is at its offset in the whole file and ends at a NUL.
    #[test]
    fn real_dylibs_read_as_llvm_reads_them() {
        let mut cases = Vec::new();
        for (wheel, arch) in [(PILLOW_ARM64, "arm64"), (PILLOW_X86_64, "x86_64")] {
            for lib in ["libz.", "liblzma.", "libpng16.", "libXau."] {
                let Some(m) = wheel_member(wheel, &format!("PIL/.dylibs/{lib}")) else {
                    return;
                };
                cases.push((m, vec![arch]));
            }
        }
        let Some(m) = wheel_member(LXML_UNIVERSAL2, "lxml/etree.") else {
            return;
        };
        cases.push((m, vec!["x86_64", "arm64"]));
        let dir = tempfile::tempdir().unwrap();
        for ((name, bytes), arches) in cases {
            let path = dir.path().join("file");
            std::fs::write(&path, &bytes).unwrap();
            let path = path.to_str().unwrap();
            assert!(is_macho(&bytes), "{name}");
            let info = read(&bytes).unwrap();
            assert_eq!(info.fat, arches.len() > 1, "{name}");
            let got: Vec<&str> = info.slices.iter().map(|s| s.arch.as_str()).collect();
            assert_eq!(got, arches, "{name}");
            for slice in &info.slices {
                let Some((exports, dylibs)) = llvm_view(path, &slice.arch) else {
                    return;
                };
                assert!(!exports.is_empty(), "{name}");
                assert_eq!(slice.exports, exports, "{name} {}", slice.arch);
                let ours: Vec<String> =
                    slice.id.iter().chain(&slice.loads).map(llvm_line).collect();
                assert_eq!(ours, dylibs, "{name} {}", slice.arch);
                assert_eq!(slice.id.is_some(), name.contains(".dylibs/"), "{name}");
                assert!(slice.strings.len() > 3, "{name}");
                for s in &slice.strings {
                    assert!(slice.section_at(s.offset).is_some(), "{name}: {s:?}");
                    let at = usize::try_from(s.offset).unwrap();
                    assert_eq!(&bytes[at..at + s.text.len()], s.text.as_bytes(), "{name}");
                    assert_eq!(bytes[at + s.text.len()], 0, "{name}");
                }
            }
        }
    }

    /// lxml's universal2 etree module: libxml2 2.14.6 is read from both slices (they agree,
    /// one hit naming both); with the arm64 slice's `"21406"` changed to `"21407"` the slices
    /// disagree and no version is reported, the note naming both versions and architectures.
    #[test]
    fn slices_that_disagree_make_the_rule_ambiguous() {
        let Some((name, mut bytes)) = wheel_member(LXML_UNIVERSAL2, "lxml/etree.") else {
            return;
        };
        let scan = crate::binary::scan_bytes(&name, &bytes).unwrap();
        let hit = scan.hits.iter().find(|h| h.component == "libxml2").unwrap();
        assert_eq!(hit.version, "2.14.6");
        assert_eq!(hit.evidence.method, "macho-text-string");
        assert!(
            hit.evidence.text.contains("in the x86_64 and arm64 slices"),
            "{}",
            hit.evidence.text
        );
        let info = read(&bytes).unwrap();
        let arm = info.slices.iter().find(|s| s.arch == "arm64").unwrap();
        let at = arm
            .strings
            .iter()
            .find(|s| s.text == "21406")
            .unwrap()
            .offset;
        let at = usize::try_from(at).unwrap();
        bytes[at..at + 6].copy_from_slice(b"21407\0");
        let scan = crate::binary::scan_bytes(&name, &bytes).unwrap();
        assert!(
            scan.hits.iter().all(|h| h.component != "libxml2"),
            "{:?}",
            scan.hits
        );
        let note = scan
            .notes
            .iter()
            .find(|n| n.contains("libxml2"))
            .unwrap_or_else(|| panic!("{:?}", scan.notes));
        assert!(
            note.contains("disagree")
                && note.contains("2.14.6 in x86_64")
                && note.contains("2.14.7 in arm64"),
            "{note}"
        );
    }

    /// Every prefix of a small real dylib (and of the first 64 KiB of a fat file) and 2,000
    /// copies of each with bytes flipped (fixed seed) are read without a panic, and so are they
    /// by the binary scanner: each is a [`MachoInfo`] or an error.
    #[test]
    fn truncated_and_garbled_real_dylibs_never_panic() {
        let Some((_, thin)) = wheel_member(PILLOW_ARM64, "PIL/.dylibs/libXau.") else {
            return;
        };
        let Some((_, fat)) = wheel_member(LXML_UNIVERSAL2, "lxml/builder.") else {
            return;
        };
        assert!(thin.len() < 100_000, "libXau is small");
        let mut errors = 0;
        for n in 0..thin.len() {
            errors += usize::from(read(&thin[..n]).is_err());
        }
        for n in 0..fat.len().min(65_536) {
            errors += usize::from(read(&fat[..n]).is_err());
        }
        assert!(errors > 0);
        for bytes in [&thin, &fat] {
            crate::garble::flipped_copies(bytes, 8192, 2000, |copy| {
                let _ = read(copy);
                let _ = crate::binary::scan_bytes("garbled.dylib", copy);
            });
        }
    }

    #[test]
    fn short_and_empty_files_are_errors() {
        assert!(read(b"").is_err());
        assert!(read(b"\xcf\xfa\xed\xfe").is_err());
        let err = read(b"\xca\xfe\xba\xbe\x00\x00\x00\x00").unwrap_err();
        assert_eq!(err.reason, "no architecture");
        assert!(read(b"\xca\xfe\xba\xbe\x00\x00\x00\x01").is_err());
    }
}
