//! The API's one error type. Every failure a client can see is an [`ApiError`]; it becomes a
//! ServiceStack `ResponseStatus` body with the right status in exactly one place
//! ([`crate::format::Negotiated::error`]). Internal errors are logged with their detail and answered
//! with a generic message: no stack trace, no SQL, no file path ever reaches a client.

use axum::http::StatusCode;
use evo_billing_core::dto::{ResponseError, ResponseStatus};
use evo_billing_core::validation::ValidationErrors;

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
    /// A state conflict, e.g. deleting a running report (409).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// Anything else: logged in full, answered as a bare 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
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

    /// The body a client sees. Logs internal errors (the only place their detail goes).
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
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                simple(
                    "InternalServerError",
                    "The server could not complete the request. It has been logged.",
                )
            }
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> ApiError {
        ApiError::Validation(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::Internal(format!("database: {e}"))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
