//! relkit-source's integration tests: one binary, a module per subject.

mod cpython_official;
mod worktree;
