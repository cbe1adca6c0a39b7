//! The wire types of the API, field for field as in the seed pages (ServiceStack DTOs).
//!
//! JSON is camelCase; `None` is omitted; numbers, booleans and lists are always written (`0`,
//! `false`, `[]`), as ServiceStack's serializer does. Request fields are all optional strings on
//! the wire, because that is what clients send; [`crate::validation`] turns them into checked
//! values. With the `js` feature every type also gets a generated TypeScript declaration.

use serde::{Deserialize, Serialize};

use crate::date_range::Granularity;
use crate::money::Micros;

/// Report/create a new billable. `POST /billables`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct NewBillable {
    /// The account to associate the billable with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The customer to associate the billable with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The session ID to associate the billable with. You must specify either this or
    /// (AccountId + CustomerId).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The call SID to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
}

/// The outcome of one item of an auto-batched `POST /api/NewBillable[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct NewBillableResult {
    /// The call SID of the item, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_sid: Option<String>,
    /// `true` when this call had already been reported (the request was idempotent).
    #[serde(default)]
    pub duplicate: bool,
    /// Set when the item was refused; the other items are unaffected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
}

/// Get the billing totals for the specified date range. `GET /billing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct GetBilling {
    /// Your Evo Voice Account ID (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The start of the date range (only the date portion is used). Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// The end of the date range (this entire day is included). Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Filter to a specific customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// Per-customer billing totals for a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingInfo {
    #[serde(default)]
    pub customers: Vec<BillingCustomerInfo>,
}

/// One customer's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingCustomerInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The cost of the customer's international calls in the range, exact; a JSON number.
    #[serde(default)]
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub international_costs: Micros,
    /// Whether any of the customer's billed calls in the range was recorded.
    #[serde(default)]
    pub has_call_recording: bool,
}

/// Fields shared by every report request (ServiceStack's `ReportRequest` base class).
/// `BillingReport` inlines them, in the seed's order.
/// Run a billing report asynchronously. Any verb on `/reports/billing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Include the customer IDs as a column of the report.
    #[serde(default)]
    pub include_customer_ids: bool,
    /// The account ID this report should be run for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The email address to notify after the report is run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address_to_notify: Option<String>,
    /// The webhook to call after the report is complete, with the data from the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

/// The state of a report run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub enum ReportStatuses {
    #[default]
    Queued,
    Running,
    Completed,
    Error,
}

impl ReportStatuses {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatuses::Queued => "Queued",
            ReportStatuses::Running => "Running",
            ReportStatuses::Completed => "Completed",
            ReportStatuses::Error => "Error",
        }
    }

    pub fn parse(text: &str) -> Option<ReportStatuses> {
        [
            ReportStatuses::Queued,
            ReportStatuses::Running,
            ReportStatuses::Completed,
            ReportStatuses::Error,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    /// Completed or Error: the report will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, ReportStatuses::Completed | ReportStatuses::Error)
    }
}

/// A report and where it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ReportInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub status: ReportStatuses,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address_to_notify: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// Gets all usage records for the specified date range. `GET /billing/usage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ListUsageRecords {
    /// The account ID you are listing for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The start date to retrieve usage records for (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// The end date to retrieve usage records for (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Extension: `daily`, `weekly` or `monthly` returns one record per category per period.
    /// Absent, the answer is exactly the seed's shape (one record per category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<Granularity>,
}

/// One usage record, in the shape of Twilio's usage records (camelCased).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct UsageRecordInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default)]
    pub count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Exact; a JSON number.
    #[serde(default)]
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub price: Micros,
    /// Lower-case ISO 4217 code, e.g. `usd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// A decimal quantity as text (minutes, messages, numbers), as Twilio writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// Billing totals of an account (or one customer) per period. `GET /billing/series`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct GetBillingSeries {
    /// The account (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The first day (required; only the date part is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// The last day, included (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// `daily`, `weekly` (ISO weeks, Monday first) or `monthly` (required); `all` is one period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<Granularity>,
    /// Only this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// The answer of GetBillingSeries: one entry per period of the range, empty periods included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingSeries {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// ISO 4217 code of every amount, e.g. `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default)]
    pub granularity: Granularity,
    #[serde(default)]
    pub periods: Vec<BillingPeriod>,
}

/// One period of a [`BillingSeries`] (the first and last may be cut by the range).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct BillingPeriod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Billed calls (a billable whose call is in the ledger).
    #[serde(default)]
    pub billed_calls: i64,
    #[serde(default)]
    pub international_calls: i64,
    /// Cost of the international calls, rounded to the currency's precision; a JSON number.
    #[serde(default)]
    #[cfg_attr(all(feature = "js", target_arch = "wasm32"), tsify(type = "number"))]
    pub international_costs: Micros,
    /// Billed calls that were recorded.
    #[serde(default)]
    pub recorded_calls: i64,
    /// Customers with at least one billed call in the period.
    #[serde(default)]
    pub customers_billed: i64,
}

/// The accounts the caller may see. `GET /accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ListAccounts {}

/// An account of the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct AccountInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Twilio-style `AC` + 32 hex digits (shown in usage records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// ISO 4217 code of the account's amounts, e.g. `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2: calls to another country are international.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_country: Option<String>,
}

/// Evo Voice's list shape for accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct AccountList {
    #[serde(default)]
    pub items: Vec<AccountInfo>,
    #[serde(default)]
    pub total_count: i64,
}

/// Create an account (SystemAdministrator). `POST /accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CreateAccount {
    /// The new account's ID; generated (`acc-…`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `AC` + 32 hex digits; generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// ISO 4217 (required), e.g. `USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 (required), e.g. `US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_country: Option<String>,
}

/// Rename an account (SystemAdministrator). `POST /accounts/{accountId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct UpdateAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The new name (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The customers of an account, in tree order (each parent before its children). `GET
/// /customers`. A Customer sees its own subtree only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ListCustomers {
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Only the direct children of this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Only customers whose name contains this text (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_filter: Option<String>,
    /// The page, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Customers per page: 1 to 10,000 (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_per_page: Option<u32>,
    /// Only these fields of each customer, comma-separated (ServiceStack AutoQuery's `fields`):
    /// `id`, `accountId`, `name`, `parentId`, `breadcrumb`, `depth`, in any case; `id` and
    /// `depth` always come. Absent: every field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
}

/// A customer of an account, with its place in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CustomerInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The parent customer; absent at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The names from the root down to this customer: `Acme / Sales / EMEA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breadcrumb: Option<String>,
    /// 0 at the root.
    #[serde(default)]
    pub depth: u32,
}

/// Between the names of a breadcrumb: `Acme / Sales / EMEA`.
pub const BREADCRUMB_SEPARATOR: &str = " / ";

impl CustomerInfo {
    /// Fills in the breadcrumbs of a list read without them (`fields` without `breadcrumb`) from
    /// its names and parents, the way the server writes them. The list is in tree order, as
    /// ListCustomers gives it (sorted by path: each customer right after its parent's earlier
    /// children's subtrees), so the customers above one are a stack. A customer whose parent is
    /// not above it (the top of a Customer's subtree) starts from its own name; one without a
    /// name from its id. Breadcrumbs already there are kept.
    pub fn fill_breadcrumbs(items: &mut [CustomerInfo]) {
        let mut above: Vec<usize> = Vec::new();
        for i in 0..items.len() {
            while let Some(&p) = above.last() {
                if items[p].id.is_some() && items[p].id == items[i].parent_id {
                    break;
                }
                above.pop();
            }
            if items[i].breadcrumb.is_none() {
                let c = &items[i];
                let name = c.name.as_deref().or(c.id.as_deref()).unwrap_or_default();
                let crumb = match above.last().and_then(|&p| items[p].breadcrumb.as_deref()) {
                    Some(a) => format!("{a}{BREADCRUMB_SEPARATOR}{name}"),
                    None => name.to_string(),
                };
                items[i].breadcrumb = Some(crumb);
            }
            above.push(i);
        }
    }
}

/// Evo Voice's list shape for customers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CustomerList {
    #[serde(default)]
    pub items: Vec<CustomerInfo>,
    /// Customers matching the request, over every page.
    #[serde(default)]
    pub total_count: i64,
    #[serde(default)]
    pub total_pages: i64,
    #[serde(default)]
    pub has_more_pages: bool,
}

/// Create a customer. `POST /customers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CreateCustomer {
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The new customer's ID; generated (`cus-…`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The parent customer (same account); absent: a root customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

/// Rename a customer, or move it with its whole subtree. `POST /customers/{customerId}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct UpdateCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// A new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Move below this customer (same account, not in the moved subtree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Move to the root of the tree.
    #[serde(default)]
    pub make_root: bool,
}

/// The caller's API keys (an administrator's: everyone's). `GET /auth/apikeys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ListApiKeys {}

/// A new API key for the caller, from a signed-in session (not from another key).
/// `POST /auth/apikeys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CreateApiKey {
    /// Required: what the key is for (`billing-exporter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key stops working this many days from now (1 to 3,660); absent: it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// Revoke an API key at once. `DELETE /auth/apikeys/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct RevokeApiKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// An API key as it is listed (never the key itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    /// The owner's email.
    pub user_name: String,
    /// ISO 8601 UTC.
    pub created_at: String,
    /// ISO 8601 UTC; absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// Neither revoked nor expired.
    #[serde(default)]
    pub active: bool,
}

/// `{items}` of [`ApiKeyInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyInfo>,
}

/// A created key: shown once, only here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct CreatedApiKey {
    /// The secret (`evo_…`), to send as a bearer token.
    pub key: String,
    pub info: ApiKeyInfo,
}

/// ServiceStack's error body: `{responseStatus: {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ErrorResponse {
    #[serde(default)]
    pub response_status: ResponseStatus,
}

/// What went wrong, ServiceStack style. `errors` has one entry per bad field and is always written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ResponseStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
    #[serde(default)]
    pub errors: Vec<ResponseError>,
}

/// One field's error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct ResponseError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ResponseStatus {
    /// A status with a code and message and no field errors.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ResponseStatus {
        ResponseStatus {
            error_code: Some(code.into()),
            message: Some(message.into()),
            stack_trace: None,
            errors: Vec::new(),
        }
    }

    /// The status a ServiceStack client synthesises when the body carries none (an empty 401, a
    /// `text/plain` 403): the numeric status as the code, the status text as the message.
    pub fn from_http_status(status: u16, status_text: &str) -> ResponseStatus {
        let text = if status_text.trim().is_empty() {
            default_status_text(status)
        } else {
            status_text.trim()
        };
        ResponseStatus::new(status.to_string(), text)
    }
}

/// The reason phrase for the statuses this API uses.
pub fn default_status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// Sign in. `POST /auth/credentials` (or `/auth` with `provider: "credentials"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct Authenticate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_me: Option<bool>,
}

/// A signed-in session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct AuthenticateResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
}

/// Who the caller is. `GET /auth/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub is_authenticated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub account_ids: Vec<String>,
    #[serde(default)]
    pub account_names: Vec<String>,
}

/// The roles of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(all(feature = "js", target_arch = "wasm32"), derive(tsify::Tsify))]
pub enum Role {
    /// Every account.
    SystemAdministrator,
    /// The accounts listed for the user.
    Manager,
    /// Its own customer and the customers below it, in its account.
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdministrator => "SystemAdministrator",
            Role::Manager => "Manager",
            Role::Customer => "Customer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::SystemAdministrator, Role::Manager, Role::Customer]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn breadcrumbs_from_names_and_parents() {
        let c = |id: &str, name: Option<&str>, parent: Option<&str>| CustomerInfo {
            id: Some(id.into()),
            name: name.map(Into::into),
            parent_id: parent.map(Into::into),
            ..Default::default()
        };
        // Tree order; a parent outside the list; no name; a kept breadcrumb; bad data (a loop).
        let mut items = vec![
            c("acme", Some("Acme"), None),
            c("sales", Some("Sales"), Some("acme")),
            c("emea", Some("EMEA"), Some("sales")),
            c("kept", Some("Kept"), Some("acme")),
            c("under-kept", Some("Under"), Some("kept")),
            c("nameless", None, Some("acme")),
            c("top", Some("Top of a subtree"), Some("not-here")),
            c("a", Some("A"), Some("b")),
            c("b", Some("B"), Some("a")),
        ];
        items[3].breadcrumb = Some("As the server wrote it".into());
        CustomerInfo::fill_breadcrumbs(&mut items);
        let crumbs: Vec<&str> = items
            .iter()
            .map(|i| i.breadcrumb.as_deref().unwrap())
            .collect();
        assert_eq!(
            crumbs,
            [
                "Acme",
                "Acme / Sales",
                "Acme / Sales / EMEA",
                "As the server wrote it",
                "As the server wrote it / Under",
                "Acme / nameless",
                "Top of a subtree",
                "A",
                "A / B",
            ]
        );
        // Out of order (not what the server sends): still a breadcrumb for each, no panic.
        let mut items = vec![
            c("child", Some("Child"), Some("p")),
            c("p", Some("P"), None),
        ];
        CustomerInfo::fill_breadcrumbs(&mut items);
        assert_eq!(items[0].breadcrumb.as_deref(), Some("Child"));
    }

    #[test]
    fn json_matches_the_seed_samples() {
        let nb = NewBillable {
            account_id: Some("String".into()),
            customer_id: Some("String".into()),
            session_id: Some("String".into()),
            call_sid: Some("String".into()),
        };
        assert_eq!(
            serde_json::to_string(&nb).unwrap(),
            r#"{"accountId":"String","customerId":"String","sessionId":"String","callSid":"String"}"#
        );
        let report: BillingReport = serde_json::from_str(
            r#"{"startDate":"String","endDate":"String","includeCustomerIds":false,"accountId":"String","emailAddressToNotify":"String","webhookUrl":"String"}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"startDate":"String","endDate":"String","includeCustomerIds":false,"accountId":"String","emailAddressToNotify":"String","webhookUrl":"String"}"#
        );
        let info = ReportInfo {
            id: Some("String".into()),
            name: Some("String".into()),
            status: ReportStatuses::Queued,
            status_message: Some("String".into()),
            date_created: Some("String".into()),
            date_updated: Some("String".into()),
            download_link: Some("String".into()),
            job_id: Some("String".into()),
            email_address_to_notify: Some("String".into()),
            server: Some("String".into()),
        };
        assert_eq!(
            serde_json::to_string(&info).unwrap(),
            r#"{"id":"String","name":"String","status":"Queued","statusMessage":"String","dateCreated":"String","dateUpdated":"String","downloadLink":"String","jobId":"String","emailAddressToNotify":"String","server":"String"}"#
        );
    }

    #[test]
    fn nulls_omitted_zeroes_written() {
        assert_eq!(
            serde_json::to_string(&NewBillable::default()).unwrap(),
            "{}"
        );
        assert_eq!(
            serde_json::to_value(BillingCustomerInfo::default()).unwrap(),
            json!({"internationalCosts": 0, "hasCallRecording": false})
        );
        assert_eq!(
            serde_json::to_value(BillingInfo::default()).unwrap(),
            json!({"customers": []})
        );
        assert_eq!(
            serde_json::to_value(UsageRecordInfo::default()).unwrap(),
            json!({"count": 0, "price": 0})
        );
        assert_eq!(
            serde_json::to_value(ErrorResponse::default()).unwrap(),
            json!({"responseStatus": {"errors": []}})
        );
    }

    #[test]
    fn money_fields_are_exact_numbers() {
        let c: BillingCustomerInfo = serde_json::from_str(
            r#"{"customerId":"c1","internationalCosts":12.34,"hasCallRecording":true}"#,
        )
        .unwrap();
        assert_eq!(c.international_costs, "12.34".parse().unwrap());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"customerId":"c1","internationalCosts":12.34,"hasCallRecording":true}"#
        );
        let u: UsageRecordInfo =
            serde_json::from_str(r#"{"category":"calls","price":"-0.0085","count":3}"#).unwrap();
        assert_eq!(u.price, "-0.0085".parse().unwrap());
    }

    #[test]
    fn unknown_fields_are_ignored_and_statuses_parse() {
        let g: GetBilling =
            serde_json::from_str(r#"{"accountId":"a","bogus":1,"startDate":"2026-01-01"}"#)
                .unwrap();
        assert_eq!(g.account_id.as_deref(), Some("a"));
        assert_eq!(ReportStatuses::parse("error"), Some(ReportStatuses::Error));
        assert_eq!(Role::parse("manager"), Some(Role::Manager));
        let r: ReportInfo = serde_json::from_str(r#"{"status":"Completed"}"#).unwrap();
        assert!(r.status.is_final());
    }
}
