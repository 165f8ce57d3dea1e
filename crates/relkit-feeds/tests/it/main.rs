//! relkit-feeds' integration tests: `db update` against a loopback server serving the real
//! shared data in the real feeds' layouts (one test binary, one module per topic).

mod feedserver;
mod resume;
mod update;
