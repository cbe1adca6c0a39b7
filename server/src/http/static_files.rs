//! The dashboard's files: tower-http's `ServeDir` over the built dashboard, with `index.html` for
//! any other path (the app's client-side routes), precompressed copies (`name.gz`) where the
//! build wrote them. Paths that belong to the API
//! ([`evo_billing_core::routes::is_api_path`]) and methods other than GET and HEAD never reach the
//! files: they get a ResponseStatus 404 in the negotiated format.

use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::error::ApiError;
use crate::state::Ctx;

/// `Cache-Control` of content-hashed assets (their name changes whenever they do).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The dashboard's Content-Security-Policy: its own scripts, styles and API only, WebAssembly
/// allowed, no inline script or style, never framed. (index.html repeats it in a meta tag, minus
/// `frame-ancestors`, which a meta tag cannot set.)
pub const CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The dashboard, if it is built in `dir` (an `index.html` is there).
pub fn built_dashboard(dir: Option<&Path>) -> Option<PathBuf> {
    dir.filter(|d| d.join("index.html").is_file())
        .map(Path::to_path_buf)
}

/// The fallback of the router: dashboard files, or a 404 for API-looking paths.
pub async fn fallback(State(ctx): State<Ctx>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if evo_billing_core::routes::is_api_path(&path)
        || (method != Method::GET && method != Method::HEAD)
    {
        let shown: String = path.chars().take(120).collect();
        let lower = shown.to_ascii_lowercase();
        let message = if lower.starts_with("/api/") || lower.starts_with("/json/reply/") {
            let ops: Vec<&str> = evo_billing_core::routes::ROUTES
                .iter()
                .filter(|r| r.operation)
                .map(|r| r.name)
                .collect();
            format!(
                "No operation matches {method} {shown}. Operations: {}.",
                ops.join(", ")
            )
        } else {
            format!("No route matches {method} {shown}.")
        };
        return ApiError::NotFound(message).into_response();
    }
    let Some(dir) = built_dashboard(ctx.config.static_dir.as_deref()) else {
        return placeholder_page();
    };
    let index = dir.join("index.html");
    // `cargo xtask build` writes a gzip -9 copy beside each file (`name.gz`): served as is to
    // clients that accept gzip, so a cold start costs the server no compression (the wasm
    // alone took ~45 ms of CPU at the compression layer's level) and the browser fewer bytes.
    let service = ServeDir::new(&dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(&index).precompressed_gzip());
    let mut resp = match service.oneshot(req).await {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    };
    let cache = if path.starts_with("/assets/") && resp.status().is_success() {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The answer depends on Accept-Encoding (a precompressed copy or not): caches must know.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    resp
}

fn placeholder_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
        ],
        "<!doctype html><html><head><title>evo-billing</title></head><body>\
         <h1>evo-billing API</h1><p>The API is running. The dashboard has not been built \
         (<code>cargo xtask build</code>); see <a href=\"/openapi.json\">/openapi.json</a> for \
         the API and <code>/healthz</code> for health.</p></body></html>",
    )
        .into_response()
}
