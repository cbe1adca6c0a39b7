//! GetBillingSeries over HTTP on the fixture: per month, week and day, for the account, one
//! customer and a Customer's subtree; its rules (granularity required, ranges, periods) and
//! formats.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn periods(v: &Value) -> Vec<(String, i64, i64, f64, i64, i64)> {
    v["periods"]
        .as_array()
        .unwrap_or_else(|| panic!("no periods in {v}"))
        .iter()
        .map(|p| {
            (
                format!(
                    "{}..{}",
                    p["startDate"].as_str().unwrap(),
                    p["endDate"].as_str().unwrap()
                ),
                p["billedCalls"].as_i64().unwrap(),
                p["internationalCalls"].as_i64().unwrap(),
                p["internationalCosts"].as_f64().unwrap(),
                p["recordedCalls"].as_i64().unwrap(),
                p["customersBilled"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn p(
    range: &str,
    billed: i64,
    intl: i64,
    costs: f64,
    rec: i64,
    customers: i64,
) -> (String, i64, i64, f64, i64, i64) {
    (range.to_string(), billed, intl, costs, rec, customers)
}

async fn monthly_weekly_daily(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-09-15&endDate=2026-11-30&granularity=monthly",
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["currency"], json!("USD"));
    assert_eq!(v["granularity"], json!("monthly"));
    // October: CA-A1 (GB 0.30, recorded), CA-A2, CA-A3 (DE 1.2345), CA-A4; November: CA-A6 (MX).
    assert_eq!(
        periods(&v),
        [
            p("2026-09-15..2026-09-30", 0, 0, 0.0, 0, 0),
            p("2026-10-01..2026-10-31", 4, 2, 1.53, 1, 3),
            p("2026-11-01..2026-11-30", 1, 1, 0.25, 0, 1),
        ]
    );
    // The October total equals GetBilling's, customer by customer summed.
    let oct: f64 = app
        .october_billing(&t)
        .await
        .iter()
        .map(|(_, c, _)| c)
        .sum();
    assert!((oct - 1.53).abs() < 1e-9);
    let v = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-11&granularity=weekly",
            Some(&t),
        )
        .await
        .json();
    assert_eq!(
        periods(&v),
        [
            p("2026-10-01..2026-10-04", 0, 0, 0.0, 0, 0),
            p("2026-10-05..2026-10-11", 4, 2, 1.53, 1, 3),
        ]
    );
    let v = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-04&endDate=2026-10-06&granularity=daily&customerId=cus-a3",
            Some(&t),
        )
        .await
        .json();
    assert_eq!(
        periods(&v),
        [
            p("2026-10-04..2026-10-04", 0, 0, 0.0, 0, 0),
            p("2026-10-05..2026-10-05", 2, 1, 1.23, 0, 1),
            p("2026-10-06..2026-10-06", 0, 0, 0.0, 0, 0),
        ]
    );
    let v = app
        .get(
            "/api/GetBillingSeries?accountId=acc-a&startDate=2026-10-01&endDate=2026-11-30&granularity=all",
            Some(&t),
        )
        .await
        .json();
    assert_eq!(periods(&v), [p("2026-10-01..2026-11-30", 5, 3, 1.78, 1, 4)]);
}

async fn a_customer_sees_its_subtree(backend: Backend) {
    let app = TestApp::new(backend).await;
    let c = app.sign_in(CUSTOMER_A2).await;
    let v = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-01&endDate=2026-11-30&granularity=monthly",
            Some(&c),
        )
        .await
        .json();
    // cus-a2: CA-A2; cus-a3: CA-A3 (DE 1.2345), CA-A4.
    assert_eq!(
        periods(&v),
        [
            p("2026-10-01..2026-10-31", 3, 1, 1.23, 0, 2),
            p("2026-11-01..2026-11-30", 0, 0, 0.0, 0, 0),
        ]
    );
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-01&endDate=2026-11-30&granularity=monthly&customerId=cus-a4",
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(
            "/billing/series?accountId=acc-b&startDate=2026-10-01&endDate=2026-11-30&granularity=monthly",
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn rules_and_formats(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31",
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_fields(), ["Granularity"]);
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2023-01-01&endDate=2026-10-31&granularity=daily",
            Some(&t),
        )
        .await;
    assert_eq!(r.error_code(), "TooManyPeriods");
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2016-10-27&endDate=2026-11-04&granularity=monthly",
            Some(&t),
        )
        .await;
    assert_eq!(r.error_code(), "DateRangeTooLong");
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2016-10-28&endDate=2026-11-04&granularity=monthly",
            Some(&t),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["periods"].as_array().unwrap().len(), 122);
    let r = app
        .get(
            "/billing/series.xml?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31&granularity=monthly",
            Some(&t),
        )
        .await;
    let xml = r.text();
    assert!(
        xml.starts_with("<?xml") || xml.starts_with("<BillingSeries"),
        "{xml}"
    );
    assert!(
        xml.contains("<BillingPeriod>") && xml.contains("<CustomersBilled>3</CustomersBilled>"),
        "{xml}"
    );
    let r = app
        .get(
            "/billing/series?accountId=acc-a&startDate=2026-10-01&endDate=2026-10-31&granularity=monthly",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

on_both_backends!(
    monthly_weekly_daily,
    a_customer_sees_its_subtree,
    rules_and_formats
);
