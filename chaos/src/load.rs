//! `load`: a mixed workload at 256 connections (0 5xx, p50/p99, peak RSS), a 1,024-connection
//! burst (shed with 503/429 rather than queue for seconds; served at once afterwards), slowloris
//! (~1,100 connections sending a header byte a second must not stop a normal client being
//! served within 1 s), and one hostile batch (4 MiB of `[1,1,…]`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::common::*;
use crate::kill::{customers_of, ACCOUNT};

/// The server's descriptor limit in this suite (the common default soft limit).
pub const SERVER_NOFILE: u64 = 1024;
/// Peak RSS bound for the mixed workload and the burst, MiB.
pub const RSS_BOUND_MIB: u64 = 512;

struct Mix {
    statuses: Statuses,
    latencies: Mutex<Vec<u64>>,
    stop: AtomicBool,
    seq: Counter,
    retry_after: Counter,
}

async fn mixed_client(
    http: reqwest::Client,
    base: String,
    token: String,
    customers: Arc<Vec<String>>,
    mix: Arc<Mix>,
    seed: u64,
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut lat = Vec::new();
    while !mix.stop.load(Ordering::Relaxed) {
        let pick = rng.gen_range(0..100);
        let ago = rng.gen_range(1..300);
        let (start, end) = (ymd_days_ago(ago + rng.gen_range(0..60)), ymd_days_ago(ago));
        let req = if pick < 30 {
            http.get(format!(
                "{base}/billing?accountId={ACCOUNT}&startDate={start}&endDate={end}"
            ))
        } else if pick < 45 {
            http.get(format!(
                "{base}/billing/usage?accountId={ACCOUNT}&startDate={start}&endDate={end}"
            ))
        } else if pick < 70 {
            let n = mix.seq.inc();
            http.post(format!("{base}/billables")).json(&json!({
                "accountId": ACCOUNT,
                "customerId": customers[n as usize % customers.len()],
                "callSid": format!("CAload{seed:04}x{n:010}"),
            }))
        } else if pick < 85 {
            let items: Vec<Value> = (0..50)
                .map(|_| {
                    let n = mix.seq.inc();
                    json!({
                        "accountId": ACCOUNT,
                        "customerId": customers[n as usize % customers.len()],
                        "callSid": format!("CAload{seed:04}x{n:010}"),
                    })
                })
                .collect();
            http.post(format!("{base}/api/NewBillable[]"))
                .json(&Value::Array(items))
        } else {
            http.get(format!("{base}/healthz"))
        };
        let t = Instant::now();
        let r = req
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .send()
            .await;
        let r = match r {
            Ok(resp) => {
                if resp.headers().contains_key("retry-after") {
                    mix.retry_after.inc();
                }
                let s = resp.status();
                match resp.bytes().await {
                    Ok(_) => Ok(s),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        lat.push(t.elapsed().as_micros() as u64);
        let failed = !matches!(&r, Ok(s) if s.is_success());
        mix.statuses.add(outcome_key(&r));
        if failed {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    mix.latencies.lock().unwrap().extend(lat);
}

async fn run_mix(
    conns: usize,
    secs: u64,
    base: &str,
    token: &str,
    customers: &Arc<Vec<String>>,
    seed: u64,
) -> (Arc<Mix>, Vec<u64>, f64) {
    let mix = Arc::new(Mix {
        statuses: Statuses::default(),
        latencies: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        seq: Counter(0.into()),
        retry_after: Counter(0.into()),
    });
    let http = client(conns, Duration::from_secs(30));
    let started = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            tokio::spawn(mixed_client(
                http.clone(),
                base.to_string(),
                token.to_string(),
                customers.clone(),
                mix.clone(),
                seed * 10_000 + i as u64,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    mix.stop.store(true, Ordering::SeqCst);
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs(40), h).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = mix.latencies.lock().unwrap().clone();
    lat.sort_unstable();
    (mix, lat, elapsed)
}

/// One request on a new connection; its latency, or why it failed.
async fn fresh_request(base: &str, token: &str, timeout: Duration) -> Result<Duration, String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(timeout)
        .build()
        .map_err(err("client"))?;
    let t = Instant::now();
    let r = http
        .get(format!(
            "{base}/billing?accountId={ACCOUNT}&startDate={}&endDate={}",
            ymd_days_ago(30),
            ymd_days_ago(1)
        ))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| format!("{}", e.without_url()))?;
    let s = r.status();
    let _ = r.bytes().await;
    if s.is_success() {
        Ok(t.elapsed())
    } else {
        Err(format!("HTTP {s}"))
    }
}

pub async fn run(opts: &Opts) -> Res<Verdict> {
    let mut v = Verdict::new("load", opts.backend);
    let dir = opts.work.join(format!("load-{}", opts.backend.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(err("mkdir"))?;
    let url = fresh_database(opts, "load", &dir).await?;
    let mut spec = ServerSpec::new(opts, &url, dir.join("server.log"))?;
    spec.serve_args = vec!["--demo-calls".into(), "20000".into()];
    spec.nofile = Some(SERVER_NOFILE);
    let mut server = spec.start().await?;
    let base = spec.base();
    let http = client(4, Duration::from_secs(30));
    let token = sign_in(&http, &base, ADMIN.0, ADMIN.1).await?;
    let customers = Arc::new(customers_of(&url, ACCOUNT).await?);
    v.fig(format!(
        "server RLIMIT_NOFILE {SERVER_NOFILE}, demo 20000 calls"
    ));

    // 1. Mixed workload at 256 connections.
    let secs = if opts.full { 60 } else { 10 };
    let (mix, lat, elapsed) = run_mix(256, secs, &base, &token, &customers, opts.seed % 1000).await;
    let total = lat.len();
    let n5xx = mix.statuses.sum_where(|k| k.starts_with('5'));
    let transport = mix
        .statuses
        .sum_where(|k| !k.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let (hwm, _) = server.memory_kib();
    v.fig(format!(
        "256 conns × {secs} s: {total} requests ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms; [{}]; peak RSS {} MiB",
        total as f64 / elapsed,
        percentile(&lat, 0.5) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
        mix.statuses.describe(),
        hwm / 1024
    ));
    v.check(
        n5xx == 0,
        format!(
            "256 connections: {n5xx} answers were 5xx ({})",
            mix.statuses.describe()
        ),
    );
    v.check(
        transport == 0,
        format!("256 connections: {transport} requests failed without an answer"),
    );
    v.check(
        hwm / 1024 <= RSS_BOUND_MIB,
        format!(
            "peak RSS {} MiB over the {RSS_BOUND_MIB} MiB bound",
            hwm / 1024
        ),
    );

    // 2. A 1,024-connection burst.
    let burst_secs = if opts.full { 20 } else { 6 };
    let (mix, lat, elapsed) = run_mix(
        1024,
        burst_secs,
        &base,
        &token,
        &customers,
        opts.seed % 1000 + 1,
    )
    .await;
    let shed = mix.statuses.get("503") + mix.statuses.get("429");
    let n5xx_other = mix.statuses.sum_where(|k| k.starts_with('5') && k != "503");
    let transport = mix
        .statuses
        .sum_where(|k| !k.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let slow = lat.iter().filter(|l| **l > 2_000_000).count();
    let after = fresh_request(&base, &token, Duration::from_secs(10)).await;
    let (hwm, _) = server.memory_kib();
    v.fig(format!(
        "1024 conns × {burst_secs} s: {} requests ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, {slow} over 2 s; shed 503/429 {shed} (Retry-After {}); [{}]; next request {}; peak RSS {} MiB",
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5) as f64 / 1000.0,
        percentile(&lat, 0.99) as f64 / 1000.0,
        mix.retry_after.get(),
        mix.statuses.describe(),
        match &after {
            Ok(d) => format!("{} ms", d.as_millis()),
            Err(e) => e.clone(),
        },
        hwm / 1024
    ));
    v.check(
        slow == 0 || shed > 0,
        format!(
            "1024 connections queued instead of shedding: {slow} requests over 2 s (p99 {:.0} ms) with no 503/429",
            percentile(&lat, 0.99) as f64 / 1000.0
        ),
    );
    v.check(
        n5xx_other == 0,
        format!("1024 connections: {n5xx_other} 5xx other than 503"),
    );
    v.check(
        transport == 0,
        format!("1024 connections: {transport} requests got no answer (refused/reset/timeout)"),
    );
    v.check(
        matches!(after, Ok(d) if d <= Duration::from_secs(1)),
        format!("after the burst, a normal request was not served within 1 s: {after:?}"),
    );

    // 3. Slowloris: ~1,100 connections dribbling a request header.
    let loris_n = 1100;
    let stop = Arc::new(AtomicBool::new(false));
    let opened = Counter::new();
    let port = spec.port;
    let mut loris = Vec::new();
    for _ in 0..loris_n {
        let stop = stop.clone();
        let opened = opened.clone();
        loris.push(tokio::spawn(async move {
            let Ok(Ok(mut s)) = tokio::time::timeout(
                Duration::from_secs(3),
                tokio::net::TcpStream::connect(("127.0.0.1", port)),
            )
            .await
            else {
                return;
            };
            opened.inc();
            let header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            for b in header.iter().cycle() {
                if stop.load(Ordering::Relaxed) || s.write_all(&[*b]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fds = server.open_fds();
    let probe_secs = if opts.full { 30 } else { 10 };
    let t = Instant::now();
    let mut worst = Duration::ZERO;
    let mut failures = Vec::new();
    let mut probes = 0;
    while t.elapsed() < Duration::from_secs(probe_secs) {
        probes += 1;
        match fresh_request(&base, &token, Duration::from_secs(3)).await {
            Ok(d) => {
                worst = worst.max(d);
                if d > Duration::from_secs(1) {
                    failures.push(format!("{} ms", d.as_millis()));
                }
            }
            Err(e) => failures.push(e),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for h in loris {
        h.abort();
    }
    let recovered = {
        tokio::time::sleep(Duration::from_millis(500)).await;
        fresh_request(&base, &token, Duration::from_secs(5)).await
    };
    v.fig(format!(
        "slowloris: {} of {loris_n} connections open (server fds {fds}/{SERVER_NOFILE}); normal client: {probes} probes, {} failed or > 1 s, worst served {} ms; after: {recovered:?}",
        opened.get(),
        failures.len(),
        worst.as_millis()
    ));
    v.check(
        failures.is_empty(),
        format!(
            "slowloris: {} of {probes} normal requests not served within 1 s: {:?}",
            failures.len(),
            {
                let mut f = failures.clone();
                f.dedup();
                f.into_iter().take(3).collect::<Vec<_>>()
            }
        ),
    );

    // 4. A hostile batch: 4 MiB of `[1,1,…]` (a body within the limit).
    let mut body = Vec::with_capacity(4 * 1024 * 1024);
    body.push(b'[');
    while body.len() < 4 * 1024 * 1024 - 3 {
        body.extend_from_slice(b"1,");
    }
    body.extend_from_slice(b"1]");
    let (before, _) = server.memory_kib();
    let hostile = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(err("client"))?;
    let t = Instant::now();
    let r = hostile
        .post(format!("{base}/api/NewBillable[]"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    let (status, size) = match r {
        Ok(r) => {
            let s = r.status().as_u16();
            (s.to_string(), r.bytes().await.map(|b| b.len()).unwrap_or(0))
        }
        Err(e) => (format!("{}", e.without_url()), 0),
    };
    let (hwm_after, rss_after) = server.memory_kib();
    v.fig(format!(
        "hostile 4 MiB [1,1,…] batch: HTTP {status}, {:.1} MB answer in {:.1} s; peak RSS {} → {} MiB (RSS now {} MiB)",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        before / 1024,
        hwm_after / 1024,
        rss_after / 1024
    ));
    v.check(
        size <= 4 * 1024 * 1024 && hwm_after / 1024 <= RSS_BOUND_MIB,
        format!(
            "hostile batch: {:.1} MB answer, peak RSS {} MiB (bounds: 4 MiB, {RSS_BOUND_MIB} MiB)",
            size as f64 / 1e6,
            hwm_after / 1024
        ),
    );
    server.kill().await;
    Ok(v)
}
