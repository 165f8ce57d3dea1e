//! Archives for relkit: the reproducible writers used to build source releases
//! (tar in GNU tar's POSIX/PAX layout, gzip, xz, zip), the tree walker that turns a
//! directory into sorted, normalized entries, and the archive readers and diff engine.
//!
//! Every writer is deterministic: the same entries give the same bytes on any machine,
//! whatever the umask, time zone, locale, file-creation order or thread count.

pub mod diff;
pub mod entry;
pub mod read;
pub mod tree;
pub mod write;

pub use diff::{DiffOptions, DiffReport, diff_paths, render_text};
pub use entry::{Entry, EntryKind, Timestamp};
pub use tree::{ModePolicy, TreeOptions, collect_tree};
