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

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use sqlx::{Any, Row, Transaction};

use super::reads::{bind_term, run_terms, scan, terms_sql};
use super::rollups::Sums;
use super::rollups::{BILLING, TOTALS};
use super::terms::{Term, Tier};
use super::{Store, StoreResult};

/// The table of seals.
const SEALS: &str = "billing_sealed";

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

/// A seal to write: a period's packed rows as scanned at `gen`.
#[derive(Debug)]
pub(super) struct Seal {
    pub tier: Tier,
    pub start: i64,
    pub gen: i64,
    pub text: String,
}

/// The state of every period of `terms` that has a totals row, by (tier number, start), read
/// in the caller's transaction (one statement).
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
    let sql = db
        .sql(&vec![one; terms.len()].join(" UNION ALL "))
        .into_owned();
    let mut q = sqlx::query(&sql);
    for t in terms {
        q = bind_term(q, account_id, t);
    }
    let mut out = HashMap::new();
    for row in q.fetch_all(&mut **tx).await? {
        out.insert(
            (row.try_get("tier")?, row.try_get("start")?),
            PeriodState {
                gen: row.try_get("gen")?,
                customers: row.try_get("customers")?,
                sealed: row.try_get("packed")?,
            },
        );
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
                .filter(|s| writing.insert((account_id.to_string(), s.tier.number(), s.start)))
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
                writing.remove(&(account_id.clone(), s.tier.number(), s.start));
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
            .bind(s.tier.number())
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
        // Compared as rows, whatever order each text lists them in.
        let rows_of = |text: &str| {
            let mut rows: Vec<(String, Sums)> = Vec::new();
            scan(text, BILLING.values.len(), 1, |k, s| {
                rows.push((k.to_string(), s))
            });
            rows.sort();
            rows
        };
        if rows_of(&sealed) != rows_of(now.first().map_or("", String::as_str)) {
            out.push(format!(
                "{SEALS}: {account_id} tier {tier} start {start}: the seal differs from the \
                 period's rows at the same gen"
            ));
        }
    }
    Ok(out)
}
