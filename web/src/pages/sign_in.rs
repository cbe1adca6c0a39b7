//! Sign in with user name and password (the server sets the HttpOnly session cookie), then back
//! to the page that asked.

use evo_billing_core::dto::Authenticate;
use evo_billing_core::validation::Validate;
use leptos::prelude::*;

use crate::api;
use crate::app::use_session;
use crate::components::error::{field_error, ErrorNotice};
use crate::query::parse_query;
use crate::router::{navigate, use_location};

/// Only a path of this app is a place to come back to (never another site).
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n)
            if n.starts_with("/app/") && !n.starts_with("/app/sign-in") && !n.contains("//") =>
        {
            n
        }
        _ => "/app/overview".into(),
    }
}

#[component]
pub fn SignIn() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let user_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None);
    // Read once: the navigation below changes the query this page would read.
    let next = safe_next(
        parse_query(&location.search.get_untracked())
            .into_iter()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v),
    );

    // Already signed in (or signed in just now): go on, once.
    let gone = StoredValue::new(false);
    Effect::new(move |_| {
        if session.user.with(Option::is_some) && !gone.get_value() {
            gone.set_value(true);
            navigate(&next, true);
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = Authenticate {
            user_name: Some(user_name.get_untracked()),
            password: Some(password.get_untracked()),
            remember_me: Some(remember.get_untracked()),
            ..Default::default()
        };
        if let Err(e) = request.validate() {
            error.set(Some(evo_billing_core::client::ApiError::validation(&e)));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::sign_in(&request).await {
                Ok(_) => {
                    error.set(None);
                    session.refresh(false);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let field = move |name: &'static str| {
        move || {
            error
                .get()
                .and_then(|e| field_error(&e.response_status, name))
        }
    };
    view! {
        <main id="main" class="sign-in">
            <h1>"Sign in to evo-billing"</h1>
            <form on:submit=submit novalidate=true>
                <div class="field">
                    <label for="user-name">"User name (email)"</label>
                    <input
                        id="user-name"
                        name="userName"
                        type="email"
                        autocomplete="username"
                        required=true
                        aria-invalid=move || field("UserName")().is_some().then_some("true")
                        aria-describedby="user-name-error"
                        prop:value=move || user_name.get()
                        on:input=move |ev| user_name.set(event_target_value(&ev))
                    />
                    <p id="user-name-error" class="field-error">{field("UserName")}</p>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required=true
                        aria-invalid=move || field("Password")().is_some().then_some("true")
                        aria-describedby="password-error"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                    <p id="password-error" class="field-error">{field("Password")}</p>
                </div>
                <div class="check">
                    <input
                        id="remember"
                        type="checkbox"
                        prop:checked=move || remember.get()
                        on:change=move |ev| remember.set(event_target_checked(&ev))
                    />
                    <label for="remember">"Keep me signed in for 30 days"</label>
                </div>
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            {move || {
                error
                    .get()
                    .filter(|e| e.response_status.errors.is_empty())
                    .map(|e| view! { <ErrorNotice error=e /> })
            }}
            {move || {
                session
                    .error
                    .get()
                    .map(|e| view! { <ErrorNotice error=e /> })
            }}
        </main>
    }
}
