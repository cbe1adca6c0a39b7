//! The JavaScript API of the npm package `evo-billing` (wasm32 + feature `js`).
//!
//! Names are camelCase; every DTO's TypeScript declaration is generated from the Rust type by
//! tsify, so the `.d.ts` cannot drift from the code. Failures are thrown (or rejected) as JS
//! `Error`s named `ApiError` that carry `status` and `responseStatus`, the shape
//! `@servicestack/client` users know. Bad arguments from JavaScript (a number where a request
//! object belongs, a malformed date) produce such an error: nothing here panics, so the module
//! never traps.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tsify::Ts;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::aggregate::{self, BillingTotals, UsageSummary};
use crate::client::{ApiError, BillingClient as Client, Credentials, HttpRequest};
use crate::date_range::{DateRange, Granularity, Preset};
use crate::dto::{
    AuthenticateResponse, BillingInfo, BillingReport, GetBilling, ListUsageRecords, NewBillable,
    ReportInfo, UserInfo,
};
use crate::money::{Currency, Micros};
use crate::validation::{Validate, ValidationErrors};

// Handles typed only for TypeScript: optional parameters declared with these come out as
// `name?: T | null` in the .d.ts, and a wrong JS value cannot trap the glue (it stays a handle
// that the functions below check).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "string")]
    pub type JsText;
    #[wasm_bindgen(typescript_type = "number")]
    pub type JsCount;
    #[wasm_bindgen(typescript_type = "\"csv\" | \"xlsx\"")]
    pub type JsReportFormat;
}

fn opt_js<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::UNDEFINED, Into::into)
}

#[wasm_bindgen(typescript_custom_section)]
const TS_API_ERROR: &'static str = r#"
/** Every failure of this package: an Error with the HTTP status (0 when no answer came) and the
 * ServiceStack ResponseStatus (errorCode, message, errors[] per field). */
export interface ApiError extends Error {
  name: "ApiError";
  status: number;
  responseStatus: ResponseStatus;
}
"#;

/// Options of a [`BillingClient`] (JS).
#[derive(Debug, Clone, Default, serde::Deserialize, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ClientOptions {
    /// `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer_token: Option<String>,
    /// An API key (sent as HTTP Basic with the key as user name).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Send the browser's session cookie (the dashboard's sign-in).
    #[serde(default)]
    pub with_credentials: Option<bool>,
    /// Request timeout in milliseconds (default 30000).
    #[serde(default)]
    pub timeout_ms: Option<u32>,
}

/// A validated date range, as the API will read it.
#[derive(Debug, Clone, Serialize, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DateRangeInfo {
    pub start_date: String,
    pub end_date: String,
    /// Days in the range, both ends included.
    pub days: i64,
}

impl From<DateRange> for DateRangeInfo {
    fn from(r: DateRange) -> DateRangeInfo {
        DateRangeInfo {
            start_date: r.start_text(),
            end_date: r.end_text(),
            days: r.days(),
        }
    }
}

/// A preset's name and label.
#[derive(Debug, Clone, Serialize, tsify::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PresetInfo {
    pub name: String,
    pub label: String,
}

fn error_value(err: &ApiError) -> JsValue {
    let e = js_sys::Error::new(&err.to_string());
    e.set_name("ApiError");
    let status = to_js(&err.response_status).unwrap_or(JsValue::NULL);
    let _ = js_sys::Reflect::set(&e, &"status".into(), &JsValue::from(err.status));
    let _ = js_sys::Reflect::set(&e, &"responseStatus".into(), &status);
    e.into()
}

/// Rust → JS through JSON text and `JSON.parse`: one serde format in the binary instead of two
/// (smaller), and V8's parser builds objects faster than a field-by-field bridge.
fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| error_value(&ApiError::argument(e.to_string())))?;
    js_sys::JSON::parse(&text)
}

fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Err(error_value(&ApiError::argument(format!(
            "{what} is required."
        ))));
    }
    let shape_error = |e: String| {
        error_value(&ApiError::argument(format!(
            "{what} does not have the expected shape: {e}"
        )))
    };
    // JS → Rust through `JSON.stringify` (BigInt or cyclic values make it throw: a clear error).
    let text = js_sys::JSON::stringify(&value)
        .map_err(|_| shape_error("it cannot be written as JSON".into()))?;
    let text = text.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| shape_error(e.to_string()))
}

/// A required string argument. wasm-bindgen's own `&str` glue traps on a non-string (it reads
/// `.length` of whatever it gets), so every text parameter arrives as a JsValue and is checked here.
fn arg_text(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| error_value(&ApiError::argument(format!("{name} must be a string."))))
}

/// An optional string argument: `undefined` and `null` are absent.
fn opt_text(value: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        arg_text(value, name).map(Some)
    }
}

/// An optional whole number in `min..=max`.
fn opt_count(value: &JsValue, name: &str, min: u32, max: u32) -> Result<Option<u32>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(max) => {
            Ok(Some(n as u32))
        }
        _ => Err(error_value(&ApiError::argument(format!(
            "{name} must be a whole number from {min} to {max}."
        )))),
    }
}

/// Bytes from a `Uint8Array` (or a plain array of byte values).
fn arg_bytes(value: JsValue, name: &str) -> Result<Vec<u8>, JsValue> {
    let bad = || error_value(&ApiError::argument(format!("{name} must be a Uint8Array.")));
    if let Some(array) = value.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(array.to_vec());
    }
    let array = value.dyn_into::<js_sys::Array>().map_err(|_| bad())?;
    array
        .iter()
        .map(|v| match v.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=255.0).contains(&n) => Ok(n as u8),
            _ => Err(bad()),
        })
        .collect()
}

fn ts<T: tsify::Tsify + Serialize>(value: &T) -> Result<Ts<T>, JsValue> {
    Ok(Ts::new_unchecked(to_js(value)?))
}

fn errors_of<T: Validate>(request: &T) -> Result<JsValue, JsValue> {
    match request.validate() {
        Ok(_) => to_js(&Vec::<crate::dto::ResponseError>::new()),
        Err(e) => to_js(&e.to_response_status().errors),
    }
}

fn validation_error(e: &ValidationErrors) -> JsValue {
    error_value(&ApiError::validation(e))
}

/// Checks a NewBillable: `[]` when valid, else one ResponseError per bad field.
#[wasm_bindgen(js_name = validateNewBillable, unchecked_return_type = "ResponseError[]")]
pub fn validate_new_billable(
    #[wasm_bindgen(unchecked_param_type = "NewBillable")] request: JsValue,
) -> Result<JsValue, JsValue> {
    errors_of(&from_js::<NewBillable>(request, "request")?)
}

/// Checks a GetBilling: `[]` when valid, else one ResponseError per bad field.
#[wasm_bindgen(js_name = validateGetBilling, unchecked_return_type = "ResponseError[]")]
pub fn validate_get_billing(
    #[wasm_bindgen(unchecked_param_type = "GetBilling")] request: JsValue,
) -> Result<JsValue, JsValue> {
    errors_of(&from_js::<GetBilling>(request, "request")?)
}

/// Checks a BillingReport: `[]` when valid, else one ResponseError per bad field.
#[wasm_bindgen(js_name = validateBillingReport, unchecked_return_type = "ResponseError[]")]
pub fn validate_billing_report(
    #[wasm_bindgen(unchecked_param_type = "BillingReport")] request: JsValue,
) -> Result<JsValue, JsValue> {
    errors_of(&from_js::<BillingReport>(request, "request")?)
}

/// Checks a ListUsageRecords: `[]` when valid, else one ResponseError per bad field.
#[wasm_bindgen(js_name = validateListUsageRecords, unchecked_return_type = "ResponseError[]")]
pub fn validate_list_usage_records(
    #[wasm_bindgen(unchecked_param_type = "ListUsageRecords")] request: JsValue,
) -> Result<JsValue, JsValue> {
    errors_of(&from_js::<ListUsageRecords>(request, "request")?)
}

/// Parses two API dates (YYYY-MM-DD or ISO date-times; only the date part counts) into an
/// inclusive range. Throws an ApiError (400, field errors) when a date is bad, the end is before
/// the start, or the range is longer than `maxDays` (default 400).
#[wasm_bindgen(js_name = parseDateRange)]
pub fn parse_date_range(
    #[wasm_bindgen(js_name = startDate, unchecked_param_type = "string")] start_date: JsValue,
    #[wasm_bindgen(js_name = endDate, unchecked_param_type = "string")] end_date: JsValue,
    #[wasm_bindgen(js_name = maxDays)] max_days: Option<JsCount>,
) -> Result<Ts<DateRangeInfo>, JsValue> {
    let max_days = opt_count(&opt_js(max_days), "maxDays", 1, 100_000)?;
    let probe = GetBilling {
        account_id: Some("-".into()),
        start_date: Some(arg_text(&start_date, "startDate")?),
        end_date: Some(arg_text(&end_date, "endDate")?),
        customer_id: None,
    };
    let range = probe.validate().map_err(|e| validation_error(&e))?.range;
    let max = max_days.map_or(crate::validation::MAX_BILLING_DAYS, i64::from);
    let range = range.check_max_days(max).map_err(|e| {
        validation_error(&ValidationErrors(vec![crate::validation::FieldError {
            code: "DateRangeTooLong",
            field: "EndDate",
            message: format!("The date range is too long: {e}."),
        }]))
    })?;
    ts(&DateRangeInfo::from(range))
}

fn local_today() -> chrono::NaiveDate {
    let now = js_sys::Date::new_0();
    chrono::NaiveDate::from_ymd_opt(
        now.get_full_year() as i32,
        now.get_month() + 1,
        now.get_date(),
    )
    .unwrap_or_default()
}

/// The range of a dashboard preset (`today`, `last7Days`, `thisMonth`, `quarterToDate`, ...), for
/// `today` (YYYY-MM-DD; default: the local date).
#[wasm_bindgen(js_name = presetRange)]
pub fn preset_range(
    #[wasm_bindgen(unchecked_param_type = "Preset")] preset: JsValue,
    today: Option<JsText>,
) -> Result<Ts<DateRangeInfo>, JsValue> {
    let preset = arg_text(&preset, "preset")?;
    let today = opt_text(&opt_js(today), "today")?;
    let p = Preset::parse(&preset).ok_or_else(|| {
        error_value(&ApiError::argument(format!(
            "Unknown preset '{}'. Known: {}.",
            preset.chars().take(40).collect::<String>(),
            Preset::ALL.map(Preset::name).join(", ")
        )))
    })?;
    let today = match today {
        None => local_today(),
        Some(t) => crate::date_range::parse_api_date(&t)
            .map_err(|e| error_value(&ApiError::argument(e.to_string())))?,
    };
    ts(&DateRangeInfo::from(p.range(today)))
}

/// Every preset, in display order.
#[wasm_bindgen(js_name = datePresets, unchecked_return_type = "PresetInfo[]")]
pub fn date_presets() -> Result<JsValue, JsValue> {
    let all: Vec<PresetInfo> = Preset::ALL
        .iter()
        .map(|p| PresetInfo {
            name: p.name().into(),
            label: p.label().into(),
        })
        .collect();
    to_js(&all)
}

fn micros_of(value: &JsValue) -> Result<Micros, JsValue> {
    let parsed = if let Some(n) = value.as_f64() {
        Micros::from_f64(n)
    } else if let Some(s) = value.as_string() {
        s.parse()
    } else if let Ok(b) = value.clone().dyn_into::<js_sys::BigInt>() {
        let text: String = b.to_string(10).map(String::from).unwrap_or_default();
        text.parse()
    } else {
        return Err(error_value(&ApiError::argument(
            "An amount must be a number, a decimal string or a BigInt.",
        )));
    };
    parsed.map_err(|e| error_value(&ApiError::argument(e.to_string())))
}

/// The exact sum of amounts (numbers or decimal strings such as Twilio's `"-0.0085"`), as a
/// decimal string: `sumMoney([0.1, 0.2]) === "0.3"`.
#[wasm_bindgen(js_name = sumMoney)]
pub fn sum_money(
    #[wasm_bindgen(unchecked_param_type = "Array<number | string>")] values: JsValue,
) -> Result<String, JsValue> {
    let array: js_sys::Array = values
        .dyn_into()
        .map_err(|_| error_value(&ApiError::argument("sumMoney expects an array of amounts.")))?;
    let mut total = Micros::ZERO;
    for v in array.iter() {
        total = total.checked_add(micros_of(&v)?).ok_or_else(|| {
            error_value(&ApiError::argument(
                "The sum is beyond ±9.2 trillion units: too large to be exact.",
            ))
        })?;
    }
    Ok(total.to_string())
}

/// An amount rounded to its currency's precision and formatted, e.g. `formatMoney(1234.567,
/// "USD") === "1234.57 USD"`.
#[wasm_bindgen(js_name = formatMoney)]
pub fn format_money(
    #[wasm_bindgen(unchecked_param_type = "number | string")] amount: JsValue,
    currency: Option<JsText>,
) -> Result<String, JsValue> {
    let currency = match opt_text(&opt_js(currency), "currency")? {
        None => Currency::USD,
        Some(c) => {
            Currency::new(&c).map_err(|e| error_value(&ApiError::argument(e.to_string())))?
        }
    };
    Ok(crate::money::Money::new(micros_of(&amount)?, currency).display())
}

/// Headline totals of a BillingInfo (exact).
#[wasm_bindgen(js_name = billingTotals)]
pub fn billing_totals(info: Ts<BillingInfo>) -> Result<Ts<BillingTotals>, JsValue> {
    let info: BillingInfo = from_js(info.js_value(), "info")?;
    ts(&aggregate::billing_totals(&info))
}

/// Merges BillingInfo answers of several ranges into one (costs add, recording ORs).
#[wasm_bindgen(js_name = mergeBilling)]
pub fn merge_billing(
    #[wasm_bindgen(unchecked_param_type = "BillingInfo[]")] infos: JsValue,
) -> Result<Ts<BillingInfo>, JsValue> {
    let infos: Vec<BillingInfo> = from_js(infos, "infos")?;
    ts(&aggregate::merge_billing(&infos))
}

/// The `n` customers with the highest international costs.
#[wasm_bindgen(js_name = topCustomers, unchecked_return_type = "BillingCustomerInfo[]")]
pub fn top_customers(
    info: Ts<BillingInfo>,
    #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
) -> Result<JsValue, JsValue> {
    let info: BillingInfo = from_js(info.js_value(), "info")?;
    let n = opt_count(&n, "n", 0, u32::MAX)?
        .ok_or_else(|| error_value(&ApiError::argument("n must be a whole number.")))?;
    to_js(&aggregate::top_customers(&info, n as usize))
}

fn granularity_of(value: JsValue) -> Result<Granularity, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Granularity::All);
    }
    value
        .as_string()
        .and_then(|s| Granularity::parse(&s))
        .ok_or_else(|| {
            error_value(&ApiError::argument(
                "granularity must be \"all\", \"daily\", \"weekly\" or \"monthly\".",
            ))
        })
}

/// Rolls up usage records by category (and by period with a granularity), never adding
/// overlapping categories (calls ⊇ calls-inbound).
#[wasm_bindgen(js_name = summarizeUsage)]
pub fn summarize_usage(
    #[wasm_bindgen(unchecked_param_type = "UsageRecordInfo[]")] records: JsValue,
    granularity: Option<Ts<Granularity>>,
) -> Result<Ts<UsageSummary>, JsValue> {
    let records: Vec<crate::dto::UsageRecordInfo> = from_js(records, "records")?;
    let granularity = granularity_of(granularity.map_or(JsValue::UNDEFINED, |g| g.js_value()))?;
    ts(&aggregate::summarize_usage(&records, granularity))
}

/// As `summarizeUsage`, straight from the JSON bytes of a ListUsageRecords answer: the fast path
/// for big answers (no JS object per record is ever built).
#[wasm_bindgen(js_name = summarizeUsageJson)]
pub fn summarize_usage_json(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | number[]")] json: JsValue,
    granularity: Option<Ts<Granularity>>,
) -> Result<Ts<UsageSummary>, JsValue> {
    let bytes = arg_bytes(json, "json")?;
    let granularity = granularity_of(granularity.map_or(JsValue::UNDEFINED, |g| g.js_value()))?;
    let summary = aggregate::summarize_usage_json(&bytes, granularity).map_err(|e| {
        error_value(&ApiError::argument(format!(
            "The usage JSON is not valid: {e}"
        )))
    })?;
    ts(&summary)
}

/// BillingInfo as CSV (ServiceStack's conventions).
#[wasm_bindgen(js_name = billingInfoToCsv)]
pub fn billing_info_to_csv(info: Ts<BillingInfo>) -> Result<String, JsValue> {
    let info: BillingInfo = from_js(info.js_value(), "info")?;
    Ok(crate::csv::billing_info_to_csv(&info))
}

/// Usage records as CSV (ServiceStack's conventions).
#[wasm_bindgen(js_name = usageRecordsToCsv)]
pub fn usage_records_to_csv(
    #[wasm_bindgen(unchecked_param_type = "UsageRecordInfo[]")] records: JsValue,
) -> Result<String, JsValue> {
    let records: Vec<crate::dto::UsageRecordInfo> = from_js(records, "records")?;
    Ok(crate::csv::usage_records_to_csv(&records))
}

/// Any JSON-like value as ServiceStack JSV text.
#[wasm_bindgen(js_name = toJsv)]
pub fn to_jsv(value: JsValue) -> Result<String, JsValue> {
    let v: serde_json::Value = if value.is_undefined() || value.is_null() {
        serde_json::Value::Null
    } else {
        from_js(value, "value")?
    };
    Ok(crate::jsv::value_to_jsv(&v))
}

/// JSV text as a JS value (JSV has no types: every scalar comes back as a string).
#[wasm_bindgen(js_name = fromJsv)]
pub fn from_jsv(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = arg_text(&text, "text")?;
    let parsed = crate::jsv::parse(&text)
        .map_err(|e| error_value(&ApiError::argument(format!("Invalid JSV: {e}"))))?;
    to_js(&parsed.to_json())
}

/// The typed API client. Every method returns a Promise; failures reject with an ApiError.
/// Requests are validated before they are sent (the same rules as the server).
#[wasm_bindgen(js_name = BillingClient)]
pub struct JsBillingClient {
    inner: Rc<RefCell<Client>>,
}

/// The result of a call that answers nothing (204): resolves to `undefined`, as `Promise<void>`
/// promises. Any body the server might send is ignored.
#[derive(serde::Deserialize)]
struct Void(#[allow(dead_code)] serde::de::IgnoredAny);

impl Serialize for Void {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

fn promise<T, F>(fut: F) -> js_sys::Promise
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, ApiError>> + 'static,
{
    future_to_promise(async move {
        match fut.await {
            // `null` (a unit or Void result) becomes `undefined`.
            Ok(v) => to_js(&v).map(|js| if js.is_null() { JsValue::UNDEFINED } else { js }),
            Err(e) => Err(error_value(&e)),
        }
    })
}

fn rejected(e: JsValue) -> js_sys::Promise {
    js_sys::Promise::reject(&e)
}

#[wasm_bindgen(js_class = BillingClient)]
impl JsBillingClient {
    /// `new BillingClient("https://billing.example.com", { bearerToken })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = baseUrl, unchecked_param_type = "string")] base_url: JsValue,
        options: Option<Ts<ClientOptions>>,
    ) -> Result<JsBillingClient, JsValue> {
        let base_url = arg_text(&base_url, "baseUrl")?;
        let base_url = base_url.as_str();
        let options = options.map_or(JsValue::UNDEFINED, |o| o.js_value());
        let options: ClientOptions = if options.is_undefined() || options.is_null() {
            ClientOptions::default()
        } else {
            from_js(options, "options")?
        };
        let credentials = if let Some(t) = options.bearer_token {
            Credentials::Bearer(t)
        } else if let Some(k) = options.api_key {
            Credentials::ApiKey(k)
        } else if options.with_credentials.unwrap_or(false) {
            Credentials::Cookie
        } else {
            Credentials::None
        };
        let mut client = Client::new(base_url).with_credentials(credentials);
        if let Some(ms) = options.timeout_ms {
            client = client.with_timeout_ms(ms);
        }
        Ok(JsBillingClient {
            inner: Rc::new(RefCell::new(client)),
        })
    }

    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.inner.borrow().base_url().to_string()
    }

    /// Use a bearer token from now on.
    #[wasm_bindgen(js_name = setBearerToken)]
    pub fn set_bearer_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> Result<(), JsValue> {
        let token = arg_text(&token, "token")?;
        self.inner
            .borrow_mut()
            .set_credentials(Credentials::Bearer(token));
        Ok(())
    }

    /// Use an API key from now on.
    #[wasm_bindgen(js_name = setApiKey)]
    pub fn set_api_key(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
    ) -> Result<(), JsValue> {
        let key = arg_text(&key, "key")?;
        self.inner
            .borrow_mut()
            .set_credentials(Credentials::ApiKey(key));
        Ok(())
    }

    fn client(&self) -> Client {
        self.inner.borrow().clone()
    }

    fn run<T, B>(&self, build: B) -> js_sys::Promise
    where
        T: DeserializeOwned + Serialize + 'static,
        B: FnOnce(&Client) -> Result<HttpRequest, ApiError>,
    {
        let client = self.client();
        match build(&client) {
            Ok(req) => promise(async move { client.call::<T>(req).await }),
            Err(e) => rejected(error_value(&e)),
        }
    }

    /// Report a call to bill. Resolves to `undefined` (204).
    #[wasm_bindgen(js_name = newBillable, unchecked_return_type = "Promise<void>")]
    pub fn new_billable(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewBillable")] request: JsValue,
    ) -> js_sys::Promise {
        match from_js::<NewBillable>(request, "request") {
            Ok(r) => self.run::<Void, _>(|c| c.new_billable_request(&r)),
            Err(e) => rejected(e),
        }
    }

    /// Report many calls in one request (ServiceStack auto-batching): one result per item.
    #[wasm_bindgen(js_name = newBillables, unchecked_return_type = "Promise<NewBillableResult[]>")]
    pub fn new_billables(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NewBillable[]")] requests: JsValue,
    ) -> js_sys::Promise {
        match from_js::<Vec<NewBillable>>(requests, "requests") {
            Ok(r) => {
                self.run::<Vec<crate::dto::NewBillableResult>, _>(|c| c.new_billables_request(&r))
            }
            Err(e) => rejected(e),
        }
    }

    /// Per-customer totals for a date range.
    #[wasm_bindgen(js_name = getBilling, unchecked_return_type = "Promise<BillingInfo>")]
    pub fn get_billing(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GetBilling")] request: JsValue,
    ) -> js_sys::Promise {
        match from_js::<GetBilling>(request, "request") {
            Ok(r) => self.run::<BillingInfo, _>(|c| c.get_billing_request(&r)),
            Err(e) => rejected(e),
        }
    }

    /// Queue a billing report; resolves at once with its ReportInfo (status Queued).
    #[wasm_bindgen(js_name = billingReport, unchecked_return_type = "Promise<ReportInfo>")]
    pub fn billing_report(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BillingReport")] request: JsValue,
    ) -> js_sys::Promise {
        match from_js::<BillingReport>(request, "request") {
            Ok(r) => self.run::<ReportInfo, _>(|c| c.billing_report_request(&r)),
            Err(e) => rejected(e),
        }
    }

    /// Usage records by category (Twilio style).
    #[wasm_bindgen(js_name = listUsageRecords, unchecked_return_type = "Promise<UsageRecordInfo[]>")]
    pub fn list_usage_records(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListUsageRecords")] request: JsValue,
    ) -> js_sys::Promise {
        match from_js::<ListUsageRecords>(request, "request") {
            Ok(r) => self
                .run::<Vec<crate::dto::UsageRecordInfo>, _>(|c| c.list_usage_records_request(&r)),
            Err(e) => rejected(e),
        }
    }

    /// ListUsageRecords, rolled up inside WebAssembly from the raw answer (fast for big ranges).
    #[wasm_bindgen(js_name = summarizeUsage, unchecked_return_type = "Promise<UsageSummary>")]
    pub fn summarize_usage(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListUsageRecords")] request: JsValue,
    ) -> js_sys::Promise {
        let client = self.client();
        let req = match from_js::<ListUsageRecords>(request, "request").and_then(|r| {
            client
                .list_usage_records_request(&r)
                .map(|h| (h, r))
                .map_err(|e| error_value(&e))
        }) {
            Ok(v) => v,
            Err(e) => return rejected(e),
        };
        promise(async move {
            let (http, r) = req;
            let bytes = client.call_bytes(http).await?;
            let granularity = r.granularity.unwrap_or_default();
            if !crate::client::is_camel_case_json(&bytes) {
                // A PascalCase server: read through the normalizing decoder, then roll up.
                let text = String::from_utf8_lossy(&bytes);
                let records: Vec<crate::dto::UsageRecordInfo> =
                    crate::client::decode_success(200, &text)?;
                return Ok(aggregate::summarize_usage(&records, granularity));
            }
            aggregate::summarize_usage_json(&bytes, granularity).map_err(|e| ApiError {
                status: 200,
                response_status: crate::dto::ResponseStatus::new("InvalidResponse", e),
            })
        })
    }

    /// Sign in with a user name and password. The client then uses the returned bearer token
    /// (unless it was given an API key or told to use cookies).
    #[wasm_bindgen(unchecked_return_type = "Promise<AuthenticateResponse>")]
    pub fn authenticate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Authenticate")] request: JsValue,
    ) -> js_sys::Promise {
        let request = match from_js::<crate::dto::Authenticate>(request, "request") {
            Ok(r) => r,
            Err(e) => return rejected(e),
        };
        let client = self.client();
        let http = match client.authenticate_request(&request) {
            Ok(h) => h,
            Err(e) => return rejected(error_value(&e)),
        };
        let shared = self.inner.clone();
        promise(async move {
            let response: AuthenticateResponse = client.call(http).await?;
            let mut c = shared.borrow_mut();
            if matches!(c.credentials(), Credentials::None | Credentials::Bearer(_)) {
                if let Some(token) = &response.bearer_token {
                    c.set_credentials(Credentials::Bearer(token.clone()));
                }
            }
            Ok(response)
        })
    }

    /// Who the client is signed in as.
    #[wasm_bindgen(js_name = authStatus, unchecked_return_type = "Promise<UserInfo>")]
    pub fn auth_status(&self) -> js_sys::Promise {
        self.run::<UserInfo, _>(|c| Ok(c.auth_status_request()))
    }

    /// End the session; a bearer token is forgotten.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self) -> js_sys::Promise {
        let client = self.client();
        let shared = self.inner.clone();
        let http = client.logout_request();
        promise(async move {
            let _: Void = client.call(http).await?;
            let mut c = shared.borrow_mut();
            if matches!(c.credentials(), Credentials::Bearer(_)) {
                c.set_credentials(Credentials::None);
            }
            Ok(())
        })
    }

    /// The caller's reports, newest first.
    #[wasm_bindgen(js_name = listReports, unchecked_return_type = "Promise<ReportInfo[]>")]
    pub fn list_reports(&self) -> js_sys::Promise {
        self.run::<Vec<ReportInfo>, _>(|c| Ok(c.list_reports_request()))
    }

    /// One report.
    #[wasm_bindgen(js_name = getReport, unchecked_return_type = "Promise<ReportInfo>")]
    pub fn get_report(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> js_sys::Promise {
        match arg_text(&id, "id") {
            Ok(id) => self.run::<ReportInfo, _>(|c| c.get_report_request(&id)),
            Err(e) => rejected(e),
        }
    }

    /// Delete a report.
    #[wasm_bindgen(js_name = deleteReport, unchecked_return_type = "Promise<void>")]
    pub fn delete_report(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> js_sys::Promise {
        match arg_text(&id, "id") {
            Ok(id) => self.run::<Void, _>(|c| c.delete_report_request(&id)),
            Err(e) => rejected(e),
        }
    }

    /// The download URL of a finished report (`csv`, the default, or `xlsx`).
    #[wasm_bindgen(js_name = reportDownloadUrl)]
    pub fn report_download_url(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        format: Option<JsReportFormat>,
    ) -> Result<String, JsValue> {
        let id = arg_text(&id, "id")?;
        let format = opt_text(&opt_js(format), "format")?;
        self.inner
            .borrow()
            .report_download_url(&id, format.as_deref().unwrap_or("csv"))
            .map_err(|e| error_value(&e))
    }
}
