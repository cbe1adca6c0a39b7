//! A Customer's subtree is exact: customer ids that are LIKE patterns (`_`, `%`) must not widen
//! it, in GetBilling nor in its billing reports. Runs on SQLite and on PostgreSQL.

use std::time::Duration;

use crate::support::*;
use axum::http::StatusCode;
use evo_billing_core::dto::Role;
use evo_billing_server::model::{Customer, Direction, NewUser};
use serde_json::json;

const CUS_US: (&str, &str) = ("customer-us@test.evo", "customer-us-password");

/// Adds to acc-a two root customers, `cus_1` and `cusX1` (which `cus_1` matches as a LIKE
/// pattern), each with a billed GB call on 10-05, and a Customer user of `cus_1`.
async fn add_pattern_customers(app: &TestApp) {
    let root = |id: &str, name: &str| Customer {
        id: id.into(),
        account_id: "acc-a".into(),
        parent_id: None,
        name: name.into(),
    };
    app.db
        .accounts()
        .insert_customers(&[root("cus_1", "Underscore Ltd"), root("cusX1", "Other Co")])
        .await
        .unwrap();
    app.db
        .ledger()
        .insert_calls(
            &[
                call(
                    "acc-a",
                    "CA-U1",
                    OCT5_NOON + 600,
                    Direction::Outbound,
                    "GB",
                    60,
                    "0.11",
                    0,
                    "0",
                ),
                call(
                    "acc-a",
                    "CA-X1",
                    OCT5_NOON + 660,
                    Direction::Outbound,
                    "GB",
                    60,
                    "0.99",
                    60,
                    "0.01",
                ),
            ],
            true,
        )
        .await
        .unwrap();
    let admin = app.sign_in(ADMIN).await;
    for (customer, sid) in [("cus_1", "CA-U1"), ("cusX1", "CA-X1")] {
        let r = app
            .post_json(
                "/billables",
                Some(&admin),
                json!({"accountId": "acc-a", "customerId": customer, "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    evo_billing_server::auth::create_user(
        &app.db,
        &NewUser {
            email: CUS_US.0.into(),
            display_name: "customer-us".into(),
            password: CUS_US.1.into(),
            role: Role::Customer,
            account_ids: vec!["acc-a".into()],
            customer_id: Some("cus_1".into()),
        },
    )
    .await
    .unwrap();
}

async fn like_patterns_do_not_widen_a_subtree(backend: Backend) {
    let app = TestApp::new(backend).await;
    add_pattern_customers(&app).await;
    let t = app.sign_in(CUS_US).await;
    // The customer itself, explicitly: fine; the look-alike: 403.
    let r = app
        .get(&format!("/billing?{OCT_A}&customerId=cus_1"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .get(&format!("/billing?{OCT_A}&customerId=cusX1"), Some(&t))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The whole subtree: cus_1 only, never cusX1.
    let r = app.get(&format!("/billing?{OCT_A}"), Some(&t)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus_1", "internationalCosts": 0.11, "hasCallRecording": false}]})
    );
    // Its report too.
    let r = app
        .post_json(
            "/reports/billing",
            Some(&t),
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31",
                   "includeCustomerIds": true}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let info = app.wait_for_report(&t, &id, Duration::from_secs(20)).await;
    assert_eq!(info["status"], "Completed");
    let csv = app
        .get(&format!("/reports/{id}/download.csv"), Some(&t))
        .await
        .text();
    assert!(!csv.contains("cusX1"), "{csv}");
    assert!(csv.contains("cus_1,Underscore Ltd"), "{csv}");
}

/// Control: the same set-up through a manager sees both, and a Customer of an ordinary id
/// (cus-a2) sees exactly its subtree.
async fn subtrees_of_ordinary_ids(backend: Backend) {
    let app = TestApp::new(backend).await;
    add_pattern_customers(&app).await;
    let m = app.sign_in(MANAGER_A).await;
    let ids: Vec<String> = app
        .october_billing(&m)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(ids, ["cus-a1", "cus-a2", "cus-a3", "cusX1", "cus_1"]);
    let c = app.sign_in(CUSTOMER_A2).await;
    let ids: Vec<String> = app
        .october_billing(&c)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(ids, ["cus-a2", "cus-a3"]);
}

/// A Customer cannot tell a customer id outside its subtree from one that does not exist: every
/// operation that takes a customer id answers both the same. (Before: 403 for one, 400 for the
/// other.)
async fn outside_and_absent_customers_look_the_same(backend: Backend) {
    let app = TestApp::new(backend).await;
    let c = app.sign_in(CUSTOMER_A2).await;
    let t = Some(c.as_str());
    // cus-a1 exists (outside cus-a2's subtree); cus-zz does not; cus-b1 is another account's.
    let answers = |id: &'static str| {
        let app = &app;
        async move {
            let mut out = Vec::new();
            for uri in [
                format!("/billing?{OCT_A}&customerId={id}"),
                format!("/billing/series?{OCT_A}&granularity=monthly&customerId={id}"),
                format!("/customers?accountId=acc-a&parentId={id}"),
            ] {
                let r = app.get(&uri, t).await;
                out.push((r.status, r.text().replace(id, "<id>")));
            }
            let r = app
                .post_json(
                    "/billables",
                    t,
                    json!({"accountId": "acc-a", "customerId": id, "callSid": "CA-PROBE"}),
                )
                .await;
            out.push((r.status, r.text().replace(id, "<id>")));
            out
        }
    };
    let outside = answers("cus-a1").await;
    let absent = answers("cus-zz").await;
    let elsewhere = answers("cus-b1").await;
    assert_eq!(outside, absent);
    assert_eq!(elsewhere, absent);
    for (status, text) in &absent {
        assert_eq!(*status, StatusCode::FORBIDDEN, "{text}");
    }
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-PROBE")
            .await
            .unwrap(),
        None
    );
    // Its own subtree still works.
    let r = app
        .get(&format!("/billing?{OCT_A}&customerId=cus-a3"), t)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

on_both_backends!(
    outside_and_absent_customers_look_the_same,
    subtrees_of_ordinary_ids,
    like_patterns_do_not_widen_a_subtree,
);
