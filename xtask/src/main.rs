//! `cargo xtask <command>`: every chore of the project, in Rust, with no dependencies.
//!
//! - `setup`  installs what a fresh machine lacks (wasm32 target, wasm-bindgen CLI at the exact
//!   version of Cargo.lock, wasm-pack, npm tools, Chromium + chromedriver from apt when root), or
//!   stops with the exact command to run.
//! - `build`  the npm package (`pkg/`, wasm-pack + wasm-opt -Oz from npm's binaryen) and the
//!   dashboard (`dist/`, content-hashed assets; see web.rs).
//! - `screenshots`  the dashboard's main pages at 1280 and 390 px into docs/screenshots/.
//! - `test`   everything: fmt, clippy (native + wasm32), native tests and doc tests, the core tests
//!   compiled to wasm32 and run in Node and in headless Chromium, and the node tests of the
//!   built package. Prints the counts of each and a final `N passed, N failed` line.
//! - `serve`  runs the product (see README.md).
//! - `bench`  benchmarks; results go to docs/BENCHMARKS.md.
//! - `chaos`  black-box reliability suites (SIGKILL, disk faults, reports, load); docs/RELIABILITY.md.
//! - `fuzz`   the cargo-fuzz targets of fuzz/ for a set time each; `fuzz-api` schemathesis.

mod bench;
mod bench_server;
mod build;
mod chaos;
mod fuzz;
mod postgres;
mod setup;
mod testing;
mod util;
mod web;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match command {
        "setup" => setup::ensure_all(),
        "build" => setup::ensure_build_tools()
            .and_then(|_| build::package())
            .and_then(|_| web::build().map(drop)),
        "screenshots" => setup::ensure_all().and_then(|_| web::screenshots()),
        "test" => testing::run_all(rest),
        "serve" => serve(rest),
        "bench" => bench::run(rest),
        "chaos" => chaos::run_chaos(rest),
        "fuzz" => fuzz::run_fuzz(rest),
        "fuzz-api" => fuzz::run_api(rest),
        "help" | "--help" | "-h" => {
            println!("{}", HELP);
            Ok(())
        }
        other => Err(format!("unknown command '{other}'\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <command>

  setup   install what this machine lacks for building and testing
  build   build the npm package into pkg/ and the dashboard into dist/
  screenshots  regenerate docs/screenshots/*.png (dashboard pages at 1280 and 390 px)
  test    run every test (native, wasm32 in Node and Chromium, node tests of pkg/)
  serve   run the product
  bench   run the benchmarks and write docs/BENCHMARKS.md
          (bench package | bench web | bench server [--customers N] [--secs S] [--reuse]
          [--baseline REV] [--reads-only]; server: reads at N=10,000 customers, writes beside the baseline
          revision (default dcdcda2, before the server's restructure); --reuse measures the data
          already loaded)
  chaos   reliability suites against a real server process (docs/RELIABILITY.md):
          chaos [--full] [--backend sqlite|postgres|both] [--seed N] [kill|disk|reports|load…]
  fuzz    cargo-fuzz targets (jsv_decode api_date ledger_csv bind_request), ~30 s each:
          fuzz [--secs N] [--full] [TARGET…]
  fuzz-api  schemathesis against /openapi.json of a demo server:
          fuzz-api [--max-examples N] [--secs N] [--full] [--debug]";

/// Runs the product: the server (release build) on the embedded SQLite database, loading the
/// demo data on first start, serving the API (and the dashboard once it is built). Extra arguments
/// go to `evo-billing-server serve` (e.g. `--listen 0.0.0.0:8080`).
fn serve(args: &[String]) -> Result<(), String> {
    setup::ensure_build_tools()?;
    build::package()?;
    web::build()?;
    util::run(
        util::cmd("cargo")
            .args([
                "run",
                "--release",
                "-p",
                "evo-billing-server",
                "--",
                "serve",
            ])
            .args(args),
    )
}
