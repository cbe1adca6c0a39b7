//! API dates (core::date_range): `parse_api_date` on any text, and `DateRange::parse` on two
//! texts split at the first `|`. A range that parses is never inverted.
#![no_main]

#[path = "../checks/api_date.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
