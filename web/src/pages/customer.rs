//! One customer: its breadcrumb, its figures for the range (GetBilling with customerId), and its
//! trend over the last 13 months (GetBillingSeries by month with customerId).

use std::sync::Arc;

use chrono::Datelike;
use evo_billing_core::aggregate::billing_totals;
use evo_billing_core::client::{encode_component, ApiError};
use evo_billing_core::date_range::{DateRange, Granularity, Preset};
use evo_billing_core::dto::CustomerInfo;
use evo_billing_core::money::{Currency, Micros};
use leptos::prelude::*;

use crate::api;
use crate::app::{mark_painted, today_utc, use_session, use_view_state, Session};
use crate::components::charts::{Bar, BarChart};
use crate::components::error::LoadStatus;
use crate::components::fetch::fetch_on;
use crate::components::layout::{carried_href, range_label, Toolbar};
use crate::pages::{customers_of, money_text};

pub struct CustomerData {
    id: String,
    range: DateRange,
    currency: Option<Currency>,
    info: Option<CustomerInfo>,
    /// The ancestors, root first.
    ancestors: Vec<CustomerInfo>,
    children: Vec<CustomerInfo>,
    costs: Micros,
    recording: bool,
    billed: bool,
    /// Month, international costs, billed calls (GetBillingSeries).
    months: Vec<(DateRange, Micros, i64)>,
}

/// The 13 calendar months ending with today's.
fn thirteen_months(today: chrono::NaiveDate) -> Vec<DateRange> {
    let twelve = Preset::Last12Months.range(today);
    let before = twelve.start().pred_opt().unwrap_or(twelve.start());
    let start = Granularity::Monthly.period_of(before).start();
    DateRange::new(start, today)
        .map(|r| r.periods(Granularity::Monthly))
        .unwrap_or_default()
}

async fn load(
    session: Session,
    account: String,
    id: String,
    range: DateRange,
    today: chrono::NaiveDate,
) -> Result<CustomerData, ApiError> {
    let months = thirteen_months(today);
    let span = match (months.first(), months.last()) {
        (Some(a), Some(b)) => DateRange::new(a.start(), b.end()).unwrap_or(range),
        _ => range,
    };
    let (customers, now, trend) = futures::join!(
        customers_of(session, account.clone()),
        api::billing(&account, range, Some(&id)),
        api::series(&account, span, Granularity::Monthly, Some(&id)),
    );
    let customers = customers.unwrap_or_default();
    let now = now?;
    let trend = trend?;
    let known = session.accounts.with_untracked(|list| {
        list.iter()
            .find(|a| a.id == account)
            .and_then(|a| a.currency)
    });
    let currency = crate::pages::currency_or(known, trend.currency.as_deref());
    let month_figures = trend
        .periods
        .iter()
        .filter_map(|p| {
            let r = DateRange::parse(p.start_date.as_deref()?, p.end_date.as_deref()?).ok()?;
            Some((r, p.international_costs, p.billed_calls))
        })
        .collect();
    let info = customers
        .iter()
        .find(|c| c.id.as_deref() == Some(&id))
        .cloned();
    let mut ancestors = Vec::new();
    let mut parent = info.as_ref().and_then(|c| c.parent_id.clone());
    while let Some(p) = parent {
        match customers.iter().find(|c| c.id.as_deref() == Some(&p)) {
            Some(c) if ancestors.len() < 64 => {
                parent = c.parent_id.clone();
                ancestors.insert(0, c.clone());
            }
            _ => break,
        }
    }
    let children = customers
        .iter()
        .filter(|c| c.parent_id.as_deref() == Some(&id))
        .cloned()
        .collect();
    let totals = billing_totals(&now);
    Ok(CustomerData {
        id,
        range,
        currency,
        info,
        ancestors,
        children,
        costs: totals.international_costs,
        recording: totals.customers_with_recording > 0,
        billed: totals.customers_billed > 0,
        months: month_figures,
    })
}

#[component]
fn CustomerBody(data: Arc<CustomerData>) -> impl IntoView {
    let d = data;
    let state = use_view_state();
    let s = state.get_untracked();
    let cur = d.currency;
    let name = d
        .info
        .as_ref()
        .and_then(|c| c.name.clone())
        .unwrap_or_else(|| d.id.clone());
    let link = |c: &CustomerInfo| {
        let id = c.id.clone().unwrap_or_default();
        (
            carried_href(&format!("/app/customers/{}", encode_component(&id)), &s),
            c.name.clone().unwrap_or(id),
        )
    };
    let crumbs = d
        .ancestors
        .iter()
        .map(|c| {
            let (href, n) = link(c);
            view! { <li><a href=href>{n}</a></li> }
        })
        .collect_view();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let bars: Vec<Bar> = d
        .months
        .iter()
        .map(|(m, cost, _)| Bar {
            label: format!(
                "{} {}",
                MONTHS[m.start().month0() as usize],
                m.start().year()
            ),
            value: cost.0,
            value_text: money_text(*cost, cur),
            estimate: false,
        })
        .collect();
    let unit = match cur.map(|c| c.decimals()).unwrap_or(2) {
        0 => 1_000_000,
        3 => 1_000,
        _ => 10_000,
    };
    let ticks: crate::components::charts::TickFormat =
        Arc::new(move |v| crate::format::amount(Micros(v), cur.unwrap_or(Currency::USD)));
    let children = (!d.children.is_empty()).then(|| {
        let items = d
            .children
            .iter()
            .map(|c| {
                let (href, n) = link(c);
                view! { <li><a href=href>{n}</a></li> }
            })
            .collect_view();
        view! {
            <section class="panel" aria-labelledby="children-title">
                <h2 id="children-title">"Sub-customers"</h2>
                <ul class="links">{items}</ul>
            </section>
        }
    });
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumb">
            <ol>
                <li><a href=carried_href("/app/customers", &s)>"Customers"</a></li>
                {crumbs}
                <li aria-current="page">{name.clone()}</li>
            </ol>
        </nav>
        <h2 data-testid="customer-name">{name}</h2>
        <p class="mono">{d.id.clone()}</p>
        <div class="cards">
            <section class="card" data-testid="card-customer-international">
                <h3>"International costs"</h3>
                <p class="value" data-testid="value">{money_text(d.costs, cur)}</p>
                <p class="previous">{range_label(d.range)}</p>
            </section>
            <section class="card">
                <h3>"Call recording"</h3>
                <p class="value">{if d.recording { "Yes" } else { "No" }}</p>
                <p class="previous">
                    {if d.billed { "Billed calls in the range" } else { "No billed calls in the range" }}
                </p>
            </section>
        </div>
        <BarChart
            title="International costs by month (13 months)"
            bars=bars
            unit=unit
            tick_format=ticks
            columns=("Month".to_string(), "International costs".to_string())
        />
        {children}
    }
}

#[component]
pub fn CustomerPage(id: String) -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let (today, _) = today_utc();
    let data = fetch_on(
        move || {
            let s = state.get();
            Some((
                session.account_for(&s)?.id,
                id.clone(),
                s.range.resolve(today).ok()?,
            ))
        },
        move |(account, id, range)| load(session, account, id, range, today),
    );
    Effect::new(move |_| {
        if data.data.with(Option::is_some) && !data.loading.get() {
            mark_painted("customer");
        }
    });
    view! {
        <h1>"Customer"</h1>
        <Toolbar show_range=true />
        <LoadStatus loading=data.loading.into() error=data.error.into() what="the customer" />
        <div class="view" data-testid="customer" aria-busy=move || if data.loading.get() { "true" } else { "false" }>
            {move || data.data.get().map(|d| view! { <CustomerBody data=d /> })}
        </div>
    }
}
