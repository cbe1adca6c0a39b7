//! Report a call (NewBillable): by call session, or by account and customer; core's field errors
//! before sending, the server's after.

use std::collections::HashSet;

use evo_billing_core::client::ApiError;
use evo_billing_core::dto::NewBillable;
use evo_billing_core::validation::Validate;
use leptos::prelude::*;

use crate::api;
use crate::app::{use_session, use_view_state};
use crate::components::error::{field_error, ErrorNotice};

#[component]
pub fn ReportCall() -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let by_session = RwSignal::new(false);
    let session_id = RwSignal::new(String::new());
    let account_id = RwSignal::new(
        session
            .account_for(&state.get_untracked())
            .map(|a| a.id)
            .unwrap_or_default(),
    );
    let customer_id = RwSignal::new(String::new());
    let call_sid = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let touched = RwSignal::new(HashSet::<&'static str>::new());
    let busy = RwSignal::new(false);
    let server_error = RwSignal::new(None::<ApiError>);
    let done = RwSignal::new(None::<String>);

    let text = |s: RwSignal<String>| Some(s.get()).filter(|v| !v.trim().is_empty());
    let request = move || {
        if by_session.get() {
            NewBillable {
                session_id: text(session_id),
                call_sid: text(call_sid),
                ..Default::default()
            }
        } else {
            NewBillable {
                account_id: text(account_id),
                customer_id: text(customer_id),
                call_sid: text(call_sid),
                ..Default::default()
            }
        }
    };
    let local = Memo::new(move |_| request().validate().err().map(|e| ApiError::validation(&e)));
    let error_for = move |field: &'static str| {
        move || {
            let show = submitted.get() || touched.with(|t| t.contains(field));
            local
                .get()
                .filter(|_| show)
                .and_then(|e| field_error(&e.response_status, field))
                .or_else(|| {
                    server_error
                        .get()
                        .and_then(|e| field_error(&e.response_status, field))
                })
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        server_error.set(None);
        done.set(None);
        if local.get_untracked().is_some() {
            return;
        }
        let req = request();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::report_call(&req).await {
                Ok(()) => {
                    done.set(req.call_sid.clone());
                    submitted.set(false);
                    touched.set(HashSet::new());
                    call_sid.set(String::new());
                }
                Err(e) => server_error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let input = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      value: RwSignal<String>,
                      hint: &'static str| {
        let err = error_for(name);
        let err2 = error_for(name);
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input
                    id=id
                    type="text"
                    autocomplete="off"
                    aria-invalid=move || err().is_some().then_some("true")
                    aria-describedby=format!("{id}-hint {id}-error")
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                    on:change=move |_| touched.update(|t| { t.insert(name); })
                />
                <p id=format!("{id}-hint") class="hint">{hint}</p>
                <p id=format!("{id}-error") class="field-error" data-field=name>{err2}</p>
            </div>
        }
    };
    view! {
        <h1>"Report a call"</h1>
        <p class="hint">
            "Bill a finished call to a customer. Reporting the same call again is harmless: it is billed once."
        </p>
        <form id="report-call-form" class="form" on:submit=submit novalidate=true>
            <fieldset class="segmented">
                <legend>"Identify the call by"</legend>
                <div class="check">
                    <input
                        id="by-customer"
                        type="radio"
                        name="by"
                        prop:checked=move || !by_session.get()
                        on:change=move |_| by_session.set(false)
                    />
                    <label for="by-customer">"Account and customer"</label>
                </div>
                <div class="check">
                    <input
                        id="by-session"
                        type="radio"
                        name="by"
                        prop:checked=move || by_session.get()
                        on:change=move |_| by_session.set(true)
                    />
                    <label for="by-session">"Call session"</label>
                </div>
            </fieldset>
            <div class="form-grid">
                {move || {
                    if by_session.get() {
                        input("call-session", "SessionId", "Session ID", session_id, "The call session the call belongs to.").into_any()
                    } else {
                        view! {
                            {input("call-account", "AccountId", "Account ID", account_id, "The account the customer belongs to.")}
                            {input("call-customer", "CustomerId", "Customer ID", customer_id, "The customer to bill, e.g. from the Customers page.")}
                        }
                            .into_any()
                    }
                }}
                {input("call-sid", "CallSid", "Call SID", call_sid, "The carrier's call identifier, e.g. CA…")}
            </div>
            <p class="field-error" data-field="SessionId">{error_for("SessionId")}</p>
            <button type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Reporting…" } else { "Report call" }}
            </button>
        </form>
        <div aria-live="polite">
            {move || done.get().map(|sid| view! { <p class="notice ok" role="status" data-testid="call-reported">{format!("Call {sid} reported.")}</p> })}
        </div>
        {move || {
            server_error
                .get()
                .filter(|e| e.response_status.errors.is_empty())
                .map(|e| view! { <ErrorNotice error=e /> })
        }}
    }
}
