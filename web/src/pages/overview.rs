//! The overview: headline cards beside the previous period of equal length, cost over time,
//! usage by category, top customers by international cost, and (for a range that includes
//! today) the month-end estimate.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use evo_billing_core::aggregate::{billing_totals, top_customers, BillingTotals, UsageSummary};
use evo_billing_core::client::ApiError;
use evo_billing_core::date_range::{DateRange, Granularity, Preset};
use evo_billing_core::dto::{BillingInfo, BillingSeries};
use evo_billing_core::money::{Currency, Micros};
use leptos::prelude::*;

use crate::api;
use crate::app::{mark_painted, today_utc, use_session, use_view_state, Session};
use crate::components::charts::{Bar, BarChart, Row, RowChart, TickFormat};
use crate::components::error::LoadStatus;
use crate::components::fetch::fetch_on;
use crate::components::layout::{carried_href, range_label, Toolbar};
use crate::format::{change, count, group_digits, share};
use crate::pages::{currency_or, customers_of, money_text};
use crate::projection::{self, Projection};
use crate::query::chart_granularity;

#[derive(Clone, PartialEq)]
struct Key {
    account: String,
    range: DateRange,
    usage: bool,
    today: NaiveDate,
}

/// Everything the overview shows for one account and range.
pub struct OverviewData {
    account: String,
    currency: Option<Currency>,
    range: DateRange,
    previous: DateRange,
    granularity: Granularity,
    billing: BillingInfo,
    totals: BillingTotals,
    totals_previous: BillingTotals,
    /// ListUsageRecords (SystemAdministrator, Manager): by period for the range.
    usage: Option<UsageSummary>,
    usage_previous: Option<UsageSummary>,
    usage_periods: Option<UsageSummary>,
    /// GetBillingSeries (when the server has it), for the Customer role's chart.
    series: Option<BillingSeries>,
    names: HashMap<String, (String, String)>,
    projection: Option<(Projection, &'static str)>,
}

fn optional<T>(r: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if crate::pages::not_offered(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn load(session: Session, key: Key) -> Result<OverviewData, ApiError> {
    let Key {
        account,
        range,
        usage,
        today,
    } = key;
    let previous = range.previous();
    let granularity = chart_granularity(range);
    let month = Preset::ThisMonth.range(today);
    // The whole range (the API's figures, each rounded once) for the cards, and by period for
    // the chart: the sum of rounded days can differ from the rounded range by a cent.
    let usage_now = async {
        if usage {
            api::usage(&account, range, Granularity::All)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let usage_periods = async {
        if usage {
            api::usage(&account, range, granularity).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let usage_before = async {
        if usage {
            api::usage(&account, previous, Granularity::All)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    // The estimate: the month so far, and the cost of the last 7 full days as the daily rate
    // (usage-driven cost only: monthly number charges are billed once, on the 1st).
    let window = projection::rate_window(today);
    let estimate_inputs = async {
        if !projection::applies(range, today) {
            return Ok(None);
        }
        if usage {
            let (mtd, recent) = futures::join!(
                async {
                    if month == range {
                        Ok(None)
                    } else {
                        api::usage(&account, month, Granularity::All)
                            .await
                            .map(Some)
                    }
                },
                api::usage(&account, window, Granularity::All)
            );
            let recent = recent?;
            let monthly_charges = recent
                .categories
                .iter()
                .find(|c| c.category == "phonenumbers")
                .map(|c| c.price)
                .unwrap_or_default();
            Ok(Some((
                mtd?.map(|u| u.total_price),
                recent.total_price - monthly_charges,
                "total price",
            )))
        } else {
            let (mtd, recent) = futures::join!(
                async {
                    if month == range {
                        Ok(None)
                    } else {
                        api::billing(&account, month, None).await.map(Some)
                    }
                },
                api::billing(&account, window, None)
            );
            Ok(Some((
                mtd?.map(|b| billing_totals(&b).international_costs),
                billing_totals(&recent?).international_costs,
                "international costs",
            )))
        }
    };
    let series = async {
        if usage {
            Ok(None)
        } else {
            optional(api::series(&account, range, granularity, None).await)
        }
    };
    let (billing, billing_before, usage_now, usage_periods, usage_before, mtd, series, customers) = futures::join!(
        api::billing(&account, range, None),
        api::billing(&account, previous, None),
        usage_now,
        usage_periods,
        usage_before,
        estimate_inputs,
        series,
        customers_of(session, account.clone()),
    );
    let billing = billing?;
    let totals = billing_totals(&billing);
    let totals_previous = billing_totals(&billing_before?);
    let usage_now = usage_now?;
    let usage_periods = usage_periods?;
    let usage_previous = usage_before?;
    let series = series?;
    let (_, secs) = today_utc();
    let projection = match mtd? {
        Some((month_to_date, recent, of)) => {
            let month_to_date = month_to_date.unwrap_or(match &usage_now {
                Some(u) => u.total_price,
                None => totals.international_costs,
            });
            Some((
                projection::month_end(today, secs, month_to_date, recent, window.days()),
                of,
            ))
        }
        None => None,
    };
    let names = customers
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    let id = c.id.clone()?;
                    let name = c.name.clone().unwrap_or_else(|| id.clone());
                    let crumb = c.breadcrumb.clone().unwrap_or_else(|| name.clone());
                    Some((id, (name, crumb)))
                })
                .collect()
        })
        .unwrap_or_default();
    let known = session.account_for(&crate::query::ViewState {
        account: Some(account.clone()),
        ..Default::default()
    });
    let currency = currency_or(
        known.and_then(|a| a.currency),
        usage_now
            .as_ref()
            .and_then(|u| u.categories.iter().find_map(|c| c.price_unit.as_deref()))
            .or(series.as_ref().and_then(|s| s.currency.as_deref())),
    );
    Ok(OverviewData {
        account,
        currency,
        range,
        previous,
        granularity,
        billing,
        totals,
        totals_previous,
        usage: usage_now,
        usage_previous,
        usage_periods,
        series,
        names,
        projection,
    })
}

fn period_label(start: &str, granularity: Granularity) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match evo_billing_core::date_range::parse_api_date(start) {
        Ok(d) => match granularity {
            Granularity::Monthly => format!("{} {}", MONTHS[d.month0() as usize], d.year()),
            _ => format!("{} {}", d.day(), MONTHS[d.month0() as usize]),
        },
        Err(_) => start.to_string(),
    }
}

/// The sums of one category in a summary: count, usage (exact, as a number and as core wrote
/// it), price.
fn category(summary: &UsageSummary, name: &str) -> (i64, Micros, String, Micros) {
    summary
        .categories
        .iter()
        .find(|c| c.category == name)
        .map(|c| {
            (
                c.count,
                c.usage.parse().unwrap_or_default(),
                c.usage.clone(),
                c.price,
            )
        })
        .unwrap_or_else(|| (0, Micros::ZERO, "0".into(), Micros::ZERO))
}

struct Card {
    id: &'static str,
    title: &'static str,
    now: i64,
    before: i64,
    now_text: String,
    before_text: String,
}

#[component]
fn Cards(cards: Vec<Card>, previous: DateRange) -> impl IntoView {
    let before = range_label(previous);
    cards
        .into_iter()
        .map(|c| {
            let ch = change(c.now, c.before);
            let arrow = match ch.direction {
                1 => "▲",
                -1 => "▼",
                _ => "■",
            };
            let class = match ch.direction {
                1 => "change up",
                -1 => "change down",
                _ => "change same",
            };
            view! {
                <section class="card" data-testid=format!("card-{}", c.id) aria-labelledby=format!("card-{}-title", c.id)>
                    <h3 id=format!("card-{}-title", c.id)>{c.title}</h3>
                    <p class="value" data-testid="value">{c.now_text}</p>
                    <p class="previous">
                        <span class="visually-hidden">"Previous period, "</span>
                        <span title=before.clone()>"before: "</span>
                        <span data-testid="previous">{c.before_text}</span>
                    </p>
                    <p class=class data-testid="change">
                        <span aria-hidden="true">{arrow}" "</span>
                        {ch.text}
                    </p>
                </section>
            }
        })
        .collect_view()
}

fn money_ticks(currency: Option<Currency>) -> TickFormat {
    Arc::new(move |v: i64| {
        let c = currency.unwrap_or(Currency::USD);
        crate::format::amount(Micros(v), c)
    })
}

#[component]
fn OverviewBody(data: Arc<OverviewData>) -> impl IntoView {
    let d = data;
    let cur = d.currency;
    let money = move |m: Micros| money_text(m, cur);
    let mut cards = vec![
        Card {
            id: "international",
            title: "International costs",
            now: d.totals.international_costs.0,
            before: d.totals_previous.international_costs.0,
            now_text: money(d.totals.international_costs),
            before_text: money(d.totals_previous.international_costs),
        },
        Card {
            id: "customers-billed",
            title: "Customers billed",
            now: i64::from(d.totals.customers_billed),
            before: i64::from(d.totals_previous.customers_billed),
            now_text: count(i64::from(d.totals.customers_billed)),
            before_text: count(i64::from(d.totals_previous.customers_billed)),
        },
        Card {
            id: "customers-recording",
            title: "Customers with recording",
            now: i64::from(d.totals.customers_with_recording),
            before: i64::from(d.totals_previous.customers_with_recording),
            now_text: count(i64::from(d.totals.customers_with_recording)),
            before_text: count(i64::from(d.totals_previous.customers_with_recording)),
        },
    ];
    if let (Some(u), Some(p)) = (&d.usage, &d.usage_previous) {
        let (calls, minutes, minutes_text, _) = category(u, "calls");
        let (calls_p, minutes_p, minutes_text_p, _) = category(p, "calls");
        cards.push(Card {
            id: "calls",
            title: "Calls",
            now: calls,
            before: calls_p,
            now_text: count(calls),
            before_text: count(calls_p),
        });
        cards.push(Card {
            id: "minutes",
            title: "Minutes",
            now: minutes.0,
            before: minutes_p.0,
            now_text: group_digits(&minutes_text),
            before_text: group_digits(&minutes_text_p),
        });
        cards.push(Card {
            id: "total-price",
            title: "Total price",
            now: u.total_price.0,
            before: p.total_price.0,
            now_text: money(u.total_price),
            before_text: money(p.total_price),
        });
    }
    let empty = d.billing.customers.is_empty()
        && d.usage
            .as_ref()
            .is_none_or(|u| u.total_price.is_zero() && category(u, "calls").0 == 0);

    // Cost over time: total price per period (usage), or international costs per period
    // (series) for the Customer role.
    let (over_time_title, bars): (String, Vec<Bar>) = if let Some(u) = &d.usage_periods {
        (
            format!(
                "Total price by {}",
                if d.granularity == Granularity::Monthly {
                    "month"
                } else {
                    "day"
                }
            ),
            u.periods
                .iter()
                .map(|p| Bar {
                    label: period_label(p.period_start.as_deref().unwrap_or(""), d.granularity),
                    value: p.total_price.0,
                    value_text: money(p.total_price),
                    estimate: false,
                })
                .collect(),
        )
    } else if let Some(s) = &d.series {
        (
            format!(
                "International costs by {}",
                if d.granularity == Granularity::Monthly {
                    "month"
                } else {
                    "day"
                }
            ),
            s.periods
                .iter()
                .map(|p| Bar {
                    label: period_label(p.start_date.as_deref().unwrap_or(""), d.granularity),
                    value: p.international_costs.0,
                    value_text: money(p.international_costs),
                    estimate: false,
                })
                .collect(),
        )
    } else {
        (String::new(), Vec::new())
    };
    let category_rows: Vec<Row> = d
        .usage
        .as_ref()
        .map(|u| {
            evo_billing_core::usage::CATEGORIES
                .iter()
                .filter(|c| c.parent.is_none() && c.name != evo_billing_core::usage::TOTAL_PRICE)
                .map(|c| {
                    let (_, _, _, price) = category(u, c.name);
                    Row {
                        label: c.description.to_string(),
                        value: price.0,
                        value_text: money(price),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let top = top_customers(&d.billing, 10);
    let total_intl = d.totals.international_costs.0;
    let state = use_view_state();
    let top_rows = top
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let id = c.customer_id.clone().unwrap_or_default();
            let (name, crumb) = d
                .names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| (id.clone(), String::new()));
            let href = carried_href(
                &format!(
                    "/app/customers/{}",
                    evo_billing_core::client::encode_component(&id)
                ),
                &state.get_untracked(),
            );
            view! {
                <tr>
                    <td class="num col-rank">{i + 1}</td>
                    <th scope="row">
                        <a href=href>{name}</a>
                        <span class="crumb">{crumb}</span>
                    </th>
                    <td class="num" data-testid="top-cost">{money(c.international_costs)}</td>
                    <td class="num">{share(c.international_costs.0, total_intl)}</td>
                </tr>
            }
        })
        .collect_view();
    let projection = d.projection.clone().map(|(p, of)| {
        let month_end = crate::components::layout::day_label(p.month.end());
        view! {
            <section class="card estimate" data-testid="projection" aria-labelledby="projection-title">
                <h3 id="projection-title">"Month-end estimate"</h3>
                <p class="value">
                    <span class="badge">"Estimate"</span>
                    " "
                    <span data-testid="value">{money(p.projected)}</span>
                </p>
                <p class="previous">
                    {format!(
                        "{of} by {month_end}: {} so far this month, plus {} a day (the average of the last 7 full days, monthly charges left out) for the {} days and {} hours left.",
                        money(p.month_to_date),
                        money(p.daily_rate),
                        p.days_left(),
                        p.hours_left(),
                    )}
                </p>
            </section>
        }
    });
    let unit = match cur.map(|c| c.decimals()).unwrap_or(2) {
        0 => 1_000_000,
        3 => 1_000,
        _ => 10_000,
    };
    let account = d.account.clone();
    let range = d.range;
    view! {
        {empty
            .then(|| {
                view! {
                    <p class="notice empty" data-testid="empty">
                        {format!("No billed calls and no usage in {} for this account.", range_label(range))}
                    </p>
                }
            })}
        <h2 class="compare">
            {format!("{} · each figure beside the previous {} days ({})", range_label(range), range.days(), range_label(d.previous))}
        </h2>
        <div class="cards" data-testid="cards" data-account=account>
            <Cards cards=cards previous=d.previous />
            {projection}
        </div>
        <div class="charts">
            {(!bars.is_empty())
                .then(|| {
                    view! {
                        <BarChart
                            title=over_time_title
                            bars=bars
                            unit=unit
                            tick_format=money_ticks(cur)
                            columns=("Period".to_string(), "Amount".to_string())
                        />
                    }
                })}
            {(!category_rows.is_empty())
                .then(|| view! { <RowChart title="Price by category" rows=category_rows /> })}
        </div>
        <section class="panel" aria-labelledby="top-title">
            <h2 id="top-title">"Top customers by international cost"</h2>
            {if d.billing.customers.is_empty() {
                view! { <p class="notice empty">"No customer had billed calls in this range."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="top-title">
                        <table data-testid="top-customers">
                            <thead>
                                <tr>
                                    <th scope="col" class="num col-rank">"#"</th>
                                    <th scope="col">"Customer"</th>
                                    <th scope="col" class="num">"International costs"</th>
                                    <th scope="col" class="num">"Share"</th>
                                </tr>
                            </thead>
                            <tbody>{top_rows}</tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
pub fn Overview() -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let (today, _) = today_utc();
    let range_error = move || state.get().range.resolve(today).err();
    let data = fetch_on(
        move || {
            let s = state.get();
            let account = session.account_for(&s)?.id;
            let range = s.range.resolve(today).ok()?;
            Some(Key {
                account,
                range,
                usage: session.can_see_usage(),
                today,
            })
        },
        move |key| load(session, key),
    );
    Effect::new(move |_| {
        if data.data.with(Option::is_some) && !data.loading.get() {
            mark_painted("overview");
        }
    });
    view! {
        <h1>"Overview"</h1>
        <Toolbar show_range=true />
        {move || range_error().map(|e| view! { <p class="notice error" role="alert">{e}</p> })}
        <LoadStatus loading=data.loading.into() error=data.error.into() what="the overview" />
        <div
            class="view"
            data-testid="overview"
            aria-busy=move || if data.loading.get() { "true" } else { "false" }
        >
            {move || data.data.get().map(|d| view! { <OverviewBody data=d /> })}
        </div>
    }
}
