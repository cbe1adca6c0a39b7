//! `evo-billing-chaos`: black-box reliability suites against a real `evo-billing-server` process
//! on loopback (run through `cargo xtask chaos`, see docs/RELIABILITY.md).
//!
//! ```text
//! evo-billing-chaos --server target/release/evo-billing-server --backend sqlite|postgres
//!     [--pg-url postgres://…] [--work DIR] [--full] [--tmpfs DIR] [--pg-tmpfs-url postgres://…]
//!     [--shim libfault.so]
//!     [--seed N] SUITE…        (kill disk reports load)
//! ```
//!
//! Each suite prints a `VERDICT <suite> <backend> PASS|FAIL|PASS-PARTIAL: figures` line; the
//! process exits 1 when any suite found a violation (2 when a suite could not run at all).

mod common;
mod disk;
mod kill;
mod load;
mod reports;

use std::path::PathBuf;
use std::process::ExitCode;

use common::{Backend, Opts};

const USAGE: &str =
    "usage: evo-billing-chaos --server BIN --backend sqlite|postgres [--pg-url URL] \
[--work DIR] [--full] [--tmpfs DIR] [--pg-tmpfs-url URL] [--shim SO] [--seed N] SUITE… (kill disk reports load)";

fn parse() -> Result<(Opts, Vec<String>), String> {
    let mut args = std::env::args().skip(1);
    let mut server = None;
    let mut backend = Backend::Sqlite;
    let mut pg_url = None;
    let mut work = PathBuf::from("target/chaos");
    let mut full = false;
    let mut tmpfs = None;
    let mut pg_tmpfs_url = None;
    let mut shim = None;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1);
    let mut suites = Vec::new();
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--server" => server = Some(PathBuf::from(value("--server")?)),
            "--backend" => {
                backend = match value("--backend")?.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--pg-url" => pg_url = Some(value("--pg-url")?),
            "--work" => work = PathBuf::from(value("--work")?),
            "--full" => full = true,
            "--tmpfs" => tmpfs = Some(PathBuf::from(value("--tmpfs")?)),
            "--pg-tmpfs-url" => pg_tmpfs_url = Some(value("--pg-tmpfs-url")?),
            "--shim" => shim = Some(PathBuf::from(value("--shim")?)),
            "--seed" => seed = value("--seed")?.parse().map_err(|_| "bad --seed")?,
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => suites.push(s.to_string()),
        }
    }
    let server = server.ok_or(USAGE)?;
    if suites.is_empty() {
        suites = ["kill", "disk", "reports", "load"]
            .map(String::from)
            .to_vec();
    }
    let work = std::path::absolute(&work).map_err(|e| e.to_string())?;
    Ok((
        Opts {
            server,
            backend,
            pg_url,
            work,
            full,
            tmpfs,
            pg_tmpfs_url,
            shim,
            seed,
        },
        suites,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (opts, suites) = match parse() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let fds = common::raise_nofile();
    eprintln!(
        "evo-billing-chaos: backend {}, {} mode, seed {}, harness fd limit {fds}",
        opts.backend.name(),
        if opts.full { "full" } else { "short" },
        opts.seed
    );
    let mut code = 0u8;
    for suite in &suites {
        let started = std::time::Instant::now();
        eprintln!("== {suite} ({})", opts.backend.name());
        let result = match suite.as_str() {
            "kill" => kill::run(&opts).await,
            "disk" => disk::run(&opts).await,
            "reports" => reports::run(&opts).await,
            "load" => load::run(&opts).await,
            other => Err(format!("unknown suite {other}")),
        };
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(mut v) => {
                v.fig(format!("{secs:.0} s"));
                if !v.violations.is_empty() {
                    code = code.max(1);
                }
                println!("{}", v.line());
            }
            Err(e) => {
                println!(
                    "VERDICT {suite} {} ERROR: the suite could not run: {e} ({secs:.0} s)",
                    opts.backend.name()
                );
                code = 2;
            }
        }
    }
    ExitCode::from(code)
}
