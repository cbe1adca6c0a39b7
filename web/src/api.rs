//! One async function per API operation, over core's client with cookie credentials. Requests
//! are built (and validated) by core's `*_request` builders; answers are decoded by core. A 401
//! anywhere except sign-in sends the user to the sign-in page (see [`set_on_unauthorized`]).

use std::cell::RefCell;

use evo_billing_core::aggregate::{summarize_usage, UsageSummary};
use evo_billing_core::client::{ApiError, BillingClient, Credentials, HttpRequest};
use evo_billing_core::date_range::{DateRange, Granularity};
use evo_billing_core::dto::{
    AccountList, Authenticate, BillingInfo, BillingReport, BillingSeries, CustomerInfo,
    CustomerList, GetBilling, GetBillingSeries, ListCustomers, ListUsageRecords, NewBillable,
    ReportInfo, UsageRecordInfo, UserInfo,
};
use evo_billing_core::validation::MAX_PAGE_SIZE;
use serde::de::{DeserializeOwned, IgnoredAny};

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// What to do when the server says the session is gone (registered by the router).
pub fn set_on_unauthorized(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

fn unauthorized() {
    ON_UNAUTHORIZED.with(|cell| {
        if let Some(f) = cell.borrow().as_ref() {
            f();
        }
    });
}

/// The same-origin client, sending the HttpOnly session cookie.
pub fn client() -> BillingClient {
    BillingClient::new("").with_credentials(Credentials::Cookie)
}

fn watch<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(e) = &result {
        if e.status == 401 {
            unauthorized();
        }
    }
    result
}

async fn call<T: DeserializeOwned>(req: Result<HttpRequest, ApiError>) -> Result<T, ApiError> {
    let req = req?;
    watch(client().call(req).await)
}

pub async fn auth_status() -> Result<UserInfo, ApiError> {
    client().call(client().auth_status_request()).await
}

/// Signs in; the server sets the session cookie. A 401 here is "wrong password", not a lost
/// session, so it is returned as is.
pub async fn sign_in(request: &Authenticate) -> Result<(), ApiError> {
    let c = client();
    let req = c.authenticate_request(request)?;
    // The answer's token is not kept: the dashboard is authenticated by the HttpOnly cookie.
    c.call::<IgnoredAny>(req).await.map(drop)
}

pub async fn sign_out() -> Result<(), ApiError> {
    client()
        .call::<IgnoredAny>(client().logout_request())
        .await
        .map(drop)
}

/// Asked beside `/auth/status`, so its 401 is no lost session: not watched.
pub async fn accounts() -> Result<AccountList, ApiError> {
    client().call(client().list_accounts_request()?).await
}

/// Every customer of the account, in tree order (all pages).
pub async fn customers(account: &str) -> Result<Vec<CustomerInfo>, ApiError> {
    let mut out: Vec<CustomerInfo> = Vec::new();
    let mut page = 0u32;
    loop {
        let request = ListCustomers {
            account_id: Some(account.to_string()),
            page: Some(page),
            count_per_page: Some(MAX_PAGE_SIZE),
            // Without accountId (asked for) and breadcrumbs (built here from names and parents):
            // less than half the bytes to encode, send and decode at 10,000 customers.
            fields: Some("id,name,parentId,depth".into()),
            ..Default::default()
        };
        let list: CustomerList = call(client().list_customers_request(&request)).await?;
        let done = !list.has_more_pages || list.items.is_empty() || page >= 100;
        out.extend(list.items);
        if done {
            CustomerInfo::fill_breadcrumbs(&mut out);
            return Ok(out);
        }
        page += 1;
    }
}

pub async fn billing(
    account: &str,
    range: DateRange,
    customer: Option<&str>,
) -> Result<BillingInfo, ApiError> {
    let request = GetBilling {
        account_id: Some(account.to_string()),
        start_date: Some(range.start_text()),
        end_date: Some(range.end_text()),
        customer_id: customer.map(str::to_string),
    };
    call(client().get_billing_request(&request)).await
}

pub async fn series(
    account: &str,
    range: DateRange,
    granularity: Granularity,
    customer: Option<&str>,
) -> Result<BillingSeries, ApiError> {
    let request = GetBillingSeries {
        account_id: Some(account.to_string()),
        start_date: Some(range.start_text()),
        end_date: Some(range.end_text()),
        granularity: Some(granularity),
        customer_id: customer.map(str::to_string),
    };
    call(client().get_billing_series_request(&request)).await
}

/// Usage records rolled up by core (exact: prices are read from their decimal text), by
/// category and, unless `All`, by period. (The answers a dashboard asks for are a few hundred
/// records; core's byte scanner for big answers would cost the wasm 17 KB for nothing.)
pub async fn usage(
    account: &str,
    range: DateRange,
    granularity: Granularity,
) -> Result<UsageSummary, ApiError> {
    let request = ListUsageRecords {
        account_id: Some(account.to_string()),
        start_date: Some(range.start_text()),
        end_date: Some(range.end_text()),
        granularity: (granularity != Granularity::All).then_some(granularity),
    };
    let records: Vec<UsageRecordInfo> = call(client().list_usage_records_request(&request)).await?;
    Ok(summarize_usage(&records, granularity))
}

pub async fn reports() -> Result<Vec<ReportInfo>, ApiError> {
    call(Ok(client().list_reports_request())).await
}

// Writes whose answer the dashboard does not read (it reads the list again) decode nothing: one
// decoder less in the wasm for each.

pub async fn request_report(request: &BillingReport) -> Result<(), ApiError> {
    call::<IgnoredAny>(client().billing_report_request(request))
        .await
        .map(drop)
}

pub async fn delete_report(id: &str) -> Result<(), ApiError> {
    call::<IgnoredAny>(client().delete_report_request(id))
        .await
        .map(drop)
}

pub async fn report_call(request: &NewBillable) -> Result<(), ApiError> {
    call::<IgnoredAny>(client().new_billable_request(request))
        .await
        .map(drop)
}

/// Where a finished report's file is (same origin: the cookie goes with the download).
pub fn report_download_url(id: &str, format: &str) -> Option<String> {
    client().report_download_url(id, format).ok()
}
