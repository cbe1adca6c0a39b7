//! The read side: GetBilling and ListUsageRecords answered from the daily roll-ups, so a year's
//! question reads ~365 rows per customer or category, never the raw calls.

use std::collections::BTreeMap;

use evo_billing_core::date_range::{DateRange, Granularity};
use evo_billing_core::dto::{BillingCustomerInfo, BillingInfo, UsageRecordInfo};
use evo_billing_core::money::Micros;
use sqlx::Row;

use crate::db::{date_of_day, day_number, int, Db};
use crate::model::Account;

/// One customer's billing sums over a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerBilling {
    pub customer_id: String,
    pub billed_calls: i64,
    pub international_calls: i64,
    pub international_micros: i64,
    pub recorded_calls: i64,
}

/// The leaf categories kept in `usage_daily`, and the roll-ups built from them.
pub const ROLLUPS: [(&str, &[&str]); 3] = [
    ("calls", &["calls-inbound", "calls-outbound"]),
    ("sms", &["sms-inbound", "sms-outbound"]),
    (
        "phonenumbers",
        &[
            "phonenumbers-local",
            "phonenumbers-mobile",
            "phonenumbers-tollfree",
        ],
    ),
];

/// Every category a usage answer lists, in order (Twilio's names).
pub const CATEGORIES: [&str; 12] = [
    "calls",
    "calls-inbound",
    "calls-outbound",
    "phonenumbers",
    "phonenumbers-local",
    "phonenumbers-mobile",
    "phonenumbers-tollfree",
    "recordings",
    "sms",
    "sms-inbound",
    "sms-outbound",
    "totalprice",
];

fn describe(category: &str) -> (&'static str, &'static str, &'static str) {
    // (description, countUnit, usageUnit)
    match category {
        "calls" => ("Voice Minutes", "calls", "minutes"),
        "calls-inbound" => ("Inbound Voice Minutes", "calls", "minutes"),
        "calls-outbound" => ("Outbound Voice Minutes", "calls", "minutes"),
        "recordings" => ("Voice Recordings", "recordings", "minutes"),
        "sms" => ("SMS Messages", "messages", "segments"),
        "sms-inbound" => ("Inbound SMS Messages", "messages", "segments"),
        "sms-outbound" => ("Outbound SMS Messages", "messages", "segments"),
        "phonenumbers" => ("Phone Numbers", "numbers", "numbers"),
        "phonenumbers-local" => ("Local Phone Numbers", "numbers", "numbers"),
        "phonenumbers-mobile" => ("Mobile Phone Numbers", "numbers", "numbers"),
        "phonenumbers-tollfree" => ("Toll-free Phone Numbers", "numbers", "numbers"),
        "totalprice" => ("Total Price", "", ""),
        _ => ("", "", ""),
    }
}

impl Db {
    /// Billing sums per customer of an account over `range`: all customers, one customer, or a
    /// subtree (path prefix). Only customers with billed calls in the range are returned.
    pub async fn billing(
        &self,
        account_id: &str,
        range: DateRange,
        customer_id: Option<&str>,
        subtree_path: Option<&str>,
    ) -> Result<Vec<CustomerBilling>, sqlx::Error> {
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
        let sql = self.sql(&sql).into_owned();
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
        let rows = q.fetch_all(&self.pool).await?;
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

    /// Daily usage rows of an account over `range`: (day, category, count, usage, price).
    pub async fn usage_days(
        &self,
        account_id: &str,
        range: DateRange,
    ) -> Result<Vec<(i64, String, i64, i64, i64)>, sqlx::Error> {
        let rows = sqlx::query(&self.sql(
            "SELECT day, category, count, usage_micros, price_micros FROM usage_daily \
             WHERE account_id = ? AND day BETWEEN ? AND ? ORDER BY day, category",
        ))
        .bind(account_id)
        .bind(day_number(range.start()))
        .bind(day_number(range.end()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    int(r, "day")?,
                    r.try_get("category")?,
                    int(r, "count")?,
                    int(r, "usage_micros")?,
                    int(r, "price_micros")?,
                ))
            })
            .collect()
    }
}

/// BillingInfo from the sums, amounts rounded to the account currency's precision here, at the
/// edge, once.
pub fn billing_info(account: &Account, rows: &[CustomerBilling]) -> BillingInfo {
    let decimals = account.currency.decimals();
    BillingInfo {
        customers: rows
            .iter()
            .map(|r| BillingCustomerInfo {
                customer_id: Some(r.customer_id.clone()),
                international_costs: Micros(r.international_micros).round_to(decimals),
                has_call_recording: r.recorded_calls > 0,
            })
            .collect(),
    }
}

#[derive(Default, Clone, Copy)]
struct Sums {
    count: i64,
    usage: i64,
    price: i64,
}

/// Usage records: one per category (leaves, roll-ups and totalprice) per period. With
/// `Granularity::All` the whole range is one period: the seed's shape.
pub fn usage_records(
    account: &Account,
    range: DateRange,
    granularity: Granularity,
    days: &[(i64, String, i64, i64, i64)],
) -> Vec<UsageRecordInfo> {
    let periods: Vec<DateRange> = if granularity == Granularity::All {
        vec![range]
    } else {
        range.periods(granularity)
    };
    // period index → category → sums
    let mut cells: Vec<BTreeMap<&str, Sums>> = vec![BTreeMap::new(); periods.len()];
    for (day, category, count, usage, price) in days {
        let date = date_of_day(*day);
        let Some(i) = periods.iter().position(|p| p.contains(date)) else {
            continue;
        };
        let s = cells[i].entry(category.as_str()).or_default();
        s.count += count;
        s.usage += usage;
        s.price += price;
    }
    let decimals = account.currency.decimals();
    let unit = account.currency.lower();
    let mut out = Vec::with_capacity(periods.len() * CATEGORIES.len());
    for (period, leaves) in periods.iter().zip(cells) {
        let mut all: BTreeMap<&str, Sums> = leaves.clone();
        for (parent, children) in ROLLUPS {
            let mut s = Sums::default();
            for c in children {
                if let Some(v) = leaves.get(c) {
                    s.count += v.count;
                    s.usage += v.usage;
                    s.price += v.price;
                }
            }
            all.insert(parent, s);
        }
        let total: i64 = leaves.values().map(|s| s.price).sum();
        all.insert(
            "totalprice",
            Sums {
                count: 0,
                usage: total,
                price: total,
            },
        );
        for category in CATEGORIES {
            let s = all.get(category).copied().unwrap_or_default();
            let (description, count_unit, usage_unit) = describe(category);
            let usage_unit = if category == "totalprice" {
                unit.clone()
            } else {
                usage_unit.to_string()
            };
            out.push(UsageRecordInfo {
                account_sid: Some(account.account_sid.clone()),
                category: Some(category.to_string()),
                count: s.count,
                count_unit: Some(count_unit.to_string()).filter(|u| !u.is_empty()),
                description: Some(description.to_string()),
                end_date: Some(period.end_text()),
                price: Micros(s.price).round_to(decimals),
                price_unit: Some(unit.clone()),
                start_date: Some(period.start_text()),
                usage: Some(if category == "totalprice" {
                    Micros(s.usage).round_to(decimals).to_string()
                } else {
                    Micros(s.usage).to_string()
                }),
                usage_unit: Some(usage_unit),
                uri: Some(format!(
                    "/2010-04-01/Accounts/{}/Usage/Records.json?Category={category}&StartDate={}&EndDate={}",
                    account.account_sid,
                    period.start_text(),
                    period.end_text()
                )),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use evo_billing_core::aggregate::grand_total;
    use evo_billing_core::money::Currency;

    fn account() -> Account {
        Account {
            id: "a".into(),
            name: "A".into(),
            account_sid: "AC1".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        }
    }

    #[test]
    fn usage_records_roll_up_without_double_counting() {
        let range = DateRange::parse("2026-01-30", "2026-02-02").unwrap();
        let d = |s: &str| day_number(evo_billing_core::date_range::parse_api_date(s).unwrap());
        let days = vec![
            (
                d("2026-01-30"),
                "calls-inbound".to_string(),
                2,
                3_000_000,
                17_000,
            ),
            (
                d("2026-01-31"),
                "calls-outbound".to_string(),
                1,
                5_000_000,
                65_000,
            ),
            (
                d("2026-02-01"),
                "sms-outbound".to_string(),
                4,
                4_000_000,
                31_600,
            ),
            (
                d("2026-02-02"),
                "phonenumbers-local".to_string(),
                1,
                1_000_000,
                1_150_000,
            ),
        ];
        let all = usage_records(&account(), range, Granularity::All, &days);
        assert_eq!(all.len(), CATEGORIES.len());
        let get = |c: &str| {
            all.iter()
                .find(|r| r.category.as_deref() == Some(c))
                .unwrap()
        };
        assert_eq!(get("calls").count, 3);
        assert_eq!(get("calls").usage.as_deref(), Some("8"));
        assert_eq!(get("calls").price, "0.08".parse().unwrap()); // 0.082 rounded at the edge
        assert_eq!(get("totalprice").price, "1.26".parse().unwrap()); // 1.2636
        assert_eq!(get("totalprice").price_unit.as_deref(), Some("usd"));
        assert_eq!(grand_total(&all), get("totalprice").price);
        let monthly = usage_records(&account(), range, Granularity::Monthly, &days);
        assert_eq!(monthly.len(), 2 * CATEGORIES.len());
        assert_eq!(monthly[0].start_date.as_deref(), Some("2026-01-30"));
        assert_eq!(monthly[0].end_date.as_deref(), Some("2026-01-31"));
    }

    #[test]
    fn billing_rounds_at_the_edge() {
        let rows = vec![CustomerBilling {
            customer_id: "c1".into(),
            billed_calls: 3,
            international_calls: 2,
            international_micros: 1_234_567,
            recorded_calls: 0,
        }];
        let info = billing_info(&account(), &rows);
        assert_eq!(
            info.customers[0].international_costs,
            "1.23".parse().unwrap()
        );
        assert!(!info.customers[0].has_call_recording);
    }
}
