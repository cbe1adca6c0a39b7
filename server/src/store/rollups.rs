//! The roll-up tables, and keeping them true.
//!
//! `billing_rollup` holds billed calls per customer and `usage_rollup` the leaf usage categories
//! of core's usage model per account, each per period of four tiers ([`Tier`]: day, ISO week,
//! month, year), so a range of any length is read from a few rows ([`super::terms`]). Tier 0 is
//! computed from the raw tables; every row of a higher tier is the sum of the tier-0 rows of its
//! period. Both change only in the transaction of the writes they summarize:
//! - online billables add their deltas to all four tiers ([`add_billing`], from
//!   [`super::billables`]);
//! - bulk loads rebuild the tier-0 rows of the days they touch from the raw tables and add the
//!   difference to the higher tiers ([`Rollups::rebuild`]).
//!
//! `billing_totals` sums `billing_rollup` per account and period, with how many customers were
//! billed in it; every write above updates it in the same transaction ([`add_totals`]), so an
//! account's series of whole periods reads one row per period. Each such update also increments
//! the period's `gen`, which is what keeps the seals of closed periods exact ([`super::seals`]).
//!
//! A billable whose call has not arrived yet is kept, and counted when the import that brings its
//! call rebuilds the call's day. [`Rollups::check`] recomputes everything from the raw tables.

use std::collections::{BTreeMap, HashMap};

use sqlx::{Any, Row, Transaction};

use super::accounts::lock_account;
use super::ledger::CHUNK;
use super::terms::Tier;
use super::{unpack, values_list, Store, StoreResult};

/// Sums of a roll-up row (billing: billed calls, international calls, international micros,
/// recorded calls; usage: count, usage micros, price micros, 0).
pub type Sums = [i64; 4];

/// One of the two roll-up tables.
pub(super) struct Table {
    pub name: &'static str,
    /// The column the sums are per (besides account, tier and start).
    pub key: &'static str,
    pub values: &'static [&'static str],
    /// Whether `billing_totals` sums this table's rows per period (billing only).
    pub totals: bool,
}

pub(super) const BILLING: Table = Table {
    name: "billing_rollup",
    key: "customer_id",
    values: &[
        "billed_calls",
        "international_calls",
        "international_micros",
        "recorded_calls",
    ],
    totals: true,
};

pub(super) const USAGE: Table = Table {
    name: "usage_rollup",
    key: "category",
    values: &["count", "usage_micros", "price_micros"],
    totals: false,
};

/// The account totals of `billing_rollup` per tier and period (migration 0005): the sums of all
/// its customers' rows and how many of them were billed, in the columns `customers_billed,
/// billed_calls, international_calls, international_micros, recorded_calls`.
pub(super) const TOTALS: &str = "billing_totals";

/// Tier 0 of `billing_rollup` recomputed from billables and calls, for one account and a range of
/// days (binds: account, first day, last day), in the columns `account_id, tier, start,
/// customer_id, billed_calls, international_calls, international_micros, recorded_calls`.
const BILLING_DAYS: &str = "SELECT b.account_id, 0, c.day, b.customer_id, COUNT(*), \
        CAST(SUM(c.international) AS BIGINT), \
        CAST(SUM(CASE WHEN c.international = 1 THEN c.price_micros ELSE 0 END) AS BIGINT), \
        CAST(SUM(CASE WHEN c.recording_secs > 0 OR c.recording_price_micros <> 0 THEN 1 ELSE 0 END) AS BIGINT) \
    FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
    WHERE b.account_id = ? AND c.day BETWEEN ? AND ? \
    GROUP BY b.account_id, b.customer_id, c.day";

/// Tier 0 of `usage_rollup` recomputed from the ledger, per leaf category of core's usage model
/// (binds: account, first day, last day), in the columns `account_id, tier, start, category,
/// count, usage_micros, price_micros`. Minutes are billed per call, rounded up; usage is kept in
/// micro-units of its unit. A call has a recording when the recording has a duration or a price
/// (a carrier may charge a recording it reports as 0 seconds).
const USAGE_DAYS: [&str; 4] = [
    "SELECT account_id, 0, day, 'calls-' || direction, COUNT(*), \
        CAST(SUM((duration_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
    "SELECT account_id, 0, day, 'recordings', COUNT(*), \
        CAST(SUM((recording_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(recording_price_micros) AS BIGINT) \
     FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? \
        AND (recording_secs > 0 OR recording_price_micros <> 0) GROUP BY account_id, day",
    "SELECT account_id, 0, day, 'sms-' || direction, COUNT(*), \
        CAST(SUM(segments) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM sms WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
    "SELECT account_id, 0, day, kind, COUNT(*), COUNT(*) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM number_rentals WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, kind",
];

/// A change of one key's sums on one day.
pub(super) struct Delta {
    pub key: String,
    pub day: i64,
    pub sums: Sums,
}

/// Adds `deltas` (of one account) to the rows of `tiers` of `table`, in the caller's
/// transaction: one multi-row upsert per tier and chunk.
pub(super) async fn add(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    table: &Table,
    account_id: &str,
    deltas: &[Delta],
    tiers: &[Tier],
) -> StoreResult<()> {
    let n = table.values.len();
    let mut changes: Vec<RowChange> = Vec::new();
    for &tier in tiers {
        let mut rows: BTreeMap<(i64, &str), Sums> = BTreeMap::new();
        for d in deltas {
            let e = rows.entry((tier.start(d.day), d.key.as_str())).or_default();
            for (acc, v) in e.iter_mut().zip(d.sums) {
                *acc += v;
            }
        }
        rows.retain(|_, s| s.iter().any(|v| *v != 0));
        let rows: Vec<_> = rows.into_iter().collect();
        let set = table
            .values
            .iter()
            .map(|c| format!("{c} = {t}.{c} + excluded.{c}", t = table.name))
            .collect::<Vec<_>>()
            .join(", ");
        // With totals, each row's new first value comes back: with the delta, whether the
        // row's customer became billed (or stopped being) in the period.
        let returning = if table.totals {
            format!(" RETURNING start, {}, {}", table.key, table.values[0])
        } else {
            String::new()
        };
        for chunk in rows.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO {t} (account_id, tier, start, {k}, {cols}) VALUES {vals} \
                 ON CONFLICT (account_id, tier, start, {k}) DO UPDATE SET {set}{returning}",
                t = table.name,
                k = table.key,
                cols = table.values.join(", "),
                vals = values_list(chunk.len(), 4 + n),
            );
            let sql = db.sql(&sql).into_owned();
            let mut q = sqlx::query(&sql);
            for ((start, key), sums) in chunk {
                q = q
                    .bind(account_id)
                    .bind(tier.number())
                    .bind(*start)
                    .bind(*key);
                for v in &sums[..n] {
                    q = q.bind(*v);
                }
            }
            if !table.totals {
                q.execute(&mut **tx).await?;
                continue;
            }
            let delta: HashMap<(i64, &str), &Sums> =
                chunk.iter().map(|((st, k), s)| ((*st, *k), s)).collect();
            for row in q.fetch_all(&mut **tx).await? {
                let start: i64 = row.try_get(0)?;
                let key: String = row.try_get(1)?;
                let after: i64 = row.try_get(2)?;
                if let Some(d) = delta.get(&(start, key.as_str())) {
                    changes.push(RowChange {
                        tier,
                        start,
                        billed_before: after - d[0],
                        delta: **d,
                    });
                }
            }
        }
    }
    add_totals(db, tx, account_id, &changes).await
}

/// A change of one customer's `billing_rollup` row: its tier and period, its billed calls
/// before, and what was added to its sums.
pub(super) struct RowChange {
    pub tier: Tier,
    pub start: i64,
    pub billed_before: i64,
    pub delta: Sums,
}

/// Adds `changes` (of one account's `billing_rollup` rows) to `billing_totals`, in the caller's
/// transaction: the sums, and a customer more (or fewer) billed where a row's billed calls went
/// from none to some (or back).
pub(super) async fn add_totals(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
    changes: &[RowChange],
) -> StoreResult<()> {
    let mut rows: BTreeMap<(i64, i64), [i64; 5]> = BTreeMap::new();
    for c in changes {
        let e = rows.entry((c.tier.number(), c.start)).or_default();
        let after = c.billed_before + c.delta[0];
        e[0] += i64::from(after > 0) - i64::from(c.billed_before > 0);
        for (acc, v) in e[1..].iter_mut().zip(c.delta) {
            *acc += v;
        }
    }
    // Every period with a changed row is written, even where the changes cancel out (a call
    // moved between two customers): its `gen` must move, so no seal of it stays valid.
    let rows: Vec<_> = rows.into_iter().collect();
    let cols = [
        "customers_billed",
        "billed_calls",
        "international_calls",
        "international_micros",
        "recorded_calls",
    ];
    let set = cols
        .iter()
        .map(|c| format!("{c} = {TOTALS}.{c} + excluded.{c}"))
        .chain([format!("gen = {TOTALS}.gen + 1")])
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO {TOTALS} (account_id, tier, start, {}) VALUES {} \
             ON CONFLICT (account_id, tier, start) DO UPDATE SET {set}",
            cols.join(", "),
            values_list(chunk.len(), 3 + cols.len()),
        );
        let sql = db.sql(&sql).into_owned();
        let mut q = sqlx::query(&sql);
        for ((tier, start), sums) in chunk {
            q = q.bind(account_id).bind(*tier).bind(*start);
            for v in sums {
                q = q.bind(*v);
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The tier-0 rows of `table` for days `first..=last` of an account, by (key, day).
async fn day_rows(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    table: &Table,
    account_id: &str,
    (first, last): (i64, i64),
) -> StoreResult<HashMap<(String, i64), Sums>> {
    let mut fields = vec![table.key, "start"];
    fields.extend(table.values);
    let sql = format!(
        "SELECT {} AS packed FROM {} WHERE account_id = ? AND tier = 0 AND start BETWEEN ? AND ?",
        db.packed(&fields),
        table.name
    );
    let row = sqlx::query(&db.sql(&sql))
        .bind(account_id)
        .bind(first)
        .bind(last)
        .fetch_one(&mut **tx)
        .await?;
    let packed: Option<String> = row.try_get("packed")?;
    let mut out = HashMap::new();
    for mut f in unpack(packed.as_deref().unwrap_or("")) {
        let key = f.next().unwrap_or("").to_string();
        let day = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut sums = Sums::default();
        for (slot, v) in sums.iter_mut().zip(f) {
            *slot = v.parse().unwrap_or(0);
        }
        out.insert((key, day), sums);
    }
    Ok(out)
}

/// The roll-up tables.
pub struct Rollups<'a>(pub(super) &'a Store);

/// Days per step of a rebuild (a month: each step's tier-0 rows are read in one piece).
const REBUILD_STEP: i64 = 31;

impl Rollups<'_> {
    /// Recomputes the roll-ups of days `first..=last` of an account from the raw tables.
    pub async fn rebuild(&self, account_id: &str, first: i64, last: i64) -> StoreResult<()> {
        let db = self.0;
        let mut tx = db.pool.begin().await?;
        lock_account(db, &mut tx, account_id).await?;
        self.rebuild_in(&mut tx, account_id, first, last).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Rollups::rebuild`] inside the caller's transaction (which holds the account's lock):
    /// per step of days, the tier-0 rows are recomputed from the raw tables, and what changed is
    /// added to the week, month and year rows.
    pub(super) async fn rebuild_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
        first: i64,
        last: i64,
    ) -> StoreResult<()> {
        let db = self.0;
        let mut from = first;
        while from <= last {
            let to = (from + REBUILD_STEP - 1).min(last);
            for (table, recompute) in [(&BILLING, &[BILLING_DAYS][..]), (&USAGE, &USAGE_DAYS[..])] {
                let before = day_rows(db, tx, table, account_id, (from, to)).await?;
                sqlx::query(&db.sql(&format!(
                    "DELETE FROM {} WHERE account_id = ? AND tier = 0 AND start BETWEEN ? AND ?",
                    table.name
                )))
                .bind(account_id)
                .bind(from)
                .bind(to)
                .execute(&mut **tx)
                .await?;
                let columns = format!(
                    "account_id, tier, start, {}, {}",
                    table.key,
                    table.values.join(", ")
                );
                for select in recompute {
                    sqlx::query(
                        &db.sql(&format!("INSERT INTO {} ({columns}) {select}", table.name)),
                    )
                    .bind(account_id)
                    .bind(from)
                    .bind(to)
                    .execute(&mut **tx)
                    .await?;
                }
                let after = day_rows(db, tx, table, account_id, (from, to)).await?;
                let deltas = differences(&before, after);
                if table.totals {
                    add_totals(db, tx, account_id, &day_changes(&before, &deltas)).await?;
                }
                add(
                    db,
                    tx,
                    table,
                    account_id,
                    &deltas,
                    &[Tier::Week, Tier::Month, Tier::Year],
                )
                .await?;
            }
            from = to + 1;
        }
        Ok(())
    }

    /// Builds tiers 1-3 of every account from tier 0 (after the migration that introduced them).
    pub(super) async fn build_tiers(&self) -> StoreResult<()> {
        let db = self.0;
        for account in db.accounts().all().await? {
            let mut tx = db.pool.begin().await?;
            lock_account(db, &mut tx, &account.id).await?;
            for table in [&BILLING, &USAGE] {
                sqlx::query(&db.sql(&format!(
                    "DELETE FROM {} WHERE account_id = ? AND tier > 0",
                    table.name
                )))
                .bind(&account.id)
                .execute(&mut *tx)
                .await?;
                if table.totals {
                    // Zeroed, not deleted: a totals row's `gen` only grows, so a seal made
                    // before this never matches again (see super::seals).
                    sqlx::query(&db.sql(&format!(
                        "UPDATE {TOTALS} SET customers_billed = 0, billed_calls = 0, \
                         international_calls = 0, international_micros = 0, recorded_calls = 0, \
                         gen = gen + 1 WHERE account_id = ? AND tier > 0"
                    )))
                    .bind(&account.id)
                    .execute(&mut *tx)
                    .await?;
                }
                let Some((lo, hi)) = bounds_in(db, &mut tx, table, &account.id).await? else {
                    continue;
                };
                let mut from = lo;
                while from <= hi {
                    let to = (from + REBUILD_STEP - 1).min(hi);
                    let rows = day_rows(db, &mut tx, table, &account.id, (from, to)).await?;
                    let deltas = differences(&HashMap::new(), rows);
                    add(
                        db,
                        &mut tx,
                        table,
                        &account.id,
                        &deltas,
                        &[Tier::Week, Tier::Month, Tier::Year],
                    )
                    .await?;
                    from = to + 1;
                }
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Every roll-up row that disagrees with a recomputation from the raw tables (empty: all
    /// agree), as readable lines: what `evo-billing-server check` prints. Tier 0 is compared with
    /// the raw tables, every higher tier with the sums of its tier-0 rows.
    pub async fn check(&self) -> StoreResult<Vec<String>> {
        let db = self.0;
        let mut problems = Vec::new();
        let everything = (i64::from(i32::MIN), i64::from(i32::MAX));
        for account in db.accounts().all().await? {
            let a = account.id.as_str();
            let mut tx = db.pool.begin().await?;
            for (table, recompute) in [(&BILLING, &[BILLING_DAYS][..]), (&USAGE, &USAGE_DAYS[..])] {
                let columns = format!(
                    "account_id, tier, start, {}, {}",
                    table.key,
                    table.values.join(", ")
                );
                let stored = format!(
                    "SELECT {columns} FROM {} WHERE account_id = ? AND tier = 0 AND start BETWEEN ? AND ?",
                    table.name
                );
                problems.extend(
                    differences_sql(db, &mut tx, table.name, &stored, recompute, a, everything)
                        .await?,
                );
                let days = day_rows(db, &mut tx, table, a, everything).await?;
                let mut want: BTreeMap<(i64, i64, String), Sums> = BTreeMap::new();
                for ((key, day), sums) in &days {
                    for tier in [Tier::Week, Tier::Month, Tier::Year] {
                        let e = want
                            .entry((tier.number(), tier.start(*day), key.clone()))
                            .or_default();
                        for (acc, v) in e.iter_mut().zip(sums) {
                            *acc += v;
                        }
                    }
                }
                want.retain(|_, s| s.iter().any(|v| *v != 0));
                let mut have: BTreeMap<(i64, i64, String), Sums> = BTreeMap::new();
                for tier in [Tier::Week, Tier::Month, Tier::Year] {
                    for ((key, start), sums) in tier_rows(db, &mut tx, table, a, tier).await? {
                        if sums.iter().any(|v| *v != 0) {
                            have.insert((tier.number(), start, key), sums);
                        }
                    }
                }
                for (k, w) in &want {
                    match have.get(k) {
                        Some(h) if h == w => {}
                        other => problems.push(format!(
                            "{}: {a} tier {} start {} {}: stored {:?}, the sum of its days is {:?}",
                            table.name, k.0, k.1, k.2, other, w
                        )),
                    }
                }
                for (k, h) in &have {
                    if !want.contains_key(k) {
                        problems.push(format!(
                            "{}: {a} tier {} start {} {}: stored {:?} for days without data",
                            table.name, k.0, k.1, k.2, h
                        ));
                    }
                }
            }
            problems.extend(check_totals(db, &mut tx, a).await?);
            problems.extend(super::seals::check(db, &mut tx, a).await?);
            tx.commit().await?;
        }
        Ok(problems)
    }
}

/// `billing_totals` of an account against a recomputation from the raw tables (not from the
/// stored roll-ups, so one bad row is told once, where it is).
async fn check_totals(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(&db.sql(BILLING_DAYS))
        .bind(account_id)
        .bind(i64::from(i32::MIN))
        .bind(i64::from(i32::MAX))
        .fetch_all(&mut **tx)
        .await?;
    let mut per_customer: HashMap<(i64, i64, String), Sums> = HashMap::new();
    for row in rows {
        let day: i64 = row.try_get(2)?;
        let customer: String = row.try_get(3)?;
        let mut sums = Sums::default();
        for (i, slot) in sums.iter_mut().enumerate() {
            *slot = row.try_get::<i64, _>(4 + i)?;
        }
        for tier in Tier::ALL {
            let e = per_customer
                .entry((tier.number(), tier.start(day), customer.clone()))
                .or_default();
            for (acc, v) in e.iter_mut().zip(sums) {
                *acc += v;
            }
        }
    }
    let mut want: BTreeMap<(i64, i64), [i64; 5]> = BTreeMap::new();
    for ((tier, start, _), s) in per_customer {
        let e = want.entry((tier, start)).or_default();
        e[0] += i64::from(s[0] > 0);
        for (acc, v) in e[1..].iter_mut().zip(s) {
            *acc += v;
        }
    }
    let mut have: BTreeMap<(i64, i64), [i64; 5]> = BTreeMap::new();
    let stored = sqlx::query(&db.sql(&format!(
        "SELECT tier, start, customers_billed, billed_calls, international_calls, \
         international_micros, recorded_calls FROM {TOTALS} WHERE account_id = ?"
    )))
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    for row in stored {
        let mut sums = [0i64; 5];
        for (i, slot) in sums.iter_mut().enumerate() {
            *slot = row.try_get::<i64, _>(2 + i)?;
        }
        have.insert((row.try_get(0)?, row.try_get(1)?), sums);
    }
    want.retain(|_, s| s.iter().any(|v| *v != 0));
    have.retain(|_, s| s.iter().any(|v| *v != 0));
    let mut out = Vec::new();
    for (k, w) in &want {
        if have.get(k) != Some(w) {
            out.push(format!(
                "{TOTALS}: {account_id} tier {} start {}: stored {:?}, recomputed [customers billed, billed, international, international micros, recorded] {:?}",
                k.0, k.1, have.get(k), w
            ));
        }
    }
    for (k, h) in &have {
        if !want.contains_key(k) {
            out.push(format!(
                "{TOTALS}: {account_id} tier {} start {}: stored {:?} for periods without data",
                k.0, k.1, h
            ));
        }
    }
    Ok(out)
}

/// The non-zero differences `after − before`, as deltas.
fn differences(
    before: &HashMap<(String, i64), Sums>,
    after: HashMap<(String, i64), Sums>,
) -> Vec<Delta> {
    let mut out = Vec::new();
    for ((key, day), b) in before {
        if !after.contains_key(&(key.clone(), *day)) {
            out.push(Delta {
                key: key.clone(),
                day: *day,
                sums: b.map(|v| -v),
            });
        }
    }
    for ((key, day), a) in after {
        let b = before.get(&(key.clone(), day)).copied().unwrap_or_default();
        let mut sums = Sums::default();
        for i in 0..4 {
            sums[i] = a[i] - b[i];
        }
        if sums.iter().any(|v| *v != 0) {
            out.push(Delta { key, day, sums });
        }
    }
    out
}

/// The tier-0 `deltas` of a rebuild as row changes for the totals (`before`: the rows they
/// changed, as they were).
fn day_changes(before: &HashMap<(String, i64), Sums>, deltas: &[Delta]) -> Vec<RowChange> {
    deltas
        .iter()
        .map(|d| RowChange {
            tier: Tier::Day,
            start: d.day,
            billed_before: before.get(&(d.key.clone(), d.day)).map_or(0, |b| b[0]),
            delta: d.sums,
        })
        .collect()
}

/// The first and last day with data in tier 0 of `table` for an account.
pub(super) async fn bounds_in(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    table: &Table,
    account_id: &str,
) -> StoreResult<Option<(i64, i64)>> {
    // Two subqueries: SQLite answers a lone MIN or MAX from the index, both at once by a scan.
    let row = sqlx::query(&db.sql(&format!(
        "SELECT (SELECT MIN(start) FROM {t} WHERE account_id = ? AND tier = 0) AS lo, \
                (SELECT MAX(start) FROM {t} WHERE account_id = ? AND tier = 0) AS hi",
        t = table.name
    )))
    .bind(account_id)
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await?;
    let lo: Option<i64> = row.try_get("lo")?;
    let hi: Option<i64> = row.try_get("hi")?;
    Ok(lo.zip(hi))
}

/// Every row of one tier of `table` for an account, by (key, start).
async fn tier_rows(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    table: &Table,
    account_id: &str,
    tier: Tier,
) -> StoreResult<Vec<((String, i64), Sums)>> {
    let mut fields = vec![table.key, "start"];
    fields.extend(table.values);
    let sql = format!(
        "SELECT {} AS packed FROM {} WHERE account_id = ? AND tier = ?",
        db.packed(&fields),
        table.name
    );
    let row = sqlx::query(&db.sql(&sql))
        .bind(account_id)
        .bind(tier.number())
        .fetch_one(&mut **tx)
        .await?;
    let packed: Option<String> = row.try_get("packed")?;
    Ok(unpack(packed.as_deref().unwrap_or(""))
        .map(|mut f| {
            let key = f.next().unwrap_or("").to_string();
            let start = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut sums = Sums::default();
            for (slot, v) in sums.iter_mut().zip(f) {
                *slot = v.parse().unwrap_or(0);
            }
            ((key, start), sums)
        })
        .collect())
}

/// The rows of `stored` missing from the union of `recomputed`, and the reverse.
async fn differences_sql(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    table: &str,
    stored: &str,
    recomputed: &[&str],
    account_id: &str,
    (first, last): (i64, i64),
) -> StoreResult<Vec<String>> {
    let union = recomputed.join(" UNION ALL ");
    let mut out = Vec::new();
    for (what, a, b, parts) in [
        (
            "stored but not recomputed",
            stored,
            union.as_str(),
            1 + recomputed.len(),
        ),
        (
            "recomputed but not stored",
            union.as_str(),
            stored,
            recomputed.len() + 1,
        ),
    ] {
        let sql = db
            .sql(&format!(
                "SELECT * FROM ({a}) AS x EXCEPT SELECT * FROM ({b}) AS y"
            ))
            .into_owned();
        let mut q = sqlx::query(&sql);
        for _ in 0..parts {
            q = q.bind(account_id).bind(first).bind(last);
        }
        for row in q.fetch_all(&mut **tx).await? {
            let cells: Vec<String> = (0..row.len())
                .map(|i| {
                    row.try_get::<String, _>(i)
                        .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                        .unwrap_or_default()
                })
                .collect();
            out.push(format!("{table}: {what}: ({})", cells.join(", ")));
        }
    }
    Ok(out)
}
