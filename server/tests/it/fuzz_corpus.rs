//! The fuzz targets' checks on stable Rust, in every test run: each file of `fuzz/corpus/<target>/`
//! (the seeds, and any input a fuzzing run found and saved there), then a few thousand
//! deterministic mutations of each (bit flips, truncations, repeats, splices of the others).
//! The checks are the targets' own (`fuzz/checks/`); the long coverage-guided runs are
//! `cargo xtask fuzz` (nightly).

use std::path::PathBuf;

#[path = "../../../fuzz/checks/api_date.rs"]
mod api_date;
#[path = "../../../fuzz/checks/bind_request.rs"]
mod bind_request;
#[path = "../../../fuzz/checks/jsv_decode.rs"]
mod jsv_decode;
#[path = "../../../fuzz/checks/ledger_csv.rs"]
mod ledger_csv;

/// Mutations per corpus file.
const MUTATIONS: usize = 1_500;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let inputs: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(!inputs.is_empty(), "{target}: an empty corpus");
    inputs
}

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\"",
    b"\"\"",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\\",
    b"#",
    b"=",
    b"\0",
    b"\xff",
    b"\xe2\x80\xae",
    b"9999-12-31",
    b"0000-00-00",
    b"-1",
    b"1e309",
    b"%00",
    b"&",
    b"?",
];

fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.truncate(rng.below(out.len() + 1)),
            2 if !out.is_empty() => {
                let (a, b) = (rng.below(out.len()), rng.below(out.len()));
                let (a, b) = (a.min(b), a.max(b));
                let piece = out[a..b].to_vec();
                for _ in 0..rng.below(8) {
                    out.splice(b..b, piece.iter().copied());
                }
            }
            3 => {
                let word = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(out.len() + 1);
                out.splice(at..at, word.iter().copied());
            }
            4 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let at = rng.below(out.len() + 1);
                let from = rng.below(other.len() + 1);
                out.splice(at.., other[from..].iter().copied());
            }
            5 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.remove(i);
            }
            _ => out.push(rng.next() as u8),
        }
    }
    out
}

fn replay(target: &str, check: fn(&[u8])) {
    let inputs = corpus(target);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    for input in &inputs {
        check(input);
        for _ in 0..MUTATIONS {
            let m = mutate(&mut rng, input, &inputs);
            let outcome = std::panic::catch_unwind(|| check(&m));
            assert!(
                outcome.is_ok(),
                "{target}: the check failed on {:?}",
                String::from_utf8_lossy(&m)
            );
        }
    }
}

#[test]
fn api_date_corpus() {
    replay("api_date", api_date::check);
}

#[test]
fn jsv_decode_corpus() {
    replay("jsv_decode", jsv_decode::check);
}

#[test]
fn ledger_csv_corpus() {
    replay("ledger_csv", ledger_csv::check);
}

#[test]
fn bind_request_corpus() {
    replay("bind_request", bind_request::check);
}
