//! How failures read: the server's (or core's) message, its code, and each field's error.

use evo_billing_core::client::ApiError;
use evo_billing_core::dto::ResponseStatus;
use leptos::prelude::*;

/// The message of a field (`AccountId`) in an error, if any.
pub fn field_error(status: &ResponseStatus, field: &str) -> Option<String> {
    status
        .errors
        .iter()
        .find(|e| {
            e.field_name
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(field))
        })
        .and_then(|e| e.message.clone())
}

/// A failure, as the user should read it.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let lead = match error.status {
        0 => "The request did not get an answer.",
        401 => "You are not signed in.",
        403 => "You do not have access to this.",
        404 => "Not found.",
        400 => "The request was refused.",
        _ => "The server could not answer.",
    };
    let code = error.error_code().to_string();
    let message = error.message().to_string();
    let fields = error.response_status.errors.clone();
    view! {
        <div class="notice error" role="alert">
            <p>
                <strong>{lead}</strong>
                " "
                {message}
                " "
                <span class="code">"(" {code} ")"</span>
            </p>
            {(!fields.is_empty())
                .then(|| {
                    view! {
                        <ul>
                            {fields
                                .into_iter()
                                .map(|f| {
                                    view! {
                                        <li>
                                            <strong>{f.field_name.unwrap_or_default()}</strong>
                                            ": "
                                            {f.message.unwrap_or_default()}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </div>
    }
}

/// Progress and failure of a load, shown above data that stays visible.
#[component]
pub fn LoadStatus(
    loading: Signal<bool>,
    error: Signal<Option<ApiError>>,
    #[prop(into)] what: String,
) -> impl IntoView {
    view! {
        <div class="load-status" aria-live="polite">
            {move || {
                loading
                    .get()
                    .then(|| {
                        view! {
                            <p class="progress">
                                <span class="spinner" aria-hidden="true"></span>
                                {format!("Loading {what}…")}
                            </p>
                        }
                    })
            }}
        </div>
        {move || error.get().map(|e| view! { <ErrorNotice error=e /> })}
    }
}
