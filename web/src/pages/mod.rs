//! One module per page.

pub mod customer;
pub mod customers;
pub mod overview;
pub mod report_call;
pub mod reports;
pub mod sign_in;
pub mod usage;

use std::sync::Arc;

use evo_billing_core::client::ApiError;
use evo_billing_core::dto::CustomerInfo;
use evo_billing_core::money::Currency;
use leptos::prelude::*;

use crate::api;
use crate::app::Session;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>
            "There is no page at this address. Go to the "
            <a href="/app/overview">"overview"</a>
            "."
        </p>
    }
}

/// Does this failure mean "the server does not have this operation" (404, or a server that
/// answers its HTML page for an unknown path)? Then the page does without it.
pub fn not_offered(e: &ApiError) -> bool {
    e.status == 404 || (e.status == 200 && e.error_code() == "InvalidResponse")
}

/// The account's customers, read once per session and shared by the pages. A server without
/// ListCustomers gives an empty list: tables then show customer IDs only.
pub async fn customers_of(
    session: Session,
    account: String,
) -> Result<Arc<Vec<CustomerInfo>>, ApiError> {
    if let Some(list) = session
        .customers
        .with_untracked(|m| m.get(&account).cloned())
    {
        return Ok(list);
    }
    let list = match api::customers(&account).await {
        Ok(list) => Arc::new(list),
        Err(e) if not_offered(&e) => Arc::new(Vec::new()),
        Err(e) => return Err(e),
    };
    session
        .customers
        .update(|m| drop(m.insert(account, list.clone())));
    Ok(list)
}

/// The currency of an account's amounts: ListAccounts', else what an answer said (usage
/// records' `priceUnit`, a series' `currency`).
pub fn currency_or(known: Option<Currency>, from_answer: Option<&str>) -> Option<Currency> {
    known.or_else(|| from_answer.and_then(|c| c.parse().ok()))
}

/// Money in the account's currency; when the server has not said which (the toolbar then says
/// "currency not reported"), to two places.
pub fn money_text(amount: evo_billing_core::money::Micros, currency: Option<Currency>) -> String {
    match currency {
        Some(c) => crate::format::money(amount, c),
        None => crate::format::amount(amount, Currency::USD),
    }
}
