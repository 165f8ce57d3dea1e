//! Archives for relkit: the reproducible writers used to build source releases
//! (tar in GNU tar's POSIX/PAX layout, gzip, xz, zip), the tree walker that turns a
//! directory into sorted, normalized entries, and the archive readers and diff engine.
//!
//! Every writer is deterministic: the same entries give the same bytes on any machine,
//! whatever the umask, time zone, locale, file-creation order or thread count.
//!
//! It is the one place that parses archives and compressed streams ([`read`]: format by
//! magic, every safety limit in one place; [`read::decompress`] for single streams), so
//! that every command reads the same formats with the same checks. It must not know about
//! SBOMs, git or releases, and must never write outside the directory it is asked to.

pub mod diff;
pub mod entry;
pub mod extract;
pub mod read;
pub mod tree;
pub mod write;

pub use diff::{DiffOptions, DiffReport, diff_paths, render_text};
pub use entry::{Entry, EntryKind, Timestamp};
pub use tree::{ModePolicy, TreeOptions, collect_tree};
