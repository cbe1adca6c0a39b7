//! `cargo xtask fuzz [--secs N] [--full] [TARGET…]`: the cargo-fuzz targets of fuzz/ (JSV
//! decoder, API dates, ledger CSV reader, request binding), each for a set time on the nightly
//! toolchain, starting from the committed seeds in fuzz/corpus/<target>/ (new inputs go to
//! target/fuzz-corpus/, crashes to target/fuzz-artifacts/, so the repository stays clean).
//!
//! `cargo xtask fuzz-api [--max-examples N] [--secs N] [--full] [--debug]`: schemathesis (from
//! PyPI, in a venv under target/) against /openapi.json of a demo server, with an administrator's
//! session token, checking for 5xx answers and answers the document does not promise ([`CHECKS`]).
//! `cargo xtask test` runs a short one ([`schemathesis`], 10 examples, at most 120 s).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, cmd, run, run_tee};

pub const TARGETS: [&str; 4] = ["jsv_decode", "api_date", "ledger_csv", "bind_request"];

fn ensure_cargo_fuzz() -> Result<(), String> {
    let ok = cmd("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    run(cmd("cargo").args(["install", "cargo-fuzz"]))
}

pub fn run_fuzz(args: &[String]) -> Result<(), String> {
    let mut secs: u64 = 30;
    let mut targets: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--full" => secs = 600,
            "--secs" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--secs needs a number")?
            }
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => {
                return Err(format!(
                    "unknown argument {other}: cargo xtask fuzz [--secs N] [--full] [{}]",
                    TARGETS.join("|")
                ))
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|s| s.to_string()).collect();
    }
    ensure_cargo_fuzz()?;
    let root = util::root();
    let fuzz_dir = root.join("fuzz");
    let mut results = Vec::new();
    let mut failed = 0;
    for t in &targets {
        let work = root.join("target/fuzz-corpus").join(t);
        let artifacts = root.join("target/fuzz-artifacts").join(t);
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let (ok, out) = run_tee(
            cmd("cargo")
                .current_dir(&fuzz_dir)
                .args(["+nightly", "fuzz", "run", t])
                .arg(&work)
                .arg(fuzz_dir.join("corpus").join(t))
                .arg("--")
                .arg(format!("-max_total_time={secs}"))
                .args(["-rss_limit_mb=2048", "-timeout=10", "-malloc_limit_mb=2048"])
                .arg(format!("-artifact_prefix={}/", artifacts.display())),
        )?;
        let runs = out
            .lines()
            .find_map(|l| l.strip_prefix("Done ").map(|r| r.to_string()))
            .unwrap_or_else(|| "no 'Done' line".into());
        let corpus = std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0);
        let line = if ok {
            format!(
                "FUZZ {t}: ok, {runs}; corpus {corpus} inputs ({:.0} s)",
                started.elapsed().as_secs_f64()
            )
        } else {
            failed += 1;
            let what = out
                .lines()
                .filter(|l| {
                    l.contains("ERROR: libFuzzer")
                        || l.contains("panicked at")
                        || l.contains("Test unit written to")
                        || l.contains("==ERROR")
                })
                .collect::<Vec<_>>()
                .join(" | ");
            format!("FUZZ {t}: FAILED: {what}")
        };
        results.push(line);
    }
    println!("\n== fuzz summary ({secs} s per target) ==");
    for r in &results {
        println!("{r}");
    }
    println!("{} passed, {} failed", targets.len() - failed, failed);
    if failed > 0 {
        Err("fuzzing found failures (inputs in target/fuzz-artifacts/)".into())
    } else {
        Ok(())
    }
}

// --------------------------------------------------------------------------------------------
// schemathesis

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A demo server on a free loopback port: the child and its base URL.
fn start_demo_server(
    bin: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(Server, String), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let db = format!("sqlite://{}", dir.join("openapi.db").display());
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(bin)
        .args([
            "--database",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo-calls",
            "5000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!(
                "the server exited before listening (log: {})",
                dir.join("server.log").display()
            ));
        }
        if let Some(rest) = line.split("running at ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/')
                .to_string();
            std::thread::spawn(move || for _ in reader.lines() {});
            return Ok((server, url));
        }
    }
}

/// An administrator's session token. Two operations are left out of the run because they end
/// it (`POST /auth/logout`, `DELETE /auth`: both always 204, covered by the integration tests);
/// a session rather than an API key, because `DELETE /auth/apikeys/{id}` revokes the keys
/// schemathesis finds listed, and `POST /auth/apikeys` needs a session.
fn sign_in(base: &str) -> Result<String, String> {
    let out = Command::new("curl")
        .args(["-s", "-X", "POST", &format!("{base}/auth/credentials")])
        .args(["-H", "Content-Type: application/json"])
        .args([
            "-d",
            r#"{"userName":"admin@demo.evovoice.io","password":"demo-admin"}"#,
        ])
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("\"bearerToken\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
        .ok_or_else(|| format!("sign-in failed: {text}"))
}

/// The operations that would end the run's session.
const EXCLUDED: [&str; 2] = ["Logout", "AuthDelete"];

fn ensure_schemathesis() -> Result<PathBuf, String> {
    let venv = util::root().join("target/schemathesis-venv");
    let exe = venv.join("bin/schemathesis");
    if exe.exists() {
        return Ok(exe);
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "-q", "schemathesis"]))?;
    Ok(exe)
}

/// Every check schemathesis has but the two that judge the server's validation against the
/// schema's (`positive_data_acceptance`: a schema cannot say "endDate on or after startDate,
/// at most 3660 days", so valid-looking data gets a documented 400; `negative_data_rejection`:
/// the server is lenient the ServiceStack way, e.g. `"true"` for a boolean). 5xx answers,
/// undocumented statuses, media types and headers, bodies that break their schema, 405 without
/// Allow, ignored credentials and use-after-delete all fail the run.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,missing_required_header,unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability,ignored_auth";

/// How a schemathesis run went.
pub struct ApiFuzz {
    pub ok: bool,
    /// Test cases generated, and unique failures found (from schemathesis' summary).
    pub cases: u64,
    pub failures: u64,
    pub secs: f64,
}

/// Runs schemathesis against a demo server built from `bin`, for at most `secs` seconds.
pub fn schemathesis(
    bin: &std::path::Path,
    max_examples: u32,
    secs: u64,
    dir: &std::path::Path,
) -> Result<ApiFuzz, String> {
    let exe = ensure_schemathesis()?;
    let (_server, base) = start_demo_server(bin, dir)?;
    let token = sign_in(&base)?;
    let mut c = Command::new(&exe);
    c.args(["run", &format!("{base}/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {token}")]);
    for op in EXCLUDED {
        c.args(["--exclude-operation-id", op]);
    }
    c.args(["--checks", CHECKS])
        .args(["--max-examples", &max_examples.to_string()])
        .args(["--request-timeout", "10"])
        .args(["--max-time", &secs.saturating_sub(20).max(10).to_string()])
        .args(["--report", "junit"])
        .arg(format!(
            "--report-junit-path={}",
            dir.join("junit.xml").display()
        ))
        // Its failure cache goes next to the report, not into the repository.
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!(
        "$ schemathesis run {base}/openapi.json --max-examples {max_examples} (at most {secs} s)"
    );
    let started = Instant::now();
    let mut child = c.spawn().map_err(|e| format!("schemathesis: {e}"))?;
    let out = child.stdout.take().ok_or("no stdout")?;
    let printer = std::thread::spawn(move || {
        let mut text = String::new();
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{l}");
            text.push_str(&l);
            text.push('\n');
        }
        text
    });
    let err = child.stderr.take().ok_or("no stderr")?;
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{l}");
        }
    });
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = printer.join().unwrap_or_default();
    // "  14380 generated, 4 found 4 unique failures" / "  1234 generated, 1234 passed"
    let (cases, failures) = text
        .lines()
        .find(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|n| n.parse::<u64>().is_ok())
                && words.next().is_some_and(|w| w.starts_with("generated"))
        })
        .map(|l| {
            let n = |after: &str| -> u64 {
                l.split(after)
                    .next()
                    .and_then(|s| s.split_whitespace().last())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0)
            };
            (n(" generated"), n(" unique failure"))
        })
        .unwrap_or((0, 0));
    Ok(ApiFuzz {
        ok: status.is_some_and(|s| s.success()) && cases > 0,
        cases,
        failures: if status.is_none() {
            failures.max(1)
        } else {
            failures
        },
        secs: started.elapsed().as_secs_f64(),
    })
}

pub fn run_api(args: &[String]) -> Result<(), String> {
    let mut max_examples = 50u32;
    let mut secs = 240u64;
    let mut debug = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--max-examples" => {
                max_examples = it.next().and_then(|s| s.parse().ok()).ok_or("--max-examples N")?
            }
            "--secs" => secs = it.next().and_then(|s| s.parse().ok()).ok_or("--secs N")?,
            "--full" => {
                max_examples = 500;
                secs = 1200;
            }
            // The debug build, as `cargo xtask test` runs it.
            "--debug" => debug = true,
            other => return Err(format!("unknown argument {other}: cargo xtask fuzz-api [--max-examples N] [--secs N] [--full] [--debug]")),
        }
    }
    let bin = if debug {
        run(cmd("cargo").args(["build", "-p", "evo-billing-server"]))?;
        util::root().join("target/debug/evo-billing-server")
    } else {
        run(cmd("cargo").args(["build", "--release", "-p", "evo-billing-server"]))?;
        util::root().join("target/release/evo-billing-server")
    };
    let dir = util::root().join("target/chaos/openapi");
    let r = schemathesis(&bin, max_examples, secs, &dir)?;
    println!("\n== fuzz-api summary ({:.0} s) ==", r.secs);
    println!(
        "{} test cases, {} unique failures; JUnit report {}",
        r.cases,
        r.failures,
        dir.join("junit.xml").display()
    );
    if r.ok {
        println!("1 passed, 0 failed");
        Ok(())
    } else {
        println!("0 passed, 1 failed");
        Err(format!(
            "schemathesis found failures (or did not finish within {secs} s); the server log is {}",
            dir.join("server.log").display()
        ))
    }
}
