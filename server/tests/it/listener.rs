//! The server over a real TCP listener, driven with reqwest: cookie sessions, sign-out, bad
//! passwords and rate limiting, API keys (Bearer and Basic), and the non-API routes.
//! Runs on SQLite and on PostgreSQL.

use std::net::SocketAddr;

use crate::support::*;
use evo_billing_server::auth::token_hash;
use evo_billing_server::http::app;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A served app: the test app (for its database) and its address.
struct Served {
    app: TestApp,
    base: String,
    client: reqwest::Client,
}

async fn serve(backend: Backend) -> Served {
    let test_app = TestApp::new(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app(test_app.ctx.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, service).await.unwrap();
    });
    Served {
        app: test_app,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap(),
    }
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn sign_in(&self, (user, password): (&str, &str), remember: bool) -> reqwest::Response {
        self.client
            .post(self.url("/auth/credentials"))
            .json(&json!({"userName": user, "password": password, "rememberMe": remember}))
            .send()
            .await
            .unwrap()
    }
}

/// Updates an API key's row (`revoked = 1`, `expires_at = 1`).
async fn set_key(s: &Served, key: &str, assignment: &str) {
    sqlx::query(&s.app.db.sql(&format!(
        "UPDATE api_keys SET {assignment} WHERE key_hash = ?"
    )))
    .bind(token_hash(key))
    .execute(&s.app.db.pool)
    .await
    .unwrap();
}

/// `base64(text)` (standard alphabet, padded).
fn base64(text: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Max-Age of a Set-Cookie value.
fn max_age(set_cookie: &str) -> i64 {
    set_cookie
        .split(';')
        .find_map(|a| a.trim().strip_prefix("Max-Age="))
        .unwrap_or_else(|| panic!("no Max-Age in {set_cookie}"))
        .parse()
        .unwrap()
}

fn october(v: &Value) -> Vec<(String, f64, bool)> {
    billing_rows(v)
}

async fn cookie_sessions(backend: Backend) {
    let s = serve(backend).await;
    let r = s.sign_in(MANAGER_A, false).await;
    assert_eq!(r.status(), StatusCode::OK);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let token = body["bearerToken"].as_str().unwrap().to_string();
    assert_eq!(body["userName"], MANAGER_A.0);
    assert_eq!(body["roles"], json!(["Manager"]));
    assert_eq!(body["sessionId"], token.as_str());
    let (pair, attrs) = set_cookie.split_once(';').unwrap();
    assert_eq!(pair, format!("evo-session={token}"));
    for attr in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(
            attrs.split(';').any(|a| a.trim() == attr),
            "{attr} in {set_cookie}"
        );
    }
    // 12 hours (a second may have passed between issuing and answering).
    assert!(
        (43_195..=43_200).contains(&max_age(&set_cookie)),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = pair.to_string();

    // The cookie alone is a credential.
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(october(&r.json().await.unwrap()), fixture_october());
    // Among other cookies too.
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .header("cookie", format!("theme=dark; {cookie}; lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // /auth/status.
    let r = s
        .client
        .get(s.url("/auth/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["isAuthenticated"], true);
    assert_eq!(status["roles"], json!(["Manager"]));
    assert_eq!(status["emailAddress"], MANAGER_A.0);
    assert_eq!(status["accountIds"], json!(["acc-a"]));
    assert_eq!(status["accountNames"], json!(["Alpha Telecom"]));
    let r = s.client.get(s.url("/auth/status")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let anon: Value = r.json().await.unwrap();
    assert_eq!(anon["isAuthenticated"], false);
    assert!(anon.get("roles").is_none_or(|r| r == &json!([])), "{anon}");

    // A second session of the same user, to check logout ends only the first.
    let other: Value = s.sign_in(MANAGER_A, true).await.json().await.unwrap();
    let other_token = other["bearerToken"].as_str().unwrap().to_string();
    assert_ne!(other_token, token);

    // Logout with the cookie from another site's page (or with no Origin at all): refused, the
    // session lives on (a cross-site request cannot sign anyone out).
    for origin in [Some("https://evil.example"), None] {
        let mut req = s
            .client
            .post(s.url("/auth/logout"))
            .header("cookie", &cookie);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Logout with the cookie from the server's own page: the cookie is cleared, and the session
    // is over for cookie and bearer alike.
    let r = s
        .client
        .post(s.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", s.url("").trim_end_matches('/'))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cleared = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("evo-session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["responseStatus"]["errorCode"], "Unauthorized");
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .get(s.url("/auth/status"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["isAuthenticated"], false);
    // The other session lives on, until `DELETE /auth` ends it.
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client
        .delete(s.url("/auth"))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // "Remember me": 30 days.
    let r = s.sign_in(CUSTOMER_A2, true).await;
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        (2_591_995..=2_592_000).contains(&max_age(&set_cookie)),
        "{set_cookie}"
    );
    // An expired session is refused.
    let token: String = r.json::<Value>().await.unwrap()["bearerToken"]
        .as_str()
        .unwrap()
        .to_string();
    sqlx::query(
        &s.app
            .db
            .sql("UPDATE auth_sessions SET expires_at = 1 WHERE token_hash = ?"),
    )
    .bind(token_hash(&token))
    .execute(&s.app.db.pool)
    .await
    .unwrap();
    let r = s
        .client
        .get(s.url(&format!("/billing?{OCT_A}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Bad credentials.
    for (user, password) in [
        (MANAGER_A.0, "wrong-password"),
        ("nobody@test.evo", "whatever-password"),
        ("MANAGER-A@TEST.EVO", "Manager-A-Password"),
    ] {
        let r = s.sign_in((user, password), false).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(r.headers().get("set-cookie").is_none());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["responseStatus"]["errorCode"], "Unauthorized");
        assert_eq!(
            body["responseStatus"]["message"],
            "Invalid Username or Password"
        );
    }
    // The user name is case-insensitive.
    let r = s.sign_in(("Manager-A@Test.Evo", MANAGER_A.1), false).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Secure cookies when configured.
    let mut opts = options();
    opts.secure_cookies = true;
    let secure = TestApp::on(s.app.db.clone(), opts).await;
    let r = secure
        .post_json(
            "/auth/credentials",
            None,
            json!({"userName": MANAGER_A.0, "password": MANAGER_A.1}),
        )
        .await;
    assert!(
        r.set_cookie.as_deref().unwrap().contains("; Secure"),
        "{:?}",
        r.set_cookie
    );
}

/// More than 10 failed sign-ins for one user from one address within 15 minutes: 429 with
/// Retry-After at that address, while the real user signs in from another; per address, more
/// than 30 attempts a minute. (Before: 10 failures from anywhere locked the user out
/// everywhere, without Retry-After.)
async fn sign_in_rate_limits(backend: Backend) {
    let s = serve(backend).await;
    for i in 0..10 {
        let r = s.sign_in((MANAGER_B.0, "wrong-password"), false).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    let r = s.sign_in((MANAGER_B.0, "wrong-password"), false).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&wait), "Retry-After: {wait}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["responseStatus"]["errorCode"], "TooManyRequests");
    // At this address even the right password waits; the user name's case does not matter.
    let r = s.sign_in(MANAGER_B, false).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = s.sign_in(("MANAGER-B@test.evo", MANAGER_B.1), false).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // From another address the real user signs in (127.0.0.2 is loopback too).
    let elsewhere = reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let r = elsewhere
        .post(s.url("/auth/credentials"))
        .json(&json!({"userName": MANAGER_B.0, "password": MANAGER_B.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Another user is not locked out.
    let r = s.sign_in(MANAGER_A, false).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Per client address: 30 attempts a minute in all (14 made so far).
    for i in 14..30 {
        let r = s
            .sign_in((&format!("user{i}@test.evo"), "whatever-password"), false)
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    let r = s.sign_in(ADMIN, false).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Requests with a token are not limited.
    let admin = s.app.db.users().by_email(ADMIN.0).await.unwrap().unwrap();
    let key = evo_billing_server::auth::create_api_key(&s.app.db, &admin.id, "k")
        .await
        .unwrap();
    for _ in 0..5 {
        let r = s
            .client
            .get(s.url(&format!("/billing?{OCT_A}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

async fn api_keys(backend: Backend) {
    let s = serve(backend).await;
    let user = s
        .app
        .db
        .users()
        .by_email(MANAGER_A.0)
        .await
        .unwrap()
        .unwrap();
    let key = evo_billing_server::auth::create_api_key(&s.app.db, &user.id, "k")
        .await
        .unwrap();
    assert!(key.starts_with("ek_"));
    let billing = s.url(&format!("/billing?{OCT_A}"));
    let r = s
        .client
        .get(&billing)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(october(&r.json().await.unwrap()), fixture_october());
    for basic in [format!("{key}:"), format!("{key}:ignored")] {
        let r = s
            .client
            .get(&billing)
            .header("authorization", format!("Basic {}", base64(&basic)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{basic}");
        assert_eq!(october(&r.json().await.unwrap()), fixture_october());
    }
    // reqwest's own basic auth (user = key, empty password).
    let r = s
        .client
        .get(&billing)
        .basic_auth(&key, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The key carries its user's scope.
    let r = s
        .client
        .get(s.url("/billing?accountId=acc-b&startDate=2026-10-01&endDate=2026-10-31"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .client
        .get(s.url("/auth/status"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["isAuthenticated"], true);
    assert_eq!(status["emailAddress"], MANAGER_A.0);
    // Unknown keys, and a revoked one.
    let unknown = format!("ek_{}", "0".repeat(64));
    for bad in [unknown.as_str(), "ek_", "ek_x"] {
        let r = s
            .client
            .get(&billing)
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
        let r = s
            .client
            .get(&billing)
            .header(
                "authorization",
                format!("Basic {}", base64(&format!("{bad}:"))),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "Basic {bad}");
    }
    // A key revoked (or expired) in the database before its first use is refused at once.
    let revoked = evo_billing_server::auth::create_api_key(&s.app.db, &user.id, "revoked")
        .await
        .unwrap();
    let expired = evo_billing_server::auth::create_api_key(&s.app.db, &user.id, "expired")
        .await
        .unwrap();
    set_key(&s, &revoked, "revoked = 1").await;
    set_key(&s, &expired, "expires_at = 1").await;
    for k in [&revoked, &expired] {
        let r = s.client.get(&billing).bearer_auth(k).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["responseStatus"]["errorCode"], "Unauthorized");
    }
    // A key in use, revoked in the database (as by another server process): refused within
    // the principal cache's time to live.
    set_key(&s, &key, "revoked = 1").await;
    let started = std::time::Instant::now();
    let limit = evo_billing_server::auth::CACHE_TTL + std::time::Duration::from_secs(5);
    loop {
        let r = s
            .client
            .get(&billing)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            started.elapsed() < limit,
            "a revoked key still works after {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Garbage in Authorization is just "not signed in".
    for header in ["Basic !!!", "Basic ", "Bearer", "Token abc", "Digest x"] {
        let r = s
            .client
            .get(&billing)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
}

async fn other_routes(backend: Backend) {
    let s = serve(backend).await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let health: Value = r.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["database"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    // Unknown API paths: a ResponseStatus 404, whatever the verb.
    for (method, path) in [
        ("GET", "/api/NoSuchOperation"),
        ("POST", "/json/reply/Nope"),
        ("GET", "/billing/nope"),
        ("GET", "/auth/nope"),
        ("GET", "/reports/x/y/z"),
        ("POST", "/not-an-api"),
    ] {
        let r = s
            .client
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["responseStatus"]["errorCode"], "NotFound",
            "{method} {path}"
        );
    }
    // The dashboard (a placeholder page when it is not built), also for client-side routes.
    for path in ["/", "/reports-page", "/index.html"] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = r.text().await.unwrap();
        assert!(html.to_ascii_lowercase().contains("<html"), "{html}");
    }
    // HEAD: the headers of a GET, no body.
    let token = s.app.sign_in(MANAGER_A).await;
    let r = s
        .client
        .head(s.url(&format!("/billing?{OCT_A}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(r.bytes().await.unwrap().is_empty());
    // A sign-in over the wire and GetBilling with the bearer token, in CSV.
    let r = s
        .client
        .get(s.url(&format!("/billing.csv?{OCT_A}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "CustomerId,InternationalCosts,HasCallRecording\r\ncus-a1,0.3,True\r\ncus-a2,0,False\r\ncus-a3,1.23,False\r\n"
    );
}

/// `/openapi.json` is the OpenAPI document, and a dashboard file named `*.json` is served as
/// it is. The format-suffix middleware strips `.json` before routing, so both requests fall
/// through to the dashboard's `index.html` (or the placeholder page).
async fn json_files_are_served(backend: Backend) {
    let s = serve(backend).await;
    let r = s.client.get(s.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("/openapi.json is not JSON ({e}): {:.200}", text));
    assert!(
        doc["openapi"].as_str().unwrap().starts_with('3'),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/billing",
        "/billing/usage",
        "/billables",
        "/reports/billing",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in /openapi.json");
    }
    assert!(doc["paths"]["/billing"]["get"].is_object());
    // A built dashboard with a JSON asset.
    let folder = temp_dir();
    let dir = folder.path().join("dist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html>dashboard</html>",
    )
    .unwrap();
    std::fs::write(dir.join("manifest.json"), r#"{"name":"evo"}"#).unwrap();
    let mut opts = options();
    opts.static_dir = Some(dir);
    opts.run_worker = false;
    let dashboard = TestApp::on(s.app.db.clone(), opts).await;
    let r = dashboard.get("/", None).await;
    assert_eq!(r.text(), "<!doctype html><html>dashboard</html>");
    let r = dashboard.get("/manifest.json", None).await;
    assert_eq!(r.status, axum::http::StatusCode::OK);
    assert_eq!(r.text(), r#"{"name":"evo"}"#);
}

/// API keys can expire and be revoked, over the API (from a session, never with another key)
/// and with the command line; a revoked or expired key is refused at once. (Before: neither
/// existed.)
async fn api_keys_expire_and_are_revoked(backend: Backend) {
    let s = serve(backend).await;
    let token: Value = s.sign_in(MANAGER_A, false).await.json().await.unwrap();
    let session = token["bearerToken"].as_str().unwrap().to_string();
    let billing = s.url(&format!("/billing?{OCT_A}"));
    let status_with = |key: String| {
        let (client, billing) = (s.client.clone(), billing.clone());
        async move {
            client
                .get(&billing)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let create = |auth: String, body: Value| {
        let (client, url) = (s.client.clone(), s.url("/auth/apikeys"));
        async move {
            client
                .post(url)
                .bearer_auth(auth)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = create(
        session.clone(),
        json!({"name": "exporter", "expiresInDays": 30}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let created: Value = r.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["info"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("key_"), "{created}");
    assert_eq!(created["info"]["active"], true);
    assert_eq!(created["info"]["userName"], MANAGER_A.0);
    assert!(created["info"]["expiresAt"].as_str().is_some(), "{created}");
    assert_eq!(status_with(key.clone()).await, StatusCode::OK);
    // Bad input is a 400 on its field; a key cannot make keys.
    let r = create(session.clone(), json!({"name": "x", "expiresInDays": 0})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = create(key.clone(), json!({"name": "from a key"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Listed without the secret; another manager sees none of it and cannot revoke it.
    let r = s
        .client
        .get(s.url("/auth/apikeys"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains(&id) && !text.contains(&key), "{text}");
    let other: Value = s.sign_in(MANAGER_B, false).await.json().await.unwrap();
    let other = other["bearerToken"].as_str().unwrap().to_string();
    let r = s
        .client
        .get(s.url("/auth/apikeys"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert!(!r.text().await.unwrap().contains(&id));
    let revoke = |auth: String, id: String| {
        let (client, url) = (s.client.clone(), s.url(&format!("/auth/apikeys/{id}")));
        async move {
            client
                .delete(url)
                .bearer_auth(auth)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        revoke(other.clone(), id.clone()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status_with(key.clone()).await, StatusCode::OK);
    // Revoked: refused at once (no cache delay), listed as inactive.
    assert_eq!(
        revoke(session.clone(), id.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(status_with(key.clone()).await, StatusCode::UNAUTHORIZED);
    let keys = s.app.db.users().api_keys(None).await.unwrap();
    let row = keys.iter().find(|k| k.id == id).unwrap();
    assert!(row.revoked);
    // An expired key is refused.
    let r = create(session.clone(), json!({"name": "short"})).await;
    let short: Value = r.json().await.unwrap();
    let short_key = short["key"].as_str().unwrap().to_string();
    assert_eq!(status_with(short_key.clone()).await, StatusCode::OK);
    sqlx::query(
        &s.app
            .db
            .sql("UPDATE api_keys SET expires_at = 1 WHERE id = ?"),
    )
    .bind(short["info"]["id"].as_str().unwrap())
    .execute(&s.app.db.pool)
    .await
    .unwrap();
    s.app.ctx.principals.clear();
    assert_eq!(status_with(short_key).await, StatusCode::UNAUTHORIZED);

    // The command line: create with expiry, list, revoke.
    let exe = env!("CARGO_BIN_EXE_evo-billing-server");
    let run = |args: &[&str]| {
        std::process::Command::new(exe)
            .args(["--database", s.app.db.url.as_str()])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "create-api-key",
        "--email",
        MANAGER_B.0,
        "--name",
        "cli",
        "--expires-in-days",
        "7",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        status_with(cli_key.clone()).await,
        StatusCode::FORBIDDEN,
        "B's key, A's account"
    );
    let out = run(&["list-api-keys", "--email", MANAGER_B.0]);
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    let line = listing
        .lines()
        .find(|l| l.contains("\tcli\t"))
        .expect("listed");
    assert!(
        line.ends_with("\tactive") && !listing.contains(&cli_key),
        "{listing}"
    );
    let cli_id = line.split('\t').next().unwrap();
    let out = run(&[
        "create-api-key",
        "--email",
        MANAGER_B.0,
        "--expires-in-days",
        "0",
    ]);
    assert!(!out.status.success());
    let out = run(&["revoke-api-key", cli_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.app.ctx.principals.clear();
    assert_eq!(status_with(cli_key).await, StatusCode::UNAUTHORIZED);
    let out = run(&["list-api-keys", "--email", MANAGER_B.0]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\trevoked"));
}

/// Every answer carries nosniff, X-Frame-Options and Referrer-Policy; API answers (data,
/// errors, files) are never cached; the dashboard's HTML has its CSP and is revalidated, its
/// hashed assets are immutable. (Before: none of these headers.)
async fn security_headers(backend: Backend) {
    let s = serve(backend).await;
    let token: Value = s.sign_in(MANAGER_A, false).await.json().await.unwrap();
    let token = token["bearerToken"].as_str().unwrap().to_string();
    for (path, auth) in [
        (format!("/billing?{OCT_A}"), true),
        (format!("/billing.csv?{OCT_A}"), true),
        (format!("/billing?{OCT_A}"), false),
        ("/healthz".to_string(), false),
        ("/api/Nope".to_string(), false),
    ] {
        let mut req = s.client.get(s.url(&path));
        if auth {
            req = req.bearer_auth(&token);
        }
        let r = req.send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
    let folder = temp_dir();
    let dir = folder.path().join("dist");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html>dashboard</html>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-1a2b.js"), "export {}").unwrap();
    let mut opts = options();
    opts.static_dir = Some(dir);
    opts.run_worker = false;
    let dashboard = TestApp::on(s.app.db.clone(), opts).await;
    for path in ["/", "/app/customers/cus-a1"] {
        let r = dashboard
            .send_full(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.headers["cache-control"], "no-cache", "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
    }
    let r = dashboard
        .send_full(
            axum::http::Request::get("/assets/app-1a2b.js")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

/// Dashboard files with a precompressed copy beside them (`name.gz`, written by `cargo xtask
/// build`) are sent as that copy to clients that accept gzip, as they are to the others, with
/// their own type, caching and `Vary: accept-encoding`; a file without a copy is compressed on
/// the fly as before.
async fn dashboard_files_are_sent_precompressed(backend: Backend) {
    use std::io::Write;
    let app = TestApp::new(backend).await;
    let folder = temp_dir();
    let dir = folder.path().join("dist");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let index = format!("<!doctype html><html>{}</html>", "dashboard ".repeat(50));
    let script = format!("export const a = \"{}\";", "x".repeat(2000));
    std::fs::write(dir.join("index.html"), &index).unwrap();
    std::fs::write(dir.join("index.html.gz"), gz(&index)).unwrap();
    std::fs::write(dir.join("assets/app-1a2b.js"), &script).unwrap();
    std::fs::write(dir.join("assets/app-1a2b.js.gz"), gz(&script)).unwrap();
    std::fs::write(dir.join("assets/style-3c4d.css"), "b{}".repeat(200)).unwrap();
    let mut opts = options();
    opts.static_dir = Some(dir);
    opts.run_worker = false;
    let dashboard = TestApp::on(app.db.clone(), opts).await;
    let get = |path: &str, gzip: bool| {
        let mut b = axum::http::Request::get(path);
        if gzip {
            b = b.header("accept-encoding", "gzip");
        }
        dashboard.send_full(b.body(axum::body::Body::empty()).unwrap())
    };
    let unzip = |bytes: &[u8]| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut text).unwrap();
        text
    };
    for (path, text, cache) in [
        (
            "/assets/app-1a2b.js",
            &script,
            "public, max-age=31536000, immutable",
        ),
        ("/app/customers", &index, "no-cache"),
    ] {
        let zipped = get(path, true).await;
        assert_eq!(zipped.reply.status, StatusCode::OK, "{path}");
        assert_eq!(zipped.headers["content-encoding"], "gzip", "{path}");
        // The copy itself, not a compression of the file.
        assert_eq!(zipped.reply.body[..], gz(text)[..], "{path}");
        assert_eq!(unzip(&zipped.reply.body), *text, "{path}");
        assert_eq!(zipped.headers["cache-control"], cache, "{path}");
        assert_eq!(zipped.headers["vary"], "accept-encoding", "{path}");
        let plain = get(path, false).await;
        assert!(plain.headers.get("content-encoding").is_none(), "{path}");
        assert_eq!(plain.reply.text(), *text, "{path}");
        assert_eq!(plain.headers["vary"], "accept-encoding", "{path}");
        assert_eq!(
            zipped.headers["content-type"], plain.headers["content-type"],
            "{path}"
        );
    }
    let css = get("/assets/style-3c4d.css", true).await;
    assert_eq!(css.headers["content-encoding"], "gzip");
    assert_eq!(unzip(&css.reply.body), "b{}".repeat(200));
    assert_eq!(css.headers.get_all("vary").iter().count(), 1);
}

/// Answers are gzipped for clients that accept it, and only for them.
async fn answers_are_compressed(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.sign_in(MANAGER_A).await;
    let req = |gzip: bool| {
        let mut b = axum::http::Request::get("/customers?accountId=acc-a")
            .header("authorization", format!("Bearer {token}"));
        if gzip {
            b = b.header("accept-encoding", "gzip");
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    let plain = app.send_full(req(false)).await;
    assert!(plain.headers.get("content-encoding").is_none());
    let zipped = app.send_full(req(true)).await;
    assert_eq!(zipped.headers["content-encoding"], "gzip");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&zipped.reply.body[..]),
        &mut text,
    )
    .unwrap();
    assert_eq!(text, plain.reply.text());
}

on_both_backends!(
    cookie_sessions,
    answers_are_compressed,
    dashboard_files_are_sent_precompressed,
    security_headers,
    api_keys_expire_and_are_revoked,
    sign_in_rate_limits,
    api_keys,
    other_routes,
    json_files_are_served,
);
