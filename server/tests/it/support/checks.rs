//! Assertions and readings shared by the suites.

use evo_billing_server::store::Store;

use super::Reply;

/// `[(customerId, internationalCosts, hasCallRecording)]` of a BillingInfo JSON.
pub fn billing_rows(info: &serde_json::Value) -> Vec<(String, f64, bool)> {
    info["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("no customers in {info}"))
        .iter()
        .map(|c| {
            (
                c["customerId"].as_str().unwrap().to_string(),
                c["internationalCosts"].as_f64().unwrap(),
                c["hasCallRecording"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The October billing of acc-a in the fixture.
pub fn fixture_october() -> Vec<(String, f64, bool)> {
    vec![
        ("cus-a1".to_string(), 0.3, true),
        ("cus-a2".to_string(), 0.0, false),
        ("cus-a3".to_string(), 1.23, false),
    ]
}

/// Fails when a response body leaks internals (SQL, driver names, panics, source paths).
pub fn assert_no_leak(what: &str, r: &Reply) {
    let text = r.text();
    for needle in [
        "sqlx",
        "SELECT",
        "panicked",
        "stack backtrace",
        "src/",
        ".rs:",
        "/work/",
    ] {
        assert!(
            !text.contains(needle),
            "{what}: the body leaks {needle:?}: {text}"
        );
    }
}

/// How many billables the database holds for a call (whatever the customer).
pub async fn billable_rows(db: &Store, account_id: &str, call_sid: &str) -> i64 {
    use sqlx::Row;
    let row = sqlx::query(&db.sql(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM billables WHERE account_id = ? AND call_sid = ?",
    ))
    .bind(account_id)
    .bind(call_sid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    row.try_get::<i64, _>("n").unwrap()
}
