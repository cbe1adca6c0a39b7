//! JSV decoding (core::jsv): parse, decode into an untyped value and into request DTOs, and
//! re-encode what parsed. Must never panic, hang or allocate without bound.
//!
//! The check itself, shared by the cargo-fuzz target (`fuzz_targets/jsv_decode.rs`) and the stable
//! replay of the corpus in the server's tests (`server/tests/it/fuzz_corpus.rs`).

use evo_billing_core::dto::{BillingReport, GetBilling, NewBillable};
use evo_billing_core::jsv;

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = jsv::parse(text) {
        let json = value.to_json();
        let again = jsv::value_to_jsv(&json);
        // What we write must read back.
        assert!(
            jsv::parse(&again).is_ok(),
            "re-encoded JSV does not parse: {again:?}"
        );
    }
    let _ = jsv::from_str::<serde_json::Value>(text);
    let _ = jsv::from_str::<NewBillable>(text);
    let _ = jsv::from_str::<GetBilling>(text);
    let _ = jsv::from_str::<BillingReport>(text);
    let _ = jsv::from_str::<Vec<NewBillable>>(text);
}
