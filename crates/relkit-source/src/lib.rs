//! Source releases for relkit: export a git revision with gitoxide (no `git` binary),
//! run the configured prepare steps, and write bit-for-bit reproducible `.tar.gz`,
//! `.tar.xz`, `.zip` and `SHA256SUMS`, with a manifest of the settings used so anyone can
//! rebuild and compare.
//!
//! It must not run the `git` binary, print, sign or verify anything (it depends on no
//! signing crate: `cargo tree -p relkit-source` has no p256/x509-cert), or parse archives
//! itself (relkit-archive writes and reads them).

pub mod build;
pub mod config;
pub mod export;
pub mod manifest;
pub mod rebuild;
pub mod sample;
pub mod worktree;

pub use build::{BuildRequest, BuildResult, Format, SourceInput, build_source};
pub use config::Config;
pub use export::{
    ExportOptions, Exported, ResolvedRev, RevFile, RevFileKind, SubmodulePolicy, commit_subjects,
    export_rev, list_tags, read_blob, read_file_at, resolve_rev, walk_rev,
};
pub use manifest::Manifest;
pub use rebuild::{RebuildReport, RebuildRequest, rebuild};
pub use worktree::{
    ChangeKind, WorktreeChange, WorktreeError, commit_time_of_path, worktree_changes,
};
