//! The tiered roll-ups against brute force: a generated ledger of 18 months, billed partly in
//! bulk and partly online, read over many ranges (GetBilling's sums, series per day, week and
//! month, usage) and compared with sums computed here from the generated rows; `check` agrees,
//! and notices a corrupted row; an old database with daily tables upgrades to the tiers.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use evo_billing_core::date_range::{DateRange, Granularity};
use evo_billing_core::money::{Currency, Micros};
use evo_billing_server::model::{
    Account, CallRecord, Customer, CustomerBilling, Direction, ResolvedBillable,
};
use evo_billing_server::store::days::{day_number, day_of_time};
use evo_billing_server::store::seals::PREFIX_TIER;
use evo_billing_server::store::terms::{cover, Costs, Tier};
use evo_billing_server::store::Store;

use crate::support::*;

/// A small deterministic generator (no dependency, the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CUSTOMERS: [&str; 6] = ["r-1", "r-1a", "r-1a-x", "r-2", "r-3", "r-3a"];

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The ledger: (call, billed to customer or not).
fn ledger() -> Vec<(CallRecord, Option<&'static str>)> {
    let mut rng = Lcg(42);
    let first = d("2025-01-01");
    let mut out = Vec::new();
    for i in 0..1_500 {
        let day = first + Duration::days(rng.below(545) as i64);
        let at = (day - d("1970-01-01")).num_days() * 86_400 + rng.below(86_400) as i64;
        let international = rng.below(3) == 0;
        let recorded = rng.below(5) == 0;
        let call = CallRecord {
            account_id: "acc-r".into(),
            sid: format!("CR{i:05}"),
            start_time: at,
            direction: if rng.below(2) == 0 {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            from: "+15550001".into(),
            to: "+15550002".into(),
            country: if international { "FR" } else { "US" }.into(),
            duration_secs: 1 + rng.below(900) as i64,
            price: Micros(1 + rng.below(2_000_000) as i64),
            currency: Currency::USD,
            recording_duration_secs: if recorded {
                1 + rng.below(600) as i64
            } else {
                0
            },
            recording_price: Micros(if recorded {
                1 + rng.below(10_000) as i64
            } else {
                0
            }),
        };
        let billed = (rng.below(10) != 0).then(|| CUSTOMERS[rng.below(6) as usize]);
        out.push((call, billed));
    }
    out
}

/// Loads the ledger: accounts, the tree, half the billables before their calls (bulk), the
/// calls (rebuilding their days), the other half online afterwards.
async fn load(db: &Store) -> Vec<(CallRecord, Option<&'static str>)> {
    db.accounts()
        .insert(&[Account {
            id: "acc-r".into(),
            name: "Roll-up Telecom".into(),
            account_sid: "ACrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        }])
        .await
        .unwrap();
    let c = |id: &str, parent: Option<&str>| Customer {
        id: id.into(),
        account_id: "acc-r".into(),
        parent_id: parent.map(str::to_string),
        name: id.to_uppercase(),
    };
    db.accounts()
        .insert_customers(&[
            c("r-1", None),
            c("r-1a", Some("r-1")),
            c("r-1a-x", Some("r-1a")),
            c("r-2", None),
            c("r-3", None),
            c("r-3a", Some("r-3")),
        ])
        .await
        .unwrap();
    let rows = ledger();
    let billable = |(call, customer): &(CallRecord, Option<&str>)| {
        customer.map(|cus| ResolvedBillable {
            account_id: "acc-r".into(),
            customer_id: cus.into(),
            call_sid: call.sid.clone(),
            session_id: None,
        })
    };
    let (early, late): (Vec<_>, Vec<_>) = rows.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let early: Vec<ResolvedBillable> = early.iter().filter_map(|(_, r)| billable(r)).collect();
    db.ledger().insert_billables(&early).await.unwrap();
    let calls: Vec<CallRecord> = rows.iter().map(|(c, _)| c.clone()).collect();
    for chunk in calls.chunks(400) {
        db.ledger().insert_calls(chunk, true).await.unwrap();
    }
    let late: Vec<ResolvedBillable> = late.iter().filter_map(|(_, r)| billable(r)).collect();
    for chunk in late.chunks(97) {
        db.billables().record(chunk).await.unwrap();
    }
    rows
}

/// Brute force: per customer over a range (of day numbers).
fn expected(
    rows: &[(CallRecord, Option<&str>)],
    range: (i64, i64),
    only: &[&str],
) -> BTreeMap<String, CustomerBilling> {
    let mut out: BTreeMap<String, CustomerBilling> = BTreeMap::new();
    for (call, customer) in rows {
        let Some(cus) = customer else { continue };
        let day = day_of_time(call.start_time);
        if day < range.0 || day > range.1 || (!only.is_empty() && !only.contains(cus)) {
            continue;
        }
        let e = out
            .entry(cus.to_string())
            .or_insert_with(|| CustomerBilling {
                customer_id: cus.to_string(),
                ..Default::default()
            });
        e.billed_calls += 1;
        if call.country != "US" {
            e.international_calls += 1;
            e.international_micros += call.price.0;
        }
        if call.recording_duration_secs > 0 {
            e.recorded_calls += 1;
        }
    }
    out
}

fn ranges() -> Vec<(NaiveDate, NaiveDate)> {
    let mut rng = Lcg(7);
    let mut v = vec![
        (d("2025-01-01"), d("2026-06-30")),
        (d("2025-03-01"), d("2025-03-31")),
        (d("2025-12-02"), d("2026-06-29")),
        (d("2025-02-27"), d("2025-03-02")),
        (d("2024-06-01"), d("2027-01-31")),
        (d("2026-06-30"), d("2026-06-30")),
        (d("2024-01-01"), d("2024-12-31")),
    ];
    for _ in 0..40 {
        let a = d("2024-12-01") + Duration::days(rng.below(600) as i64);
        let b = a + Duration::days(rng.below(400) as i64);
        v.push((a, b));
    }
    v
}

async fn tiered_reads_equal_brute_force(backend: Backend) {
    let db = fresh_db(backend).await;
    let rows = load(&db).await;
    assert_eq!(db.rollups().check().await.unwrap(), Vec::<String>::new());
    for (a, b) in ranges() {
        let range = DateRange::new(a, b).unwrap();
        let span = (day_number(a), day_number(b));
        let got = db
            .reads()
            .billing("acc-r", range, None, None)
            .await
            .unwrap();
        let want: Vec<CustomerBilling> = expected(&rows, span, &[]).into_values().collect();
        assert_eq!(got, want, "GetBilling {range}");
        // One customer; and the subtree of r-1 (r-1, r-1a, r-1a-x).
        let got = db
            .reads()
            .billing("acc-r", range, Some("r-1a"), None)
            .await
            .unwrap();
        let want: Vec<_> = expected(&rows, span, &["r-1a"]).into_values().collect();
        assert_eq!(got, want, "customer r-1a {range}");
        let got = db
            .reads()
            .billing("acc-r", range, None, Some("/r-1/"))
            .await
            .unwrap();
        let want: Vec<_> = expected(&rows, span, &["r-1", "r-1a", "r-1a-x"])
            .into_values()
            .collect();
        assert_eq!(got, want, "subtree r-1 {range}");
    }
}

async fn series_equal_brute_force(backend: Backend) {
    let db = fresh_db(backend).await;
    let rows = load(&db).await;
    for (a, b) in ranges().into_iter().take(20) {
        let range = DateRange::new(a, b).unwrap();
        for g in [
            Granularity::Monthly,
            Granularity::Weekly,
            Granularity::Daily,
            Granularity::All,
        ] {
            if g == Granularity::Daily && range.days() > 120 {
                continue;
            }
            for (customer, subtree, only) in [
                (None, None, &[][..]),
                (Some("r-3"), None, &["r-3"][..]),
                (None, Some("/r-3/"), &["r-3", "r-3a"][..]),
            ] {
                let got = db
                    .reads()
                    .series("acc-r", range, g, customer, subtree)
                    .await
                    .unwrap();
                let periods = if g == Granularity::All {
                    vec![range]
                } else {
                    range.periods(g)
                };
                assert_eq!(got.len(), periods.len());
                for (p, want_period) in got.iter().zip(periods) {
                    assert_eq!(p.period, want_period);
                    let want = expected(
                        &rows,
                        (
                            day_number(want_period.start()),
                            day_number(want_period.end()),
                        ),
                        only,
                    );
                    let billed: i64 = want.values().map(|c| c.billed_calls).sum();
                    let micros: i64 = want.values().map(|c| c.international_micros).sum();
                    let recorded: i64 = want.values().map(|c| c.recorded_calls).sum();
                    let intl: i64 = want.values().map(|c| c.international_calls).sum();
                    assert_eq!(
                        (
                            p.sums.billed_calls,
                            p.sums.international_calls,
                            p.sums.international_micros,
                            p.sums.recorded_calls,
                            p.customers_billed
                        ),
                        (billed, intl, micros, recorded, want.len() as i64),
                        "{g:?} {want_period} {customer:?} {subtree:?}"
                    );
                }
            }
        }
    }
}

async fn usage_equals_brute_force(backend: Backend) {
    let db = fresh_db(backend).await;
    let rows = load(&db).await;
    for (a, b) in ranges().into_iter().take(25) {
        let range = DateRange::new(a, b).unwrap();
        for g in [Granularity::All, Granularity::Monthly] {
            let got = db.reads().usage("acc-r", range, g).await.unwrap();
            for p in got {
                let (lo, hi) = (day_number(p.period.start()), day_number(p.period.end()));
                let mut want: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
                for (call, _) in &rows {
                    let day = day_of_time(call.start_time);
                    if day < lo || day > hi {
                        continue;
                    }
                    let cat = match call.direction {
                        Direction::Inbound => "calls-inbound",
                        Direction::Outbound => "calls-outbound",
                    };
                    let e = want.entry(cat.into()).or_default();
                    e.0 += 1;
                    e.1 += evo_billing_core::usage::billed_minutes(call.duration_secs) * 1_000_000;
                    e.2 += call.price.0;
                    if call.recording_duration_secs > 0 {
                        let r = want.entry("recordings".into()).or_default();
                        r.0 += 1;
                        r.1 +=
                            evo_billing_core::usage::billed_minutes(call.recording_duration_secs)
                                * 1_000_000;
                        r.2 += call.recording_price.0;
                    }
                }
                let have: BTreeMap<String, (i64, i64, i64)> = p
                    .leaves
                    .iter()
                    .filter(|(_, s)| s.count != 0 || s.price_micros != 0)
                    .map(|(k, s)| (k.clone(), (s.count, s.usage_micros, s.price_micros)))
                    .collect();
                assert_eq!(have, want, "usage {g:?} {}", p.period);
            }
        }
    }
}

async fn check_notices_a_corrupted_row(backend: Backend) {
    let db = fresh_db(backend).await;
    load(&db).await;
    assert!(db.rollups().check().await.unwrap().is_empty());
    sqlx::query(
        "UPDATE billing_rollup SET billed_calls = billed_calls + 1 \
         WHERE account_id = 'acc-r' AND tier = 2 AND customer_id = 'r-2'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let problems = db.rollups().check().await.unwrap();
    assert!(!problems.is_empty());
    assert!(
        problems.iter().all(|p| p.contains("billing_rollup")),
        "{problems:?}"
    );
    sqlx::query("DELETE FROM usage_rollup WHERE tier = 0 AND category = 'calls-inbound'")
        .execute(&db.pool)
        .await
        .unwrap();
    let problems = db.rollups().check().await.unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("usage_rollup") && p.contains("recomputed but not stored")),
        "{problems:?}"
    );
}

/// A database of the first schema (daily roll-up tables), with data, upgrades: the days move to
/// tier 0 and the weeks, months and years are built.
async fn daily_tables_upgrade_to_tiers(backend: Backend) {
    let db = fresh_db(backend).await;
    // Undo to the first schema: drop what migration 0002 made and restore the daily tables.
    let dir = match db.backend {
        evo_billing_server::store::Backend::Sqlite => "sqlite",
        evo_billing_server::store::Backend::Postgres => "postgres",
    };
    let first = std::fs::read_to_string(format!(
        "{}/migrations/{dir}/0001_init.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let daily: String = first
        .split(';')
        .filter(|s| {
            s.contains("CREATE TABLE billing_daily") || s.contains("CREATE TABLE usage_daily")
        })
        .map(|s| format!("{s};"))
        .collect();
    for stmt in [
        "DROP TABLE billing_rollup",
        "DROP TABLE usage_rollup",
        "DROP TABLE billing_totals",
        "DROP TABLE billing_sealed",
        "DELETE FROM settings WHERE key = 'rollup_tiers'",
    ] {
        sqlx::query(stmt).execute(&db.pool).await.unwrap();
    }
    for stmt in daily.split(';').filter(|s| !s.trim().is_empty()) {
        sqlx::query(stmt).execute(&db.pool).await.unwrap();
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version IN (2, 5, 6)")
        .execute(&db.pool)
        .await
        .unwrap();
    db.accounts()
        .insert(&[Account {
            id: "acc-u".into(),
            name: "Upgraded".into(),
            account_sid: "ACuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        }])
        .await
        .unwrap();
    for (day, customer, billed, micros) in [
        ("2025-12-30", "u-1", 2, 1_000_000),
        ("2026-01-02", "u-1", 1, 500_000),
        ("2026-01-20", "u-2", 4, 0),
        ("2026-02-01", "u-1", 1, 250_000),
    ] {
        sqlx::query(&db.sql(
            "INSERT INTO billing_daily (account_id, customer_id, day, billed_calls, international_calls, international_micros, recorded_calls) VALUES ('acc-u', ?, ?, ?, 0, ?, 0)",
        ))
        .bind(customer)
        .bind(day_number(d(day)))
        .bind(billed as i64)
        .bind(micros as i64)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    sqlx::query(&db.sql(
        "INSERT INTO usage_daily (account_id, day, category, count, usage_micros, price_micros) VALUES ('acc-u', ?, 'calls-outbound', 3, 3000000, 42)",
    ))
    .bind(day_number(d("2026-01-05")))
    .execute(&db.pool)
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let month = |a: &str, b: &str| DateRange::new(d(a), d(b)).unwrap();
    let jan = db
        .reads()
        .billing("acc-u", month("2026-01-01", "2026-01-31"), None, None)
        .await
        .unwrap();
    assert_eq!(
        jan.iter()
            .map(|c| (
                c.customer_id.as_str(),
                c.billed_calls,
                c.international_micros
            ))
            .collect::<Vec<_>>(),
        [("u-1", 1, 500_000), ("u-2", 4, 0)]
    );
    let all = db
        .reads()
        .billing("acc-u", month("2025-01-01", "2026-12-31"), None, None)
        .await
        .unwrap();
    assert_eq!(all[0].billed_calls, 4);
    let tiers: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM billing_rollup WHERE account_id = 'acc-u' AND tier = 3",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(tiers, 3, "years 2025 (u-1) and 2026 (u-1, u-2)");
    let usage = db
        .reads()
        .usage("acc-u", month("2026-01-01", "2026-12-31"), Granularity::All)
        .await
        .unwrap();
    assert_eq!(usage[0].leaves["calls-outbound"].price_micros, 42);
    // The account totals were built too: months and days of the account read from them.
    let per = |range: DateRange, g: Granularity| {
        let db = &db;
        async move {
            db.reads()
                .series("acc-u", range, g, None, None)
                .await
                .unwrap()
                .into_iter()
                .map(|p| {
                    (
                        p.sums.billed_calls,
                        p.sums.international_micros,
                        p.customers_billed,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        per(month("2025-12-01", "2026-02-28"), Granularity::Monthly).await,
        [(2, 1_000_000, 1), (5, 500_000, 2), (1, 250_000, 1)]
    );
    assert_eq!(
        per(month("2026-01-01", "2026-01-03"), Granularity::Daily).await,
        [(0, 0, 0), (1, 500_000, 1), (0, 0, 0)]
    );
    let totals: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM billing_totals WHERE account_id = 'acc-u'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(totals > 0);
}

/// A bad row of the account totals is told by `check`, and only there (the totals are checked
/// against the raw tables, not against the roll-ups they sum).
async fn check_notices_a_corrupted_total(backend: Backend) {
    let db = fresh_db(backend).await;
    load(&db).await;
    assert!(db.rollups().check().await.unwrap().is_empty());
    sqlx::query(
        "UPDATE billing_totals SET customers_billed = customers_billed + 1 \
         WHERE account_id = 'acc-r' AND tier = 2",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let problems = db.rollups().check().await.unwrap();
    assert!(!problems.is_empty());
    assert!(
        problems
            .iter()
            .all(|p| p.starts_with("billing_totals: acc-r tier 2 ")),
        "{problems:?}"
    );
}

/// A read of several terms sees one snapshot, whichever connections its terms are scanned on:
/// billables written all the while on June 1 (outside the range, inside the month row the cover
/// reads minus June 1's row) never change June 2–30's answer, and they do land.
async fn terms_of_one_read_see_one_snapshot(backend: Backend) {
    let db = fresh_db(backend).await;
    load(&db).await;
    let (a, b) = (d("2025-06-02"), d("2025-06-30"));
    let terms = cover(
        (day_number(a), day_number(b)),
        (day_number(d("2025-01-01")), day_number(d("2026-06-29"))),
        Costs::Rows,
    );
    assert!(
        terms.len() >= 2 && terms.iter().any(|t| t.sign < 0),
        "a month minus its first day: {terms:?}"
    );
    let range = DateRange::new(a, b).unwrap();
    let before = db
        .reads()
        .billing("acc-r", range, None, None)
        .await
        .unwrap();
    const WRITES: usize = 150;
    let calls: Vec<CallRecord> = (0..WRITES)
        .map(|i| CallRecord {
            account_id: "acc-r".into(),
            sid: format!("CRJUNE1{i:04}"),
            start_time: day_number(d("2025-06-01")) * 86_400 + 60 * i as i64,
            direction: Direction::Outbound,
            from: "+15550001".into(),
            to: "+15550002".into(),
            country: "FR".into(),
            duration_secs: 60,
            price: Micros(1_234_567),
            currency: Currency::USD,
            recording_duration_secs: 0,
            recording_price: Micros(0),
        })
        .collect();
    db.ledger().insert_calls(&calls, true).await.unwrap();
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for call in &calls {
                let billable = ResolvedBillable {
                    account_id: "acc-r".into(),
                    customer_id: "r-2".into(),
                    call_sid: call.sid.clone(),
                    session_id: None,
                };
                db.billables().record(&[billable]).await.unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() {
        let got = db
            .reads()
            .billing("acc-r", range, None, None)
            .await
            .unwrap();
        assert_eq!(got, before, "read {reads} while June 1 was written");
        reads += 1;
    }
    writer.await.unwrap();
    assert!(reads >= 10, "only {reads} reads beside the writes");
    let june1 = DateRange::new(d("2025-06-01"), d("2025-06-01")).unwrap();
    let got = db
        .reads()
        .billing("acc-r", june1, Some("r-2"), None)
        .await
        .unwrap();
    assert!(got[0].billed_calls >= WRITES as i64, "{got:?}");
    assert_eq!(
        db.reads()
            .billing("acc-r", range, None, None)
            .await
            .unwrap(),
        before
    );
}

/// Every whole-account read of [`ranges`] (the account, the subtree of r-1, the series of the
/// whole range) against brute force.
async fn assert_reads(db: &Store, rows: &[(CallRecord, Option<&str>)], when: &str) {
    for (a, b) in ranges() {
        let range = DateRange::new(a, b).unwrap();
        let span = (day_number(a), day_number(b));
        let got = db
            .reads()
            .billing("acc-r", range, None, None)
            .await
            .unwrap();
        let want: Vec<CustomerBilling> = expected(rows, span, &[]).into_values().collect();
        assert_eq!(got, want, "GetBilling {range} {when}");
        let got = db
            .reads()
            .billing("acc-r", range, None, Some("/r-1/"))
            .await
            .unwrap();
        let want: Vec<_> = expected(rows, span, &["r-1", "r-1a", "r-1a-x"])
            .into_values()
            .collect();
        assert_eq!(got, want, "subtree r-1 {range} {when}");
        let got = db
            .reads()
            .series("acc-r", range, Granularity::All, None, None)
            .await
            .unwrap();
        let want = expected(rows, span, &[]);
        assert_eq!(
            got[0].sums.billed_calls,
            want.values().map(|c| c.billed_calls).sum::<i64>(),
            "series {range} {when}"
        );
        assert_eq!(
            got[0].customers_billed,
            want.len() as i64,
            "series {range} {when}"
        );
    }
}

/// The seals of the account: (tier, start).
async fn seals(db: &Store) -> Vec<(i64, i64)> {
    sqlx::query_as::<_, (i64, i64)>(
        "SELECT CAST(tier AS BIGINT), CAST(start AS BIGINT) FROM billing_sealed WHERE account_id = 'acc-r'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// With every scanned closed period sealed (threshold 0), reads answered from seals equal brute
/// force; writes into sealed periods (online billables, an import that rebuilds its days) are
/// seen by the next read; no period that has not ended is sealed; `check` agrees.
async fn sealed_reads_equal_brute_force(backend: Backend) {
    let db = fresh_db(backend).await;
    db.set_seal_min_customers(0);
    let mut rows = load(&db).await;
    assert_reads(&db, &rows, "before any seal").await;
    db.seals_written().await;
    let sealed = seals(&db).await;
    assert!(sealed.len() > 20, "{} seals", sealed.len());
    assert!(
        sealed.iter().any(|(tier, _)| *tier == PREFIX_TIER),
        "no prefix sealed: {sealed:?}"
    );
    let today = day_number(chrono::Utc::now().date_naive());
    for (tier, start) in &sealed {
        // A prefix ends with the month its start names.
        let t = Tier::ALL
            .into_iter()
            .find(|t| t.number() == *tier)
            .or((*tier == PREFIX_TIER).then_some(Tier::Month))
            .unwrap();
        assert!(
            t.end(*start) < today,
            "tier {tier} start {start} has not ended"
        );
    }
    assert_reads(&db, &rows, "from seals").await;
    db.seals_written().await;
    assert_eq!(db.rollups().check().await.unwrap(), Vec::<String>::new());

    // The calls nobody billed yet, billed online now (into sealed periods).
    let mut online = Vec::new();
    for (i, (call, customer)) in rows.iter_mut().enumerate() {
        if customer.is_none() {
            *customer = Some(CUSTOMERS[i % CUSTOMERS.len()]);
            online.push(ResolvedBillable {
                account_id: "acc-r".into(),
                customer_id: CUSTOMERS[i % CUSTOMERS.len()].into(),
                call_sid: call.sid.clone(),
                session_id: None,
            });
        }
    }
    assert!(online.len() > 50, "{} unbilled calls", online.len());
    for chunk in online.chunks(13) {
        db.billables().record(chunk).await.unwrap();
    }
    assert_reads(&db, &rows, "after online billables").await;
    db.seals_written().await;

    // New calls imported after their billables: the import rebuilds their days.
    let mut imported = Vec::new();
    let mut billables = Vec::new();
    for (i, (call, _)) in rows.iter().enumerate().step_by(25) {
        let mut call = call.clone();
        call.sid = format!("CRSEAL{i:05}");
        billables.push(ResolvedBillable {
            account_id: "acc-r".into(),
            customer_id: "r-2".into(),
            call_sid: call.sid.clone(),
            session_id: None,
        });
        imported.push(call);
    }
    db.ledger().insert_billables(&billables).await.unwrap();
    db.ledger().insert_calls(&imported, true).await.unwrap();
    rows.extend(imported.into_iter().map(|c| (c, Some("r-2"))));
    assert_reads(&db, &rows, "after an import").await;
    db.seals_written().await;
    assert_reads(&db, &rows, "from the new seals").await;
    assert_eq!(db.rollups().check().await.unwrap(), Vec::<String>::new());
}

/// A seal that disagrees with its rows at the same gen is what a read uses (so it is told by
/// `check`, and only the seal is named).
async fn check_notices_a_corrupted_seal(backend: Backend) {
    let db = fresh_db(backend).await;
    db.set_seal_min_customers(0);
    let rows = load(&db).await;
    let year = DateRange::new(d("2025-01-01"), d("2025-12-31")).unwrap();
    let want: Vec<CustomerBilling> = expected(
        &rows,
        (day_number(d("2025-01-01")), day_number(d("2025-12-31"))),
        &[],
    )
    .into_values()
    .collect();
    assert_eq!(
        db.reads().billing("acc-r", year, None, None).await.unwrap(),
        want
    );
    db.seals_written().await;
    assert!(seals(&db).await.contains(&(3, day_number(d("2025-01-01")))));
    assert!(db.rollups().check().await.unwrap().is_empty());
    sqlx::query("UPDATE billing_sealed SET packed = '' WHERE account_id = 'acc-r' AND tier = 3")
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(db
        .reads()
        .billing("acc-r", year, None, None)
        .await
        .unwrap()
        .is_empty());
    let problems = db.rollups().check().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("billing_sealed: acc-r tier 3 "),
        "{problems:?}"
    );
}

/// A prefix seal (a year's months from January, one value) is exact across a month that had no
/// data when it was sealed and gets some later (its `gen` counts the month's totals row
/// appearing), is what the read uses, and is what `check` names when it is corrupted.
async fn prefix_seals_stay_exact(backend: Backend) {
    let db = fresh_db(backend).await;
    db.set_seal_min_customers(0);
    db.accounts()
        .insert(&[Account {
            id: "acc-p".into(),
            name: "Prefix Telecom".into(),
            account_sid: "ACpppppppppppppppppppppppppppppppp".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        }])
        .await
        .unwrap();
    db.accounts()
        .insert_customers(&[Customer {
            id: "p-1".into(),
            account_id: "acc-p".into(),
            parent_id: None,
            name: "P-1".into(),
        }])
        .await
        .unwrap();
    let call = |sid: &str, day: &str, price: i64| CallRecord {
        account_id: "acc-p".into(),
        sid: sid.into(),
        start_time: day_number(d(day)) * 86_400 + 3_600,
        direction: Direction::Outbound,
        from: "+15550001".into(),
        to: "+15550002".into(),
        country: "FR".into(),
        duration_secs: 60,
        price: Micros(price),
        currency: Currency::USD,
        recording_duration_secs: 0,
        recording_price: Micros(0),
    };
    let bill = |sid: &str| ResolvedBillable {
        account_id: "acc-p".into(),
        customer_id: "p-1".into(),
        call_sid: sid.into(),
        session_id: None,
    };
    // January, March, April and August 2025; nothing in February.
    let calls = [
        call("CP1", "2025-01-05", 1_000_001),
        call("CP2", "2025-01-20", 2_000_002),
        call("CP3", "2025-03-03", 3_000_003),
        call("CP4", "2025-04-02", 4_000_004),
        call("CP5", "2025-04-20", 5_000_005),
        call("CP6", "2025-08-01", 6_000_006),
    ];
    let billables: Vec<_> = calls.iter().map(|c| bill(&c.sid)).collect();
    db.ledger().insert_billables(&billables).await.unwrap();
    db.ledger().insert_calls(&calls, true).await.unwrap();
    let range = DateRange::new(d("2025-01-01"), d("2025-04-10")).unwrap();
    let read = || async {
        db.reads()
            .billing("acc-p", range, None, None)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.billed_calls, c.international_micros))
            .collect::<Vec<_>>()
    };
    assert_eq!(read().await, vec![(4, 10_000_010)]);
    db.seals_written().await;
    let prefix = (PREFIX_TIER, day_number(d("2025-03-01")));
    let sealed = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT CAST(tier AS BIGINT), CAST(start AS BIGINT) FROM billing_sealed \
             WHERE account_id = 'acc-p'",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
    };
    assert!(sealed().await.contains(&prefix), "{:?}", sealed().await);
    assert_eq!(read().await, vec![(4, 10_000_010)], "from the prefix seal");

    // A call billed online in February, which had no totals row when the prefix was sealed.
    db.ledger()
        .insert_calls(&[call("CP7", "2025-02-10", 7_000_007)], true)
        .await
        .unwrap();
    db.billables().record(&[bill("CP7")]).await.unwrap();
    assert_eq!(read().await, vec![(5, 17_000_017)], "after February's call");
    db.seals_written().await;
    assert_eq!(read().await, vec![(5, 17_000_017)], "from the new seal");
    assert_eq!(db.rollups().check().await.unwrap(), Vec::<String>::new());

    // Corrupted at the same gen: the read uses it, and `check` names it alone.
    sqlx::query("UPDATE billing_sealed SET packed = '' WHERE account_id = 'acc-p' AND tier = 4")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        read().await,
        vec![(1, 4_000_004)],
        "April's days beside an empty prefix"
    );
    let problems = db.rollups().check().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("billing_sealed: acc-p prefix through "),
        "{problems:?}"
    );
}

on_both_backends!(
    prefix_seals_stay_exact,
    sealed_reads_equal_brute_force,
    check_notices_a_corrupted_seal,
    tiered_reads_equal_brute_force,
    series_equal_brute_force,
    usage_equals_brute_force,
    check_notices_a_corrupted_row,
    check_notices_a_corrupted_total,
    daily_tables_upgrade_to_tiers,
    terms_of_one_read_see_one_snapshot,
);
