//! Every operation × every kind of caller → the expected status, and GetBilling's exact numbers
//! for each scope. Runs on SQLite and on PostgreSQL.

use crate::support::*;
use axum::http::StatusCode;
use serde_json::json;

/// The callers: None is anonymous.
const CALLERS: [(&str, Option<(&str, &str)>); 6] = [
    ("anonymous", None),
    ("SystemAdministrator", Some(ADMIN)),
    ("Manager of this account", Some(MANAGER_A)),
    ("Manager of another account", Some(MANAGER_B)),
    ("Customer of this subtree", Some(CUSTOMER_A2)),
    ("Customer elsewhere", Some(CUSTOMER_B1)),
];

async fn matrix(backend: Backend) {
    let app = TestApp::new(backend).await;
    let mut tokens = Vec::new();
    for (_, creds) in CALLERS {
        tokens.push(match creds {
            Some(c) => Some(app.sign_in(c).await),
            None => None,
        });
    }
    // Expected statuses in CALLERS order.
    let cases: [(&str, [u16; 6]); 4] = [
        ("NewBillable", [401, 204, 204, 403, 204, 403]),
        ("GetBilling", [401, 200, 200, 403, 200, 403]),
        ("BillingReport", [401, 200, 200, 403, 200, 403]),
        ("ListUsageRecords", [401, 200, 200, 403, 403, 403]),
    ];
    for (op, expected) in cases {
        for (i, (who, _)) in CALLERS.iter().enumerate() {
            let token = tokens[i].as_deref();
            let r = match op {
                "NewBillable" => {
                    app.post_json(
                        "/billables",
                        token,
                        json!({"accountId": "acc-a", "customerId": "cus-a3", "callSid": format!("CA-M{i}")}),
                    )
                    .await
                }
                "GetBilling" => {
                    app.get("/billing?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31", token)
                        .await
                }
                "BillingReport" => {
                    app.post_json(
                        "/reports/billing",
                        token,
                        json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
                    )
                    .await
                }
                _ => {
                    app.get("/billing/usage?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31", token)
                        .await
                }
            };
            let want = expected[i];
            assert_eq!(
                r.status.as_u16(),
                want,
                "{op} as {who}: expected {want}, got {} {}",
                r.status,
                r.text()
            );
            match want {
                401 => assert_eq!(r.error_code(), "Unauthorized", "{op} as {who}"),
                403 => assert_eq!(r.error_code(), "Forbidden", "{op} as {who}"),
                _ => {}
            }
        }
    }
}

/// The same operations through ServiceStack's pre-defined routes, with other verbs.
async fn predefined_routes_apply_the_same_rules(backend: Backend) {
    let app = TestApp::new(backend).await;
    let manager_b = app.sign_in(MANAGER_B).await;
    let manager_a = app.sign_in(MANAGER_A).await;
    let q = "accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31";
    for route in [
        "/api/GetBilling",
        "/json/reply/getbilling",
        "/API/GETBILLING",
    ] {
        let r = app.get(&format!("{route}?{q}"), Some(&manager_b)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{route}");
        let r = app
            .call(
                "POST",
                route,
                Some(&manager_a),
                "application/json",
                &json!({"AccountId": "acc-a", "StartDate": "2026-10-01", "EndDate": "2026-10-31"})
                    .to_string(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{route}: {}", r.text());
        assert!(r.json()["customers"].is_array());
    }
    let r = app.get("/api/NoSuchThing", Some(&manager_a)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "NotFound");
}

async fn billing_numbers_are_exact_per_scope(backend: Backend) {
    let app = TestApp::new(backend).await;
    let admin = app.sign_in(ADMIN).await;
    let q = "/billing?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31";
    let r = app.get(q, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // International: CA-A1 GB 0.30 (cus-a1, recorded); CA-A3 DE 1.2345 → 1.23 (cus-a3);
    // CA-A2 and CA-A4 are domestic; CA-A5 is not billed; CA-A6 is in November.
    assert_eq!(
        r.json(),
        json!({"customers": [
            {"customerId": "cus-a1", "internationalCosts": 0.3, "hasCallRecording": true},
            {"customerId": "cus-a2", "internationalCosts": 0, "hasCallRecording": false},
            {"customerId": "cus-a3", "internationalCosts": 1.23, "hasCallRecording": false},
        ]})
    );
    // The whole range: November adds cus-a4.
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2026-10-01&endDate=2026-11-30",
            Some(&admin),
        )
        .await;
    let ids: Vec<String> = r.json()["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["cus-a1", "cus-a2", "cus-a3", "cus-a4"]);
    // A customer filter.
    let r = app
        .get(&format!("{q}&customerId=cus-a3"), Some(&admin))
        .await;
    assert_eq!(r.json()["customers"].as_array().unwrap().len(), 1);
    // A Customer sees its subtree only (cus-a2, cus-a3), and a 403 outside it.
    let customer = app.sign_in(CUSTOMER_A2).await;
    let r = app.get(q, Some(&customer)).await;
    let ids: Vec<String> = r.json()["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["cus-a2", "cus-a3"]);
    let r = app
        .get(&format!("{q}&customerId=cus-a1"), Some(&customer))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An unknown customer is named.
    let r = app.get(&format!("{q}&customerId=nope"), Some(&admin)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["CustomerId"]);
    // An unknown account: 404 for an administrator, 403 for a manager (no existence leak).
    let r = app
        .get(
            "/billing?accountId=acc-zzz&startDate=2026-10-01&endDate=2026-10-31",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let manager = app.sign_in(MANAGER_A).await;
    let r = app
        .get(
            "/billing?accountId=acc-zzz&startDate=2026-10-01&endDate=2026-10-31",
            Some(&manager),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // GBP account: amounts in its currency.
    let r = app
        .get(
            "/billing?accountId=acc-b&startDate=2026-10-01&endDate=2026-10-31",
            Some(&admin),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-b1", "internationalCosts": 0.2, "hasCallRecording": false}]})
    );
}

on_both_backends!(
    matrix,
    predefined_routes_apply_the_same_rules,
    billing_numbers_are_exact_per_scope
);
