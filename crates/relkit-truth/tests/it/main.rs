//! relkit-truth's integration tests, one binary: verification on real trees, archives and
//! binaries, `--fix`, and the Debian-headers oracle of the source rules.

mod system_headers;
mod verify;
