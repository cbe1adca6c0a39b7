//! The whole app driven in-process with `tower::ServiceExt::oneshot` (no port), and helpers to
//! send requests and read answers.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use evo_billing_server::config::Config;
use evo_billing_server::http::app;
use evo_billing_server::state::{AppState, Ctx};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{billing_rows, fresh_db, load_fixture, Backend, TestDb};

/// Server options for tests, built without reading the environment: webhooks to loopback
/// allowed, a fixed webhook secret and public URL, no SMTP, no dashboard.
pub fn options() -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_private_webhooks: true,
        webhook_secret: Some("test-secret".into()),
        public_url: Some("http://billing.test".into()),
        smtp_url: None,
        static_dir: None,
        ..Config::default()
    }
}

/// A running app over a fresh database with the fixture.
pub struct TestApp {
    pub db: TestDb,
    pub ctx: Ctx,
    pub router: Router,
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::with_options(backend, options()).await
    }

    pub async fn with_options(backend: Backend, opts: Config) -> TestApp {
        let db = fresh_db(backend).await;
        load_fixture(&db).await;
        TestApp::on(db, opts).await
    }

    /// An app (with its own worker, unless `opts.run_worker` is false) over an existing
    /// database.
    pub async fn on(db: TestDb, opts: Config) -> TestApp {
        let ctx = AppState::start(db.store.clone(), opts).await.unwrap();
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
