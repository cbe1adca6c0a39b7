//! Real faults in-process: the SQLite file on a small tmpfs that fills up. Acknowledged
//! billables are never lost, a failing store answers 503 with Retry-After (and /healthz says so),
//! and writes recover by themselves once space is back. Needs root (mount).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use evo_billing_server::store::Store;
use serde_json::json;

use crate::support::*;

/// A mounted tmpfs, unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "this test mounts a tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem of `dir` but for `leave` bytes, with a file it returns the path of.
fn fill(dir: &Path, leave: u64) -> std::path::PathBuf {
    let filler = dir.join("filler");
    let free = {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse::<u64>().ok())
            .unwrap()
    };
    let size = free.saturating_sub(leave);
    let f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut w = std::io::BufWriter::new(f);
    let mut written = 0;
    while written < size {
        let n = chunk.len().min((size - written) as usize);
        if std::io::Write::write_all(&mut w, &chunk[..n]).is_err() {
            break;
        }
        written += n as u64;
    }
    let _ = std::io::Write::flush(&mut w);
    filler
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_billable_and_writes_recover() {
    let dir = temp_dir();
    let mnt = dir.path().join("mnt");
    let _fs = Tmpfs::mount(&mnt, "24m");
    let url = format!("sqlite://{}/full.db", mnt.display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    load_fixture(&store).await;
    let db = TestDb::wrap(store, &url);
    let app = TestApp::on(db, options()).await;
    let t = app.sign_in(MANAGER_A).await;
    let filler = fill(&mnt, 256 * 1024);
    let post = |i: u64| {
        let body = json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": format!("CA-FULL-{i:06}")});
        (i, body)
    };
    // Until the store fails: every answer is 204 (stored) or 503 with Retry-After.
    let mut acknowledged = BTreeSet::new();
    let mut failures = 0;
    let mut i = 0;
    while failures < 20 && i < 20_000 {
        let (n, body) = post(i);
        i += 1;
        let r = app
            .request(
                "POST",
                "/billables",
                Some(&t),
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
            )
            .await;
        match r.status {
            StatusCode::NO_CONTENT => {
                acknowledged.insert(n);
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                failures += 1;
                assert_eq!(r.error_code(), "ServiceUnavailable", "{}", r.text());
            }
            other => panic!("billable {n}: {other} {}", r.text()),
        }
    }
    assert!(
        failures >= 20,
        "the disk never filled ({i} billables acknowledged)"
    );
    let full = app
        .send_full(
            axum::http::Request::post("/billables")
                .header("authorization", format!("Bearer {t}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(post(999_999).1.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(full.reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        full.headers.contains_key("retry-after"),
        "{:?}",
        full.headers
    );
    let health = app.get("/healthz", None).await;
    assert_eq!(
        health.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        health.text()
    );
    // Space is back: writes succeed again without a restart, and /healthz recovers.
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for k in 0..200 {
        let (n, body) = post(100_000 + k);
        let r = app.post_json("/billables", Some(&t), body).await;
        if r.status == StatusCode::NO_CONTENT {
            acknowledged.insert(n);
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(recovered, "writes did not recover once the disk had room");
    for k in 1..50 {
        let (n, body) = post(100_000 + 200 + k);
        let r = app.post_json("/billables", Some(&t), body).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        acknowledged.insert(n);
    }
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text());
    // Every acknowledged billable is stored: read back through a new connection.
    let other = Store::connect(&url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT call_sid FROM billables WHERE account_id = 'acc-a' AND call_sid LIKE 'CA-FULL-%'",
    )
    .fetch_all(&other.pool)
    .await
    .unwrap();
    let stored: BTreeSet<u64> = stored
        .iter()
        .filter_map(|s| s.trim_start_matches("CA-FULL-").parse().ok())
        .collect();
    let lost: Vec<&u64> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged billables are not stored: {:?}",
        lost.len(),
        acknowledged.len(),
        lost.iter().take(10).collect::<Vec<_>>()
    );
    other.pool.close().await;
}

/// Real PostgreSQL errors of the classes a client should retry (SQLSTATE 53 insufficient
/// resources: a full disk is 53100; 57 operator intervention: a cancelled statement; 08
/// connection) are "unavailable" (503 + Retry-After); a rule broken by the data is not. (Before:
/// a numeric SQLSTATE such as 53100 was read as a SQLite result code, so PostgreSQL's
/// "could not extend file: No space left on device" answered 500 and /healthz stayed 200.)
async fn resource_errors_are_unavailable(backend: Backend) {
    use evo_billing_server::store::StoreError;
    let app = TestApp::new(backend).await;
    let db = &app.ctx.db;
    let err =
        |sql: &'static str| async move { sqlx::query(sql).execute(&db.pool).await.unwrap_err() };
    match backend {
        Backend::Postgres => {
            for code in [
                "disk_full",
                "out_of_memory",
                "query_canceled",
                "connection_failure",
            ] {
                let sql = format!(
                    "DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{code}'; END $$"
                );
                let e = sqlx::query(&sql).execute(&db.pool).await.unwrap_err();
                assert!(StoreError::Database(e).is_unavailable(), "{code}");
            }
            for code in ["unique_violation", "check_violation", "division_by_zero"] {
                let sql = format!(
                    "DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{code}'; END $$"
                );
                let e = sqlx::query(&sql).execute(&db.pool).await.unwrap_err();
                assert!(!StoreError::Database(e).is_unavailable(), "{code}");
            }
        }
        Backend::Sqlite => {
            // A rule broken by the data (SQLITE_CONSTRAINT) is not a store out of service.
            let e = err("INSERT INTO accounts (id) VALUES (NULL)").await;
            assert!(!StoreError::Database(e).is_unavailable());
            let e = err("SELECT * FROM no_such_table").await;
            assert!(!StoreError::Database(e).is_unavailable());
        }
    }
}

on_both_backends!(resource_errors_are_unavailable);
