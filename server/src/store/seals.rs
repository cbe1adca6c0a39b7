//! Sealed periods: the packed text of a closed period's `billing_rollup` rows, kept as one value
//! per account, tier and period (`billing_sealed`, migration 0006), so a whole-account read of a
//! closed month of 10,000 customers fetches one value instead of scanning and packing 10,000
//! rows.
//!
//! A seal is exact or unused: it records the `gen` of the period's `billing_totals` row it was
//! scanned at, and every write of the period's roll-up rows increments that `gen` in its own
//! transaction ([`super::rollups::add_totals`]). A read takes a seal only where the two are
//! equal in its own snapshot ([`states`]); a stale one is ignored and replaced. Seals are made
//! by reads, after they answered: a scanned period that has ended (before today, UTC) and billed
//! at least [`SEAL_MIN_CUSTOMERS`] customers is written by a background task ([`Store::seal`]);
//! a failed seal write is logged and costs nothing but the next read's scan. `check` compares
//! every valid seal with its rows ([`check`]).
//!
//! A **prefix** seal ([`PREFIX_TIER`]) holds the sums of a year's months from January through
//! a month that has ended, one row per customer: the cover of a whole-account read of a big
//! account takes it where a range ends inside the year ([`super::terms::Costs::Sealed`]), so
//! the 365 days to a day of last month do not scan this year's row and this month's. Its `gen`
//! is the sum over the months of (their totals' `gen` + 1, or 0 where a month has no totals
//! row yet): each addend only grows, so the sum is equal exactly when none of them moved.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use sqlx::{Any, Row, Transaction};

use super::reads::{bind_term, run_terms, scan, summed, terms_sql};
use super::rollups::Sums;
use super::rollups::{BILLING, TOTALS};
use super::terms::{is_month_run, starts, Term, Tier};
use super::{Store, StoreResult};

/// The table of seals.
const SEALS: &str = "billing_sealed";

/// The tier number a prefix seal is stored under: the months of a year from January through the
/// month that starts on the seal's `start`.
pub const PREFIX_TIER: i64 = 4;

/// A period that billed fewer customers than this is cheap to scan (a few hundred microseconds)
/// and is not sealed.
pub const SEAL_MIN_CUSTOMERS: i64 = 1_000;

/// The seals being written, and the threshold (a test lowers it).
#[derive(Debug)]
pub(super) struct Sealing {
    min_customers: AtomicI64,
    /// (account, tier, start) of the seals a task is writing now.
    writing: Mutex<HashSet<(String, i64, i64)>>,
    idle: tokio::sync::Notify,
}

impl Default for Sealing {
    fn default() -> Self {
        Sealing {
            min_customers: AtomicI64::new(SEAL_MIN_CUSTOMERS),
            writing: Mutex::default(),
            idle: tokio::sync::Notify::new(),
        }
    }
}

impl Sealing {
    pub(super) fn min_customers(&self) -> i64 {
        self.min_customers.load(Ordering::Relaxed)
    }
}

/// What a read's snapshot says of one period: the `gen` of its totals row, how many customers
/// it billed, and its seal when that is valid.
#[derive(Debug)]
pub(super) struct PeriodState {
    pub gen: i64,
    pub customers: i64,
    pub sealed: Option<String>,
}

/// A seal to write: a period's packed rows as scanned at `gen` (`tier` as stored: a
/// [`Tier`]'s number or [`PREFIX_TIER`]).
#[derive(Debug)]
pub(super) struct Seal {
    pub tier: i64,
    pub start: i64,
    pub gen: i64,
    pub text: String,
}

/// A prefix's `gen` from its months' totals gens (`None`: no totals row), see the module doc.
fn prefix_gen(months: impl Iterator<Item = Option<i64>>) -> i64 {
    months.map(|g| g.map_or(0, |g| g + 1)).sum()
}

/// A run of months' `gen` as a prefix, and the most customers one of its months billed, from
/// the [`states`] of a read that holds the run.
pub(super) fn prefix_of(
    states: &HashMap<(i64, i64), PeriodState>,
    run: &Term,
) -> (i64, Option<i64>) {
    let months: Vec<Option<&PeriodState>> = starts(run)
        .map(|s| states.get(&(Tier::Month.number(), s)))
        .collect();
    (
        prefix_gen(months.iter().map(|m| m.map(|m| m.gen))),
        months.iter().flatten().map(|m| m.customers).max(),
    )
}

/// Is there a year of the account that billed enough customers to be sealed?
pub(super) async fn worth_sealing(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
) -> StoreResult<bool> {
    let most: Option<i64> = sqlx::query_scalar(&db.sql(&format!(
        "SELECT MAX(customers_billed) FROM {TOTALS} WHERE account_id = ? AND tier = ?"
    )))
    .bind(account_id)
    .bind(Tier::Year.number())
    .fetch_one(&mut **tx)
    .await?;
    Ok(most.unwrap_or(0) >= db.sealing.min_customers())
}

/// The state of every period of `terms` that has a totals row, by (tier number, start), read
/// in the caller's transaction (one statement). For a run of months (a prefix) the months'
/// totals come without their own seals, and the prefix's seal under ([`PREFIX_TIER`], last
/// month) with its stored `gen` (to compare with [`prefix_of`]) and no customer count.
pub(super) async fn states(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
    terms: &[Term],
) -> StoreResult<HashMap<(i64, i64), PeriodState>> {
    if terms.is_empty() {
        return Ok(HashMap::new());
    }
    let one = format!(
        "SELECT t.tier AS tier, t.start AS start, t.gen AS gen, t.customers_billed AS customers, \
         s.packed AS packed FROM {TOTALS} t LEFT JOIN {SEALS} s ON s.account_id = t.account_id \
         AND s.tier = t.tier AND s.start = t.start AND s.gen = t.gen \
         WHERE t.account_id = ? AND t.tier = ? AND t.start BETWEEN ? AND ?"
    );
    let months = format!(
        "SELECT tier, start, gen, customers_billed AS customers, CAST(NULL AS TEXT) AS packed \
         FROM {TOTALS} WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?"
    );
    let prefix = format!(
        "SELECT tier, start, gen, 0 AS customers, packed FROM {SEALS} \
         WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?"
    );
    let mut parts = Vec::new();
    for t in terms {
        if is_month_run(t) {
            parts.extend([months.as_str(), prefix.as_str()]);
        } else {
            parts.push(one.as_str());
        }
    }
    let sql = db.sql(&parts.join(" UNION ALL ")).into_owned();
    let mut q = sqlx::query(&sql);
    for t in terms {
        q = bind_term(q, account_id, t);
        if is_month_run(t) {
            q = q
                .bind(account_id)
                .bind(PREFIX_TIER)
                .bind(t.last)
                .bind(t.last);
        }
    }
    let mut out: HashMap<(i64, i64), PeriodState> = HashMap::new();
    for row in q.fetch_all(&mut **tx).await? {
        let state = PeriodState {
            gen: row.try_get("gen")?,
            customers: row.try_get("customers")?,
            sealed: row.try_get("packed")?,
        };
        // A month both alone and in a prefix (never made by a cover) keeps its seal.
        let key = (row.try_get("tier")?, row.try_get("start")?);
        match out.get_mut(&key) {
            Some(known) if known.sealed.is_some() => {}
            _ => {
                out.insert(key, state);
            }
        }
    }
    Ok(out)
}

impl Store {
    /// Writes `seals` of an account in a background task (one transaction), skipping those
    /// another task is writing. Never fails the caller: an error is logged.
    pub(super) fn seal(&self, account_id: &str, seals: Vec<Seal>) {
        let seals: Vec<Seal> = {
            let mut writing = self
                .sealing
                .writing
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            seals
                .into_iter()
                .filter(|s| writing.insert((account_id.to_string(), s.tier, s.start)))
                .collect()
        };
        if seals.is_empty() {
            return;
        }
        let (db, account_id) = (self.clone(), account_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = write(&db, &account_id, &seals).await {
                tracing::warn!(error = %e, account = %account_id, seals = seals.len(), "sealing periods failed");
            }
            let mut writing = db.sealing.writing.lock().unwrap_or_else(|e| e.into_inner());
            for s in &seals {
                writing.remove(&(account_id.clone(), s.tier, s.start));
            }
            if writing.is_empty() {
                db.sealing.idle.notify_waiters();
            }
        });
    }

    /// Waits until no seal is being written (tests and the benchmark's fixture).
    pub async fn seals_written(&self) {
        loop {
            let idle = self.sealing.idle.notified();
            if self
                .sealing
                .writing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
            {
                return;
            }
            idle.await;
        }
    }

    /// Seals periods that billed at least `n` customers (default [`SEAL_MIN_CUSTOMERS`]; tests
    /// seal everything with 0, and a bench measures without seals with `i64::MAX`).
    pub fn set_seal_min_customers(&self, n: i64) {
        self.sealing.min_customers.store(n, Ordering::Relaxed);
    }
}

/// Writes seals in one transaction; a seal of a higher `gen` already there is kept.
async fn write(db: &Store, account_id: &str, seals: &[Seal]) -> StoreResult<()> {
    let sql = db
        .sql(&format!(
            "INSERT INTO {SEALS} (account_id, tier, start, gen, packed) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (account_id, tier, start) DO UPDATE SET gen = excluded.gen, \
             packed = excluded.packed WHERE {SEALS}.gen < excluded.gen"
        ))
        .into_owned();
    let mut tx = db.pool.begin().await?;
    for s in seals {
        sqlx::query(&sql)
            .bind(account_id)
            .bind(s.tier)
            .bind(s.start)
            .bind(s.gen)
            .bind(s.text.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every valid seal of an account (its `gen` equal to its totals row's) that differs from the
/// packed text of its period's rows now, as readable lines (for `check`).
pub(super) async fn check(
    db: &Store,
    tx: &mut Transaction<'_, Any>,
    account_id: &str,
) -> StoreResult<Vec<String>> {
    let rows = sqlx::query(&db.sql(&format!(
        "SELECT s.tier AS tier, s.start AS start, s.packed AS packed FROM {SEALS} s \
         JOIN {TOTALS} t ON t.account_id = s.account_id AND t.tier = s.tier AND t.start = s.start \
         AND t.gen = s.gen WHERE s.account_id = ?"
    )))
    .bind(account_id)
    .fetch_all(&mut **tx)
    .await?;
    let sql = terms_sql(db, &BILLING, 1, false);
    // Compared as rows, whatever order each text lists them in.
    let rows_of = |text: &str| {
        let mut rows: Vec<(String, Sums)> = Vec::new();
        scan(text, BILLING.values.len(), 1, |k, s| {
            rows.push((k.to_string(), s))
        });
        rows.sort();
        rows
    };
    let mut out = Vec::new();
    for row in rows {
        let (tier, start): (i64, i64) = (row.try_get("tier")?, row.try_get("start")?);
        let sealed: String = row.try_get("packed")?;
        let Some(t) = Tier::ALL.into_iter().find(|t| t.number() == tier) else {
            out.push(format!(
                "{SEALS}: {account_id} tier {tier} start {start}: no such tier"
            ));
            continue;
        };
        let term = Term {
            tier: t,
            first: start,
            last: start,
            sign: 1,
        };
        let now = run_terms(tx, &sql, account_id, &[term], None).await?;
        if rows_of(&sealed) != rows_of(now.first().map_or("", String::as_str)) {
            out.push(format!(
                "{SEALS}: {account_id} tier {tier} start {start}: the seal differs from the \
                 period's rows at the same gen"
            ));
        }
    }
    // Prefixes: valid when their gen is their months' (see `prefix_of`).
    let prefixes = sqlx::query(&db.sql(&format!(
        "SELECT start, gen, packed FROM {SEALS} WHERE account_id = ? AND tier = ?"
    )))
    .bind(account_id)
    .bind(PREFIX_TIER)
    .fetch_all(&mut **tx)
    .await?;
    for row in prefixes {
        let (start, gen): (i64, i64) = (row.try_get("start")?, row.try_get("gen")?);
        let sealed: String = row.try_get("packed")?;
        let run = Term {
            tier: Tier::Month,
            first: Tier::Year.start(start),
            last: start,
            sign: 1,
        };
        if prefix_of(&states(db, tx, account_id, &[run]).await?, &run).0 != gen {
            continue;
        }
        let now = run_terms(tx, &sql, account_id, &[run], None).await?;
        let now = summed(now.first().map_or("", String::as_str), BILLING.values.len());
        if rows_of(&sealed) != rows_of(&now) {
            out.push(format!(
                "{SEALS}: {account_id} prefix through {start}: the seal differs from its \
                 months' rows at the same gen"
            ));
        }
    }
    Ok(out)
}
