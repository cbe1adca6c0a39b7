//! Request binding (server::binding): arbitrary query string, Content-Type and body bound into
//! each request DTO, and the auto-batched list form. Input layout: byte 0 picks the DTO, byte 1
//! the Content-Type, then the query string up to the first `\n`, then the body.
#![no_main]

#[path = "../checks/bind_request.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
