//! GetBilling (`GET /billing`) and GetBillingSeries (`GET /billing/series`). SQL:
//! [`crate::store::reads`].

use axum::extract::State;
use evo_billing_core::dto::{
    BillingCustomerInfo, BillingInfo, BillingPeriod, BillingSeries, GetBilling, GetBillingSeries,
};
use evo_billing_core::money::Micros;
use evo_billing_core::validation::Validate;

use crate::http::call::{Bind, Caller};
use crate::http::error::ApiResult;
use crate::http::reply::Reply;
use crate::model::{Account, CustomerBilling};
use crate::state::Ctx;
use crate::store::reads::PeriodBilling;

/// Per-customer totals for a range (a Customer: its subtree only).
pub async fn get_billing(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<GetBilling>,
) -> ApiResult<Reply<BillingInfo>> {
    let q = req.validate()?;
    let account = p.account(&ctx.db, &q.account_id).await?;
    if let Some(c) = &q.customer_id {
        p.customer(&ctx.db, &account.id, c).await?;
    }
    let rows = ctx
        .db
        .reads()
        .billing(&account.id, q.range, q.customer_id.as_deref(), p.subtree())
        .await?;
    Ok(Reply(billing_info(&account, &rows)))
}

/// The account's (or one customer's) totals per day, week or month of a range.
pub async fn get_billing_series(
    State(ctx): State<Ctx>,
    Caller(p): Caller,
    Bind(req): Bind<GetBillingSeries>,
) -> ApiResult<Reply<BillingSeries>> {
    let q = req.validate()?;
    let account = p.account(&ctx.db, &q.account_id).await?;
    if let Some(c) = &q.customer_id {
        p.customer(&ctx.db, &account.id, c).await?;
    }
    let periods = ctx
        .db
        .reads()
        .series(
            &account.id,
            q.range,
            q.granularity,
            q.customer_id.as_deref(),
            p.subtree(),
        )
        .await?;
    Ok(Reply(billing_series(&account, q.granularity, &periods)))
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

fn billing_series(
    account: &Account,
    granularity: evo_billing_core::date_range::Granularity,
    periods: &[PeriodBilling],
) -> BillingSeries {
    let decimals = account.currency.decimals();
    BillingSeries {
        account_id: Some(account.id.clone()),
        currency: Some(account.currency.code().to_string()),
        granularity,
        periods: periods
            .iter()
            .map(|p| BillingPeriod {
                start_date: Some(p.period.start_text()),
                end_date: Some(p.period.end_text()),
                billed_calls: p.sums.billed_calls,
                international_calls: p.sums.international_calls,
                international_costs: Micros(p.sums.international_micros).round_to(decimals),
                recorded_calls: p.sums.recorded_calls,
                customers_billed: p.customers_billed,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evo_billing_core::money::Currency;

    #[test]
    fn billing_rounds_at_the_edge() {
        let account = Account {
            id: "a".into(),
            name: "A".into(),
            account_sid: "AC1".into(),
            home_country: "US".into(),
            currency: Currency::USD,
        };
        let rows = vec![CustomerBilling {
            customer_id: "c1".into(),
            billed_calls: 3,
            international_calls: 2,
            international_micros: 1_234_567,
            recorded_calls: 0,
        }];
        let info = billing_info(&account, &rows);
        assert_eq!(
            info.customers[0].international_costs,
            "1.23".parse().unwrap()
        );
        assert!(!info.customers[0].has_call_recording);
    }
}
