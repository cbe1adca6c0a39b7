//! The frame of every signed-in page: header with navigation and who is signed in (name and
//! role), and the toolbar with the account picker and the date range.

use evo_billing_core::date_range::{ymd, DateRange, Preset};
use leptos::prelude::*;

use crate::api;
use crate::app::{current_location, today_utc, use_session, use_set_view_state, use_view_state};
use crate::query::{RangeChoice, ViewState};
use crate::router::{navigate, use_location};

/// `1 Nov 2026`.
pub fn day_label(day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {}",
        day.day(),
        MONTHS[day.month0() as usize % 12],
        day.year()
    )
}

/// `1 Nov 2026 – 30 Nov 2026 (30 days)`.
pub fn range_label(range: DateRange) -> String {
    let days = range.days();
    let n = if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    };
    if range.start() == range.end() {
        format!("{} ({n})", day_label(range.start()))
    } else {
        format!(
            "{} – {} ({n})",
            day_label(range.start()),
            day_label(range.end())
        )
    }
}

/// `early`: the page is built at once (and starts its loads) while `/auth/status` is still being
/// asked, since the server checks each of its requests anyway (a 401 goes to the sign-in page);
/// otherwise it is built once the user is known.
#[component]
pub fn Shell(children: ChildrenFn, #[prop(optional)] early: bool) -> impl IntoView {
    let session = use_session();
    // Not signed in: to the sign-in page, and back here afterwards.
    Effect::new(move |_| {
        if session.checked.get()
            && session.user.with(Option::is_none)
            && session.error.with(Option::is_none)
        {
            let next = current_location();
            navigate(
                &format!(
                    "/app/sign-in?next={}",
                    evo_billing_core::client::encode_component(&next)
                ),
                true,
            );
        }
    });
    let children = StoredValue::new(children);
    let waiting = move || session.user.with(Option::is_none) && session.error.with(Option::is_none);
    view! {
        <Header />
        <main id="main" tabindex="-1">
            {move || {
                session.error.get().map(|e| {
                    view! {
                        <crate::components::error::ErrorNotice error=e />
                        <button type="button" on:click=move |_| session.refresh(false)>
                            "Try again"
                        </button>
                    }
                })
            }}
            {move || (!early && waiting()).then(|| view! { <p class="progress">"Checking your session…"</p> })}
            // An early page subscribes to nothing here: it is built once.
            {move || (early || session.user.with(Option::is_some)).then(|| children.with_value(|c| c()))}
        </main>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let location = use_location();
    let signing_out = RwSignal::new(false);
    let carried = move || state.get().carried().to_query();
    let link = move |path: &'static str| move || format!("{path}{}", carried());
    let sign_out = move |_| {
        signing_out.set(true);
        leptos::task::spawn_local(async move {
            let _ = api::sign_out().await;
            session.clear();
            signing_out.set(false);
            navigate("/app/sign-in", false);
        });
    };
    let current = move |prefix: &'static str| {
        move || {
            location
                .pathname
                .get()
                .starts_with(prefix)
                .then_some("page")
        }
    };
    view! {
        <header class="top">
            <a class="skip" href="#main">"Skip to content"</a>
            <a class="brand" href="/app/overview">"evo-billing"</a>
            <nav aria-label="Main">
                <ul>
                    <li>
                        <a href=link("/app/overview") aria-current=current("/app/overview")>
                            "Overview"
                        </a>
                    </li>
                    <li>
                        <a href=link("/app/customers") aria-current=current("/app/customers")>
                            "Customers"
                        </a>
                    </li>
                    {move || {
                        session
                            .can_see_usage()
                            .then(|| {
                                view! {
                                    <li>
                                        <a href=link("/app/usage") aria-current=current("/app/usage")>
                                            "Usage"
                                        </a>
                                    </li>
                                }
                            })
                    }}
                    <li>
                        <a href=link("/app/reports") aria-current=current("/app/reports")>
                            "Reports"
                        </a>
                    </li>
                    <li>
                        <a
                            href=link("/app/report-call")
                            aria-current=current("/app/report-call")
                        >
                            "Report a call"
                        </a>
                    </li>
                </ul>
            </nav>
            <div class="who" data-testid="who">
                {move || {
                    session
                        .user
                        .get()
                        .map(|u| {
                            let name = u
                                .email_address
                                .clone()
                                .or(u.name.clone())
                                .unwrap_or_default();
                            let role = u.roles.first().cloned().unwrap_or_default();
                            view! {
                                <span class="user">
                                    <span class="visually-hidden">"Signed in as "</span>
                                    {name}
                                </span>
                                <span class="role" data-testid="role">{role}</span>
                            }
                        })
                }}
                <button
                    type="button"
                    class="secondary"
                    on:click=sign_out
                    disabled=move || signing_out.get()
                >
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

/// Account picker (when the user has several) and date range (presets and custom days).
#[component]
pub fn Toolbar(#[prop(optional)] show_range: bool) -> impl IntoView {
    let session = use_session();
    let state = use_view_state();
    let set_state = use_set_view_state();
    let (today, _) = today_utc();

    let set_account = {
        let set_state = set_state.clone();
        move |ev: leptos::ev::Event| {
            let id = event_target_value(&ev);
            set_state(state.get_untracked().with_account(&id), false);
        }
    };
    let set_preset = {
        let set_state = set_state.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            if let Some(p) = Preset::parse(&value) {
                set_state(
                    state.get_untracked().with_range(RangeChoice::Preset(p)),
                    false,
                );
            }
        }
    };
    let range = move || state.get().range.resolve(today);
    let set_day = move |which: &'static str| {
        let set_state = set_state.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            if value.is_empty() {
                return;
            }
            let s = state.get_untracked();
            let current = s.range.resolve(today).ok();
            let (from, to) = match (which, current) {
                ("from", Some(r)) => (value, r.end_text()),
                ("from", None) => (value.clone(), value),
                (_, Some(r)) => (r.start_text(), value),
                (_, None) => (value.clone(), value),
            };
            set_state(s.with_range(RangeChoice::Custom { from, to }), false);
        }
    };
    let preset_value = move || {
        state
            .get()
            .range
            .preset(today)
            .map(|p| p.name().to_string())
            .unwrap_or_else(|| "custom".into())
    };
    view! {
        <div class="toolbar" role="group" aria-label="Account and date range">
            {move || {
                let accounts = session.accounts.get();
                let current = session.account_for(&state.get()).map(|a| a.id).unwrap_or_default();
                if accounts.len() > 1 {
                    let set_account = set_account.clone();
                    view! {
                        <label class="field">
                            <span>"Account"</span>
                            <select id="account" on:change=set_account prop:value=current.clone()>
                                {accounts
                                    .into_iter()
                                    .map(|a| {
                                        let selected = a.id == current;
                                        view! {
                                            <option value=a.id.clone() selected=selected>
                                                {a.name.clone()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                        .into_any()
                } else {
                    let name = session.account_for(&state.get()).map(|a| a.name).unwrap_or_default();
                    view! {
                        <p class="field static">
                            <span>"Account"</span>
                            <strong data-testid="account-name">{name}</strong>
                        </p>
                    }
                        .into_any()
                }
            }}
            <p class="field static">
                <span>"Currency"</span>
                <strong data-testid="currency">
                    {move || {
                        session
                            .account_for(&state.get())
                            .and_then(|a| a.currency)
                            .map(|c| c.code().to_string())
                            .unwrap_or_else(|| "not reported".into())
                    }}
                </strong>
            </p>
            {show_range
                .then(|| {
                    view! {
                        <label class="field">
                            <span>"Date range"</span>
                            <select id="range-preset" on:change=set_preset prop:value=preset_value>
                                {Preset::ALL
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <option
                                                value=p.name()
                                                selected=move || preset_value() == p.name()
                                            >
                                                {p.label()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                                <option value="custom" disabled=true selected=move || preset_value() == "custom">
                                    "Custom range"
                                </option>
                            </select>
                        </label>
                        <label class="field">
                            <span>"From"</span>
                            <input
                                id="range-from"
                                type="date"
                                prop:value=move || range().map(|r| ymd(r.start())).unwrap_or_default()
                                on:change=set_day("from")
                            />
                        </label>
                        <label class="field">
                            <span>"To"</span>
                            <input
                                id="range-to"
                                type="date"
                                prop:value=move || range().map(|r| ymd(r.end())).unwrap_or_default()
                                on:change=set_day("to")
                            />
                        </label>
                        <p class="range-label" data-testid="range-label">
                            {move || match range() {
                                Ok(r) => format!("{} · days are UTC", range_label(r)),
                                Err(e) => e,
                            }}
                        </p>
                    }
                })}
        </div>
    }
}

/// The state a page link keeps (account and range), for `<A>` links inside pages.
pub fn carried_href(path: &str, state: &ViewState) -> String {
    format!("{path}{}", state.carried().to_query())
}
