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
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests: {0}")]
    TooManyRequests(String),
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
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
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
            ApiError::PayloadTooLarge => simple(
                "PayloadTooLarge",
                "The request body is larger than this server accepts.",
            ),
            ApiError::UnsupportedMediaType(m) => simple("UnsupportedMediaType", m),
            ApiError::TooManyRequests(m) => simple("TooManyRequests", m),
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
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
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
