//! Importing a carrier ledger CSV (`cli::import_file`): counts, rejected lines, idempotency,
//! and the API afterwards: a billable that was waiting for its call is counted, usage grows by
//! the loaded calls. Runs on SQLite and on PostgreSQL.

use crate::support::*;
use axum::http::StatusCode;
use evo_billing_core::dto::UsageRecordInfo;
use evo_billing_core::money::Micros;
use evo_billing_server::ingest::import_file;
use serde_json::json;

const HEADER: &str = "Sid,AccountSid,StartTime,Direction,From,To,Country,Duration,Price,PriceUnit,RecordingDuration,RecordingPrice";
const SID_A: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// The ledger: line numbers matter (the header is line 1).
fn ledger() -> String {
    [
        HEADER.to_string(),
        // 2: CA-A8, ses-a8's call (cus-a2): GB from a US account, $0.70 on 10-06.
        format!("CA-A8,{SID_A},2026-10-06T09:30:00Z,outbound,+15550000001,+445550000009,GB,90,0.70,USD,0,0"),
        // 3: a duplicate of the fixture's CA-A1.
        format!("CA-A1,{SID_A},2026-10-05T12:00:00Z,outbound,+15550000001,+445550000002,GB,120,0.30,USD,120,0.005"),
        // 4: blank.
        String::new(),
        // 5: bad: not a date, not a duration.
        format!("CA-BAD,{SID_A},not-a-date,outbound,+15550000001,+15550000002,US,abc,0.10,USD,0,0"),
        // 6: an inbound call, RFC 2822 time, Twilio's negative price, currency column blank.
        format!("CA-I1,{SID_A},\"Wed, 07 Oct 2026 10:00:00 +0000\",inbound,+445550000003,+15550000001,US,30,-0.0085,,0,0"),
        // 7: an account nobody has.
        "CA-Z1,ACzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz,2026-10-07T10:00:00Z,outbound,+1,+2,US,10,0.01,USD,0,0".to_string(),
        // 8: a comment.
        "# end of export".to_string(),
    ]
    .join("\r\n")
        + "\r\n"
}

/// A ledger file in a temporary folder (deleted with the returned guard).
fn write_ledger(text: &str) -> Ledger {
    let dir = temp_dir();
    let path = dir.path().join("ledger.csv");
    std::fs::write(&path, text).unwrap();
    Ledger { path, _dir: dir }
}

struct Ledger {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Ledger {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.path
    }
}

fn usage(records: &[UsageRecordInfo], category: &str) -> (i64, Micros) {
    let r = records
        .iter()
        .find(|r| r.category.as_deref() == Some(category))
        .unwrap_or_else(|| panic!("no {category}"));
    (r.count, r.price)
}

async fn october_usage(app: &TestApp, token: &str) -> Vec<UsageRecordInfo> {
    let r = app
        .get(&format!("/billing/usage?{OCT_A}"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    serde_json::from_slice(&r.body).unwrap()
}

async fn import_counts_the_waiting_billable(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    let m = |s: &str| s.parse::<Micros>().unwrap();
    // The billable comes first (by session); its call is not in the ledger yet.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"sessionId": "ses-a8", "callSid": "CA-A8"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(app.october_billing(&t).await, fixture_october());
    let before = october_usage(&app, &t).await;
    assert_eq!(usage(&before, "calls"), (5, m("2.09")));

    let path = write_ledger(&ledger());
    let report = import_file(&app.db, &path, None, 2, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.loaded, 2, "{report:?}");
    assert_eq!(
        report.skipped, 3,
        "blank line, comment, duplicate CA-A1: {report:?}"
    );
    let lines: Vec<u64> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [5, 7], "{report:?}");
    assert!(report.rejected[0].1.starts_with("line 5: "), "{report:?}");
    assert!(
        report.rejected[0].1.contains("StartTime 'not-a-date'"),
        "{report:?}"
    );
    assert!(report.rejected[0].1.contains("Duration"), "{report:?}");
    assert!(
        report.rejected[1]
            .1
            .contains("ACzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
        "{report:?}"
    );

    // cus-a2 now has CA-A8's $0.70 (the billable was waiting for it); the others unchanged.
    assert_eq!(
        app.october_billing(&t).await,
        vec![
            ("cus-a1".to_string(), 0.3, true),
            ("cus-a2".to_string(), 0.7, false),
            ("cus-a3".to_string(), 1.23, false),
        ]
    );
    // Usage grew by the two loaded calls, and nothing else.
    let after = october_usage(&app, &t).await;
    assert_eq!(usage(&after, "calls").0, usage(&before, "calls").0 + 2);
    // 2.093 + 0.70 + 0.0085 = 2.8015
    assert_eq!(usage(&after, "calls"), (7, m("2.8")));
    assert_eq!(usage(&after, "calls-outbound"), (5, m("2.78"))); // 2.0845 + 0.70
    assert_eq!(usage(&after, "calls-inbound"), (2, m("0.02"))); // 0.0085 × 2
    assert_eq!(usage(&after, "recordings"), usage(&before, "recordings"));
    assert_eq!(usage(&after, "sms"), usage(&before, "sms"));
    // 4.4217 + 0.70 + 0.0085 = 5.1302
    assert_eq!(usage(&after, "totalprice"), (0, m("5.13")));
    assert_eq!(evo_billing_core::aggregate::grand_total(&after), m("5.13"));
    // The calls are on their days.
    let r = app
        .get(
            "/billing/usage?accountId=acc-a&startDate=2026-10-06&endDate=2026-10-07&granularity=daily",
            Some(&t),
        )
        .await;
    let daily: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    let day = |date: &str, category: &str| {
        daily
            .iter()
            .find(|r| {
                r.start_date.as_deref() == Some(date) && r.category.as_deref() == Some(category)
            })
            .map(|r| (r.count, r.price))
            .unwrap()
    };
    assert_eq!(day("2026-10-06", "calls-outbound"), (1, m("0.7")));
    assert_eq!(day("2026-10-07", "calls-inbound"), (1, m("0.01")));
    // The imported call has no billable: GetBilling ignores it.
    assert_eq!(
        app.db
            .billables()
            .customer_of("acc-a", "CA-I1")
            .await
            .unwrap(),
        None
    );

    // Importing the same file again changes nothing.
    let again = import_file(&app.db, &path, None, 2, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(again.loaded, 0, "{again:?}");
    assert_eq!(again.skipped, 5, "{again:?}");
    assert_eq!(again.rejected.len(), 2);
    assert_eq!(october_usage(&app, &t).await, after);
    assert_eq!(app.october_billing(&t).await[1].1, 0.7);
    // And a billable reported after the import counts at once.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": "CA-A5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.october_billing(&t).await.len(), 4);
}

/// `--account`, files without an AccountSid column, Twilio's headers, and bad headers.
async fn import_options_and_headers(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(MANAGER_A).await;
    // Twilio-style header names, any case, extra columns, no AccountSid: --account says which.
    let text = "call_sid,Start Time,DIRECTION,from,to,ToCountry,duration,price,Currency,Notes\n\
                CA-T1,2026-10-08 08:00:00,outbound-api,+15550000001,+4915550000001,DE,61,0.20,USD,hello\n\
                CA-T2,2026-10-08T09:00:00+02:00,outbound-dial,+15550000001,+15550000002,us,5,0.01,USD,\n";
    let path = write_ledger(text);
    let err = import_file(&app.db, &path, None, 100, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(err.loaded, 0);
    assert_eq!(err.rejected.len(), 2, "{err:?}");
    assert!(err.rejected[0].1.contains("no --account"), "{err:?}");
    let report = import_file(&app.db, &path, Some("acc-a"), 100, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!((report.loaded, report.skipped), (2, 0), "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    let r = app
        .get(
            "/billing/usage?accountId=acc-a&startDate=2026-10-08&endDate=2026-10-08",
            Some(&t),
        )
        .await;
    let recs: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    // 61 s is 2 minutes, 5 s is 1.
    let calls = recs
        .iter()
        .find(|r| r.category.as_deref() == Some("calls"))
        .unwrap();
    assert_eq!(calls.count, 2);
    assert_eq!(calls.usage.as_deref(), Some("3"));
    assert_eq!(calls.price, "0.21".parse::<Micros>().unwrap());
    // Bill them: CA-T1 (DE) is international for the US account, CA-T2 is domestic.
    for sid in ["CA-T1", "CA-T2"] {
        let r = app
            .post_json(
                "/billables",
                Some(&t),
                json!({"accountId": "acc-a", "customerId": "cus-a4", "callSid": sid}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let r = app
        .get(
            "/billing?accountId=acc-a&startDate=2026-10-08&endDate=2026-10-08",
            Some(&t),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-a4", "internationalCosts": 0.2, "hasCallRecording": false}]})
    );
    // --account with another account's AccountSid is a rejected row.
    let text = format!(
        "{HEADER}\nCA-W1,ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,2026-10-08T10:00:00Z,outbound,+1,+2,US,10,0.01,USD,0,0\n"
    );
    let report = import_file(
        &app.db,
        &write_ledger(&text),
        Some("acc-a"),
        10,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.loaded, 0);
    assert_eq!(report.rejected.len(), 1);
    assert!(report.rejected[0].1.starts_with("line 2: "), "{report:?}");
    // A header without a required column, an empty file, an unknown account: errors.
    let err = import_file(
        &app.db,
        &write_ledger("Sid,StartTime,Direction\nCA-1,2026-10-01T00:00:00Z,inbound\n"),
        Some("acc-a"),
        10,
        &mut |_, _| {},
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("From") && err.contains("Price"), "{err}");
    let err = import_file(
        &app.db,
        &write_ledger(""),
        Some("acc-a"),
        10,
        &mut |_, _| {},
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("empty"), "{err}");
    let err = import_file(
        &app.db,
        &write_ledger(&ledger()),
        Some("acc-nope"),
        10,
        &mut |_, _| {},
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("acc-nope"), "{err}");
    // October: the fixture, plus cus-a4's CA-T1.
    let mut want = fixture_october();
    want.push(("cus-a4".to_string(), 0.2, false));
    assert_eq!(app.october_billing(&t).await, want);
}

/// Three rows the importer used to get wrong: a recording charged with no duration (its price
/// was dropped from `recordings` and `totalprice`), a first field that is quoted and starts with
/// `#` (it was skipped as a comment), and currencies: a row in another currency than its
/// account's is rejected with its line (it was summed as the account's), an empty PriceUnit means
/// the account's currency (it meant USD whatever the account).
async fn recordings_quoted_hashes_and_currencies(backend: Backend) {
    let app = TestApp::new(backend).await;
    let t = app.sign_in(ADMIN).await;
    // acc-b is a GBP account (home GB).
    let text = "Notes,Sid,StartTime,Direction,From,To,Country,Duration,Price,PriceUnit,RecordingDuration,RecordingPrice\n\
                \"#1 customer, call back\",CB-1,2026-10-09T10:00:00Z,outbound,+44,+1,US,60,0.40,GBP,0,0.25\n\
                usd row,CB-2,2026-10-09T11:00:00Z,outbound,+44,+1,US,60,0.50,USD,0,0\n\
                no unit,CB-3,2026-10-09T12:00:00Z,outbound,+44,+44,GB,60,0.10,,0,0\n\
                # a real comment, \"unbalanced\n";
    let report = import_file(
        &app.db,
        &write_ledger(text),
        Some("acc-b"),
        100,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(report.loaded, 2, "{report:?}");
    assert_eq!(
        report.skipped, 1,
        "only the physical # line is a comment: {report:?}"
    );
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].0, 3);
    assert!(
        report.rejected[0].1.contains("USD") && report.rejected[0].1.contains("GBP"),
        "{report:?}"
    );
    let r = app
        .get(
            "/billing/usage?accountId=acc-b&startDate=2026-10-09&endDate=2026-10-09",
            Some(&t),
        )
        .await;
    let recs: Vec<UsageRecordInfo> = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(usage(&recs, "recordings"), (1, "0.25".parse().unwrap()));
    assert_eq!(usage(&recs, "calls"), (2, "0.50".parse().unwrap()));
    assert_eq!(
        usage(&recs, "totalprice").1,
        "0.75".parse::<Micros>().unwrap()
    );
    assert!(recs.iter().all(|r| r.price_unit.as_deref() == Some("gbp")));
    // Billed, the recorded call counts as recorded.
    let r = app
        .post_json(
            "/billables",
            Some(&t),
            json!({"accountId": "acc-b", "customerId": "cus-b1", "callSid": "CB-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .get(
            "/billing?accountId=acc-b&startDate=2026-10-09&endDate=2026-10-09",
            Some(&t),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"customers": [{"customerId": "cus-b1", "internationalCosts": 0.4, "hasCallRecording": true}]})
    );
    assert!(app.db.rollups().check().await.unwrap().is_empty());
}

on_both_backends!(
    recordings_quoted_hashes_and_currencies,
    import_counts_the_waiting_billable,
    import_options_and_headers
);
