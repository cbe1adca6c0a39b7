//! The data the server holds, as plain Rust values (the storage layer maps them to tables).
//!
//! Times are Unix seconds (UTC); days are `chrono::NaiveDate`; money is exact [`Micros`] with a
//! [`Currency`]. Usage is kept per leaf category (`calls-inbound`, `sms-outbound`, ...); roll-up
//! categories (`calls`, `sms`, `phonenumbers`, `totalprice`) are computed when answering.

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

/// A customer of an account; customers form a tree per account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name: String,
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
    /// The usage category (Twilio's names).
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
    pub role: evo_billing_core::dto::Role,
    /// Manager: the accounts managed. Customer: its one account.
    pub account_ids: Vec<String>,
    /// Customer only: the customer whose subtree the user sees.
    pub customer_id: Option<String>,
}

/// Call minutes as Twilio bills them: rounded up to whole minutes, as a decimal count.
pub fn billed_minutes(duration_secs: i64) -> i64 {
    if duration_secs <= 0 {
        0
    } else {
        (duration_secs + 59) / 60
    }
}
