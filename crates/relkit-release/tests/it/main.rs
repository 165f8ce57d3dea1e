//! relkit-release's integration tests (one binary, a module per subject).

mod sign;
