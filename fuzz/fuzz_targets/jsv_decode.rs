//! JSV decoding (core::jsv): parse, decode into an untyped value and into request DTOs, and
//! re-encode what parsed. Must never panic, hang or allocate without bound.
#![no_main]

use evo_billing_core::dto::{BillingReport, GetBilling, NewBillable};
use evo_billing_core::jsv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
