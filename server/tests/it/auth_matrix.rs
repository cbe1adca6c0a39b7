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

/// Every route of core's table × every kind of caller → the expected status (the test fails
/// when the table gains a route this matrix does not know). Reads answer only within scope;
/// another user's report or API key is 404 like an absent one; writes refuse outsiders.
async fn every_route_for_every_caller(backend: Backend) {
    let app = TestApp::new(backend).await;
    let mut tokens: Vec<Option<String>> = Vec::new();
    for (_, creds) in CALLERS {
        tokens.push(match creds {
            Some(c) => Some(app.sign_in(c).await),
            None => None,
        });
    }
    let manager_a = tokens[2].clone().unwrap();
    // The admin's report, completed, for GetReport and DownloadReport.
    let r = app
        .post_json(
            "/reports/billing",
            tokens[1].as_deref(),
            json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"}),
        )
        .await;
    let admin_report = r.json()["id"].as_str().unwrap().to_string();
    let info = app
        .wait_for_report(
            tokens[1].as_deref().unwrap(),
            &admin_report,
            std::time::Duration::from_secs(20),
        )
        .await;
    assert_eq!(info["status"], "Completed");
    const OCT: &str = "accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31";
    // (route, expected statuses in CALLERS order)
    let cases: &[(&str, [u16; 6])] = &[
        ("NewBillable", [401, 204, 204, 403, 204, 403]),
        ("NewBillable[]", [401, 200, 200, 200, 200, 200]),
        ("GetBilling", [401, 200, 200, 403, 200, 403]),
        ("GetBillingSeries", [401, 200, 200, 403, 200, 403]),
        ("ListUsageRecords", [401, 200, 200, 403, 403, 403]),
        ("BillingReport", [401, 200, 200, 403, 200, 403]),
        ("ListReports", [401, 200, 200, 200, 200, 200]),
        ("GetReport", [401, 200, 404, 404, 404, 404]),
        ("DownloadReport", [401, 200, 404, 404, 404, 404]),
        ("DeleteReport", [401, 204, 204, 404, 404, 404]),
        ("ListAccounts", [401, 200, 200, 200, 200, 200]),
        ("CreateAccount", [401, 200, 403, 403, 403, 403]),
        ("UpdateAccount", [401, 200, 403, 403, 403, 403]),
        ("ListCustomers", [401, 200, 200, 403, 200, 403]),
        ("CreateCustomer", [401, 200, 200, 403, 403, 403]),
        ("UpdateCustomer", [401, 200, 200, 404, 403, 403]),
        ("AuthStatus", [200, 200, 200, 200, 200, 200]),
        ("ListApiKeys", [401, 200, 200, 200, 200, 200]),
        ("CreateApiKey", [401, 200, 200, 200, 200, 200]),
        ("RevokeApiKey", [401, 204, 204, 404, 404, 404]),
        ("Health", [200, 200, 200, 200, 200, 200]),
        ("OpenApi", [200, 200, 200, 200, 200, 200]),
        ("Logout", [204, 204, 204, 204, 204, 204]),
    ];
    // Sign-in itself takes no caller: tested in listener.rs (rate limits) and csrf.rs (origin).
    let elsewhere = ["Authenticate", "Auth"];
    let mut known: Vec<&str> = cases.iter().map(|(n, _)| *n).chain(elsewhere).collect();
    known.sort();
    let mut table: Vec<&str> = evo_billing_core::routes::ROUTES
        .iter()
        .map(|r| r.name)
        .collect();
    table.sort();
    assert_eq!(known, table, "the matrix covers every route of the table");

    for (op, expected) in cases {
        for (i, (who, _)) in CALLERS.iter().enumerate() {
            let token = tokens[i].as_deref();
            let r = match *op {
                "NewBillable" => {
                    app.post_json("/billables", token,
                        json!({"accountId": "acc-a", "customerId": "cus-a3", "callSid": format!("CA-X{i}")})).await
                }
                "NewBillable[]" => {
                    app.post_json("/api/NewBillable[]", token,
                        json!([{"accountId": "acc-a", "customerId": "cus-a3", "callSid": format!("CA-Y{i}")}])).await
                }
                "GetBilling" => app.get(&format!("/billing?{OCT}"), token).await,
                "GetBillingSeries" => app.get(&format!("/billing/series?{OCT}&granularity=weekly"), token).await,
                "ListUsageRecords" => app.get(&format!("/billing/usage?{OCT}"), token).await,
                "BillingReport" => {
                    app.post_json("/reports/billing", token,
                        json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-31"})).await
                }
                "ListReports" => app.get("/reports", token).await,
                "GetReport" => app.get(&format!("/reports/{admin_report}"), token).await,
                "DownloadReport" => app.get(&format!("/reports/{admin_report}/download.csv"), token).await,
                "DeleteReport" => {
                    // A fresh report of Manager A's for each caller.
                    let mine = app.post_json("/reports/billing", Some(&manager_a),
                        json!({"accountId": "acc-a", "startDate": "2026-10-01", "endDate": "2026-10-02"})).await;
                    let id = mine.json()["id"].as_str().unwrap().to_string();
                    app.wait_for_report(&manager_a, &id, std::time::Duration::from_secs(20)).await;
                    app.call("DELETE", &format!("/reports/{id}"), token, "", "").await
                }
                "ListAccounts" => app.get("/accounts", token).await,
                "CreateAccount" => {
                    app.post_json("/accounts", token,
                        json!({"name": format!("New {i}"), "currency": "USD", "homeCountry": "US"})).await
                }
                "UpdateAccount" => app.post_json("/accounts/acc-a", token, json!({"name": "Acme Telecom"})).await,
                "ListCustomers" => app.get("/customers?accountId=acc-a", token).await,
                "CreateCustomer" => {
                    app.post_json("/customers", token, json!({"accountId": "acc-a", "name": format!("New {i}")})).await
                }
                "UpdateCustomer" => app.post_json("/customers/cus-a1", token, json!({"name": "Acme Holdings"})).await,
                "AuthStatus" => app.get("/auth/status", token).await,
                "ListApiKeys" => app.get("/auth/apikeys", token).await,
                "CreateApiKey" => app.post_json("/auth/apikeys", token, json!({"name": format!("k{i}")})).await,
                "RevokeApiKey" => {
                    let key = app.post_json("/auth/apikeys", Some(&manager_a), json!({"name": "victim"})).await;
                    let id = key.json()["info"]["id"].as_str().unwrap().to_string();
                    app.call("DELETE", &format!("/auth/apikeys/{id}"), token, "", "").await
                }
                "Health" => app.get("/healthz", token).await,
                "OpenApi" => app.get("/openapi.json", token).await,
                "Logout" => app.call("POST", "/auth/logout", token, "", "").await,
                other => panic!("no request for {other}"),
            };
            let want = expected[i];
            assert_eq!(
                r.status.as_u16(),
                want,
                "{op} as {who}: expected {want}, got {} {}",
                r.status,
                r.text()
            );
            if *op == "NewBillable[]" && want == 200 {
                let item = &r.json()[0];
                let refused = matches!(i, 3 | 5);
                assert_eq!(
                    item["responseStatus"]["errorCode"].as_str(),
                    refused.then_some("Forbidden"),
                    "{op} as {who}: {item}"
                );
            }
        }
    }
    // After Logout, each session is gone.
    for token in tokens.iter().flatten() {
        let r = app.get(&format!("/billing?{OCT}"), Some(token)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
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
    every_route_for_every_caller,
    predefined_routes_apply_the_same_rules,
    billing_numbers_are_exact_per_scope
);
