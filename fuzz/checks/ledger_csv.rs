//! The call-ledger CSV reader of `import-calls` over arbitrary bytes: a header check, then one
//! outcome per record. Must never panic, hang or allocate without bound.
//!
//! The check itself, shared by the cargo-fuzz target (`fuzz_targets/ledger_csv.rs`) and the stable
//! replay of the corpus in the server's tests (`server/tests/it/fuzz_corpus.rs`).
// The one place this target names server internals (the module moves with the restructuring).
use evo_billing_server::ingest::ledger_csv::LedgerReader;

pub fn check(data: &[u8]) {
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
}
