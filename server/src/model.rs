//! The data the server holds, as plain Rust values: every row type the store reads or writes is
//! here, so the store, the HTTP layer, the report worker and the loaders share one vocabulary.
//!
//! Times are Unix seconds (UTC); days are day numbers since 1970-01-01 (see [`crate::store::days`]);
//! money is exact [`Micros`] with a [`Currency`]. Usage is kept per leaf category of
//! [`evo_billing_core::usage`]; parents and `totalprice` are computed when answering.

use evo_billing_core::dto::{ReportStatuses, Role};
use evo_billing_core::money::{Currency, Micros};

/// A customer account of the platform (a Twilio-style sub-account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Twilio-style `AC` + 32 hex digits, shown in usage records.
    pub account_sid: String,
    /// ISO 3166-1 alpha-2; calls to another country are international.
    pub home_country: String,
    pub currency: Currency,
}

/// A customer to insert; customers form a tree per account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
}

/// A customer as stored, with its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    /// `/root/…/self/`: a subtree is a prefix.
    pub path: String,
    /// `Root / Child / Self`.
    pub breadcrumb: String,
}

impl CustomerRow {
    /// 0 for a root customer.
    pub fn depth(&self) -> u32 {
        (self.path.matches('/').count().saturating_sub(2)) as u32
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    /// Reads carrier spellings: `inbound`, `outbound`, `outbound-api`, `outbound-dial`, `in`, `out`.
    pub fn parse(text: &str) -> Option<Direction> {
        let t = text.trim().to_ascii_lowercase();
        if t == "inbound" || t == "in" || t == "incoming" {
            Some(Direction::Inbound)
        } else if t.starts_with("outbound") || t == "out" || t == "outgoing" {
            Some(Direction::Outbound)
        } else {
            None
        }
    }
}

/// One call of the carrier's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub account_id: String,
    /// The carrier's call SID (`CA...`), unique per account.
    pub sid: String,
    /// Start time, Unix seconds UTC.
    pub start_time: i64,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    /// ISO 3166-1 alpha-2 of the destination (of the caller for inbound calls).
    pub country: String,
    pub duration_secs: i64,
    /// What the call cost (a positive amount).
    pub price: Micros,
    pub currency: Currency,
    pub recording_duration_secs: i64,
    pub recording_price: Micros,
}

/// A call session: ties a call SID to an account and customer (what NewBillable's sessionId names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSession {
    pub id: String,
    pub account_id: String,
    pub customer_id: String,
    pub call_sid: String,
}

/// One SMS (or a multi-segment message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRecord {
    pub account_id: String,
    pub sid: String,
    pub sent_at: i64,
    pub direction: Direction,
    pub country: String,
    pub segments: i64,
    pub price: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    Local,
    TollFree,
    Mobile,
}

impl NumberKind {
    /// The usage category (Twilio's names, a leaf of `phonenumbers`).
    pub fn category(self) -> &'static str {
        match self {
            NumberKind::Local => "phonenumbers-local",
            NumberKind::TollFree => "phonenumbers-tollfree",
            NumberKind::Mobile => "phonenumbers-mobile",
        }
    }
}

/// A phone number rented by an account for one month; charged on `charged_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRental {
    pub account_id: String,
    pub number: String,
    pub kind: NumberKind,
    /// Unix seconds of the charge.
    pub charged_at: i64,
    pub price: Micros,
}

/// A user to create (demo data, `create-user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    /// Manager: the accounts managed. Customer: its one account.
    pub account_ids: Vec<String>,
    /// Customer only: the customer whose subtree the user sees.
    pub customer_id: Option<String>,
}

/// A user as stored, for sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
}

/// What a user may see, as stored: the raw material of [`crate::auth::Principal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Manager: managed accounts; Customer: its account.
    pub account_ids: Vec<String>,
    /// Customer: the customer whose subtree it sees.
    pub customer: Option<CustomerRow>,
}

/// A billable resolved to its account and customer (after session lookup and scope checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedBillable {
    pub account_id: String,
    pub customer_id: String,
    pub call_sid: String,
    pub session_id: Option<String>,
}

/// One customer's billing sums over a range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerBilling {
    pub customer_id: String,
    pub billed_calls: i64,
    pub international_calls: i64,
    pub international_micros: i64,
    pub recorded_calls: i64,
}

/// An API key as the store lists it (never the key, nor its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    /// The owner's email.
    pub email: String,
    pub name: String,
    pub created_at: i64,
    /// Unix seconds; `None`: never.
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

/// A report row, as the queue holds it.
#[derive(Debug, Clone)]
pub struct ReportRecord {
    pub id: String,
    pub account_id: String,
    pub owner_user_id: String,
    pub name: String,
    pub status: ReportStatuses,
    pub status_message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub job_id: Option<String>,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
    pub server: Option<String>,
    pub params: serde_json::Value,
}

/// A report to queue.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub account_id: String,
    pub owner_user_id: String,
    pub name: String,
    /// What the worker needs to build it (range, options, subtree).
    pub params: serde_json::Value,
    pub email: Option<String>,
    pub webhook_url: Option<String>,
}

/// How a report's notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A signed POST of the ReportInfo and the data; `target` is the URL.
    Webhook,
    /// An email; `target` is the address.
    Email,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Webhook => "webhook",
            DeliveryKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryKind> {
        match s {
            "webhook" => Some(DeliveryKind::Webhook),
            "email" => Some(DeliveryKind::Email),
            _ => None,
        }
    }
}

/// A notification to send, written with the report's final status.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub kind: DeliveryKind,
    pub target: String,
    /// The email's subject (webhooks have none).
    pub subject: Option<String>,
    /// The webhook's JSON body or the email's text.
    pub body: String,
}

/// A notification claimed for an attempt.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    /// Also the idempotency key a receiver sees (`X-Evo-Delivery-Id`).
    pub id: String,
    pub report_id: String,
    pub owner_user_id: String,
    pub kind: DeliveryKind,
    pub target: String,
    pub subject: Option<String>,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// How an attempt ended, as the store records it.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    /// Sent; `note` goes to the report's delivery note.
    Delivered { note: String },
    /// Try again at `at_ms` (Unix milliseconds); `result` says what happened.
    Retry { at_ms: i64, result: String },
    /// Given up; `note` goes to the report, and an email is also kept in the outbox.
    Failed { note: String },
}

/// One notification as the report's owner can see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub id: String,
    pub kind: DeliveryKind,
    pub target: String,
    /// `Pending`, `Delivered` or `Failed`.
    pub status: String,
    pub attempts: u32,
    pub last_result: Option<String>,
}
