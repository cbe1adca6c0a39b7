//! NewBillable: billing a call, idempotency (also under concurrency), call sessions and their
//! contradictions, scope, the auto-batched form and durability. Runs on SQLite and PostgreSQL.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use evo_billing_server::store::Store;
use serde_json::json;
use tower::ServiceExt;

fn with_cus_a4(rows: &[(String, f64, bool)]) -> Vec<(String, f64, bool)> {
    let mut v = rows.to_vec();
    v.push(("cus-a4".to_string(), 0.45, false));
    v
}

/// CA-A5 (FR, $0.45) is in the ledger but unbilled: billing it shows at once.
async fn billing_a_call_shows_at_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    assert_eq!(app.october_billing(&t).await, fixture_october());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A5")
            .await
            .unwrap(),
        None
    );
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A5")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a4")
    );
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );
    // Filtering to the customer.
    let r = app
        .get(&format!("/billing?{OCT_A}&customerId=cus-a4"), Some(&t))
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-a4", "internationalCosts": 0.45, "hasCallRecording": false}]})
    );
    // November still has only CA-A6 for cus-a4.
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2026-11-01&endDate=2026-11-30",
            Some(&t),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-a4", "internationalCosts": 0.25, "hasCallRecording": false}]})
    );
    // The pre-defined routes bill the same way (these calls are not in the ledger).
    for (route, sid) in [
        ("/api/NewBillable", "CA-R1"),
        ("/json/reply/NewBillable", "CA-R2"),
        ("/API/NEWBILLABLE", "CA-R3"),
    ] {
        let r = app
            .post_json(
                route,
                Some(&t),
                json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{route}: {}", r.text());
        assert_eq!(
            app.db
                .billables()
                .customer_of("acc-a", sid)
                .await
                .unwrap()
                .as_deref(),
            Some("cus-a1"),
            "{route}"
        );
    }
    // JSV and form bodies.
    let r = app
        .call(
            "POST",
            "/billables",
            Some(&t),
            "text/jsv",
            "{AccountId:acc-a,CustomerId:cus-a2,CallSid:CA-J1}",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app
        .call(
            "POST",
            "/billables",
            Some(&t),
            "application/x-www-form-urlencoded",
            "accountid=acc-a&customerid=cus-a2&callsid=CA-F1",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-F1")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a2")
    );
    // None of those calls is in the ledger: the billing is unchanged.
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );
}

async fn the_same_billable_twice_bills_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let body = json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"});
    for _ in 0..2 {
        let r = app.post_json("/billables", Some(&t), body.clone()).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-A5").await, 1);
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );
    // The same call for another customer: still a success, still billed once, to the first.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A5")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a4")
    );
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );
    // A call the fixture already billed (CA-A1, cus-a1, 0.30): reporting it again changes nothing.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-A1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );
}

fn billable_request(token: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post("/billables")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// 40 identical requests at once: all 204, one row, counted once.
async fn concurrent_duplicates_bill_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let body = json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"});
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let router = app.router.clone();
        let req = billable_request(&t, &body);
        tasks.push(tokio::spawn(async move {
            router.oneshot(req).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::NO_CONTENT);
    }
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-A5").await, 1);
    // 0.45 once, not 40 × 0.45 = 18.
    assert_eq!(
        app.october_billing(&t).await,
        with_cus_a4(&fixture_october())
    );

    // Racing customers for one new call (DE, $0.33): exactly one wins, only it is billed.
    app.db
        .ledger()
        .insert_calls(
            &[call(
                "acc-a",
                "CA-RACE",
                OCT5_NOON + 300,
                evo_billing_server::model::Direction::Outbound,
                "DE",
                60,
                "0.33",
                0,
                "0",
            )],
            true,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let router = app.router.clone();
        let customer = if i % 2 == 0 { "cus-a1" } else { "cus-a2" };
        let req = billable_request(
            &t,
            &json!({"accountId": "acc-a", "customerId": customer, "callSid": "CA-RACE"}),
        );
        tasks.push(tokio::spawn(async move {
            router.oneshot(req).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::NO_CONTENT);
    }
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-RACE").await, 1);
    let winner = app
        .db
        .billables()
        .customer_of("acc-a", "CA-RACE")
        .await
        .unwrap()
        .unwrap();
    let mut want = with_cus_a4(&fixture_october());
    match winner.as_str() {
        "cus-a1" => want[0].1 = 0.63,
        "cus-a2" => want[1].1 = 0.33,
        other => panic!("{other}"),
    }
    assert_eq!(app.october_billing(&t).await, want, "won by {winner}");

    // 40 different billables at once: every one recorded (group commit loses none).
    let mut tasks = Vec::new();
    for i in 0..40 {
        let router = app.router.clone();
        let req = billable_request(
            &t,
            &json!({"accountId": "acc-a", "customerId": "cus-a3", "callSid": format!("CA-C{i}")}),
        );
        tasks.push(tokio::spawn(async move {
            router.oneshot(req).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::NO_CONTENT);
    }
    for i in 0..40 {
        assert_eq!(
            app.db
                .billables()
                .customer_of("acc-a", &format!("CA-C{i}"))
                .await
                .unwrap()
                .as_deref(),
            Some("cus-a3"),
            "CA-C{i}"
        );
    }
}

async fn billing_by_session(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.sign_in(MANAGER_A).await;
    let t = Some(token.as_str());
    // ses-a8 is cus-a2's session for CA-A8, a call not in the ledger yet.
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"sessionId": "ses-a8", "callSid": "CA-A8"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A8")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a2")
    );
    // Kept, not yet counted.
    assert_eq!(app.october_billing(&token).await, fixture_october());
    // Again, with the session's own account and customer: fine, and still once.
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"sessionId": "ses-a8", "callSid": "CA-A8", "accountId": "acc-a", "customerId": "cus-a2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-A8").await, 1);
    // Contradictions are 400 Conflict on the field.
    for (body, field) in [
        (
            json!({"sessionId": "ses-a8", "callSid": "CA-A8", "accountId": "acc-b"}),
            "AccountId",
        ),
        (
            json!({"sessionId": "ses-a8", "callSid": "CA-A8", "customerId": "cus-a1"}),
            "CustomerId",
        ),
        (
            json!({"sessionId": "ses-a8", "callSid": "CA-A5"}),
            "CallSid",
        ),
    ] {
        let r = app.post_json("/billables", t, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text());
        assert_eq!(r.error_code(), "Conflict", "{body}");
        assert_eq!(r.error_fields(), [field], "{body}");
    }
    // A session with a call in the ledger: ses-a4 is CA-A4, already billed to cus-a3.
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"sessionId": "ses-a4", "callSid": "CA-A4"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.october_billing(&token).await, fixture_october());
    // Unknown session: 404.
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"sessionId": "ses-nope", "callSid": "CA-A8"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.error_code(), "NotFound");
    let absent = r.text().replace("ses-nope", "ses-a7");
    // Another account's manager may not use the session, nor tell it from an absent one (even
    // with fields that contradict it, which must not be named).
    let b = app.sign_in(MANAGER_B).await;
    for body in [
        json!({"sessionId": "ses-a7", "callSid": "CA-A7"}),
        json!({"sessionId": "ses-a7", "callSid": "CA-XX", "accountId": "acc-b", "customerId": "cus-b1"}),
    ] {
        let r = app.post_json("/billables", Some(&b), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        assert_eq!(r.text(), absent);
    }
    let r = app
        .post_json(
            "/billables",
            Some(&b),
            json!({"sessionId": "ses-a7", "callSid": "CA-A7"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A7")
            .await
            .unwrap(),
        None
    );
    // A Customer outside the session's customer (ses-a7 belongs to cus-a4): the same answer.
    let c = app.sign_in(CUSTOMER_A2).await;
    let r = app
        .post_json(
            "/billables",
            Some(&c),
            json!({"sessionId": "ses-a7", "callSid": "CA-XX", "customerId": "cus-a2"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.text(), absent);
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A7")
            .await
            .unwrap(),
        None
    );
}

async fn scope_of_billables(backend: Backend) {
    let app = TestApp::new(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let manager = app.sign_in(MANAGER_A).await;
    // A customer of another account: 400 on CustomerId, for everyone.
    for t in [&admin, &manager] {
        let r = app
            .post_json(
                "/billables",
                Some(t),
                json!({"accountId": "acc-a", "customerId": "cus-b1", "callSid": "CA-A5"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(r.error_fields(), ["CustomerId"]);
    }
    let r = app
        .post_json(
            "/billables",
            Some(&admin),
            json!({"accountId": "acc-a", "customerId": "cus-nope", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["CustomerId"]);
    // Another account's manager: 403; an unknown account: 404 for the administrator.
    let b = app.sign_in(MANAGER_B).await;
    let r = app
        .post_json(
            "/billables",
            Some(&b),
            json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_json(
            "/billables",
            Some(&admin),
            json!({"accountId": "acc-zzz", "customerId": "cus-a4", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-A5").await, 0);
    // A Customer bills within its subtree (cus-a2, cus-a3), not above it.
    let c = app.sign_in(CUSTOMER_A2).await;
    let r = app
        .post_json(
            "/billables",
            Some(&c),
            json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .post_json(
            "/billables",
            Some(&c),
            json!({"accountId": "acc-a", "customerId": "cus-a3", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app.get(&format!("/billing?{OCT_A}"), Some(&c)).await;
    // cus-a3: 1.2345 + 0.45 = 1.6845 → 1.68.
    assert_eq!(
        r.json(),
        json!({"customers": [
            {"customerId": "cus-a2", "internationalCosts": 0, "hasCallRecording": false},
            {"customerId": "cus-a3", "internationalCosts": 1.68, "hasCallRecording": false},
        ]})
    );
    // Not signed in.
    let r = app
        .post_json(
            "/billables",
            None,
            json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A6"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// `POST /api/NewBillable[]`: one result per item.
async fn batch(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.sign_in(MANAGER_A).await;
    let t = Some(token.as_str());
    let r = app
        .post_json(
            "/billables",
            t,
            json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .post_json(
            "/api/NewBillable[]",
            t,
            json!([
                {"sessionId": "ses-a7", "callSid": "CA-A7"},
                {"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"},
                {"accountId": "acc-a", "callSid": "CA-BAD"},
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let items = v.as_array().expect("an array");
    assert_eq!(items.len(), 3, "{v}");
    assert_eq!(items[0], json!({"callSid": "CA-A7", "duplicate": false}));
    assert_eq!(items[1], json!({"callSid": "CA-A5", "duplicate": true}));
    assert_eq!(items[2]["callSid"], "CA-BAD");
    assert_eq!(items[2]["duplicate"], false);
    assert_eq!(items[2]["responseStatus"]["errorCode"], "NotEmpty");
    assert_eq!(
        items[2]["responseStatus"]["errors"][0]["fieldName"],
        "CustomerId"
    );
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-A7")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a4")
    );
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-A5").await, 1);
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-BAD").await, 0);
    assert_eq!(
        app.october_billing(&token).await,
        with_cus_a4(&fixture_october())
    );
    // The same new call twice in one batch: the second is the duplicate; forbidden and unknown
    // items fail alone; a JSV list works the same.
    let r = app
        .call(
            "POST",
            "/api/NewBillable[]",
            t,
            "text/jsv",
            "[{accountId:acc-a,customerId:cus-a1,callSid:CA-N1},{accountId:acc-a,customerId:cus-a1,callSid:CA-N1},{accountId:acc-b,customerId:cus-b1,callSid:CA-N2},{sessionId:ses-nope,callSid:CA-N3}]",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[0], json!({"callSid": "CA-N1", "duplicate": false}));
    assert_eq!(items[1], json!({"callSid": "CA-N1", "duplicate": true}));
    assert_eq!(items[2]["responseStatus"]["errorCode"], "Forbidden");
    assert_eq!(items[3]["responseStatus"]["errorCode"], "NotFound");
    assert_eq!(billable_rows(&app.db, "acc-b", "CA-N2").await, 0);
    // In XML.
    let r = app
        .post_json(
            "/api/NewBillable[]?format=xml",
            t,
            json!([{"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-N1"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text().contains("<ArrayOfNewBillableResult ")
            && r.text().contains("<NewBillableResult><CallSid>CA-N1</CallSid><Duplicate>true</Duplicate></NewBillableResult>"),
        "{}",
        r.text()
    );
    // Not a list, an empty body, a form: refused as a whole.
    let r = app
        .post_json("/api/NewBillable[]", t, json!({"callSid": "CA-N9"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "SerializationException");
    let r = app
        .call("POST", "/api/NewBillable[]", t, "application/json", "")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .call(
            "POST",
            "/api/NewBillable[]",
            t,
            "application/x-www-form-urlencoded",
            "callSid=CA-N9",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The brackets percent-encoded (as some clients send them) and the other pre-defined route.
    for route in ["/api/NewBillable%5B%5D", "/json/reply/newbillable[]"] {
        let r = app
            .post_json(
                route,
                t,
                json!([{"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-N1"}]),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{route}: {}", r.text());
        assert_eq!(
            r.json(),
            json!([{"callSid": "CA-N1", "duplicate": true}]),
            "{route}"
        );
    }
    // An empty list is an empty answer.
    let r = app.post_json("/api/NewBillable[]", t, json!([])).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!([]));
    // Not signed in.
    let r = app
        .post_json("/api/NewBillable[]", None, json!([{"callSid": "x"}]))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// After the 204 the billable is committed: a brand-new connection sees it.
async fn acknowledged_billables_are_durable(backend: Backend) {
    let db = fresh_db(backend).await;
    let url = db.url.clone();
    load_fixture(&db).await;
    let app = TestApp::on(db, options()).await;
    let t = app.sign_in(MANAGER_A).await;
    for (customer, sid) in [("cus-a4", "CA-A5"), ("cus-a1", "CA-D1")] {
        let r = app
            .post_json(
                "/billables",
                Some(&t),
                json!({"accountId": "acc-a", "customerId": customer, "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // A new pool, opened after the answer, without waiting.
        let other = Store::connect(&url).await.unwrap();
        assert_eq!(
            other
                .billables()
                .customer_of("acc-a", sid)
                .await
                .unwrap()
                .as_deref(),
            Some(customer),
            "{sid}"
        );
        // The roll-up was committed with it.
        let rows = other
            .reads()
            .billing(
                "acc-a",
                evo_billing_core::date_range::DateRange::parse("2026-10-01", "2026-10-31").unwrap(),
                Some("cus-a4"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].international_micros, 450_000);
        other.pool.close().await;
    }
    // A session billable too.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"sessionId": "ses-a8", "callSid": "CA-A8"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let other = Store::connect(&url).await.unwrap();
    assert_eq!(
        other
            .billables()
            .customer_of("acc-a", "CA-A8")
            .await
            .unwrap()
            .as_deref(),
        Some("cus-a2")
    );
}

/// A batch holds at most 5,000 requests, and no body is built beyond 320,000 values: 4 MiB of
/// `[1,1,…]` (two million items) is 413 at once with a short answer. (Before: a 296 MB answer
/// after 28 s and 2.3 GB RSS.)
async fn batches_are_bounded(backend: Backend) {
    let app = TestApp::new(backend).await;
    let token = app.sign_in(MANAGER_A).await;
    let t = Some(token.as_str());
    let items: Vec<_> = (0..5_000)
        .map(|i| json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": format!("CA-BIG-{i}")}))
        .collect();
    let r = app.post_json("/api/NewBillable[]", t, json!(items)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        &r.text()[..200.min(r.text().len())]
    );
    assert_eq!(r.json().as_array().map(Vec::len), Some(5_000));
    let mut more = items.clone();
    more.push(json!({"accountId": "acc-a", "customerId": "cus-a1", "callSid": "CA-BIG-X"}));
    let r = app.post_json("/api/NewBillable[]", t, json!(more)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.error_code(), "PayloadTooLarge");
    assert!(r.text().contains("at most 5000 requests"), "{}", r.text());
    assert_eq!(billable_rows(&app.db, "acc-a", "CA-BIG-X").await, 0);

    let ones = format!("[{}1]", "1,".repeat(2 * 1024 * 1024 - 64));
    assert!(ones.len() <= 4 * 1024 * 1024);
    for (content_type, body) in [
        ("application/json", ones.clone()),
        ("text/jsv", ones.clone()),
        ("application/json", format!("[{ones}]")),
        ("text/jsv", format!("[{ones}]")),
    ] {
        let r = app
            .call("POST", "/api/NewBillable[]", t, content_type, &body)
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{content_type}");
        assert_eq!(r.error_code(), "PayloadTooLarge");
        assert!(r.body.len() < 1_000, "{} bytes", r.body.len());
    }
    // A single request's body is bounded the same way.
    let nested = format!("{{\"accountId\":\"acc-a\",\"x\":{ones}}}");
    for content_type in ["application/json", "text/jsv"] {
        let r = app
            .call("POST", "/billables", t, content_type, &nested)
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{content_type}");
    }
    // Commas inside strings are not items.
    let quoted =
        json!([{"accountId": "acc-a", "customerId": "cus-a1", "callSid": ",".repeat(6_000)}]);
    let r = app.post_json("/api/NewBillable[]", t, quoted).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

on_both_backends!(
    billing_a_call_shows_at_once,
    the_same_billable_twice_bills_once,
    concurrent_duplicates_bill_once,
    billing_by_session,
    scope_of_billables,
    batch,
    batches_are_bounded,
    acknowledged_billables_are_durable,
);
