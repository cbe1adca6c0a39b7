//! The API's one error type. Every failure a client can see is an [`ApiError`]. Turned into a
//! response ([`IntoResponse`]) it carries itself to the negotiation middleware
//! ([`super::reply::render`]), which writes the ServiceStack `ResponseStatus` body in the
//! request's format and logs internal errors, once, with their whole chain of causes. A client
//! only ever reads a generic message for those: no stack trace, no SQL, no file path.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use evo_billing_core::dto::{ResponseError, ResponseStatus};
use evo_billing_core::validation::ValidationErrors;

use crate::auth::AuthError;
use crate::store::group_commit::WriteError;
use crate::store::StoreError;

type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Field errors from core's validation (400).
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// A request that could not be read: malformed body, a value of the wrong type (400).
    #[error("bad request: {message}")]
    BadRequest {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// Not signed in, or bad credentials (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Missing role, or another account's data (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Unknown report, session, account... (404).
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A state conflict, e.g. deleting a running report, or a taken id (409).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests: {message}")]
    TooManyRequests {
        message: String,
        /// Seconds until a retry can succeed (`Retry-After`).
        retry_after: u64,
    },
    /// The store cannot take the request now (full disk, I/O errors, overload): 503 with
    /// `Retry-After`; logged with its cause.
    #[error("service unavailable")]
    Unavailable {
        retry_after: u64,
        #[source]
        source: Option<Source>,
    },
    /// More requests than the server takes at once (load shedding): 503 with `Retry-After`.
    #[error("busy")]
    Busy { retry_after: u64 },
    /// The request (its body, or its answer) took longer than the server waits: 408 for a
    /// body that did not arrive, 503 for an answer that did not come.
    #[error("timeout: {message}")]
    Timeout { message: String, body: bool },
    /// Anything else: logged in full by the middleware, answered as a bare 500.
    #[error("internal error")]
    Internal(#[source] Source),
}

impl ApiError {
    /// An internal error with its cause.
    pub fn internal(e: impl Into<Source>) -> ApiError {
        ApiError::Internal(e.into())
    }

    pub fn bad_field(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout { body: true, .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Timeout { body: false, .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The whole chain of causes, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    /// The body a client sees.
    pub fn response_status(&self) -> ResponseStatus {
        let simple = |code: &str, message: &str| ResponseStatus::new(code, message);
        match self {
            ApiError::Validation(e) => e.to_response_status(),
            ApiError::BadRequest {
                code,
                field,
                message,
            } => ResponseStatus {
                error_code: Some(code.to_string()),
                message: Some(message.clone()),
                stack_trace: None,
                errors: field
                    .iter()
                    .map(|f| ResponseError {
                        error_code: Some(code.to_string()),
                        field_name: Some(f.clone()),
                        message: Some(message.clone()),
                    })
                    .collect(),
            },
            ApiError::Unauthorized(m) => simple("Unauthorized", m),
            ApiError::Forbidden(m) => simple("Forbidden", m),
            ApiError::NotFound(m) => simple("NotFound", m),
            ApiError::MethodNotAllowed => simple(
                "MethodNotAllowed",
                "This route does not accept that HTTP method.",
            ),
            ApiError::Conflict(m) => simple("Conflict", m),
            ApiError::PayloadTooLarge(m) => simple("PayloadTooLarge", m),
            ApiError::UnsupportedMediaType(m) => simple("UnsupportedMediaType", m),
            ApiError::TooManyRequests { message, .. } => simple("TooManyRequests", message),
            ApiError::Unavailable { .. } => simple(
                "ServiceUnavailable",
                "The server cannot store or read data right now; try again shortly.",
            ),
            ApiError::Busy { .. } => simple(
                "ServerBusy",
                "The server is taking as many requests as it can; try again in a moment.",
            ),
            ApiError::Timeout { message, .. } => simple("Timeout", message),
            ApiError::Internal(_) => simple(
                "InternalServerError",
                "The server could not complete the request. It has been logged.",
            ),
        }
    }
}

/// The error a response carries to the negotiation middleware.
#[derive(Clone)]
pub(super) struct Failure(pub Arc<ApiError>);

impl ApiError {
    /// `Retry-After` seconds, for the errors that have one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. }
            | ApiError::Busy { retry_after } => Some(*retry_after),
            ApiError::Timeout { body: false, .. } => Some(1),
            _ => None,
        }
    }

    /// The store is out of service for a moment.
    pub fn unavailable(e: impl Into<Source>) -> ApiError {
        ApiError::Unavailable {
            retry_after: 2,
            source: Some(e.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        if let Some(secs) = self.retry_after() {
            if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        response.extensions_mut().insert(Failure(Arc::new(self)));
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> ApiError {
        ApiError::Validation(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(m) => ApiError::NotFound(m),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(m) => ApiError::BadRequest {
                code: "InvalidValue",
                field: None,
                message: m,
            },
            other if other.is_unavailable() => ApiError::unavailable(other),
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match e {
            AuthError::Unauthorized(m) => ApiError::Unauthorized(m),
            AuthError::Forbidden(m) => ApiError::Forbidden(m),
            AuthError::NotFound(m) => ApiError::NotFound(m),
            AuthError::BadField {
                code,
                field,
                message,
            } => ApiError::bad_field(code, field, message),
            AuthError::InvalidUser(m) => ApiError::BadRequest {
                code: "InvalidValue",
                field: None,
                message: m,
            },
            AuthError::Store(e) => ApiError::from(e),
            other => ApiError::internal(other),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match &e {
            WriteError::Store(s) if s.is_unavailable() => ApiError::unavailable(e),
            _ => ApiError::internal(e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
