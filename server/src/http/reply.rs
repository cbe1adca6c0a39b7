//! Answers in the negotiated format.
//!
//! A handler returns a typed value ([`Reply`]) or an [`ApiError`]; both become a response that
//! carries the value (or the error) in its extensions. [`render`], a middleware around the whole
//! router, knows the request's format (`?callback=`, `?format=`, a suffix, `Accept`) and writes
//! the body: so handlers stay plain `async fn(…) -> ApiResult<Reply<T>>`, and 405s and 404s from
//! the router get the same ResponseStatus body as every other error. It is also where 500s are
//! logged, once.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{
    AccountInfo, AccountList, ApiKeyList, AuthenticateResponse, BillingInfo, BillingSeries,
    CreatedApiKey, CustomerInfo, CustomerList, NewBillableResult, ReportInfo, UsageRecordInfo,
    UserInfo,
};
use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, Failure};
use super::negotiate::{self as neg, Format, Negotiated, XmlShape};

/// A DTO the API answers with, and its XML shape.
pub trait Answer: Serialize {
    const SHAPE: &'static XmlShape;
}

macro_rules! answers {
    ($($t:ty => $shape:expr),* $(,)?) => {
        $(impl Answer for $t { const SHAPE: &'static XmlShape = &$shape; })*
    };
}

answers! {
    BillingInfo => neg::BILLING_INFO,
    BillingSeries => neg::BILLING_SERIES,
    Vec<UsageRecordInfo> => neg::USAGE_RECORDS,
    ReportInfo => neg::REPORT_INFO,
    Vec<ReportInfo> => neg::REPORT_LIST,
    AuthenticateResponse => neg::AUTH_RESPONSE,
    UserInfo => neg::USER_INFO,
    Vec<NewBillableResult> => neg::BILLABLE_RESULTS,
    AccountList => neg::ACCOUNT_LIST,
    AccountInfo => neg::ACCOUNT_INFO,
    CustomerList => neg::CUSTOMER_LIST,
    CustomerInfo => neg::CUSTOMER_INFO,
    ApiKeyList => neg::API_KEY_LIST,
    CreatedApiKey => neg::CREATED_API_KEY,
}

/// A 200 answer with a DTO, written in the negotiated format.
pub struct Reply<T>(pub T);

/// A 204 answer.
pub struct NoContent;

/// An answer, rendered once the format is known: JSON (nearly every request, and the big
/// ones: a 10,000-customer list) straight from the DTO; the other formats, and JSONP, from its
/// `serde_json::Value`. Both give the same JSON text (keys in declared order).
trait Rendering: Send + Sync {
    fn json(&self) -> serde_json::Result<String>;
    fn value(&self) -> serde_json::Result<Value>;
}

impl<T: Serialize + Send + Sync> Rendering for T {
    fn json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }
    fn value(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
}

/// The answer a response carries to [`render`].
#[derive(Clone)]
struct Rendered {
    answer: Arc<dyn Rendering>,
    shape: &'static XmlShape,
}

impl Rendered {
    fn respond(&self, neg: &Negotiated, status: StatusCode) -> Response {
        let out = if neg.callback.is_none() && neg.format == Format::Json {
            self.answer.json().map(|text| neg.ok_json(status, text))
        } else {
            self.answer
                .value()
                .map(|value| neg.ok(status, &value, self.shape))
        };
        out.unwrap_or_else(|e| neg.error(&ApiError::internal(e)))
    }
}

impl<T: Answer + Send + Sync + 'static> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        let mut r = StatusCode::OK.into_response();
        r.extensions_mut().insert(Rendered {
            answer: Arc::new(self.0),
            shape: T::SHAPE,
        });
        r
    }
}

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// The format suffix stripped from the path before routing (`/billing.csv`).
#[derive(Clone, Copy)]
pub(super) struct SuffixFormat(pub Format);

/// The negotiation of a request (from its query, suffix and `Accept`). JSONP is never answered
/// to a request the session cookie signs in: a `<script src>` on another site would send the
/// cookie and read the answer; only explicit credentials (bearer, API key) or none get it.
pub(super) fn negotiated(req: &Request) -> Negotiated {
    let suffix = req.extensions().get::<SuffixFormat>().map(|s| s.0);
    let headers = req.headers();
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let mut neg = Negotiated::new(req.uri().query(), suffix, accept);
    let by_cookie = crate::auth::credentials::cookie(headers, crate::auth::SESSION_COOKIE)
        .is_some()
        && !headers.contains_key(header::AUTHORIZATION);
    if by_cookie {
        neg.callback = None;
    }
    neg
}

/// Writes carried values and errors in the request's format, turns the router's bare 405s
/// into ResponseStatus errors (keeping `Allow`), and logs 500s.
pub(super) async fn render(req: Request, next: Next) -> Response {
    let neg = negotiated(&req);
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    let mut resp = next.run(req).await;
    if let Some(r) = resp.extensions_mut().remove::<Rendered>() {
        let status = resp.status();
        let mut out = r.respond(&neg, status);
        keep_headers(resp.headers(), out.headers_mut());
        return out;
    }
    let failure = resp.extensions_mut().remove::<Failure>().map(|f| f.0);
    let failure = failure.or_else(|| {
        (resp.status() == StatusCode::METHOD_NOT_ALLOWED)
            .then(|| Arc::new(ApiError::MethodNotAllowed))
    });
    if let Some(err) = failure {
        if err.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(%method, path = %path, error = %err.chain(), "internal error");
        } else if err.status() == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(%method, path = %path, error = %err.chain(), "store unavailable");
        }
        let mut out = neg.error(&err);
        keep_headers(resp.headers(), out.headers_mut());
        return out;
    }
    resp
}

/// Headers a handler set (cookies, `Allow`, `Retry-After`…) survive the re-rendering; the body's
/// own headers are the renderer's.
fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            to.append(name.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// The JSON written straight from a DTO is the JSON written from its `Value`.
    fn same_json<T: DeserializeOwned + Serialize + Send + Sync>(json: &str) {
        let dto: T = serde_json::from_str(json).unwrap();
        let direct = Rendering::json(&dto).unwrap();
        assert_eq!(direct, Rendering::value(&dto).unwrap().to_string());
        assert!(direct.len() > 2, "{direct}");
    }

    #[test]
    fn json_straight_from_the_dto_equals_json_from_its_value() {
        same_json::<BillingInfo>(
            r#"{"customers":[{"customerId":"c\"1\u2028","internationalCosts":0.1,"hasCallRecording":true},
                {"customerId":"c2","internationalCosts":12345678.123456,"hasCallRecording":false},
                {"customerId":"c3","internationalCosts":-0.000001}]}"#,
        );
        same_json::<CustomerList>(
            r#"{"items":[{"id":"a","accountId":"acc","name":"Ä / \\ <b>","breadcrumb":"Ä","depth":0},
                {"id":"b","accountId":"acc","name":"B","parentId":"a","breadcrumb":"Ä / B","depth":1}],
                "totalCount":2,"totalPages":1,"hasMorePages":false}"#,
        );
        same_json::<Vec<UsageRecordInfo>>(
            r#"[{"category":"calls","count":3,"price":1.5,"priceUnit":"USD","startDate":"2026-11-01"},
                {"category":"totalprice","price":0}]"#,
        );
        same_json::<BillingSeries>(
            r#"{"accountId":"acc","currency":"EUR","granularity":"daily","periods":[
                {"startDate":"2026-11-01","endDate":"2026-11-01","billedCalls":4,"internationalCalls":1,
                 "internationalCosts":2.25,"recordedCalls":0,"customersBilled":2}]}"#,
        );
        same_json::<UserInfo>(
            r#"{"isAuthenticated":true,"roles":["Manager"],"accountIds":["acc"]}"#,
        );
        same_json::<AccountList>(
            r#"{"items":[{"id":"acc","name":"N","currency":"USD","homeCountry":"US"}],"totalCount":1}"#,
        );
    }
}
