//! `kill`: SIGKILL at random moments under 64 connections reporting billables (singles, batches,
//! racing duplicates); then every acknowledged billable must be stored exactly once with its
//! customer, GetBilling must equal the baseline plus the harness's own sum, and the roll-ups must
//! equal a recomputation from the raw tables.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::common::*;

pub const ACCOUNT: &str = "acc-northwind";

/// One generated ledger call, with what the harness expects it to bill.
#[derive(Clone, Debug)]
pub struct GenCall {
    pub sid: String,
    pub customer: String,
    pub international: bool,
    pub cents: i64,
    pub recorded: bool,
}

/// The generated ledger: calls in `[first_day, first_day + 27]`.
pub struct Ledger {
    pub calls: Vec<GenCall>,
    pub prefix: String,
    pub start: String,
    pub end: String,
}

const FOREIGN: [&str; 8] = ["GB", "DE", "FR", "MX", "IN", "JP", "BR", "CA"];

/// The customers of an account (read from the database, test side).
pub async fn customers_of(url: &str, account: &str) -> Res<Vec<String>> {
    use sqlx::Row;
    let pool = reader(url).await?;
    let rows = sqlx::query("SELECT id FROM customers WHERE account_id = $1 ORDER BY id")
        .bind(account)
        .fetch_all(&pool)
        .await
        .map_err(err("read customers"))?;
    pool.close().await;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(err("id")))
        .collect()
}

/// Generates `n` calls with unique SIDs and whole-cent prices, writes them as a ledger CSV
/// (docs/IMPORT.md) and imports them with `import-calls`.
pub async fn make_ledger(
    opts: &Opts,
    url: &str,
    dir: &std::path::Path,
    n: usize,
    rng: &mut StdRng,
) -> Res<Ledger> {
    let customers = customers_of(url, ACCOUNT).await?;
    if customers.is_empty() {
        return Err("the demo account has no customers".into());
    }
    let first_day = today_day() - 45;
    let prefix = format!("CAc{:08x}", rng.gen::<u32>());
    let path = dir.join("ledger.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(err("ledger.csv"))?);
    writeln!(
        f,
        "Sid,StartTime,Direction,From,To,Country,Duration,Price,PriceUnit,RecordingDuration,RecordingPrice"
    )
    .map_err(err("write"))?;
    let mut calls = Vec::with_capacity(n);
    for i in 0..n {
        let sid = format!("{prefix}{i:021x}");
        let customer = customers[rng.gen_range(0..customers.len())].clone();
        let international = rng.gen_bool(0.4);
        let (country, direction, to) = if international {
            let c = FOREIGN[rng.gen_range(0..FOREIGN.len())];
            (
                c,
                "outbound-api",
                format!("+44{:09}", rng.gen_range(0..1_000_000_000u64)),
            )
        } else if rng.gen_bool(0.5) {
            (
                "US",
                "outbound-dial",
                format!("+1206{:07}", rng.gen_range(0..10_000_000u64)),
            )
        } else {
            ("US", "inbound", "+12065550100".to_string())
        };
        let cents = rng.gen_range(1..=900i64);
        let recorded = rng.gen_bool(0.2);
        let day = first_day + rng.gen_range(0..28);
        let secs = rng.gen_range(0..86_400);
        let duration = rng.gen_range(1..3600);
        let (rd, rp) = if recorded {
            (duration.to_string(), "-0.0025")
        } else {
            ("0".to_string(), "0")
        };
        writeln!(
            f,
            "{sid},{} {:02}:{:02}:{:02},{direction},+12065550199,{to},{country},{duration},-{}.{:02},USD,{rd},{rp}",
            ymd_of_day(day),
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            cents / 100,
            cents % 100
        )
        .map_err(err("write"))?;
        calls.push(GenCall {
            sid,
            customer,
            international,
            cents,
            recorded,
        });
    }
    f.flush().map_err(err("flush"))?;
    drop(f);
    let t = Instant::now();
    let out = server_command(
        opts,
        url,
        &[
            "import-calls",
            &path.display().to_string(),
            "--account",
            ACCOUNT,
        ],
    )
    .await?;
    eprintln!(
        "  imported {n} calls in {:.1} s: {}",
        t.elapsed().as_secs_f64(),
        out.lines()
            .find(|l| l.contains("loaded"))
            .unwrap_or("")
            .trim()
    );
    Ok(Ledger {
        calls,
        prefix,
        start: ymd_of_day(first_day),
        end: ymd_of_day(first_day + 27),
    })
}

#[derive(Clone)]
enum Item {
    Single(usize),
    Batch(Vec<usize>),
}

const NEVER: u8 = 0;
const IN_DOUBT: u8 = 1;
const ACKED: u8 = 2;

struct Shared {
    queue: Mutex<VecDeque<Item>>,
    state: Vec<AtomicU8>,
    in_flight: Counter,
    acked: Counter,
    requests: Statuses,
    rejected: Mutex<Vec<String>>,
    done: std::sync::atomic::AtomicBool,
}

/// Sends one item; returns whether it must be retried.
async fn send(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    calls: &[GenCall],
    item: &Item,
    shared: &Shared,
) -> bool {
    let body = |i: usize| json!({"accountId": ACCOUNT, "customerId": calls[i].customer, "callSid": calls[i].sid});
    let idx: Vec<usize> = match item {
        Item::Single(i) => vec![*i],
        Item::Batch(v) => v.clone(),
    };
    for &i in &idx {
        let _ =
            shared.state[i].compare_exchange(NEVER, IN_DOUBT, Ordering::SeqCst, Ordering::SeqCst);
    }
    let req = match item {
        Item::Single(i) => http.post(format!("{base}/billables")).json(&body(*i)),
        Item::Batch(v) => http
            .post(format!("{base}/api/NewBillable[]"))
            .json(&Value::Array(v.iter().map(|&i| body(i)).collect())),
    };
    let resp = req.bearer_auth(token).send().await;
    let kind = if matches!(item, Item::Single(_)) {
        "single"
    } else {
        "batch"
    };
    let key = match &resp {
        Ok(r) => format!("{kind}:{}", r.status().as_u16()),
        Err(e) if e.is_connect() => format!("{kind}:connect-error"),
        Err(_) => format!("{kind}:transport-error"),
    };
    shared.requests.add(key);
    let Ok(resp) = resp else { return true };
    let status = resp.status();
    match item {
        Item::Single(i) if status.as_u16() == 204 || status.as_u16() == 200 => {
            if shared.state[*i].swap(ACKED, Ordering::SeqCst) != ACKED {
                shared.acked.inc();
            }
            false
        }
        Item::Batch(v) if status.as_u16() == 200 => {
            let Ok(results) = resp.json::<Value>().await else {
                return true;
            };
            let results = results.as_array().cloned().unwrap_or_default();
            if results.len() != v.len() {
                shared.rejected.lock().await.push(format!(
                    "batch of {} answered {} results",
                    v.len(),
                    results.len()
                ));
                return true;
            }
            let mut retry = false;
            for (&i, r) in v.iter().zip(results) {
                if r.get("responseStatus").is_some_and(|s| !s.is_null()) {
                    let code = r["responseStatus"]["errorCode"].as_str().unwrap_or("?");
                    shared
                        .rejected
                        .lock()
                        .await
                        .push(format!("{}: {code}", calls[i].sid));
                    retry = true;
                } else if shared.state[i].swap(ACKED, Ordering::SeqCst) != ACKED {
                    shared.acked.inc();
                }
            }
            retry && status.is_server_error()
        }
        _ => {
            if status.is_client_error() && status.as_u16() != 429 {
                let text = resp.text().await.unwrap_or_default();
                let mut r = shared.rejected.lock().await;
                if r.len() < 20 {
                    r.push(format!(
                        "HTTP {status}: {}",
                        text.chars().take(200).collect::<String>()
                    ));
                }
                return false;
            }
            true
        }
    }
}

async fn worker(
    http: reqwest::Client,
    base: String,
    token: String,
    calls: Arc<Vec<GenCall>>,
    shared: Arc<Shared>,
) {
    loop {
        let item = {
            let mut q = shared.queue.lock().await;
            let item = q.pop_front();
            if item.is_some() {
                shared.in_flight.inc();
            }
            item
        };
        let Some(item) = item else {
            if shared.in_flight.get() == 0 || shared.done.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let retry = send(&http, &base, &token, &calls, &item, &shared).await;
        if retry {
            shared.queue.lock().await.push_back(item);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shared.in_flight.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn run(opts: &Opts) -> Res<Verdict> {
    let mut v = Verdict::new("kill", opts.backend);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let (n, kills, conns) = if opts.full {
        (220_000usize, 10usize, 64usize)
    } else {
        (20_000, 3, 64)
    };
    let dir = opts.work.join(format!("kill-{}", opts.backend.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(err("mkdir"))?;
    let url = fresh_database(opts, "kill", &dir).await?;
    let mut spec = ServerSpec::new(opts, &url, dir.join("server.log"))?;
    spec.serve_args = vec!["--demo-calls".into(), "5000".into()];
    let t0 = Instant::now();
    let mut server = spec.start().await?;
    v.fig(format!(
        "fixture: demo 5000 calls loaded in {:.1} s",
        t0.elapsed().as_secs_f64()
    ));
    let ledger = make_ledger(opts, &url, &dir, n, &mut rng).await?;
    let http = client(conns * 2, Duration::from_secs(30));
    let token = sign_in(&http, &spec.base(), ADMIN.0, ADMIN.1).await?;
    let baseline = get_billing(
        &http,
        &spec.base(),
        &token,
        ACCOUNT,
        &ledger.start,
        &ledger.end,
    )
    .await?;
    v.fig(format!(
        "baseline GetBilling {}..{}: {} customers",
        ledger.start,
        ledger.end,
        baseline.len()
    ));

    // The work: ~10% of the billables as singles, the rest in batches of 10–200; ~5% of the calls
    // reported twice at once (a duplicate right behind the original, so two workers race).
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    let mut items: VecDeque<Item> = VecDeque::new();
    let mut k = 0;
    let mut duplicates = 0;
    while k < order.len() {
        if rng.gen_bool(0.1) {
            let i = order[k];
            items.push_back(Item::Single(i));
            if rng.gen_bool(0.3) {
                items.push_back(Item::Single(i));
                duplicates += 1;
            }
            k += 1;
        } else {
            let size = rng.gen_range(10..=200).min(order.len() - k);
            let batch: Vec<usize> = order[k..k + size].to_vec();
            // A racing duplicate: some of this batch's calls again, as singles and in a batch.
            let dups: Vec<usize> = batch
                .iter()
                .copied()
                .filter(|_| rng.gen_bool(0.05))
                .collect();
            items.push_back(Item::Batch(batch));
            if !dups.is_empty() {
                duplicates += dups.len();
                if rng.gen_bool(0.5) {
                    items.push_back(Item::Batch(dups));
                } else {
                    for d in dups {
                        items.push_back(Item::Single(d));
                    }
                }
            }
            k += size;
        }
    }
    let request_count = items.len();
    let shared = Arc::new(Shared {
        queue: Mutex::new(items),
        state: (0..n).map(|_| AtomicU8::new(NEVER)).collect(),
        in_flight: Counter(0.into()),
        acked: Counter(0.into()),
        requests: Statuses::default(),
        rejected: Mutex::new(Vec::new()),
        done: std::sync::atomic::AtomicBool::new(false),
    });
    let calls = Arc::new(ledger.calls.clone());
    // Kill points: random fractions of the acknowledged count, with random jitter.
    let mut points: Vec<f64> = (0..kills).map(|_| rng.gen_range(0.05..0.92)).collect();
    points.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let run_started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..conns {
        handles.push(tokio::spawn(worker(
            http.clone(),
            spec.base(),
            token.clone(),
            calls.clone(),
            shared.clone(),
        )));
    }
    let limit = if opts.full {
        Duration::from_secs(1500)
    } else {
        Duration::from_secs(150)
    };
    let mut restarts = Vec::new();
    let mut killed = 0;
    for p in &points {
        let target = (*p * n as f64) as u64;
        while shared.acked.get() < target && run_started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..150))).await;
        server.kill().await;
        killed += 1;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..300))).await;
        let t = Instant::now();
        server = spec.start().await?;
        restarts.push(t.elapsed().as_millis() as u64);
    }
    for h in handles {
        let left = limit.saturating_sub(run_started.elapsed());
        if tokio::time::timeout(left, h).await.is_err() {
            shared.done.store(true, Ordering::SeqCst);
            v.fail(format!(
                "the workload did not finish within {} s",
                limit.as_secs()
            ));
            break;
        }
    }
    shared.done.store(true, Ordering::SeqCst);
    let run_secs = run_started.elapsed().as_secs_f64();
    // One more kill right after the last acknowledgement, then verify on the restarted server.
    server.kill().await;
    killed += 1;
    server = spec.start().await?;
    let acked: Vec<usize> = (0..n)
        .filter(|&i| shared.state[i].load(Ordering::SeqCst) == ACKED)
        .collect();
    let in_doubt: Vec<usize> = (0..n)
        .filter(|&i| shared.state[i].load(Ordering::SeqCst) != ACKED)
        .collect();
    v.fig(format!(
        "{n} calls, {request_count} requests ({duplicates} racing duplicates), {conns} connections, \
         {killed} SIGKILLs, run {run_secs:.1} s, {:.0} acked billables/s",
        acked.len() as f64 / run_secs
    ));
    v.fig(format!("requests: {}", shared.requests.describe()));
    restarts.sort();
    v.fig(format!(
        "restart to listening: median {} ms, max {} ms",
        percentile(&restarts, 0.5),
        restarts.last().copied().unwrap_or(0)
    ));
    let rejected = shared.rejected.lock().await.clone();
    v.check(
        rejected.is_empty(),
        format!(
            "{} items refused by the server: {:?}",
            rejected.len(),
            rejected.iter().take(5).collect::<Vec<_>>()
        ),
    );

    // 1. Every acknowledged billable stored exactly once with its customer.
    let stored = stored_billables(&url, ACCOUNT, &ledger.prefix).await?;
    let lost: Vec<&str> = acked
        .iter()
        .filter(|&&i| !stored.contains_key(&calls[i].sid))
        .map(|&i| calls[i].sid.as_str())
        .collect();
    let doubled = stored.values().filter(|c| c.len() > 1).count();
    let wrong: Vec<&str> = acked
        .iter()
        .filter(|&&i| {
            stored
                .get(&calls[i].sid)
                .is_some_and(|c| c.iter().any(|c| *c != calls[i].customer))
        })
        .map(|&i| calls[i].sid.as_str())
        .collect();
    v.fig(format!(
        "acknowledged {} (+{} in doubt at the end), stored {}",
        acked.len(),
        in_doubt.len(),
        stored.len()
    ));
    v.check(
        lost.is_empty(),
        format!(
            "{} acknowledged billables lost (e.g. {:?})",
            lost.len(),
            lost.iter().take(3).collect::<Vec<_>>()
        ),
    );
    v.check(doubled == 0, format!("{doubled} billables stored twice"));
    v.check(
        wrong.is_empty(),
        format!("{} billables stored with another customer", wrong.len()),
    );

    // 2. The in-doubt ones are reported again until acknowledged (as a client would).
    let token = sign_in(&http, &spec.base(), ADMIN.0, ADMIN.1).await?;
    if !in_doubt.is_empty() {
        let shared2 = Arc::new(Shared {
            queue: Mutex::new(
                in_doubt
                    .chunks(100)
                    .map(|c| Item::Batch(c.to_vec()))
                    .collect(),
            ),
            state: (0..n).map(|_| AtomicU8::new(NEVER)).collect(),
            in_flight: Counter(0.into()),
            acked: Counter(0.into()),
            requests: Statuses::default(),
            rejected: Mutex::new(Vec::new()),
            done: std::sync::atomic::AtomicBool::new(false),
        });
        let h = tokio::spawn(worker(
            http.clone(),
            spec.base(),
            token.clone(),
            calls.clone(),
            shared2.clone(),
        ));
        if tokio::time::timeout(Duration::from_secs(120), h)
            .await
            .is_err()
        {
            shared2.done.store(true, Ordering::SeqCst);
            v.fail("re-reporting the in-doubt billables did not finish in 120 s");
        }
    }
    let stored = stored_billables(&url, ACCOUNT, &ledger.prefix).await?;
    v.check(
        stored.len() == n,
        format!(
            "after re-reporting, {} of {n} billables stored",
            stored.len()
        ),
    );

    // 3. GetBilling = baseline + the harness's own sum.
    let mut expected: HashMap<String, (i64, bool)> = baseline.clone();
    let mut billed: HashSet<&str> = HashSet::new();
    for c in calls.iter() {
        let e = expected.entry(c.customer.clone()).or_insert((0, false));
        if c.international {
            e.0 += c.cents;
        }
        e.1 |= c.recorded;
        billed.insert(&c.customer);
    }
    let got = get_billing(
        &http,
        &spec.base(),
        &token,
        ACCOUNT,
        &ledger.start,
        &ledger.end,
    )
    .await?;
    let mut mismatches: Vec<String> = Vec::new();
    for (cust, want) in &expected {
        match got.get(cust) {
            Some(g) if g == want => {}
            other => mismatches.push(format!("{cust}: want {want:?} got {other:?}")),
        }
    }
    for cust in got.keys() {
        if !expected.contains_key(cust) {
            mismatches.push(format!("{cust}: unexpected in GetBilling"));
        }
    }
    mismatches.sort();
    let want_total: i64 = expected.values().map(|e| e.0).sum();
    let got_total: i64 = got.values().map(|e| e.0).sum();
    v.fig(format!(
        "GetBilling international total: expected {:.2}, got {:.2} ({} customers)",
        want_total as f64 / 100.0,
        got_total as f64 / 100.0,
        got.len()
    ));
    v.check(
        mismatches.is_empty(),
        format!(
            "GetBilling differs from baseline + independent sum for {} customers: {:?}",
            mismatches.len(),
            mismatches.iter().take(3).collect::<Vec<_>>()
        ),
    );

    // 4. Roll-ups = recomputation from the raw tables (the harness's SQL, and the server's check).
    server.kill().await;
    let (rows, diffs) = recompute_billing_rollup(&url).await?;
    v.check(
        diffs.is_empty(),
        format!(
            "billing_daily differs from billables ⋈ calls in {} of {rows} rows: {:?}",
            diffs.len(),
            diffs.iter().take(3).collect::<Vec<_>>()
        ),
    );
    match server_check(opts, &url).await {
        None => v.skip(
            "`evo-billing-server check` does not exist in this build (usage_daily not verified)",
        ),
        Some(Ok(_)) => v.fig("`evo-billing-server check`: roll-ups agree"),
        Some(Err(e)) => v.fail(format!("`evo-billing-server check` failed: {e}")),
    }
    Ok(v)
}
