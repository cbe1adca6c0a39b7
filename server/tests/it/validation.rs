//! Validation and binding through HTTP, field by field: the error codes and field names of
//! docs/API.md, lenient ServiceStack binding, unreadable and oversized bodies, hostile strings,
//! and 405s. Runs on SQLite and on PostgreSQL.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::json;

/// Asserts a 400 whose errors are exactly `expected` `(fieldName, errorCode)`, in order, with the
/// top-level code and message those of the first error.
fn assert_fields(what: &str, r: &Reply, expected: &[(&str, &str)]) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text());
    assert!(r.content_type.starts_with("application/json"), "{what}");
    let v = r.json();
    let rs = &v["responseStatus"];
    let errors = rs["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {v}"));
    let got: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["fieldName"].as_str().unwrap_or(""),
                e["errorCode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, expected, "{what}: {v}");
    assert_eq!(rs["errorCode"], errors[0]["errorCode"], "{what}");
    assert_eq!(rs["message"], errors[0]["message"], "{what}");
    for e in errors {
        assert!(
            !e["message"].as_str().unwrap_or("").is_empty(),
            "{what}: every error has a message: {v}"
        );
    }
    assert_no_leak(what, r);
}

async fn get_billing_fields(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let r = app.get("/billing", t).await;
    assert_fields(
        "nothing",
        &r,
        &[
            ("AccountId", "NotEmpty"),
            ("StartDate", "NotEmpty"),
            ("EndDate", "NotEmpty"),
        ],
    );
    assert_eq!(
        r.json()["responseStatus"]["message"],
        "'Account Id' must not be empty."
    );
    // Blank counts as absent.
    let r = app
        .get(
            "/billing?accountId=%20%20&startDate=2026-10-01&endDate=2026-10-31",
            t,
        )
        .await;
    assert_fields("blank account", &r, &[("AccountId", "NotEmpty")]);
    // Bad dates, each on its own field.
    for bad in [
        "2026-13-45",
        "yesterday",
        "2026-10-1",
        "10/01/2026",
        "2026-02-30",
        "2026-10-01T25:00",
    ] {
        let r = app
            .get(
                &format!("/billing?accountId=acc-a&startDate={bad}&endDate=2026-10-31"),
                t,
            )
            .await;
        assert_fields(bad, &r, &[("StartDate", "InvalidDate")]);
        let r = app
            .get(
                &format!("/billing?accountId=acc-a&startDate=2026-10-01&endDate={bad}"),
                t,
            )
            .await;
        assert_fields(bad, &r, &[("EndDate", "InvalidDate")]);
    }
    // Every field wrong at once: in the DTO's order.
    let r = app
        .get(
            &format!(
                "/billing?startDate=x&endDate=y&customerId={}",
                "c".repeat(129)
            ),
            t,
        )
        .await;
    assert_fields(
        "all wrong",
        &r,
        &[
            ("AccountId", "NotEmpty"),
            ("StartDate", "InvalidDate"),
            ("EndDate", "InvalidDate"),
            ("CustomerId", "MaximumLength"),
        ],
    );
    // Inverted.
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2026-10-31&endDate=2026-10-01",
            t,
        )
        .await;
    assert_fields("inverted", &r, &[("EndDate", "GreaterThanOrEqual")]);
    // 3661 days is too long; 3660 (ten years) is the maximum.
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2016-10-27&endDate=2026-11-04",
            t,
        )
        .await;
    assert_fields("3661 days", &r, &[("EndDate", "DateRangeTooLong")]);
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2016-10-28&endDate=2026-11-04",
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "3660 days: {}", r.text());
    assert_eq!(billing_rows(&r.json()).len(), 4);
    // ListUsageRecords has the same rules.
    let r = app
        .get(
            "/billing/usage?accountId=acc-a&startDate=2016-10-27&endDate=2026-11-04",
            t,
        )
        .await;
    assert_fields("usage 3661 days", &r, &[("EndDate", "DateRangeTooLong")]);
    let r = app.get("/billing/usage", t).await;
    assert_fields(
        "usage nothing",
        &r,
        &[
            ("AccountId", "NotEmpty"),
            ("StartDate", "NotEmpty"),
            ("EndDate", "NotEmpty"),
        ],
    );
}

/// ISO date-times are accepted, and a time never narrows the range.
async fn date_times(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let oct5 = vec![
        ("cus-a1".to_string(), 0.3, true),
        ("cus-a2".to_string(), 0.0, false),
        ("cus-a3".to_string(), 1.23, false),
    ];
    for (start, end) in [
        // The calls are at 12:00 UTC on 10-05: neither time excludes them.
        ("2026-10-05T23:59:59Z", "2026-10-05T00:00:00Z"),
        ("2026-10-05T23:59:59Z", "2026-10-05T23:59:59Z"),
        ("2026-10-05%2013:00", "2026-10-05%2011:00"),
        ("2026-10-05T13:00:00.123%2B05:30", "2026-10-05T01:00-0800"),
        ("2026-10-05t18:00%2B14", "2026-10-05"),
        ("2026-10-05", "2026-10-05T00:00:00.000Z"),
    ] {
        let r = app
            .get(
                &format!("/billing?accountId=acc-a&startDate={start}&endDate={end}"),
                t,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{start}..{end}: {}", r.text());
        assert_eq!(billing_rows(&r.json()), oct5, "{start}..{end}");
    }
    // The day before ends before the calls, whatever its time.
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2026-10-01T00:00Z&endDate=2026-10-04T23:59:59Z",
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"customers": []}));
    // The usage of a day given as date-times.
    let r = app
        .get("/billing/usage?accountId=acc-a&startDate=2026-10-05T23:00:00Z&endDate=2026-10-05T01:00:00Z", t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let calls = r.json()[0].clone();
    assert_eq!(calls["category"], "calls");
    assert_eq!(calls["count"], 5);
    assert_eq!(calls["startDate"], "2026-10-05");
    assert_eq!(calls["endDate"], "2026-10-05");
}

async fn new_billable_fields(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let r = app
        .post_json("/billables", t, json!({"callSid": "CA-X1"}))
        .await;
    assert_fields(
        "only callSid",
        &r,
        &[
            ("SessionId", "NotEmpty"),
            ("AccountId", "NotEmpty"),
            ("CustomerId", "NotEmpty"),
        ],
    );
    let r = app.post_json("/billables", t, json!({})).await;
    assert_fields(
        "empty object",
        &r,
        &[
            ("SessionId", "NotEmpty"),
            ("AccountId", "NotEmpty"),
            ("CustomerId", "NotEmpty"),
            ("CallSid", "NotEmpty"),
        ],
    );
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": "acc-a", "callSid": "CA-X1"}),
        )
        .await;
    assert_fields("account only", &r, &[("CustomerId", "NotEmpty")]);
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": "acc-a", "customerId": "cus-a1"}),
        )
        .await;
    assert_fields("no callSid", &r, &[("CallSid", "NotEmpty")]);
    let r = app
        .post_json("/billables", t, json!({"sessionId": "ses-a8"}))
        .await;
    assert_fields("session, no callSid", &r, &[("CallSid", "NotEmpty")]);
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "C".repeat(129)}),
        )
        .await;
    assert_fields("long callSid", &r, &[("CallSid", "MaximumLength")]);
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA\u{0007}1"}),
        )
        .await;
    assert_fields("control char", &r, &[("CallSid", "InvalidCharacters")]);
    // 128 characters is fine (and the identifiers are trimmed).
    let long = "C".repeat(128);
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": " acc-a ", "customerId": "cus-a1\t", "callSid": format!(" {long} ")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", &long)
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a1")
    );
}

async fn billing_report_fields(backend: Backend) {
    let mut opts = options();
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let ok = json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let r = app.post_json("/reports/billing", t, json!({})).await;
    assert_fields(
        "nothing",
        &r,
        &[
            ("AccountId", "NotEmpty"),
            ("StartDate", "NotEmpty"),
            ("EndDate", "NotEmpty"),
        ],
    );
    for bad in [
        "not-an-email",
        "a@b",
        "a b@example.com",
        "@example.com",
        "a@@example.com",
    ] {
        let r = app
            .post_json(
                "/reports/billing",
                t,
                with("emailAddressToNotify", json!(bad)),
            )
            .await;
        assert_fields(bad, &r, &[("EmailAddressToNotify", "Email")]);
    }
    for bad in [
        "ftp://example.com/hook",
        "example.com/hook",
        "http://",
        "http://user:pw@example.com/hook",
        "http://example.com:99999/hook",
        "http://exa mple.com/",
        "javascript:alert(1)",
    ] {
        let r = app
            .post_json("/reports/billing", t, with("webhookUrl", json!(bad)))
            .await;
        assert_fields(bad, &r, &[("WebhookUrl", "InvalidUrl")]);
    }
    let mut both = with("emailAddressToNotify", json!("nope"));
    both["webhookUrl"] = json!("ftp://x.example/");
    let r = app.post_json("/reports/billing", t, both).await;
    assert_fields(
        "both",
        &r,
        &[
            ("EmailAddressToNotify", "Email"),
            ("WebhookUrl", "InvalidUrl"),
        ],
    );
    // Reports may span 3660 days, not 3661.
    let r = app
        .post_json("/reports/billing", t, with("endDate", json!("2036-10-07")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "3660 days: {}", r.text());
    let r = app
        .post_json("/reports/billing", t, with("endDate", json!("2036-10-08")))
        .await;
    assert_fields("3661 days", &r, &[("EndDate", "DateRangeTooLong")]);
    // Good values pass (this app allows private webhooks).
    let mut good = with("emailAddressToNotify", json!("ops@example.com"));
    good["webhookUrl"] = json!("http://127.0.0.1:9/hook");
    let r = app.post_json("/reports/billing", t, good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "Queued");
}

/// With private webhooks not allowed, a literal private or loopback target is refused at once.
async fn private_webhooks_refused(backend: Backend) {
    let mut opts = options();
    opts.allow_private_webhooks = false;
    opts.run_worker = false;
    let app = TestApp::with_options(backend, opts).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://LOCALHOST:3000/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        // Other spellings of the same addresses (before: accepted at request time).
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://0177.0.0.1/hook",
        "http://0/hook",
        "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/hook",
        "http://127.0.0.1./hook",
        "http://localhost./hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.0.0.1.:80/hook",
    ] {
        let r = app
            .post_json(
                "/reports/billing",
                t,
                json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31",
                       "webhookUrl": url}),
            )
            .await;
        assert_fields(url, &r, &[("WebhookUrl", "InvalidUrl")]);
    }
    assert!(
        app.db.reports().list(None).await.unwrap().is_empty(),
        "nothing was queued"
    );
    // A public name is accepted (and queued).
    let r = app
        .post_json(
            "/reports/billing",
            t,
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31",
                   "webhookUrl": "https://hooks.example.com/billing"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.db.reports().list(None).await.unwrap().len(), 1);
}

/// ServiceStack binding: any case, any source, blanks absent, unknown keys ignored.
async fn binding(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    let want = fixture_october();
    // Keys in any case, in the query.
    for q in [
        "AccountId=acc-a&StartDate=2026-10-01&EndDate=2026-10-31",
        "accountid=acc-a&startdate=2026-10-01&enddate=2026-10-31",
        "ACCOUNTID=acc-a&STARTDATE=2026-10-01&ENDDATE=2026-10-31",
        "aCcOuNtId=acc-a&startDate=2026-10-01&endDate=2026-10-31",
    ] {
        let r = app.get(&format!("/billing?{q}"), t).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text());
        assert_eq!(billing_rows(&r.json()), want, "{q}");
    }
    // … and in a JSON body (POST to the pre-defined route).
    for body in [
        json!({"AccountId": "acc-a", "StartDate": "2026-10-01", "EndDate": "2026-10-31"}),
        json!({"accountid": "acc-a", "startdate": "2026-10-01", "enddate": "2026-10-31"}),
        json!({"ACCOUNTID": "acc-a", "STARTDATE": "2026-10-01", "ENDDATE": "2026-10-31"}),
    ] {
        let r = app.post_json("/api/GetBilling", t, body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text());
        assert_eq!(billing_rows(&r.json()), want, "{body}");
    }
    // A JSV body.
    for ct in ["text/jsv", "application/jsv; charset=utf-8"] {
        let r = app
            .call(
                "POST",
                "/api/GetBilling",
                t,
                ct,
                "{accountId:acc-a,startDate:2026-10-01,endDate:2026-10-31}",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{ct}: {}", r.text());
        assert_eq!(billing_rows(&r.json()), want, "{ct}");
    }
    // ServiceStack's pretty JSV (whitespace between tokens) parses too.
    let r = app
        .call(
            "POST",
            "/api/GetBilling",
            t,
            "text/jsv",
            "{\n  AccountId: acc-a,\n  StartDate: 2026-10-01,\n  EndDate: 2026-10-31\n}",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(billing_rows(&r.json()), want);
    // A form body.
    let r = app
        .call(
            "POST",
            "/api/GetBilling",
            t,
            "application/x-www-form-urlencoded",
            "AccountId=acc-a&startDate=2026-10-01&ENDDATE=2026-10-31&customerId=",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(billing_rows(&r.json()), want);
    // Empty query values are absent: `customerId=` does not filter (nor is it a bad customer).
    let r = app.get(&format!("/billing?{OCT_A}&customerId="), t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(billing_rows(&r.json()), want);
    // A JSON null is absent too.
    let r = app
        .post_json(
            "/api/GetBilling",
            t,
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31", "customerId": null}),
        )
        .await;
    assert_eq!(billing_rows(&r.json()), want);
    // An empty required value is NotEmpty, not a binding error.
    let r = app
        .get(
            "/billing?accountId=&startDate=2026-10-01&endDate=2026-10-31",
            t,
        )
        .await;
    assert_fields("empty accountId", &r, &[("AccountId", "NotEmpty")]);
    // Unknown keys are ignored.
    let r = app
        .get(
            &format!("/billing?{OCT_A}&foo=bar&debug=1&accountIdx=acc-b"),
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(billing_rows(&r.json()), want);
    // A body member overrides the query.
    let r = app
        .post_json(
            "/api/GetBilling?accountId=acc-b&startDate=2026-10-01&endDate=2026-10-31",
            t,
            json!({"accountId": "acc-a"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(billing_rows(&r.json()), want);
    // Numbers where strings are expected are read as text.
    let r = app
        .post_json(
            "/api/GetBilling",
            t,
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31", "customerId": 42}),
        )
        .await;
    assert_fields("numeric customer", &r, &[("CustomerId", "NotFound")]);
    // A value of the wrong type names its field.
    let mut opts = options();
    opts.run_worker = false;
    let reports = TestApp::with_options(backend, opts).await;
    let rt = reports.sign_in(MANAGER_A).await;
    let r = reports
        .post_json(
            "/reports/billing?includeCustomerIds=maybe",
            Some(&rt),
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
        )
        .await;
    assert_fields(
        "includeCustomerIds=maybe",
        &r,
        &[("IncludeCustomerIds", "InvalidValue")],
    );
    let r = reports
        .post_json(
            "/reports/billing",
            Some(&rt),
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31",
                   "includeCustomerIds": [1, 2]}),
        )
        .await;
    assert_fields(
        "includeCustomerIds list",
        &r,
        &[("IncludeCustomerIds", "InvalidValue")],
    );
    // Lenient booleans (a report is queued by POST only; its fields may be in the query).
    for v in ["true", "True", "1", "TRUE", "false", "0"] {
        let r = reports
            .call(
                "POST",
                &format!("/reports/billing?{OCT_A}&includeCustomerIds={v}"),
                Some(&rt),
                "",
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{v}: {}", r.text());
    }
    let r = app
        .get(
            &format!("/billing/usage?{OCT_A}&granularity=fortnightly"),
            t,
        )
        .await;
    assert_fields("granularity", &r, &[("Granularity", "InvalidValue")]);
}

/// Bodies that cannot be read.
async fn unreadable_bodies(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let t = Some(t.as_str());
    for (ct, body) in [
        ("application/json", "{\"accountId\": \"acc-a\","),
        ("application/json", "{accountId: acc-a}"),
        ("application/json", "[1, 2, 3]"),
        ("application/json", "\"just a string\""),
        ("text/jsv", "{accountId:acc-a"),
        ("text/jsv", "[a,b]"),
    ] {
        let r = app.call("POST", "/api/GetBilling", t, ct, body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{ct} {body}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "SerializationException", "{ct} {body}");
        assert!(r.json()["responseStatus"]["errors"].is_array());
        assert_no_leak(body, &r);
    }
    // Not UTF-8.
    let r = app
        .request(
            "POST",
            "/billables",
            t,
            &[("content-type", "application/json")],
            b"{\"callSid\": \"\xff\xfe\"}".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.error_code(), "SerializationException");
    // Deeply nested JSON and JSV: a 400, never a crash.
    let deep_json = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = app
        .call("POST", "/api/GetBilling", t, "application/json", &deep_json)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let deep_jsv = format!("{{a:{}x{}}}", "[".repeat(5000), "]".repeat(5000));
    let r = app
        .call("POST", "/api/GetBilling", t, "text/jsv", &deep_jsv)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Unsupported content types: 415.
    for ct in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "",
    ] {
        let r = app
            .call("POST", "/billables", t, ct, "accountId=acc-a")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{ct:?}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "UnsupportedMediaType", "{ct:?}");
    }
    // Over 4 MiB: 413 in the ResponseStatus shape (in the negotiated format).
    let big = format!(
        "{{\"accountId\":\"acc-a\",\"pad\":\"{}\"}}",
        "x".repeat(4 * 1024 * 1024)
    );
    let r = app
        .call("POST", "/billables", t, "application/json", &big)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.content_type.starts_with("application/json"));
    assert_eq!(r.error_code(), "PayloadTooLarge");
    assert!(
        r.json()["responseStatus"]["message"]
            .as_str()
            .unwrap()
            .len()
            > 10
    );
    assert!(r.json()["responseStatus"]["errors"].is_array());
    let r = app
        .call(
            "POST",
            "/api/GetBilling?format=xml",
            t,
            "application/json",
            &big,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.text().contains("<ErrorCode>PayloadTooLarge</ErrorCode>"),
        "{}",
        r.text()
    );
    // Just under the limit is read (the padding is an unknown key).
    let fits = format!(
        "{{\"accountId\":\"acc-a\",\"startDate\":\"2026-10-01\",\"endDate\":\"2026-10-31\",\"pad\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let r = app
        .call("POST", "/api/GetBilling", t, "application/json", &fits)
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        &r.text()[..200.min(r.text().len())]
    );
    assert_eq!(billing_rows(&r.json()), fixture_october());
}

/// Hostile strings get a 4xx ResponseStatus, never a 500 or a leak, and never change the data.
async fn hostile_strings(backend: Backend) {
    let app = TestApp::new(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let manager = app.sign_in(MANAGER_A).await;
    let long = "a".repeat(10 * 1024);
    let hostile: Vec<String> = vec![
        "' OR 1=1 --".into(),
        "acc-a' OR '1'='1".into(),
        "acc-a'; DROP TABLE billables; --".into(),
        "\" OR \"\"=\"".into(),
        "%' --".into(),
        "acc-a%".into(),
        "acc_a".into(),
        long.clone(),
        "acc\u{0000}a".into(),
        "acc-a\r\nX-Injected: 1".into(),
        "\u{001b}[31mred".into(),
        "😀💸🧾".into(),
        "acc-a😀".into(),
        "<script>alert(1)</script>".into(),
        "../../etc/passwd".into(),
        "\u{202e}evil".into(),
    ];
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for h in &hostile {
        let e = enc(h);
        let short: String = h.chars().take(30).collect();
        for token in [&admin, &manager] {
            let requests = [
                app.get(&format!("/billing?accountId={e}&startDate=2026-10-01&endDate=2026-10-31"), Some(token)).await,
                app.get(&format!("/billing?{OCT_A}&customerId={e}"), Some(token)).await,
                app.get(&format!("/billing/usage?accountId={e}&startDate=2026-10-01&endDate=2026-10-31"), Some(token)).await,
                app.get(&format!("/billing?accountId=acc-a&startDate={e}&endDate=2026-10-31"), Some(token)).await,
                app.post_json("/billables", Some(token), json!({"accountId": h, "customerId": "cus-a1", "callSid": "CA-H"})).await,
                app.post_json("/billables", Some(token), json!({"accountId": "acc-a", "customerId": h, "callSid": "CA-H"})).await,
                app.post_json("/billables", Some(token), json!({"sessionId": h, "callSid": "CA-H"})).await,
                app.post_json("/reports/billing", Some(token), json!({"accountId": h, "startDate": "2026-10-01", "endDate": "2026-10-31"})).await,
                app.post_json("/reports/billing", Some(token), json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31", "emailAddressToNotify": h})).await,
            ];
            let mut requests = Vec::from(requests);
            // A NUL in a report id is known_bugs::nul_in_report_ids_is_not_a_500.
            if !h.contains('\0') {
                requests.push(app.get(&format!("/reports/{e}"), Some(token)).await);
                requests.push(
                    app.get(&format!("/reports/{e}/download.csv"), Some(token))
                        .await,
                );
            }
            for (i, r) in requests.iter().enumerate() {
                let what = format!("request {i} with {short:?}");
                assert!(
                    r.status.is_client_error(),
                    "{what}: expected a 4xx, got {} {}",
                    r.status,
                    r.text()
                );
                assert!(!r.error_code().is_empty(), "{what}: {}", r.text());
                assert!(r.json()["responseStatus"]["message"].is_string(), "{what}");
                assert_no_leak(&what, r);
            }
        }
    }
    // A hostile call SID is just a string: stored as written, billing unchanged.
    for sid in ["' OR 1=1 --", "😀💸", "x'); DELETE FROM calls; --"] {
        let r = app
            .post_json(
                "/billables",
                Some(&manager),
                json!({"accountId": "acc-a", "customerId": "cus-a2", "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{sid}: {}", r.text());
        assert_eq!(
            app.db
                .billables()
                .customer_of("acc-a", sid)
                .await
                .unwrap()
                .as_deref(),
            Some("cus-a2")
        );
    }
    // Hostile credentials.
    for bad in ["' OR 1=1 --", "ek_' OR 1=1 --", "😀", &long] {
        let r = app.get(&format!("/billing?{OCT_A}"), Some(bad)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad:.30}");
        assert_no_leak("bad token", &r);
    }
    let r = app
        .post_json(
            "/auth/credentials",
            None,
            json!({"userName": "admin@test.evo' --", "password": "' OR 1=1 --"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_no_leak("sign-in", &r);
    // Hostile paths.
    for path in [
        "/api/'%20OR%201=1",
        "/json/reply/%F0%9F%98%80",
        "/api/GetBilling%00",
        "/reports/..%2F..%2Fetc%2Fpasswd",
        "/billing/%27",
    ] {
        let r = app.get(path, Some(&admin)).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
        assert_no_leak(path, &r);
    }
    // Nothing changed.
    assert_eq!(app.october_billing(&admin).await, fixture_october());
    let r = app
        .get(&format!("/billing/usage?{OCT_A}"), Some(&admin))
        .await;
    assert_eq!(r.json()[0]["count"], 5);
}

async fn methods(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.sign_in(MANAGER_A).await;
    let t = Some(token.as_str());
    for (method, uri) in [
        ("DELETE", format!("/billing?{OCT_A}")),
        ("POST", format!("/billing?{OCT_A}")),
        ("PUT", format!("/billing?{OCT_A}")),
        ("DELETE", format!("/billing/usage?{OCT_A}")),
        ("POST", format!("/billing/usage?{OCT_A}")),
        ("GET", "/billables".to_string()),
        ("PUT", "/billables".to_string()),
        ("DELETE", "/billables".to_string()),
        ("GET", "/auth/credentials".to_string()),
        ("POST", "/reports".to_string()),
        ("PUT", "/reports/rep_x".to_string()),
    ] {
        let r = app.call(method, &uri, t, "", "").await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "MethodNotAllowed", "{method} {uri}");
        assert!(r.json()["responseStatus"]["errors"].is_array());
    }
    // In the negotiated format.
    let r = app
        .call("DELETE", &format!("/billing.xml?{OCT_A}"), t, "", "")
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.text().contains("<ErrorCode>MethodNotAllowed</ErrorCode>"),
        "{}",
        r.text()
    );
    // The pre-defined routes of a read answer GET and POST (as ServiceStack clients send), and
    // nothing else.
    for method in ["GET", "POST"] {
        let r = app
            .call(method, &format!("/api/GetBilling?{OCT_A}"), t, "", "")
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{method} /api/GetBilling: {}",
            r.text()
        );
        assert_eq!(billing_rows(&r.json()), fixture_october());
    }
    for method in ["PUT", "DELETE", "PATCH"] {
        let r = app
            .call(method, &format!("/api/GetBilling?{OCT_A}"), t, "", "")
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    // A write is never a GET (a link or an image could make it): not NewBillable, not a report.
    let r = app
        .get(
            "/api/NewBillable?accountId=acc-a&customerId=cus-a4&callSid=CA-A5",
            t,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());
    for method in ["GET", "PUT"] {
        let r = app
            .call(method, &format!("/reports/billing?{OCT_A}"), t, "", "")
            .await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}: {}",
            r.text()
        );
    }
    assert_eq!(app.october_billing(&token).await, fixture_october());
}

/// An unknown report id is not echoed whole: a 10 KB id makes a 10 KB error body (other
/// handlers cut echoed input, e.g. the unknown-operation message keeps 60 characters).
async fn long_report_ids_are_not_echoed_whole(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let id = "r".repeat(10 * 1024);
    for uri in [
        format!("/reports/{id}"),
        format!("/reports/{id}/download.csv"),
    ] {
        let r = app.get(&uri, Some(&t)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_code(), "NotFound");
        assert!(
            r.body.len() < 1024,
            "{} bytes of error body for a 10 KB id",
            r.body.len()
        );
    }
}

/// A report id is a path segment nobody validates: with a NUL byte, PostgreSQL refuses the
/// query ("invalid byte sequence for encoding UTF8: 0x00") and the client gets a 500.
async fn nul_in_report_ids_is_not_a_500(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    for (method, uri) in [
        ("GET", "/reports/rep%00x"),
        ("GET", "/reports/rep%00x/download.csv"),
        ("DELETE", "/reports/rep%00x"),
    ] {
        let r = app.call(method, uri, Some(&t), "", "").await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.text()
        );
        assert_eq!(r.error_code(), "NotFound");
    }
}

/// A 405 is a ResponseStatus like every other error, on every route.
async fn every_405_is_a_response_status(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    for (method, uri) in [
        ("POST", "/reports/rep_x/download.csv"),
        ("DELETE", "/reports/rep_x/download.xlsx"),
        ("POST", "/healthz"),
    ] {
        let r = app.call(method, uri, Some(&t), "", "").await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            r.content_type.starts_with("application/json"),
            "{method} {uri}: content type {:?}, body {:?}",
            r.content_type,
            r.text()
        );
        assert_eq!(r.error_code(), "MethodNotAllowed", "{method} {uri}");
    }
}

/// The 404 of a path no route matches is in the negotiated format, like every other error
/// (only `?format=` is honoured there; a suffix or an Accept header is not).
async fn unmatched_routes_negotiate_the_error_format(backend: Backend) {
    let app = TestApp::new(backend).await;
    let r = app.get("/billing/nope?format=xml", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.content_type.starts_with("application/xml"));
    let r = app
        .get_accept("/billing/nope", None, "application/xml")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.content_type.starts_with("application/xml"),
        "Accept: application/xml gave {}: {}",
        r.content_type,
        r.text()
    );
    let r = app.get("/billing/nope.csv", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.content_type.starts_with("text/csv"),
        "suffix .csv gave {}: {}",
        r.content_type,
        r.text()
    );
}

on_both_backends!(
    get_billing_fields,
    date_times,
    new_billable_fields,
    billing_report_fields,
    private_webhooks_refused,
    binding,
    unreadable_bodies,
    hostile_strings,
    methods,
    every_405_is_a_response_status,
    unmatched_routes_negotiate_the_error_format,
    nul_in_report_ids_is_not_a_500,
    long_report_ids_are_not_echoed_whole,
);
