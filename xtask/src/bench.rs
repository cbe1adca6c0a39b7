//! `cargo xtask bench`: measured, never asserted in tests. Results go to docs/BENCHMARKS.md with
//! the machine and the date.

use crate::bench_server::Options;
use crate::util::{self, cmd, output, run_tee};
use crate::{build, setup};

/// Budget for the package's wasm, gzipped.
const WASM_GZIP_BUDGET: u64 = 150 * 1024;

fn gzip_size(bytes: &[u8]) -> Result<u64, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(bytes).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok(out.stdout.len() as u64)
}

pub fn machine() -> String {
    let cpu = util::read(std::path::Path::new("/proc/cpuinfo"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = util::read(std::path::Path::new("/proc/meminfo"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or("?".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    let node = output("node", &["--version"]).unwrap_or_default();
    let rustc = output("rustc", &["--version"]).unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} RAM; {rustc}; Node {node}")
}

/// Replaces (or appends) the section between `<!-- name -->` and `<!-- /name -->`.
fn replace_section(doc: &str, name: &str, content: &str) -> String {
    let open = format!("<!-- {name} -->");
    let close = format!("<!-- /{name} -->");
    let block = format!("{open}\n{content}\n{close}");
    match (doc.find(&open), doc.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{block}{}", &doc[..a], &doc[b + close.len()..]),
        _ => format!("{}\n\n{block}\n", doc.trim_end()),
    }
}

fn write_section(name: &str, content: &str) -> Result<(), String> {
    let path = util::root().join("docs/BENCHMARKS.md");
    let doc = util::read(&path).unwrap_or_else(|_| {
        "# Benchmarks\n\nWritten by `cargo xtask bench`; each section says when and where it was measured. \
         Ratios are measured side by side in one run, because these machines are noisy."
            .to_string()
    });
    util::write(&path, &replace_section(&doc, name, content))?;
    println!("xtask: wrote the {name} section of docs/BENCHMARKS.md");
    Ok(())
}

const USAGE: &str =
    "cargo xtask bench [all|package|web|server] [--customers N] [--secs S] [--reuse] [--reads-only] [--baseline REV]";

/// The bench named on the line (`all` when none) and the server bench's options.
///
/// Anything else on the line is refused before any work starts: the server bench without
/// `--reuse` drops and seeds its databases again, so a mistyped flag must not start it.
fn parse(args: &[String]) -> Result<(&str, Options), String> {
    let (what, flags) = match args.first().map(String::as_str) {
        Some(w) if !w.starts_with('-') => (w, &args[1..]),
        _ => ("all", args),
    };
    if !matches!(what, "all" | "package" | "web" | "server") {
        return Err(format!("unknown bench '{what}'; usage: {USAGE}"));
    }
    let mut o = Options {
        customers: 10_000,
        secs: 10,
        reuse: false,
        reads_only: false,
        baseline: "dcdcda2".to_string(),
    };
    let number = |flag: &str, v: &str| {
        v.replace('_', "")
            .parse::<u64>()
            .map_err(|_| format!("{flag} takes a number, not '{v}'"))
    };
    let mut rest = flags.iter();
    while let Some(flag) = rest.next() {
        let flag = flag.as_str();
        match (flag, rest.as_slice().first()) {
            ("--reuse", _) => o.reuse = true,
            ("--reads-only", _) => o.reads_only = true,
            ("--customers" | "--secs" | "--baseline", Some(v)) => {
                rest.next();
                match flag {
                    "--customers" => o.customers = number(flag, v)?,
                    "--secs" => o.secs = number(flag, v)? as u32,
                    _ => o.baseline = v.clone(),
                }
            }
            _ => return Err(format!("unexpected '{flag}'; usage: {USAGE}")),
        }
    }
    Ok((what, o))
}

/// `cargo xtask bench`: see [`USAGE`] and [`parse`].
pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: {USAGE}");
        return Ok(());
    }
    let (what, options) = parse(args)?;
    if matches!(what, "all" | "package") {
        package()?;
    }
    if matches!(what, "all" | "web") {
        let md = crate::web::bench()?;
        println!("{md}");
        write_section("web", &md)?;
    }
    if matches!(what, "all" | "server") {
        let md = crate::bench_server::run_server_bench(&options)?;
        println!("{md}");
        write_section("server", &md)?;
    }
    Ok(())
}

fn package() -> Result<(), String> {
    setup::ensure_build_tools()?;
    build::package()?;
    let root = util::root();
    let wasm = std::fs::read(root.join("pkg/evo_billing_bg.wasm")).map_err(|e| e.to_string())?;
    let raw = wasm.len() as u64;
    let gz = gzip_size(&wasm)?;
    println!(
        "package wasm: {raw} bytes raw, {gz} bytes gzipped (budget {WASM_GZIP_BUDGET}): {}",
        if gz <= WASM_GZIP_BUDGET {
            "within budget"
        } else {
            "OVER BUDGET"
        }
    );

    run_tee(
        cmd("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(root.join("tests")),
    )?;
    let (ok, out) = run_tee(cmd("node").args(["--expose-gc", "bench/usage-aggregation.mjs"]))?;
    if !ok {
        return Err("the aggregation benchmark failed".into());
    }
    let table: String = out
        .lines()
        .filter(|l| l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let notes: String = out
        .lines()
        .filter(|l| l.starts_with("- "))
        .collect::<Vec<_>>()
        .join("\n");

    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let doc = format!(
        "## npm package (core in WebAssembly) — {date}\n\nMachine: {}\n\n\
         ### Size\n\n| artifact | raw | gzip -9 | budget (gzip) |\n|---|---|---|---|\n\
         | pkg/evo_billing_bg.wasm | {:.1} KB | {:.1} KB | {:.0} KB ({}) |\n\n\
         ### Usage aggregation from the raw JSON bytes of a ListUsageRecords answer\n\n\
         Core in WASM (`summarizeUsageJson(bytes)`: a byte scanner made for the usage-record shape, \
         category and date text borrowed from the buffer, prices read from their decimal text, exact \
         integer micro-unit sums; serde_json only as the fallback for unusual input) against idiomatic JavaScript in the same Node process \
         (`JSON.parse(new TextDecoder().decode(bytes))` then a `Map` reduce with number sums). \
         Median of the timed repetitions after warm-up.\n\n{table}\n\n{notes}\n",
        machine(),
        raw as f64 / 1024.0,
        gz as f64 / 1024.0,
        WASM_GZIP_BUDGET as f64 / 1024.0,
        if gz <= WASM_GZIP_BUDGET { "within" } else { "over" },
    );
    write_section("package", &doc)
}

#[cfg(test)]
mod tests {
    use super::{parse, run};

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// Each of these is refused before any bench starts (a server bench without `--reuse`
    /// would drop and seed its databases again).
    #[test]
    fn stray_arguments_are_refused_before_any_work() {
        for bad in [
            &["server", "--bogus"][..],
            &["server", "--secs", "x"],
            &["server", "--reuse", "--customers"],
            &["servers"],
            &["--reuse", "extra"],
        ] {
            let err = run(&args(bad)).expect_err(&format!("{bad:?} must be refused"));
            assert!(
                err.contains("usage") || err.contains("takes a number"),
                "{err}"
            );
        }
        assert_eq!(run(&args(&["server", "--reuse", "--help"])), Ok(()));
    }

    /// Each flag's value is the word after it (`--baseline` once took the flag itself when a
    /// bench was named).
    #[test]
    fn flags_take_the_word_after_them() {
        let line = args(&["server", "--baseline", "abc123", "--secs", "3", "--reuse"]);
        let (what, o) = parse(&line).unwrap();
        assert_eq!((what, o.baseline.as_str(), o.secs), ("server", "abc123", 3));
        assert!(o.reuse && !o.reads_only);
        assert_eq!(o.customers, 10_000);
        let line = args(&["--customers", "1_000"]);
        let (what, o) = parse(&line).unwrap();
        assert_eq!(
            (what, o.customers, o.baseline.as_str()),
            ("all", 1000, "dcdcda2")
        );
    }
}
