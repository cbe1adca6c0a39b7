//! `GET /healthz` (liveness and the database's state) and `GET /openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::Ctx;

/// 200 `{"status":"ok","database":"sqlite"}` when the database answers and takes writes; 503
/// with `"status":"unavailable"` (no answer) or `"degraded"` (writes failing, with the reason
/// and `Retry-After`) otherwise.
pub async fn health(State(ctx): State<Ctx>) -> Response {
    let (status, detail) = if ctx.db.ping().await.is_err() {
        ("unavailable", None)
    } else if let Some(why) = ctx.db.write_failure().await {
        ("degraded", Some(why))
    } else {
        ("ok", None)
    };
    let mut body = serde_json::json!({"status": status, "database": ctx.db.backend.name()});
    if let Some(why) = detail {
        // The reason goes to the log only: /healthz is public.
        tracing::warn!(reason = %why, "health: writes are failing");
        body["writes"] = serde_json::json!("failing");
    }
    let code = if status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (
        code,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response();
    if code != StatusCode::OK {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

/// The OpenAPI description of the whole API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::http::openapi::document().to_string(),
    )
        .into_response()
}
