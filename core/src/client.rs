//! The typed API client.
//!
//! Everything about *what* to send and *how to read the answer* is plain Rust here, tested
//! natively: routes, query strings, credentials, validation before sending, and the decoding of
//! ServiceStack errors, including what real ServiceStack servers send without a JSON body (an
//! empty 401, a `text/plain` 403), for which a status is synthesised the way `@servicestack/client`
//! does (`errorCode` = the numeric status, `message` = the status text). The transport, `fetch`
//! through gloo-net, exists on wasm32 only ([`BillingClient::send`]); in the browser and in Node it
//! is the platform's own `fetch`.
//!
//! ```
//! use evo_billing_core::client::{BillingClient, Credentials};
//! use evo_billing_core::dto::GetBilling;
//! let client = BillingClient::new("https://billing.example.com/")
//!     .with_credentials(Credentials::Bearer("tok".into()));
//! let req = client.get_billing_request(&GetBilling {
//!     account_id: Some("AC 1".into()),
//!     start_date: Some("2026-03-01".into()),
//!     end_date: Some("2026-03-31".into()),
//!     customer_id: None,
//! }).unwrap();
//! assert_eq!(req.url, "https://billing.example.com/billing?accountId=AC%201&startDate=2026-03-01&endDate=2026-03-31");
//! assert_eq!(req.headers[1], ("Authorization".to_string(), "Bearer tok".to_string()));
//! ```

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::dto::{
    default_status_text, Authenticate, BillingReport, CreateAccount, CreateCustomer, ErrorResponse,
    GetBilling, GetBillingSeries, ListAccounts, ListCustomers, ListUsageRecords, NewBillable,
    ResponseStatus, UpdateAccount, UpdateCustomer,
};
use crate::routes::{self, Route};
use crate::validation::{Validate, ValidationErrors};

/// Default request timeout.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// How requests prove who sends them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    /// Nothing (only `/auth/credentials` and `/healthz` answer).
    #[default]
    None,
    /// `Authorization: Bearer <token>` (from AuthenticateResponse.bearerToken).
    Bearer(String),
    /// An API key, sent as ServiceStack's API key provider expects: `Authorization: Basic
    /// base64(key:)`.
    ApiKey(String),
    /// The browser's HttpOnly session cookie (`credentials: "include"`), what the dashboard uses.
    Cookie,
}

/// An HTTP request, ready for any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Send cookies cross-origin too (`credentials: "include"`).
    pub include_cookies: bool,
}

/// Why a call failed. Every failure carries a ServiceStack [`ResponseStatus`], so callers handle
/// server errors, validation errors and network trouble the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status; `0` when the request never got an answer (refused before sending,
    /// network failure, timeout).
    pub status: u16,
    pub response_status: ResponseStatus,
}

impl ApiError {
    /// The request was refused before it left (the same rules the server applies).
    pub fn validation(errors: &ValidationErrors) -> ApiError {
        ApiError {
            status: 400,
            response_status: errors.to_response_status(),
        }
    }

    /// No answer: connection refused, DNS, CORS...
    pub fn network(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 0,
            response_status: ResponseStatus::new("NetworkError", message),
        }
    }

    /// No answer within the timeout.
    pub fn timeout(ms: u32) -> ApiError {
        ApiError {
            status: 0,
            response_status: ResponseStatus::new(
                "RequestTimeout",
                format!("The server did not answer within {ms} ms."),
            ),
        }
    }

    /// A bad argument from a caller (JavaScript passing a number for a request, ...).
    pub fn argument(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 0,
            response_status: ResponseStatus::new("ArgumentException", message),
        }
    }

    pub fn error_code(&self) -> &str {
        self.response_status.error_code.as_deref().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.response_status.message.as_deref().unwrap_or("")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == 0 {
            write!(f, "{}: {}", self.error_code(), self.message())
        } else {
            write!(
                f,
                "{} {}: {}",
                self.status,
                self.error_code(),
                self.message()
            )
        }
    }
}

impl std::error::Error for ApiError {}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay as they are).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A request DTO as query pairs: its non-null JSON members, in declared order.
pub fn query_pairs<T: Serialize>(request: &T) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::to_value(request) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            Value::Bool(b) => Some((k, b.to_string())),
            other => Some((k, other.to_string())),
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lower-cases the first letter of every object key, recursively, so a PascalCase ServiceStack
/// answer (`ResponseStatus`, `ErrorCode`) reads like a camelCase one.
fn camel_case_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut chars = k.chars();
                    let key = match chars.next() {
                        Some(c) => c.to_lowercase().chain(chars).collect(),
                        None => k,
                    };
                    (key, camel_case_keys(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

/// Deserializes after [`camel_case_keys`]. Through text rather than `from_value`: every DTO
/// already has a `from_str` deserializer in the WebAssembly build, and a second (`Value`) one per
/// type would cost more bytes than this extra pass costs time on error-sized bodies.
fn from_normalized<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_str(&camel_case_keys(value).to_string())
}

/// Reads an error answer. A JSON body with a `responseStatus` is used as is; anything else
/// (empty body, `text/plain`, HTML from a proxy) becomes `{errorCode: "<status>", message:
/// <status text>}`, as `@servicestack/client` does.
pub fn decode_error(status: u16, status_text: &str, content_type: &str, body: &str) -> ApiError {
    let synthesised = || ApiError {
        status,
        response_status: ResponseStatus::from_http_status(status, status_text),
    };
    if body.trim().is_empty() || !content_type.to_ascii_lowercase().contains("json") {
        return synthesised();
    }
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return synthesised();
    };
    match from_normalized::<ErrorResponse>(value) {
        Ok(e) if e.response_status.error_code.is_some() || e.response_status.message.is_some() => {
            ApiError {
                status,
                response_status: e.response_status,
            }
        }
        _ => synthesised(),
    }
}

/// Reads a successful answer's body as `T` (PascalCase keys accepted). An empty body reads as
/// JSON `null` (so `()` and `Option<T>` work for 204 No Content).
pub fn decode_success<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    let shape_error = |e: serde_json::Error| ApiError {
        status,
        response_status: ResponseStatus::new(
            "InvalidResponse",
            format!("The server's answer does not have the expected shape: {e}"),
        ),
    };
    if body.trim().is_empty() {
        return serde_json::from_value(Value::Null).map_err(shape_error);
    }
    if is_camel_case_json(body.as_bytes()) {
        return serde_json::from_str(body).map_err(shape_error);
    }
    let value: Value = serde_json::from_str(body).map_err(|e| ApiError {
        status,
        response_status: ResponseStatus::new(
            "InvalidResponse",
            format!("The server's answer is not valid JSON: {e}"),
        ),
    })?;
    from_normalized(value).map_err(shape_error)
}

/// Does this JSON body use camelCase keys? A server writes all keys in one style, and the first
/// key tells which; camelCase (ours, and ServiceStack's usual JsConfig) is read directly, without
/// building a `Value`.
pub fn is_camel_case_json(body: &[u8]) -> bool {
    let first_key_char = body
        .iter()
        .position(|b| *b == b'"')
        .and_then(|i| body.get(i + 1));
    !first_key_char.is_some_and(|c| c.is_ascii_uppercase())
}

/// Reads any answer: a 2xx through [`decode_success`], anything else through [`decode_error`].
pub fn decode_response<T: DeserializeOwned>(
    status: u16,
    status_text: &str,
    content_type: &str,
    body: &str,
) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        decode_success(status, body)
    } else {
        let text = if status_text.is_empty() {
            default_status_text(status)
        } else {
            status_text
        };
        Err(decode_error(status, text, content_type, body))
    }
}

/// The API client: base URL, credentials, timeout. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingClient {
    base_url: String,
    credentials: Credentials,
    timeout_ms: u32,
}

impl BillingClient {
    /// A client for the API at `base_url` (e.g. `https://billing.example.com` or `/` for the same
    /// origin as the dashboard).
    pub fn new(base_url: &str) -> BillingClient {
        BillingClient {
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            credentials: Credentials::None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }

    pub fn with_credentials(mut self, credentials: Credentials) -> BillingClient {
        self.credentials = credentials;
        self
    }

    pub fn with_timeout_ms(mut self, timeout_ms: u32) -> BillingClient {
        self.timeout_ms = timeout_ms.max(1);
        self
    }

    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = credentials;
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn timeout_ms(&self) -> u32 {
        self.timeout_ms
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A request with the client's headers and credentials.
    pub fn request(
        &self,
        method: &'static str,
        path: &str,
        query: &[(String, String)],
        body: Option<String>,
    ) -> HttpRequest {
        let mut url = self.url(path);
        if !query.is_empty() {
            let qs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
                .collect();
            url.push('?');
            url.push_str(&qs.join("&"));
        }
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        match &self.credentials {
            Credentials::Bearer(token) => {
                headers.push(("Authorization".into(), format!("Bearer {token}")))
            }
            Credentials::ApiKey(key) => headers.push((
                "Authorization".into(),
                format!("Basic {}", base64(format!("{key}:").as_bytes())),
            )),
            Credentials::None | Credentials::Cookie => {}
        }
        if body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        HttpRequest {
            method,
            url,
            headers,
            body,
            include_cookies: self.credentials == Credentials::Cookie,
        }
    }

    fn json_body<T: Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
        serde_json::to_string(value).map_err(|e| ApiError::argument(e.to_string()))
    }

    /// A route's custom path with its `{param}` segments filled in (percent-encoded). A missing
    /// or blank parameter is a field error, as validation would report it.
    fn path(route: &Route, params: &[(&str, &str)]) -> Result<String, ApiError> {
        let pattern = route.path.unwrap_or("");
        let mut out = String::with_capacity(pattern.len() + 16);
        for (i, seg) in pattern.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    let value = params
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.trim())
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| missing_param(name))?;
                    out.push_str(&encode_component(value));
                }
                None => out.push_str(seg),
            }
        }
        Ok(out)
    }

    /// A validated GET to a route without path parameters: the DTO goes in the query string.
    /// (Separate from [`Self::send_json`] so each DTO links only the serializer it needs: the
    /// WebAssembly build pays for every one.)
    fn send_query<T: Serialize + Validate>(
        &self,
        route: &Route,
        req: &T,
    ) -> Result<HttpRequest, ApiError> {
        req.validate().map_err(|e| ApiError::validation(&e))?;
        let path = Self::path(route, &[])?;
        Ok(self.request("GET", &path, &query_pairs(req), None))
    }

    /// A validated POST of the DTO as a JSON body to `path` (the route's, parameters filled in).
    fn send_json<T: Serialize + Validate>(
        &self,
        path: &str,
        req: &T,
    ) -> Result<HttpRequest, ApiError> {
        req.validate().map_err(|e| ApiError::validation(&e))?;
        Ok(self.request("POST", path, &[], Some(Self::json_body(req)?)))
    }

    /// `POST /billables`, validated first.
    pub fn new_billable_request(&self, req: &NewBillable) -> Result<HttpRequest, ApiError> {
        self.send_json(&Self::path(&routes::NEW_BILLABLE, &[])?, req)
    }

    /// ServiceStack's auto-batched `POST /api/NewBillable[]`: every item is validated first; the
    /// first bad item's errors are returned with its index in the message.
    pub fn new_billables_request(&self, reqs: &[NewBillable]) -> Result<HttpRequest, ApiError> {
        for (i, r) in reqs.iter().enumerate() {
            if let Err(e) = r.validate() {
                let mut err = ApiError::validation(&e);
                err.response_status.message = Some(format!(
                    "Item {i}: {}",
                    err.response_status.message.unwrap_or_default()
                ));
                return Err(err);
            }
        }
        let path = routes::NEW_BILLABLE_BATCH.api_path().unwrap_or_default();
        Ok(self.request("POST", &path, &[], Some(Self::json_body(reqs)?)))
    }

    /// `GET /billing?...`, validated first.
    pub fn get_billing_request(&self, req: &GetBilling) -> Result<HttpRequest, ApiError> {
        self.send_query(&routes::GET_BILLING, req)
    }

    /// `GET /billing/series?...`, validated first.
    pub fn get_billing_series_request(
        &self,
        req: &GetBillingSeries,
    ) -> Result<HttpRequest, ApiError> {
        self.send_query(&routes::GET_BILLING_SERIES, req)
    }

    /// `POST /reports/billing`, validated first.
    pub fn billing_report_request(&self, req: &BillingReport) -> Result<HttpRequest, ApiError> {
        self.send_json(&Self::path(&routes::BILLING_REPORT, &[])?, req)
    }

    /// `GET /billing/usage?...`, validated first.
    pub fn list_usage_records_request(
        &self,
        req: &ListUsageRecords,
    ) -> Result<HttpRequest, ApiError> {
        self.send_query(&routes::LIST_USAGE_RECORDS, req)
    }

    /// `GET /accounts`.
    pub fn list_accounts_request(&self) -> Result<HttpRequest, ApiError> {
        self.send_query(&routes::LIST_ACCOUNTS, &ListAccounts {})
    }

    /// `POST /accounts`, validated first.
    pub fn create_account_request(&self, req: &CreateAccount) -> Result<HttpRequest, ApiError> {
        self.send_json(&Self::path(&routes::CREATE_ACCOUNT, &[])?, req)
    }

    /// `POST /accounts/{accountId}`, validated first.
    pub fn update_account_request(&self, req: &UpdateAccount) -> Result<HttpRequest, ApiError> {
        req.validate().map_err(|e| ApiError::validation(&e))?;
        let id = req.account_id.as_deref().unwrap_or("");
        self.send_json(
            &Self::path(&routes::UPDATE_ACCOUNT, &[("accountId", id)])?,
            req,
        )
    }

    /// `GET /customers?...`, validated first.
    pub fn list_customers_request(&self, req: &ListCustomers) -> Result<HttpRequest, ApiError> {
        self.send_query(&routes::LIST_CUSTOMERS, req)
    }

    /// `POST /customers`, validated first.
    pub fn create_customer_request(&self, req: &CreateCustomer) -> Result<HttpRequest, ApiError> {
        self.send_json(&Self::path(&routes::CREATE_CUSTOMER, &[])?, req)
    }

    /// `POST /customers/{customerId}`, validated first.
    pub fn update_customer_request(&self, req: &UpdateCustomer) -> Result<HttpRequest, ApiError> {
        req.validate().map_err(|e| ApiError::validation(&e))?;
        let id = req.customer_id.as_deref().unwrap_or("");
        self.send_json(
            &Self::path(&routes::UPDATE_CUSTOMER, &[("customerId", id)])?,
            req,
        )
    }

    /// `POST /auth/credentials`.
    pub fn authenticate_request(&self, req: &Authenticate) -> Result<HttpRequest, ApiError> {
        let mut body = req.clone();
        body.provider = Some("credentials".into());
        self.send_json(&Self::path(&routes::AUTHENTICATE, &[])?, &body)
    }

    /// `GET /auth/status`.
    pub fn auth_status_request(&self) -> HttpRequest {
        self.request("GET", routes::AUTH_STATUS.path.unwrap_or(""), &[], None)
    }

    /// `POST /auth/logout`.
    pub fn logout_request(&self) -> HttpRequest {
        self.request(
            "POST",
            routes::LOGOUT.path.unwrap_or(""),
            &[],
            Some("{}".into()),
        )
    }

    /// `GET /reports`: the caller's reports, newest first.
    pub fn list_reports_request(&self) -> HttpRequest {
        self.request("GET", routes::LIST_REPORTS.path.unwrap_or(""), &[], None)
    }

    fn report_path(id: &str) -> Result<String, ApiError> {
        Self::path(&routes::GET_REPORT, &[("id", id)])
    }

    /// `GET /reports/{id}`.
    pub fn get_report_request(&self, id: &str) -> Result<HttpRequest, ApiError> {
        Ok(self.request("GET", &Self::report_path(id)?, &[], None))
    }

    /// `DELETE /reports/{id}`.
    pub fn delete_report_request(&self, id: &str) -> Result<HttpRequest, ApiError> {
        Ok(self.request("DELETE", &Self::report_path(id)?, &[], None))
    }

    /// Where a finished report is downloaded: `format` is `csv` or `xlsx`.
    pub fn report_download_url(&self, id: &str, format: &str) -> Result<String, ApiError> {
        let format = match format.trim().to_ascii_lowercase().as_str() {
            "" | "csv" => "csv",
            "xlsx" => "xlsx",
            other => {
                return Err(ApiError::argument(format!(
                    "Unknown report format '{}': use csv or xlsx.",
                    other.chars().take(20).collect::<String>()
                )))
            }
        };
        let file = format!("download.{format}");
        let path = Self::path(&routes::DOWNLOAD_REPORT, &[("id", id), ("file", &file)])?;
        Ok(self.url(&path))
    }
}

/// The field error of a missing path parameter (`id` → `Id`).
fn missing_param(name: &str) -> ApiError {
    let field: &'static str = match name {
        "accountId" => "AccountId",
        "customerId" => "CustomerId",
        "file" => "File",
        _ => "Id",
    };
    ApiError::validation(&ValidationErrors(vec![crate::validation::FieldError {
        code: "NotEmpty",
        field,
        message: format!(
            "'{}' must not be empty.",
            crate::validation::display_name(field)
        ),
    }]))
}

#[cfg(target_arch = "wasm32")]
mod transport {
    use super::*;
    use gloo_net::http::{Method, RequestBuilder};
    use web_sys::{AbortSignal, RequestCredentials};

    /// A raw answer.
    pub struct HttpResponse {
        pub status: u16,
        pub status_text: String,
        pub content_type: String,
        pub body: Vec<u8>,
    }

    impl BillingClient {
        /// Sends a request with `fetch`, with the client's timeout.
        pub async fn send(&self, req: HttpRequest) -> Result<HttpResponse, ApiError> {
            let method = match req.method {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "DELETE" => Method::DELETE,
                _ => Method::PATCH,
            };
            let signal = AbortSignal::timeout_with_u32(self.timeout_ms);
            let mut builder = RequestBuilder::new(&req.url)
                .method(method)
                .abort_signal(Some(&signal));
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            if req.include_cookies {
                builder = builder.credentials(RequestCredentials::Include);
            }
            let request = match req.body {
                Some(body) => builder.body(body),
                None => builder.build(),
            }
            .map_err(|e| ApiError::argument(e.to_string()))?;
            let response = request.send().await.map_err(|e| {
                if signal.aborted() {
                    ApiError::timeout(self.timeout_ms)
                } else {
                    ApiError::network(format!("Could not reach {}: {e}", req.url))
                }
            })?;
            let status = response.status();
            let status_text = response.status_text();
            let content_type = response.headers().get("content-type").unwrap_or_default();
            let body = response.binary().await.map_err(|e| {
                if signal.aborted() {
                    ApiError::timeout(self.timeout_ms)
                } else {
                    ApiError::network(format!("The answer could not be read: {e}"))
                }
            })?;
            Ok(HttpResponse {
                status,
                status_text,
                content_type,
                body,
            })
        }

        /// Sends a request and decodes the answer (or the error) as `T`.
        pub async fn call<T: DeserializeOwned>(&self, req: HttpRequest) -> Result<T, ApiError> {
            let r = self.send(req).await?;
            let body = String::from_utf8_lossy(&r.body);
            decode_response(r.status, &r.status_text, &r.content_type, &body)
        }

        /// Sends a request and returns the raw body of a successful answer (for the byte-level
        /// fast paths such as [`crate::aggregate::summarize_usage_json`]).
        pub async fn call_bytes(&self, req: HttpRequest) -> Result<Vec<u8>, ApiError> {
            let r = self.send(req).await?;
            if (200..300).contains(&r.status) {
                Ok(r.body)
            } else {
                let body = String::from_utf8_lossy(&r.body);
                Err(decode_error(
                    r.status,
                    &r.status_text,
                    &r.content_type,
                    &body,
                ))
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use transport::HttpResponse;

#[cfg(test)]
mod tests {
    use super::*;
    // On wasm32 the same tests run under wasm-bindgen-test (in Node and in headless Chromium).
    use crate::dto::{BillingInfo, UsageRecordInfo};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn credentials_become_headers() {
        let c = BillingClient::new("http://h/");
        let auth = |c: &BillingClient| {
            c.auth_status_request()
                .headers
                .into_iter()
                .find(|(k, _)| k == "Authorization")
                .map(|(_, v)| v)
        };
        assert_eq!(auth(&c), None);
        let bearer = c
            .clone()
            .with_credentials(Credentials::Bearer("t0k".into()));
        assert_eq!(auth(&bearer).as_deref(), Some("Bearer t0k"));
        let key = c
            .clone()
            .with_credentials(Credentials::ApiKey("ak_123".into()));
        // base64("ak_123:")
        assert_eq!(auth(&key).as_deref(), Some("Basic YWtfMTIzOg=="));
        let cookie = c.with_credentials(Credentials::Cookie);
        assert!(cookie.auth_status_request().include_cookies);
        assert_eq!(auth(&cookie), None);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn routes() {
        let c = BillingClient::new("https://api.example.com");
        let nb = NewBillable {
            session_id: Some("s1".into()),
            call_sid: Some("CA1".into()),
            ..Default::default()
        };
        let r = c.new_billable_request(&nb).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "https://api.example.com/billables")
        );
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"sessionId":"s1","callSid":"CA1"}"#)
        );
        let batch = c.new_billables_request(&[nb.clone(), nb]).unwrap();
        assert!(batch.url.ends_with("/api/NewBillable[]"));
        assert!(batch.body.unwrap().starts_with('['));

        let u = c
            .list_usage_records_request(&ListUsageRecords {
                account_id: Some("a&b=c".into()),
                start_date: Some("2026-01-01".into()),
                end_date: Some("2026-01-31".into()),
                granularity: Some(crate::date_range::Granularity::Daily),
            })
            .unwrap();
        assert_eq!(
            u.url,
            "https://api.example.com/billing/usage?accountId=a%26b%3Dc&startDate=2026-01-01&endDate=2026-01-31&granularity=daily"
        );
        let rep = c
            .billing_report_request(&BillingReport {
                account_id: Some("a".into()),
                start_date: Some("2026-01-01".into()),
                end_date: Some("2026-01-31".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rep.url, "https://api.example.com/reports/billing");
        assert_eq!(
            c.get_report_request("r/1").unwrap().url,
            "https://api.example.com/reports/r%2F1"
        );
        assert_eq!(c.delete_report_request("r1").unwrap().method, "DELETE");
        assert!(c.get_report_request(" ").is_err());
        assert_eq!(
            c.report_download_url("r1", "XLSX").unwrap(),
            "https://api.example.com/reports/r1/download.xlsx"
        );
        assert!(c.report_download_url("r1", "pdf").is_err());
        let auth = c
            .authenticate_request(&Authenticate {
                user_name: Some("u".into()),
                password: Some("p".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(auth.body.unwrap().contains(r#""provider":"credentials""#));
    }

    #[test]
    fn invalid_requests_never_leave() {
        let c = BillingClient::new("http://h");
        let e = c.get_billing_request(&GetBilling::default()).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.error_code(), "NotEmpty");
        assert_eq!(e.response_status.errors.len(), 3);
        let e = c
            .new_billables_request(&[
                NewBillable {
                    session_id: Some("s".into()),
                    call_sid: Some("c".into()),
                    ..Default::default()
                },
                NewBillable::default(),
            ])
            .unwrap_err();
        assert!(e.message().starts_with("Item 1:"));
    }

    #[test]
    fn decodes_servicestack_errors() {
        let body = r#"{"responseStatus":{"errorCode":"NotEmpty","message":"'Account Id' must not be empty.","errors":[{"errorCode":"NotEmpty","fieldName":"AccountId","message":"'Account Id' must not be empty."}]}}"#;
        let e = decode_error(400, "Bad Request", "application/json; charset=utf-8", body);
        assert_eq!(e.status, 400);
        assert_eq!(e.error_code(), "NotEmpty");
        assert_eq!(
            e.response_status.errors[0].field_name.as_deref(),
            Some("AccountId")
        );

        // PascalCase bodies (ServiceStack without the camelCase scope).
        let pascal = r#"{"ResponseStatus":{"ErrorCode":"Forbidden","Message":"No","Errors":[]}}"#;
        assert_eq!(
            decode_error(403, "", "application/json", pascal).error_code(),
            "Forbidden"
        );

        // What real ServiceStack servers send without a JSON body.
        let empty401 = decode_error(401, "Unauthorized", "", "");
        assert_eq!(empty401.error_code(), "401");
        assert_eq!(empty401.message(), "Unauthorized");
        let plain403 = decode_error(403, "Forbidden", "text/plain", "Forbidden");
        assert_eq!(plain403.error_code(), "403");
        assert_eq!(plain403.message(), "Forbidden");
        let html502 = decode_error(502, "", "text/html", "<html>bad gateway</html>");
        assert_eq!(html502.message(), "Bad Gateway");
        let junk = decode_error(500, "Internal Server Error", "application/json", "{oops");
        assert_eq!(junk.error_code(), "500");
    }

    #[test]
    fn decodes_success() {
        let info: BillingInfo = decode_response(
            200,
            "OK",
            "application/json",
            r#"{"customers":[{"customerId":"c1","internationalCosts":1.25,"hasCallRecording":true}]}"#,
        )
        .unwrap();
        assert_eq!(info.customers[0].international_costs.to_string(), "1.25");
        let records: Vec<UsageRecordInfo> = decode_response(
            200,
            "OK",
            "application/json",
            r#"[{"Category":"calls","Count":2}]"#,
        )
        .unwrap();
        assert_eq!(records[0].category.as_deref(), Some("calls"));
        assert_eq!(records[0].count, 2);
        decode_response::<()>(204, "No Content", "", "").unwrap();
        let bad = decode_response::<BillingInfo>(200, "OK", "application/json", "[1]").unwrap_err();
        assert_eq!(bad.error_code(), "InvalidResponse");
        let err = decode_response::<BillingInfo>(404, "", "", "").unwrap_err();
        assert_eq!(err.message(), "Not Found");
    }

    #[test]
    fn routes_of_the_account_and_customer_operations() {
        use crate::date_range::Granularity;
        let c = BillingClient::new("https://api.example.com");
        let r = c.list_accounts_request().unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("GET", "https://api.example.com/accounts")
        );
        let r = c
            .list_customers_request(&ListCustomers {
                account_id: Some("acc 1".into()),
                page: Some(2),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://api.example.com/customers?accountId=acc%201&page=2"
        );
        let r = c
            .get_billing_series_request(&GetBillingSeries {
                account_id: Some("a".into()),
                start_date: Some("2026-01-01".into()),
                end_date: Some("2026-03-31".into()),
                granularity: Some(Granularity::Monthly),
                customer_id: None,
            })
            .unwrap();
        assert_eq!(
            r.url,
            "https://api.example.com/billing/series?accountId=a&startDate=2026-01-01&endDate=2026-03-31&granularity=monthly"
        );
        let r = c
            .update_customer_request(&UpdateCustomer {
                customer_id: Some("cus/1".into()),
                name: Some("New".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "https://api.example.com/customers/cus%2F1")
        );
        assert!(r.body.unwrap().contains(r#""name":"New""#));
        let r = c
            .create_account_request(&CreateAccount {
                name: Some("N".into()),
                currency: Some("USD".into()),
                home_country: Some("US".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "https://api.example.com/accounts")
        );
        let e = c
            .update_account_request(&UpdateAccount {
                account_id: None,
                name: Some("N".into()),
            })
            .unwrap_err();
        assert_eq!(
            e.response_status.errors[0].field_name.as_deref(),
            Some("AccountId")
        );
    }
}
