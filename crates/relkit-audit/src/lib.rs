//! Release audits, the lesson of the xz-utils backdoor (CVE-2024-3094): the payload's
//! trigger was a modified gnulib macro that existed only in the release tarball.
//!
//! - [`tarball`]: every member of a release tarball compared with its tag; files only in
//!   the tarball explained as a known tool's output ([`generated`]) or as an exact copy of
//!   a known upstream macro/script ([`corpus`], filled by [`import`]), or flagged.
//! - [`alarm`]: every text member scanned for lines that run data through a shell or
//!   decode it; each such line must be explained by the tag, a known upstream copy or an
//!   input of the file's generator, or the audit is critical.
//! - [`po`], [`changelog`] and [`export_subst`]: files of the tag that `make dist` or `git
//!   archive` update, explained (a catalog merged by msgmerge, a `ChangeLog` written by `git
//!   log`, `$Format:…$` placeholders expanded).
//! - [`regenerate`]: `--regenerate CMD` compares the tarball's extra files with what the
//!   project's own regeneration makes from the tag.
//! - [`release`]: the audit a release pipeline runs on the tarball it built
//!   ([`audit_release`]: fully explained by the tag plus the prepare steps?).
//! - [`history`]: what changed between two releases in opaque files, build machinery and
//!   who made the changes.
//! - [`render`]: text and SARIF 2.1.0 renderings of the reports (JSON is the serde form of
//!   the report types: [`tarball::TarballReport`], [`history::HistoryReport`]).
//!
//! It must not print, run the `git` binary (the tag is streamed from git objects through
//! relkit-source), or parse archives itself: the tarball is read once through relkit-archive.

#![warn(missing_docs)]

pub mod alarm;
pub mod changelog;
pub mod corpus;
pub mod error;
pub mod export_subst;
pub mod generated;
pub mod history;
pub mod import;
pub mod po;
mod reference;
pub mod regenerate;
pub mod release;
pub mod render;
pub mod tarball;

pub use corpus::{Blobs, Corpus, KnownCopy, Version};
pub use error::{Error, Result};
pub use history::{HistoryReport, audit_history};
pub use release::{ReleaseAudit, audit_release};
pub use tarball::{
    AuditOptions, Class, CorpusSpec, Reference, Severity, TarballReport, audit_tarball,
    audit_tarball_with,
};
