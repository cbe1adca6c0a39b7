//! ListUsageRecords (`GET /billing/usage`): usage by category, Twilio style, with the
//! categories and their nesting from core's usage model. SQL: [`crate::store::reads`].

use std::collections::BTreeMap;

use axum::extract::State;
use evo_billing_core::dto::{ListUsageRecords, Role, UsageRecordInfo};
use evo_billing_core::money::Micros;
use evo_billing_core::usage;
use evo_billing_core::validation::Validate;

use crate::http::call::{Bind, Caller};
use crate::http::error::ApiResult;
use crate::http::reply::Reply;
use crate::model::Account;
use crate::state::Ctx;
use crate::store::reads::PeriodUsage;

/// Usage records for a range (SystemAdministrator and Manager). The request is checked before
/// the role, so a malformed request is a 400 for everyone (docs/API.md: 400 before 403).
pub async fn list_usage_records(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<ListUsageRecords>,
) -> ApiResult<Reply<Vec<UsageRecordInfo>>> {
    let q = req.validate()?;
    p.require_role(&[Role::SystemAdministrator, Role::Manager])?;
    let account = p.account(&ctx.db, &q.account_id).await?;
    let periods = ctx
        .db
        .reads()
        .usage(&account.id, q.range, q.granularity)
        .await?;
    Ok(Reply(usage_records(&account, &periods)))
}

#[derive(Default, Clone, Copy)]
struct Sums {
    count: i64,
    usage: i64,
    price: i64,
}

/// Usage records: one per category (leaves, parents and totalprice) per period. With
/// `Granularity::All` the whole range is one period: the seed's shape.
pub fn usage_records(account: &Account, periods: &[PeriodUsage]) -> Vec<UsageRecordInfo> {
    let decimals = account.currency.decimals();
    let unit = account.currency.lower();
    let mut out = Vec::with_capacity(periods.len() * usage::CATEGORIES.len());
    for p in periods {
        let period = &p.period;
        let leaves: BTreeMap<&str, Sums> = p
            .leaves
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    Sums {
                        count: v.count,
                        usage: v.usage_micros,
                        price: v.price_micros,
                    },
                )
            })
            .collect();
        let mut all: BTreeMap<&str, Sums> = leaves.clone();
        for parent in usage::CATEGORIES.iter().filter(|c| !c.is_leaf()) {
            let mut s = Sums::default();
            for c in usage::children(parent.name) {
                if let Some(v) = leaves.get(c) {
                    s.count += v.count;
                    s.usage += v.usage;
                    s.price += v.price;
                }
            }
            all.insert(parent.name, s);
        }
        let total: i64 = leaves.values().map(|s| s.price).sum();
        all.insert(
            usage::TOTAL_PRICE,
            Sums {
                count: 0,
                usage: total,
                price: total,
            },
        );
        for c in usage::CATEGORIES {
            let category = c.name;
            let s = all.get(category).copied().unwrap_or_default();
            let (description, count_unit) = (c.description, c.count_unit);
            let usage_unit = c.usage_unit.map_or_else(|| unit.clone(), str::to_string);
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
                usage: Some(if category == usage::TOTAL_PRICE {
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
    use crate::store::reads::UsageSums;
    use evo_billing_core::aggregate::grand_total;
    use evo_billing_core::date_range::DateRange;
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
        let leaf = |count, usage_micros, price_micros| UsageSums {
            count,
            usage_micros,
            price_micros,
        };
        let period = |a: &str, b: &str, leaves: &[(&str, UsageSums)]| PeriodUsage {
            period: DateRange::parse(a, b).unwrap(),
            leaves: leaves.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let january = [
            ("calls-inbound", leaf(2, 3_000_000, 17_000)),
            ("calls-outbound", leaf(1, 5_000_000, 65_000)),
        ];
        let february = [
            ("sms-outbound", leaf(4, 4_000_000, 31_600)),
            ("phonenumbers-local", leaf(1, 1_000_000, 1_150_000)),
        ];
        let whole: Vec<_> = january.iter().chain(&february).cloned().collect();
        let all = usage_records(&account(), &[period("2026-01-30", "2026-02-02", &whole)]);
        assert_eq!(all.len(), usage::CATEGORIES.len());
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
        let monthly = usage_records(
            &account(),
            &[
                period("2026-01-30", "2026-01-31", &january),
                period("2026-02-01", "2026-02-02", &february),
            ],
        );
        assert_eq!(monthly.len(), 2 * usage::CATEGORIES.len());
        assert_eq!(monthly[0].start_date.as_deref(), Some("2026-01-30"));
        assert_eq!(monthly[0].end_date.as_deref(), Some("2026-01-31"));
    }
}
