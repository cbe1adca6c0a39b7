//! CORS (`--cors-origin`): off by default; for a listed origin, preflights are answered before
//! the router with the allowed methods and headers and credentials, and answers carry
//! `Access-Control-Allow-Origin`; an origin not listed gets no CORS header at all. The browser's
//! side of it is tests/cors/ (a real Chromium page on another port). Runs on SQLite and on
//! PostgreSQL.

use crate::support::*;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};

const APP_ORIGIN: &str = "http://127.0.0.1:5173";
const OTHER_APP: &str = "https://billing-app.example";

async fn with_cors(backend: Backend) -> TestApp {
    let mut opts = options();
    opts.cors_origins = vec![APP_ORIGIN.to_string(), OTHER_APP.to_string()];
    TestApp::with_options(backend, opts).await
}

/// A request with these headers (and an empty body).
async fn send(app: &TestApp, method: &str, uri: &str, headers: &[(&str, &str)]) -> FullReply {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.send_full(b.body(Body::empty()).unwrap()).await
}

async fn preflight(app: &TestApp, uri: &str, origin: &str, method: &str) -> FullReply {
    send(
        app,
        "OPTIONS",
        uri,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    )
    .await
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Comma-separated header values, lower-cased, from every line of the header.
fn list(h: &HeaderMap, name: &str) -> Vec<String> {
    h.get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn assert_no_cors(how: &str, h: &HeaderMap) {
    for (name, _) in h {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "{how}: CORS header {name}: {h:?}"
        );
    }
}

/// A listed origin's preflight: answered before the router (even where the router would answer
/// 405 or 404), with the origin, credentials, methods, headers and max-age.
async fn preflight_from_a_listed_origin(backend: Backend) {
    let app = with_cors(backend).await;
    for (uri, method, origin) in [
        ("/billing?accountId=acc-a", "GET", APP_ORIGIN),
        ("/auth/credentials", "POST", APP_ORIGIN),
        ("/billables", "POST", OTHER_APP),
        ("/reports/rep_x", "DELETE", APP_ORIGIN),
        ("/api/GetBilling", "POST", APP_ORIGIN),
    ] {
        let r = preflight(&app, uri, origin, method).await;
        let how = format!("OPTIONS {uri} from {origin}");
        assert!(
            matches!(r.reply.status, StatusCode::OK | StatusCode::NO_CONTENT),
            "{how}: {} {}",
            r.reply.status,
            r.reply.text()
        );
        let h = &r.headers;
        assert_eq!(header(h, "access-control-allow-origin"), origin, "{how}");
        assert_eq!(
            header(h, "access-control-allow-credentials"),
            "true",
            "{how}"
        );
        let methods = list(h, "access-control-allow-methods");
        for m in ["get", "post", "delete", "head"] {
            assert!(methods.iter().any(|x| x == m), "{how}: methods {methods:?}");
        }
        let allowed = list(h, "access-control-allow-headers");
        for name in ["authorization", "content-type", "accept"] {
            assert!(
                allowed.iter().any(|x| x == name),
                "{how}: headers {allowed:?}"
            );
        }
        assert_eq!(header(h, "access-control-max-age"), "600", "{how}");
        assert!(list(h, "vary").contains(&"origin".to_string()), "{how}");
        // The router never saw it: no ResponseStatus body.
        assert!(r.reply.body.is_empty(), "{how}: {}", r.reply.text());
    }
}

/// An origin that is not listed (another port, another scheme, `null`, a look-alike) gets no
/// CORS header, on a preflight (which then reaches the router: 405) or on a request.
async fn unlisted_origins_get_no_cors_headers(backend: Backend) {
    let app = with_cors(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let bearer = format!("Bearer {t}");
    for origin in [
        "http://127.0.0.1:5174",
        "https://127.0.0.1:5173",
        "http://localhost:5173",
        "null",
        "https://billing-app.example.evil.test",
        "http://billing-app.example",
    ] {
        let r = preflight(&app, "/billing", origin, "GET").await;
        assert_no_cors(&format!("preflight from {origin}"), &r.headers);
        assert_eq!(r.reply.status, StatusCode::METHOD_NOT_ALLOWED, "{origin}");
        let r = send(
            &app,
            "GET",
            &format!("/billing?{OCT_A}"),
            &[("origin", origin), ("authorization", &bearer)],
        )
        .await;
        assert_eq!(r.reply.status, StatusCode::OK, "{origin}");
        assert_no_cors(&format!("GET from {origin}"), &r.headers);
        // Caches keep one answer per origin.
        assert!(list(&r.headers, "vary").contains(&"origin".to_string()));
    }
}

/// Without `--cors-origin`: no CORS header, whatever the request's origin.
async fn off_by_default(backend: Backend) {
    let app = TestApp::new(backend).await;
    assert!(app.ctx.config.cors_origins.is_empty());
    let t = app.sign_in(MANAGER_A).await;
    let r = preflight(&app, "/billing", APP_ORIGIN, "GET").await;
    assert_no_cors("preflight", &r.headers);
    assert_eq!(r.reply.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = send(
        &app,
        "GET",
        &format!("/billing?{OCT_A}"),
        &[
            ("origin", APP_ORIGIN),
            ("authorization", &format!("Bearer {t}")),
        ],
    )
    .await;
    assert_eq!(r.reply.status, StatusCode::OK);
    assert_no_cors("GET", &r.headers);
    // No `Vary: Origin` (the answer is the same for every origin); compression's
    // `Vary: accept-encoding` is no CORS header.
    assert!(
        !list(&r.headers, "vary").contains(&"origin".to_string()),
        "{:?}",
        r.headers
    );
}

/// A listed origin's requests carry `Access-Control-Allow-Origin` (that origin, never `*`) and
/// credentials, on answers and on errors alike (so the page can read a 401's ResponseStatus),
/// and expose `Retry-After`.
async fn requests_from_a_listed_origin(backend: Backend) {
    let app = with_cors(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let bearer = format!("Bearer {t}");
    let r = send(
        &app,
        "GET",
        &format!("/billing?{OCT_A}"),
        &[("origin", APP_ORIGIN), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(r.reply.status, StatusCode::OK, "{}", r.reply.text());
    assert_eq!(billing_rows(&r.reply.json()), fixture_october());
    assert_eq!(
        header(&r.headers, "access-control-allow-origin"),
        APP_ORIGIN
    );
    assert_eq!(
        header(&r.headers, "access-control-allow-credentials"),
        "true"
    );
    assert_eq!(
        list(&r.headers, "access-control-expose-headers"),
        ["retry-after"]
    );
    // The other listed origin gets its own name back.
    let r = send(&app, "GET", "/healthz", &[("origin", OTHER_APP)]).await;
    assert_eq!(r.reply.status, StatusCode::OK);
    assert_eq!(header(&r.headers, "access-control-allow-origin"), OTHER_APP);
    // Errors too.
    let r = send(
        &app,
        "GET",
        &format!("/billing?{OCT_A}"),
        &[("origin", APP_ORIGIN)],
    )
    .await;
    assert_eq!(r.reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.reply.error_code(), "Unauthorized");
    assert_eq!(
        header(&r.headers, "access-control-allow-origin"),
        APP_ORIGIN
    );
    // A sign-in from the page, and a write with its token.
    let mut b = Request::post("/auth/credentials")
        .header("origin", APP_ORIGIN)
        .header("content-type", "application/json");
    b = b.header("accept", "application/json");
    let body = serde_json::json!({"userName": MANAGER_A.0, "password": MANAGER_A.1});
    let r = app
        .send_full(b.body(Body::from(body.to_string())).unwrap())
        .await;
    assert_eq!(r.reply.status, StatusCode::OK, "{}", r.reply.text());
    assert_eq!(
        header(&r.headers, "access-control-allow-origin"),
        APP_ORIGIN
    );
    assert!(r.reply.json()["bearerToken"].is_string());
    // A request without Origin (curl, a server): no CORS header.
    let r = send(&app, "GET", "/healthz", &[]).await;
    assert_no_cors("no Origin", &r.headers);
}

on_both_backends!(
    preflight_from_a_listed_origin,
    unlisted_origins_get_no_cors_headers,
    off_by_default,
    requests_from_a_listed_origin,
);
