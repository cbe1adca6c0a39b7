//! `cargo xtask bench server`: the API under load with wrk on loopback, on SQLite and PostgreSQL,
//! each endpoint side by side with the same server's `/healthz` in the same run.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, cmd, is_root, output, run};

/// One wrk measurement.
pub struct Measure {
    pub name: String,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Items per request (billables in a batch), for throughput in items/s.
    pub items: u32,
    pub errors: String,
}

fn ensure_wrk() -> Result<(), String> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    if !is_root() {
        return Err("wrk is missing. Run: sudo apt-get install -y wrk".into());
    }
    run(cmd("apt-get").args(["install", "-y", "-qq", "wrk"]))
}

/// Milliseconds from wrk's `12.34ms` / `1.20s` / `900.00us`.
fn millis(text: &str) -> f64 {
    let t = text.trim();
    let (num, factor) = if let Some(v) = t.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('s') {
        (v, 1000.0)
    } else if let Some(v) = t.strip_suffix('m') {
        (v, 60_000.0)
    } else {
        (t, 1.0)
    };
    num.parse::<f64>().unwrap_or(f64::NAN) * factor
}

fn parse_wrk(name: &str, items: u32, out: &str) -> Measure {
    let mut m = Measure {
        name: name.to_string(),
        requests_per_sec: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        items,
        errors: String::new(),
    };
    for line in out.lines() {
        let l = line.trim();
        if let Some(v) = l.strip_prefix("Requests/sec:") {
            m.requests_per_sec = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = l.strip_prefix("50%") {
            m.p50_ms = millis(v);
        } else if let Some(v) = l.strip_prefix("99%") {
            m.p99_ms = millis(v);
        } else if l.starts_with("Non-2xx") || l.starts_with("Socket errors") {
            if !m.errors.is_empty() {
                m.errors.push_str("; ");
            }
            m.errors.push_str(l);
        }
    }
    m
}

fn wrk(
    base: &str,
    path: &str,
    script: Option<&std::path::Path>,
    conns: u32,
    secs: u32,
) -> Result<String, String> {
    let mut c = Command::new("wrk");
    c.args([
        "-t2",
        &format!("-c{conns}"),
        &format!("-d{secs}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    if let Some(s) = script {
        c.arg("-s").arg(s);
    }
    c.arg(format!("{base}{path}"));
    let out = c.output().map_err(|e| format!("wrk: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(bin: &std::path::Path, database: &str) -> Result<(Server, String), String> {
    let mut child = Command::new(bin)
        .args([
            "--database",
            database,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-demo",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            break;
        }
        if let Some(rest) = line.split("running at ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('/');
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
            return Ok((Server(child), url.to_string()));
        }
    }
    Err("the server did not report its address".into())
}

fn sign_in(base: &str) -> Result<String, String> {
    let body = r#"{"userName":"admin@demo.evovoice.io","password":"demo-admin"}"#;
    let out = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("{base}/auth/credentials"),
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
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

/// Lua for wrk: GETs with the token, or NewBillable POSTs with unique call SIDs (`batch` > 1:
/// the auto-batched route with `batch` items per request).
fn lua(token: &str, kind: &str, batch: u32) -> String {
    let auth = format!(r#"wrk.headers["Authorization"] = "Bearer {token}""#);
    match kind {
        "get" => auth,
        _ => format!(
            r#"{auth}
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
local run = tostring(os.time())
function item()
  counter = counter + 1
  return '{{"accountId":"acc-northwind","customerId":"cus-0001","callSid":"CA-bench-' .. run .. '-' .. tid .. '-' .. counter .. '"}}'
end
request = function()
  if {batch} == 1 then
    return wrk.format("POST", "/billables", nil, item())
  end
  local items = {{}}
  for i = 1, {batch} do items[i] = item() end
  return wrk.format("POST", "/api/NewBillable[]", nil, "[" .. table.concat(items, ",") .. "]")
end
"#
        ),
    }
}

/// Does the database already hold the data of a previous run (for `--reuse`)?
fn data_present(_bin: &std::path::Path, database: &str) -> bool {
    if let Some(path) = database.strip_prefix("sqlite://") {
        return std::fs::metadata(path).is_ok_and(|m| m.len() > 100 * 1024 * 1024);
    }
    Command::new("psql")
        .args([database, "-Atc", "SELECT count(*) FROM calls"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .is_some_and(|n| n > 0)
}

/// Loads `calls` demo calls into `database` (timed).
fn load(bin: &std::path::Path, database: &str, calls: u64) -> Result<f64, String> {
    let started = Instant::now();
    let status = Command::new(bin)
        .args([
            "--database",
            database,
            "seed-demo",
            "--calls",
            &calls.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("seed-demo failed ({status})"));
    }
    Ok(started.elapsed().as_secs_f64())
}

pub struct BackendResult {
    pub backend: &'static str,
    pub load_secs: f64,
    pub measures: Vec<Measure>,
}

fn measure_backend(
    bin: &std::path::Path,
    backend: &'static str,
    database: &str,
    calls: u64,
    secs: u32,
    reuse: bool,
) -> Result<BackendResult, String> {
    let load_secs = if reuse && data_present(bin, database) {
        eprintln!("bench: reusing the {backend} database of the previous run");
        run(Command::new(bin).args(["--database", database, "analyze"]))?;
        f64::NAN
    } else {
        eprintln!("bench: loading {calls} calls into {backend}…");
        load(bin, database, calls)?
    };
    let (_server, base) = start_server(bin, database)?;
    let token = sign_in(&base)?;
    let dir = util::root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let get_lua = dir.join("get.lua");
    util::write(&get_lua, &lua(&token, "get", 1))?;
    let single_lua = dir.join("single.lua");
    util::write(&single_lua, &lua(&token, "post", 1))?;
    let batch_lua = dir.join("batch.lua");
    util::write(&batch_lua, &lua(&token, "post", 100))?;
    let today = output("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let month_ago = output("date", &["-u", "-d", "30 days ago", "+%Y-%m-%d"]).unwrap_or_default();
    let year_ago = output("date", &["-u", "-d", "364 days ago", "+%Y-%m-%d"]).unwrap_or_default();
    let month = format!("/billing?accountId=acc-northwind&startDate={month_ago}&endDate={today}");
    let year = format!("/billing?accountId=acc-northwind&startDate={year_ago}&endDate={today}");
    let usage =
        format!("/billing/usage?accountId=acc-northwind&startDate={month_ago}&endDate={today}");
    let mut measures = Vec::new();
    let runs: [(&str, String, &std::path::Path, u32, u32); 6] = [
        ("GET /healthz", "/healthz".into(), &get_lua, 16, 1),
        ("GetBilling, 31 days", month, &get_lua, 16, 1),
        ("GetBilling, 365 days", year, &get_lua, 16, 1),
        ("ListUsageRecords, 31 days", usage, &get_lua, 16, 1),
        (
            "NewBillable, one per request",
            "/billables".into(),
            &single_lua,
            64,
            1,
        ),
        (
            "NewBillable, 100 per request (auto-batched)",
            "/api/NewBillable[]".into(),
            &batch_lua,
            16,
            100,
        ),
    ];
    for (name, path, script, conns, items) in runs {
        eprintln!("bench: {backend}: {name}");
        let out = wrk(&base, &path, Some(script), conns, secs)?;
        measures.push(parse_wrk(name, items, &out));
    }
    // /healthz again at the end: the machine's noise over the run shows in the two baselines.
    let out = wrk(&base, "/healthz", Some(&get_lua), 16, secs)?;
    measures.push(parse_wrk("GET /healthz (again, after)", 1, &out));
    Ok(BackendResult {
        backend,
        load_secs,
        measures,
    })
}

/// Runs the server benchmark; returns the Markdown section.
pub fn run_server_bench(calls: u64, secs: u32, reuse: bool) -> Result<String, String> {
    ensure_wrk()?;
    run(cmd("cargo").args(["build", "--release", "-p", "evo-billing-server"]))?;
    let bin = util::root().join("target/release/evo-billing-server");
    let mut results = Vec::new();
    let sqlite_dir = util::root().join("target/bench/sqlite");
    if !reuse {
        let _ = std::fs::remove_dir_all(&sqlite_dir);
    }
    std::fs::create_dir_all(&sqlite_dir).map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}/bench.db", sqlite_dir.display());
    results.push(measure_backend(
        &bin,
        "SQLite",
        &sqlite_url,
        calls,
        secs,
        reuse,
    )?);
    match crate::postgres::PgServer::start_durable("bench", reuse) {
        Ok(pg) => results.push(measure_backend(
            &bin,
            "PostgreSQL",
            &pg.url,
            calls,
            secs,
            reuse,
        )?),
        Err(e) => eprintln!("\n!!!!!!!! PostgreSQL UNAVAILABLE for the benchmark: {e} !!!!!!!!\n"),
    }
    let mut md = format!(
        "## Server under load (wrk on loopback) — {}\n\n{} demo calls loaded per backend; wrk -t2, 16 connections \
         (64 for single NewBillable), {secs} s per row, `--latency`. Each backend's rows come from one server \
         process and one run, next to its own `/healthz` baseline (measured first and last). Durable: SQLite in \
         WAL with synchronous=FULL; PostgreSQL with fsync on and synchronous_commit on.\n\n\
         | backend | endpoint | requests/s | items/s | p50 | p99 | errors |\n|---|---|---|---|---|---|---|\n",
        output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
        calls,
    );
    for r in &results {
        for m in &r.measures {
            md.push_str(&format!(
                "| {} | {} | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {} |\n",
                r.backend,
                m.name,
                m.requests_per_sec,
                m.requests_per_sec * f64::from(m.items),
                m.p50_ms,
                m.p99_ms,
                if m.errors.is_empty() {
                    "none"
                } else {
                    &m.errors
                }
            ));
        }
    }
    md.push('\n');
    for r in &results {
        if r.load_secs.is_nan() {
            md.push_str(&format!(
                "- {}: measured on the database loaded by the previous run (`--reuse`), statistics refreshed.\n",
                r.backend
            ));
        } else {
            md.push_str(&format!(
                "- {}: demo data ({} calls) loaded in {:.0} s.\n",
                r.backend, calls, r.load_secs
            ));
        }
        let find = |prefix: &str| r.measures.iter().find(|m| m.name.starts_with(prefix));
        if let Some(m) = find("GetBilling, 31") {
            md.push_str(&format!(
                "- {}: GetBilling over a month p99 {:.2} ms (target ≤ 25 ms): {}.\n",
                r.backend,
                m.p99_ms,
                if m.p99_ms <= 25.0 { "met" } else { "NOT met" }
            ));
        }
        if let Some(m) = find("NewBillable, one") {
            md.push_str(&format!(
                "- {}: NewBillable single {:.0}/s (target ≥ 5,000/s): {}.\n",
                r.backend,
                m.requests_per_sec,
                if m.requests_per_sec >= 5000.0 {
                    "met"
                } else {
                    "NOT met"
                }
            ));
        }
        if let Some(m) = find("NewBillable, 100") {
            let per_sec = m.requests_per_sec * 100.0;
            md.push_str(&format!(
                "- {}: NewBillable batched {:.0} billables/s (target ≥ 50,000/s): {}.\n",
                r.backend,
                per_sec,
                if per_sec >= 50_000.0 {
                    "met"
                } else {
                    "NOT met"
                }
            ));
        }
    }
    Ok(md)
}
