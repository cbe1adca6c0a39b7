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

/// The value a response carries to [`render`].
#[derive(Clone)]
struct Rendered {
    value: Arc<Value>,
    shape: &'static XmlShape,
}

impl<T: Answer> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match serde_json::to_value(&self.0) {
            Ok(value) => {
                let mut r = StatusCode::OK.into_response();
                r.extensions_mut().insert(Rendered {
                    value: Arc::new(value),
                    shape: T::SHAPE,
                });
                r
            }
            Err(e) => ApiError::internal(e).into_response(),
        }
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
        let mut out = neg.ok(status, &r.value, r.shape);
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
