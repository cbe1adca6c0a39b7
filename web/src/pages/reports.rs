//! Billing reports: request one (range, customer IDs, email, webhook; checked by core as you
//! type), watch the list until each is Completed or Error, download CSV or XLSX, delete.

use std::collections::HashSet;
use std::time::Duration;

use evo_billing_core::client::ApiError;
use evo_billing_core::dto::{BillingReport, ReportStatuses};
use evo_billing_core::validation::Validate;
use leptos::prelude::*;

use crate::api;
use crate::app::{today_utc, use_session, use_view_state};
use crate::components::error::{field_error, ErrorNotice, LoadStatus};
use crate::components::fetch::fetch_on;
use crate::components::layout::Toolbar;

/// How often the list is read again while a report is Queued or Running.
const POLL: Duration = Duration::from_millis(1000);

#[component]
fn ReportForm(on_created: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let (today, _) = today_utc();
    let initial = state.get_untracked().range.resolve(today).ok();
    let start = RwSignal::new(initial.map(|r| r.start_text()).unwrap_or_default());
    let end = RwSignal::new(initial.map(|r| r.end_text()).unwrap_or_default());
    let include_ids = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let webhook = RwSignal::new(String::new());
    let touched = RwSignal::new(HashSet::<&'static str>::new());
    let submitted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<ApiError>);

    let request = move || BillingReport {
        start_date: Some(start.get()),
        end_date: Some(end.get()),
        include_customer_ids: include_ids.get(),
        account_id: session.account_for(&state.get()).map(|a| a.id),
        email_address_to_notify: Some(email.get()).filter(|e| !e.trim().is_empty()),
        webhook_url: Some(webhook.get()).filter(|w| !w.trim().is_empty()),
    };
    // Core's rules, as the user types (shown for fields already left, or after a submit).
    let local = Memo::new(move |_| request().validate().err().map(|e| ApiError::validation(&e)));
    let error_for = move |field: &'static str| {
        move || {
            let show = submitted.get() || touched.with(|t| t.contains(field));
            let local = local.get().filter(|_| show);
            local
                .and_then(|e| field_error(&e.response_status, field))
                .or_else(|| {
                    server_error
                        .get()
                        .and_then(|e| field_error(&e.response_status, field))
                })
        }
    };
    let touch = move |field: &'static str| {
        move |_| {
            touched.update(|t| {
                t.insert(field);
            })
        }
    };
    let on_created = std::sync::Arc::new(on_created);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server_error.set(None);
        if local.get_untracked().is_some() {
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                if let Ok(Some(el)) = doc.query_selector("#report-form [aria-invalid=true]") {
                    use wasm_bindgen::JsCast;
                    if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
            return;
        }
        let req = request();
        busy.set(true);
        let on_created = on_created.clone();
        leptos::task::spawn_local(async move {
            match api::request_report(&req).await {
                Ok(()) => {
                    submitted.set(false);
                    on_created();
                }
                Err(e) => server_error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let field = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      value: RwSignal<String>,
                      hint: &'static str| {
        let err = error_for(name);
        let err2 = error_for(name);
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input
                    id=id
                    type=kind
                    aria-invalid=move || err().is_some().then_some("true")
                    aria-describedby=format!("{id}-hint {id}-error")
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    on:change=touch(name)
                />
                <p id=format!("{id}-hint") class="hint">{hint}</p>
                <p id=format!("{id}-error") class="field-error" data-field=name>{err2}</p>
            </div>
        }
    };
    view! {
        <form id="report-form" class="form" on:submit=submit novalidate=true>
            <h2>"Request a billing report"</h2>
            <div class="form-grid">
                {field("report-start", "StartDate", "From", "date", start, "First day included.")}
                {field("report-end", "EndDate", "To", "date", end, "Last day included.")}
                {field("report-email", "EmailAddressToNotify", "Email when done (optional)", "email", email, "Gets a message when the report is ready.")}
                {field("report-webhook", "WebhookUrl", "Webhook URL (optional)", "url", webhook, "Receives the report's data as a signed POST.")}
            </div>
            <div class="check">
                <input
                    id="report-ids"
                    type="checkbox"
                    prop:checked=move || include_ids.get()
                    on:change=move |ev| include_ids.set(event_target_checked(&ev))
                />
                <label for="report-ids">"Include customer IDs as a column"</label>
            </div>
            <p class="field-error" data-field="AccountId">{error_for("AccountId")}</p>
            <button type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Requesting…" } else { "Request report" }}
            </button>
            {move || {
                server_error
                    .get()
                    .filter(|e| e.response_status.errors.is_empty())
                    .map(|e| view! { <ErrorNotice error=e /> })
            }}
        </form>
    }
}

fn status_class(s: ReportStatuses) -> &'static str {
    match s {
        ReportStatuses::Queued => "status queued",
        ReportStatuses::Running => "status running",
        ReportStatuses::Completed => "status completed",
        ReportStatuses::Error => "status failed",
    }
}

#[component]
pub fn Reports() -> impl IntoView {
    let list = fetch_on(|| Some(()), |_| api::reports());
    let action_error = RwSignal::new(None::<ApiError>);
    let created = RwSignal::new(None::<String>);
    // Poll while a report is not finished.
    Effect::new(move |_| {
        let pending = list
            .data
            .get()
            .is_some_and(|l| l.iter().any(|r| !r.status.is_final()));
        if pending && !list.loading.get() {
            set_timeout(move || list.reload(), POLL);
        }
    });
    let on_created = move || {
        created.set(Some("the report is queued; it appears below".to_string()));
        list.reload();
    };
    let delete = move |id: String| {
        leptos::task::spawn_local(async move {
            match api::delete_report(&id).await {
                Ok(()) => action_error.set(None),
                Err(e) => action_error.set(Some(e)),
            }
            list.reload();
        });
    };
    let rows = move || {
        let l = list.data.get()?;
        if l.is_empty() {
            return Some(
                view! { <p class="notice empty" data-testid="no-reports">"No reports yet."</p> }
                    .into_any(),
            );
        }
        let items = l
            .iter()
            .map(|r| {
                let id = r.id.clone().unwrap_or_default();
                let done = r.status == ReportStatuses::Completed;
                let links = done.then(|| {
                    let csv = api::report_download_url(&id, "csv").unwrap_or_default();
                    let xlsx = api::report_download_url(&id, "xlsx").unwrap_or_default();
                    view! {
                        <a href=csv download="" data-testid="download-csv">"CSV"</a>
                        " · "
                        <a href=xlsx download="" data-testid="download-xlsx">"XLSX"</a>
                    }
                });
                let del_id = id.clone();
                let name = r.name.clone().unwrap_or_else(|| id.clone());
                view! {
                    <tr data-testid="report-row" data-id=id.clone()>
                        <th scope="row">{name.clone()}</th>
                        <td>
                            <span class=status_class(r.status) data-testid="report-status">{r.status.as_str()}</span>
                            {r.status_message.clone().map(|m| view! { <span class="crumb">{m}</span> })}
                        </td>
                        <td class="mono">{r.date_created.clone().unwrap_or_default()}</td>
                        <td>{links}</td>
                        <td>
                            <button
                                type="button"
                                class="secondary danger"
                                aria-label=format!("Delete {name}")
                                disabled=r.status == ReportStatuses::Running
                                on:click=move |_| delete(del_id.clone())
                            >
                                "Delete"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view();
        let pending = l.iter().filter(|r| !r.status.is_final()).count();
        Some(view! {
            <p class="table-summary" aria-live="polite">
                {
                    let n = if l.len() == 1 { "1 report".to_string() } else { format!("{} reports", l.len()) };
                    if pending == 0 {
                        format!("{n}, all finished.")
                    } else {
                        format!("{n}, {pending} in progress (updating every second).")
                    }
                }
            </p>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Reports">
                <table data-testid="reports-table">
                    <thead>
                        <tr>
                            <th scope="col">"Report"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Created (UTC)"</th>
                            <th scope="col">"Download"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>{items}</tbody>
                </table>
            </div>
        }.into_any())
    };
    view! {
        <h1>"Reports"</h1>
        <Toolbar />
        <ReportForm on_created=on_created />
        {move || created.get().map(|n| view! { <p class="notice ok" role="status">{format!("Requested: {n}.")}</p> })}
        <section class="panel" aria-labelledby="reports-title">
            <h2 id="reports-title">"Your reports"</h2>
            {move || action_error.get().map(|e| view! { <ErrorNotice error=e /> })}
            <LoadStatus loading=Signal::derive(move || list.loading.get() && list.data.with(Option::is_none)) error=list.error.into() what="reports" />
            <div class="view" data-testid="reports">{rows}</div>
        </section>
    }
}
