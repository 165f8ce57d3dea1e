//! Opening an upstream history: a git directory (with a work tree or bare) or a git bundle
//! (`git bundle create`), without the `git` binary.
//!
//! A bundle is a header (`# v2 git bundle` or `# v3 git bundle`, optional `@capability`
//! lines, `-OID` prerequisite lines, `OID refname` lines, a blank line) followed by a pack.
//! It is unpacked once into a bare repository under the cache directory, named by a
//! SHA-256 of the bundle's path, size and modification time (the pack is indexed with gitoxide; the refs go to `packed-refs`), and
//! reused while the bundle is unchanged.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A repository ready to read, and what is known about its completeness.
pub struct Opened {
    /// The gitoxide repository.
    pub repo: gix::Repository,
    /// The path given (the bundle or the directory).
    pub source: PathBuf,
    /// Why the history is incomplete (a shallow clone, a bundle with prerequisites), if it is.
    pub incomplete: Option<String>,
}

fn git_err(path: &Path, detail: impl Into<String>) -> Error {
    Error::Git {
        repo: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Opens `path`: a `.bundle` file (unpacked under `cache`) or a git directory.
pub fn open(path: &Path, cache: &Path) -> Result<Opened> {
    if path.is_file() {
        return open_bundle(path, cache);
    }
    let mut repo = gix::open_opts(path, gix::open::Options::isolated()).map_err(|e| {
        git_err(
            path,
            format!("not a git repository, bare repository or .bundle file ({e})"),
        )
    })?;
    caches(&mut repo);
    let shallow = repo
        .is_shallow()
        .map_err(|e| git_err(path, format!("cannot read the shallow file: {e}")))?;
    let incomplete = shallow.then(|| {
        "shallow clone: commits before the shallow boundary are missing, so history-based numbers are unreliable (fetch with `git fetch --unshallow`)".to_string()
    });
    Ok(Opened {
        repo,
        source: path.to_path_buf(),
        incomplete,
    })
}

/// The refs and prerequisites of a bundle header.
struct Header {
    refs: Vec<(String, String)>,
    prerequisites: usize,
}

fn read_header(path: &Path, r: &mut impl BufRead) -> Result<Header> {
    let mut line = String::new();
    let mut read_line = |line: &mut String| -> Result<()> {
        line.clear();
        r.read_line(line).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(())
    };
    read_line(&mut line)?;
    if !matches!(line.trim_end(), "# v2 git bundle" | "# v3 git bundle") {
        return Err(git_err(
            path,
            "not a git repository, bare repository or git bundle (no `# v2 git bundle` header)",
        ));
    }
    let mut h = Header {
        refs: Vec::new(),
        prerequisites: 0,
    };
    loop {
        read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            if line.is_empty() {
                return Err(git_err(path, "truncated bundle: no pack after the header"));
            }
            return Ok(h);
        }
        if l.starts_with('@') {
            if let Some(v) = l.strip_prefix("@object-format=")
                && v != "sha1"
            {
                return Err(git_err(
                    path,
                    format!("bundle object format {v} is not supported"),
                ));
            }
        } else if l.starts_with('-') {
            h.prerequisites += 1;
        } else {
            let (id, name) = l
                .split_once(' ')
                .ok_or_else(|| git_err(path, format!("bad bundle header line {l:?}")))?;
            h.refs.push((id.to_string(), name.to_string()));
        }
    }
}

fn open_bundle(path: &Path, cache: &Path) -> Result<Opened> {
    let io = |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    // The cache key: the bundle's absolute path, size and modification time (hashing the
    // content would read 42 MB of libffi's bundle on every run; a changed file changes its
    // size or time). The header is read each time for the prerequisites.
    let meta = std::fs::metadata(path).map_err(io)?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let abs = std::fs::canonicalize(path).map_err(io)?;
    let key = format!("{}\0{}\0{modified}", abs.display(), meta.len());
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let header = read_header(path, &mut reader)?;
    let dir = cache.join(format!("bundle-{}", &digest[..32]));
    if !dir.join("relkit-complete").is_file() {
        unpack(path, &header, &mut reader, cache, &dir)?;
    }
    let mut repo = gix::open_opts(&dir, gix::open::Options::isolated()).map_err(|e| {
        git_err(
            path,
            format!("cannot open the unpacked bundle at {}: {e}", dir.display()),
        )
    })?;
    caches(&mut repo);
    let incomplete = (header.prerequisites > 0).then(|| {
        format!(
            "incomplete bundle: it needs {} prerequisite commit(s) it does not hold, so history-based numbers are unreliable",
            header.prerequisites
        )
    });
    Ok(Opened {
        repo,
        source: path.to_path_buf(),
        incomplete,
    })
}

fn unpack(
    path: &Path,
    header: &Header,
    pack: &mut impl BufRead,
    cache: &Path,
    dir: &Path,
) -> Result<()> {
    let io = |p: &Path, e| Error::Io {
        path: p.to_path_buf(),
        source: e,
    };
    std::fs::create_dir_all(cache).map_err(|e| io(cache, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempdir_in(cache)
        .map_err(|e| io(cache, e))?;
    let root = tmp.path();
    let pack_dir = root.join("objects/pack");
    for d in [
        pack_dir.as_path(),
        &root.join("refs/heads"),
        &root.join("refs/tags"),
    ] {
        std::fs::create_dir_all(d).map_err(|e| io(d, e))?;
    }
    let interrupt = AtomicBool::new(false);
    gix_pack::Bundle::write_to_directory(
        pack,
        Some(&pack_dir),
        &mut gix::progress::Discard,
        &interrupt,
        None::<gix::objs::find::Never>,
        gix::hash::Kind::Sha1,
        gix_pack::bundle::write::Options::default(),
    )
    .map_err(|e| git_err(path, format!("corrupt pack in the bundle: {e}")))?;
    let mut packed = String::from("# pack-refs with: peeled fully-peeled sorted \n");
    let mut refs = header.refs.clone();
    refs.retain(|(_, n)| n.starts_with("refs/"));
    refs.sort_by(|a, b| a.1.cmp(&b.1));
    for (id, name) in &refs {
        packed.push_str(&format!("{id} {name}\n"));
    }
    let head = ["refs/heads/master", "refs/heads/main", "refs/heads/develop"]
        .into_iter()
        .find(|h| refs.iter().any(|(_, n)| n == h))
        .or_else(|| {
            refs.iter()
                .map(|(_, n)| n.as_str())
                .find(|n| n.starts_with("refs/heads/"))
        });
    let write = |name: &str, text: &str| -> Result<()> {
        let p = root.join(name);
        let mut f = std::fs::File::create(&p).map_err(|e| io(&p, e))?;
        f.write_all(text.as_bytes()).map_err(|e| io(&p, e))
    };
    write("packed-refs", &packed)?;
    write(
        "HEAD",
        &format!("ref: {}\n", head.unwrap_or("refs/heads/master")),
    )?;
    write(
        "config",
        "[core]\n\trepositoryformatversion = 0\n\tbare = true\n",
    )?;
    write("relkit-complete", "")?;
    let kept = tmp.keep();
    if let Err(e) = std::fs::rename(&kept, dir) {
        // Another process unpacked the same bundle first: use theirs.
        let _ = std::fs::remove_dir_all(&kept);
        if !dir.join("relkit-complete").is_file() {
            return Err(io(dir, e));
        }
    }
    Ok(())
}

/// Caches for one pass over the history: decoded objects (trees are read twice, as a
/// commit's and as its child's parent tree) and delta bases (trees are mostly deltas).
fn caches(repo: &mut gix::Repository) {
    repo.object_cache_size(64 << 20);
    repo.objects
        .set_pack_cache(|| Box::new(gix_pack::cache::lru::MemoryCappedHashmap::new(64 << 20)));
}
