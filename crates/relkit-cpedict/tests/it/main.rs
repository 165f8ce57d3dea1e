//! relkit-cpedict's integration tests, one binary: the SQLite dictionary on real NVD data
//! (the fixtures are relkit-ident's, where the parsers' tests read them too).

mod dictionary;
