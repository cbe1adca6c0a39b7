//! The router, built from core's route table ([`evo_billing_core::routes`]): every route's
//! custom path with its verbs, and for operations the `/api/{Name}` and `/json/reply/{Name}`
//! forms. [`endpoint`] is the only place that names handlers; the tidy test checks that it and
//! the table agree.

use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::Router;
use evo_billing_core::routes::{Route, ROUTES};

use super::ops;
use crate::state::Ctx;

/// The methods of a verb list (`GET` also answers `HEAD`).
fn methods(verbs: &[&str]) -> MethodFilter {
    verbs
        .iter()
        .filter_map(|v| match *v {
            "GET" => Some(MethodFilter::GET),
            "POST" => Some(MethodFilter::POST),
            "PUT" => Some(MethodFilter::PUT),
            "PATCH" => Some(MethodFilter::PATCH),
            "DELETE" => Some(MethodFilter::DELETE),
            "HEAD" => Some(MethodFilter::HEAD),
            _ => None,
        })
        .reduce(MethodFilter::or)
        .unwrap_or(MethodFilter::GET)
}

/// The handler of a route, answering `verbs`. `None` for a name the server does not know.
pub fn endpoint(route: &Route, verbs: &[&str]) -> Option<MethodRouter<Ctx>> {
    let m = methods(verbs);
    Some(match route.name {
        "NewBillable" => on(m, ops::billables::new_billable),
        "NewBillable[]" => on(m, ops::billables::new_billables),
        "GetBilling" => on(m, ops::billing::get_billing),
        "GetBillingSeries" => on(m, ops::billing::get_billing_series),
        "ListUsageRecords" => on(m, ops::usage::list_usage_records),
        "BillingReport" => on(m, ops::reports::billing_report),
        "ListReports" => on(m, ops::reports::list_reports),
        "GetReport" => on(m, ops::reports::get_report),
        "DeleteReport" => on(m, ops::reports::delete_report),
        "DownloadReport" => on(m, ops::reports::download_report),
        "ListAccounts" => on(m, ops::accounts::list_accounts),
        "CreateAccount" => on(m, ops::accounts::create_account),
        "UpdateAccount" => on(m, ops::accounts::update_account),
        "ListCustomers" => on(m, ops::accounts::list_customers),
        "CreateCustomer" => on(m, ops::accounts::create_customer),
        "UpdateCustomer" => on(m, ops::accounts::update_customer),
        "Authenticate" => on(m, ops::auth::authenticate),
        // ServiceStack's /auth: one path, a handler per verb.
        "Auth" => get(ops::auth::auth_status)
            .post(ops::auth::authenticate)
            .delete(ops::auth::logout),
        "AuthStatus" => on(m, ops::auth::auth_status),
        "Logout" => on(m, ops::auth::logout),
        "ListApiKeys" => on(m, ops::auth::list_api_keys),
        "CreateApiKey" => on(m, ops::auth::create_api_key),
        "RevokeApiKey" => on(m, ops::auth::revoke_api_key),
        "Health" => on(m, ops::health::health),
        "OpenApi" => on(m, ops::health::openapi),
        _ => return None,
    })
}

/// Every route of the table (routes sharing a path are merged by axum: `GET /accounts` and
/// `POST /accounts` are one path with two methods).
pub fn api_router() -> Router<Ctx> {
    let mut router = Router::new();
    for route in ROUTES {
        let Some(custom) = endpoint(route, route.verbs) else {
            tracing::error!(route = route.name, "no handler for a route of the table");
            continue;
        };
        if let Some(path) = route.path {
            router = router.route(path, custom);
        }
        let api_verbs = route.api_verbs();
        for path in [route.api_path(), route.json_reply_path()]
            .into_iter()
            .flatten()
        {
            if let Some(mr) = endpoint(route, &api_verbs) {
                router = router.route(&path, mr);
            }
        }
    }
    router
}
