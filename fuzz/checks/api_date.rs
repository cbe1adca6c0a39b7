//! API dates (core::date_range): `parse_api_date` on any text, and `DateRange::parse` on two
//! texts split at the first `|`. A range that parses is never inverted.
//!
//! The check itself, shared by the cargo-fuzz target (`fuzz_targets/api_date.rs`) and the stable
//! replay of the corpus in the server's tests (`server/tests/it/fuzz_corpus.rs`).

use evo_billing_core::date_range::{parse_api_date, DateRange};

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_api_date(text);
    let (a, b) = text.split_once('|').unwrap_or((text, text));
    if let Ok(range) = DateRange::parse(a, b) {
        assert!(
            range.start() <= range.end(),
            "inverted range from {a:?} {b:?}"
        );
        assert!(range.days() >= 1);
        let _ = range.start_text();
        let _ = range.check_max_days(731);
    }
}
