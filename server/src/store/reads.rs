//! The read side: billing and usage answered from the roll-ups, never from the raw calls.

use evo_billing_core::date_range::{DateRange, Granularity};
use sqlx::Row;

use super::days::day_number;
use super::{int, Store, StoreResult};
use crate::model::{CustomerBilling, UsageDay};

/// Billing and usage reads.
pub struct Reads<'a>(pub(super) &'a Store);

impl Reads<'_> {
    /// Billing sums per customer of an account over `range`: all customers, one customer, or a
    /// subtree (path prefix). Only customers with billed calls in the range are returned.
    pub async fn billing(
        &self,
        account_id: &str,
        range: DateRange,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<CustomerBilling>> {
        let db = self.0;
        let mut sql = String::from(
            "SELECT b.customer_id AS customer_id, CAST(SUM(b.billed_calls) AS BIGINT) AS billed, \
             CAST(SUM(b.international_calls) AS BIGINT) AS intl_calls, \
             CAST(SUM(b.international_micros) AS BIGINT) AS intl, \
             CAST(SUM(b.recorded_calls) AS BIGINT) AS recorded FROM billing_daily b",
        );
        if subtree_path.is_some() {
            // A prefix test that is not LIKE: ids may contain `_` or `%`, LIKE's wildcards.
            sql.push_str(" JOIN customers c ON c.id = b.customer_id AND substr(c.path, 1, CAST(? AS INTEGER)) = ?");
        }
        sql.push_str(" WHERE b.account_id = ? AND b.day BETWEEN ? AND ?");
        if customer_id.is_some() {
            sql.push_str(" AND b.customer_id = ?");
        }
        sql.push_str(
            " GROUP BY b.customer_id HAVING SUM(b.billed_calls) > 0 ORDER BY b.customer_id",
        );
        let sql = db.sql(&sql).into_owned();
        let mut q = sqlx::query(&sql);
        if let Some(p) = subtree_path {
            q = q.bind(p.chars().count() as i64).bind(p);
        }
        q = q
            .bind(account_id)
            .bind(day_number(range.start()))
            .bind(day_number(range.end()));
        if let Some(c) = customer_id {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&db.pool).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(CustomerBilling {
                    customer_id: r.try_get("customer_id")?,
                    billed_calls: int(r, "billed")?,
                    international_calls: int(r, "intl_calls")?,
                    international_micros: int(r, "intl")?,
                    recorded_calls: int(r, "recorded")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // Byte order on every backend (PostgreSQL's ORDER BY follows the database's collation).
        out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        Ok(out)
    }

    /// Daily usage rows of an account over `range`.
    pub async fn usage_days(
        &self,
        account_id: &str,
        range: DateRange,
    ) -> StoreResult<Vec<UsageDay>> {
        let db = self.0;
        let rows = sqlx::query(&db.sql(
            "SELECT day, category, count, usage_micros, price_micros FROM usage_daily \
             WHERE account_id = ? AND day BETWEEN ? AND ? ORDER BY day, category",
        ))
        .bind(account_id)
        .bind(day_number(range.start()))
        .bind(day_number(range.end()))
        .fetch_all(&db.pool)
        .await?;
        let days = rows
            .iter()
            .map(|r| -> Result<UsageDay, sqlx::Error> {
                Ok(UsageDay {
                    day: int(r, "day")?,
                    category: r.try_get("category")?,
                    count: int(r, "count")?,
                    usage_micros: int(r, "usage_micros")?,
                    price_micros: int(r, "price_micros")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(days)
    }
}

/// One period of a billing series: sums over the period, and how many customers were billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodBilling {
    pub period: DateRange,
    pub sums: CustomerBilling,
    pub customers_billed: i64,
}

impl Reads<'_> {
    /// Billing sums per period of `range` (every period, empty ones included), for the account,
    /// one customer, or a subtree.
    pub async fn series(
        &self,
        account_id: &str,
        range: DateRange,
        granularity: Granularity,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<PeriodBilling>> {
        let periods: Vec<DateRange> = match granularity {
            Granularity::All => vec![range],
            g => range.periods(g),
        };
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let rows = self
                .billing(account_id, period, customer_id, subtree_path)
                .await?;
            let mut sums = CustomerBilling::default();
            for r in &rows {
                sums.billed_calls += r.billed_calls;
                sums.international_calls += r.international_calls;
                sums.international_micros += r.international_micros;
                sums.recorded_calls += r.recorded_calls;
            }
            out.push(PeriodBilling {
                period,
                sums,
                customers_billed: rows.len() as i64,
            });
        }
        Ok(out)
    }
}
