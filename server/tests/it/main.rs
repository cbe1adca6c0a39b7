//! The server's integration tests: one binary (the support code compiles once), one module per
//! suite. Every test runs on SQLite and on PostgreSQL (`on_both_backends!`; the PostgreSQL server
//! is named by `EVO_BILLING_TEST_POSTGRES`, which `cargo xtask test` sets).

#[macro_use]
mod support;

mod accounts;
mod auth_matrix;
mod billables;
mod cors;
mod csrf;
mod faults;
mod formats;
mod fuzz_corpus;
mod import;
mod limits;
mod listener;
mod openapi;
mod reports;
mod rollups;
mod scope;
mod series;
mod tidy;
mod validation;
