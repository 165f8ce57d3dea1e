//! relkit-ident's integration tests, one binary: CPE naming and matching (NISTIR examples,
//! real NVD vectors, property tests), the Python reference oracle, and the purl-spec suite.

mod cpe_oracle;
mod cpe_spec;
mod purl_suite;
