//! relkit-audit's integration tests: one binary, a module per subject, the shared helpers in
//! `common`.

mod bad_input;
mod common;
mod history_xz;
mod po_msgmerge;
mod reference;
mod regenerate;
mod release;
mod tarball_xz;
