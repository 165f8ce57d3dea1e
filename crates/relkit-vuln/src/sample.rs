//! The bundled sample DB and the default DB location.
//!
//! The sample's source (`data/sample.tar.xz`: real NVD and OSV records, see
//! `data/ATTRIBUTION.md`) is embedded in the binary and imported on first use into
//! `<cache>/relkit/sample-<digest>.sqlite`, built beside and renamed so a crash never leaves
//! a half DB.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::db::{Db, DbError, ImportOptions};
use crate::input::InputError;

/// The embedded sample source archive.
pub const SAMPLE_SOURCE: &[u8] = include_bytes!("../data/sample.tar.xz");

/// `$XDG_CACHE_HOME/relkit`, else `~/.cache/relkit`, else a `relkit` dir in the temp dir.
pub fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("relkit");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(h).join(".cache").join("relkit");
    }
    std::env::temp_dir().join("relkit")
}

/// The default DB written by `relkit db import`: `<cache>/relkit/vuln.sqlite`.
pub fn default_db_path() -> PathBuf {
    cache_dir().join("vuln.sqlite")
}

/// Builds the sample DB in `dir` unless it is already there; returns its path.
pub fn sample_db_in(dir: &Path) -> Result<PathBuf, DbError> {
    let digest = hex::encode(Sha256::digest(SAMPLE_SOURCE));
    let path = dir.join(format!("sample-v2-{}.sqlite", &digest[..16]));
    if path.exists() {
        return Ok(path);
    }
    let io = |p: &Path, source| {
        DbError::Input(InputError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let work = tempfile::Builder::new()
        .prefix(".sample-build-")
        .tempdir_in(dir)
        .map_err(|e| io(dir, e))?;
    let src = work.path().join("sample.tar.xz");
    std::fs::write(&src, SAMPLE_SOURCE).map_err(|e| io(&src, e))?;
    let tmp_db = work.path().join("sample.sqlite");
    {
        let mut db = Db::create(&tmp_db)?;
        db.import(&[src], ImportOptions::default(), &|_| {})?;
        db.mark_sample()?;
    }
    let renamed = std::fs::rename(&tmp_db, &path);
    match renamed {
        Ok(()) => Ok(path),
        // Another process won the race: its DB is the same.
        Err(_) if path.exists() => Ok(path),
        Err(e) => Err(io(&path, e)),
    }
}

/// The sample DB in the cache directory.
pub fn sample_db() -> Result<PathBuf, DbError> {
    sample_db_in(&cache_dir())
}
