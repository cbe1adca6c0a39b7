//! Validation of every request, in one place for the client and the server.
//!
//! Each request type implements [`Validate`]: it either yields a checked value (a parsed
//! [`DateRange`], trimmed identifiers) or the complete list of field errors, ServiceStack style
//! (`errorCode`, `fieldName` in PascalCase, a readable message), so a form can show every problem
//! at once. The server answers 400 with exactly these errors; the client refuses to send a request
//! that would get them.
//!
//! ```
//! use evo_billing_core::dto::NewBillable;
//! use evo_billing_core::validation::Validate;
//! let only_call = NewBillable { call_sid: Some("CA123".into()), ..Default::default() };
//! let errors = only_call.validate().unwrap_err();
//! let fields: Vec<&str> = errors.0.iter().map(|e| e.field).collect();
//! assert_eq!(fields, ["SessionId", "AccountId", "CustomerId"]);
//! ```

use std::fmt;

use crate::date_range::{parse_api_date, DateError, DateRange, Granularity};
use crate::dto::{
    Authenticate, BillingReport, CreateAccount, CreateApiKey, CreateCustomer, GetBilling,
    GetBillingSeries, ListAccounts, ListApiKeys, ListCustomers, ListUsageRecords, NewBillable,
    ResponseError, ResponseStatus, RevokeApiKey, UpdateAccount, UpdateCustomer,
};
use crate::money::Currency;

/// The longest range any operation answers, in days: ten years and their leap days. The roll-ups
/// have yearly and monthly tiers, so a long range costs a few rows per customer, not one per day;
/// the bound only stops ranges no one means (typos such as the year 2206).
pub const MAX_RANGE_DAYS: i64 = 3_660;
/// The longest range GetBilling and GetBillingSeries answer, in days.
pub const MAX_BILLING_DAYS: i64 = MAX_RANGE_DAYS;
/// The longest range ListUsageRecords answers, in days.
pub const MAX_USAGE_DAYS: i64 = MAX_RANGE_DAYS;
/// The longest range a BillingReport covers, in days.
pub const MAX_REPORT_DAYS: i64 = MAX_RANGE_DAYS;
/// The longest identifier (account, customer, session, call SID) accepted.
pub const MAX_ID_LEN: usize = 128;
/// The longest email address (RFC 5321).
pub const MAX_EMAIL_LEN: usize = 254;
/// The longest webhook URL.
pub const MAX_URL_LEN: usize = 2048;
/// The longest account or customer name.
pub const MAX_NAME_LEN: usize = 200;
/// The most periods one answer splits a range into (GetBillingSeries, ListUsageRecords).
pub const MAX_PERIODS: usize = 1_000;
/// The most customers one page of ListCustomers holds (and its default page size).
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// ServiceStack/FluentValidation style code: `NotEmpty`, `MaximumLength`, `InvalidDate`, ...
    pub code: &'static str,
    /// PascalCase property name, e.g. `AccountId`.
    pub field: &'static str,
    pub message: String,
}

/// Every problem of one request, in field order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The API's error body: top-level code and message are those of the first field error.
    pub fn to_response_status(&self) -> ResponseStatus {
        let first = self.0.first();
        ResponseStatus {
            error_code: Some(first.map_or("ValidationError", |e| e.code).to_string()),
            message: Some(first.map_or_else(|| "Validation failed".into(), |e| e.message.clone())),
            stack_trace: None,
            errors: self
                .0
                .iter()
                .map(|e| ResponseError {
                    error_code: Some(e.code.to_string()),
                    field_name: Some(e.field.to_string()),
                    message: Some(e.message.clone()),
                })
                .collect(),
        }
    }

    pub fn fields(&self) -> Vec<&'static str> {
        self.0.iter().map(|e| e.field).collect()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join(" "))
    }
}

impl std::error::Error for ValidationErrors {}

/// A request that can be checked before it is sent or served.
pub trait Validate {
    /// The checked form of the request.
    type Valid;
    fn validate(&self) -> Result<Self::Valid, ValidationErrors>;
}

/// `AccountId` → `Account Id`, the way FluentValidation names a property in its messages.
pub fn display_name(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for (i, c) in field.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Collects field errors while a request is checked.
#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn push(&mut self, code: &'static str, field: &'static str, message: String) {
        self.errors.push(FieldError {
            code,
            field,
            message,
        });
    }

    fn not_empty(&mut self, field: &'static str) {
        self.push(
            "NotEmpty",
            field,
            format!("'{}' must not be empty.", display_name(field)),
        );
    }

    /// An identifier: `None` when absent or blank (no error); checks length and characters.
    fn optional_id(&mut self, field: &'static str, value: &Option<String>) -> Option<String> {
        let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        if v.chars().count() > MAX_ID_LEN {
            self.push(
                "MaximumLength",
                field,
                format!(
                    "The length of '{}' must be {MAX_ID_LEN} characters or fewer.",
                    display_name(field)
                ),
            );
            return None;
        }
        if v.chars().any(char::is_control) {
            self.push(
                "InvalidCharacters",
                field,
                format!(
                    "'{}' must not contain control characters.",
                    display_name(field)
                ),
            );
            return None;
        }
        Some(v.to_string())
    }

    /// A name (of an account or customer): trimmed, at most [`MAX_NAME_LEN`] characters, no
    /// control characters. `None` when absent or blank (no error).
    fn optional_name(&mut self, field: &'static str, value: &Option<String>) -> Option<String> {
        let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        if v.chars().count() > MAX_NAME_LEN {
            self.push(
                "MaximumLength",
                field,
                format!(
                    "The length of '{}' must be {MAX_NAME_LEN} characters or fewer.",
                    display_name(field)
                ),
            );
            return None;
        }
        if v.chars().any(char::is_control) {
            self.push(
                "InvalidCharacters",
                field,
                format!(
                    "'{}' must not contain control characters.",
                    display_name(field)
                ),
            );
            return None;
        }
        Some(v.to_string())
    }

    fn required_name(&mut self, field: &'static str, value: &Option<String>) -> Option<String> {
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
            self.not_empty(field);
            return None;
        }
        self.optional_name(field, value)
    }

    /// A range split into periods: at most [`MAX_PERIODS`] of them.
    fn periods(&mut self, range: Option<DateRange>, granularity: Granularity) -> Option<DateRange> {
        let r = range?;
        let count = r.period_count(granularity);
        if count > MAX_PERIODS as i64 {
            self.push(
                "TooManyPeriods",
                "Granularity",
                format!(
                    "The range splits into {count} periods; at most {MAX_PERIODS} are answered. Ask for a coarser 'Granularity' or a shorter range."
                ),
            );
            return None;
        }
        Some(r)
    }

    /// A required identifier: a `NotEmpty` error when absent or blank.
    fn required_id(&mut self, field: &'static str, value: &Option<String>) -> Option<String> {
        let blank = value.as_deref().is_none_or(|v| v.trim().is_empty());
        if blank {
            self.not_empty(field);
            return None;
        }
        self.optional_id(field, value)
    }

    fn required_date(
        &mut self,
        field: &'static str,
        value: &Option<String>,
    ) -> Option<chrono::NaiveDate> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => {
                self.not_empty(field);
                None
            }
            Some(text) => match parse_api_date(text) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.push(
                        "InvalidDate",
                        field,
                        format!("'{}' is not a valid date: {e}.", display_name(field)),
                    );
                    None
                }
            },
        }
    }

    /// Start and end dates: both required, end ≥ start, at most `max_days` days.
    fn range(
        &mut self,
        start: &Option<String>,
        end: &Option<String>,
        max_days: i64,
    ) -> Option<DateRange> {
        let start = self.required_date("StartDate", start);
        let end = self.required_date("EndDate", end);
        let (start, end) = (start?, end?);
        match DateRange::new(start, end).and_then(|r| r.check_max_days(max_days)) {
            Ok(r) => Some(r),
            Err(DateError::Inverted { start, end }) => {
                self.push(
                    "GreaterThanOrEqual",
                    "EndDate",
                    format!(
                        "'End Date' ({}) must be on or after 'Start Date' ({}).",
                        crate::date_range::ymd(end),
                        crate::date_range::ymd(start)
                    ),
                );
                None
            }
            Err(e @ DateError::TooLong { .. }) => {
                self.push(
                    "DateRangeTooLong",
                    "EndDate",
                    format!("The date range is too long: {e}. Ask for a shorter range."),
                );
                None
            }
            Err(e) => {
                self.push("InvalidDate", "EndDate", e.to_string());
                None
            }
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, ValidationErrors> {
        match (self.errors.is_empty(), value) {
            (true, Some(v)) => Ok(v),
            (false, _) => Err(ValidationErrors(self.errors)),
            (true, None) => Err(ValidationErrors(vec![FieldError {
                code: "ValidationError",
                field: "Request",
                message: "The request is not valid.".into(),
            }])),
        }
    }
}

/// Who a billable is for: a call session, or an account and customer (or both, which the server
/// then checks for contradictions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewBillable {
    pub call_sid: String,
    pub session_id: Option<String>,
    pub account_id: Option<String>,
    pub customer_id: Option<String>,
}

impl Validate for NewBillable {
    type Valid = ValidNewBillable;

    fn validate(&self) -> Result<ValidNewBillable, ValidationErrors> {
        let mut c = Checker::default();
        let session_id = c.optional_id("SessionId", &self.session_id);
        let session_given = self
            .session_id
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty());
        let account_blank = self
            .account_id
            .as_deref()
            .is_none_or(|s| s.trim().is_empty());
        let customer_blank = self
            .customer_id
            .as_deref()
            .is_none_or(|s| s.trim().is_empty());
        if !session_given && account_blank && customer_blank {
            c.push(
                "NotEmpty",
                "SessionId",
                "Specify either 'Session Id', or both 'Account Id' and 'Customer Id'.".into(),
            );
        }
        let (account_id, customer_id) = if session_given {
            (
                c.optional_id("AccountId", &self.account_id),
                c.optional_id("CustomerId", &self.customer_id),
            )
        } else {
            (
                required_without_session(&mut c, "AccountId", &self.account_id),
                required_without_session(&mut c, "CustomerId", &self.customer_id),
            )
        };
        let call_sid = c.required_id("CallSid", &self.call_sid);
        let valid = call_sid.map(|call_sid| ValidNewBillable {
            call_sid,
            session_id,
            account_id,
            customer_id,
        });
        c.finish(valid)
    }
}

fn required_without_session(
    c: &mut Checker,
    field: &'static str,
    value: &Option<String>,
) -> Option<String> {
    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        c.push(
            "NotEmpty",
            field,
            format!(
                "'{}' must not be empty when no 'Session Id' is given.",
                display_name(field)
            ),
        );
        return None;
    }
    c.optional_id(field, value)
}

/// A checked GetBilling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingQuery {
    pub account_id: String,
    pub range: DateRange,
    pub customer_id: Option<String>,
}

impl Validate for GetBilling {
    type Valid = BillingQuery;

    fn validate(&self) -> Result<BillingQuery, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let range = c.range(&self.start_date, &self.end_date, MAX_BILLING_DAYS);
        let customer_id = c.optional_id("CustomerId", &self.customer_id);
        let valid = account_id
            .zip(range)
            .map(|(account_id, range)| BillingQuery {
                account_id,
                range,
                customer_id,
            });
        c.finish(valid)
    }
}

/// A checked ListUsageRecords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub account_id: String,
    pub range: DateRange,
    pub granularity: Granularity,
}

impl Validate for ListUsageRecords {
    type Valid = UsageQuery;

    fn validate(&self) -> Result<UsageQuery, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let granularity = self.granularity.unwrap_or_default();
        let range = c.range(&self.start_date, &self.end_date, MAX_USAGE_DAYS);
        let range = c.periods(range, granularity);
        let valid = account_id.zip(range).map(|(account_id, range)| UsageQuery {
            account_id,
            range,
            granularity,
        });
        c.finish(valid)
    }
}

/// A checked BillingReport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub account_id: String,
    pub range: DateRange,
    pub include_customer_ids: bool,
    pub email_address_to_notify: Option<String>,
    pub webhook_url: Option<String>,
}

impl Validate for BillingReport {
    type Valid = ReportQuery;

    fn validate(&self) -> Result<ReportQuery, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let range = c.range(&self.start_date, &self.end_date, MAX_REPORT_DAYS);
        let email = self
            .email_address_to_notify
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(e) = email {
            if !is_email(e) {
                c.push(
                    "Email",
                    "EmailAddressToNotify",
                    "'Email Address To Notify' is not a valid email address.".into(),
                );
            }
        }
        let webhook = self
            .webhook_url
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(w) = webhook {
            if let Err(why) = check_webhook_url(w) {
                c.push(
                    "InvalidUrl",
                    "WebhookUrl",
                    format!("'Webhook Url' is not a valid http(s) URL: {why}."),
                );
            }
        }
        let valid = account_id
            .zip(range)
            .map(|(account_id, range)| ReportQuery {
                account_id,
                range,
                include_customer_ids: self.include_customer_ids,
                email_address_to_notify: email.map(str::to_string),
                webhook_url: webhook.map(str::to_string),
            });
        c.finish(valid)
    }
}

/// Checked credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user_name: String,
    pub password: String,
    pub remember_me: bool,
}

impl Validate for Authenticate {
    type Valid = Credentials;

    fn validate(&self) -> Result<Credentials, ValidationErrors> {
        let mut c = Checker::default();
        if let Some(p) = self.provider.as_deref().filter(|p| !p.trim().is_empty()) {
            if !p.trim().eq_ignore_ascii_case("credentials") {
                c.push(
                    "NotSupported",
                    "Provider",
                    format!(
                        "Provider '{}' is not supported; use 'credentials'.",
                        p.chars().take(40).collect::<String>()
                    ),
                );
            }
        }
        let user = c.required_id("UserName", &self.user_name);
        let password = match self.password.as_deref() {
            None | Some("") => {
                c.not_empty("Password");
                None
            }
            Some(p) if p.len() > 1024 => {
                c.push(
                    "MaximumLength",
                    "Password",
                    "The length of 'Password' must be 1024 characters or fewer.".into(),
                );
                None
            }
            Some(p) => Some(p.to_string()),
        };
        let valid = user.zip(password).map(|(user_name, password)| Credentials {
            user_name,
            password,
            remember_me: self.remember_me.unwrap_or(false),
        });
        c.finish(valid)
    }
}

/// A checked GetBillingSeries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesQuery {
    pub account_id: String,
    pub range: DateRange,
    pub granularity: Granularity,
    pub customer_id: Option<String>,
}

impl Validate for GetBillingSeries {
    type Valid = SeriesQuery;

    fn validate(&self) -> Result<SeriesQuery, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let range = c.range(&self.start_date, &self.end_date, MAX_BILLING_DAYS);
        let granularity = self.granularity;
        if granularity.is_none() {
            c.push(
                "NotEmpty",
                "Granularity",
                "'Granularity' must not be empty: daily, weekly or monthly.".into(),
            );
        }
        let range = c.periods(range, granularity.unwrap_or_default());
        let customer_id = c.optional_id("CustomerId", &self.customer_id);
        let valid =
            account_id
                .zip(range)
                .zip(granularity)
                .map(|((account_id, range), granularity)| SeriesQuery {
                    account_id,
                    range,
                    granularity,
                    customer_id,
                });
        c.finish(valid)
    }
}

impl Validate for ListAccounts {
    type Valid = ();

    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

/// A checked ListCustomers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerListQuery {
    pub account_id: String,
    pub parent_id: Option<String>,
    pub name_filter: Option<String>,
    /// From 0.
    pub page: u32,
    pub count_per_page: u32,
    pub fields: CustomerFields,
}

/// The fields of a customer that ListCustomers returns (`id` and `depth` always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerFields {
    pub account_id: bool,
    pub name: bool,
    pub parent_id: bool,
    pub breadcrumb: bool,
}

impl CustomerFields {
    pub const ALL: CustomerFields = CustomerFields {
        account_id: true,
        name: true,
        parent_id: true,
        breadcrumb: true,
    };

    /// Reads a `fields` list: names separated by commas, in any case, blanks around them ignored;
    /// `None` and an empty list mean every field. Errs with the first name that is not a field.
    pub fn parse(list: Option<&str>) -> Result<CustomerFields, String> {
        let names = list.map(str::trim).filter(|l| !l.is_empty());
        let Some(names) = names else {
            return Ok(CustomerFields::ALL);
        };
        let mut f = CustomerFields {
            account_id: false,
            name: false,
            parent_id: false,
            breadcrumb: false,
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let is = |field: &str| name.eq_ignore_ascii_case(field);
            if is("accountId") {
                f.account_id = true;
            } else if is("name") {
                f.name = true;
            } else if is("parentId") {
                f.parent_id = true;
            } else if is("breadcrumb") {
                f.breadcrumb = true;
            } else if !is("id") && !is("depth") {
                return Err(name.to_string());
            }
        }
        Ok(f)
    }
}

impl Validate for ListCustomers {
    type Valid = CustomerListQuery;

    fn validate(&self) -> Result<CustomerListQuery, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let parent_id = c.optional_id("ParentId", &self.parent_id);
        let name_filter = c.optional_name("NameFilter", &self.name_filter);
        let count_per_page = self.count_per_page.unwrap_or(MAX_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&count_per_page) {
            c.push(
                "InclusiveBetween",
                "CountPerPage",
                format!("'Count Per Page' must be between 1 and {MAX_PAGE_SIZE}."),
            );
        }
        let page = self.page.unwrap_or(0);
        if u64::from(page) * u64::from(count_per_page.max(1)) > 10_000_000 {
            c.push(
                "InclusiveBetween",
                "Page",
                "'Page' is beyond the last customer any account can have.".into(),
            );
        }
        let fields = CustomerFields::parse(self.fields.as_deref()).unwrap_or_else(|name| {
            let shown: String = name.chars().take(40).collect();
            c.push(
                "NotSupported",
                "Fields",
                format!("'{shown}' is not a field of a customer (id, accountId, name, parentId, breadcrumb, depth)."),
            );
            CustomerFields::ALL
        });
        let valid = account_id.map(|account_id| CustomerListQuery {
            account_id,
            parent_id,
            name_filter,
            page,
            count_per_page,
            fields,
        });
        c.finish(valid)
    }
}

/// A checked CreateAccount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub id: Option<String>,
    pub name: String,
    pub account_sid: Option<String>,
    pub currency: Currency,
    /// Upper-case ISO 3166-1 alpha-2.
    pub home_country: String,
}

/// Is this a Twilio-style account SID (`AC` and 32 hexadecimal digits)?
pub fn is_account_sid(text: &str) -> bool {
    text.len() == 34 && text.starts_with("AC") && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl Validate for CreateAccount {
    type Valid = NewAccount;

    fn validate(&self) -> Result<NewAccount, ValidationErrors> {
        let mut c = Checker::default();
        let id = c.optional_id("Id", &self.id);
        let name = c.required_name("Name", &self.name);
        let account_sid = c.optional_id("AccountSid", &self.account_sid);
        if let Some(sid) = account_sid.as_deref().filter(|s| !is_account_sid(s)) {
            c.push(
                "InvalidAccountSid",
                "AccountSid",
                format!(
                    "'Account Sid' must be AC followed by 32 hexadecimal digits, not '{}'.",
                    sid.chars().take(40).collect::<String>()
                ),
            );
        }
        let currency = match self.currency.as_deref().map(str::trim) {
            None | Some("") => {
                c.not_empty("Currency");
                None
            }
            Some(code) => match Currency::new(code) {
                Ok(cur) => Some(cur),
                Err(_) => {
                    c.push(
                        "InvalidCurrency",
                        "Currency",
                        "'Currency' must be a three-letter ISO 4217 code such as USD.".into(),
                    );
                    None
                }
            },
        };
        let home_country = match self.home_country.as_deref().map(str::trim) {
            None | Some("") => {
                c.not_empty("HomeCountry");
                None
            }
            Some(cc) if cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(cc.to_ascii_uppercase())
            }
            Some(_) => {
                c.push(
                    "InvalidCountry",
                    "HomeCountry",
                    "'Home Country' must be a two-letter ISO 3166-1 code such as US.".into(),
                );
                None
            }
        };
        let valid = name
            .zip(currency)
            .zip(home_country)
            .map(|((name, currency), home_country)| NewAccount {
                id,
                name,
                account_sid: account_sid.filter(|s| is_account_sid(s)),
                currency,
                home_country,
            });
        c.finish(valid)
    }
}

/// A checked UpdateAccount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRename {
    pub account_id: String,
    pub name: String,
}

impl Validate for UpdateAccount {
    type Valid = AccountRename;

    fn validate(&self) -> Result<AccountRename, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let name = c.required_name("Name", &self.name);
        let valid = account_id
            .zip(name)
            .map(|(account_id, name)| AccountRename { account_id, name });
        c.finish(valid)
    }
}

/// A checked CreateApiKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    /// Days until it expires; `None`: never.
    pub expires_in_days: Option<u32>,
}

/// The longest an API key can be made to last, in days.
pub const MAX_API_KEY_DAYS: u32 = 3_660;

impl Validate for CreateApiKey {
    type Valid = NewApiKey;

    fn validate(&self) -> Result<NewApiKey, ValidationErrors> {
        let mut c = Checker::default();
        let name = c.required_name("Name", &self.name);
        if let Some(d) = self.expires_in_days {
            if !(1..=MAX_API_KEY_DAYS).contains(&d) {
                c.push(
                    "InclusiveBetween",
                    "ExpiresInDays",
                    format!("'Expires In Days' must be between 1 and {MAX_API_KEY_DAYS}. You entered {d}."),
                );
            }
        }
        let valid = name.map(|name| NewApiKey {
            name,
            expires_in_days: self.expires_in_days,
        });
        c.finish(valid)
    }
}

impl Validate for RevokeApiKey {
    type Valid = String;

    fn validate(&self) -> Result<String, ValidationErrors> {
        let mut c = Checker::default();
        let id = c.required_id("Id", &self.id);
        c.finish(id)
    }
}

impl Validate for ListApiKeys {
    type Valid = ();

    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

/// A checked CreateCustomer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub account_id: String,
    pub id: Option<String>,
    pub name: String,
    pub parent_id: Option<String>,
}

impl Validate for CreateCustomer {
    type Valid = NewCustomer;

    fn validate(&self) -> Result<NewCustomer, ValidationErrors> {
        let mut c = Checker::default();
        let account_id = c.required_id("AccountId", &self.account_id);
        let id = c.optional_id("Id", &self.id);
        let name = c.required_name("Name", &self.name);
        let parent_id = c.optional_id("ParentId", &self.parent_id);
        if let (Some(i), Some(p)) = (&id, &parent_id) {
            if i == p {
                c.push(
                    "NotEqual",
                    "ParentId",
                    "A customer cannot be its own parent.".into(),
                );
            }
        }
        let valid = account_id.zip(name).map(|(account_id, name)| NewCustomer {
            account_id,
            id,
            name,
            parent_id,
        });
        c.finish(valid)
    }
}

/// Where an updated customer goes in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewParent {
    /// Stay where it is.
    Unchanged,
    Root,
    Below(String),
}

/// A checked UpdateCustomer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerChange {
    pub customer_id: String,
    pub name: Option<String>,
    pub parent: NewParent,
}

impl Validate for UpdateCustomer {
    type Valid = CustomerChange;

    fn validate(&self) -> Result<CustomerChange, ValidationErrors> {
        let mut c = Checker::default();
        let customer_id = c.required_id("CustomerId", &self.customer_id);
        let name = c.optional_name("Name", &self.name);
        let parent_id = c.optional_id("ParentId", &self.parent_id);
        let parent = match (&parent_id, self.make_root) {
            (Some(_), true) => {
                c.push(
                    "Conflict",
                    "ParentId",
                    "Give either 'Parent Id' or 'Make Root', not both.".into(),
                );
                NewParent::Unchanged
            }
            (Some(p), false) => NewParent::Below(p.clone()),
            (None, true) => NewParent::Root,
            (None, false) => NewParent::Unchanged,
        };
        if let (Some(id), NewParent::Below(p)) = (&customer_id, &parent) {
            if id == p {
                c.push(
                    "NotEqual",
                    "ParentId",
                    "A customer cannot be its own parent.".into(),
                );
            }
        }
        let nothing = name.is_none()
            && parent == NewParent::Unchanged
            && self.name.as_deref().is_none_or(|n| n.trim().is_empty())
            && parent_id.is_none()
            && !self.make_root;
        if nothing {
            c.push(
                "NotEmpty",
                "Name",
                "Nothing to change: give a 'Name', a 'Parent Id' or 'Make Root'.".into(),
            );
        }
        let valid = customer_id.map(|customer_id| CustomerChange {
            customer_id,
            name,
            parent,
        });
        c.finish(valid)
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain of letters, digits,
/// hyphens; no spaces. (Deliverability is the mail server's business.)
pub fn is_email(text: &str) -> bool {
    if text.len() > MAX_EMAIL_LEN || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// The host part of an http(s) URL, lower-cased, without brackets for IPv6 literals.
pub fn url_host(url: &str) -> Option<String> {
    let rest = strip_scheme(url)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn strip_scheme(url: &str) -> Option<&str> {
    let lower_prefix = |p: &str| {
        url.get(..p.len())
            .filter(|s| s.eq_ignore_ascii_case(p))
            .map(|_| &url[p.len()..])
    };
    lower_prefix("https://").or_else(|| lower_prefix("http://"))
}

/// Checks a webhook URL's syntax: http or https, a host, an optional numeric port, no spaces or
/// credentials. Whether the host may be reached (no private addresses) is the server's check.
pub fn check_webhook_url(url: &str) -> Result<(), &'static str> {
    if url.len() > MAX_URL_LEN {
        return Err("it is longer than 2048 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains spaces or control characters");
    }
    let rest = strip_scheme(url).ok_or("it must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("credentials in the URL are not allowed");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("the IPv6 address is not closed")?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("it has no host");
    }
    if !host
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
    {
        return Err("the host has characters a host name cannot have");
    }
    if let Some(p) = port {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Err("the port must be a number from 1 to 65535"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn new_billable_rules() {
        let only_call = NewBillable {
            call_sid: s("CA1"),
            ..Default::default()
        };
        let e = only_call.validate().unwrap_err();
        assert_eq!(e.fields(), ["SessionId", "AccountId", "CustomerId"]);
        assert!(e.0.iter().all(|e| e.code == "NotEmpty"));

        let account_only = NewBillable {
            account_id: s("acc"),
            call_sid: s("CA1"),
            ..Default::default()
        };
        assert_eq!(
            account_only.validate().unwrap_err().fields(),
            ["CustomerId"]
        );

        let by_session = NewBillable {
            session_id: s("sess"),
            call_sid: s(" CA1 "),
            ..Default::default()
        };
        let v = by_session.validate().unwrap();
        assert_eq!(v.call_sid, "CA1");
        assert_eq!(v.session_id.as_deref(), Some("sess"));

        let by_customer = NewBillable {
            account_id: s("acc"),
            customer_id: s("cus"),
            call_sid: s("CA1"),
            ..Default::default()
        };
        assert!(by_customer.validate().is_ok());

        let no_call = NewBillable {
            session_id: s("sess"),
            call_sid: s("   "),
            ..Default::default()
        };
        assert_eq!(no_call.validate().unwrap_err().fields(), ["CallSid"]);

        let nothing = NewBillable::default().validate().unwrap_err();
        assert_eq!(
            nothing.fields(),
            ["SessionId", "AccountId", "CustomerId", "CallSid"]
        );
        let status = nothing.to_response_status();
        assert_eq!(status.error_code.as_deref(), Some("NotEmpty"));
        assert_eq!(status.errors.len(), 4);
        assert_eq!(status.message, status.errors[0].message);
    }

    #[test]
    fn identifiers_are_bounded() {
        let long = NewBillable {
            session_id: s("s"),
            call_sid: Some("C".repeat(MAX_ID_LEN + 1)),
            ..Default::default()
        };
        let e = long.validate().unwrap_err();
        assert_eq!(e.0[0].code, "MaximumLength");
        let control = NewBillable {
            session_id: s("s"),
            call_sid: s("CA\u{0}1"),
            ..Default::default()
        };
        assert_eq!(
            control.validate().unwrap_err().0[0].code,
            "InvalidCharacters"
        );
    }

    #[test]
    fn get_billing_rules() {
        let empty = GetBilling::default().validate().unwrap_err();
        assert_eq!(empty.fields(), ["AccountId", "StartDate", "EndDate"]);
        assert_eq!(empty.0[0].message, "'Account Id' must not be empty.");

        let ok = GetBilling {
            account_id: s("acc"),
            start_date: s("2026-03-01T10:00:00Z"),
            end_date: s("2026-03-31"),
            customer_id: s(""),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.range.days(), 31);
        assert_eq!(ok.customer_id, None);

        let inverted = GetBilling {
            account_id: s("acc"),
            start_date: s("2026-03-02"),
            end_date: s("2026-03-01"),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(inverted.0[0].code, "GreaterThanOrEqual");
        assert_eq!(inverted.0[0].field, "EndDate");

        let too_long = GetBilling {
            account_id: s("acc"),
            start_date: s("2016-01-01"),
            end_date: s("2026-01-08"),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(too_long.0[0].code, "DateRangeTooLong");
        assert!(too_long.0[0].message.contains("3660"));
        let longest = GetBilling {
            account_id: s("acc"),
            start_date: s("2016-01-01"),
            end_date: s("2026-01-07"),
            ..Default::default()
        };
        assert_eq!(longest.validate().unwrap().range.days(), MAX_BILLING_DAYS);

        let bad_date = GetBilling {
            account_id: s("acc"),
            start_date: s("yesterday"),
            end_date: s("2026-02-30"),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(bad_date.fields(), ["StartDate", "EndDate"]);
        assert!(bad_date.0.iter().all(|e| e.code == "InvalidDate"));
    }

    #[test]
    fn usage_and_report_rules() {
        let u = ListUsageRecords {
            account_id: s("acc"),
            start_date: s("2026-01-01"),
            end_date: s("2026-01-31"),
            granularity: Some(Granularity::Daily),
        }
        .validate()
        .unwrap();
        assert_eq!(u.granularity, Granularity::Daily);

        let r = BillingReport {
            account_id: s("acc"),
            start_date: s("2026-01-01"),
            end_date: s("2026-01-31"),
            email_address_to_notify: s("not an email"),
            webhook_url: s("ftp://example.com/x"),
            include_customer_ids: true,
        }
        .validate()
        .unwrap_err();
        assert_eq!(r.fields(), ["EmailAddressToNotify", "WebhookUrl"]);
        assert_eq!(r.0[0].code, "Email");
        assert_eq!(r.0[1].code, "InvalidUrl");

        let ok = BillingReport {
            account_id: s("acc"),
            start_date: s("2025-01-01"),
            end_date: s("2026-12-31"),
            email_address_to_notify: s("ops@example.com"),
            webhook_url: s("https://hooks.example.com:8443/billing?x=1"),
            include_customer_ids: false,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.range.days(), 730);
    }

    #[test]
    fn emails_and_urls() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "ü@exämple.de"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@-b.com", "a@b..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for ok in [
            "http://a.example",
            "HTTPS://x.example/p?q#f",
            "http://[::1]:8080/x",
            "http://127.0.0.1:9/",
        ] {
            assert_eq!(check_webhook_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "example.com",
            "https://",
            "https://user:pw@example.com",
            "https://exa mple.com",
            "https://example.com:0",
            "https://example.com:99999",
            "javascript:alert(1)",
            "https://ex<ample>.com",
        ] {
            assert!(check_webhook_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            url_host("https://Hooks.Example.com:8443/x").as_deref(),
            Some("hooks.example.com")
        );
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("::1"));
    }

    #[test]
    fn credentials() {
        let e = Authenticate::default().validate().unwrap_err();
        assert_eq!(e.fields(), ["UserName", "Password"]);
        let e = Authenticate {
            provider: s("twitter"),
            user_name: s("u"),
            password: s("p"),
            remember_me: None,
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.fields(), ["Provider"]);
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("AccountId"), "Account Id");
        assert_eq!(
            display_name("EmailAddressToNotify"),
            "Email Address To Notify"
        );
    }

    #[test]
    fn series_needs_a_granularity_and_bounded_periods() {
        let ok = GetBillingSeries {
            account_id: s("acc"),
            start_date: s("2025-11-01"),
            end_date: s("2026-11-30"),
            granularity: Some(Granularity::Monthly),
            customer_id: None,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.range.periods(ok.granularity).len(), 13);
        let missing = GetBillingSeries {
            granularity: None,
            ..GetBillingSeries {
                account_id: s("acc"),
                start_date: s("2026-01-01"),
                end_date: s("2026-01-31"),
                ..Default::default()
            }
        }
        .validate()
        .unwrap_err();
        assert_eq!(missing.fields(), ["Granularity"]);
        let usage = ListUsageRecords {
            account_id: s("acc"),
            start_date: s("2023-01-01"),
            end_date: s("2026-01-01"),
            granularity: Some(Granularity::Daily),
        };
        let too_many = usage.validate().unwrap_err();
        assert_eq!(too_many.0[0].code, "TooManyPeriods");
        assert!(ListUsageRecords {
            granularity: Some(Granularity::Monthly),
            ..usage
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn account_and_customer_management() {
        let a = CreateAccount {
            name: s("  Initech  "),
            currency: s("gbp"),
            home_country: s("gb"),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            (a.name.as_str(), a.currency.code(), a.home_country.as_str()),
            ("Initech", "GBP", "GB")
        );
        let bad = CreateAccount {
            account_sid: s("AC123"),
            currency: s("dollars"),
            home_country: s("USA"),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            bad.fields(),
            ["Name", "AccountSid", "Currency", "HomeCountry"]
        );
        assert!(is_account_sid("AC0123456789abcdef0123456789ABCDEF"));
        assert!(!is_account_sid("AC0123456789abcdef0123456789ABCDEG"));

        let long_name = "x".repeat(MAX_NAME_LEN + 1);
        let e = UpdateAccount {
            account_id: s("acc"),
            name: Some(long_name),
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0[0].code, "MaximumLength");

        let c = CreateCustomer {
            account_id: s("acc"),
            id: s("cus-1"),
            name: s("Acme"),
            parent_id: s("cus-1"),
        }
        .validate()
        .unwrap_err();
        assert_eq!(c.fields(), ["ParentId"]);

        let nothing = UpdateCustomer {
            customer_id: s("cus-1"),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(nothing.fields(), ["Name"]);
        let both = UpdateCustomer {
            customer_id: s("cus-1"),
            parent_id: s("cus-2"),
            make_root: true,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(both.fields(), ["ParentId"]);
        let moved = UpdateCustomer {
            customer_id: s("cus-1"),
            parent_id: s("cus-2"),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(moved.parent, NewParent::Below("cus-2".into()));
        assert_eq!(
            UpdateCustomer {
                customer_id: s("cus-1"),
                make_root: true,
                ..Default::default()
            }
            .validate()
            .unwrap()
            .parent,
            NewParent::Root
        );
    }

    #[test]
    fn api_key_requests() {
        let ok = CreateApiKey {
            name: Some(" exporter ".into()),
            expires_in_days: Some(30),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.name, "exporter");
        assert_eq!(ok.expires_in_days, Some(30));
        for days in [0, MAX_API_KEY_DAYS + 1] {
            let e = CreateApiKey {
                name: Some("k".into()),
                expires_in_days: Some(days),
            }
            .validate()
            .unwrap_err();
            assert_eq!(e.0[0].field, "ExpiresInDays");
        }
        let e = CreateApiKey::default().validate().unwrap_err();
        assert_eq!(e.0[0].field, "Name");
        assert_eq!(
            RevokeApiKey {
                id: Some("key_1".into())
            }
            .validate()
            .unwrap(),
            "key_1"
        );
        assert!(RevokeApiKey::default().validate().is_err());
    }

    #[test]
    fn customer_list_paging() {
        let q = ListCustomers {
            account_id: s("acc"),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((q.page, q.count_per_page), (0, MAX_PAGE_SIZE));
        let e = ListCustomers {
            account_id: s("acc"),
            count_per_page: Some(0),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.fields(), ["CountPerPage"]);
    }

    #[test]
    fn customer_list_fields() {
        let fields = |f: &str| {
            ListCustomers {
                account_id: s("acc"),
                fields: s(f),
                ..Default::default()
            }
            .validate()
            .map(|q| q.fields)
        };
        assert_eq!(
            ListCustomers {
                account_id: s("acc"),
                ..Default::default()
            }
            .validate()
            .unwrap()
            .fields,
            CustomerFields::ALL
        );
        assert_eq!(fields(" ").unwrap(), CustomerFields::ALL);
        let f = fields("id, NAME,parentId,,depth ").unwrap();
        assert!(f.name && f.parent_id && !f.account_id && !f.breadcrumb);
        assert_eq!(
            fields("id").unwrap(),
            CustomerFields::parse(Some("depth")).unwrap()
        );
        assert!(fields("accountId,breadcrumb").unwrap().breadcrumb);
        let e = fields("name,cost").unwrap_err();
        assert_eq!(e.fields(), ["Fields"]);
        assert!(e.to_string().contains("'cost'"), "{e}");
    }
}
