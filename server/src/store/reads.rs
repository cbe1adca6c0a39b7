//! The read side: billing and usage answered from the tiered roll-ups ([`super::rollups`]),
//! never from the raw calls. A range becomes a few signed terms ([`super::terms::cover`]); each
//! term's rows are fetched packed into one text ([`Store::packed`]) and added up here, so a
//! year of 10,000 customers costs a few scans of 10,000 rows and one value through the driver.
//! Every read runs in one transaction: the data bounds the cover relies on and the rows come
//! from the same snapshot (REPEATABLE READ on PostgreSQL; a read transaction on SQLite).

use std::collections::{BTreeMap, HashMap, HashSet};

use evo_billing_core::date_range::{DateRange, Granularity};
use sqlx::{Any, Row, Transaction};

use super::days::{date_of_day, day_number};
use super::rollups::{bounds_in, Sums, Table, BILLING, USAGE};
use super::terms::{clip, cover, Term, Tier};
use super::{unpack, Backend, Store, StoreResult};
use crate::model::CustomerBilling;

/// Billing and usage reads.
pub struct Reads<'a>(pub(super) &'a Store);

/// One period of a billing series: sums over the period, and how many customers were billed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodBilling {
    pub period: DateRange,
    pub sums: CustomerBilling,
    pub customers_billed: i64,
}

/// One usage category's sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageSums {
    pub count: i64,
    /// Micro-units of the category's unit.
    pub usage_micros: i64,
    pub price_micros: i64,
}

/// The leaf categories' sums over one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodUsage {
    pub period: DateRange,
    pub leaves: BTreeMap<String, UsageSums>,
}

fn span(r: DateRange) -> (i64, i64) {
    (day_number(r.start()), day_number(r.end()))
}

fn billing_of(customer_id: String, s: &Sums) -> CustomerBilling {
    CustomerBilling {
        customer_id,
        billed_calls: s[0],
        international_calls: s[1],
        international_micros: s[2],
        recorded_calls: s[3],
    }
}

fn usage_of(s: &Sums) -> UsageSums {
    UsageSums {
        count: s[0],
        usage_micros: s[1],
        price_micros: s[2],
    }
}

/// The tier whose periods are a granularity's.
fn tier_of(g: Granularity) -> Option<Tier> {
    match g {
        Granularity::Daily => Some(Tier::Day),
        Granularity::Weekly => Some(Tier::Week),
        Granularity::Monthly => Some(Tier::Month),
        Granularity::All => None,
    }
}

impl Reads<'_> {
    async fn snapshot(&self) -> StoreResult<Transaction<'static, Any>> {
        let db = self.0;
        let mut tx = db.pool.begin().await?;
        if db.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Per key, the signed sum of `terms` (one statement: each term's rows packed into one
    /// column), optionally only `key`.
    async fn per_key(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        terms: &[Term],
        key: Option<&str>,
    ) -> StoreResult<HashMap<String, Sums>> {
        let db = self.0;
        let mut out: HashMap<String, Sums> = HashMap::new();
        if terms.is_empty() {
            return Ok(out);
        }
        let mut fields = vec![table.key];
        fields.extend(table.values);
        let packed = db.packed(&fields);
        let key_filter = if key.is_some() {
            format!(" AND {} = ?", table.key)
        } else {
            String::new()
        };
        let columns: Vec<String> = (0..terms.len())
            .map(|i| {
                format!(
                    "(SELECT {packed} FROM {} WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?{key_filter}) AS t{i}",
                    table.name
                )
            })
            .collect();
        let sql = db
            .sql(&format!("SELECT {}", columns.join(", ")))
            .into_owned();
        let mut q = sqlx::query(&sql);
        for t in terms {
            q = q
                .bind(account_id)
                .bind(t.tier.number())
                .bind(t.first)
                .bind(t.last);
            if let Some(k) = key {
                q = q.bind(k);
            }
        }
        let row = q.fetch_one(&mut **tx).await?;
        for (i, t) in terms.iter().enumerate() {
            let text: Option<String> = row.try_get(i)?;
            for mut f in unpack(text.as_deref().unwrap_or("")) {
                let k = f.next().unwrap_or("");
                let e = match out.get_mut(k) {
                    Some(e) => e,
                    None => out.entry(k.to_string()).or_default(),
                };
                for (slot, v) in e.iter_mut().zip(f) {
                    *slot += t.sign * v.parse::<i64>().unwrap_or(0);
                }
            }
        }
        Ok(out)
    }

    /// The terms of a range for `table` of an account (empty when the range holds no data).
    async fn terms(
        &self,
        tx: &mut Transaction<'_, Any>,
        table: &Table,
        account_id: &str,
        range: DateRange,
    ) -> StoreResult<Vec<Term>> {
        Ok(match bounds_in(self.0, tx, table, account_id).await? {
            Some(data) => cover(span(range), data),
            None => Vec::new(),
        })
    }

    /// The ids of a subtree's customers.
    async fn subtree_ids(&self, account_id: &str, path: &str) -> StoreResult<HashSet<String>> {
        Ok(self
            .0
            .accounts()
            .customers(account_id, Some(path))
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    /// Billing sums per customer of an account over `range`: all customers, one customer, or a
    /// subtree (path prefix). Only customers with billed calls in the range are returned, in
    /// byte order of their ids (on every backend, whatever PostgreSQL's collation).
    pub async fn billing(
        &self,
        account_id: &str,
        range: DateRange,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<CustomerBilling>> {
        let subtree = match subtree_path {
            Some(p) => Some(self.subtree_ids(account_id, p).await?),
            None => None,
        };
        let mut tx = self.snapshot().await?;
        let terms = self.terms(&mut tx, &BILLING, account_id, range).await?;
        let sums = self
            .per_key(&mut tx, &BILLING, account_id, &terms, customer_id)
            .await?;
        tx.commit().await?;
        let mut out: Vec<CustomerBilling> = sums
            .into_iter()
            .filter(|(id, s)| s[0] > 0 && subtree.as_ref().is_none_or(|ids| ids.contains(id)))
            .map(|(id, s)| billing_of(id, &s))
            .collect();
        out.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        Ok(out)
    }

    /// Billing sums per period of `range` (every period, empty ones included), for the account,
    /// one customer, or a subtree. A whole period is one row per customer of its tier, summed
    /// by the database; a period cut by the range is read like a range of its own.
    pub async fn series(
        &self,
        account_id: &str,
        range: DateRange,
        granularity: Granularity,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> StoreResult<Vec<PeriodBilling>> {
        let subtree = match subtree_path {
            Some(p) => Some(self.subtree_ids(account_id, p).await?),
            None => None,
        };
        let periods: Vec<DateRange> = match granularity {
            Granularity::All => vec![range],
            g => range.periods(g),
        };
        let tier = tier_of(granularity);
        let mut tx = self.snapshot().await?;
        let data = bounds_in(self.0, &mut tx, &BILLING, account_id).await?;
        // The tier's period of a period of the series; whole when the range holds all its days
        // with data (this month up to today is this month's row, as in `cover`).
        let row_of = |p: &DateRange| tier.map(|t| t.start(span(*p).0));
        let whole = |p: &DateRange| {
            tier.is_some_and(|t| {
                let (a, b) = span(*p);
                let period = (t.start(a), t.end(t.start(a)));
                period == (a, b) || data.is_none_or(|d| clip(period, d) == clip((a, b), d))
            })
        };
        // Whole periods, summed per start by the database (no subtree: that needs the keys):
        // for the account, one row of `billing_totals` each.
        let mut grouped: HashMap<i64, (Sums, i64)> = HashMap::new();
        if let (Some(t), None) = (tier, &subtree) {
            let starts: Vec<i64> = periods
                .iter()
                .filter(|p| whole(p))
                .filter_map(row_of)
                .collect();
            if let (Some(first), Some(last)) = (starts.first(), starts.last()) {
                grouped = self
                    .grouped(&mut tx, account_id, t, (*first, *last), customer_id)
                    .await?;
            }
        }
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let (sums, customers) = if whole(&period) && subtree.is_none() {
                row_of(&period)
                    .and_then(|start| grouped.remove(&start))
                    .unwrap_or_default()
            } else {
                let terms =
                    if let (true, Some(t), Some(start)) = (whole(&period), tier, row_of(&period)) {
                        vec![Term {
                            tier: t,
                            first: start,
                            last: start,
                            sign: 1,
                        }]
                    } else {
                        self.terms(&mut tx, &BILLING, account_id, period).await?
                    };
                let per = self
                    .per_key(&mut tx, &BILLING, account_id, &terms, customer_id)
                    .await?;
                let mut sums = Sums::default();
                let mut customers = 0;
                for (id, s) in per {
                    if s[0] > 0 && subtree.as_ref().is_none_or(|ids| ids.contains(&id)) {
                        customers += 1;
                        for i in 0..4 {
                            sums[i] += s[i];
                        }
                    }
                }
                (sums, customers)
            };
            out.push(PeriodBilling {
                period,
                sums: billing_of(String::new(), &sums),
                customers_billed: customers,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Per period start of `tier` in `first..=last`: the sums of the customers billed, and how
    /// many they are.
    async fn grouped(
        &self,
        tx: &mut Transaction<'_, Any>,
        account_id: &str,
        tier: Tier,
        (first, last): (i64, i64),
        customer_id: Option<&str>,
    ) -> StoreResult<HashMap<i64, (Sums, i64)>> {
        let db = self.0;
        let sql = if customer_id.is_none() {
            "SELECT start, customers_billed AS customers, billed_calls AS b, \
             international_calls AS ic, international_micros AS im, recorded_calls AS r \
             FROM billing_totals WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?"
        } else {
            "SELECT start, CAST(COUNT(*) AS BIGINT) AS customers, \
             CAST(SUM(billed_calls) AS BIGINT) AS b, CAST(SUM(international_calls) AS BIGINT) AS ic, \
             CAST(SUM(international_micros) AS BIGINT) AS im, CAST(SUM(recorded_calls) AS BIGINT) AS r \
             FROM billing_rollup WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ? \
             AND billed_calls > 0 AND customer_id = ? GROUP BY start"
        };
        let sql = db.sql(sql).into_owned();
        let mut q = sqlx::query(&sql)
            .bind(account_id)
            .bind(tier.number())
            .bind(first)
            .bind(last);
        if let Some(c) = customer_id {
            q = q.bind(c);
        }
        let mut out = HashMap::new();
        for row in q.fetch_all(&mut **tx).await? {
            let sums = [
                row.try_get::<i64, _>("b")?,
                row.try_get::<i64, _>("ic")?,
                row.try_get::<i64, _>("im")?,
                row.try_get::<i64, _>("r")?,
            ];
            out.insert(row.try_get("start")?, (sums, row.try_get("customers")?));
        }
        Ok(out)
    }

    /// Usage per leaf category for each period of `range` (`All`: the whole range as one).
    pub async fn usage(
        &self,
        account_id: &str,
        range: DateRange,
        granularity: Granularity,
    ) -> StoreResult<Vec<PeriodUsage>> {
        let periods: Vec<DateRange> = match granularity {
            Granularity::All => vec![range],
            g => range.periods(g),
        };
        let tier = tier_of(granularity);
        let mut tx = self.snapshot().await?;
        // Whole periods: their rows, read in one scan.
        let mut whole: HashMap<i64, BTreeMap<String, UsageSums>> = HashMap::new();
        if let Some(t) = tier {
            let starts: Vec<i64> = periods
                .iter()
                .map(|p| span(*p))
                .filter(|(a, b)| t.start(*a) == *a && t.end(*a) == *b)
                .map(|(a, _)| a)
                .collect();
            if let (Some(first), Some(last)) = (starts.first(), starts.last()) {
                let db = self.0;
                let rows = sqlx::query(&db.sql(
                    "SELECT start, category, count, usage_micros, price_micros FROM usage_rollup \
                     WHERE account_id = ? AND tier = ? AND start BETWEEN ? AND ?",
                ))
                .bind(account_id)
                .bind(t.number())
                .bind(*first)
                .bind(*last)
                .fetch_all(&mut *tx)
                .await?;
                for r in rows {
                    let start: i64 = r.try_get("start")?;
                    if !starts.contains(&start) {
                        continue;
                    }
                    whole.entry(start).or_default().insert(
                        r.try_get("category")?,
                        UsageSums {
                            count: r.try_get("count")?,
                            usage_micros: r.try_get("usage_micros")?,
                            price_micros: r.try_get("price_micros")?,
                        },
                    );
                }
            }
        }
        let mut out = Vec::with_capacity(periods.len());
        for period in periods {
            let (a, b) = span(period);
            let is_whole = tier.is_some_and(|t| t.start(a) == a && t.end(a) == b);
            let leaves = if is_whole {
                whole.remove(&a).unwrap_or_default()
            } else {
                let terms = self.terms(&mut tx, &USAGE, account_id, period).await?;
                self.per_key(&mut tx, &USAGE, account_id, &terms, None)
                    .await?
                    .into_iter()
                    .map(|(k, s)| (k, usage_of(&s)))
                    .collect()
            };
            out.push(PeriodUsage { period, leaves });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The first and last day with billing data of an account (for benchmarks and the check).
    pub async fn billing_bounds(
        &self,
        account_id: &str,
    ) -> StoreResult<Option<(chrono::NaiveDate, chrono::NaiveDate)>> {
        let mut tx = self.snapshot().await?;
        let b = bounds_in(self.0, &mut tx, &BILLING, account_id).await?;
        tx.commit().await?;
        Ok(b.map(|(a, b)| (date_of_day(a), date_of_day(b))))
    }
}
