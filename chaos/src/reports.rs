//! `reports`: a webhook receiver inside the harness; reports queued, the server SIGKILLed while
//! reports are queued, running and notifying, restarted; every report must end Completed or
//! Error soon after the restart (a restarted server takes back its own reports at once), every
//! webhook must be attempted,
//! delivered and recorded. And a receiver answering 429 + Retry-After for one user must not stall
//! another user's report.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sqlx::Row;

use crate::common::*;
use crate::kill::ACCOUNT;

#[derive(Clone, Debug)]
struct Attempt {
    hook: String,
    report: String,
    delivery: Option<String>,
    signed: bool,
    answered: u16,
}

struct Receiver {
    log: Mutex<Vec<Attempt>>,
    /// Hooks whose first attempt has been stalled already.
    stalled: Mutex<HashSet<String>>,
}

async fn hook(
    State(rx): State<Arc<Receiver>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let report = v["report"]["id"].as_str().unwrap_or("").to_string();
    let header = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let mut a = Attempt {
        hook: name.clone(),
        report,
        delivery: header("x-evo-delivery"),
        signed: header("x-evo-signature").is_some(),
        answered: 200,
    };
    if name.starts_with("busy") {
        a.answered = 429;
        rx.log.lock().unwrap().push(a);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", "20")],
            "slow down",
        )
            .into_response();
    }
    if name.starts_with("stall") && rx.stalled.lock().unwrap().insert(name.clone()) {
        // The first attempt hangs (the server is killed meanwhile); it is logged as attempted.
        a.answered = 0;
        rx.log.lock().unwrap().push(a);
        tokio::time::sleep(Duration::from_secs(30)).await;
        return StatusCode::OK.into_response();
    }
    rx.log.lock().unwrap().push(a);
    StatusCode::OK.into_response()
}

async fn start_receiver() -> Res<(Arc<Receiver>, u16)> {
    let rx = Arc::new(Receiver {
        log: Mutex::new(Vec::new()),
        stalled: Mutex::new(HashSet::new()),
    });
    let app = axum::Router::new()
        .route("/hook/{name}", axum::routing::post(hook))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(err("bind the receiver"))?;
    let port = listener.local_addr().map_err(err("addr"))?.port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((rx, port))
}

async fn queue_report(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    hook_port: u16,
    hook: &str,
) -> Res<String> {
    let start = ymd_days_ago(60);
    let end = ymd_days_ago(1);
    // A user may have ten reports queued or running: on 429, wait as Retry-After says (as a
    // client would) and queue again, for at most a minute.
    let deadline = Instant::now() + Duration::from_secs(60);
    let v = loop {
        let r = http
            .post(format!("{base}/reports/billing"))
            .bearer_auth(token)
            .json(&json!({
                "accountId": ACCOUNT,
                "startDate": start,
                "endDate": end,
                "webhookUrl": format!("http://127.0.0.1:{hook_port}/hook/{hook}"),
                "emailAddressToNotify": format!("{hook}@example.com"),
            }))
            .send()
            .await
            .map_err(err("BillingReport"))?;
        let status = r.status();
        let wait = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let v: Value = r.json().await.map_err(err("BillingReport body"))?;
        if status.as_u16() == 429 && Instant::now() < deadline {
            let Some(secs) = wait else {
                return Err(format!("BillingReport: 429 without Retry-After: {v}"));
            };
            tokio::time::sleep(Duration::from_secs(secs.min(10))).await;
            continue;
        }
        if !status.is_success() {
            return Err(format!("BillingReport: HTTP {status}: {v}"));
        }
        break v;
    };
    v["id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("no id in {v}"))
}

#[derive(Debug, Clone)]
struct Row_ {
    status: String,
    webhook: Option<String>,
    email: Option<String>,
    attempts: i64,
}

async fn report_rows(url: &str) -> Res<HashMap<String, Row_>> {
    let pool = reader(url).await?;
    let rows = sqlx::query(
        "SELECT id, status, webhook_status, email_status, CAST(attempts AS BIGINT) FROM reports",
    )
    .fetch_all(&pool)
    .await
    .map_err(err("read reports"))?;
    pool.close().await;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(
            r.try_get::<String, _>(0).map_err(err("id"))?,
            Row_ {
                status: r.try_get(1).map_err(err("status"))?,
                webhook: r.try_get(2).map_err(err("webhook_status"))?,
                email: r.try_get(3).map_err(err("email_status"))?,
                attempts: r.try_get(4).map_err(err("attempts"))?,
            },
        );
    }
    Ok(out)
}

pub async fn run(opts: &Opts) -> Res<Verdict> {
    let mut v = Verdict::new("reports", opts.backend);
    let dir = opts.work.join(format!("reports-{}", opts.backend.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(err("mkdir"))?;
    let url = fresh_database(opts, "reports", &dir).await?;
    let mut spec = ServerSpec::new(opts, &url, dir.join("server.log"))?;
    spec.serve_args = vec![
        "--demo-calls".into(),
        "5000".into(),
        "--allow-private-webhooks".into(),
    ];
    let (rx, hook_port) = start_receiver().await?;
    let http = client(16, Duration::from_secs(30));
    let mut server = spec.start().await?;
    let base = spec.base();
    let admin = sign_in(&http, &base, ADMIN.0, ADMIN.1).await?;
    let manager = sign_in(&http, &base, MANAGER.0, MANAGER.1).await?;
    let mut ids: Vec<(String, String)> = Vec::new(); // (id, hook)
    let rounds = if opts.full { 3 } else { 1 };
    let mut killed_notifying = 0;
    let mut killed_queued: HashSet<String> = HashSet::new();
    let mut killed_running = 0;

    for round in 0..rounds {
        // Kill while notifying (a webhook hangs) with reports queued behind it.
        let stall = format!("stall-{round}");
        ids.push((
            queue_report(&http, &base, &admin, hook_port, &stall).await?,
            stall.clone(),
        ));
        let t = Instant::now();
        while !rx.log.lock().unwrap().iter().any(|a| a.hook == stall)
            && t.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for q in 0..5 {
            let hook = format!("ok-q{round}-{q}");
            ids.push((
                queue_report(&http, &base, &admin, hook_port, &hook).await?,
                hook,
            ));
        }
        let before = report_rows(&url).await?;
        killed_queued.extend(
            before
                .iter()
                .filter(|(_, r)| r.status == "Queued")
                .map(|(id, _)| id.clone()),
        );
        if rx.log.lock().unwrap().iter().any(|a| a.hook == stall) {
            killed_notifying += 1;
        } else {
            v.fail(format!(
                "round {round}: the stalling webhook was never called within 20 s"
            ));
        }
        server.kill().await;
        server = spec.start().await?;

        // Kill while running: freeze the server (SIGSTOP) at random moments until the database
        // shows a report Running, then SIGKILL it.
        for r in 0..12 {
            let hook = format!("ok-r{round}-{r}");
            ids.push((
                queue_report(&http, &base, &admin, hook_port, &hook).await?,
                hook,
            ));
        }
        let mut caught = false;
        for attempt in 0..400 {
            server.signal(libc::SIGSTOP);
            let rows = report_rows(&url).await?;
            if rows.values().any(|r| r.status == "Running") {
                server.signal(libc::SIGKILL);
                let _ = server.child.wait().await;
                killed_running += rows.values().filter(|r| r.status == "Running").count();
                killed_queued.extend(
                    rows.iter()
                        .filter(|(_, r)| r.status == "Queued")
                        .map(|(id, _)| id.clone()),
                );
                caught = true;
                break;
            }
            server.signal(libc::SIGCONT);
            if rows.values().all(|r| r.status != "Queued") {
                // The queue drained before we caught one running: queue more.
                let hook = format!("ok-r{round}-x{attempt}");
                ids.push((
                    queue_report(&http, &base, &admin, hook_port, &hook).await?,
                    hook,
                ));
            }
            tokio::time::sleep(Duration::from_micros(500 + (attempt % 7) * 300)).await;
        }
        if !caught {
            v.fig(format!(
                "round {round}: never caught a report Running in 400 freezes"
            ));
            server.kill().await;
        }
        server = spec.start().await?;
    }
    let restarted = Instant::now();
    v.fig(format!(
        "{} reports; SIGKILLed with {} queued, {killed_running} running, {killed_notifying} notifying",
        ids.len(),
        killed_queued.len()
    ));

    // Every report must end Completed or Error soon after the last restart.
    let bound = if opts.full {
        Duration::from_secs(330)
    } else {
        Duration::from_secs(30)
    };
    let mut rows = report_rows(&url).await?;
    while restarted.elapsed() < bound {
        let settled = ids.iter().all(|(id, _)| {
            rows.get(id).is_some_and(|r| {
                (r.status == "Completed" || r.status == "Error")
                    && r.webhook.is_some()
                    && r.email.is_some()
            })
        });
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        rows = report_rows(&url).await?;
    }
    let settle_secs = restarted.elapsed().as_secs_f64();
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for (id, _) in &ids {
        *by_status
            .entry(rows.get(id).map_or("missing".into(), |r| r.status.clone()))
            .or_insert(0) += 1;
    }
    let mut sorted: Vec<_> = by_status.iter().collect();
    sorted.sort();
    v.fig(format!(
        "after restart ({settle_secs:.1} s, bound {} s): {sorted:?}",
        bound.as_secs()
    ));
    let stuck: Vec<&String> = ids
        .iter()
        .filter(|(id, _)| {
            rows.get(id)
                .is_none_or(|r| r.status == "Running" || r.status == "Queued")
        })
        .map(|(id, _)| id)
        .collect();
    v.check(
        stuck.is_empty(),
        format!(
            "{} reports still Queued/Running {} s after the restart (leases are 30 s and a restarted server takes back its own at once)",
            stuck.len(),
            bound.as_secs()
        ),
    );
    let log = rx.log.lock().unwrap().clone();
    let mut undelivered = Vec::new();
    let mut unrecorded = Vec::new();
    let mut unattempted = Vec::new();
    for (id, hook) in &ids {
        let attempts: Vec<&Attempt> = log.iter().filter(|a| a.report == *id).collect();
        if attempts.is_empty() {
            unattempted.push(hook.clone());
        }
        if !attempts.iter().any(|a| (200..300).contains(&a.answered)) {
            undelivered.push(hook.clone());
        }
        let r = rows.get(id);
        if r.is_none_or(|r| r.webhook.is_none() || r.email.is_none()) {
            unrecorded.push(hook.clone());
        }
    }
    let signed = log.iter().filter(|a| a.signed).count();
    let with_delivery = log.iter().filter(|a| a.delivery.is_some()).count();
    v.fig(format!(
        "receiver: {} attempts ({signed} signed, {with_delivery} with X-Evo-Delivery)",
        log.len()
    ));
    let max_attempts = rows.values().map(|r| r.attempts).max().unwrap_or(0);
    v.fig(format!("max claims of one report: {max_attempts}"));
    v.check(
        unattempted.is_empty(),
        format!(
            "{} reports' webhooks never attempted: {unattempted:?}",
            unattempted.len()
        ),
    );
    v.check(
        undelivered.is_empty(),
        format!(
            "{} reports' webhooks never delivered (no 2xx attempt; killed while notifying and not retried): {undelivered:?}",
            undelivered.len()
        ),
    );
    v.check(
        unrecorded.is_empty(),
        format!(
            "{} reports without a recorded webhook/email outcome: {unrecorded:?}",
            unrecorded.len()
        ),
    );

    // A slow receiver (429 + Retry-After: 20) for one user must not stall another user's report.
    let _busy = queue_report(&http, &base, &manager, hook_port, "busy-manager").await?;
    let t = Instant::now();
    while !log_has(&rx, "busy-manager") && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = Instant::now();
    let other = queue_report(&http, &base, &admin, hook_port, "ok-isolation").await?;
    let wait = Duration::from_secs(if opts.full { 120 } else { 25 });
    let mut done = None;
    while t.elapsed() < wait {
        let r = http
            .get(format!("{base}/reports/{other}"))
            .bearer_auth(&admin)
            .header("Accept", "application/json")
            .send()
            .await;
        if let Ok(r) = r {
            if let Ok(v) = r.json::<Value>().await {
                let s = v["status"].as_str().unwrap_or("");
                if s == "Completed" || s == "Error" {
                    done = Some(t.elapsed());
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let busy_attempts = rx
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.hook == "busy-manager")
        .count();
    match done {
        Some(d) => v.fig(format!(
            "isolation: the other user's report Completed {} ms after queueing (busy receiver attempts meanwhile: {busy_attempts})",
            d.as_millis()
        )),
        None => v.fig(format!(
            "isolation: the other user's report not Completed after {} s (busy receiver attempts: {busy_attempts})",
            wait.as_secs()
        )),
    }
    v.check(
        done.is_some_and(|d| d <= Duration::from_secs(5)),
        format!(
            "a 429 + Retry-After: 20 receiver for one user stalled another user's report ({})",
            done.map_or(format!("> {} s", wait.as_secs()), |d| format!(
                "{} ms",
                d.as_millis()
            ))
        ),
    );
    server.kill().await;
    Ok(v)
}

fn log_has(rx: &Receiver, hook: &str) -> bool {
    rx.log.lock().unwrap().iter().any(|a| a.hook == hook)
}
