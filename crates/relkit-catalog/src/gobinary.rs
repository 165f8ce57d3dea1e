//! Go binaries: the build information the Go linker embeds (`runtime/debug.BuildInfo`, what
//! `go version -m` prints), read from ELF, PE and Mach-O (thin or fat) executables.
//!
//! The blob starts with the 14-byte magic `\xff Go buildinf:` at a 16-byte boundary of the
//! data region Go's `debug/buildinfo` looks in (ELF: the `.go.buildinfo` section, else the
//! first writable non-executable `PT_LOAD` segment; PE: the first initialized read-write data
//! section; Mach-O: the `__go_buildinfo` section, else the first read-write segment) —
//! searched there only, not in the whole file, because any program that reads Go build info
//! (Go's own tools, Trivy, relkit) carries the magic as a string constant elsewhere.
//! Both layouts are read: Go 1.18+ writes the version and module strings inline
//! (varint-length-prefixed, flag bit 2); Go 1.13–1.17 writes two pointers to Go string
//! headers, followed through the executable's address map (pointer size and byte order from
//! the header). Go before 1.13 and binaries built outside module mode carry no module
//! information: `Ok(None)`, as for a binary that is not Go at all. A UPX-packed executable
//! (its build info compressed) is an error saying so.
//!
//! The module information (`path`, `mod`, `dep`, `=>`, `build` lines) gives the main module
//! (local: the project built; its version is `(devel)` for a plain `go build`, cataloged
//! without a version), every dependency with its `h1:` sum (carried as a `SHA256` checksum,
//! see [`crate::GoSum`]) and `=>` replacements (a replaced module is cataloged as what was
//! built: the replacement path and version, or the original path without a version and local
//! when replaced by a directory). The Go version becomes a `stdlib` package, as the Go
//! vulnerability database names the standard library; the build settings are kept in
//! [`GoBuildInfo::settings`]. The main module depends on every other package (the blob lists
//! the build, not the graph).

use crate::gosum::{go_package, h1_digest};
use crate::{Catalog, Checksum, Error, invalid};

const MAGIC: &[u8] = b"\xff Go buildinf:";

/// One module of a Go binary's build list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModule {
    /// Module path.
    pub path: String,
    /// Version (`(devel)` for a main module built from a work tree).
    pub version: String,
    /// The `h1:` checksum, if recorded.
    pub sum: Option<String>,
    /// What replaced it (`=>` line), if anything.
    pub replace: Option<Box<GoModule>>,
}

/// A Go binary's embedded build information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// The Go toolchain version (`go1.22.1`).
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    /// The main module (`mod` line), if recorded.
    pub main: Option<GoModule>,
    /// The dependencies (`dep` lines), in the binary's order.
    pub deps: Vec<GoModule>,
    /// Build settings (`build` lines: `-ldflags`, `CGO_ENABLED`, `GOOS`, `vcs.revision`…), as
    /// written (keys and values unquoted where Go quoted them).
    pub settings: Vec<(String, String)>,
}

/// Whether the bytes start like an ELF, PE or Mach-O (thin or fat) executable: the files a
/// tree walker should hand to [`go_build_info`].
pub fn looks_executable(bytes: &[u8]) -> bool {
    crate::exe::looks_executable(bytes)
}

/// The build information of the Go binary `bytes` (`file` names it in messages): `Ok(None)`
/// when it is not a Go executable or carries no module information; `Err` when the blob is
/// there but malformed, or the executable is too damaged to find it.
pub fn read_go_build_info(file: &str, bytes: &[u8]) -> Result<Option<GoBuildInfo>, Error> {
    if !looks_executable(bytes) {
        return Ok(None);
    }
    // UPX keeps its `UPX!` header within the first kilobyte and the packed program
    // compressed: the build info is there but unreadable without unpacking, which is an
    // error to report, not a binary without build info.
    if contains(&bytes[..bytes.len().min(1024)], b"UPX!") {
        return Err(invalid(
            file,
            "executable",
            "packed with UPX: its contents (Go build info included) are compressed; unpack \
             it (`upx -d`) to catalog it",
        ));
    }
    let images = match crate::exe::parse(bytes) {
        Ok(images) => images,
        // A damaged executable: an error only if it may be a Go binary, else not ours.
        Err(why) if contains(bytes, MAGIC) => return Err(invalid(file, "executable", why)),
        Err(_) => return Ok(None),
    };
    for image in &images {
        let Some(data) = image.data_bytes() else {
            continue;
        };
        let Some(at) = find_aligned(data) else {
            continue;
        };
        let place = format!("{} build info", image.format);
        let (version, modinfo) =
            blob_strings(image, &data[at..]).map_err(|why| invalid(file, &place, why))?;
        if version.is_empty() || modinfo.is_empty() {
            return Ok(None);
        }
        return parse_modinfo(file, &place, version, &modinfo).map(Some);
    }
    Ok(None)
}

/// [`read_go_build_info`] as a catalog: the main module (local), `stdlib` at the Go
/// version, and every dependency as built (replacements applied).
pub fn go_build_info(file: &str, bytes: &[u8]) -> Result<Option<Catalog>, Error> {
    let Some(info) = read_go_build_info(file, bytes)? else {
        return Ok(None);
    };
    let mut catalog = Catalog {
        file: file.to_string(),
        format: format!("Go build info ({})", info.go_version),
        ..Catalog::default()
    };
    let place = "build info";
    if let Some(main) = &info.main {
        let version = if main.version == "(devel)" {
            ""
        } else {
            &main.version
        };
        catalog
            .packages
            .push(go_package(file, place, &main.path, version, true)?);
    } else {
        catalog.warnings.push(format!(
            "no main module recorded (main package {}): the dependencies have no root",
            info.path
        ));
    }
    match stdlib_version(&info.go_version) {
        Some(v) => catalog
            .packages
            .push(go_package(file, place, "stdlib", v, false)?),
        None => catalog.warnings.push(format!(
            "Go version {:?} is not a release: stdlib not cataloged",
            info.go_version
        )),
    }
    for dep in &info.deps {
        let built = dep.replace.as_deref().unwrap_or(dep);
        let mut p = match &dep.replace {
            // Replaced by a directory: the module, built from local sources.
            Some(r) if r.version.is_empty() => go_package(file, place, &dep.path, "", true)?,
            _ => go_package(file, place, &built.path, &built.version, false)?,
        };
        if let Some(digest) = built.sum.as_deref().and_then(h1_digest) {
            p.checksums.push(Checksum {
                algorithm: "SHA256",
                hex: hex::encode(digest),
            });
        }
        catalog.packages.push(p);
    }
    if info.main.is_some() {
        catalog.edges = (1..catalog.packages.len()).map(|i| (0, i)).collect();
    }
    Ok(Some(catalog))
}

/// `go1.22.1` → `1.22.1`; `go1.21` (an early release's name) → `1.21`; experiments after
/// a space (`go1.22.1 X:boringcrypto`) dropped; a development toolchain → `None`.
fn stdlib_version(go: &str) -> Option<&str> {
    let v = go.strip_prefix("go")?.split([' ', '+']).next()?;
    let ok = !v.is_empty()
        && v.split(['.', '-'])
            .next()
            .is_some_and(|m| m.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(v)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The first occurrence of the magic at a 16-byte boundary of `data`, with room for the
/// 32-byte header.
fn find_aligned(data: &[u8]) -> Option<usize> {
    (0..data.len())
        .step_by(16)
        .find(|&i| data[i..].starts_with(MAGIC) && data.len() - i >= 32)
}

/// The Go version and the module information of the blob starting at `blob` (the 32-byte
/// header, then the inline strings for Go 1.18+).
fn blob_strings(image: &crate::exe::Image<'_>, blob: &[u8]) -> Result<(String, String), String> {
    let ptr_size = blob[14];
    let flags = blob[15];
    let (version, modinfo) = if flags & 2 != 0 {
        let (version, rest) = varint_string(&blob[32..]).ok_or("truncated version string")?;
        let (modinfo, _) = varint_string(rest).ok_or("truncated module information")?;
        (version.to_vec(), modinfo.to_vec())
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("pointer size {ptr_size} (4 or 8 expected)"));
        }
        let r = crate::exe::Reader {
            b: blob,
            big: flags & 1 != 0,
        };
        let ptr = |r: &crate::exe::Reader<'_>, o: usize| {
            if ptr_size == 8 {
                r.u64(o)
            } else {
                r.u32(o).map(u64::from)
            }
        };
        let read_string = |addr: u64| -> Result<Vec<u8>, String> {
            let header = image
                .read(addr, 2 * u64::from(ptr_size))
                .ok_or_else(|| format!("string header at {addr:#x} outside the file"))?;
            let h = crate::exe::Reader {
                b: header,
                big: r.big,
            };
            let (Some(data), Some(len)) = (ptr(&h, 0), ptr(&h, ptr_size as usize)) else {
                return Err("string header truncated".into());
            };
            image
                .read(data, len)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| format!("string of {len} bytes at {data:#x} outside the file"))
        };
        let v = ptr(&r, 16).ok_or("header truncated")?;
        let m = ptr(&r, 16 + ptr_size as usize).ok_or("header truncated")?;
        (read_string(v)?, read_string(m)?)
    };
    let version = String::from_utf8(version).map_err(|_| "Go version is not UTF-8")?;
    // The module information is framed by 16-byte sentinels (binary), the end one after a
    // newline.
    let framed = modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n';
    let modinfo = if framed {
        String::from_utf8(modinfo[16..modinfo.len() - 16].to_vec())
            .map_err(|_| "module information is not UTF-8")?
    } else {
        String::new()
    };
    Ok((version, modinfo))
}

/// A uvarint-length-prefixed string and what follows it.
fn varint_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (mut len, mut shift, mut i) = (0u64, 0u32, 0usize);
    loop {
        let byte = *b.get(i)?;
        i += 1;
        if shift > 63 {
            return None;
        }
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let end = i.checked_add(usize::try_from(len).ok()?)?;
    Some((b.get(i..end)?, &b[end..]))
}

/// Parses the module information text (`runtime/debug.ParseBuildInfo`'s format).
fn parse_modinfo(
    file: &str,
    place: &str,
    go_version: String,
    text: &str,
) -> Result<GoBuildInfo, Error> {
    let mut info = GoBuildInfo {
        go_version,
        path: String::new(),
        main: None,
        deps: Vec::new(),
        settings: Vec::new(),
    };
    // Which module the next `=>` line replaces: None, the main one, or deps[i].
    let mut last: Option<Option<usize>> = None;
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{place}, line {}", n + 1);
        let (kind, rest) = line.split_once('\t').unwrap_or((line, ""));
        let cols: Vec<&str> = rest.split('\t').collect();
        let module = |cols: &[&str]| -> Result<GoModule, Error> {
            match cols {
                [path, version] | [path, version, ""] => Ok(GoModule {
                    path: path.to_string(),
                    version: version.to_string(),
                    sum: None,
                    replace: None,
                }),
                [path, version, sum] => Ok(GoModule {
                    path: path.to_string(),
                    version: version.to_string(),
                    sum: Some(sum.to_string()),
                    replace: None,
                }),
                _ => Err(invalid(
                    file,
                    at(),
                    format!("malformed module line {line:?}"),
                )),
            }
        };
        match kind {
            "" if rest.is_empty() => {}
            "go" => {}
            "path" => info.path = rest.to_string(),
            "mod" => {
                info.main = Some(module(&cols)?);
                last = Some(None);
            }
            "dep" => {
                info.deps.push(module(&cols)?);
                last = Some(Some(info.deps.len() - 1));
            }
            "=>" => {
                let r = match cols[..] {
                    // Replaced by a directory: no version.
                    [path] => GoModule {
                        path: path.to_string(),
                        version: String::new(),
                        sum: None,
                        replace: None,
                    },
                    _ => module(&cols)?,
                };
                let target = match last.take() {
                    Some(None) => info.main.as_mut(),
                    Some(Some(i)) => info.deps.get_mut(i),
                    None => None,
                };
                let Some(target) = target else {
                    return Err(invalid(file, at(), "replacement with no module before it"));
                };
                target.replace = Some(Box::new(r));
            }
            "build" => {
                let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
                info.settings.push((unquote(k), unquote(v)));
            }
            _ => {
                return Err(invalid(file, at(), format!("unknown line {line:?}")));
            }
        }
    }
    Ok(info)
}

/// Go's `strconv.Quote` undone for the simple escapes build settings use.
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}
