//! The roll-up tables, and keeping them true.
//!
//! `billing_daily` holds billed calls per customer and day; `usage_daily` the leaf usage
//! categories per account and day. They change only in the transaction of the writes they
//! summarize: online billables add to them ([`super::billables`]); bulk loads rebuild the days
//! they touch ([`Rollups::rebuild`], set-based `INSERT … SELECT … GROUP BY`, far faster than row
//! by row). A billable whose call has not arrived yet is kept, and counted when the import that
//! brings its call rebuilds the call's day.

use sqlx::{Any, Row, Transaction};

use super::accounts::lock_account;
use super::{Store, StoreResult};

/// The columns of `billing_daily`, in the order of [`BILLING_DAYS`].
const BILLING_COLUMNS: &str = "account_id, customer_id, day, billed_calls, international_calls, international_micros, recorded_calls";

/// `billing_daily` recomputed from billables and calls, for one account and a range of days
/// (binds: account, first day, last day).
const BILLING_DAYS: &str = "SELECT b.account_id, b.customer_id, c.day, COUNT(*), \
        CAST(SUM(c.international) AS BIGINT), \
        CAST(SUM(CASE WHEN c.international = 1 THEN c.price_micros ELSE 0 END) AS BIGINT), \
        CAST(SUM(CASE WHEN c.recording_secs > 0 THEN 1 ELSE 0 END) AS BIGINT) \
    FROM billables b JOIN calls c ON c.account_id = b.account_id AND c.sid = b.call_sid \
    WHERE b.account_id = ? AND c.day BETWEEN ? AND ? \
    GROUP BY b.account_id, b.customer_id, c.day";

/// The columns of `usage_daily`, in the order of [`USAGE_DAYS`].
const USAGE_COLUMNS: &str = "account_id, day, category, count, usage_micros, price_micros";

/// `usage_daily` recomputed from the ledger, per leaf category of core's usage model (binds:
/// account, first day, last day). Minutes are billed per call, rounded up; usage is kept in
/// micro-units of its unit.
const USAGE_DAYS: [&str; 4] = [
    "SELECT account_id, day, 'calls-' || direction, COUNT(*), \
        CAST(SUM((duration_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
    "SELECT account_id, day, 'recordings', COUNT(*), \
        CAST(SUM((recording_secs + 59) / 60) AS BIGINT) * 1000000, CAST(SUM(recording_price_micros) AS BIGINT) \
     FROM calls WHERE account_id = ? AND day BETWEEN ? AND ? AND recording_secs > 0 GROUP BY account_id, day",
    "SELECT account_id, day, 'sms-' || direction, COUNT(*), \
        CAST(SUM(segments) AS BIGINT) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM sms WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, direction",
    "SELECT account_id, day, kind, COUNT(*), COUNT(*) * 1000000, CAST(SUM(price_micros) AS BIGINT) \
     FROM number_rentals WHERE account_id = ? AND day BETWEEN ? AND ? GROUP BY account_id, day, kind",
];

/// The roll-up tables.
pub struct Rollups<'a>(pub(super) &'a Store);

impl Rollups<'_> {
    /// Recomputes `billing_daily` and `usage_daily` for days `first..=last` of an account.
    pub async fn rebuild(&self, account_id: &str, first: i64, last: i64) -> StoreResult<()> {
        let db = self.0;
        let mut tx = db.pool.begin().await?;
        lock_account(db, &mut tx, account_id).await?;
        self.rebuild_in(&mut tx, account_id, first, last).await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`Rollups::rebuild`] inside the caller's transaction (which holds the account's lock).
    pub(super) async fn rebuild_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
        first: i64,
        last: i64,
    ) -> StoreResult<()> {
        let db = self.0;
        for table in ["billing_daily", "usage_daily"] {
            sqlx::query(&db.sql(&format!(
                "DELETE FROM {table} WHERE account_id = ? AND day BETWEEN ? AND ?"
            )))
            .bind(account_id)
            .bind(first)
            .bind(last)
            .execute(&mut **tx)
            .await?;
        }
        sqlx::query(&db.sql(&format!(
            "INSERT INTO billing_daily ({BILLING_COLUMNS}) {BILLING_DAYS}"
        )))
        .bind(account_id)
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
        for select in USAGE_DAYS {
            sqlx::query(&db.sql(&format!(
                "INSERT INTO usage_daily ({USAGE_COLUMNS}) {select}"
            )))
            .bind(account_id)
            .bind(first)
            .bind(last)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Every roll-up row that disagrees with a recomputation from the raw tables (empty: all
    /// agree), as readable lines: what `evo-billing-server check` prints.
    pub async fn check(&self) -> StoreResult<Vec<String>> {
        let db = self.0;
        let mut problems = Vec::new();
        let everything = (i64::from(i32::MIN), i64::from(i32::MAX));
        for account in db.accounts().all().await? {
            let a = account.id.as_str();
            let stored = format!("SELECT {BILLING_COLUMNS} FROM billing_daily WHERE account_id = ? AND day BETWEEN ? AND ?");
            problems.extend(
                self.differences("billing_daily", &stored, &[BILLING_DAYS], a, everything)
                    .await?,
            );
            let stored = format!("SELECT {USAGE_COLUMNS} FROM usage_daily WHERE account_id = ? AND day BETWEEN ? AND ?");
            problems.extend(
                self.differences("usage_daily", &stored, &USAGE_DAYS, a, everything)
                    .await?,
            );
        }
        Ok(problems)
    }

    /// The rows of `stored` missing from the union of `recomputed`, and the reverse.
    async fn differences(
        &self,
        table: &str,
        stored: &str,
        recomputed: &[&str],
        account_id: &str,
        (first, last): (i64, i64),
    ) -> StoreResult<Vec<String>> {
        let db = self.0;
        let union = recomputed.join(" UNION ALL ");
        let mut out = Vec::new();
        for (what, a, b, parts_a, parts_b) in [
            (
                "stored but not recomputed",
                stored,
                union.as_str(),
                1,
                recomputed.len(),
            ),
            (
                "recomputed but not stored",
                union.as_str(),
                stored,
                recomputed.len(),
                1,
            ),
        ] {
            let sql = db.sql(&format!("{a} EXCEPT {b}")).into_owned();
            let mut q = sqlx::query(&sql);
            for _ in 0..parts_a + parts_b {
                q = q.bind(account_id).bind(first).bind(last);
            }
            for row in q.fetch_all(&db.pool).await? {
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
}
