//! Cross-site requests: with only the session cookie (what a browser sends on its own), a write
//! from another site's page is refused, a write is never a GET, sign-in from another site is
//! refused, and JSONP is not answered to the cookie. Explicit credentials are unaffected.

use axum::http::StatusCode;

use crate::support::*;

const HOST: &str = "billing.test";

/// A session cookie for a user (signing in from the server's own page).
async fn cookie(app: &TestApp, who: (&str, &str)) -> String {
    let r = app
        .request(
            "POST",
            "/auth/credentials",
            None,
            &[
                ("content-type", "application/json"),
                ("host", HOST),
                ("origin", "http://billing.test"),
            ],
            format!(r#"{{"userName":"{}","password":"{}"}}"#, who.0, who.1).into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let set = r.set_cookie.expect("a session cookie");
    set.split(';').next().unwrap().to_string()
}

async fn with_cookie(
    app: &TestApp,
    method: &str,
    uri: &str,
    cookie: &str,
    origin: Option<&str>,
    body: &str,
) -> Reply {
    let mut headers = vec![
        ("cookie", cookie),
        ("host", HOST),
        ("content-type", "application/json"),
    ];
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    app.request(method, uri, None, &headers, body.as_bytes().to_vec())
        .await
}

const BILLABLE: &str = r#"{"accountId":"acc-a","customerId":"cus-a4","callSid":"CA-A5"}"#;

async fn cookie_writes_come_from_this_servers_pages(backend: Backend) {
    let app = TestApp::new(backend).await;
    let c = cookie(&app, MANAGER_A).await;
    // A link: GET never writes.
    let r = with_cookie(
        &app,
        "GET",
        "/api/NewBillable?accountId=acc-a&customerId=cus-a4&callSid=CA-A5",
        &c,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());
    // Another site's form or fetch, or no Origin at all: refused, nothing written.
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let r = with_cookie(&app, "POST", "/billables", &c, origin, BILLABLE).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin:?}: {}", r.text());
        assert_eq!(r.error_code(), "Forbidden");
    }
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A5")
            .await
            .unwrap(),
        None
    );
    // A report with a webhook, from another site: refused.
    let report = r#"{"accountId":"acc-a","startDate":"2026-10-01","endDate":"2026-10-31","webhookUrl":"http://127.0.0.1:9/steal"}"#;
    let r = with_cookie(
        &app,
        "POST",
        "/reports/billing",
        &c,
        Some("https://evil.example"),
        report,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = with_cookie(
        &app,
        "GET",
        "/reports/billing?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31&webhookUrl=http://127.0.0.1:9/steal",
        &c,
        None,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());
    assert!(app.db.reports().list(None).await.unwrap().is_empty());
    // Sign-out from another site: refused, the session lives on.
    let r = with_cookie(
        &app,
        "POST",
        "/auth/logout",
        &c,
        Some("https://evil.example"),
        "{}",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = with_cookie(&app, "GET", "/auth/logout", &c, None, "").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = with_cookie(&app, "GET", "/auth/status", &c, None, "").await;
    assert_eq!(r.json()["isAuthenticated"], true);
    // The server's own page (Origin = Host, or the Referer of a page of it): accepted.
    let r = with_cookie(
        &app,
        "POST",
        "/billables",
        &c,
        Some("http://billing.test"),
        BILLABLE,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app
        .request(
            "POST",
            "/billables",
            None,
            &[
                ("cookie", c.as_str()),
                ("host", HOST),
                ("referer", "http://billing.test/app/report-call"),
                ("content-type", "application/json"),
            ],
            br#"{"accountId":"acc-a","customerId":"cus-a4","callSid":"CA-A7"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    // Explicit credentials need no Origin (they cannot be forged by a page).
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .request(
            "POST",
            "/billables",
            Some(&t),
            &[
                ("content-type", "application/json"),
                ("origin", "https://elsewhere.example"),
            ],
            br#"{"accountId":"acc-a","customerId":"cus-a4","callSid":"CA-A8B"}"#.to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

async fn sign_in_from_another_site_is_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let body = format!(
        r#"{{"userName":"{}","password":"{}"}}"#,
        MANAGER_A.0, MANAGER_A.1
    );
    let r = app
        .request(
            "POST",
            "/auth/credentials",
            None,
            &[
                ("content-type", "application/json"),
                ("host", HOST),
                ("origin", "https://evil.example"),
            ],
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.set_cookie.is_none());
    // A client that is not a page (no Origin, no cookie): fine.
    let r = app
        .request(
            "POST",
            "/api/Authenticate",
            None,
            &[("content-type", "application/json")],
            body.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn no_jsonp_for_the_cookie(backend: Backend) {
    let app = TestApp::new(backend).await;
    let c = cookie(&app, MANAGER_A).await;
    for uri in [
        format!("/billing?{OCT_A}&callback=steal"),
        "/auth/status?callback=steal".to_string(),
    ] {
        let r = with_cookie(&app, "GET", &uri, &c, None, "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(!r.text().starts_with("steal("), "{uri}: {}", r.text());
        assert!(
            r.content_type.starts_with("application/json"),
            "{}",
            r.content_type
        );
    }
    // With a bearer token (which a script tag cannot send) JSONP still works.
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .get(&format!("/billing?{OCT_A}&callback=mine"), Some(&t))
        .await;
    assert!(r.text().starts_with("mine("), "{}", r.text());
}

on_both_backends!(
    cookie_writes_come_from_this_servers_pages,
    sign_in_from_another_site_is_refused,
    no_jsonp_for_the_cookie,
);
