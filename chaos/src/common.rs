//! What every suite shares: the options, the server as a child process (started, SIGKILLed,
//! restarted), a fresh database per suite, the HTTP client, and the read-only database view the
//! verifications use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub type Res<T> = Result<T, String>;

pub fn err<E: std::fmt::Display>(context: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{context}: {e}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The harness's options (see `main.rs` for the command line).
#[derive(Clone, Debug)]
pub struct Opts {
    pub server: PathBuf,
    pub backend: Backend,
    /// PostgreSQL: a URL of the server xtask started (any database); a fresh database is created
    /// next to it for each suite.
    pub pg_url: Option<String>,
    pub work: PathBuf,
    pub full: bool,
    /// `disk`: a mounted tmpfs (SQLite: 20 MiB, the database file goes there; PostgreSQL: the
    /// small cluster of `pg_tmpfs_url` has its files there).
    pub tmpfs: Option<PathBuf>,
    /// `disk` on PostgreSQL: a cluster whose files are on `tmpfs`.
    pub pg_tmpfs_url: Option<String>,
    /// `disk`: the LD_PRELOAD fault shim.
    pub shim: Option<PathBuf>,
    /// Extra time budget factor (1 = default bounds).
    pub seed: u64,
}

/// One suite's result: one line, figures and violations.
pub struct Verdict {
    pub suite: String,
    pub backend: Backend,
    pub figures: Vec<String>,
    pub violations: Vec<String>,
    pub not_run: Vec<String>,
}

impl Verdict {
    pub fn new(suite: &str, backend: Backend) -> Verdict {
        Verdict {
            suite: suite.into(),
            backend,
            figures: Vec::new(),
            violations: Vec::new(),
            not_run: Vec::new(),
        }
    }
    pub fn fig(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("  [{}/{}] {s}", self.suite, self.backend.name());
        self.figures.push(s);
    }
    pub fn fail(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("  [{}/{}] VIOLATION: {s}", self.suite, self.backend.name());
        self.violations.push(s);
    }
    pub fn check(&mut self, ok: bool, s: impl Into<String>) {
        if ok {
            self.fig(format!("ok: none of: {}", s.into()));
        } else {
            self.fail(s);
        }
    }
    pub fn skip(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("  [{}/{}] NOT RUN: {s}", self.suite, self.backend.name());
        self.not_run.push(s);
    }
    pub fn line(&self) -> String {
        let word = if !self.violations.is_empty() {
            "FAIL"
        } else if !self.not_run.is_empty() {
            "PASS-PARTIAL"
        } else {
            "PASS"
        };
        let mut s = format!(
            "VERDICT {} {} {word}: {}",
            self.suite,
            self.backend.name(),
            self.figures
                .iter()
                .filter(|f| !f.starts_with("ok: "))
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
        if !self.violations.is_empty() {
            s.push_str(&format!(
                " | VIOLATIONS ({}): {}",
                self.violations.len(),
                self.violations.join("; ")
            ));
        }
        if !self.not_run.is_empty() {
            s.push_str(&format!(" | NOT RUN: {}", self.not_run.join("; ")));
        }
        s
    }
}

// ------------------------------------------------------------------------------------------
// Databases

/// A fresh database for one suite: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database(opts: &Opts, name: &str, dir: &Path) -> Res<String> {
    match opts.backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(dir).map_err(err("mkdir"))?;
            let file = dir.join(format!("{name}.db"));
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
            }
            Ok(format!("sqlite://{}", file.display()))
        }
        Backend::Postgres => {
            let admin = opts
                .pg_url
                .as_deref()
                .ok_or("--pg-url is required for the postgres backend")?;
            let pool = connect(admin, 1).await?;
            let db = format!("chaos_{name}_{}", opts.seed % 1_000_000);
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&pool)
                .await
                .map_err(err("drop database"))?;
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&pool)
                .await
                .map_err(err("create database"))?;
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
            Ok(format!("{base}/{db}"))
        }
    }
}

pub async fn connect(url: &str, max: u32) -> Res<AnyPool> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .map_err(err("connect to the database"))
}

/// A read-only connection for verification (test side; the product never reads this way).
pub async fn reader(url: &str) -> Res<AnyPool> {
    if let Some(file) = url.strip_prefix("sqlite://") {
        connect(&format!("sqlite://{file}?mode=ro"), 2).await
    } else {
        connect(url, 2).await
    }
}

/// `(call_sid → [customer_id…])` for billables of `account` whose SID starts with `prefix`.
pub async fn stored_billables(
    url: &str,
    account: &str,
    prefix: &str,
) -> Res<HashMap<String, Vec<String>>> {
    let pool = reader(url).await?;
    let rows = sqlx::query(
        "SELECT call_sid, customer_id FROM billables WHERE account_id = $1 AND call_sid LIKE $2",
    )
    .bind(account)
    .bind(format!("{prefix}%"))
    .fetch_all(&pool)
    .await
    .map_err(err("read billables"))?;
    pool.close().await;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for r in rows {
        let sid: String = r.try_get(0).map_err(err("sid"))?;
        let customer: String = r.try_get(1).map_err(err("customer"))?;
        map.entry(sid).or_default().push(customer);
    }
    Ok(map)
}

/// Harness-side recomputation of the day rows of `billing_rollup` (tier 0) from `billables` ⋈
/// `calls`: the rows that differ, described (empty when the roll-up agrees with the raw tables).
/// The server's own `check` covers the other tiers and the usage roll-up.
pub async fn recompute_billing_rollup(url: &str) -> Res<(usize, Vec<String>)> {
    let pool = reader(url).await?;
    let key = |r: &sqlx::any::AnyRow| -> Res<(String, String, i64)> {
        Ok((
            r.try_get::<String, _>(0).map_err(err("a"))?,
            r.try_get::<String, _>(1).map_err(err("c"))?,
            r.try_get::<i64, _>(2).map_err(err("d"))?,
        ))
    };
    let vals = |r: &sqlx::any::AnyRow| -> Res<[i64; 4]> {
        let mut v = [0i64; 4];
        for (i, slot) in v.iter_mut().enumerate() {
            *slot = r.try_get::<i64, _>(3 + i).map_err(err("value"))?;
        }
        Ok(v)
    };
    let stored = sqlx::query(
        "SELECT account_id, customer_id, CAST(start AS BIGINT), billed_calls, international_calls, \
         international_micros, recorded_calls FROM billing_rollup WHERE tier = 0",
    )
    .fetch_all(&pool)
    .await
    .map_err(err("read billing_rollup"))?;
    let fresh = sqlx::query(
        "SELECT b.account_id, b.customer_id, CAST(c.day AS BIGINT), CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(c.international) AS BIGINT), \
         CAST(SUM(CASE WHEN c.international = 1 THEN c.price_micros ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN c.recording_secs > 0 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
         GROUP BY b.account_id, b.customer_id, c.day",
    )
    .fetch_all(&pool)
    .await
    .map_err(err("recompute billing_rollup"))?;
    pool.close().await;
    let mut a: HashMap<(String, String, i64), [i64; 4]> = HashMap::new();
    for r in &stored {
        let v = vals(r)?;
        if v != [0; 4] {
            a.insert(key(r)?, v);
        }
    }
    let mut b: HashMap<(String, String, i64), [i64; 4]> = HashMap::new();
    for r in &fresh {
        b.insert(key(r)?, vals(r)?);
    }
    let mut diffs = Vec::new();
    for (k, v) in &b {
        match a.get(k) {
            Some(s) if s == v => {}
            other => diffs.push(format!("{k:?}: stored {other:?}, recomputed {v:?}")),
        }
    }
    for (k, v) in &a {
        if !b.contains_key(k) {
            diffs.push(format!("{k:?}: stored {v:?}, recomputed nothing"));
        }
    }
    diffs.sort();
    Ok((b.len(), diffs))
}

/// `evo-billing-server --database URL check`: Some(Ok(output)) when it agrees, Some(Err(..))
/// when it reports a difference, None when the command does not exist in this build.
pub async fn server_check(opts: &Opts, url: &str) -> Option<Result<String, String>> {
    let out = Command::new(&opts.server)
        .args(["--database", url, "check"])
        .env("RUST_LOG", "warn")
        .output()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) => return Some(Err(format!("cannot run check: {e}"))),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(2) && text.contains("unrecognized subcommand") {
        return None;
    }
    let short: String = text.trim().chars().take(600).collect();
    Some(if out.status.success() {
        Ok(short)
    } else {
        Err(format!("exit {:?}: {short}", out.status.code()))
    })
}

/// Runs a server subcommand to completion (import-calls, …).
pub async fn server_command(opts: &Opts, url: &str, args: &[&str]) -> Res<String> {
    let out = Command::new(&opts.server)
        .args(["--database", url])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .map_err(err("run the server command"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("`{}` failed: {}", args.join(" "), text.trim()))
    }
}

// ------------------------------------------------------------------------------------------
// The server process

/// How to start the server (again and again, on the same port and database).
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub bin: PathBuf,
    pub database: String,
    pub port: u16,
    pub serve_args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// RLIMIT_NOFILE of the server process (soft and hard).
    pub nofile: Option<u64>,
    pub log: PathBuf,
}

pub struct Server {
    pub child: Child,
    pub pid: u32,
}

pub fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(err("bind"))?;
    Ok(l.local_addr().map_err(err("addr"))?.port())
}

impl ServerSpec {
    pub fn new(opts: &Opts, database: &str, log: PathBuf) -> Res<ServerSpec> {
        Ok(ServerSpec {
            bin: opts.server.clone(),
            database: database.into(),
            port: free_port()?,
            serve_args: Vec::new(),
            env: Vec::new(),
            nofile: None,
            log,
        })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it says where it listens (demo data loading included).
    pub async fn start(&self) -> Res<Server> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(err("open the server log"))?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--database", &self.database, "serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.serve_args)
            .env("RUST_LOG", "warn,sqlx=error")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if let Some(n) = self.nofile {
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(err("start the server"))?;
        let pid = child.id().unwrap_or(0);
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Duration::from_secs(300);
        loop {
            let line = tokio::time::timeout(
                deadline.saturating_sub(started.elapsed()),
                lines.next_line(),
            )
            .await
            .map_err(|_| "the server did not start within 300 s".to_string())?
            .map_err(err("read the server's stdout"))?;
            match line {
                None => {
                    let status = child.wait().await.ok();
                    let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
                    let tail: String = tail
                        .lines()
                        .rev()
                        .take(8)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<Vec<_>>()
                        .join("\n");
                    return Err(format!(
                        "the server exited ({status:?}) before listening:\n{tail}"
                    ));
                }
                Some(l) if l.contains("running at ") => break,
                Some(_) => {}
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server { child, pid })
    }
}

impl Server {
    /// SIGKILL and reap.
    pub async fn kill(&mut self) {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid as i32, libc::SIGKILL);
        }
        let _ = self.child.wait().await;
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid as i32, sig);
        }
    }

    /// (VmHWM, VmRSS) in KiB from /proc.
    pub fn memory_kib(&self) -> (u64, u64) {
        let text =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let grab = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (grab("VmHWM:"), grab("VmRSS:"))
    }

    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// Raises this process's RLIMIT_NOFILE soft limit to its hard limit; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            return lim.rlim_cur;
        }
    }
    0
}

// ------------------------------------------------------------------------------------------
// HTTP

pub fn client(pool: usize, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .build()
        .expect("reqwest client")
}

/// Signs in (retrying while the server comes up); returns the bearer token.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> Res<String> {
    let mut last = String::new();
    for _ in 0..50 {
        let r = http
            .post(format!("{base}/auth/credentials"))
            .json(&serde_json::json!({"userName": user, "password": password}))
            .send()
            .await;
        match r {
            Ok(resp) if resp.status().is_success() => {
                let v: Value = resp.json().await.map_err(err("sign-in body"))?;
                if let Some(t) = v["bearerToken"].as_str() {
                    return Ok(t.to_string());
                }
                last = format!("no bearerToken in {v}");
            }
            Ok(resp) => last = format!("HTTP {}", resp.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("sign-in as {user} failed: {last}"))
}

pub const ADMIN: (&str, &str) = ("admin@demo.evovoice.io", "demo-admin");
pub const MANAGER: (&str, &str) = ("manager@demo.evovoice.io", "demo-manager");

/// GetBilling → customerId → (international cents, hasCallRecording).
pub async fn get_billing(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    account: &str,
    start: &str,
    end: &str,
) -> Res<HashMap<String, (i64, bool)>> {
    let resp = http
        .get(format!(
            "{base}/billing?accountId={account}&startDate={start}&endDate={end}"
        ))
        .bearer_auth(token)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(err("GetBilling"))?;
    let status = resp.status();
    let v: Value = resp.json().await.map_err(err("GetBilling body"))?;
    if !status.is_success() {
        return Err(format!("GetBilling: HTTP {status}: {v}"));
    }
    let list = v["customers"]
        .as_array()
        .or_else(|| v.as_array())
        .cloned()
        .unwrap_or_default();
    let mut out = HashMap::new();
    for c in list {
        let id = c["customerId"].as_str().unwrap_or("").to_string();
        let cents = (c["internationalCosts"].as_f64().unwrap_or(0.0) * 100.0).round() as i64;
        let rec = c["hasCallRecording"].as_bool().unwrap_or(false);
        out.insert(id, (cents, rec));
    }
    Ok(out)
}

/// Counts of HTTP outcomes, shared between tasks.
#[derive(Default)]
pub struct Statuses {
    pub map: Mutex<HashMap<String, u64>>,
}

impl Statuses {
    pub fn add(&self, key: impl Into<String>) {
        *self.map.lock().unwrap().entry(key.into()).or_insert(0) += 1;
    }
    pub fn get(&self, key: &str) -> u64 {
        self.map.lock().unwrap().get(key).copied().unwrap_or(0)
    }
    pub fn sum_where(&self, f: impl Fn(&str) -> bool) -> u64 {
        self.map
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| f(k))
            .map(|(_, v)| *v)
            .sum()
    }
    pub fn describe(&self) -> String {
        let m = self.map.lock().unwrap();
        let mut v: Vec<_> = m.iter().collect();
        v.sort();
        v.iter()
            .map(|(k, n)| format!("{k}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The key for a response status or a transport error.
pub fn outcome_key(r: &Result<reqwest::StatusCode, reqwest::Error>) -> String {
    match r {
        Ok(s) => s.as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(e) if e.is_connect() => "connect-error".into(),
        Err(_) => "transport-error".into(),
    }
}

pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub struct Counter(pub AtomicU64);
impl Counter {
    pub fn new() -> Arc<Counter> {
        Arc::new(Counter(AtomicU64::new(0)))
    }
    pub fn inc(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Dates as the API writes them, `days` from today (UTC).
pub fn ymd_days_ago(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    ymd_of_day(now.div_euclid(86_400) - days)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01), civil-from-days.
pub fn ymd_of_day(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn today_day() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        .div_euclid(86_400)
}
