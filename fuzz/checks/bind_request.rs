//! Request binding (server::binding): arbitrary query string, Content-Type and body bound into
//! each request DTO, and the auto-batched list form. Input layout: byte 0 picks the DTO, byte 1
//! the Content-Type, then the query string up to the first `\n`, then the body.
//!
//! The check itself, shared by the cargo-fuzz target (`fuzz_targets/bind_request.rs`) and the stable
//! replay of the corpus in the server's tests (`server/tests/it/fuzz_corpus.rs`).

use evo_billing_core::dto::{
    Authenticate, BillingReport, GetBilling, ListUsageRecords, NewBillable,
};

// The one place this target names server internals (the module moves with the restructuring).
use evo_billing_server::http::binding::{bind, bind_list, RawRequest};

const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("text/jsv"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("application/xml"),
    Some("multipart/form-data; boundary=x"),
];

pub fn check(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let (dto, ct) = (
        data[0],
        CONTENT_TYPES[data[1] as usize % CONTENT_TYPES.len()],
    );
    let rest = &data[2..];
    let (query, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let query = query.map(String::from_utf8_lossy);
    let req = RawRequest {
        query: query.as_deref(),
        content_type: ct,
        body,
        params: &[],
    };
    match dto % 6 {
        0 => drop(bind::<NewBillable>(&req)),
        1 => drop(bind::<GetBilling>(&req)),
        2 => drop(bind::<BillingReport>(&req)),
        3 => drop(bind::<ListUsageRecords>(&req)),
        4 => drop(bind::<Authenticate>(&req)),
        _ => drop(bind_list::<NewBillable>(&req)),
    }
}
