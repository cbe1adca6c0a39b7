//! JSV decoding (core::jsv): parse, decode into an untyped value and into request DTOs, and
//! re-encode what parsed. Must never panic, hang or allocate without bound.
#![no_main]

#[path = "../checks/jsv_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
