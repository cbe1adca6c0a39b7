//! The customers table: every customer of the account in tree order with its international costs
//! for the range and its subtree's total; sortable columns, a text filter and pages, all in the
//! URL; CSV export of what the filter shows.

use std::sync::Arc;

use evo_billing_core::client::{encode_component, ApiError};
use evo_billing_core::date_range::DateRange;
use leptos::prelude::*;

use crate::api;
use crate::app::{
    mark_painted, today_utc, use_session, use_set_view_state, use_view_state, Session,
};
use crate::components::error::LoadStatus;
use crate::components::export::ExportCsv;
use crate::components::fetch::fetch_on;
use crate::components::layout::{carried_href, Toolbar};
use crate::pages::{customers_of, money_text};
use crate::query::Direction;
use crate::table::{arrange, build_rows, page_count, page_slice, CustomerRow, SortKey, PAGE_SIZE};

pub struct CustomersData {
    account: String,
    range: DateRange,
    rows: Vec<CustomerRow>,
    /// ListCustomers answered (names and tree known).
    listed: bool,
}

async fn load(
    session: Session,
    account: String,
    range: DateRange,
) -> Result<CustomersData, ApiError> {
    let (customers, billing) = futures::join!(
        customers_of(session, account.clone()),
        api::billing(&account, range, None),
    );
    let customers = customers?;
    let billing = billing?;
    Ok(CustomersData {
        rows: build_rows(&customers, &billing),
        listed: !customers.is_empty(),
        account,
        range,
    })
}

#[component]
pub fn Customers() -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let set_state = use_set_view_state();
    let (today, _) = today_utc();
    let data = fetch_on(
        move || {
            let s = state.get();
            Some((session.account_for(&s)?.id, s.range.resolve(today).ok()?))
        },
        move |(account, range)| load(session, account, range),
    );
    let sort = Memo::new(move |_| {
        let s = state.get();
        (SortKey::parse(s.sort.as_deref()), s.direction)
    });
    let filter = Memo::new(move |_| state.get().filter);
    let arranged = Memo::new(move |_| {
        let (key, dir) = sort.get();
        let f = filter.get();
        data.data
            .get()
            .map(|d| Arc::new(arrange(&d.rows, &f, key, dir)))
    });
    Effect::new(move |_| {
        if arranged.with(Option::is_some) && !data.loading.get() {
            mark_painted("customers");
        }
    });

    let on_filter = {
        let set_state = set_state.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            set_state(state.get_untracked().with_filter(&text), true);
        }
    };
    let header = {
        let set_state = set_state.clone();
        move |key: SortKey, label: &'static str, numeric: bool| {
            let set_state = set_state.clone();
            let aria = move || {
                let (k, d) = sort.get();
                if k == key {
                    if d == Direction::Descending {
                        "descending"
                    } else {
                        "ascending"
                    }
                } else {
                    "none"
                }
            };
            let arrow = move || {
                let (k, d) = sort.get();
                match (k == key, d) {
                    (false, _) => "↕",
                    (true, Direction::Ascending) => "▲",
                    (true, Direction::Descending) => "▼",
                }
            };
            view! {
                <th scope="col" aria-sort=aria class:num=numeric class:col-id={key == SortKey::Id}>
                    <button
                        type="button"
                        class="sort"
                        data-sort=key.key()
                        on:click=move |_| {
                            set_state(state.get_untracked().with_sort(key.key(), key.starts_descending()), false)
                        }
                    >
                        {label}
                        " "
                        <span aria-hidden="true">{arrow}</span>
                    </button>
                </th>
            }
        }
    };
    let file_name = Signal::derive(move || {
        data.data
            .get()
            .map(|d| format!("customers-{}-{}.csv", d.account, d.range))
            .unwrap_or_else(|| "customers.csv".into())
    });
    let make_csv = move || {
        let d = data.data.get_untracked()?;
        let order = arranged.get_untracked()?;
        let decimals = session
            .account_for(&state.get_untracked())
            .and_then(|a| a.currency)
            .map(|c| c.decimals())
            .unwrap_or(2);
        use crate::components::export::{amount_cell, table_csv};
        use serde_json::Value;
        Some(table_csv(
            &[
                "customerId",
                "customer",
                "breadcrumb",
                "internationalCosts",
                "subtreeInternationalCosts",
                "hasCallRecording",
            ],
            order.iter().map(|i| {
                let r = &d.rows[*i];
                vec![
                    Value::from(r.id.as_str()),
                    Value::from(r.name.as_str()),
                    Value::from(r.breadcrumb.as_str()),
                    amount_cell(r.international_costs, decimals),
                    amount_cell(r.subtree_costs, decimals),
                    Value::from(r.has_call_recording),
                ]
            }),
        ))
    };
    let go_page = {
        let set_state = set_state.clone();
        move |page: u32| set_state(state.get_untracked().with_page(page), false)
    };

    let body = move || {
        let d = data.data.get()?;
        let order = arranged.get()?;
        let s = state.get();
        let (slice, page) = page_slice(&order, s.page);
        let pages = page_count(order.len());
        // The account's currency (ListAccounts), read here so it shows as soon as it is known.
        let cur = session.account_for(&s).and_then(|a| a.currency);
        let tree = sort.get().0 == SortKey::Tree && s.filter.trim().is_empty();
        let rows = slice
            .iter()
            .map(|i| {
                let r = &d.rows[*i];
                let href = carried_href(
                    &format!("/app/customers/{}", encode_component(&r.id)),
                    &s,
                );
                let indent = if tree { format!("name indent-{}", r.depth.min(8)) } else { "name".into() };
                let crumb = (!tree && r.breadcrumb != r.name).then(|| view! { <span class="crumb">{r.breadcrumb.clone()}</span> });
                view! {
                    <tr data-testid="customer-row" data-id=r.id.clone()>
                        <th scope="row" class=indent>
                            {(tree && r.depth > 0).then(|| view! { <span class="tree-mark" aria-hidden="true">"└ "</span> })}
                            <a href=href>{r.name.clone()}</a>
                            {crumb}
                        </th>
                        <td class="mono col-id">{r.id.clone()}</td>
                        <td class="num" data-testid="cost">{money_text(r.international_costs, cur)}</td>
                        <td class="num" data-testid="subtree">
                            {if r.has_children { money_text(r.subtree_costs, cur) } else { "–".into() }}
                        </td>
                        <td>{if r.has_call_recording { "Yes" } else { "No" }}</td>
                    </tr>
                }
            })
            .collect_view();
        let go_prev = go_page.clone();
        let go_next = go_page.clone();
        let summary = if order.len() == d.rows.len() {
            format!("{} customers", crate::format::count(order.len() as i64))
        } else {
            format!(
                "{} of {} customers match",
                crate::format::count(order.len() as i64),
                crate::format::count(d.rows.len() as i64)
            )
        };
        Some(view! {
            {(!d.listed)
                .then(|| view! { <p class="notice">"Customer names are not available from this server; customer IDs are shown."</p> })}
            <p class="table-summary" aria-live="polite" data-testid="table-summary">{summary}</p>
            {order.is_empty().then(|| view! { <p class="notice empty">"No customer matches the filter."</p> })}
            <div class="table-wrap" tabindex="0" role="region" aria-label="Customers table">
                <table data-testid="customers-table">
                    <caption class="visually-hidden">
                        "Customers with their international costs for the range; column headers sort."
                    </caption>
                    <thead>
                        <tr>
                            {header(SortKey::Name, "Customer", false)}
                            {header(SortKey::Id, "ID", false)}
                            {header(SortKey::Cost, "International costs", true)}
                            {header(SortKey::Subtree, "With sub-customers", true)}
                            {header(SortKey::Recording, "Recording", false)}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                <button type="button" class="secondary" disabled={page <= 1} on:click=move |_| go_prev(page - 1)>
                    "Previous page"
                </button>
                <span data-testid="page">{format!("Page {page} of {pages} ({PAGE_SIZE} per page)")}</span>
                <button type="button" class="secondary" disabled={page >= pages} on:click=move |_| go_next(page + 1)>
                    "Next page"
                </button>
            </nav>
        })
    };
    let tree_order = {
        let set_state = set_state.clone();
        move |_| {
            let mut s = state.get_untracked();
            s.sort = None;
            s.direction = Direction::Ascending;
            set_state(s.with_page(1), false)
        }
    };
    view! {
        <h1>"Customers"</h1>
        <Toolbar show_range=true />
        <div class="table-tools">
            <label class="field">
                <span>"Filter customers"</span>
                <input
                    id="customer-filter"
                    type="search"
                    placeholder="Name, breadcrumb or ID"
                    prop:value=move || filter.get()
                    on:input=on_filter
                />
            </label>
            <button type="button" class="secondary" on:click=tree_order>"Tree order"</button>
            <ExportCsv file_name=file_name make_csv=make_csv />
        </div>
        <LoadStatus loading=data.loading.into() error=data.error.into() what="customers" />
        <div class="view" data-testid="customers" aria-busy=move || if data.loading.get() { "true" } else { "false" }>
            {body}
        </div>
    }
}
