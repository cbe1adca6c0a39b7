//! `disk`: the SQLite file on a full 20 MiB tmpfs, and injected write errors (EIO, EROFS) from
//! an LD_PRELOAD shim toggled by a control file. Verifies that no acknowledged billable is lost,
//! that writes succeed again without a restart once the fault is gone, and records what the
//! server answered (2xx / 500 / 503 + Retry-After) and what /healthz said during the fault.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::kill::{customers_of, ACCOUNT};

const PHASES: [&str; 4] = [
    "before the fault",
    "fault",
    "recovery (12 s)",
    "after (3 s)",
];

/// Per-phase counts of the writers' answers and of /healthz.
struct Tally {
    phase: AtomicUsize,
    writes: [Statuses; 4],
    healthz: [Statuses; 4],
    retry_after_503: [Counter; 4],
    acked: Mutex<Vec<(String, String)>>,
    /// Time of the first 2xx write in the recovery phase.
    first_recovered: Mutex<Option<Instant>>,
    /// The outcome of each write in the recovery phase, in order (true = 2xx).
    recovery_log: Mutex<Vec<bool>>,
    stop: AtomicBool,
    seq: Counter,
}

impl Tally {
    fn new() -> Arc<Tally> {
        Arc::new(Tally {
            phase: AtomicUsize::new(0),
            writes: Default::default(),
            healthz: Default::default(),
            retry_after_503: [
                Counter(0.into()),
                Counter(0.into()),
                Counter(0.into()),
                Counter(0.into()),
            ],
            acked: Mutex::new(Vec::new()),
            first_recovered: Mutex::new(None),
            recovery_log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            seq: Counter(0.into()),
        })
    }
    fn set_phase(&self, p: usize) {
        self.phase.store(p, Ordering::SeqCst);
    }
    fn describe(&self, p: usize) -> String {
        format!(
            "{}: writes [{}] (503 with Retry-After: {}), healthz [{}]",
            PHASES[p],
            self.writes[p].describe(),
            self.retry_after_503[p].get(),
            self.healthz[p].describe()
        )
    }
}

/// A writer: singles and batches of fresh billables (no ledger call needed) until told to stop.
async fn writer(
    http: reqwest::Client,
    base: String,
    token: String,
    prefix: String,
    customers: Arc<Vec<String>>,
    tally: Arc<Tally>,
    batch: usize,
) {
    while !tally.stop.load(Ordering::SeqCst) {
        let phase = tally.phase.load(Ordering::SeqCst);
        // After the fault, write at a client's pace (at most five a request, five requests a
        // second per writer): at full speed the writers would fill the freed 14 MiB of the
        // tmpfs again within the recovery phase, and a disk full of real data is no proof of
        // anything.
        let paced = phase >= 2;
        let batch = if paced { batch.min(5) } else { batch };
        let items: Vec<(String, String)> = (0..batch)
            .map(|_| {
                let n = tally.seq.inc();
                (
                    format!("{prefix}{n:012}"),
                    customers[n as usize % customers.len()].clone(),
                )
            })
            .collect();
        let body = |(sid, cust): &(String, String)| json!({"accountId": ACCOUNT, "customerId": cust, "callSid": sid});
        let req = if batch == 1 {
            http.post(format!("{base}/billables"))
                .json(&body(&items[0]))
        } else {
            http.post(format!("{base}/api/NewBillable[]"))
                .json(&Value::Array(items.iter().map(body).collect()))
        };
        let resp = req.bearer_auth(&token).send().await;
        let key = match &resp {
            Ok(r) => r.status().as_u16().to_string(),
            Err(e) if e.is_timeout() => "timeout".to_string(),
            Err(_) => "transport-error".to_string(),
        };
        let mut ok = false;
        if let Ok(r) = resp {
            let status = r.status();
            if status.as_u16() == 503 && r.headers().contains_key("retry-after") {
                tally.retry_after_503[phase].inc();
            }
            if status.as_u16() == 204 {
                tally.acked.lock().unwrap().push(items[0].clone());
                ok = true;
            } else if status.as_u16() == 200 && batch > 1 {
                if let Ok(Value::Array(results)) = r.json::<Value>().await {
                    ok = true;
                    for (item, res) in items.iter().zip(results) {
                        if res.get("responseStatus").is_none_or(Value::is_null) {
                            tally.acked.lock().unwrap().push(item.clone());
                        } else {
                            ok = false;
                        }
                    }
                }
            }
        }
        tally.writes[phase].add(key);
        if phase == 2 {
            tally.recovery_log.lock().unwrap().push(ok);
            if ok {
                let mut f = tally.first_recovered.lock().unwrap();
                if f.is_none() {
                    *f = Some(Instant::now());
                }
            }
        }
        if paced {
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else if !ok {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn healthz_poller(http: reqwest::Client, base: String, tally: Arc<Tally>) {
    while !tally.stop.load(Ordering::SeqCst) {
        let phase = tally.phase.load(Ordering::SeqCst);
        let r = http.get(format!("{base}/healthz")).send().await;
        let key = match r {
            Ok(r) => r.status().as_u16().to_string(),
            Err(_) => "error".into(),
        };
        tally.healthz[phase].add(key);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct Scenario<'a> {
    name: &'a str,
    /// Starts the fault.
    start_fault: Box<dyn Fn() -> Res<()> + 'a>,
    /// Ends it.
    end_fault: Box<dyn Fn() -> Res<()> + 'a>,
    /// Fault start: after this long healthy, or (tmpfs) as soon as writes fail.
    healthy_for: Duration,
    fault_for: Duration,
    /// The fault is "disk filling up": it starts itself; the phase flips on the first failure.
    self_starting: bool,
}

/// Runs writers through healthy → fault → recovery, then SIGKILL + restart and verify.
async fn scenario(v: &mut Verdict, spec: &ServerSpec, url: &str, sc: Scenario<'_>) -> Res<()> {
    let mut server = spec.start().await?;
    let http = client(64, Duration::from_secs(20));
    let token = sign_in(&http, &spec.base(), ADMIN.0, ADMIN.1).await?;
    let customers = Arc::new(
        customers_of(url, ACCOUNT)
            .await?
            .into_iter()
            .take(20)
            .collect::<Vec<_>>(),
    );
    let prefix = format!("CAdisk{}{}", sc.name.replace('-', ""), std::process::id());
    let tally = Tally::new();
    let mut handles = Vec::new();
    for i in 0..16 {
        let batch = if i % 4 == 0 { 1 } else { 50 };
        handles.push(tokio::spawn(writer(
            http.clone(),
            spec.base(),
            token.clone(),
            prefix.clone(),
            customers.clone(),
            tally.clone(),
            batch,
        )));
    }
    handles.push(tokio::spawn(healthz_poller(
        http.clone(),
        spec.base(),
        tally.clone(),
    )));
    let t = Instant::now();
    if !sc.self_starting {
        tokio::time::sleep(sc.healthy_for).await;
    }
    (sc.start_fault)()?;
    if sc.self_starting {
        // Wait for the first failed write (the disk is full), at most 60 s.
        while tally.writes[0].sum_where(|k| !k.starts_with('2')) == 0
            && t.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if tally.writes[0].sum_where(|k| !k.starts_with('2')) == 0 {
            v.fail(format!("{}: the disk never filled within 60 s", sc.name));
        }
    }
    tally.set_phase(1);
    let fault_started = Instant::now();
    tokio::time::sleep(sc.fault_for).await;
    (sc.end_fault)()?;
    let fault_end = Instant::now();
    tally.set_phase(2);
    // Longer than the server's SQLite busy timeout (10 s), so requests stuck in it finish here.
    tokio::time::sleep(Duration::from_secs(12)).await;
    tally.set_phase(3);
    tokio::time::sleep(Duration::from_secs(3)).await;
    tally.stop.store(true, Ordering::SeqCst);
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs(30), h).await;
    }
    for p in 0..4 {
        v.fig(format!("{}: {}", sc.name, tally.describe(p)));
    }
    let fault_writes = &tally.writes[1];
    let n500 = fault_writes.get("500");
    let n503 = fault_writes.get("503");
    let n2xx = fault_writes.sum_where(|k| k.starts_with('2'));
    v.fig(format!(
        "{}: fault lasted {:.1} s: 2xx {n2xx}, 500 {n500}, 503 {n503} ({} with Retry-After)",
        sc.name,
        fault_started.elapsed().as_secs_f64() - fault_end.elapsed().as_secs_f64(),
        tally.retry_after_503[1].get()
    ));
    v.check(
        n500 == 0,
        format!(
            "{}: {n500} writes answered 500 during the fault (want 503 + Retry-After)",
            sc.name
        ),
    );
    v.check(
        tally.healthz[1].sum_where(|k| k != "200") > 0,
        format!(
            "{}: /healthz said 200 throughout the fault ({})",
            sc.name,
            tally.healthz[1].describe()
        ),
    );
    let recovered = *tally.first_recovered.lock().unwrap();
    let log = tally.recovery_log.lock().unwrap().clone();
    let tail_ok = log.len() >= 10 && log[log.len() - 10..].iter().all(|b| *b);
    let after_ok = tally.writes[3].sum_where(|k| !k.starts_with('2')) == 0
        && tally.writes[3].sum_where(|k| k.starts_with('2')) > 0;
    v.fig(format!(
        "{}: first successful write {} after the fault ended",
        sc.name,
        recovered.map_or("never".into(), |r| format!(
            "{} ms",
            r.duration_since(fault_end).as_millis()
        ))
    ));
    v.check(
        recovered.is_some() && tail_ok && after_ok,
        format!(
            "{}: writes did not recover without a restart (recovery writes ok {}/{}, afterwards {})",
            sc.name,
            log.iter().filter(|b| **b).count(),
            log.len(),
            tally.writes[3].describe()
        ),
    );
    // SIGKILL, restart, and every acknowledged billable must be there.
    server.kill().await;
    let server = spec.start().await;
    if let Err(e) = &server {
        v.fail(format!(
            "{}: the server did not restart after the fault: {e}",
            sc.name
        ));
    }
    let acked = tally.acked.lock().unwrap().clone();
    let stored = stored_billables(url, ACCOUNT, &prefix).await?;
    let lost: Vec<&String> = acked
        .iter()
        .filter(|(sid, _)| !stored.contains_key(sid))
        .map(|(s, _)| s)
        .collect();
    v.fig(format!(
        "{}: acknowledged {}, stored {}, lost {}",
        sc.name,
        acked.len(),
        stored.len(),
        lost.len()
    ));
    v.check(
        lost.is_empty(),
        format!(
            "{}: {} acknowledged billables lost after restart (e.g. {:?})",
            sc.name,
            lost.len(),
            lost.iter().take(3).collect::<Vec<_>>()
        ),
    );
    if let Ok(mut s) = server {
        s.kill().await;
    }
    Ok(())
}

fn free_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: statvfs into a zeroed local struct.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut s) == 0 {
            return s.f_bavail * s.f_frsize;
        }
    }
    0
}

/// Fills `dir`'s filesystem with a ballast file until `keep` bytes are left (or it is full).
fn fill(dir: &Path, ballast: &Path, keep: u64) -> Res<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(ballast).map_err(err("ballast"))?;
    let chunk = vec![0u8; 64 * 1024];
    while free_bytes(dir) > keep + chunk.len() as u64 {
        if f.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = f.sync_all();
    Ok(())
}

pub async fn run(opts: &Opts) -> Res<Verdict> {
    let mut v = Verdict::new("disk", opts.backend);
    let dir = opts.work.join(format!("disk-{}", opts.backend.name()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(err("mkdir"))?;
    let fault_for = if opts.full {
        Duration::from_secs(15)
    } else {
        Duration::from_secs(4)
    };

    // 1. A full disk (SQLite: the file is on the tmpfs; PostgreSQL: the cluster's files are).
    match (opts.backend, &opts.tmpfs) {
        (Backend::Sqlite, Some(tmpfs)) => {
            let url = format!("sqlite://{}", tmpfs.join("full.db").display());
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", tmpfs.join("full.db").display()));
            }
            let _ = std::fs::remove_file(tmpfs.join("ballast"));
            let mut spec = ServerSpec::new(opts, &url, dir.join("server-tmpfs.log"))?;
            spec.serve_args = vec!["--demo-calls".into(), "5000".into()];
            // Load the demo once, then stop, so the scenario starts on a settled database.
            let mut s = spec.start().await?;
            s.kill().await;
            let free = free_bytes(tmpfs);
            v.fig(format!(
                "tmpfs {}: {:.1} MiB free after the demo fixture",
                tmpfs.display(),
                free as f64 / 1048576.0
            ));
            let ballast_path = tmpfs.join("ballast");
            let bp = ballast_path.clone();
            let t = tmpfs.clone();
            scenario(
                &mut v,
                &spec,
                &url,
                Scenario {
                    name: "tmpfs-full",
                    start_fault: Box::new(move || fill(&t, &bp, 1536 * 1024)),
                    end_fault: Box::new(|| {
                        std::fs::remove_file(&ballast_path).map_err(err("rm ballast"))
                    }),
                    healthy_for: Duration::ZERO,
                    fault_for,
                    self_starting: true,
                },
            )
            .await?;
        }
        (Backend::Sqlite, None) => {
            v.skip("tmpfs full-disk test (no --tmpfs given: needs root to mount)")
        }
        (Backend::Postgres, Some(tmpfs)) if opts.pg_tmpfs_url.is_some() => {
            // The cluster's files are on the tmpfs: a full disk is PostgreSQL's own ENOSPC
            // (relation extension, WAL segments), met by the server as SQLSTATE 53100 or a lost
            // connection.
            let o = Opts {
                pg_url: opts.pg_tmpfs_url.clone(),
                ..opts.clone()
            };
            let url = fresh_database(&o, "full", &dir).await?;
            let _ = std::fs::remove_file(tmpfs.join("ballast"));
            let mut spec = ServerSpec::new(&o, &url, dir.join("server-tmpfs.log"))?;
            spec.serve_args = vec!["--demo-calls".into(), "5000".into()];
            let mut s = spec.start().await?;
            s.kill().await;
            let free = free_bytes(tmpfs);
            v.fig(format!(
                "tmpfs {} (PostgreSQL's files): {:.1} MiB free after the demo fixture",
                tmpfs.display(),
                free as f64 / 1048576.0
            ));
            let ballast_path = tmpfs.join("ballast");
            let bp = ballast_path.clone();
            let t = tmpfs.clone();
            scenario(
                &mut v,
                &spec,
                &url,
                Scenario {
                    name: "pg-tmpfs-full",
                    start_fault: Box::new(move || fill(&t, &bp, 1536 * 1024)),
                    end_fault: Box::new(|| {
                        std::fs::remove_file(&ballast_path).map_err(err("rm ballast"))
                    }),
                    healthy_for: Duration::ZERO,
                    fault_for,
                    self_starting: true,
                },
            )
            .await?;
        }
        (Backend::Postgres, _) => v.skip(
            "full-disk test on PostgreSQL (needs root: a tmpfs for a second cluster's files)",
        ),
    }

    // 2. Injected write errors (SQLite: the server's own writes via LD_PRELOAD).
    match (opts.backend, &opts.shim) {
        (Backend::Sqlite, Some(shim)) => {
            for errno in ["EIO", "EROFS"] {
                let sub = dir.join(format!("shim-{errno}"));
                std::fs::create_dir_all(&sub).map_err(err("mkdir"))?;
                let url = fresh_database(opts, "shim", &sub).await?;
                let ctl = dir.join(format!("fault-{errno}.ctl"));
                let _ = std::fs::remove_file(&ctl);
                let mut spec = ServerSpec::new(opts, &url, dir.join(format!("server-{errno}.log")))?;
                spec.serve_args = vec!["--demo-calls".into(), "5000".into()];
                spec.env = vec![
                    ("LD_PRELOAD".into(), shim.display().to_string()),
                    ("CHAOS_FAULT_DIR".into(), sub.display().to_string()),
                    ("CHAOS_FAULT_CTL".into(), ctl.display().to_string()),
                ];
                let c1 = ctl.clone();
                let c2 = ctl.clone();
                let e = errno.to_string();
                scenario(
                    &mut v,
                    &spec,
                    &url,
                    Scenario {
                        name: &format!("shim-{errno}"),
                        start_fault: Box::new(move || std::fs::write(&c1, &e).map_err(err("ctl"))),
                        end_fault: Box::new(move || std::fs::remove_file(&c2).map_err(err("ctl"))),
                        healthy_for: Duration::from_secs(2),
                        fault_for,
                        self_starting: false,
                    },
                )
                .await?;
            }
        }
        (Backend::Sqlite, None) => v.skip("injected write errors (no --shim given)"),
        (Backend::Postgres, _) => v.skip(
            "injected write errors on PostgreSQL (the shim targets the server's own files; PostgreSQL's are written by postgres)",
        ),
    }
    Ok(v)
}
