//! `cargo xtask bench server`: the API measured with wrk on loopback, on SQLite and PostgreSQL,
//! each endpoint side by side with the same server's `/healthz` in the same run.
//!
//! Two parts. Reads: one account of 10,000 customers active on most days of 13 months
//! (`seed-demo --customers`), single requests (one connection), so a latency is a service time.
//! Writes: NewBillable single and batched, the current binary beside a baseline revision built
//! from git, each on its own fresh database, alternated, so a regression is a ratio measured in
//! one run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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
    script: Option<&Path>,
    conns: u32,
    secs: u32,
) -> Result<String, String> {
    let mut c = Command::new("wrk");
    c.args([
        if conns == 1 { "-t1" } else { "-t2" },
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

fn start_server(bin: &Path, database: &str) -> Result<(Server, String), String> {
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

/// Lua for wrk: GETs with the token; or NewBillable POSTs, one per request or `batch` per
/// request, with call SIDs either new (`ledger: false`, calls not in the ledger: the billable
/// insert only) or walking the calls imported for the run (`ledger: true`: each billable also
/// adds its call to every roll-up tier).
fn lua(token: &str, batch: u32, ledger: bool) -> String {
    let auth = format!(r#"wrk.headers["Authorization"] = "Bearer {token}""#);
    if batch == 0 {
        return auth;
    }
    let sid = if ledger {
        "'CH' .. string.format('%08d', tid + counter * threads)"
    } else {
        "'CA-bench-' .. run .. '-' .. tid .. '-' .. counter"
    };
    format!(
        r#"{auth}
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  thread:set("threads", 2)
end
local counter = 0
local run = tostring(os.time())
function item()
  counter = counter + 1
  return '{{"accountId":"acc-northwind","customerId":"cus-0001","callSid":"' .. {sid} .. '"}}'
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
    )
}

/// Does the database already hold data (for `--reuse`)?
fn data_present(database: &str) -> bool {
    if let Some(path) = database.strip_prefix("sqlite://") {
        return std::fs::metadata(path).is_ok_and(|m| m.len() > 10 * 1024 * 1024);
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

/// Runs `seed-demo` with `args` into `database` (timed).
fn seed(bin: &Path, database: &str, args: &[&str]) -> Result<f64, String> {
    let started = Instant::now();
    let status = Command::new(bin)
        .args(["--database", database, "seed-demo"])
        .args(args)
        .env("RUST_LOG", "warn")
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("seed-demo {args:?} failed ({status})"));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// A ledger of `n` calls for acc-northwind without billables (`CH00000001`…, yesterday).
fn ledger_csv(path: &Path, n: u64) -> Result<(), String> {
    let day = output("date", &["-u", "-d", "1 day ago", "+%Y-%m-%d"]).unwrap_or_default();
    let mut text = String::with_capacity(n as usize * 80);
    text.push_str("Sid,StartTime,Direction,From,To,Country,Duration,Price\n");
    for i in 1..=n {
        let country = if i % 7 == 0 { "GB" } else { "US" };
        text.push_str(&format!(
            "CH{i:08},{day}T{:02}:{:02}:00Z,outbound,+15550100,+15550199,{country},{},0.{:04}\n",
            i % 24,
            i % 60,
            30 + i % 600,
            1 + i % 9_000
        ));
    }
    util::write(path, &text)
}

pub struct Options {
    /// Customers of the big account (reads).
    pub customers: u64,
    pub secs: u32,
    pub reuse: bool,
    /// Only the reads (the writes table is left out of the section).
    pub reads_only: bool,
    /// The git revision the write throughput is compared with.
    pub baseline: String,
}

/// Where a database of `name` for a backend lives: a SQLite file, or a database of the
/// benchmark's PostgreSQL server (created when missing).
fn database(backend: &str, pg: Option<&str>, name: &str, fresh: bool) -> Result<String, String> {
    match pg {
        None => {
            let dir = util::root().join("target/bench/sqlite");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let file = dir.join(format!("{name}.db"));
            if fresh {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
                }
            }
            Ok(format!("sqlite://{}", file.display()))
        }
        Some(admin) => {
            let (base, _) = admin.rsplit_once('/').ok_or("bad PostgreSQL URL")?;
            let db = format!("bench_{name}").replace('-', "_");
            if fresh {
                let _ = Command::new("psql")
                    .args([
                        admin,
                        "-qc",
                        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                    ])
                    .output();
            }
            let _ = Command::new("psql")
                .args([admin, "-qc", &format!("CREATE DATABASE {db}")])
                .output();
            eprintln!("bench: {backend} database {db}");
            Ok(format!("{base}/{db}"))
        }
    }
}

fn row(backend: &str, m: &Measure) -> String {
    format!(
        "| {backend} | {} | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {} |\n",
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
    )
}

/// Seconds of each read request before it is measured (not counted).
const WARM_UP_SECS: u32 = 2;

/// The reads the verdicts name. A month and a year "to today", a calendar month (one roll-up row
/// per customer), and a month and a year that end on the 6th of last month (the roll-ups' dear
/// case: the 31 days cut two months; the 365 days cut one, their start lying before the 13
/// months of `seed-demo --customers`).
const MONTH: &str = "GetBilling, last calendar month";
const MONTH31: &str = "GetBilling, 31 days to today";
const YEAR: &str = "GetBilling, 365 days to today";
const CUT_MONTH: &str = "GetBilling, 31 days to the 6th of last month";
const CUT_YEAR: &str = "GetBilling, 365 days to the 6th of last month";
const SERIES: &str = "GetBillingSeries, monthly, 13 months";

/// Reads at N customers: single requests against the big account.
fn reads(
    bin: &Path,
    backend: &str,
    pg: Option<&str>,
    opts: &Options,
) -> Result<(String, Vec<String>), String> {
    let name = format!("customers-{}", opts.customers);
    let reuse = opts.reuse;
    let url = database(backend, pg, &name, !reuse)?;
    let mut notes = Vec::new();
    if reuse && data_present(&url) {
        run(Command::new(bin).args(["--database", &url, "analyze"]))?;
        notes.push(format!(
            "{backend}: measured on the data of a previous run (`--reuse`)."
        ));
    } else {
        eprintln!(
            "bench: {backend}: seed-demo --customers {}…",
            opts.customers
        );
        let secs = seed(bin, &url, &["--customers", &opts.customers.to_string()])?;
        notes.push(format!(
            "{backend}: `seed-demo --customers {}` loaded in {secs:.0} s.",
            opts.customers
        ));
    }
    let (_server, base) = start_server(bin, &url)?;
    let token = sign_in(&base)?;
    let dir = util::root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let get_lua = dir.join("get.lua");
    util::write(&get_lua, &lua(&token, 0, false))?;
    let date = |expr: &str| output("date", &["-u", "-d", expr, "+%Y-%m-%d"]).unwrap_or_default();
    let today = date("today");
    let month_start = output("date", &["-u", "+%Y-%m-01"]).unwrap_or_default();
    let last_month = date(&format!("{month_start} -1 month"));
    let last_month_end = date(&format!("{month_start} -1 day"));
    let a31 = date("30 days ago");
    let a365 = date("364 days ago");
    // Windows that end inside a month: the dear case for the roll-up tiers (several rows per
    // customer for each cut month, against the calendar month's one). The 31 days and the 365
    // days end on the same day; the 31 days also cut the month they start in.
    let cut_end = date(&format!("{last_month} +5 days"));
    let cut_start = date(&format!("{cut_end} -364 days"));
    let cut_start31 = date(&format!("{cut_end} -30 days"));
    let a13 = date(&format!("{month_start} -12 months"));
    let q = |from: &str, to: &str| format!("accountId=acc-northwind&startDate={from}&endDate={to}");
    let runs: Vec<(&str, String)> = vec![
        ("GET /healthz", "/healthz".into()),
        (
            MONTH,
            format!("/billing?{}", q(&last_month, &last_month_end)),
        ),
        (MONTH31, format!("/billing?{}", q(&a31, &today))),
        (YEAR, format!("/billing?{}", q(&a365, &today))),
        (CUT_MONTH, format!("/billing?{}", q(&cut_start31, &cut_end))),
        (CUT_YEAR, format!("/billing?{}", q(&cut_start, &cut_end))),
        (
            SERIES,
            format!("/billing/series?{}&granularity=monthly", q(&a13, &today)),
        ),
        (
            "ListUsageRecords, 31 days",
            format!("/billing/usage?{}", q(&a31, &today)),
        ),
        (
            "ListCustomers, all",
            "/customers?accountId=acc-northwind".to_string(),
        ),
        ("GET /healthz (again, after)", "/healthz".into()),
    ];
    let mut table = String::new();
    let mut measured = Vec::new();
    for (name, path) in runs {
        eprintln!("bench: {backend}: {name}");
        wrk(&base, &path, Some(&get_lua), 1, WARM_UP_SECS)?;
        let out = wrk(&base, &path, Some(&get_lua), 1, opts.secs)?;
        let m = parse_wrk(name, 1, &out);
        table.push_str(&row(backend, &m));
        measured.push(m);
        if name == YEAR {
            let bytes = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{size_download}"])
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .arg(format!("{base}{path}"))
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            notes.push(format!(
                "{backend}: a 365-day GetBilling answer is {bytes} bytes of JSON."
            ));
        }
    }
    // The run named `name`: its p99 and p50 (NaN if it is missing).
    let of = |name: &str| {
        measured
            .iter()
            .find(|m| m.name == name)
            .map_or((f64::NAN, f64::NAN), |m| (m.p99_ms, m.p50_ms))
    };
    let p99 = |name: &str| of(name).0;
    let p50 = |name: &str| of(name).1;
    let verdict = |v: f64, limit: f64| if v <= limit { "met" } else { "NOT met" };
    let (month, month31, year, series) = (p99(MONTH), p99(MONTH31), p99(YEAR), p99(SERIES));
    notes.push(format!(
        "{backend}: GetBilling over a month p99 {month:.2} ms (calendar month) / {month31:.2} ms \
         (31 days to today), target ≤ 25 ms: {}; over 365 days p99 {year:.2} ms, target ≤ 50 ms: {}; \
         GetBillingSeries monthly over 13 months p99 {series:.2} ms, target ≤ 25 ms: {}; \
         year/month ratio of the p99s {:.2} (to the 31 days) and {:.2} (to the calendar month), \
         target ≤ 2: {} (of the medians: {:.2} and {:.2}).",
        verdict(month.max(month31), 25.0),
        verdict(year, 50.0),
        verdict(series, 25.0),
        year / month31,
        year / month,
        verdict((year / month31).max(year / month), 2.0),
        p50(YEAR) / p50(MONTH31),
        p50(YEAR) / p50(MONTH),
    ));
    let (cut, cut31) = (p99(CUT_YEAR), p99(CUT_MONTH));
    notes.push(format!(
        "{backend}: windows ending on the 6th of last month (cutting that month; the 31 days also \
         the month before): 31 days p99 \
         {cut31:.2} ms, target ≤ 25 ms: {}; 365 days p99 {cut:.2} ms, target ≤ 50 ms: {}; \
         year/month ratio for the same end {:.2} (of the medians {:.2}), target ≤ 2: {}; \
         against the calendar month (one row per customer) {:.2} (of the medians {:.2}).",
        verdict(cut31, 25.0),
        verdict(cut, 50.0),
        cut / cut31,
        p50(CUT_YEAR) / p50(CUT_MONTH),
        verdict(cut / cut31, 2.0),
        cut / month,
        p50(CUT_YEAR) / p50(MONTH),
    ));
    Ok((table, notes))
}

/// The binary of a git revision, built in a worktree beside the repository (sharing its target
/// directory, so only the workspace's own crates compile).
fn baseline_binary(rev: &str) -> Result<PathBuf, String> {
    let root = util::root();
    let out = root.join(format!("target/bench/evo-billing-server-{rev}"));
    if out.exists() {
        return Ok(out);
    }
    let src = root.join(format!("target/bench/src-{rev}"));
    if !src.exists() {
        run(cmd("git")
            .args(["worktree", "add", "--detach"])
            .arg(&src)
            .arg(rev)
            .current_dir(&root))?;
    }
    run(cmd("cargo")
        .args(["build", "--release", "-p", "evo-billing-server"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .current_dir(&src))?;
    std::fs::copy(root.join("target/release/evo-billing-server"), &out)
        .map_err(|e| format!("copying the baseline binary: {e}"))?;
    let _ = cmd("git")
        .args(["worktree", "remove", "--force"])
        .arg(&src)
        .current_dir(&root)
        .status();
    Ok(out)
}

/// Writes: the current and the baseline binary, each on a fresh default demo plus an imported
/// ledger, alternated twice.
fn writes(
    current: &Path,
    baseline: &Path,
    rev: &str,
    backend: &str,
    pg: Option<&str>,
    secs: u32,
) -> Result<String, String> {
    let dir = util::root().join("target/bench");
    let csv = dir.join("ledger.csv");
    const LEDGER: u64 = 400_000;
    if !csv.exists() {
        ledger_csv(&csv, LEDGER)?;
    }
    let mut table = String::new();
    let bins = [("current", current), (rev, baseline)];
    let mut prepared = Vec::new();
    for (label, bin) in bins {
        let url = database(
            backend,
            pg,
            &format!("writes-{}", label.replace('.', "")),
            true,
        )?;
        eprintln!("bench: {backend}: preparing the write database of {label}");
        seed(bin, &url, &["--calls", "100000"])?;
        run(Command::new(bin)
            .args(["--database", &url, "import-calls"])
            .arg(&csv)
            .args(["--account", "acc-northwind"])
            .env("RUST_LOG", "warn"))?;
        prepared.push((label, bin, url));
    }
    for round in 1..=2 {
        for (label, bin, url) in &prepared {
            let (_server, base) = start_server(bin, url)?;
            let token = sign_in(&base)?;
            let cases: [(&str, u32, bool, u32); 3] = [
                ("NewBillable, one per request", 1, false, 64),
                (
                    "NewBillable, 100 per request (auto-batched)",
                    100,
                    false,
                    16,
                ),
                (
                    "NewBillable, 100 per request, calls in the ledger",
                    100,
                    true,
                    16,
                ),
            ];
            for (name, batch, ledger, conns) in cases {
                if ledger && round == 2 {
                    continue; // the imported calls are billed now: the second round would repeat
                }
                let script = dir.join(format!("write-{batch}-{ledger}.lua"));
                util::write(&script, &lua(&token, batch, ledger))?;
                let path = if batch == 1 {
                    "/billables"
                } else {
                    "/api/NewBillable[]"
                };
                let run_secs = if ledger { secs.min(4) } else { secs };
                eprintln!("bench: {backend}: {label} round {round}: {name}");
                let out = wrk(&base, path, Some(&script), conns, run_secs)?;
                let m = parse_wrk(&format!("{name} — {label}, round {round}"), batch, &out);
                table.push_str(&row(backend, &m));
            }
        }
    }
    Ok(table)
}

/// Runs the server benchmark; returns the Markdown section.
pub fn run_server_bench(opts: &Options) -> Result<String, String> {
    ensure_wrk()?;
    let baseline = if opts.reads_only {
        PathBuf::new()
    } else {
        baseline_binary(&opts.baseline)?
    };
    run(cmd("cargo").args(["build", "--release", "-p", "evo-billing-server"]))?;
    let bin = util::root().join("target/release/evo-billing-server");
    let pg = crate::postgres::PgServer::start_durable("bench", opts.reuse);
    if let Err(e) = &pg {
        eprintln!("\n!!!!!!!! PostgreSQL UNAVAILABLE for the benchmark: {e} !!!!!!!!\n");
    }
    let pg_url = pg.as_ref().ok().map(|p| p.url.clone());
    let mut backends: Vec<(&str, Option<&str>)> = vec![("SQLite", None)];
    if let Some(u) = &pg_url {
        backends.push(("PostgreSQL", Some(u.as_str())));
    }
    let mut read_rows = String::new();
    let mut write_rows = String::new();
    let mut notes = Vec::new();
    for (backend, pg) in &backends {
        let (t, n) = reads(&bin, backend, *pg, opts)?;
        read_rows.push_str(&t);
        notes.extend(n);
        if opts.reads_only {
            continue;
        }
        write_rows.push_str(&writes(
            &bin,
            &baseline,
            &opts.baseline,
            backend,
            *pg,
            opts.secs,
        )?);
    }
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let head = "| backend | endpoint | requests/s | items/s | p50 | p99 | errors |\n|---|---|---|---|---|---|---|\n";
    let mut md = format!(
        "## Server on loopback (wrk) — {date}\n\nMachine: {}. Durable settings: SQLite in WAL with \
         synchronous=FULL; PostgreSQL with fsync and synchronous_commit on. Each backend's rows come \
         from one run, next to its own `/healthz` (measured first and last).\n\n\
         ### Reads at {} customers\n\nOne account (`acc-northwind`) of {} customers active on most \
         days of 13 months (`seed-demo --customers {}`), signed in as the administrator. One \
         connection (`wrk -t1 -c1`, {} s a row, after {WARM_UP_SECS} s of the same request not \
         measured, so a just-started database's first reads into its own buffers are not in the \
         tail): each latency is one request's service time, nothing queued behind another.\n\n\
         {head}{read_rows}\n",
        crate::bench::machine(),
        opts.customers,
        opts.customers,
        opts.customers,
        opts.secs
    );
    for n in &notes {
        md.push_str(&format!("- {n}\n"));
    }
    if opts.reads_only {
        return Ok(md);
    }
    md.push_str(&format!(
        "\n### Writes: this revision beside `{}`\n\nEach binary on its own fresh database \
         (`seed-demo --calls 100000`, then 400,000 unbilled calls imported into `acc-northwind`), \
         servers alternated twice. Single: 64 connections; batched: 16 connections × 100 billables. \
         \"calls in the ledger\": the billables name the imported calls, so each one also adds its \
         call to the roll-ups (every tier in this revision, the daily table in the baseline); the \
         other rows name calls not in the ledger (the insert path alone, as the earlier runs did).\n\n{head}{write_rows}\n",
        opts.baseline
    ));
    Ok(md)
}
