//! The fixture: two accounts, a small customer tree, five users and a handful of calls, SMS and
//! number rentals with numbers the tests assert exactly.

use evo_billing_core::dto::Role;
use evo_billing_core::money::{Currency, Micros};
use evo_billing_server::model::{
    Account, CallRecord, CallSession, Customer, Direction, NewUser, NumberKind, NumberRental,
    ResolvedBillable, SmsRecord,
};
use evo_billing_server::store::Store;

pub const ADMIN: (&str, &str) = ("admin@test.evo", "admin-password");
pub const MANAGER_A: (&str, &str) = ("manager-a@test.evo", "manager-a-password");
pub const MANAGER_B: (&str, &str) = ("manager-b@test.evo", "manager-b-password");
/// Sees cus-a2 and its child cus-a3 in acc-a.
pub const CUSTOMER_A2: (&str, &str) = ("customer-a2@test.evo", "customer-a2-password");
/// Sees cus-b1 in acc-b.
pub const CUSTOMER_B1: (&str, &str) = ("customer-b1@test.evo", "customer-b1-password");

/// 2026-10-05 12:00:00 UTC.
pub const OCT5_NOON: i64 = 1_791_201_600;
pub const DAY: i64 = 86_400;

fn m(s: &str) -> Micros {
    s.parse().unwrap()
}

#[allow(clippy::too_many_arguments)]
pub fn call(
    account: &str,
    sid: &str,
    at: i64,
    dir: Direction,
    country: &str,
    secs: i64,
    price: &str,
    rec_secs: i64,
    rec_price: &str,
) -> CallRecord {
    CallRecord {
        account_id: account.into(),
        sid: sid.into(),
        start_time: at,
        direction: dir,
        from: "+15550000001".into(),
        to: "+445550000002".into(),
        country: country.into(),
        duration_secs: secs,
        price: m(price),
        currency: Currency::USD,
        recording_duration_secs: rec_secs,
        recording_price: m(rec_price),
    }
}

/// The fixture, with numbers the tests assert exactly:
///
/// acc-a (US, USD): customers cus-a1 (root) → cus-a2 → cus-a3, and cus-a4 (root).
/// Calls on 2026-10-05 in acc-a:
///   CA-A1 outbound GB 120 s $0.30 recorded 120 s $0.005, billed to cus-a1
///   CA-A2 outbound US  60 s $0.10,                       billed to cus-a2
///   CA-A3 outbound DE 300 s $1.2345,                     billed to cus-a3
///   CA-A4 inbound  US  30 s $0.0085,                     billed to cus-a3 (session ses-a4)
///   CA-A5 outbound FR  60 s $0.45,                       NOT billed (no billable)
/// and on 2026-11-02: CA-A6 outbound MX 60 s $0.25, billed to cus-a4.
/// Call session ses-a7 (cus-a4, call CA-A7) has no call in the ledger yet.
/// acc-b (GB, GBP): cus-b1; call CA-B1 outbound US 60 s $0.20 on 2026-10-05, billed to cus-b1.
/// SMS: 3 outbound in acc-a on 2026-10-05 at $0.0079 × 1 segment. Numbers: 2 local at $1.15 on
/// 2026-10-01.
pub async fn load_fixture(db: &Store) {
    db.accounts()
        .insert(&[
            Account {
                id: "acc-a".into(),
                name: "Alpha Telecom".into(),
                account_sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
                home_country: "US".into(),
                currency: Currency::USD,
            },
            Account {
                id: "acc-b".into(),
                name: "Beta Voice".into(),
                account_sid: "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into(),
                home_country: "GB".into(),
                currency: Currency::new("GBP").unwrap(),
            },
        ])
        .await
        .unwrap();
    let cust = |id: &str, acc: &str, parent: Option<&str>, name: &str| Customer {
        id: id.into(),
        account_id: acc.into(),
        parent_id: parent.map(str::to_string),
        name: name.into(),
    };
    db.accounts()
        .insert_customers(&[
            cust("cus-a1", "acc-a", None, "Acme Holdings"),
            cust("cus-a2", "acc-a", Some("cus-a1"), "Acme Sales"),
            cust("cus-a3", "acc-a", Some("cus-a2"), "Acme Sales, \"EMEA\""),
            cust("cus-a4", "acc-a", None, "Globex"),
            cust("cus-b1", "acc-b", None, "Initech"),
        ])
        .await
        .unwrap();
    let user = |(email, password): (&str, &str),
                role: Role,
                accounts: &[&str],
                customer: Option<&str>| NewUser {
        email: email.into(),
        display_name: email.split('@').next().unwrap().into(),
        password: password.into(),
        role,
        account_ids: accounts.iter().map(|a| a.to_string()).collect(),
        customer_id: customer.map(str::to_string),
    };
    for u in [
        user(ADMIN, Role::SystemAdministrator, &[], None),
        user(MANAGER_A, Role::Manager, &["acc-a"], None),
        user(MANAGER_B, Role::Manager, &["acc-b"], None),
        user(CUSTOMER_A2, Role::Customer, &["acc-a"], Some("cus-a2")),
        user(CUSTOMER_B1, Role::Customer, &["acc-b"], Some("cus-b1")),
    ] {
        evo_billing_server::auth::create_user(db, &u).await.unwrap();
    }
    let billable = |acc: &str, sid: &str, cus: &str, ses: Option<&str>| ResolvedBillable {
        account_id: acc.into(),
        customer_id: cus.into(),
        call_sid: sid.into(),
        session_id: ses.map(str::to_string),
    };
    db.ledger()
        .insert_call_sessions(&[
            CallSession {
                id: "ses-a4".into(),
                account_id: "acc-a".into(),
                customer_id: "cus-a3".into(),
                call_sid: "CA-A4".into(),
            },
            CallSession {
                id: "ses-a7".into(),
                account_id: "acc-a".into(),
                customer_id: "cus-a4".into(),
                call_sid: "CA-A7".into(),
            },
            CallSession {
                id: "ses-a8".into(),
                account_id: "acc-a".into(),
                customer_id: "cus-a2".into(),
                call_sid: "CA-A8".into(),
            },
        ])
        .await
        .unwrap();
    db.ledger()
        .insert_billables(&[
            billable("acc-a", "CA-A1", "cus-a1", None),
            billable("acc-a", "CA-A2", "cus-a2", None),
            billable("acc-a", "CA-A3", "cus-a3", None),
            billable("acc-a", "CA-A4", "cus-a3", Some("ses-a4")),
            billable("acc-a", "CA-A6", "cus-a4", None),
            billable("acc-b", "CA-B1", "cus-b1", None),
        ])
        .await
        .unwrap();
    use Direction::*;
    db.ledger()
        .insert_calls(
            &[
                call(
                    "acc-a", "CA-A1", OCT5_NOON, Outbound, "GB", 120, "0.30", 120, "0.005",
                ),
                call(
                    "acc-a",
                    "CA-A2",
                    OCT5_NOON + 60,
                    Outbound,
                    "US",
                    60,
                    "0.10",
                    0,
                    "0",
                ),
                call(
                    "acc-a",
                    "CA-A3",
                    OCT5_NOON + 120,
                    Outbound,
                    "DE",
                    300,
                    "1.2345",
                    0,
                    "0",
                ),
                call(
                    "acc-a",
                    "CA-A4",
                    OCT5_NOON + 180,
                    Inbound,
                    "US",
                    30,
                    "0.0085",
                    0,
                    "0",
                ),
                call(
                    "acc-a",
                    "CA-A5",
                    OCT5_NOON + 240,
                    Outbound,
                    "FR",
                    60,
                    "0.45",
                    0,
                    "0",
                ),
                call(
                    "acc-a",
                    "CA-A6",
                    OCT5_NOON + 28 * DAY,
                    Outbound,
                    "MX",
                    60,
                    "0.25",
                    0,
                    "0",
                ),
                // acc-b's own currency: the store refuses a call in another.
                CallRecord {
                    currency: Currency::new("GBP").unwrap(),
                    ..call(
                        "acc-b", "CA-B1", OCT5_NOON, Outbound, "US", 60, "0.20", 0, "0",
                    )
                },
            ],
            true,
        )
        .await
        .unwrap();
    let sms = |sid: &str| SmsRecord {
        account_id: "acc-a".into(),
        sid: sid.into(),
        sent_at: OCT5_NOON,
        direction: Outbound,
        country: "US".into(),
        segments: 1,
        price: m("0.0079"),
    };
    db.ledger()
        .insert_sms(&[sms("SM1"), sms("SM2"), sms("SM3")], true)
        .await
        .unwrap();
    let number = |n: &str| NumberRental {
        account_id: "acc-a".into(),
        number: n.into(),
        kind: NumberKind::Local,
        charged_at: OCT5_NOON - 4 * DAY,
        price: m("1.15"),
    };
    db.ledger()
        .insert_numbers(&[number("+15550000001"), number("+15550000002")], true)
        .await
        .unwrap();
}
