//! Fuzz target: arbitrary bytes as a tarball and as a zip through the source-archive scanner
//! and the binary scanner (member names, sizes, sparse headers, zip directories). They may
//! refuse input, never panic or allocate what the input only claims.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A per-process scratch directory, in memory (/dev/shm) when there is one.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("relkit-sbom-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    for name in ["input.tar", "input.zip"] {
        let path = scratch().join(name);
        std::fs::write(&path, data).expect("scratch file");
        let _ = relkit_sbom::source::generate(&path, &Default::default(), &|_| {});
        let _ = relkit_sbom::binary::generate(&path, &Default::default());
    }
});
