//! The call-ledger CSV reader of `import-calls` over arbitrary bytes: a header check, then one
//! outcome per record. Must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The one place this target names server internals (the module moves with the restructuring).
use evo_billing_server::import::LedgerReader;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = LedgerReader::new(std::io::Cursor::new(data)) else {
        return;
    };
    let mut rows = 0usize;
    for outcome in reader {
        let _ = outcome.line();
        rows += 1;
        // Every record consumes at least one byte: more outcomes than bytes means a loop.
        assert!(rows <= data.len() + 1, "more rows than bytes");
    }
});
