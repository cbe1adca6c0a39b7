//! Usage by category (SystemAdministrator and Manager): the category hierarchy (calls ⊇
//! calls-inbound…) for the range, and per day, week or month, as a table and a chart. Totals are
//! core's, which never add a category to one that contains it.

use std::sync::Arc;

use chrono::Datelike;
use evo_billing_core::aggregate::{CategoryUsage, PeriodUsage, UsageSummary};
use evo_billing_core::client::ApiError;
use evo_billing_core::date_range::{DateRange, Granularity};
use evo_billing_core::money::{Currency, Micros};
use evo_billing_core::usage::{Category, CATEGORIES, TOTAL_PRICE};
use leptos::prelude::*;

use crate::api;
use crate::app::{mark_painted, today_utc, use_session, use_set_view_state, use_view_state};
use crate::components::charts::{Bar, BarChart, TickFormat};
use crate::components::error::LoadStatus;
use crate::components::export::ExportCsv;
use crate::components::fetch::fetch_on;
use crate::components::layout::Toolbar;
use crate::format::{count, group_digits};
use crate::pages::{currency_or, money_text};
use crate::query::chart_granularity;

pub struct UsageData {
    account: String,
    range: DateRange,
    granularity: Granularity,
    currency: Option<Currency>,
    /// The whole range: the API's figures per category, each rounded once.
    summary: UsageSummary,
    /// By period (each period's figures rounded on their own).
    periods: UsageSummary,
}

/// Parents first, each followed by its children (the model's order), `totalprice` last.
fn hierarchy() -> Vec<&'static Category> {
    let mut out = Vec::new();
    for top in CATEGORIES
        .iter()
        .filter(|c| c.parent.is_none() && c.name != TOTAL_PRICE)
    {
        out.push(top);
        out.extend(CATEGORIES.iter().filter(|c| c.parent == Some(top.name)));
    }
    out
}

fn find<'a>(cats: &'a [CategoryUsage], name: &str) -> Option<&'a CategoryUsage> {
    cats.iter().find(|c| c.category == name)
}

fn period_name(p: &PeriodUsage, g: Granularity) -> String {
    let text = p.period_start.clone().unwrap_or_default();
    match (g, evo_billing_core::date_range::parse_api_date(&text)) {
        (Granularity::Monthly, Ok(d)) => format!("{:04}-{:02}", d.year(), d.month()),
        (Granularity::Weekly, Ok(_)) => format!("week of {text}"),
        _ => text,
    }
}

const PERIOD_COLUMNS: [(&str, &str); 4] = [
    ("calls", "Calls"),
    ("sms", "SMS"),
    ("phonenumbers", "Numbers"),
    ("recordings", "Recordings"),
];

fn period_csv(d: &UsageData) -> String {
    use crate::components::export::{amount_cell, table_csv};
    use serde_json::Value;
    let decimals = d.currency.map(|c| c.decimals()).unwrap_or(2);
    table_csv(
        &[
            "periodStart",
            "calls",
            "callMinutes",
            "smsMessages",
            "phoneNumbers",
            "recordings",
            "totalPrice",
        ],
        d.periods.periods.iter().map(|p| {
            let c = |n: &str| Value::from(find(&p.categories, n).map(|c| c.count).unwrap_or(0));
            vec![
                Value::from(p.period_start.clone().unwrap_or_default()),
                c("calls"),
                Value::from(
                    find(&p.categories, "calls")
                        .map(|c| c.usage.clone())
                        .unwrap_or_else(|| "0".into()),
                ),
                c("sms"),
                c("phonenumbers"),
                c("recordings"),
                amount_cell(p.total_price, decimals),
            ]
        }),
    )
}

#[component]
fn UsageBody(data: Arc<UsageData>) -> impl IntoView {
    let d = data;
    let cur = d.currency;
    let cats = hierarchy()
        .into_iter()
        .map(|c| {
            let u = find(&d.summary.categories, c.name);
            let child = c.parent.is_some();
            view! {
                <tr class:child=child data-category=c.name>
                    <th scope="row" class=if child { "name indent-1" } else { "name" }>
                        {child.then(|| view! { <span class="tree-mark" aria-hidden="true">"└ "</span> })}
                        {c.description}
                        " "
                        <span class="mono crumb">{c.name}</span>
                    </th>
                    <td class="num">{count(u.map(|u| u.count).unwrap_or(0))} " " {c.count_unit}</td>
                    <td class="num">
                        {group_digits(u.map(|u| u.usage.as_str()).unwrap_or("0"))}
                        " "
                        {c.usage_unit.unwrap_or("")}
                    </td>
                    <td class="num" data-testid="price">{money_text(u.map(|u| u.price).unwrap_or_default(), cur)}</td>
                </tr>
            }
        })
        .collect_view();
    let g = d.granularity;
    let periods = d
        .periods
        .periods
        .iter()
        .map(|p| {
            let cells = PERIOD_COLUMNS
                .iter()
                .map(|(n, _)| {
                    let c = find(&p.categories, n);
                    let text = if *n == "calls" {
                        format!(
                            "{} ({} min)",
                            count(c.map(|c| c.count).unwrap_or(0)),
                            group_digits(c.map(|c| c.usage.as_str()).unwrap_or("0"))
                        )
                    } else {
                        count(c.map(|c| c.count).unwrap_or(0))
                    };
                    view! { <td class="num">{text}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row">{period_name(p, g)}</th>
                    {cells}
                    <td class="num">{money_text(p.total_price, cur)}</td>
                </tr>
            }
        })
        .collect_view();
    let bars: Vec<Bar> = d
        .periods
        .periods
        .iter()
        .map(|p| Bar {
            label: period_name(p, g).replace("week of ", ""),
            value: p.total_price.0,
            value_text: money_text(p.total_price, cur),
            estimate: false,
        })
        .collect();
    let unit = match cur.map(|c| c.decimals()).unwrap_or(2) {
        0 => 1_000_000,
        3 => 1_000,
        _ => 10_000,
    };
    let ticks: TickFormat =
        Arc::new(move |v| crate::format::amount(Micros(v), cur.unwrap_or(Currency::USD)));
    let by = match g {
        Granularity::Monthly => "month",
        Granularity::Weekly => "week",
        _ => "day",
    };
    let unreadable = d.summary.unreadable_usage;
    let export_cats = {
        let d = d.clone();
        move || {
            let decimals = d.currency.map(|c| c.decimals()).unwrap_or(2);
            use crate::components::export::{amount_cell, table_csv};
            use serde_json::Value;
            Some(table_csv(
                &[
                    "category",
                    "parent",
                    "description",
                    "count",
                    "countUnit",
                    "usage",
                    "usageUnit",
                    "price",
                ],
                hierarchy().into_iter().map(|c| {
                    let u = find(&d.summary.categories, c.name);
                    vec![
                        Value::from(c.name),
                        Value::from(c.parent.unwrap_or("")),
                        Value::from(c.description),
                        Value::from(u.map(|u| u.count).unwrap_or(0)),
                        Value::from(c.count_unit),
                        Value::from(u.map(|u| u.usage.as_str()).unwrap_or("0")),
                        Value::from(c.usage_unit.unwrap_or("")),
                        amount_cell(u.map(|u| u.price).unwrap_or_default(), decimals),
                    ]
                }),
            ))
        }
    };
    let export_periods = {
        let d = d.clone();
        move || Some(period_csv(&d))
    };
    let name_cats = format!("usage-categories-{}-{}.csv", d.account, d.range);
    let name_periods = format!("usage-by-{by}-{}-{}.csv", d.account, d.range);
    view! {
        {(unreadable > 0).then(|| view! {
            <p class="notice">{format!("{unreadable} usage records had an unreadable quantity and count as 0.")}</p>
        })}
        <section class="panel" aria-labelledby="cats-title">
            <div class="panel-head">
                <h2 id="cats-title">"By category"</h2>
                <ExportCsv file_name=name_cats make_csv=export_cats />
            </div>
            <p class="hint">"A category includes the ones indented below it; the total counts each call, message and number once."</p>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="cats-title">
                <table data-testid="usage-categories">
                    <thead>
                        <tr>
                            <th scope="col">"Category"</th>
                            <th scope="col" class="num">"Count"</th>
                            <th scope="col" class="num">"Usage"</th>
                            <th scope="col" class="num">"Price"</th>
                        </tr>
                    </thead>
                    <tbody>{cats}</tbody>
                    <tfoot>
                        <tr>
                            <th scope="row">"Total price"</th>
                            <td></td>
                            <td></td>
                            <td class="num" data-testid="usage-total">{money_text(d.summary.total_price, cur)}</td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </section>
        <BarChart
            title=format!("Total price by {by}")
            bars=bars
            unit=unit
            tick_format=ticks
            columns=("Period".to_string(), "Total price".to_string())
        />
        <section class="panel" aria-labelledby="periods-title">
            <div class="panel-head">
                <h2 id="periods-title">{format!("By {by}")}</h2>
                <ExportCsv file_name=name_periods make_csv=export_periods />
            </div>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="periods-title">
                <table data-testid="usage-periods">
                    <thead>
                        <tr>
                            <th scope="col">"Period"</th>
                            {PERIOD_COLUMNS.iter().map(|(_, l)| view! { <th scope="col" class="num">{*l}</th> }).collect_view()}
                            <th scope="col" class="num">"Total price"</th>
                        </tr>
                    </thead>
                    <tbody>{periods}</tbody>
                </table>
            </div>
        </section>
    }
}

#[component]
pub fn Usage() -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let set_state = use_set_view_state();
    let (today, _) = today_utc();
    let allowed = move || session.can_see_usage();
    let data = fetch_on(
        move || {
            if !allowed() {
                return None;
            }
            let s = state.get();
            let account = session.account_for(&s)?;
            let range = s.range.resolve(today).ok()?;
            let g = s.granularity.unwrap_or_else(|| chart_granularity(range));
            Some((account.id, range, g))
        },
        move |(account, range, g)| async move {
            let (summary, periods) = futures::join!(
                api::usage(&account, range, Granularity::All),
                api::usage(&account, range, g)
            );
            let (summary, periods) = (summary?, periods?);
            let known = session.accounts.with_untracked(|list| {
                list.iter()
                    .find(|a| a.id == account)
                    .and_then(|a| a.currency)
            });
            let currency = currency_or(
                known,
                summary
                    .categories
                    .iter()
                    .find_map(|c| c.price_unit.as_deref()),
            );
            Ok::<_, ApiError>(UsageData {
                account,
                range,
                granularity: g,
                currency,
                summary,
                periods,
            })
        },
    );
    Effect::new(move |_| {
        if data.data.with(Option::is_some) && !data.loading.get() {
            mark_painted("usage");
        }
    });
    let granularity = move || {
        let s = state.get();
        s.granularity
            .or_else(|| s.range.resolve(today).ok().map(chart_granularity))
            .unwrap_or(Granularity::Daily)
    };
    let choose = move |g: Granularity| {
        let set_state = set_state.clone();
        move |_| set_state(state.get_untracked().with_granularity(g), false)
    };
    view! {
        <h1>"Usage"</h1>
        {move || {
            if !allowed() {
                view! {
                    <p class="notice error" role="alert" data-testid="usage-refused">
                        "Usage records are available to system administrators and managers only. Your role ("
                        {session.role().map(|r| r.as_str()).unwrap_or("none")}
                        ") cannot open this page."
                    </p>
                }
                    .into_any()
            } else {
                let choose = choose.clone();
                view! {
                    <Toolbar show_range=true />
                    <fieldset class="segmented">
                        <legend>"Split by"</legend>
                        {[(Granularity::Daily, "Day"), (Granularity::Weekly, "Week"), (Granularity::Monthly, "Month")]
                            .into_iter()
                            .map(|(g, label)| {
                                view! {
                                    <button
                                        type="button"
                                        class="secondary"
                                        aria-pressed=move || if granularity() == g { "true" } else { "false" }
                                        on:click=choose(g)
                                    >
                                        {label}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <LoadStatus loading=data.loading.into() error=data.error.into() what="usage" />
                    <div class="view" data-testid="usage" aria-busy=move || if data.loading.get() { "true" } else { "false" }>
                        {move || data.data.get().map(|d| view! { <UsageBody data=d /> })}
                    </div>
                }
                    .into_any()
            }
        }}
    }
}
