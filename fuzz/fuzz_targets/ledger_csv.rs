//! The call-ledger CSV reader of `import-calls` over arbitrary bytes: a header check, then one
//! outcome per record. Must never panic, hang or allocate without bound.
#![no_main]

#[path = "../checks/ledger_csv.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
