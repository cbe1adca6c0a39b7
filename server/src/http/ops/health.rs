//! `GET /healthz` (liveness and the database's state) and `GET /openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::Ctx;

/// 200 `{"status":"ok","database":"sqlite"}` when the database answers, 503 otherwise.
pub async fn health(State(ctx): State<Ctx>) -> Response {
    let ok = ctx.db.ping().await.is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            r#"{{"status":"{}","database":"{}"}}"#,
            if ok { "ok" } else { "unavailable" },
            ctx.db.backend.name()
        ),
    )
        .into_response()
}

/// The OpenAPI description of the whole API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::http::openapi::document().to_string(),
    )
        .into_response()
}
