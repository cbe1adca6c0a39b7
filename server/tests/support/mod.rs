//! Test support: a fresh database (SQLite file, or a new database on the PostgreSQL server named
//! by `EVO_BILLING_TEST_POSTGRES`), a small fixture with known numbers, and request helpers that
//! drive the whole app with `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use evo_billing_core::dto::Role;
use evo_billing_core::money::{Currency, Micros};
use evo_billing_server::app::{app, AppState};
use evo_billing_server::cli::{state, ServeOptions};
use evo_billing_server::db::Db;
use evo_billing_server::ledger::ResolvedBillable;
use evo_billing_server::model::{
    Account, CallRecord, CallSession, Customer, Direction, NewUser, NumberKind, NumberRental,
    SmsRecord,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for an `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if !$crate::support::postgres_available() {
                        return;
                    }
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Is a PostgreSQL server configured? When not, says so loudly (the test then passes vacuously,
/// and `cargo xtask test` refuses to run without PostgreSQL unless told to skip it).
pub fn postgres_available() -> bool {
    if std::env::var("EVO_BILLING_TEST_POSTGRES").is_ok() {
        return true;
    }
    eprintln!(
        "\n!!!!!!!! PostgreSQL UNAVAILABLE: EVO_BILLING_TEST_POSTGRES is not set; this PostgreSQL test did NOT run !!!!!!!!\n"
    );
    false
}

/// A fresh, migrated database.
pub async fn fresh_db(backend: Backend) -> Db {
    fresh_db_with_url(backend).await.0
}

pub const ADMIN: (&str, &str) = ("admin@test.evo", "admin-password");
pub const MANAGER_A: (&str, &str) = ("manager-a@test.evo", "manager-a-password");
pub const MANAGER_B: (&str, &str) = ("manager-b@test.evo", "manager-b-password");
/// Sees cus-a2 and its child cus-a3 in acc-a.
pub const CUSTOMER_A2: (&str, &str) = ("customer-a2@test.evo", "customer-a2-password");
/// Sees cus-b1 in acc-b.
pub const CUSTOMER_B1: (&str, &str) = ("customer-b1@test.evo", "customer-b1-password");

/// 2026-10-05 12:00:00 UTC.
pub const OCT5_NOON: i64 = 1_791_201_600;
pub const DAY: i64 = 86_400;

fn m(s: &str) -> Micros {
    s.parse().unwrap()
}

#[allow(clippy::too_many_arguments)]
pub fn call(
    account: &str,
    sid: &str,
    at: i64,
    dir: Direction,
    country: &str,
    secs: i64,
    price: &str,
    rec_secs: i64,
    rec_price: &str,
) -> CallRecord {
    CallRecord {
        account_id: account.into(),
        sid: sid.into(),
        start_time: at,
        direction: dir,
        from: "+15550000001".into(),
        to: "+445550000002".into(),
        country: country.into(),
        duration_secs: secs,
        price: m(price),
        currency: Currency::USD,
        recording_duration_secs: rec_secs,
        recording_price: m(rec_price),
    }
}

/// The fixture, with numbers the tests assert exactly:
///
/// acc-a (US, USD): customers cus-a1 (root) → cus-a2 → cus-a3, and cus-a4 (root).
/// Calls on 2026-10-05 in acc-a:
///   CA-A1 outbound GB 120 s $0.30 recorded 120 s $0.005, billed to cus-a1
///   CA-A2 outbound US  60 s $0.10,                       billed to cus-a2
///   CA-A3 outbound DE 300 s $1.2345,                     billed to cus-a3
///   CA-A4 inbound  US  30 s $0.0085,                     billed to cus-a3 (session ses-a4)
///   CA-A5 outbound FR  60 s $0.45,                       NOT billed (no billable)
/// and on 2026-11-02: CA-A6 outbound MX 60 s $0.25, billed to cus-a4.
/// Call session ses-a7 (cus-a4, call CA-A7) has no call in the ledger yet.
/// acc-b (GB, GBP): cus-b1; call CA-B1 outbound US 60 s $0.20 on 2026-10-05, billed to cus-b1.
/// SMS: 3 outbound in acc-a on 2026-10-05 at $0.0079 × 1 segment. Numbers: 2 local at $1.15 on
/// 2026-10-01.
pub async fn load_fixture(db: &Db) {
    db.insert_accounts(&[
        Account {
            id: "acc-a".into(),
            name: "Alpha Telecom".into(),
            account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        },
        Account {
            id: "acc-b".into(),
            name: "Beta Voice".into(),
            account_sid: "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into(),
            home_country: "GB".into(),
            currency: Currency::new("GBP").unwrap(),
        },
    ])
    .await
    .unwrap();
    let cust = |id: &str, acc: &str, parent: Option<&str>, name: &str| Customer {
        id: id.into(),
        account_id: acc.into(),
        parent_id: parent.map(str::to_string),
        name: name.into(),
    };
    db.insert_customers(&[
        cust("cus-a1", "acc-a", None, "Acme Holdings"),
        cust("cus-a2", "acc-a", Some("cus-a1"), "Acme Sales"),
        cust("cus-a3", "acc-a", Some("cus-a2"), "Acme Sales, \"EMEA\""),
        cust("cus-a4", "acc-a", None, "Globex"),
        cust("cus-b1", "acc-b", None, "Initech"),
    ])
    .await
    .unwrap();
    let user = |(email, password): (&str, &str),
                role: Role,
                accounts: &[&str],
                customer: Option<&str>| NewUser {
        email: email.into(),
        display_name: email.split('@').next().unwrap().into(),
        password: password.into(),
        role,
        account_ids: accounts.iter().map(|a| a.to_string()).collect(),
        customer_id: customer.map(str::to_string),
    };
    for u in [
        user(ADMIN, Role::SystemAdministrator, &[], None),
        user(MANAGER_A, Role::Manager, &["acc-a"], None),
        user(MANAGER_B, Role::Manager, &["acc-b"], None),
        user(CUSTOMER_A2, Role::Customer, &["acc-a"], Some("cus-a2")),
        user(CUSTOMER_B1, Role::Customer, &["acc-b"], Some("cus-b1")),
    ] {
        db.create_user(&u).await.unwrap();
    }
    let billable = |acc: &str, sid: &str, cus: &str, ses: Option<&str>| ResolvedBillable {
        account_id: acc.into(),
        customer_id: cus.into(),
        call_sid: sid.into(),
        session_id: ses.map(str::to_string),
    };
    db.insert_call_sessions(&[
        CallSession {
            id: "ses-a4".into(),
            account_id: "acc-a".into(),
            customer_id: "cus-a3".into(),
            call_sid: "CA-A4".into(),
        },
        CallSession {
            id: "ses-a7".into(),
            account_id: "acc-a".into(),
            customer_id: "cus-a4".into(),
            call_sid: "CA-A7".into(),
        },
        CallSession {
            id: "ses-a8".into(),
            account_id: "acc-a".into(),
            customer_id: "cus-a2".into(),
            call_sid: "CA-A8".into(),
        },
    ])
    .await
    .unwrap();
    db.insert_billables_bulk(&[
        billable("acc-a", "CA-A1", "cus-a1", None),
        billable("acc-a", "CA-A2", "cus-a2", None),
        billable("acc-a", "CA-A3", "cus-a3", None),
        billable("acc-a", "CA-A4", "cus-a3", Some("ses-a4")),
        billable("acc-a", "CA-A6", "cus-a4", None),
        billable("acc-b", "CA-B1", "cus-b1", None),
    ])
    .await
    .unwrap();
    use Direction::*;
    db.insert_calls(
        &[
            call(
                "acc-a", "CA-A1", OCT5_NOON, Outbound, "GB", 120, "0.30", 120, "0.005",
            ),
            call(
                "acc-a",
                "CA-A2",
                OCT5_NOON + 60,
                Outbound,
                "US",
                60,
                "0.10",
                0,
                "0",
            ),
            call(
                "acc-a",
                "CA-A3",
                OCT5_NOON + 120,
                Outbound,
                "DE",
                300,
                "1.2345",
                0,
                "0",
            ),
            call(
                "acc-a",
                "CA-A4",
                OCT5_NOON + 180,
                Inbound,
                "US",
                30,
                "0.0085",
                0,
                "0",
            ),
            call(
                "acc-a",
                "CA-A5",
                OCT5_NOON + 240,
                Outbound,
                "FR",
                60,
                "0.45",
                0,
                "0",
            ),
            call(
                "acc-a",
                "CA-A6",
                OCT5_NOON + 28 * DAY,
                Outbound,
                "MX",
                60,
                "0.25",
                0,
                "0",
            ),
            call(
                "acc-b", "CA-B1", OCT5_NOON, Outbound, "US", 60, "0.20", 0, "0",
            ),
        ],
        true,
    )
    .await
    .unwrap();
    let sms = |sid: &str| SmsRecord {
        account_id: "acc-a".into(),
        sid: sid.into(),
        sent_at: OCT5_NOON,
        direction: Outbound,
        country: "US".into(),
        segments: 1,
        price: m("0.0079"),
    };
    db.insert_sms(&[sms("SM1"), sms("SM2"), sms("SM3")], true)
        .await
        .unwrap();
    let number = |n: &str| NumberRental {
        account_id: "acc-a".into(),
        number: n.into(),
        kind: NumberKind::Local,
        charged_at: OCT5_NOON - 4 * DAY,
        price: m("1.15"),
    };
    db.insert_numbers(&[number("+15550000001"), number("+15550000002")], true)
        .await
        .unwrap();
}

/// Server options for tests: webhooks to loopback allowed, no static dir.
pub fn options() -> ServeOptions {
    let mut o = ServeOptions::default_from_env();
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.allow_private_webhooks = true;
    o.webhook_secret = Some("test-secret".into());
    o.public_url = Some("http://billing.test".into());
    o.smtp_url = None;
    o.static_dir = std::env::temp_dir().join("evo-billing-no-dashboard");
    o
}

/// A running app over a fresh database with the fixture.
pub struct TestApp {
    pub db: Db,
    pub ctx: Arc<AppState>,
    pub router: Router,
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::with_options(backend, options()).await
    }

    pub async fn with_options(backend: Backend, opts: ServeOptions) -> TestApp {
        let db = fresh_db(backend).await;
        load_fixture(&db).await;
        TestApp::on(db, opts).await
    }

    /// An app (with its own worker, unless `opts.no_worker`) over an existing database.
    pub async fn on(db: Db, opts: ServeOptions) -> TestApp {
        let ctx = state(db.clone(), &opts).await.unwrap();
        let router = app(ctx.clone());
        TestApp { db, ctx, router }
    }

    /// Sends a request through the whole app.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            content_type: headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            set_cookie: headers
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: bytes.to_vec(),
        }
    }

    /// GET with an optional bearer token.
    pub async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        let mut b = Request::get(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    /// A request with a body and content type.
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if !content_type.is_empty() {
            b = b.header("content-type", content_type);
        }
        self.send(b.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn post_json(
        &self,
        uri: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> Reply {
        self.call("POST", uri, token, "application/json", &body.to_string())
            .await
    }

    /// Signs in and returns the bearer token.
    pub async fn sign_in(&self, (user, password): (&str, &str)) -> String {
        let r = self
            .post_json(
                "/auth/credentials",
                None,
                serde_json::json!({"userName": user, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "sign-in of {user}: {}", r.text());
        r.json()["bearerToken"].as_str().unwrap().to_string()
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub set_cookie: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// `responseStatus.errorCode`.
    pub fn error_code(&self) -> String {
        self.json()["responseStatus"]["errorCode"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The `fieldName`s of `responseStatus.errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["responseStatus"]["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["fieldName"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

// ------------------------------------------------------------------------------------------
// Helpers added for the format, validation, billable, report, listener and import suites.
// ------------------------------------------------------------------------------------------

/// A response, read whole, with all its headers.
#[derive(Debug)]
pub struct FullReply {
    pub reply: Reply,
    pub headers: axum::http::HeaderMap,
}

/// The October 2026 GetBilling query of acc-a.
pub const OCT_A: &str = "accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31";

impl TestApp {
    /// Sends a request and keeps every response header.
    pub async fn send_full(&self, req: Request<Body>) -> FullReply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let headers = resp.headers().clone();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        FullReply {
            reply: Reply {
                status,
                content_type: headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
                set_cookie: headers
                    .get("set-cookie")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body: bytes.to_vec(),
            },
            headers,
        }
    }

    /// A request with any extra headers (`(name, value)` pairs) and a body.
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// GET with an `Accept` header.
    pub async fn get_accept(&self, uri: &str, token: Option<&str>, accept: &str) -> Reply {
        self.request("GET", uri, token, &[("accept", accept)], Vec::new())
            .await
    }

    /// The October billing of acc-a as `[(customerId, internationalCosts, hasCallRecording)]`.
    pub async fn october_billing(&self, token: &str) -> Vec<(String, f64, bool)> {
        let r = self.get(&format!("/billing?{OCT_A}"), Some(token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        billing_rows(&r.json())
    }

    /// Polls `GET /reports/{id}` every 50 ms until the report is final (Completed or Error),
    /// for at most `timeout`; returns its ReportInfo JSON.
    pub async fn wait_for_report(
        &self,
        token: &str,
        id: &str,
        timeout: std::time::Duration,
    ) -> serde_json::Value {
        let started = std::time::Instant::now();
        loop {
            let r = self.get(&format!("/reports/{id}"), Some(token)).await;
            assert_eq!(r.status, StatusCode::OK, "report {id}: {}", r.text());
            let info = r.json();
            let status = info["status"].as_str().unwrap_or("").to_string();
            if status == "Completed" || status == "Error" {
                return info;
            }
            assert!(
                started.elapsed() < timeout,
                "report {id} still {status} after {timeout:?}: {info}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// `[(customerId, internationalCosts, hasCallRecording)]` of a BillingInfo JSON.
pub fn billing_rows(info: &serde_json::Value) -> Vec<(String, f64, bool)> {
    info["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("no customers in {info}"))
        .iter()
        .map(|c| {
            (
                c["customerId"].as_str().unwrap().to_string(),
                c["internationalCosts"].as_f64().unwrap(),
                c["hasCallRecording"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The October billing of acc-a in the fixture.
pub fn fixture_october() -> Vec<(String, f64, bool)> {
    vec![
        ("cus-a1".to_string(), 0.3, true),
        ("cus-a2".to_string(), 0.0, false),
        ("cus-a3".to_string(), 1.23, false),
    ]
}

/// Fails when a response body leaks internals (SQL, driver names, panics, source paths).
pub fn assert_no_leak(what: &str, r: &Reply) {
    let text = r.text();
    for needle in [
        "sqlx",
        "SELECT",
        "panicked",
        "stack backtrace",
        "src/",
        ".rs:",
        "/work/",
    ] {
        assert!(
            !text.contains(needle),
            "{what}: the body leaks {needle:?}: {text}"
        );
    }
}

/// A fresh SQLite database URL in its own temporary directory (for tests that reopen a file).
pub fn temp_sqlite_url() -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!(
        "evo-billing-test-{}-{}",
        std::process::id(),
        evo_billing_server::auth::new_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/test.db", dir.display());
    (dir, url)
}

/// A fresh, migrated database like [`fresh_db`], with the URL it can be reopened at.
pub async fn fresh_db_with_url(backend: Backend) -> (Db, String) {
    let url = match backend {
        Backend::Sqlite => temp_sqlite_url().1,
        Backend::Postgres => {
            let admin_url = std::env::var("EVO_BILLING_TEST_POSTGRES").unwrap();
            let name = format!("evo_test_{}", &evo_billing_server::auth::new_token()[..16]);
            let admin = Db::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin.pool)
                .await
                .unwrap();
            admin.pool.close().await;
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (db, url)
}

/// How many billables the database holds for a call (whatever the customer).
pub async fn billable_rows(db: &Db, account_id: &str, call_sid: &str) -> i64 {
    use sqlx::Row;
    let row = sqlx::query(&db.sql(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM billables WHERE account_id = ? AND call_sid = ?",
    ))
    .bind(account_id)
    .bind(call_sid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    row.try_get::<i64, _>("n").unwrap()
}
