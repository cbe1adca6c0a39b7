//! BillingReport end to end: the queue and its worker, the CSV and XLSX downloads, a real
//! webhook receiver (signature checked) and a real SMTP sink, the outbox without SMTP, a
//! Customer's subtree, privacy of reports, deletion, and queued reports surviving a restart.
//! Runs on SQLite and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use evo_billing_server::notify::mailer::SmtpConfig;
use evo_billing_server::notify::webhook::{verify_signature, WebhookConfig, WebhookSender};
use evo_billing_server::reports::deliver::drain;
use evo_billing_server::reports::{run_job, ReportSettings, LEASE_SECS};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(20);

/// The October report of acc-a with customer IDs, byte for byte.
const OCTOBER_CSV_WITH_IDS: &str = "CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n\
cus-a1,Acme Holdings,Acme Holdings,1,1,0.30,1,True\r\n\
cus-a2,Acme Sales,Acme Holdings / Acme Sales,1,0,0.00,0,False\r\n\
cus-a3,\"Acme Sales, \"\"EMEA\"\"\",\"Acme Holdings / Acme Sales / Acme Sales, \"\"EMEA\"\"\",2,1,1.23,0,False\r\n\
,Total,,4,2,1.53,1,\r\n";

// ------------------------------------------------------------------ a webhook receiver

#[derive(Clone, Debug)]
struct Hook {
    headers: HeaderMap,
    body: Bytes,
}

type Hooks = Arc<Mutex<Vec<Hook>>>;

/// An HTTP server on 127.0.0.1:0 that records every POST /hook. The first `fail_first`
/// requests get a 500 (to exercise retries), the others a 200.
async fn webhook_receiver(fail_first: usize) -> (u16, Hooks) {
    let hooks: Hooks = Arc::new(Mutex::new(Vec::new()));
    let store = hooks.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                let mut s = store.lock().unwrap();
                s.push(Hook { headers, body });
                if s.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (port, hooks)
}

// ------------------------------------------------------------------ an SMTP sink

#[derive(Debug, Default, Clone)]
struct Mail {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
    commands: Vec<String>,
}

type Mails = Arc<Mutex<Vec<Mail>>>;

/// A minimal SMTP server on 127.0.0.1:0: 220, 250 to EHLO/HELO/MAIL/RCPT, 354 to DATA (read
/// to "."), 250, 221 on QUIT; records each message when its connection ends.
async fn smtp_sink() -> (u16, Mails) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store: Mails = Arc::new(Mutex::new(Vec::new()));
    let out = store.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut mail = Mail::default();
                write.write_all(b"220 sink.test ESMTP\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    mail.commands.push(line.clone());
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink.test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.mail_from = line[10..].trim().to_string();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        mail.rcpt_to.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.ok();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            // Undo dot-stuffing.
                            let unstuffed = if data.starts_with("..") {
                                &data[1..]
                            } else {
                                &data[..]
                            };
                            mail.data.push_str(unstuffed);
                            mail.data.push('\n');
                        }
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.ok();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.ok();
                }
                store.lock().unwrap().push(mail);
            });
        }
    });
    (port, out)
}

/// Polls `probe` every 50 ms until it gives a value, for at most `WAIT`.
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(started.elapsed() < WAIT, "{what}: nothing after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the delivery notes of a report until `ready` accepts them, for at most `WAIT`.
async fn deliveries_when(
    app: &TestApp,
    id: &str,
    ready: impl Fn(&(Option<String>, Option<String>)) -> bool,
) -> (Option<String>, Option<String>) {
    let started = Instant::now();
    loop {
        let d = app.db.reports().deliveries(id).await.unwrap();
        if ready(&d) {
            return d;
        }
        assert!(
            started.elapsed() < WAIT,
            "deliveries of {id}: {d:?} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn october_report(extra: serde_json::Value) -> serde_json::Value {
    let mut body =
        json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn queue(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let r = app.post_json("/reports/billing", Some(token), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let info = r.json();
    assert_eq!(info["status"], "Queued", "{info}");
    info["id"].as_str().unwrap().to_string()
}

// ------------------------------------------------------------------ tests

async fn lifecycle_with_webhook_and_email(backend: Backend) {
    let (hook_port, hooks) = webhook_receiver(0).await;
    let (smtp_port, mails) = smtp_sink().await;
    let mut opts = options();
    opts.smtp_url = Some(format!(
        "smtp://127.0.0.1:{smtp_port}?from=billing@test.evo"
    ));
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let hook_url = format!("http://127.0.0.1:{hook_port}/hook");
    let id = queue(
        &app,
        &t,
        october_report(json!({"includeCustomerIds": true,
                              "emailAddressToNotify": "ops@customer.example",
                              "webhookUrl": hook_url})),
    )
    .await;
    let info = app.wait_for_report(&t, &id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    assert_eq!(info["id"], id.as_str());
    assert_eq!(info["name"], "Billing Alpha Telecom 2026-10-01..2026-10-31");
    assert_eq!(info["statusMessage"], "3 customers");
    assert_eq!(info["emailAddressToNotify"], "ops@customer.example");
    let link = format!("http://billing.test/reports/{id}/download.csv");
    assert_eq!(info["downloadLink"], link.as_str());
    assert!(info["jobId"].as_str().unwrap().starts_with("job_"));
    assert!(info["server"].as_str().is_some_and(|s| !s.is_empty()));

    // The CSV download.
    let full = app
        .send_full(
            axum::http::Request::get(format!("/reports/{id}/download.csv"))
                .header("authorization", format!("Bearer {t}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(full.reply.status, StatusCode::OK);
    assert!(full.reply.content_type.starts_with("text/csv"));
    assert_eq!(
        full.headers["content-disposition"],
        format!("attachment; filename=\"{id}.csv\"").as_str()
    );
    assert_eq!(full.reply.text(), OCTOBER_CSV_WITH_IDS);
    // `download` alone is the CSV too; the name is case-insensitive.
    let r = app.get(&format!("/reports/{id}/download"), Some(&t)).await;
    assert_eq!(r.text(), OCTOBER_CSV_WITH_IDS);
    let r = app
        .get(&format!("/reports/{id}/DOWNLOAD.CSV"), Some(&t))
        .await;
    assert_eq!(r.text(), OCTOBER_CSV_WITH_IDS);
    // The XLSX.
    let r = app
        .get(&format!("/reports/{id}/download.xlsx"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        r.body.starts_with(b"PK"),
        "not a zip: {:?}",
        &r.body[..8.min(r.body.len())]
    );
    assert!(r.body.len() > 1000);
    // Anything else is a 404.
    let r = app
        .get(&format!("/reports/{id}/download.pdf"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&format!("/reports/{id}/download.csv"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The webhook: one signed POST with the ReportInfo and the data.
    let hook = eventually("webhook", || hooks.lock().unwrap().first().cloned()).await;
    let signature = hook.headers["x-evo-signature"].to_str().unwrap();
    let timestamp = verify_signature(b"test-secret", signature, &hook.body)
        .expect("the signature verifies over the raw body");
    assert_eq!(
        hook.headers["x-evo-timestamp"].to_str().unwrap(),
        timestamp.to_string()
    );
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 120);
    assert_eq!(
        verify_signature(b"other-secret", signature, &hook.body),
        None
    );
    let mut tampered = hook.body.to_vec();
    tampered.push(b' ');
    assert_eq!(verify_signature(b"test-secret", signature, &tampered), None);
    assert_eq!(hook.headers["x-evo-delivery"], "1");
    assert!(hook.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let payload: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["report"]["id"], id.as_str());
    assert_eq!(payload["report"]["status"], "Completed");
    assert_eq!(payload["report"]["downloadLink"], link.as_str());
    let data = &payload["data"];
    assert_eq!(data["accountId"], "acc-a");
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["startDate"], "2026-10-01");
    assert_eq!(data["endDate"], "2026-10-31");
    let rows = data["rows"].as_array().unwrap();
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["customerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cus-a1", "cus-a2", "cus-a3"]);
    assert_eq!(rows[0]["internationalCosts"], 0.3);
    assert_eq!(rows[0]["hasCallRecording"], true);
    assert_eq!(rows[2]["internationalCosts"], 1.23);
    assert_eq!(rows[2]["billedCalls"], 2);
    assert_eq!(
        rows[2]["breadcrumb"],
        "Acme Holdings / Acme Sales / Acme Sales, \"EMEA\""
    );
    assert_eq!(data["totals"]["internationalCosts"], 1.53);
    assert_eq!(data["totals"]["billedCalls"], 4);
    assert_eq!(data["totals"]["customers"], 3);

    // The email.
    let mail = eventually("email", || mails.lock().unwrap().first().cloned()).await;
    assert_eq!(mail.mail_from, "<billing@test.evo>");
    assert_eq!(mail.rcpt_to, ["<ops@customer.example>"]);
    assert!(
        mail.data.contains(
            "Subject: Billing report ready: Billing Alpha Telecom 2026-10-01..2026-10-31"
        ),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("To: ops@customer.example"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains(&link), "{}", mail.data);
    assert!(mail.commands.iter().any(|c| c.eq_ignore_ascii_case("QUIT")));

    // Both noted; nothing in the outbox; exactly one webhook and one email.
    let (webhook, email) = deliveries_when(&app, &id, |d| d.0.is_some() && d.1.is_some()).await;
    assert_eq!(
        webhook.as_deref(),
        Some("delivered: HTTP 200 after 1 attempt(s)")
    );
    assert_eq!(email.as_deref(), Some("sent"));
    assert!(app.db.reports().outbox_messages().await.unwrap().is_empty());
    assert_eq!(hooks.lock().unwrap().len(), 1);
    assert_eq!(mails.lock().unwrap().len(), 1);
}

/// Without SMTP the email lands in the outbox, and the report says so.
async fn email_without_smtp_goes_to_the_outbox(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let id = queue(
        &app,
        &t,
        october_report(json!({"emailAddressToNotify": "finance@customer.example"})),
    )
    .await;
    let info = app.wait_for_report(&t, &id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    let (webhook, email) = deliveries_when(&app, &id, |d| d.1.is_some()).await;
    assert_eq!(webhook, None);
    assert_eq!(
        email.as_deref(),
        Some("kept in outbox: no SMTP server configured (--smtp-url)")
    );
    let outbox = app.db.reports().outbox_messages().await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0].0, "finance@customer.example");
    assert_eq!(
        outbox[0].1,
        "Billing report ready: Billing Alpha Telecom 2026-10-01..2026-10-31"
    );
    assert!(outbox[0].2.contains("no SMTP server"), "{outbox:?}");
    // Without includeCustomerIds the CSV has no CustomerId column.
    let r = app
        .get(&format!("/reports/{id}/download.csv"), Some(&t))
        .await;
    let csv = r.text();
    let mut lines = csv.split("\r\n");
    assert_eq!(
        lines.next(),
        Some("Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording")
    );
    assert_eq!(
        lines.next(),
        Some("Acme Holdings,Acme Holdings,1,1,0.30,1,True")
    );
    assert!(!csv.contains("cus-a"), "{csv}");
    assert!(csv.ends_with("Total,,4,2,1.53,1,\r\n"), "{csv}");
    // A report with neither email nor webhook notes nothing.
    let id = queue(&app, &t, october_report(json!({}))).await;
    assert_eq!(
        app.wait_for_report(&t, &id, WAIT).await["status"],
        "Completed"
    );
    assert_eq!(
        app.db.reports().deliveries(&id).await.unwrap(),
        (None, None)
    );
    assert_eq!(app.db.reports().outbox_messages().await.unwrap().len(), 1);
}

/// A Customer's report has its subtree only.
async fn customer_report_is_its_subtree(backend: Backend) {
    let app = TestApp::new(backend).await;
    let c = app.sign_in(CUSTOMER_A2).await;
    let id = queue(
        &app,
        &c,
        october_report(json!({"includeCustomerIds": true})),
    )
    .await;
    let info = app.wait_for_report(&c, &id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    assert_eq!(info["statusMessage"], "2 customers");
    let r = app
        .get(&format!("/reports/{id}/download.csv"), Some(&c))
        .await;
    assert_eq!(
        r.text(),
        "CustomerId,Customer,Breadcrumb,BilledCalls,InternationalCalls,InternationalCosts,RecordedCalls,HasCallRecording\r\n\
cus-a2,Acme Sales,Acme Holdings / Acme Sales,1,0,0.00,0,False\r\n\
cus-a3,\"Acme Sales, \"\"EMEA\"\"\",\"Acme Holdings / Acme Sales / Acme Sales, \"\"EMEA\"\"\",2,1,1.23,0,False\r\n\
,Total,,3,1,1.23,0,\r\n"
    );
    // Its own account only.
    let r = app
        .post_json(
            "/reports/billing",
            Some(&c),
            json!({"accountId": "acc-b", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A manager's report of the same range has all three.
    let m = app.sign_in(MANAGER_A).await;
    let id = queue(
        &app,
        &m,
        october_report(json!({"includeCustomerIds": true})),
    )
    .await;
    app.wait_for_report(&m, &id, WAIT).await;
    let r = app
        .get(&format!("/reports/{id}/download.csv"), Some(&m))
        .await;
    assert_eq!(r.text(), OCTOBER_CSV_WITH_IDS);
}

/// Reports belong to their owner: the list, GET, download and DELETE.
async fn reports_are_private(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let a = app.sign_in(MANAGER_A).await;
    let b = app.sign_in(MANAGER_B).await;
    let admin = app.sign_in(ADMIN).await;
    let first = queue(&app, &a, october_report(json!({}))).await;
    let second = queue(
        &app,
        &a,
        october_report(json!({"includeCustomerIds": true})),
    )
    .await;
    let of_b = queue(
        &app,
        &b,
        json!({"accountId": "acc-b", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
    )
    .await;
    let ids = |r: &Reply| -> Vec<String> {
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app.get("/reports", Some(&a)).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut mine = ids(&r);
    mine.sort();
    let mut want = vec![first.clone(), second.clone()];
    want.sort();
    assert_eq!(mine, want);
    assert_eq!(ids(&app.get("/reports", Some(&b)).await), [of_b.as_str()]);
    assert_eq!(ids(&app.get("/reports", Some(&admin)).await).len(), 3);
    let r = app.get("/reports", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Someone else's report is a 404, whatever the verb.
    let r = app.get(&format!("/reports/{first}"), Some(&b)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "NotFound");
    let r = app
        .get(&format!("/reports/{first}/download.csv"), Some(&b))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call("DELETE", &format!("/reports/{first}"), Some(&b), "", "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let c = app.sign_in(CUSTOMER_A2).await;
    let r = app.get(&format!("/reports/{first}"), Some(&c)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The owner and an administrator see it.
    let r = app.get(&format!("/reports/{first}"), Some(&a)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "Queued");
    let r = app.get(&format!("/reports/{first}"), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    // Not finished: no file yet.
    let r = app
        .get(&format!("/reports/{first}/download.csv"), Some(&a))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["responseStatus"]["message"]
        .as_str()
        .unwrap()
        .contains("Queued"));
    // DELETE: 204, then 404 everywhere.
    let r = app
        .call("DELETE", &format!("/reports/{first}"), Some(&a), "", "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app.get(&format!("/reports/{first}"), Some(&a)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .call("DELETE", &format!("/reports/{first}"), Some(&a), "", "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(ids(&app.get("/reports", Some(&a)).await), [second.as_str()]);
    // An administrator may delete anyone's.
    let r = app
        .call("DELETE", &format!("/reports/{of_b}"), Some(&admin), "", "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(ids(&app.get("/reports", Some(&b)).await).is_empty());
    let r = app.get("/reports/rep_doesnotexist", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Reports queued by a server without a worker are run by the next one on the same database.
async fn queued_reports_survive_a_restart(backend: Backend) {
    let db = fresh_db(backend).await;
    load_fixture(&db).await;
    let mut opts = options();
    opts.run_worker = false;
    let first = TestApp::on(db.clone(), opts).await;
    let t = first.sign_in(MANAGER_A).await;
    let one = queue(
        &first,
        &t,
        october_report(json!({"includeCustomerIds": true})),
    )
    .await;
    let two = queue(
        &first,
        &t,
        json!({"accountId": "acc-a", "startDate": "2026-11-01", "endDate": "2026-11-30"}),
    )
    .await;
    for id in [&one, &two] {
        let r = first.get(&format!("/reports/{id}"), Some(&t)).await;
        assert_eq!(r.json()["status"], "Queued");
    }
    // A third one was being run by a worker that died: Running, its lease expired.
    let three = queue(
        &first,
        &t,
        json!({"accountId": "acc-a", "startDate": "2026-10-05", "endDate": "2026-10-05"}),
    )
    .await;
    let mut claimed = Vec::new();
    while let Some(job) = db.reports().claim("dead-worker", LEASE_SECS).await.unwrap() {
        claimed.push(job.id);
    }
    assert_eq!(claimed.len(), 3);
    sqlx::query(&db.sql("UPDATE reports SET status = 'Queued', locked_until = NULL WHERE id <> ?"))
        .bind(&three)
        .execute(&db.pool)
        .await
        .unwrap();
    let r = first.get(&format!("/reports/{three}"), Some(&t)).await;
    assert_eq!(r.json()["status"], "Running");
    assert_eq!(r.json()["server"], "dead-worker");
    // A report a live worker runs cannot be deleted.
    let r = first
        .call("DELETE", &format!("/reports/{three}"), Some(&t), "", "")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.error_code(), "Conflict");
    // Its worker died: the lease runs out.
    sqlx::query(&db.sql("UPDATE reports SET locked_until = 1 WHERE id = ?"))
        .bind(&three)
        .execute(&db.pool)
        .await
        .unwrap();
    drop(first);
    // A new server (with its worker) on the same database; the session survives too.
    let second = TestApp::on(db.clone(), options()).await;
    let info = second.wait_for_report(&t, &one, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    let info = second.wait_for_report(&t, &two, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    assert_eq!(info["statusMessage"], "1 customers");
    let r = second
        .get(&format!("/reports/{one}/download.csv"), Some(&t))
        .await;
    assert_eq!(r.text(), OCTOBER_CSV_WITH_IDS);
    let r = second
        .get(&format!("/reports/{two}/download.csv"), Some(&t))
        .await;
    assert!(
        r.text().contains("Globex,Globex,1,1,0.25,0,False\r\n"),
        "{}",
        r.text()
    );
    let info = second.wait_for_report(&t, &three, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    assert_ne!(info["server"], "dead-worker");
    assert_eq!(info["statusMessage"], "3 customers");
}

/// A webhook nobody answers does not stop the report. With the app's defaults (5 attempts, 1 s
/// backoff doubling) the "not delivered" note comes after ~15 s, so here only completion is
/// checked; the failure notes are checked with a fast sender in `failed_deliveries_are_noted`.
async fn unreachable_webhook_still_completes(backend: Backend) {
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let id = queue(
        &app,
        &t,
        october_report(json!({"webhookUrl": format!("http://127.0.0.1:{port}/hook")})),
    )
    .await;
    let info = app.wait_for_report(&t, &id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    let r = app
        .get(&format!("/reports/{id}/download.csv"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Retrying in the background: the note is not a success.
    let (webhook, _) = app.db.reports().deliveries(&id).await.unwrap();
    assert!(
        webhook
            .as_deref()
            .is_none_or(|n| n.starts_with("not delivered")),
        "{webhook:?}"
    );
}

/// The worker's delivery notes with a fast sender: a failing receiver is retried, a dead one
/// and a dead SMTP relay are noted, and the email is kept in the outbox.
async fn failed_deliveries_are_noted(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let (flaky_port, flaky) = webhook_receiver(1).await;
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let settings = ReportSettings::new(
        "test-worker".into(),
        "http://billing.test".into(),
        Some(
            SmtpConfig::from_url(&format!(
                "smtp://127.0.0.1:{dead_port}?from=billing@test.evo"
            ))
            .unwrap(),
        ),
        WebhookSender::new(WebhookConfig {
            allow_private: true,
            max_attempts: 2,
            initial_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            ..WebhookConfig::with_secret(b"test-secret".to_vec())
        }),
    );
    let flaky_id = queue(
        &app,
        &t,
        october_report(json!({"webhookUrl": format!("http://127.0.0.1:{flaky_port}/hook")})),
    )
    .await;
    let dead_id = queue(
        &app,
        &t,
        october_report(
            json!({"webhookUrl": format!("http://127.0.0.1:{dead_port}/hook"),
                              "emailAddressToNotify": "ops@customer.example"}),
        ),
    )
    .await;
    // Run both jobs as the worker would (created in the same second: either order).
    let mut ran = Vec::new();
    for _ in 0..2 {
        let job = app
            .db
            .reports()
            .claim("test-worker", LEASE_SECS)
            .await
            .unwrap()
            .expect("a queued report");
        assert_eq!(job.status, evo_billing_core::dto::ReportStatuses::Running);
        ran.push(job.id.clone());
        run_job(&app.db, &settings, job).await;
    }
    ran.sort();
    let mut both = vec![flaky_id.clone(), dead_id.clone()];
    both.sort();
    assert_eq!(ran, both);
    // The notifications wait in the delivery queue until a delivery worker sends them.
    assert_eq!(
        app.db.reports().deliveries(&flaky_id).await.unwrap(),
        (None, None)
    );
    assert_eq!(drain(&app.db, &settings, WAIT).await, 0);
    assert!(app
        .db
        .reports()
        .claim("test-worker", LEASE_SECS)
        .await
        .unwrap()
        .is_none());

    let info = app
        .get(&format!("/reports/{flaky_id}"), Some(&t))
        .await
        .json();
    assert_eq!(info["status"], "Completed");
    assert_eq!(info["server"], "test-worker");
    let (webhook, email) = app.db.reports().deliveries(&flaky_id).await.unwrap();
    assert_eq!(
        webhook.as_deref(),
        Some("delivered: HTTP 200 after 2 attempt(s)")
    );
    assert_eq!(email, None);
    let hooks = flaky.lock().unwrap().clone();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].headers["x-evo-delivery"], "1");
    assert_eq!(hooks[1].headers["x-evo-delivery"], "2");
    let key = &hooks[0].headers["x-evo-delivery-id"];
    assert!(key.to_str().unwrap().starts_with("dlv_"), "{key:?}");
    assert_eq!(
        &hooks[1].headers["x-evo-delivery-id"], key,
        "the same id on a retry"
    );
    for h in &hooks {
        let sig = h.headers["x-evo-signature"].to_str().unwrap();
        assert!(verify_signature(b"test-secret", sig, &h.body).is_some());
    }

    let info = app
        .get(&format!("/reports/{dead_id}"), Some(&t))
        .await
        .json();
    assert_eq!(info["status"], "Completed");
    let (webhook, email) = app.db.reports().deliveries(&dead_id).await.unwrap();
    let webhook = webhook.unwrap();
    assert!(
        webhook.starts_with("not delivered: webhook delivery failed after 2 attempt(s)"),
        "{webhook}"
    );
    let email = email.unwrap();
    assert!(email.starts_with("SMTP failed, kept in outbox"), "{email}");
    let outbox = app.db.reports().outbox_messages().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "ops@customer.example");
    assert!(outbox[0].1.starts_with("Billing report ready: "));
}

/// A report that cannot be built ends in Error with a message; its webhook and email say so.
async fn failed_reports_say_why(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let (port, hooks) = webhook_receiver(0).await;
    let id = queue(
        &app,
        &t,
        october_report(
            json!({"webhookUrl": format!("http://127.0.0.1:{port}/hook"),
                              "emailAddressToNotify": "ops@customer.example"}),
        ),
    )
    .await;
    // Its parameters are damaged (as by a bad migration): the worker cannot build it.
    sqlx::query(&app.db.sql(
        "UPDATE reports SET params = '{\"startDate\":\"2026-13-01\",\"endDate\":\"2026-10-31\"}' WHERE id = ?",
    ))
    .bind(&id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let settings = ReportSettings::new(
        "test-worker".into(),
        "http://billing.test".into(),
        None,
        WebhookSender::new(WebhookConfig {
            allow_private: true,
            max_attempts: 1,
            ..WebhookConfig::with_secret(b"test-secret".to_vec())
        }),
    );
    let job = app
        .db
        .reports()
        .claim("test-worker", LEASE_SECS)
        .await
        .unwrap()
        .unwrap();
    run_job(&app.db, &settings, job).await;
    assert_eq!(drain(&app.db, &settings, WAIT).await, 0);
    let info = app.get(&format!("/reports/{id}"), Some(&t)).await.json();
    assert_eq!(info["status"], "Error", "{info}");
    assert!(
        info["statusMessage"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{info}"
    );
    assert!(info.get("downloadLink").is_none(), "{info}");
    let r = app
        .get(&format!("/reports/{id}/download.csv"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let hook = hooks
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("the webhook was called");
    let payload: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["report"]["status"], "Error");
    assert_eq!(payload["report"]["statusMessage"], info["statusMessage"]);
    assert!(payload["data"].is_null(), "{payload}");
    let outbox = app.db.reports().outbox_messages().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(
        outbox[0].1.starts_with("Billing report failed: "),
        "{outbox:?}"
    );
}

/// Several server processes share one queue: each report is claimed by exactly one of them
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes the claims).
async fn workers_share_the_queue(backend: Backend) {
    let db = fresh_db(backend).await;
    let url = db.url.clone();
    load_fixture(&db).await;
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::on(db.clone(), opts).await;
    // 24 reports from three users (one user may have ten queued at most).
    let mut queued = Vec::new();
    for user in [MANAGER_A, ADMIN, CUSTOMER_A2] {
        let token = app.sign_in(user).await;
        for _ in 0..8 {
            queued.push(
                queue(
                    &app,
                    &token,
                    json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
                )
                .await,
            );
        }
    }
    // Four "processes": each its own pool on the same database, claiming concurrently.
    let mut workers = Vec::new();
    for w in 0..4 {
        let pool = evo_billing_server::store::Store::connect(&url)
            .await
            .unwrap();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = pool
                .reports()
                .claim(&format!("worker-{w}"), LEASE_SECS)
                .await
                .unwrap()
            {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.unwrap());
    }
    claimed.sort();
    queued.sort();
    assert_eq!(claimed, queued, "every report claimed exactly once");
}

/// A webhook receiver that answers every POST /hook with 429 and `Retry-After: 20`.
async fn throttling_receiver() -> (u16, Hooks) {
    let hooks: Hooks = Arc::new(Mutex::new(Vec::new()));
    let store = hooks.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(Hook { headers, body });
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "20")],
                    "slow down",
                )
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (port, hooks)
}

/// Waits until `hooks` has `n` requests.
async fn wait_for_hooks(hooks: &Hooks, n: usize, within: Duration) -> Vec<Hook> {
    let start = Instant::now();
    loop {
        let got = hooks.lock().unwrap().clone();
        if got.len() >= n || start.elapsed() > within {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the report's webhook note is written.
async fn wait_for_webhook_note(app: &TestApp, id: &str, within: Duration) -> Option<String> {
    let start = Instant::now();
    loop {
        let (webhook, _) = app.db.reports().deliveries(id).await.unwrap();
        if webhook.is_some() || start.elapsed() > within {
            return webhook;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A process that dies after a report is Completed (or in the middle of sending its webhook)
/// loses no notification: the deliveries were written with the status, and the next process
/// sends them, each with its idempotency id, and records them. (Before: the report was marked
/// Completed first and notified after, so a kill in between left NULL notes, no outbox row and
/// no retry.)
async fn notifications_survive_a_crash(backend: Backend) {
    let db = fresh_db(backend).await;
    load_fixture(&db).await;
    let (port, hooks) = webhook_receiver(0).await;
    let mut opts = options();
    opts.run_worker = false;
    opts.server_name = Some("srv-1".into());
    let first = TestApp::on(db.clone(), opts.clone()).await;
    let t = first.sign_in(MANAGER_A).await;
    let hook = json!({"webhookUrl": format!("http://127.0.0.1:{port}/hook"),
                      "emailAddressToNotify": "ops@customer.example"});
    let one = queue(&first, &t, october_report(hook.clone())).await;
    let two = queue(&first, &t, october_report(hook)).await;
    let settings = ReportSettings::new(
        "srv-1".into(),
        "http://billing.test".into(),
        None,
        WebhookSender::new(WebhookConfig {
            allow_private: true,
            ..WebhookConfig::with_secret(b"test-secret".to_vec())
        }),
    );
    // The first process builds both reports and dies before it notifies anyone...
    for _ in 0..2 {
        let job = db
            .reports()
            .claim("srv-1", LEASE_SECS)
            .await
            .unwrap()
            .unwrap();
        run_job(&db, &settings, job).await;
    }
    // ...having just claimed one webhook (mid-attempt when it died).
    let claimed = db
        .deliveries()
        .claim("srv-1", 3_600_000)
        .await
        .unwrap()
        .expect("a pending delivery");
    drop(first);
    assert!(hooks.lock().unwrap().is_empty());
    for id in [&one, &two] {
        assert_eq!(db.reports().deliveries(id).await.unwrap(), (None, None));
        let pending = db.deliveries().of_report(id).await.unwrap();
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.iter().all(|d| d.status == "Pending"), "{pending:?}");
    }

    // The next process of that name sends everything at once (the claim held an hour).
    opts.run_worker = true;
    let second = TestApp::on(db.clone(), opts).await;
    let got = wait_for_hooks(&hooks, 2, WAIT).await;
    assert_eq!(got.len(), 2, "both webhooks sent");
    let mut ids: Vec<String> = got
        .iter()
        .map(|h| h.headers["x-evo-delivery-id"].to_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2, "one idempotency id per delivery: {ids:?}");
    if claimed.kind == evo_billing_server::model::DeliveryKind::Webhook {
        assert!(ids.contains(&claimed.id), "{ids:?} {}", claimed.id);
    }
    // Each owner's deliveries go one at a time: wait for the emails too.
    let start = Instant::now();
    while db.deliveries().pending().await.unwrap() > 0 && start.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for id in [&one, &two] {
        let note = wait_for_webhook_note(&second, id, WAIT).await;
        assert_eq!(
            note.as_deref(),
            Some("delivered: HTTP 200 after 1 attempt(s)")
        );
        let states = db.deliveries().of_report(id).await.unwrap();
        assert!(
            states
                .iter()
                .all(|d| d.status != "Pending" && d.attempts == 1),
            "{states:?}"
        );
        let payload: serde_json::Value = serde_json::from_slice(
            &got.iter()
                .find(|h| {
                    let p: serde_json::Value = serde_json::from_slice(&h.body).unwrap();
                    p["report"]["id"] == **id
                })
                .expect("this report's webhook")
                .body,
        )
        .unwrap();
        assert_eq!(payload["report"]["status"], "Completed");
        assert_eq!(payload["data"]["rows"].as_array().map(Vec::len), Some(3));
    }
    // Without SMTP both emails are kept in the outbox, and say so.
    let start = Instant::now();
    while db.reports().outbox_messages().await.unwrap().len() < 2 && start.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.reports().outbox_messages().await.unwrap().len(), 2);
    let (_, email) = db.reports().deliveries(&one).await.unwrap();
    assert_eq!(
        email.as_deref(),
        Some("kept in outbox: no SMTP server configured (--smtp-url)")
    );
}

/// A restarted server takes back at once the report its predecessor was running, instead of
/// leaving it Running (and undeletable) until the lease runs out; the lease is short and kept
/// alive by heartbeats while a report builds.
async fn restart_takes_back_running_reports(backend: Backend) {
    let db = fresh_db(backend).await;
    load_fixture(&db).await;
    let mut opts = options();
    opts.run_worker = false;
    opts.server_name = Some("srv-1".into());
    let first = TestApp::on(db.clone(), opts.clone()).await;
    let t = first.sign_in(MANAGER_A).await;
    let id = queue(&first, &t, october_report(json!({}))).await;
    let job = db
        .reports()
        .claim("srv-1", LEASE_SECS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.id, id);
    const { assert!(LEASE_SECS <= 60, "a short lease") };
    let lease_ends = chrono::Utc::now().timestamp() + LEASE_SECS;
    // Another one runs on a server of another name, which is alive.
    let other = queue(&first, &t, october_report(json!({}))).await;
    let job = db.reports().claim("srv-2", 3_600).await.unwrap().unwrap();
    assert_eq!(job.id, other);
    // While its worker lives, a report cannot be deleted.
    let r = first
        .call("DELETE", &format!("/reports/{id}"), Some(&t), "", "")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    drop(first);

    opts.run_worker = true;
    let second = TestApp::on(db.clone(), opts).await;
    let info = second.wait_for_report(&t, &id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    assert!(
        chrono::Utc::now().timestamp() < lease_ends,
        "taken back before the old lease ran out"
    );
    // The other server's report is left alone while its lease holds.
    let r = second.get(&format!("/reports/{other}"), Some(&t)).await;
    assert_eq!(r.json()["status"], "Running");
    assert_eq!(r.json()["server"], "srv-2");
    let r = second
        .call("DELETE", &format!("/reports/{other}"), Some(&t), "", "")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // Once its lease has run out (that server died) it can be deleted.
    sqlx::query(&db.sql("UPDATE reports SET locked_until = 1 WHERE id = ?"))
        .bind(&other)
        .execute(&db.pool)
        .await
        .unwrap();
    let r = second
        .call("DELETE", &format!("/reports/{other}"), Some(&t), "", "")
        .await;
    // (Unless this server's worker took it over first and is running it.)
    if r.status != StatusCode::CONFLICT {
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let r = second.get(&format!("/reports/{other}"), Some(&t)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

/// A receiver that keeps answering 429 + Retry-After: 20 holds up only its own owner: another
/// user's report queued after it is built and notified at once. (Before: the worker slept in
/// the webhook's retries and the other report stayed Queued for 82 s.)
async fn slow_receiver_delays_only_its_owner(backend: Backend) {
    let app = TestApp::with_options(backend, options()).await;
    let (slow_port, slow) = throttling_receiver().await;
    let (fast_port, fast) = webhook_receiver(0).await;
    let a = app.sign_in(MANAGER_A).await;
    let b = app.sign_in(MANAGER_B).await;
    let slow_id = queue(
        &app,
        &a,
        october_report(json!({"webhookUrl": format!("http://127.0.0.1:{slow_port}/hook")})),
    )
    .await;
    assert_eq!(wait_for_hooks(&slow, 1, WAIT).await.len(), 1);
    let fast_id = queue(
        &app,
        &b,
        json!({"accountId": "acc-b", "startDate": "2026-10-01", "endDate": "2026-10-31",
               "webhookUrl": format!("http://127.0.0.1:{fast_port}/hook")}),
    )
    .await;
    let info = app.wait_for_report(&b, &fast_id, WAIT).await;
    assert_eq!(info["status"], "Completed", "{info}");
    let note = wait_for_webhook_note(&app, &fast_id, WAIT).await;
    assert_eq!(
        note.as_deref(),
        Some("delivered: HTTP 200 after 1 attempt(s)")
    );
    assert_eq!(fast.lock().unwrap().len(), 1);
    // The throttled one waits as it was asked: one attempt so far, still pending.
    assert_eq!(slow.lock().unwrap().len(), 1);
    let states = app.db.deliveries().of_report(&slow_id).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].status, "Pending");
    assert_eq!(states[0].attempts, 1);
    assert_eq!(
        states[0].last_result.as_deref(),
        Some("HTTP 429 Too Many Requests")
    );
}

/// One user may have at most ten reports queued or running; the eleventh gets 429 with
/// Retry-After, other users are not affected, and a deleted report frees its place.
async fn reports_per_owner_are_limited(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let a = app.sign_in(MANAGER_A).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(queue(&app, &a, october_report(json!({}))).await);
    }
    let req = axum::http::Request::post("/reports/billing")
        .header("authorization", format!("Bearer {a}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            october_report(json!({})).to_string(),
        ))
        .unwrap();
    let r = app.send_full(req).await;
    assert_eq!(
        r.reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        r.reply.text()
    );
    assert_eq!(r.reply.error_code(), "TooManyRequests");
    assert!(r.headers.contains_key("retry-after"));
    let b = app.sign_in(MANAGER_B).await;
    queue(
        &app,
        &b,
        json!({"accountId": "acc-b", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
    )
    .await;
    let r = app
        .call("DELETE", &format!("/reports/{}", ids[0]), Some(&a), "", "")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    queue(&app, &a, october_report(json!({}))).await;
}

on_both_backends!(
    workers_share_the_queue,
    failed_reports_say_why,
    lifecycle_with_webhook_and_email,
    email_without_smtp_goes_to_the_outbox,
    customer_report_is_its_subtree,
    reports_are_private,
    queued_reports_survive_a_restart,
    unreachable_webhook_still_completes,
    failed_deliveries_are_noted,
    notifications_survive_a_crash,
    restart_takes_back_running_reports,
    slow_receiver_delays_only_its_owner,
    reports_per_owner_are_limited,
);
