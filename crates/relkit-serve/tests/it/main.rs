//! relkit-serve's integration tests, one binary: a real server on loopback per test, on
//! SQLite and on PostgreSQL (see [`common`]).

mod api;
mod common;
mod faults_load;
mod openapi;
mod ops;
mod pages;
